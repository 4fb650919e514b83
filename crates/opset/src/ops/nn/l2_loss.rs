//! `L2Loss`.

use crate::graph::{Attr, Node};
use crate::ops::kernel::slice;
use crate::ops::rule::{self, TensorType};
use crate::ops::{Arity, OpDef, OpError};
use crate::{Assets, DataType, Result, Tensor};

/// The scalar `sum(x^2) / 2` of an f32 tensor `x` of any shape
/// (TensorFlow's `L2Loss`: weight decay).
///
/// Gradient: `x * g`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct L2Loss;

impl OpDef for L2Loss {
    const NAME: &'static str = "L2Loss";
    const SINCE: u32 = 1;
    const INPUTS: Arity = Arity::Exactly(1);

    fn parse(_: &Node, _: &Assets) -> Result<L2Loss> {
        Ok(L2Loss)
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        Vec::new()
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        rule::expect_dtype(inputs, 0, DataType::F32)?;
        Ok(TensorType::new(DataType::F32, Vec::new()))
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        let sum: f32 = slice::<f32>(inputs[0])?.iter().map(|v| v * v).sum();
        out.output_vec::<f32>(&[]).push(sum / 2.0);
        Ok(())
    }

    #[cfg(feature = "grad")]
    fn grad(&self, x: &[&Tensor], _y: &Tensor, g: &Tensor) -> crate::ops::grad::Grads {
        use crate::ops::math::Mul;
        Ok(vec![Some(Mul.run(&[x[0], g])?)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn half_the_sum_of_squares() {
        assert_eq!(L2Loss.run(&[&Tensor::from(array![[3.0f32], [4.0]])]).unwrap(), Tensor::scalar(12.5f32));
    }

    #[test]
    fn integers_are_refused() {
        let t = TensorType::new(DataType::I32, vec![Some(2)]);
        assert!(matches!(L2Loss.infer(&[t]).unwrap_err(), OpError::Dtype { input: 0, expected: "f32", .. }));
        assert!(L2Loss.run(&[&Tensor::from(array![1i32])]).is_err());
    }

    #[cfg(feature = "grad")]
    #[test]
    fn gradient_matches_finite_differences() {
        use crate::ops::grad::{check_gradient, sample};
        check_gradient(&L2Loss, &[sample(&[3, 4], 0)]);
    }
}
