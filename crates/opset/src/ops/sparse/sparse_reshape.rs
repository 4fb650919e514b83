//! `SparseReshape`.

use crate::graph::{Attr, Node};
use crate::ops::kernel::{checked_len, slice};
use crate::ops::rule::{TensorType, unify};
use crate::ops::{Arity, OpDef, OpError};
use crate::{Assets, DataType, Result, Tensor};

/// A sparse tensor's indices and shape reshaped as a dense reshape would
/// move its elements: TensorFlow's `SparseReshape` (`tf.sparse.reshape`,
/// what a categorical column does to its ids). Each entry's row-major
/// position in `input_shape` is its position in the new shape. One dim of
/// `new_shape` may be -1: it is then what makes the element counts agree.
/// As in TensorFlow, the indices are not checked against `input_shape`.
///
/// Inputs: `input_indices` (i64 `[n, rank_in]`), `input_shape` (i64
/// `[rank_in]`, dims >= 0), `new_shape` (i64 `[rank_out]`, dims >= 0 but
/// for at most one -1). Attribute: `output`, which of TensorFlow's results
/// the node yields: `"output_indices"` (i64 `[n, rank_out]`) or
/// `"output_shape"` (i64 `[rank_out]`, the new shape with its -1 resolved).
/// Element counts that cannot agree, two -1s, a negative dim, or a count
/// past i64 are errors.
///
/// Gradient: none (indices and shapes are integers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SparseReshape {
    /// Which result the node yields.
    pub output: ReshapeOutput,
}

/// The results of [`SparseReshape`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReshapeOutput {
    /// The new indices, i64 `[n, rank_out]`.
    OutputIndices,
    /// The new shape, i64 `[rank_out]`.
    OutputShape,
}

impl ReshapeOutput {
    /// The output's name, as TensorFlow's op names it.
    pub fn name(self) -> &'static str {
        match self {
            ReshapeOutput::OutputIndices => "output_indices",
            ReshapeOutput::OutputShape => "output_shape",
        }
    }

    /// The output of TensorFlow's op at position `index` (`node:index`).
    pub fn from_index(index: usize) -> Option<ReshapeOutput> {
        [ReshapeOutput::OutputIndices, ReshapeOutput::OutputShape].get(index).copied()
    }
}

impl OpDef for SparseReshape {
    const NAME: &'static str = "SparseReshape";
    const SINCE: u32 = 6;
    const INPUTS: Arity = Arity::Exactly(3);
    const SHAPE_FROM_VALUES: bool = true;

    fn parse(node: &Node, _: &Assets) -> Result<SparseReshape> {
        let output = match node.attr_str("output")? {
            "output_indices" => ReshapeOutput::OutputIndices,
            "output_shape" => ReshapeOutput::OutputShape,
            other => {
                return Err(node.error(format!("output {other:?}: expected output_indices or output_shape")));
            }
        };
        Ok(SparseReshape { output })
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        vec![("output", Attr::Str(self.output.name().to_owned()))]
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        for (i, t) in inputs.iter().enumerate() {
            if t.dtype != DataType::I64 {
                return Err(OpError::Dtype { input: i, expected: "i64", got: t.dtype });
            }
        }
        let (&[n, rank_in], &[r], &[rank_out]) = (inputs[0].dims(), inputs[1].dims(), inputs[2].dims()) else {
            return Err(OpError::shape(format!(
                "input_indices {}, input_shape {}, new_shape {}: expected [n, rank_in], [rank_in] and [rank_out]",
                inputs[0].shape, inputs[1].shape, inputs[2].shape
            )));
        };
        if unify(rank_in, r).is_none() {
            return Err(OpError::shape(format!(
                "input_indices {} for input_shape {}: the ranks differ",
                inputs[0].shape, inputs[1].shape
            )));
        }
        Ok(match self.output {
            ReshapeOutput::OutputIndices => TensorType::new(DataType::I64, vec![n, rank_out]),
            ReshapeOutput::OutputShape => TensorType::new(DataType::I64, vec![rank_out]),
        })
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        let (indices_t, shape_t, new_t) = (inputs[0], inputs[1], inputs[2]);
        let (&[n, rank_in], &[r], &[_]) = (indices_t.shape(), shape_t.shape(), new_t.shape()) else {
            return Err(OpError::shape(format!(
                "input_indices {:?}, input_shape {:?}, new_shape {:?}: expected [n, rank_in], [rank_in] and [rank_out]",
                indices_t.shape(),
                shape_t.shape(),
                new_t.shape()
            )));
        };
        if r != rank_in {
            return Err(OpError::shape(format!(
                "input_indices {:?} for input_shape {:?}: the ranks differ",
                indices_t.shape(),
                shape_t.shape()
            )));
        }
        let (indices, input_shape) = (slice::<i64>(indices_t)?, slice::<i64>(shape_t)?);
        let output_shape = resolve(input_shape, slice::<i64>(new_t)?)?;
        let rank_out = output_shape.len();
        if self.output == ReshapeOutput::OutputShape {
            out.output_vec::<i64>(&[rank_out]).extend_from_slice(&output_shape);
            return Ok(());
        }
        let len = checked_len(&[n, rank_out])?;
        let dst = out.output_vec::<i64>(&[n, rank_out]);
        if input_shape == output_shape.as_slice() {
            dst.extend_from_slice(indices);
            return Ok(());
        }
        let (strides_in, strides_out) = (strides(input_shape), strides(&output_shape));
        if n > 0 && strides_out.contains(&0) {
            return Err(OpError::Invalid {
                what: "input_indices",
                reason: format!("{n} entries in a sparse tensor of shape {output_shape:?}, which holds no element"),
            });
        }
        dst.resize(len, 0);
        for k in 0..n {
            let index = &indices[k * rank_in..(k + 1) * rank_in];
            let mut at = index.iter().zip(&strides_in).fold(0i64, |at, (&i, &s)| at.wrapping_add(i.wrapping_mul(s)));
            for (o, &s) in dst[k * rank_out..(k + 1) * rank_out].iter_mut().zip(&strides_out) {
                *o = at / s;
                at %= s;
            }
        }
        Ok(())
    }

