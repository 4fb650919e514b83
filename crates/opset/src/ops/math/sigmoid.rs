//! `Sigmoid`.

use super::{UnaryFn, unary_op};

/// `1 / (1 + e^-x)`, elementwise over an f32 tensor (TensorFlow's `Sigmoid`).
///
/// Gradient: `g * y * (1 - y)`, `y` the output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sigmoid;

impl UnaryFn for Sigmoid {
    const NAME: &'static str = "Sigmoid";
    const SINCE: u32 = 1;

    fn apply(x: f32) -> f32 {
        1.0 / (1.0 + (-x).exp())
    }

    fn grad(g: f32, _x: f32, y: f32) -> f32 {
        g * y * (1.0 - y)
    }
}

unary_op!(Sigmoid);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tensor;
    use crate::ops::OpDef;
    use crate::ops::math::elementwise::tests::{assert_close, assert_grad_is_derivative};

    #[test]
    fn squashes_into_zero_one() {
        let y = Sigmoid.run(&[&Tensor::from(ndarray::array![0.0f32, 2.0, -100.0, 100.0])]).unwrap();
        assert_close(&y, &[0.5, 0.880_797, 0.0, 1.0]);
    }

    #[test]
    fn grad_is_the_derivative() {
        assert_grad_is_derivative::<Sigmoid>(&[-3.0, -0.5, 0.4, 2.5]);
    }
}
