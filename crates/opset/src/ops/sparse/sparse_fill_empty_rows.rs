//! `SparseFillEmptyRows`.

use crate::graph::{Attr, Node};
use crate::ops::kernel::{any_dtype, slice};
use crate::ops::rule::{TensorType, unify};
use crate::ops::{Arity, MAX_ELEMENTS, OpDef, OpError};
use crate::{Assets, DataType, Result, Tensor};

/// A sparse tensor with a `default_value` put at column 0 of each row
/// that has no value: TensorFlow's `SparseFillEmptyRows`
/// (`tf.sparse.fill_empty_rows`, what an embedding or indicator column does
/// to its ids before combining them, so that an example with no id gets a
/// row). The entries come out ordered by row (a stable sort on the row,
/// each empty row's default where that row starts); when every row has an
/// entry and the rows are already in order, the entries come out as they
/// came in.
///
/// Inputs: `indices` (i64 `[n, rank]`), `values` (`[n]`, any dtype),
/// `dense_shape` (i64 `[rank]`, rank >= 1), `default_value` (a scalar of
/// `values`' dtype). Attribute: `output`, which of TensorFlow's four
/// results the node yields:
/// - `"output_indices"`: i64 `[m, rank]`, the filled sparse tensor's indices;
/// - `"output_values"`: `[m]` of `values`' dtype, its values;
/// - `"empty_row_indicator"`: bool `[dense_shape[0]]`, which rows were empty;
/// - `"reverse_index_map"`: i64 `[n]`, where each input entry went.
///
/// A row index outside `[0, dense_shape[0])` is an error (as TensorFlow,
/// the other coordinates are not checked), as is a `dense_shape[0]` past
/// [`MAX_ELEMENTS`].
///
/// Gradient (of `"output_values"`, TensorFlow's `SparseFillEmptyRowsGrad`):
/// to `values`, the gradient at where each entry went; to `default_value`,
/// the sum of the gradient at the filled rows; none to the indices and the
/// shape, and none from the other outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SparseFillEmptyRows {
    /// Which result the node yields.
    pub output: FillOutput,
}

/// The results of [`SparseFillEmptyRows`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FillOutput {
    /// The filled tensor's indices, i64 `[m, rank]`.
    OutputIndices,
    /// The filled tensor's values, `[m]`.
    OutputValues,
    /// Which rows were empty, bool `[rows]`.
    EmptyRowIndicator,
    /// Where each input entry went, i64 `[n]`.
    ReverseIndexMap,
}

const OUTPUTS: [(FillOutput, &str); 4] = [
    (FillOutput::OutputIndices, "output_indices"),
    (FillOutput::OutputValues, "output_values"),
    (FillOutput::EmptyRowIndicator, "empty_row_indicator"),
    (FillOutput::ReverseIndexMap, "reverse_index_map"),
];

impl FillOutput {
    /// The output's name, as TensorFlow's op names it.
    pub fn name(self) -> &'static str {
        OUTPUTS.iter().find(|(o, _)| *o == self).map_or("", |(_, n)| n)
    }

    /// The output of TensorFlow's op at position `index` (`node:index`).
    pub fn from_index(index: usize) -> Option<FillOutput> {
        OUTPUTS.get(index).map(|(o, _)| *o)
    }
}

impl OpDef for SparseFillEmptyRows {
    const NAME: &'static str = "SparseFillEmptyRows";
    const SINCE: u32 = 6;
    const INPUTS: Arity = Arity::Exactly(4);
    const SHAPE_FROM_VALUES: bool = true;