    #[cfg(feature = "grad")]
    fn grad(&self, _: &[&Tensor], _: &Tensor, _: &Tensor) -> crate::ops::grad::Grads {
        Ok(vec![None, None, None])
    }
}

/// The row-major strides of `shape` (wrapping: only a shape whose count
/// fits i64 reaches here, so they do not wrap).
fn strides(shape: &[i64]) -> Vec<i64> {
    let mut strides = vec![1i64; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        strides[d] = strides[d + 1].wrapping_mul(shape[d + 1]);
    }
    strides
}

/// `new_shape` with its -1 resolved against `input_shape`'s element count,
/// as TensorFlow's `ReshapeSparseTensor` checks it.
fn resolve(input_shape: &[i64], new_shape: &[i64]) -> Result<Vec<i64>, OpError> {
    let invalid = |what, reason: String| OpError::Invalid { what, reason };
    let dense = input_shape
        .iter()
        .try_fold(1i64, |n, &d| if d < 0 { None } else { n.checked_mul(d) })
        .ok_or_else(|| invalid("input_shape", format!("{input_shape:?}: expected dims >= 0 whose count fits i64")))?;
    let mut unknown = None;
    let mut product = 1i64;
    for (i, &d) in new_shape.iter().enumerate() {
        if d == -1 {
            if let Some(first) = unknown {
                return Err(invalid(
                    "new_shape",
                    format!("only one output dimension may be -1, not both {first} and {i}"),
                ));
            }
            unknown = Some(i);
        } else if d < 0 {
            return Err(invalid("new_shape", format!("size {i} must be non-negative, not {d}")));
        } else {
            product = product
                .checked_mul(d)
                .ok_or_else(|| invalid("new_shape", format!("{new_shape:?}: its element count overflows")))?;
        }
    }
    let mut output = new_shape.to_vec();
    if let Some(i) = unknown {
        if product <= 0 {
            return Err(invalid(
                "new_shape",
                "reshape cannot infer the missing input size for an empty tensor unless all specified input sizes \
                 are non-zero"
                    .to_owned(),
            ));
        }
        if dense % product != 0 {
            return Err(invalid(
                "new_shape",
                format!(
                    "a sparse tensor of {dense} dense values, but the requested shape requires a multiple of \
                     {product}: input_shape {input_shape:?}, new_shape {new_shape:?}"
                ),
            ));
        }
        output[i] = dense / product;
        product = dense;
    }
    if product != dense {
        return Err(invalid(
            "new_shape",
            format!("a sparse tensor of {dense} dense values, but the requested shape has {product}: {new_shape:?}"),
        ));
    }
    Ok(output)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Op;
    use ndarray::array;

    fn reshape(output: ReshapeOutput, indices: Tensor, shape: &[i64], new: &[i64]) -> Result<Tensor, OpError> {
        let shape = Tensor::from_vec(vec![shape.len()], shape.to_vec()).unwrap();
        let new = Tensor::from_vec(vec![new.len()], new.to_vec()).unwrap();
        SparseReshape { output }.run(&[&indices, &shape, &new])
    }

    fn both(indices: Tensor, shape: &[i64], new: &[i64]) -> (Tensor, Tensor) {
        let i = reshape(ReshapeOutput::OutputIndices, indices.clone(), shape, new).unwrap();
        (i, reshape(ReshapeOutput::OutputShape, indices, shape, new).unwrap())
    }

    #[test]
    fn moves_each_entry_to_its_row_major_position() {
        // gen_sparse_ops.sparse_reshape(tf.constant([[0, 0], [0, 2], [1, 1], [2, 3]], tf.int64),
        //     tf.constant([3, 4], tf.int64), tf.constant([2, -1], tf.int64))
        let x = Tensor::from(array![[0i64, 0], [0, 2], [1, 1], [2, 3]]);
        let (i, s) = both(x.clone(), &[3, 4], &[2, -1]);
        assert_eq!(i, Tensor::from(array![[0i64, 0], [0, 2], [0, 5], [1, 5]]));
        assert_eq!(s, Tensor::from(array![2i64, 6]));
        // ... new_shape [4, 3, 1]
        let (i, s) = both(x, &[3, 4], &[4, 3, 1]);
        assert_eq!(i, Tensor::from(array![[0i64, 0, 0], [0, 2, 0], [1, 2, 0], [3, 2, 0]]));
        assert_eq!(s, Tensor::from(array![4i64, 3, 1]));
        // gen_sparse_ops.sparse_reshape([[1], [5]], [6], [-1, 1])
        let (i, s) = both(Tensor::from(array![[1i64], [5]]), &[6], &[-1, 1]);
        assert_eq!((i, s), (Tensor::from(array![[1i64, 0], [5, 0]]), Tensor::from(array![6i64, 1])));
        // The same shape: the indices as they came.
        let (i, s) = both(Tensor::from(array![[0i64, 1]]), &[2, 3], &[2, 3]);
        assert_eq!((i, s), (Tensor::from(array![[0i64, 1]]), Tensor::from(array![2i64, 3])));
    }

    #[test]
    fn shapes_that_cannot_agree_are_refused() {
        let x = || Tensor::from(array![[0i64, 0]]);
        let err = |shape: &[i64], new: &[i64]| {
            reshape(ReshapeOutput::OutputIndices, x(), shape, new).unwrap_err().to_string()
        };
        // TensorFlow's messages for each, from gen_sparse_ops.sparse_reshape([[0, 0]], [3, 4], new_shape).
        assert!(err(&[3, 4], &[5, -1]).contains("requires a multiple of 5"));
        assert!(err(&[3, 4], &[-1, -1]).contains("only one output dimension may be -1, not both 0 and 1"));
        assert!(err(&[3, 4], &[2, -2]).contains("size 1 must be non-negative, not -2"));
        assert!(err(&[3, 4], &[7]).contains("the requested shape has 7"));
        assert!(err(&[0, 4], &[-1, 0]).contains("cannot infer the missing input size"));
        assert!(err(&[-3, 4], &[12]).contains("input_shape"));
        assert!(err(&[1 << 40, 1 << 40], &[-1]).contains("input_shape"));
        assert!(err(&[3, 4], &[1 << 40, 1 << 40]).contains("overflows"));
        // Entries in a shape of no element: refused rather than divided by zero.
        let err = reshape(ReshapeOutput::OutputIndices, x(), &[0, 4], &[4, 0]).unwrap_err().to_string();
        assert!(err.contains("holds no element"), "{err}");
        assert!(reshape(ReshapeOutput::OutputIndices, Tensor::from(array![[0i64]]), &[3, 4], &[12]).is_err());
        // Indices are not checked against the shape, as in TensorFlow, and do not overflow.
        assert!(reshape(ReshapeOutput::OutputIndices, Tensor::from(array![[i64::MAX, -5]]), &[3, 4], &[12]).is_ok());
    }

    #[test]
    fn the_output_rule_and_attributes() {
        let ty = |dims: Vec<Option<usize>>| TensorType::new(DataType::I64, dims);
        let x = [ty(vec![None, Some(2)]), ty(vec![Some(2)]), ty(vec![Some(3)])];
        let infer = |output| SparseReshape { output }.infer(&x).unwrap();
        assert_eq!(infer(ReshapeOutput::OutputIndices), ty(vec![None, Some(3)]));
        assert_eq!(infer(ReshapeOutput::OutputShape), ty(vec![Some(3)]));
        let bad = [ty(vec![None, Some(2)]), ty(vec![Some(3)]), ty(vec![Some(3)])];
        assert!(SparseReshape { output: ReshapeOutput::OutputShape }.infer(&bad).is_err());
        for output in [ReshapeOutput::OutputIndices, ReshapeOutput::OutputShape] {
            let node = Op::from(SparseReshape { output }).to_node("r", ["i", "s", "n"].map(String::from).to_vec());
            assert_eq!(SparseReshape::parse(&node, &Assets::new()).unwrap(), SparseReshape { output });
        }
        assert_eq!(ReshapeOutput::from_index(1), Some(ReshapeOutput::OutputShape));
        assert_eq!(ReshapeOutput::from_index(2), None);
    }
}
