//! `Relu`.

use super::{UnaryFn, unary_op};

/// `max(x, 0)`, elementwise over an f32 tensor.
///
/// Gradient: `g` where `x > 0`, 0 elsewhere (0 at 0, as TensorFlow).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Relu;

impl UnaryFn for Relu {
    const NAME: &'static str = "Relu";
    const SINCE: u32 = 1;

    fn apply(x: f32) -> f32 {
        x.max(0.0)
    }

    fn grad(g: f32, x: f32, _y: f32) -> f32 {
        if x > 0.0 { g } else { 0.0 }
    }
}

unary_op!(Relu);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tensor;
    use crate::ops::OpDef;

    #[test]
    fn clips_below_zero() {
        let y = Relu.run(&[&Tensor::from(ndarray::array![-1.5f32, 0.0, 2.0])]).unwrap();
        assert_eq!(y.as_slice::<f32>().unwrap(), &[0.0, 0.0, 2.0]);
    }
}
