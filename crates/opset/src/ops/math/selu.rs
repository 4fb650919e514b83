//! `Selu`.

use super::{UnaryFn, unary_op};

/// SELU's `alpha`, as TensorFlow has it.
pub const SELU_ALPHA: f32 = 1.673_263_2;
/// SELU's `scale`, as TensorFlow has it.
pub const SELU_SCALE: f32 = 1.050_701;

/// `SELU_SCALE * x` where `x > 0`, `SELU_SCALE * SELU_ALPHA * (e^x - 1)`
/// elsewhere, elementwise over an f32 tensor, with TensorFlow's constants
/// `SELU_SCALE` (1.0507) and `SELU_ALPHA` (1.6733) (TensorFlow's `Selu`).
///
/// Gradient: `g * SELU_SCALE` where `x > 0`, `g * (y + SELU_SCALE *
/// SELU_ALPHA)` (that is `g * SELU_SCALE * SELU_ALPHA * e^x`) elsewhere.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Selu;

impl UnaryFn for Selu {
    const NAME: &'static str = "Selu";
    const SINCE: u32 = 3;

    fn apply(x: f32) -> f32 {
        SELU_SCALE * if x > 0.0 { x } else { SELU_ALPHA * x.exp_m1() }
    }

    fn grad(g: f32, x: f32, y: f32) -> f32 {
        if x > 0.0 { g * SELU_SCALE } else { g * (y + SELU_SCALE * SELU_ALPHA) }
    }
}

unary_op!(Selu);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tensor;
    use crate::ops::OpDef;
    use crate::ops::math::elementwise::tests::{assert_close, assert_grad_is_derivative};

    #[test]
    fn matches_tensorflow() {
        // What TensorFlow 2.15 answers for tf.nn.selu.
        let y = Selu.run(&[&Tensor::from(ndarray::array![-2.0f32, -0.5, 0.0, 0.7, 3.0])]).unwrap();
        assert_close(&y, &[-1.520_166_5, -0.691_758_16, 0.0, 0.735_490_7, 3.152_103]);
    }

    #[test]
    fn grad_is_the_derivative() {
        assert_grad_is_derivative::<Selu>(&[-2.0, -0.5, 0.3, 1.7]);
    }
}
