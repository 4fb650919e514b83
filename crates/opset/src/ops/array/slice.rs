//! `Slice`.

use super::slicing::{DimSlice, slice_offsets};
use crate::graph::{Attr, Node};
use crate::ops::kernel::{any_dtype, checked_len, indices, slice};
use crate::ops::rule::same_dtype;
use crate::ops::{Arity, OpDef, OpError, TensorType};
use crate::{Assets, DataType, Result, Tensor};

/// The block of `x` starting at `begin` of `size`, both known only at run
/// time: TensorFlow's `Slice` (`tf.slice`, what feature columns take of a
/// sparse tensor's run-time shape). A size of -1 takes the rest of its dim.
///
/// Inputs: `x` (any dtype), `begin` and `size` (i32 or i64, one dtype,
/// `[rank]`). Each `begin[i]` must be in `[0, dim]` and each resolved
/// `size[i]` in `[0, dim - begin[i]]`, as TensorFlow checks them. The
/// output is `x`'s dtype, of shape `size`.
///
/// Gradient: to `x`, `g` put back at the block, zeros elsewhere; none to
/// `begin` and `size`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Slice;

impl OpDef for Slice {
    const NAME: &'static str = "Slice";
    const SINCE: u32 = 6;
    const INPUTS: Arity = Arity::Exactly(3);
    const SHAPE_FROM_VALUES: bool = true;

    fn parse(_: &Node, _: &Assets) -> Result<Slice> {
        Ok(Slice)
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        Vec::new()
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        if !matches!(inputs[1].dtype, DataType::I32 | DataType::I64) {
            return Err(OpError::Dtype { input: 1, expected: "i32 or i64", got: inputs[1].dtype });
        }
        same_dtype(inputs, 2, 1)?;
        let rank = inputs[0].dims().len();
        for i in [1, 2] {
            if !matches!(inputs[i].dims(), &[n] if n.is_none_or(|n| n == rank)) {
                return Err(OpError::shape(format!(
                    "input {i} has shape {} for x of rank {rank}: expected [{rank}]",
                    inputs[i].shape
                )));
            }
        }
        Ok(TensorType::new(inputs[0].dtype, vec![None; rank]))
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        let x = inputs[0];
        let (dims, shape) = block(x.shape(), inputs[1], inputs[2])?;
        let offsets = slice_offsets(x.shape(), &dims);
        any_dtype!(x.dtype(), T => {
            let src = slice::<T>(x)?;
            let dst = out.output_vec::<T>(&shape);
            for &o in &offsets {
                dst.extend_from_slice(&src[o..=o]);
            }
            Ok(())
        })
    }

    #[cfg(feature = "grad")]
    fn grad(&self, x: &[&Tensor], _: &Tensor, g: &Tensor) -> crate::ops::grad::Grads {
        let (dims, shape) = block(x[0].shape(), x[1], x[2])?;
        crate::ops::grad::expect_output_shape(g, &shape)?;
        let gs = slice::<f32>(g)?;
        let mut d = vec![0.0f32; x[0].len()];
        for (&o, &g) in slice_offsets(x[0].shape(), &dims).iter().zip(gs) {
            d[o] += g;
        }
        Ok(vec![Some(crate::ops::kernel::tensor(x[0].shape(), d)?), None, None])
    }
}