    fn parse(node: &Node, _: &Assets) -> Result<SparseFillEmptyRows> {
        let name = node.attr_str("output")?;
        let output = OUTPUTS.iter().find(|(_, n)| *n == name).map(|(o, _)| *o).ok_or_else(|| {
            node.error(format!(
                "output {name:?}: expected output_indices, output_values, empty_row_indicator or reverse_index_map"
            ))
        })?;
        Ok(SparseFillEmptyRows { output })
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        vec![("output", Attr::Str(self.output.name().to_owned()))]
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        let (indices, values, shape, default) = (&inputs[0], &inputs[1], &inputs[2], &inputs[3]);
        for i in [0, 2] {
            if inputs[i].dtype != DataType::I64 {
                return Err(OpError::Dtype { input: i, expected: "i64", got: inputs[i].dtype });
            }
        }
        crate::ops::rule::same_dtype(inputs, 3, 1)?;
        let fits = match (indices.dims(), values.dims(), shape.dims(), default.dims()) {
            (&[n, rank], &[m], &[r], []) => unify(n, m).is_some() && unify(rank, r).is_some(),
            _ => false,
        };
        if !fits {
            return Err(OpError::shape(format!(
                "indices {}, values {}, dense_shape {}, default_value {}: expected [n, rank], [n], [rank] and []",
                indices.shape, values.shape, shape.shape, default.shape
            )));
        }
        let (n, rank) = (indices.dims()[0].or(values.dims()[0]), indices.dims()[1].or(shape.dims()[0]));
        Ok(match self.output {
            FillOutput::OutputIndices => TensorType::new(DataType::I64, vec![None, rank]),
            FillOutput::OutputValues => TensorType::new(values.dtype, vec![None]),
            FillOutput::EmptyRowIndicator => TensorType::new(DataType::Bool, vec![None]),
            FillOutput::ReverseIndexMap => TensorType::new(DataType::I64, vec![n]),
        })
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        let fill = Fill::new(inputs)?;
        match self.output {
            FillOutput::OutputIndices => {
                let (src, rank) = (slice::<i64>(inputs[0])?, fill.rank);
                let dst = out.output_vec::<i64>(&[fill.sources.len(), rank]);
                for source in &fill.sources {
                    match *source {
                        Source::Entry(i) => dst.extend_from_slice(&src[i * rank..(i + 1) * rank]),
                        Source::Default(row) => {
                            dst.push(row as i64);
                            dst.extend(std::iter::repeat_n(0, rank - 1));
                        }
                    }
                }
            }
            FillOutput::OutputValues => {
                any_dtype!(inputs[1].dtype(), T => {
                    let (values, default) = (slice::<T>(inputs[1])?, slice::<T>(inputs[3])?);
                    let dst = out.output_vec::<T>(&[fill.sources.len()]);
                    for source in &fill.sources {
                        dst.extend_from_slice(match *source {
                            Source::Entry(i) => &values[i..=i],
                            Source::Default(_) => default,
                        });
                    }
                    Ok::<(), OpError>(())
                })?;
            }
            FillOutput::EmptyRowIndicator => {
                out.output_vec::<bool>(&[fill.empty.len()]).extend_from_slice(&fill.empty);
            }
            FillOutput::ReverseIndexMap => {
                out.output_vec::<i64>(&[fill.reverse.len()]).extend(fill.reverse.iter().map(|&p| p as i64));
            }
        }
        Ok(())
    }

    #[cfg(feature = "grad")]
    fn grad(&self, x: &[&Tensor], _: &Tensor, g: &Tensor) -> crate::ops::grad::Grads {
        if self.output != FillOutput::OutputValues || x[1].dtype() != DataType::F32 {
            return Ok(vec![None, None, None, None]);
        }
        let fill = Fill::new(x)?;
        crate::ops::grad::expect_output_shape(g, &[fill.sources.len()])?;
        let gs = slice::<f32>(g)?;
        let d_values: Vec<f32> = fill.reverse.iter().map(|&p| gs[p]).collect();
        let mut d_default = 0.0f32;
        for (s, &g) in fill.sources.iter().zip(gs) {
            if matches!(s, Source::Default(_)) {
                d_default += g;
            }
        }
        let tensor = crate::ops::kernel::tensor;
        Ok(vec![None, Some(tensor(x[1].shape(), d_values)?), None, Some(tensor(x[3].shape(), vec![d_default])?)])
    }
}

/// Where an output entry comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// Input entry `i`.
    Entry(usize),
    /// The default value, at column 0 of this empty row.
    Default(usize),
}

/// The layout of the filled tensor, shared by the four outputs and the
/// gradient: what each output entry is, where each input entry went, which
/// rows were empty.
struct Fill {
    rank: usize,
    sources: Vec<Source>,
    reverse: Vec<usize>,
    empty: Vec<bool>,
}

