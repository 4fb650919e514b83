//! `ReshapeTo`.

use crate::graph::{Attr, Node};
use crate::ops::kernel::{copy, indices};
use crate::ops::rule::unify;
use crate::ops::{Arity, OpDef, OpError, TensorType};
use crate::{Assets, DataType, Result, Shape, Tensor};

use super::Reshape;

/// [`Reshape`] to a shape computed at run time: `x`'s elements (any dtype),
/// row-major, in the shape the second input holds, where one dim may be
/// `-1`. TensorFlow's `Reshape` whose shape depends on the input (a batch
/// and a sequence length both known only at run time, as a `Dense` layer
/// over a sequence reshapes).
///
/// Inputs: `x`, and `shape` (i32 or i64 `[rank]`). Attribute: `shape` (a
/// shape: the dims known before run time, the others unknown), which the
/// values must agree with.
///
/// Gradient: `g` reshaped back to `x`'s shape; none to `shape`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReshapeTo {
    /// The output's declared shape: its rank, and the dims known before
    /// run time.
    pub shape: Shape,
}

impl OpDef for ReshapeTo {
    const NAME: &'static str = "ReshapeTo";
    const SINCE: u32 = 5;
    const INPUTS: Arity = Arity::Exactly(2);
    const SHAPE_FROM_VALUES: bool = true;

    fn parse(node: &Node, _: &Assets) -> Result<ReshapeTo> {
        Ok(ReshapeTo { shape: node.attr_shape("shape")?.clone() })
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        vec![("shape", Attr::Shape(self.shape.clone()))]
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        let shape = &inputs[1];
        if !matches!(shape.dtype, DataType::I32 | DataType::I64) {
            return Err(OpError::Dtype { input: 1, expected: "i32 or i64", got: shape.dtype });
        }
        match shape.dims() {
            [n] if unify(*n, Some(self.shape.rank())).is_some() => {
                Ok(TensorType::new(inputs[0].dtype, self.shape.0.clone()))
            }
            _ => Err(OpError::shape(format!(
                "shape {} {} for a result of rank {}",
                shape.dtype,
                shape.shape,
                self.shape.rank()
            ))),
        }
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        let target = Reshape { shape: indices(inputs[1], 1)? }.target(inputs[0].len())?;
        if !self.shape.accepts(&target) {
            return Err(OpError::shape(format!("the shape computed, {target:?}, is not the declared {}", self.shape)));
        }
        copy(inputs[0], &target, out)
    }

    #[cfg(feature = "grad")]
    fn grad(&self, x: &[&Tensor], _y: &Tensor, g: &Tensor) -> crate::ops::grad::Grads {
        Ok(vec![Some(crate::ops::grad::reshape(g.clone(), x[0].shape())?), None])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Op;
    use ndarray::array;

    #[test]
    fn reshapes_to_the_shape_computed() {
        let op = ReshapeTo { shape: Shape(vec![None, None, Some(2)]) };
        let x = Tensor::from(array![[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]]);
        let y = op.run(&[&x, &Tensor::from(array![3i32, -1, 2])]).unwrap();
        assert_eq!(y.shape(), &[3, 1, 2]);
        assert_eq!(y.as_slice::<f32>().unwrap(), x.as_slice::<f32>().unwrap());
    }

    #[test]
    fn a_shape_that_disagrees_is_refused() {
        let op = ReshapeTo { shape: Shape(vec![None, Some(2)]) };
        let x = Tensor::from(array![1i64, 2, 3, 4, 5, 6]);
        let err = op.run(&[&x, &Tensor::from(array![2i64, 3])]).unwrap_err().to_string();
        assert!(err.contains("not the declared"), "{err}");
        let err = op.run(&[&x, &Tensor::from(array![4i64, -1])]).unwrap_err().to_string();
        assert!(err.contains("cannot reshape 6 elements"), "{err}");
        let types = [TensorType::new(DataType::I64, vec![Some(6)]), TensorType::new(DataType::I64, vec![Some(3)])];
        assert!(op.infer(&types).is_err());
    }

    #[test]
    fn attributes_round_trip() {
        let op = ReshapeTo { shape: Shape(vec![None, Some(4)]) };
        let node = Op::from(op.clone()).to_node("r", vec!["x".into(), "s".into()]);
        assert_eq!(ReshapeTo::parse(&node, &Assets::new()).unwrap(), op);
    }

    #[cfg(feature = "grad")]
    #[test]
    fn gradient_matches_finite_differences() {
        use crate::ops::grad::{check_gradient, sample};
        let op = ReshapeTo { shape: Shape(vec![None, Some(3)]) };
        check_gradient(&op, &[sample(&[3, 2], 0), Tensor::from(array![2i64, 3])]);
    }
}
