//! `Exp`.

use super::{UnaryFn, unary_op};

/// `e^x`, elementwise over an f32 tensor (TensorFlow's `Exp`).
///
/// Gradient: `g * y`, `y` the output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Exp;

impl UnaryFn for Exp {
    const NAME: &'static str = "Exp";
    const SINCE: u32 = 1;

    fn apply(x: f32) -> f32 {
        x.exp()
    }

    fn grad(g: f32, _x: f32, y: f32) -> f32 {
        g * y
    }
}

unary_op!(Exp);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tensor;
    use crate::ops::OpDef;
    use crate::ops::math::elementwise::tests::{assert_close, assert_grad_is_derivative};

    #[test]
    fn raises_e() {
        let y = Exp.run(&[&Tensor::from(ndarray::array![0.0f32, 1.0, f32::NEG_INFINITY])]).unwrap();
        assert_close(&y, &[1.0, std::f32::consts::E, 0.0]);
    }

    #[test]
    fn grad_is_the_derivative() {
        assert_grad_is_derivative::<Exp>(&[-2.0, 0.0, 1.0, 2.5]);
    }
}
