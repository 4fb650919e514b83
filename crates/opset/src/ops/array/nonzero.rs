//! `Where`.

use crate::graph::{Attr, Node};
use crate::ops::kernel::{checked_len, slice};
use crate::ops::{Arity, OpDef, OpError, TensorType};
use crate::{Assets, DataType, Result, Tensor};

/// The coordinates of the true (non-zero) elements of `x`, in row-major
/// order: TensorFlow's `Where` (`tf.where` with one argument, what turns a
/// dense feature into a sparse one). A NaN is non-zero, as in TensorFlow.
///
/// Input: `x` (bool or numeric, rank >= 1). The output is i64 `[count,
/// rank]`, `count` known only at run time.
///
/// Gradient: none (coordinates are integers).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Where;

impl OpDef for Where {
    const NAME: &'static str = "Where";
    const SINCE: u32 = 6;
    const INPUTS: Arity = Arity::Exactly(1);
    const SHAPE_FROM_VALUES: bool = true;

    fn parse(_: &Node, _: &Assets) -> Result<Where> {
        Ok(Where)
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        Vec::new()
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        let x = &inputs[0];
        if x.dtype == DataType::String {
            return Err(OpError::Dtype { input: 0, expected: "bool or a numeric dtype", got: x.dtype });
        }
        if x.dims().is_empty() {
            return Err(OpError::shape("x is a scalar: expected rank >= 1"));
        }
        Ok(TensorType::new(DataType::I64, vec![None, Some(x.dims().len())]))
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        let x = inputs[0];
        let shape = x.shape();
        if shape.is_empty() {
            return Err(OpError::shape("x is a scalar: expected rank >= 1"));
        }
        let hits: Vec<usize> = match x.dtype() {
            DataType::Bool => positions(slice::<bool>(x)?, |&v| v),
            DataType::F32 => positions(slice::<f32>(x)?, |&v| v != 0.0),
            DataType::I32 => positions(slice::<i32>(x)?, |&v| v != 0),
            DataType::I64 => positions(slice::<i64>(x)?, |&v| v != 0),
            got => return Err(OpError::Dtype { input: 0, expected: "bool or a numeric dtype", got }),
        };
        let rank = shape.len();
        checked_len(&[hits.len(), rank])?;
        let dst = out.output_vec::<i64>(&[hits.len(), rank]);
        let mut coords = vec![0i64; rank];
        for at in hits {
            let mut rest = at;
            for d in (0..rank).rev() {
                coords[d] = (rest % shape[d]) as i64;
                rest /= shape[d];
            }
            dst.extend_from_slice(&coords);
        }
        Ok(())
    }

    #[cfg(feature = "grad")]
    fn grad(&self, _: &[&Tensor], _: &Tensor, _: &Tensor) -> crate::ops::grad::Grads {
        Ok(vec![None])
    }
}

/// The flat positions of the elements of `v` that `hit` picks.
fn positions<T>(v: &[T], hit: impl Fn(&T) -> bool) -> Vec<usize> {
    v.iter().enumerate().filter(|(_, x)| hit(x)).map(|(i, _)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Op;
    use ndarray::array;

    #[test]
    fn lists_the_coordinates_of_the_true_elements() {
        // tf.where(tf.constant([[True, False], [False, True], [True, True]]))
        let x = Tensor::from(array![[true, false], [false, true], [true, true]]);
        assert_eq!(Where.run(&[&x]).unwrap(), Tensor::from(array![[0i64, 0], [1, 1], [2, 0], [2, 1]]));
        // tf.where(tf.constant([0.0, -0.0, nan, 2.0])): [[2], [3]]
        let x = Tensor::from(array![0.0f32, -0.0, f32::NAN, 2.0]);
        assert_eq!(Where.run(&[&x]).unwrap(), Tensor::from(array![[2i64], [3]]));
        // tf.where(tf.constant([[0, 3, 0]], tf.int64)): [[0, 1]]
        assert_eq!(Where.run(&[&Tensor::from(array![[0i64, 3, 0]])]).unwrap(), Tensor::from(array![[0i64, 1]]));
        assert_eq!(Where.run(&[&Tensor::from(array![0i32, 0])]).unwrap().shape(), &[0, 1]);
    }

    #[test]
    fn scalars_and_strings_are_refused() {
        // TensorFlow: "WhereOp : Unhandled input dimensions: 0".
        assert!(Where.run(&[&Tensor::scalar(5i32)]).is_err());
        let words = Tensor::strings(vec![1], vec!["a".to_owned()]).unwrap();
        assert!(Where.run(&[&words]).is_err());
        let ty = TensorType::new(DataType::Bool, vec![None, Some(3)]);
        assert_eq!(Where.infer(&[ty]).unwrap(), TensorType::new(DataType::I64, vec![None, Some(2)]));
        assert!(Where.infer(&[TensorType::new(DataType::F32, vec![])]).is_err());
        let node = Op::from(Where).to_node("w", vec!["x".into()]);
        assert_eq!(Where::parse(&node, &Assets::new()).unwrap(), Where);
    }
}
