//! `Softmax`.

use crate::graph::{Attr, Node};
use crate::ops::kernel::slice;
use crate::ops::rule::{self, TensorType};
use crate::ops::{Arity, OpDef, OpError};
use crate::{Assets, DataType, Result, Tensor};

/// `e^(x - max) / sum e^(x - max)` along the last dim of an f32 tensor of
/// rank >= 1 (TensorFlow's `Softmax`): each row becomes a distribution.
///
/// Gradient: `y * (g - sum(g * y))`, the sum along each row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Softmax;

impl OpDef for Softmax {
    const NAME: &'static str = "Softmax";
    const SINCE: u32 = 1;
    const INPUTS: Arity = Arity::Exactly(1);

    fn parse(_: &Node, _: &Assets) -> Result<Softmax> {
        Ok(Softmax)
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        Vec::new()
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        rule::expect_dtype(inputs, 0, DataType::F32)?;
        if inputs[0].dims().is_empty() {
            return Err(OpError::shape("softmax needs rank >= 1"));
        }
        Ok(inputs[0].clone())
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        let x = inputs[0];
        let c = *x.shape().last().ok_or_else(|| OpError::shape("softmax needs rank >= 1"))?;
        softmax_rows(slice::<f32>(x)?, c, out.output_vec::<f32>(x.shape()));
        Ok(())
    }

    #[cfg(feature = "grad")]
    fn grad(&self, _x: &[&Tensor], y: &Tensor, g: &Tensor) -> crate::ops::grad::Grads {
        let c = y.shape().last().copied().ok_or_else(|| OpError::shape("softmax needs rank >= 1"))?.max(1);
        let (ys, gs) = (slice::<f32>(y)?, slice::<f32>(g)?);
        let mut d = Vec::with_capacity(ys.len());
        for (yr, gr) in ys.chunks_exact(c).zip(gs.chunks_exact(c)) {
            let dot: f32 = yr.iter().zip(gr).map(|(y, g)| y * g).sum();
            d.extend(yr.iter().zip(gr).map(|(y, g)| y * (g - dot)));
        }
        Ok(vec![Some(crate::ops::kernel::tensor(y.shape(), d)?)])
    }
}

/// Softmax of each row of length `c` of `src`, appended to `dst`: the one
/// computation of the op, for the kernels that need it inline.
pub(crate) fn softmax_rows(src: &[f32], c: usize, dst: &mut Vec<f32>) {
    if c == 0 {
        return;
    }
    for row in src.chunks_exact(c) {
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let start = dst.len();
        dst.extend(row.iter().map(|&v| (v - max).exp()));
        let sum: f32 = dst[start..].iter().sum();
        dst[start..].iter_mut().for_each(|v| *v /= sum);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn rows_become_distributions() {
        let y = Softmax.run(&[&Tensor::from(array![[0.0f32, 0.0], [1000.0, 1000.0 + 2f32.ln()]])]).unwrap();
        let y = y.as_slice::<f32>().unwrap();
        assert_eq!(y[..2], [0.5, 0.5]);
        assert!((y[2] - 1.0 / 3.0).abs() < 1e-4 && (y[3] - 2.0 / 3.0).abs() < 1e-4, "{y:?}");
    }

    #[test]
    fn a_scalar_is_refused() {
        assert_eq!(Softmax.run(&[&Tensor::scalar(1.0f32)]).unwrap_err(), OpError::shape("softmax needs rank >= 1"));
        let scalar = TensorType::new(DataType::F32, vec![]);
        assert_eq!(Softmax.infer(&[scalar]).unwrap_err(), OpError::shape("softmax needs rank >= 1"));
    }

    #[cfg(feature = "grad")]
    #[test]
    fn gradient_matches_finite_differences() {
        use crate::ops::grad::{check_gradient, sample};
        check_gradient(&Softmax, &[sample(&[3, 4], 0)]);
        check_gradient(&Softmax, &[sample(&[2, 2, 5], 3)]);
    }
}
