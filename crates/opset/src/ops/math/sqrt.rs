//! `Sqrt`.

use super::{UnaryFn, unary_op};

/// `sqrt x`, elementwise over an f32 tensor: NaN below 0 (TensorFlow's `Sqrt`).
///
/// Gradient: `g / (2 * y)`, `y` the output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sqrt;

impl UnaryFn for Sqrt {
    const NAME: &'static str = "Sqrt";
    const SINCE: u32 = 1;

    fn apply(x: f32) -> f32 {
        x.sqrt()
    }

    fn grad(g: f32, _x: f32, y: f32) -> f32 {
        g / (2.0 * y)
    }
}

unary_op!(Sqrt);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tensor;
    use crate::ops::OpDef;
    use crate::ops::math::elementwise::tests::{assert_close, assert_grad_is_derivative};

    #[test]
    fn takes_the_square_root() {
        let y = Sqrt.run(&[&Tensor::from(ndarray::array![4.0f32, 0.0, 2.0, -1.0])]).unwrap();
        assert_close(&y, &[2.0, 0.0, std::f32::consts::SQRT_2, f32::NAN]);
    }

    #[test]
    fn grad_is_the_derivative() {
        assert_grad_is_derivative::<Sqrt>(&[0.25, 1.0, 3.0]);
    }
}
