//! `Tanh`.

use super::{UnaryFn, unary_op};

/// `tanh x`, elementwise over an f32 tensor (TensorFlow's `Tanh`).
///
/// Gradient: `g * (1 - y^2)`, `y` the output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tanh;

impl UnaryFn for Tanh {
    const NAME: &'static str = "Tanh";
    const SINCE: u32 = 1;

    fn apply(x: f32) -> f32 {
        x.tanh()
    }

    fn grad(g: f32, _x: f32, y: f32) -> f32 {
        g * (1.0 - y * y)
    }
}

unary_op!(Tanh);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tensor;
    use crate::ops::OpDef;
    use crate::ops::math::elementwise::tests::{assert_close, assert_grad_is_derivative};

    #[test]
    fn squashes_into_minus_one_one() {
        let y = Tanh.run(&[&Tensor::from(ndarray::array![0.0f32, 1.0, -20.0])]).unwrap();
        assert_close(&y, &[0.0, 0.761_594_2, -1.0]);
    }

    #[test]
    fn grad_is_the_derivative() {
        assert_grad_is_derivative::<Tanh>(&[-2.0, -0.5, 0.3, 1.7]);
    }
}