/// The block `begin`/`size` picks of an input of `shape`, checked as
/// TensorFlow checks it: each dim's slice and the output's shape.
fn block(shape: &[usize], begin_t: &Tensor, size_t: &Tensor) -> Result<(Vec<DimSlice>, Vec<usize>), OpError> {
    let rank = shape.len();
    if begin_t.dtype() != size_t.dtype() {
        return Err(OpError::DtypeMismatch { input: 2, got: size_t.dtype(), other: 1, expected: begin_t.dtype() });
    }
    if begin_t.shape() != [rank] || size_t.shape() != [rank] {
        return Err(OpError::shape(format!(
            "begin {:?} and size {:?} for x of rank {rank}: expected [{rank}]",
            begin_t.shape(),
            size_t.shape()
        )));
    }
    let (begin, size) = (indices(begin_t, 1)?, indices(size_t, 2)?);
    let mut dims = Vec::with_capacity(rank);
    for (i, &dim) in shape.iter().enumerate() {
        let b = usize::try_from(begin[i]).ok().filter(|&b| b <= dim).ok_or_else(|| OpError::Invalid {
            what: "begin",
            reason: format!("Expected begin[{i}] in [0, {dim}], but got {}", begin[i]),
        })?;
        let len = if size[i] == -1 { dim - b } else { usize::try_from(size[i]).unwrap_or(usize::MAX) };
        if len > dim - b {
            return Err(OpError::Invalid {
                what: "size",
                reason: format!("Expected size[{i}] in [0, {}], but got {}", dim - b, size[i]),
            });
        }
        dims.push(DimSlice { start: b as i64, step: 1, len, dropped: false });
    }
    let out: Vec<usize> = dims.iter().map(|d| d.len).collect();
    checked_len(&out)?;
    Ok((dims, out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Op;
    use ndarray::array;

    fn x() -> Tensor {
        Tensor::from_vec(vec![3, 4], (0..12).map(|v| v as f32).collect()).unwrap()
    }

    fn run(x: &Tensor, begin: &[i64], size: &[i64]) -> Result<Tensor, OpError> {
        let b = Tensor::from_vec(vec![begin.len()], begin.to_vec()).unwrap();
        let s = Tensor::from_vec(vec![size.len()], size.to_vec()).unwrap();
        Slice.run(&[x, &b, &s])
    }

    #[test]
    fn takes_the_block() {
        // tf.slice(tf.reshape(tf.range(12, dtype=tf.float32), [3, 4]), [1, 1], [2, -1])
        assert_eq!(run(&x(), &[1, 1], &[2, -1]).unwrap(), Tensor::from(array![[5.0f32, 6.0, 7.0], [9.0, 10.0, 11.0]]));
        // tf.slice(tf.constant([5, 3, 2], tf.int64), [0], [2])
        assert_eq!(run(&Tensor::from(array![5i64, 3, 2]), &[0], &[2]).unwrap(), Tensor::from(array![5i64, 3]));
        assert_eq!(run(&x(), &[3, 0], &[-1, 2]).unwrap().shape(), &[0, 2]);
    }

    #[test]
    fn blocks_outside_are_refused() {
        // TensorFlow's messages, from tf.slice(x, begin, size).
        let err = |b: &[i64], s: &[i64]| run(&x(), b, s).unwrap_err().to_string();
        assert!(err(&[0, 0], &[4, 1]).contains("Expected size[0] in [0, 3], but got 4"));
        assert!(err(&[-1, 0], &[1, 1]).contains("Expected begin[0] in [0, 3], but got -1"));
        assert!(err(&[1, 0], &[-2, 1]).contains("Expected size[0] in [0, 2], but got -2"));
        assert!(err(&[2, 0], &[2, 1]).contains("Expected size[0] in [0, 1], but got 2"));
        assert!(err(&[4, 0], &[0, 1]).contains("begin[0]"));
        assert!(err(&[0], &[1]).contains("rank 2"));
        let (b, s) = (Tensor::from(array![0i32, 0]), Tensor::from(array![1i64, 1]));
        assert!(Slice.run(&[&x(), &b, &s]).is_err());
    }

    #[test]
    fn the_output_rule_and_attributes() {
        let ty = |dtype, dims: Vec<Option<usize>>| TensorType::new(dtype, dims);
        let x =
            [ty(DataType::F32, vec![Some(3), None]), ty(DataType::I64, vec![Some(2)]), ty(DataType::I64, vec![None])];
        assert_eq!(Slice.infer(&x).unwrap(), ty(DataType::F32, vec![None, None]));
        let bad = [x[0].clone(), ty(DataType::I64, vec![Some(3)]), x[2].clone()];
        assert!(Slice.infer(&bad).is_err());
        let node = Op::from(Slice).to_node("s", ["x", "b", "n"].map(String::from).to_vec());
        assert_eq!(Slice::parse(&node, &Assets::new()).unwrap(), Slice);
    }

    #[cfg(feature = "grad")]
    #[test]
    fn the_gradient_is_tensorflows() {
        // with tf.GradientTape() as t: y = tf.slice(x, [1, 1], [2, 2]); l = tf.reduce_sum(y * [[1., 2.], [3., 4.]])
        // t.gradient(l, x) == [[0, 0, 0, 0], [0, 1, 2, 0], [0, 3, 4, 0]]
        let (b, s) = (Tensor::from(array![1i64, 1]), Tensor::from(array![2i64, 2]));
        let g = Tensor::from(array![[1.0f32, 2.0], [3.0, 4.0]]);
        let d = Slice.grad(&[&x(), &b, &s], &g, &g).unwrap();
        let want = array![[0.0f32, 0.0, 0.0, 0.0], [0.0, 1.0, 2.0, 0.0], [0.0, 3.0, 4.0, 0.0]];
        assert_eq!(d, vec![Some(Tensor::from(want)), None, None]);
        crate::ops::grad::check_gradient(&Slice, &[crate::ops::grad::sample(&[3, 4], 0), b, s]);
    }
}
