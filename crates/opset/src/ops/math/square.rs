//! `Square`.

use super::{UnaryFn, unary_op};

/// `x * x`, elementwise over an f32 tensor (TensorFlow's `Square`).
///
/// Gradient: `2 * g * x`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Square;

impl UnaryFn for Square {
    const NAME: &'static str = "Square";
    const SINCE: u32 = 1;

    fn apply(x: f32) -> f32 {
        x * x
    }

    fn grad(g: f32, x: f32, _y: f32) -> f32 {
        2.0 * g * x
    }
}

unary_op!(Square);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tensor;
    use crate::ops::OpDef;
    use crate::ops::math::elementwise::tests::{assert_close, assert_grad_is_derivative};

    #[test]
    fn squares() {
        let y = Square.run(&[&Tensor::from(ndarray::array![-3.0f32, 0.5, 0.0])]).unwrap();
        assert_close(&y, &[9.0, 0.25, 0.0]);
    }

    #[test]
    fn grad_is_the_derivative() {
        assert_grad_is_derivative::<Square>(&[-2.0, -0.3, 0.0, 1.5]);
    }
}
