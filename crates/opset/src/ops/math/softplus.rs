//! `Softplus`.

use super::{Sigmoid, UnaryFn, unary_op};

/// `ln(1 + e^x)`, elementwise over an f32 tensor, computed without overflow
/// as `max(x, 0) + ln(1 + e^-|x|)` (TensorFlow's `Softplus`).
///
/// Gradient: `g * sigmoid(x)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Softplus;

impl UnaryFn for Softplus {
    const NAME: &'static str = "Softplus";
    const SINCE: u32 = 1;

    fn apply(x: f32) -> f32 {
        x.max(0.0) + (-x.abs()).exp().ln_1p()
    }

    fn grad(g: f32, x: f32, _y: f32) -> f32 {
        g * Sigmoid::apply(x)
    }
}

unary_op!(Softplus);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tensor;
    use crate::ops::OpDef;
    use crate::ops::math::elementwise::tests::{assert_close, assert_grad_is_derivative};

    #[test]
    fn does_not_overflow() {
        let y = Softplus.run(&[&Tensor::from(ndarray::array![0.0f32, 100.0, -20.0])]).unwrap();
        assert_close(&y, &[std::f32::consts::LN_2, 100.0, 2.061_153_6e-9]);
        let tiny = y.as_slice::<f32>().unwrap()[2];
        assert!((tiny - 2.061_153_6e-9).abs() < 1e-14, "{tiny}");
    }

    #[test]
    fn grad_is_the_derivative() {
        assert_grad_is_derivative::<Softplus>(&[-3.0, -0.5, 0.4, 2.5]);
    }
}
