//! `SparseToDense`.

use crate::graph::{Attr, Node};
use crate::ops::kernel::{any_dtype, checked_len, indices, slice};
use crate::ops::rule::{TensorType, same_dtype};
use crate::ops::{Arity, OpDef, OpError};
use crate::{Assets, DataType, Result, Tensor};

/// The dense tensor of a sparse one: TensorFlow's `SparseToDense`
/// (`tf.sparse.to_dense`, what an indicator column's ids become). The
/// output, of shape `output_shape`, holds `default_value` everywhere but at
/// each of `sparse_indices`, which holds its value (the last one where an
/// index repeats and the indices are not validated).
///
/// Inputs: `sparse_indices` (i32 or i64: `[n, rank]`, or `[n]` for a rank
/// of 1, or a scalar for one index of rank 1), `output_shape` (`[rank]`,
/// the indices' dtype, each dim >= 0), `sparse_values` (`[n]`, or a scalar
/// for every index, any dtype) and `default_value` (a scalar of the values'
/// dtype). Attribute: `validate_indices` (a flag; absent, true as
/// TensorFlow's default): the indices must then be in lexicographic order without repeats.
/// An index out of bounds is always an error, as is an output past
/// [`crate::ops::MAX_ELEMENTS`].
///
/// Gradient (TensorFlow's `_SparseToDenseGrad`): to `sparse_values` the
/// gradient at each index (summed when the values are a scalar), to
/// `default_value` the sum of the gradient less theirs; none to the
/// indices and the shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SparseToDense {
    /// Whether the indices must be sorted and distinct.
    pub validate_indices: bool,
}

impl Default for SparseToDense {
    /// Indices validated, as TensorFlow's default.
    fn default() -> SparseToDense {
        SparseToDense { validate_indices: true }
    }
}

impl OpDef for SparseToDense {
    const NAME: &'static str = "SparseToDense";
    const SINCE: u32 = 6;
    const INPUTS: Arity = Arity::Exactly(4);
    const SHAPE_FROM_VALUES: bool = true;

    fn parse(node: &Node, _: &Assets) -> Result<SparseToDense> {
        // Absent, the flag is TensorFlow's default: validated.
        let validate_indices = !node.attrs.contains_key("validate_indices") || node.attr_flag("validate_indices")?;
        Ok(SparseToDense { validate_indices })
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        vec![("validate_indices", Attr::Bool(self.validate_indices))]
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        let (ids, shape, values, default) = (&inputs[0], &inputs[1], &inputs[2], &inputs[3]);
        if !matches!(ids.dtype, DataType::I32 | DataType::I64) {
            return Err(OpError::Dtype { input: 0, expected: "i32 or i64", got: ids.dtype });
        }
        same_dtype(inputs, 1, 0)?;
        same_dtype(inputs, 3, 2)?;
        let fits = ids.dims().len() <= 2 && values.dims().len() <= 1 && default.dims().is_empty();
        let &[rank] = shape.dims() else {
            return Err(OpError::shape(format!("output_shape {}: expected a vector", shape.shape)));
        };
        if !fits {
            return Err(OpError::shape(format!(
                "sparse_indices {}, sparse_values {}, default_value {}: expected at most a matrix, at most a \
                 vector and a scalar",
                ids.shape, values.shape, default.shape
            )));
        }
        // A declared shape has a known rank: an output_shape of unknown length has none to give.
        let rank =
            rank.ok_or_else(|| OpError::shape("output_shape of unknown length: the output's rank must be known"))?;
        Ok(TensorType::new(values.dtype, vec![None; rank]))
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        let dense = self.layout(inputs)?;
        let (values_t, default_t) = (inputs[2], inputs[3]);
        any_dtype!(values_t.dtype(), T => {
            let (values, default) = (slice::<T>(values_t)?, slice::<T>(default_t)?);
            let dst = out.output_vec::<T>(&dense.shape);
            for _ in 0..dense.len {
                dst.extend_from_slice(default);
            }
            for (k, &at) in dense.offsets.iter().enumerate() {
                let k = if values_t.shape().is_empty() { 0 } else { k };
                dst[at..=at].clone_from_slice(&values[k..=k]);
            }
            Ok(())
        })
    }

