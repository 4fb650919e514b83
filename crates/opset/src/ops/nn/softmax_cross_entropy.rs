//! `SoftmaxCrossEntropy`.

use crate::graph::{Attr, Node};
use crate::ops::kernel::slice;
use crate::ops::rule::{self, TensorType};
use crate::ops::{Arity, OpDef, OpError};
use crate::{Assets, DataType, Result, Tensor};

/// The cross-entropy of each row of f32 `labels` `[n, k]` (distributions)
/// against the softmax of f32 `logits` `[n, k]`: `[n]`,
/// `-sum(labels * log_softmax(logits))` per row, computed without overflow
/// (TensorFlow's `SoftmaxCrossEntropyWithLogits`, its loss output).
///
/// Gradient: to the logits, `(softmax(logits) - labels) * g` per row (exact
/// when each row of labels sums to 1); none to the labels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SoftmaxCrossEntropy;

impl OpDef for SoftmaxCrossEntropy {
    const NAME: &'static str = "SoftmaxCrossEntropy";
    const SINCE: u32 = 1;
    const INPUTS: Arity = Arity::Exactly(2);

    fn parse(_: &Node, _: &Assets) -> Result<SoftmaxCrossEntropy> {
        Ok(SoftmaxCrossEntropy)
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        Vec::new()
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        rule::expect_dtype(inputs, 0, DataType::F32)?;
        rule::expect_dtype(inputs, 1, DataType::F32)?;
        let (l, y) = (inputs[0].dims(), inputs[1].dims());
        if l.len() != 2 || !inputs[0].shape.compatible(&inputs[1].shape) {
            return Err(OpError::shape(format!(
                "logits {} and labels {} must be matrices of the same shape",
                inputs[0].shape, inputs[1].shape
            )));
        }
        Ok(TensorType::new(DataType::F32, vec![rule::unify(l[0], y[0]).flatten()]))
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        let (logits, labels) = (inputs[0], inputs[1]);
        let &[n, c] = logits.shape() else {
            return Err(shapes_disagree(logits, labels));
        };
        if logits.shape() != labels.shape() {
            return Err(shapes_disagree(logits, labels));
        }
        let (l, y) = (slice::<f32>(logits)?, slice::<f32>(labels)?);
        let dst = out.output_vec::<f32>(&[n]);
        if c == 0 {
            dst.resize(n, 0.0);
            return Ok(());
        }
        for (row, lab) in l.chunks_exact(c).zip(y.chunks_exact(c)) {
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let log_sum = row.iter().map(|&v| (v - max).exp()).sum::<f32>().ln() + max;
            dst.push(row.iter().zip(lab).map(|(&v, &t)| -t * (v - log_sum)).sum());
        }
        Ok(())
    }

    #[cfg(feature = "grad")]
    fn grad(&self, x: &[&Tensor], _y: &Tensor, g: &Tensor) -> crate::ops::grad::Grads {
        use crate::ops::grad::reshape;
        use crate::ops::math::{Mul, Softmax, Sub};
        let (logits, labels) = (x[0], x[1]);
        let diff = Sub.run(&[&Softmax.run(&[logits])?, labels])?;
        let g_col = reshape(g.clone(), &[g.len(), 1])?;
        Ok(vec![Some(Mul.run(&[&diff, &g_col])?), None])
    }
}

fn shapes_disagree(logits: &Tensor, labels: &Tensor) -> OpError {
    OpError::shape(format!("logits {:?} and labels {:?} must be matrices of one shape", logits.shape(), labels.shape()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn the_cross_entropy_of_each_row() {
        let logits = Tensor::from(array![[0.0f32, 0.0], [1000.0, 0.0]]);
        let labels = Tensor::from(array![[1.0f32, 0.0], [0.0, 1.0]]);
        let ce = SoftmaxCrossEntropy.run(&[&logits, &labels]).unwrap();
        let ce = ce.as_slice::<f32>().unwrap();
        assert!((ce[0] - 2f32.ln()).abs() < 1e-6 && ce[1] == 1000.0, "{ce:?}");
    }

    #[test]
    fn shapes_must_agree() {
        let a = Tensor::from(array![[0.0f32, 1.0]]);
        let err = SoftmaxCrossEntropy.run(&[&a, &Tensor::from(array![[0.0f32], [1.0]])]).unwrap_err();
        assert!(err.to_string().contains("must be matrices of one shape"), "{err}");
        let err = SoftmaxCrossEntropy.run(&[&Tensor::from(array![0.0f32]), &Tensor::from(array![0.0f32])]).unwrap_err();
        assert!(err.to_string().contains("must be matrices of one shape"), "{err}");
        let t = |dims: Vec<Option<usize>>| TensorType::new(DataType::F32, dims);
        let y = SoftmaxCrossEntropy.infer(&[t(vec![None, Some(3)]), t(vec![Some(8), None])]).unwrap();
        assert_eq!(y.dims(), &[Some(8)]);
        assert!(SoftmaxCrossEntropy.infer(&[t(vec![Some(2), Some(3)]), t(vec![Some(2), Some(4)])]).is_err());
    }

    #[cfg(feature = "grad")]
    #[test]
    fn gradient_matches_finite_differences() {
        use crate::ops::grad::{check_gradient, sample};
        // Labels that are distributions: the softmax of anything.
        let labels = crate::ops::math::Softmax.run(&[&sample(&[3, 4], 8)]).unwrap();
        check_gradient(&SoftmaxCrossEntropy, &[sample(&[3, 4], 0), labels]);
    }
}
