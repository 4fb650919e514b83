//! `Erf`.

use super::{UnaryFn, unary_op};

/// The error function `2 / sqrt(pi) * (integral of e^(-t^2) from 0 to x)`,
/// elementwise over an f32 tensor, as libm's `erff` computes it (IEEE: NaN
/// for NaN, ±1 at ±inf) (TensorFlow's `Erf`).
///
/// Gradient: `g * 2 / sqrt(pi) * e^(-x^2)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Erf;

impl UnaryFn for Erf {
    const NAME: &'static str = "Erf";
    const SINCE: u32 = 3;

    fn apply(x: f32) -> f32 {
        libm::erff(x)
    }

    fn grad(g: f32, x: f32, _y: f32) -> f32 {
        g * std::f32::consts::FRAC_2_SQRT_PI * (-x * x).exp()
    }
}

unary_op!(Erf);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tensor;
    use crate::ops::OpDef;
    use crate::ops::math::elementwise::tests::{assert_close, assert_grad_is_derivative};

    #[test]
    fn matches_tensorflow() {
        // What TensorFlow 2.15 answers for tf.math.erf (and NaN for NaN).
        let y = Erf.run(&[&Tensor::from(ndarray::array![-2.0f32, -0.5, 0.0, 0.7, 3.0, f32::NAN])]).unwrap();
        assert_close(&y, &[-0.995_322_2, -0.520_499_9, 0.0, 0.677_801_13, 0.999_977_77, f32::NAN]);
    }

    #[test]
    fn grad_is_the_derivative() {
        assert_grad_is_derivative::<Erf>(&[-2.0, -0.5, 0.0, 0.7, 1.5]);
    }
}