    #[cfg(feature = "grad")]
    fn grad(&self, x: &[&Tensor], _: &Tensor, g: &Tensor) -> crate::ops::grad::Grads {
        if x[2].dtype() != DataType::F32 {
            return Ok(vec![None, None, None, None]);
        }
        let dense = self.layout(x)?;
        crate::ops::grad::expect_output_shape(g, &dense.shape)?;
        let gs = slice::<f32>(g)?;
        let picked: Vec<f32> = dense.offsets.iter().map(|&at| gs[at]).collect();
        let d_default = gs.iter().sum::<f32>() - picked.iter().sum::<f32>();
        let tensor = crate::ops::kernel::tensor;
        let d_values = if x[2].shape().is_empty() {
            tensor(&[], vec![picked.iter().sum()])?
        } else {
            tensor(&[picked.len()], picked)?
        };
        Ok(vec![None, None, Some(d_values), Some(tensor(&[], vec![d_default])?)])
    }
}

/// The checked layout of the output: its shape and element count, and the
/// offset each index writes.
struct Dense {
    shape: Vec<usize>,
    len: usize,
    offsets: Vec<usize>,
}

impl SparseToDense {
    /// Checks the inputs as TensorFlow's kernel does (and the order and
    /// repeats of the indices when validating) and lays out the output.
    fn layout(&self, inputs: &[&Tensor]) -> Result<Dense, OpError> {
        let (ids_t, shape_t, values_t, default_t) = (inputs[0], inputs[1], inputs[2], inputs[3]);
        if shape_t.dtype() != ids_t.dtype() {
            return Err(OpError::DtypeMismatch { input: 1, got: shape_t.dtype(), other: 0, expected: ids_t.dtype() });
        }
        if values_t.dtype() != default_t.dtype() {
            return Err(OpError::DtypeMismatch {
                input: 3,
                got: default_t.dtype(),
                other: 2,
                expected: values_t.dtype(),
            });
        }
        let (n, rank) = match *ids_t.shape() {
            [] => (1, 1),
            [n] => (n, 1),
            [n, rank] => (n, rank),
            _ => return Err(OpError::shape(format!("sparse_indices {:?}: expected at most a matrix", ids_t.shape()))),
        };
        let dims = indices(shape_t, 1)?;
        if shape_t.shape().len() != 1 || dims.len() != rank {
            return Err(OpError::shape(format!(
                "output_shape {:?} for sparse_indices {:?}: expected [{rank}]",
                shape_t.shape(),
                ids_t.shape()
            )));
        }
        let values_fit = values_t.shape().is_empty() || values_t.shape() == [n];
        if !values_fit || !default_t.shape().is_empty() {
            return Err(OpError::shape(format!(
                "sparse_values {:?} and default_value {:?} for {n} indices: expected [] or [{n}], and []",
                values_t.shape(),
                default_t.shape()
            )));
        }
        let shape =
            dims.iter().map(|&d| usize::try_from(d)).collect::<Result<Vec<usize>, _>>().map_err(|_| {
                OpError::Invalid { what: "output_shape", reason: format!("{dims:?}: a dim is negative") }
            })?;
        let len = checked_len(&shape)?;
        let ids = indices(ids_t, 0)?;
        let mut offsets = Vec::with_capacity(n);
        for k in 0..n {
            let index = &ids[k * rank..(k + 1) * rank];
            let mut at = 0usize;
            for (&i, &d) in index.iter().zip(&shape) {
                let i = usize::try_from(i).ok().filter(|&i| i < d).ok_or_else(|| OpError::Invalid {
                    what: "sparse_indices",
                    reason: format!("indices[{k}] = {index:?} is out of bounds: need 0 <= index < {shape:?}"),
                })?;
                at = at * d + i;
            }
            if self.validate_indices && k > 0 {
                let prev = &ids[(k - 1) * rank..k * rank];
                match prev.cmp(index) {
                    std::cmp::Ordering::Less => {}
                    std::cmp::Ordering::Equal => {
                        return Err(OpError::Invalid {
                            what: "sparse_indices",
                            reason: format!("indices[{k}] = {index:?} is repeated"),
                        });
                    }
                    std::cmp::Ordering::Greater => {
                        return Err(OpError::Invalid {
                            what: "sparse_indices",
                            reason: format!("indices[{k}] = {index:?} is out of order"),
                        });
                    }
                }
            }
            offsets.push(at);
        }
        Ok(Dense { shape, len, offsets })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Op;
    use ndarray::array;

    fn to_dense(validate: bool, x: [Tensor; 4]) -> Result<Tensor, OpError> {
        SparseToDense { validate_indices: validate }.run(&x.iter().collect::<Vec<_>>())
    }

    fn example(indices: Tensor) -> [Tensor; 4] {
        let n = indices.shape()[0];
        let values = Tensor::from_vec(vec![n], (0..n).map(|k| 5.0 + k as f32).collect()).unwrap();
        [indices, Tensor::from(array![3i64, 4]), values, Tensor::scalar(-1.0f32)]
    }

    #[test]
    fn puts_the_values_at_their_indices() {
        // gen_sparse_ops.sparse_to_dense(sparse_indices=tf.constant([[0, 1], [2, 3]], tf.int64),
        //     output_shape=tf.constant([3, 4], tf.int64), sparse_values=tf.constant([5.0, 6.0]),
        //     default_value=tf.constant(-1.0))
        let y = to_dense(true, example(Tensor::from(array![[0i64, 1], [2, 3]]))).unwrap();
        let want = array![[-1.0f32, 5.0, -1.0, -1.0], [-1.0, -1.0, -1.0, -1.0], [-1.0, -1.0, -1.0, 6.0]];
        assert_eq!(y, Tensor::from(want));
        // ... tf.constant([[0, 1], [2, 3]], tf.int32), tf.constant([3, 4], tf.int32), tf.constant(7), tf.constant(0)
        let x = [
            Tensor::from(array![[0i32, 1], [2, 3]]),
            Tensor::from(array![3i32, 4]),
            Tensor::scalar(7i32),
            Tensor::scalar(0i32),
        ];
        assert_eq!(to_dense(true, x).unwrap(), Tensor::from(array![[0i32, 7, 0, 0], [0, 0, 0, 0], [0, 0, 0, 7]]));
        // ... tf.constant([1, 3], tf.int64), tf.constant([5], tf.int64), tf.constant([True, True]), tf.constant(False)
        let x = [
            Tensor::from(array![1i64, 3]),
            Tensor::from(array![5i64]),
            Tensor::from(array![true, true]),
            Tensor::scalar(false),
        ];
        assert_eq!(to_dense(true, x).unwrap(), Tensor::from(array![false, true, false, true, false]));
        // ... tf.constant(2, tf.int64), tf.constant([4], tf.int64), tf.constant(["x"]), tf.constant("")
        let words = |w: &[&str]| Tensor::strings(vec![w.len()], w).unwrap();
        let x = [Tensor::scalar(2i64), Tensor::from(array![4i64]), words(&["x"]), Tensor::scalar(crate::Bytes::new())];
        assert_eq!(to_dense(true, x).unwrap(), words(&["", "", "x", ""]));
    }

    #[test]
    fn unvalidated_indices_may_be_unordered_or_repeated() {
        // ... tf.constant([[2, 3], [0, 1]], tf.int64) ... validate_indices=False
        let y = to_dense(false, example(Tensor::from(array![[2i64, 3], [0, 1]]))).unwrap();
        let want = array![[-1.0f32, 6.0, -1.0, -1.0], [-1.0, -1.0, -1.0, -1.0], [-1.0, -1.0, -1.0, 5.0]];
        assert_eq!(y, Tensor::from(want));
        // ... tf.constant([[0, 1], [0, 1]], tf.int64) ... validate_indices=False: the last value wins.
        let y = to_dense(false, example(Tensor::from(array![[0i64, 1], [0, 1]]))).unwrap();
        assert_eq!(y.as_slice::<f32>().unwrap()[1], 6.0);
    }

    #[test]
    fn hostile_inputs_are_refused() {
        // TensorFlow: "indices[1] = [0,1] is out of order", "indices[1] = [0,1] is repeated",
        // "indices[0] = [3,0] is out of bounds: need 0 <= index < [3,4]" (validated or not).
        let err = to_dense(true, example(Tensor::from(array![[2i64, 3], [0, 1]]))).unwrap_err().to_string();
        assert!(err.contains("out of order"), "{err}");
        let err = to_dense(true, example(Tensor::from(array![[0i64, 1], [0, 1]]))).unwrap_err().to_string();
        assert!(err.contains("repeated"), "{err}");
        for validate in [true, false] {
            for bad in [3i64, -1] {
                let err = to_dense(validate, example(Tensor::from(array![[bad, 0]]))).unwrap_err().to_string();
                assert!(err.contains("out of bounds"), "{err}");
            }
        }
        let huge = |dims: Tensor| {
            let [i, _, v, d] = example(Tensor::from(array![[0i64, 0]]));
            to_dense(false, [i, dims, v, d])
        };
        assert!(matches!(huge(Tensor::from(array![1i64 << 40, 1 << 40])), Err(OpError::TooLarge { .. })));
        assert!(matches!(huge(Tensor::from(array![-1i64, 4])), Err(OpError::Invalid { .. })));
        assert!(matches!(huge(Tensor::from(array![3i64, 4, 1])), Err(OpError::Shape(_))));
        let [i, s, _, d] = example(Tensor::from(array![[0i64, 0]]));
        assert!(to_dense(true, [i.clone(), s.clone(), Tensor::from(array![1.0f32, 2.0]), d.clone()]).is_err());
        assert!(to_dense(true, [i.clone(), s.clone(), Tensor::from(array![1i64]), d]).is_err());
        assert!(
            to_dense(true, [i, Tensor::from(array![3i32, 4]), Tensor::from(array![1.0f32]), Tensor::scalar(0.0f32)])
                .is_err()
        );
    }

    #[test]
    fn the_output_rule_and_attributes() {
        let ty = |dtype, dims: Vec<Option<usize>>| TensorType::new(dtype, dims);
        let x = [
            ty(DataType::I64, vec![None, Some(2)]),
            ty(DataType::I64, vec![Some(2)]),
            ty(DataType::F32, vec![None]),
            ty(DataType::F32, vec![]),
        ];
        assert_eq!(SparseToDense::default().infer(&x).unwrap(), ty(DataType::F32, vec![None, None]));
        let unknown_rank = [x[0].clone(), ty(DataType::I64, vec![None]), x[2].clone(), x[3].clone()];
        assert!(SparseToDense::default().infer(&unknown_rank).is_err());
        let mixed = [x[0].clone(), ty(DataType::I32, vec![Some(2)]), x[2].clone(), x[3].clone()];
        assert!(SparseToDense::default().infer(&mixed).is_err());
        for op in [SparseToDense { validate_indices: true }, SparseToDense { validate_indices: false }] {
            let node = Op::from(op).to_node("d", ["i", "s", "v", "d"].map(String::from).to_vec());
            assert_eq!(SparseToDense::parse(&node, &Assets::new()).unwrap(), op);
        }
    }

    #[cfg(feature = "grad")]
    #[test]
    fn the_gradient_is_tensorflows() {
        // with tf.GradientTape() as t: y = gen_sparse_ops.sparse_to_dense(...the first example...)
        //     loss = tf.reduce_sum(tf.reshape(tf.range(12, dtype=tf.float32), [3, 4]) * y)
        // t.gradient(loss, values) == [1.0, 11.0], t.gradient(loss, default_value) == 54.0
        let x = example(Tensor::from(array![[0i64, 1], [2, 3]]));
        let x: Vec<&Tensor> = x.iter().collect();
        let op = SparseToDense::default();
        let y = op.run(&x).unwrap();
        let g = Tensor::from_vec(vec![3, 4], (0..12).map(|v| v as f32).collect()).unwrap();
        let want = vec![None, None, Some(Tensor::from(array![1.0f32, 11.0])), Some(Tensor::scalar(54.0f32))];
        assert_eq!(op.grad(&x, &y, &g).unwrap(), want);
        crate::ops::grad::check_gradient(&op, &[x[0].clone(), x[1].clone(), x[2].clone(), x[3].clone()]);
    }
}
