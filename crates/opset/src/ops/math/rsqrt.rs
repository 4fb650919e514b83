//! `Rsqrt`.

use super::{UnaryFn, unary_op};

/// `1 / sqrt x`, elementwise over an f32 tensor: inf at 0, NaN below 0 (TensorFlow's
/// `Rsqrt`).
///
/// Gradient: `-g * y^3 / 2`, `y` the output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rsqrt;

impl UnaryFn for Rsqrt {
    const NAME: &'static str = "Rsqrt";
    const SINCE: u32 = 1;

    fn apply(x: f32) -> f32 {
        1.0 / x.sqrt()
    }

    fn grad(g: f32, _x: f32, y: f32) -> f32 {
        -0.5 * g * y * y * y
    }
}

unary_op!(Rsqrt);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tensor;
    use crate::ops::OpDef;
    use crate::ops::math::elementwise::tests::{assert_close, assert_grad_is_derivative};

    #[test]
    fn takes_the_reciprocal_square_root() {
        let y = Rsqrt.run(&[&Tensor::from(ndarray::array![4.0f32, 0.25, 0.0, -1.0])]).unwrap();
        assert_close(&y, &[0.5, 2.0, f32::INFINITY, f32::NAN]);
    }

    #[test]
    fn grad_is_the_derivative() {
        assert_grad_is_derivative::<Rsqrt>(&[0.25, 1.0, 3.0]);
    }
}
