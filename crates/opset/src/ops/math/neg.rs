//! `Neg`.

use super::{UnaryFn, unary_op};

/// `-x`, elementwise over an f32 tensor (TensorFlow's `Neg`).
///
/// Gradient: `-g`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Neg;

impl UnaryFn for Neg {
    const NAME: &'static str = "Neg";
    const SINCE: u32 = 1;

    fn apply(x: f32) -> f32 {
        -x
    }

    fn grad(g: f32, _x: f32, _y: f32) -> f32 {
        -g
    }
}

unary_op!(Neg);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tensor;
    use crate::ops::OpDef;
    use crate::ops::math::elementwise::tests::{assert_close, assert_grad_is_derivative};

    #[test]
    fn flips_the_sign() {
        let y = Neg.run(&[&Tensor::from(ndarray::array![-1.5f32, 0.0, 2.0])]).unwrap();
        assert_close(&y, &[1.5, 0.0, -2.0]);
    }

    #[test]
    fn grad_is_the_derivative() {
        assert_grad_is_derivative::<Neg>(&[-2.0, 0.0, 1.5]);
    }
}