impl Fill {
    /// Checks the inputs as TensorFlow's kernel does and lays out the
    /// filled tensor.
    fn new(inputs: &[&Tensor]) -> Result<Fill, OpError> {
        let (indices_t, values_t, shape_t, default_t) = (inputs[0], inputs[1], inputs[2], inputs[3]);
        let (&[n, rank], &[m], &[r], []) = (indices_t.shape(), values_t.shape(), shape_t.shape(), default_t.shape())
        else {
            return Err(OpError::shape(format!(
                "indices {:?}, values {:?}, dense_shape {:?}, default_value {:?}: expected [n, rank], [n], [rank] and []",
                indices_t.shape(),
                values_t.shape(),
                shape_t.shape(),
                default_t.shape()
            )));
        };
        if n != m || rank != r || rank == 0 {
            return Err(OpError::shape(format!(
                "indices {:?}, values {:?}, dense_shape {:?}: expected [n, rank], [n] and [rank], rank >= 1",
                indices_t.shape(),
                values_t.shape(),
                shape_t.shape()
            )));
        }
        if default_t.dtype() != values_t.dtype() {
            return Err(OpError::DtypeMismatch {
                input: 3,
                got: default_t.dtype(),
                other: 1,
                expected: values_t.dtype(),
            });
        }
        let (indices, shape) = (slice::<i64>(indices_t)?, slice::<i64>(shape_t)?);
        let rows = usize::try_from(shape[0]).ok().filter(|&r| r <= MAX_ELEMENTS).ok_or_else(|| OpError::Invalid {
            what: "dense_shape",
            reason: format!("{} rows: expected a size in [0, {MAX_ELEMENTS}]", shape[0]),
        })?;
        if rows == 0 && n != 0 {
            return Err(OpError::Invalid {
                what: "indices",
                reason: format!("{n} entries in a sparse tensor of dense_shape[0] = 0"),
            });
        }
        // Each entry's row, checked; how many entries each row has.
        let mut counts = vec![0usize; rows];
        let mut entry_rows = Vec::with_capacity(n);
        for i in 0..n {
            let row = indices[i * rank];
            let r = usize::try_from(row).ok().filter(|&r| r < rows).ok_or_else(|| OpError::Invalid {
                what: "indices",
                reason: format!("indices({i}, 0) is invalid: {row} >= {rows}"),
            })?;
            counts[r] += 1;
            entry_rows.push(r);
        }
        let empty: Vec<bool> = counts.iter().map(|&c| c == 0).collect();
        let ordered = entry_rows.windows(2).all(|w| w[0] <= w[1]);
        if ordered && !empty.contains(&true) {
            return Ok(Fill { rank, sources: (0..n).map(Source::Entry).collect(), reverse: (0..n).collect(), empty });
        }
        // Where each row starts in the output: its entries, or one default.
        let mut starts = Vec::with_capacity(rows);
        let mut total = 0usize;
        for &c in &counts {
            starts.push(total);
            total += c.max(1);
        }
        let mut sources = vec![Source::Default(0); total];
        for (row, (&start, &c)) in starts.iter().zip(&counts).enumerate() {
            if c == 0 {
                sources[start] = Source::Default(row);
            }
        }
        let mut filled = vec![0usize; rows];
        let mut reverse = Vec::with_capacity(n);
        for (i, &r) in entry_rows.iter().enumerate() {
            let at = starts[r] + filled[r];
            filled[r] += 1;
            sources[at] = Source::Entry(i);
            reverse.push(at);
        }
        Ok(Fill { rank, sources, reverse, empty })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Op;
    use ndarray::array;

    /// The example of the tests: rows 2 and 4 of 5 empty, row 3 out of order.
    fn inputs() -> [Tensor; 4] {
        [
            Tensor::from(array![[3i64, 1], [0, 2], [3, 0], [1, 4]]),
            Tensor::from(array![10.0f32, 20.0, 30.0, 40.0]),
            Tensor::from(array![5i64, 6]),
            Tensor::scalar(-1.0f32),
        ]
    }

    fn run(output: FillOutput, inputs: &[Tensor]) -> Result<Tensor, OpError> {
        SparseFillEmptyRows { output }.run(&inputs.iter().collect::<Vec<_>>())
    }

    #[test]
    fn fills_each_empty_row_with_the_default() {
        // gen_sparse_ops.sparse_fill_empty_rows(indices=tf.constant([[3, 1], [0, 2], [3, 0], [1, 4]], tf.int64),
        //     values=tf.constant([10.0, 20.0, 30.0, 40.0]), dense_shape=tf.constant([5, 6], tf.int64),
        //     default_value=tf.constant(-1.0))
        let x = inputs();
        let indices = array![[0i64, 2], [1, 4], [2, 0], [3, 1], [3, 0], [4, 0]];
        assert_eq!(run(FillOutput::OutputIndices, &x).unwrap(), Tensor::from(indices));
        let values = array![20.0f32, 40.0, -1.0, 10.0, 30.0, -1.0];
        assert_eq!(run(FillOutput::OutputValues, &x).unwrap(), Tensor::from(values));
        let empty = array![false, false, true, false, true];
        assert_eq!(run(FillOutput::EmptyRowIndicator, &x).unwrap(), Tensor::from(empty));
        assert_eq!(run(FillOutput::ReverseIndexMap, &x).unwrap(), Tensor::from(array![3i64, 0, 4, 1]));
    }

    #[test]
    fn full_ordered_rows_and_no_entries() {
        // gen_sparse_ops.sparse_fill_empty_rows(indices=tf.constant([[0, 0], [1, 1]], tf.int64),
        //     values=tf.constant(["a", "b"]), dense_shape=tf.constant([2, 2], tf.int64), default_value=tf.constant(""))
        let words = |w: &[&str]| Tensor::strings(vec![w.len()], w).unwrap();
        let x = [Tensor::from(array![[0i64, 0], [1, 1]]), words(&["a", "b"]), Tensor::from(array![2i64, 2]), {
            Tensor::scalar(crate::Bytes::new())
        }];
        assert_eq!(run(FillOutput::OutputIndices, &x).unwrap(), x[0]);
        assert_eq!(run(FillOutput::OutputValues, &x).unwrap(), words(&["a", "b"]));
        assert_eq!(run(FillOutput::EmptyRowIndicator, &x).unwrap(), Tensor::from(array![false, false]));
        assert_eq!(run(FillOutput::ReverseIndexMap, &x).unwrap(), Tensor::from(array![0i64, 1]));
        // gen_sparse_ops.sparse_fill_empty_rows(indices=tf.zeros([0, 2], tf.int64), values=tf.zeros([0], tf.int64),
        //     dense_shape=tf.constant([2, 3], tf.int64), default_value=tf.constant(7, tf.int64))
        let x = [
            Tensor::from_vec(vec![0, 2], Vec::<i64>::new()).unwrap(),
            Tensor::from_vec(vec![0], Vec::<i64>::new()).unwrap(),
            Tensor::from(array![2i64, 3]),
            Tensor::scalar(7i64),
        ];
        assert_eq!(run(FillOutput::OutputIndices, &x).unwrap(), Tensor::from(array![[0i64, 0], [1, 0]]));
        assert_eq!(run(FillOutput::OutputValues, &x).unwrap(), Tensor::from(array![7i64, 7]));
        assert_eq!(run(FillOutput::EmptyRowIndicator, &x).unwrap(), Tensor::from(array![true, true]));
        assert_eq!(run(FillOutput::ReverseIndexMap, &x).unwrap().shape(), &[0]);
    }

    #[test]
    fn hostile_inputs_are_refused() {
        let with = |indices: Tensor, shape: Tensor| {
            let [_, values, _, default] = inputs();
            let n = indices.shape()[0];
            let values = Tensor::from_vec(vec![n], slice::<f32>(&values).unwrap()[..n].to_vec()).unwrap();
            run(FillOutput::OutputValues, &[indices, values, shape, default])
        };
        // TensorFlow: "indices(0, 0) is invalid: 5 >= 5", and the same for -1.
        for row in [5i64, -1] {
            let err = with(Tensor::from(array![[row, 0]]), Tensor::from(array![5i64, 6])).unwrap_err().to_string();
            assert!(err.contains(&format!("indices(0, 0) is invalid: {row} >= 5")), "{err}");
        }
        // Columns are not checked, as in TensorFlow.
        assert!(with(Tensor::from(array![[1i64, 99]]), Tensor::from(array![2i64, 6])).is_ok());
        for rows in [-1i64, 1 << 40, i64::MAX] {
            let err = with(Tensor::from(array![[0i64, 0]]), Tensor::from(array![rows, 6])).unwrap_err();
            assert!(matches!(err, OpError::Invalid { what: "dense_shape", .. }), "{err}");
        }
        assert!(with(Tensor::from(array![[0i64, 0]]), Tensor::from(array![0i64, 6])).is_err());
        assert!(with(Tensor::from(array![[0i64, 0]]), Tensor::from(array![2i64, 6, 1])).is_err());
        let [i, v, s, _] = inputs();
        assert!(run(FillOutput::OutputValues, &[i.clone(), v.clone(), s.clone(), Tensor::scalar(0i64)]).is_err());
        assert!(run(FillOutput::OutputValues, &[i, v, s, Tensor::from(array![0.0f32])]).is_err());
    }

    #[test]
    fn the_output_rule_and_attributes() {
        let ty = |dtype, dims: Vec<Option<usize>>| TensorType::new(dtype, dims);
        let x = [
            ty(DataType::I64, vec![None, Some(2)]),
            ty(DataType::String, vec![None]),
            ty(DataType::I64, vec![Some(2)]),
            ty(DataType::String, vec![]),
        ];
        let infer = |output| SparseFillEmptyRows { output }.infer(&x).unwrap();
        assert_eq!(infer(FillOutput::OutputIndices), ty(DataType::I64, vec![None, Some(2)]));
        assert_eq!(infer(FillOutput::OutputValues), ty(DataType::String, vec![None]));
        assert_eq!(infer(FillOutput::EmptyRowIndicator), ty(DataType::Bool, vec![None]));
        assert_eq!(infer(FillOutput::ReverseIndexMap), ty(DataType::I64, vec![None]));
        let bad = [x[0].clone(), x[1].clone(), ty(DataType::I64, vec![Some(3)]), x[3].clone()];
        assert!(SparseFillEmptyRows { output: FillOutput::OutputValues }.infer(&bad).is_err());
        for (output, _) in OUTPUTS {
            let op = SparseFillEmptyRows { output };
            let node = Op::from(op).to_node("f", ["i", "v", "s", "d"].map(String::from).to_vec());
            assert_eq!(SparseFillEmptyRows::parse(&node, &Assets::new()).unwrap(), op);
        }
        assert_eq!(FillOutput::from_index(3), Some(FillOutput::ReverseIndexMap));
        let node = Node::new("f", "SparseFillEmptyRows", &["i", "v", "s", "d"]).with("output", Attr::Str("x".into()));
        assert!(SparseFillEmptyRows::parse(&node, &Assets::new()).is_err());
    }

    #[cfg(feature = "grad")]
    #[test]
    fn the_gradient_is_tensorflows() {
        // with tf.GradientTape() as t: r = gen_sparse_ops.sparse_fill_empty_rows(...the example above...)
        //     loss = tf.reduce_sum(tf.constant([1., 2., 3., 4., 5., 6.]) * r[1])
        // t.gradient(loss, values) == [4.0, 1.0, 5.0, 2.0], t.gradient(loss, default_value) == 9.0
        let x = inputs();
        let x: Vec<&Tensor> = x.iter().collect();
        let op = SparseFillEmptyRows { output: FillOutput::OutputValues };
        let y = op.run(&x).unwrap();
        let g = Tensor::from(array![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let d = op.grad(&x, &y, &g).unwrap();
        let want = vec![None, Some(Tensor::from(array![4.0f32, 1.0, 5.0, 2.0])), None, Some(Tensor::scalar(9.0f32))];
        assert_eq!(d, want);
        let indices = SparseFillEmptyRows { output: FillOutput::OutputIndices };
        assert_eq!(indices.grad(&x, &y, &g).unwrap(), vec![None, None, None, None]);
    }
}
