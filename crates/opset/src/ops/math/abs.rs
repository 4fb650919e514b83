//! `Abs`.

use super::{UnaryFn, unary_op};

/// `|x|`, elementwise over an f32 tensor (TensorFlow's `Abs`).
///
/// Gradient: `g` where `x > 0`, `-g` where `x < 0`, 0 at 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Abs;

impl UnaryFn for Abs {
    const NAME: &'static str = "Abs";
    const SINCE: u32 = 1;

    fn apply(x: f32) -> f32 {
        x.abs()
    }

    fn grad(g: f32, x: f32, _y: f32) -> f32 {
        if x > 0.0 {
            g
        } else if x < 0.0 {
            -g
        } else {
            0.0
        }
    }
}

unary_op!(Abs);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tensor;
    use crate::ops::OpDef;
    use crate::ops::math::elementwise::tests::{assert_close, assert_grad_is_derivative};

    #[test]
    fn drops_the_sign() {
        let y = Abs.run(&[&Tensor::from(ndarray::array![-1.5f32, 0.0, 2.0])]).unwrap();
        assert_close(&y, &[1.5, 0.0, 2.0]);
    }

    #[test]
    fn grad_is_the_derivative() {
        assert_grad_is_derivative::<Abs>(&[-2.0, -0.1, 0.1, 3.0]);
    }

    #[test]
    fn no_gradient_flows_at_zero() {
        assert_eq!(<Abs as UnaryFn>::grad(1.0, 0.0, 0.0), 0.0);
    }
}
