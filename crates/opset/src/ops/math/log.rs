//! `Log`.

use super::{UnaryFn, unary_op};

/// `ln x`, the natural logarithm, elementwise over an f32 tensor: -inf at 0, NaN below
/// (TensorFlow's `Log`).
///
/// Gradient: `g / x`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Log;

impl UnaryFn for Log {
    const NAME: &'static str = "Log";
    const SINCE: u32 = 1;

    fn apply(x: f32) -> f32 {
        x.ln()
    }

    fn grad(g: f32, x: f32, _y: f32) -> f32 {
        g / x
    }
}

unary_op!(Log);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tensor;
    use crate::ops::OpDef;
    use crate::ops::math::elementwise::tests::{assert_close, assert_grad_is_derivative};

    #[test]
    fn is_the_natural_logarithm() {
        let y = Log.run(&[&Tensor::from(ndarray::array![1.0f32, std::f32::consts::E, 0.0, -1.0])]).unwrap();
        assert_close(&y, &[0.0, 1.0, f32::NEG_INFINITY, f32::NAN]);
    }

    #[test]
    fn grad_is_the_derivative() {
        assert_grad_is_derivative::<Log>(&[0.3, 1.0, 2.5]);
    }
}
