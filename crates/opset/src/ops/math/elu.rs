//! `Elu`.

use super::{UnaryFn, unary_op};

/// `x` where `x > 0`, `e^x - 1` elsewhere, elementwise over an f32 tensor
/// (TensorFlow's `Elu`).
///
/// Gradient: `g` where `x > 0`, `g * (y + 1)` (that is `g * e^x`) elsewhere.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Elu;

impl UnaryFn for Elu {
    const NAME: &'static str = "Elu";
    const SINCE: u32 = 3;

    fn apply(x: f32) -> f32 {
        if x > 0.0 { x } else { x.exp_m1() }
    }

    fn grad(g: f32, x: f32, y: f32) -> f32 {
        if x > 0.0 { g } else { g * (y + 1.0) }
    }
}

unary_op!(Elu);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tensor;
    use crate::ops::OpDef;
    use crate::ops::math::elementwise::tests::{assert_close, assert_grad_is_derivative};

    #[test]
    fn matches_tensorflow() {
        // What TensorFlow 2.15 answers for tf.nn.elu.
        let y = Elu.run(&[&Tensor::from(ndarray::array![-2.0f32, -0.5, 0.0, 0.7, 3.0])]).unwrap();
        assert_close(&y, &[-0.864_664_7, -0.393_469_33, 0.0, 0.7, 3.0]);
    }

    #[test]
    fn grad_is_the_derivative() {
        assert_grad_is_derivative::<Elu>(&[-2.0, -0.5, 0.3, 1.7]);
    }
}
