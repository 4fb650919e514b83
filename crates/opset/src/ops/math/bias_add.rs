//! `BiasAdd`.

use crate::graph::{Attr, Node};
use crate::ops::kernel::{Num, numeric, slice};
use crate::ops::rule::{self, TensorType};
use crate::ops::{Arity, OpDef, OpError};
use crate::{Assets, Result, Tensor};

/// `x + bias` along the last dim: `x` `[..., c]` (numeric, rank >= 1) and
/// `bias` `[c]` of x's dtype (TensorFlow's `BiasAdd`, NHWC).
///
/// Gradient: `g` to `x`; to `bias`, `g` summed over every dim but the last.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BiasAdd;

impl OpDef for BiasAdd {
    const NAME: &'static str = "BiasAdd";
    const SINCE: u32 = 1;
    const INPUTS: Arity = Arity::Exactly(2);

    fn parse(_: &Node, _: &Assets) -> Result<BiasAdd> {
        Ok(BiasAdd)
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        Vec::new()
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        rule::same_numeric(inputs)?;
        let (x, b) = (inputs[0].dims(), inputs[1].dims());
        match (x.last(), b) {
            (Some(&c), &[d]) if rule::unify(c, d).is_some() => Ok(inputs[0].clone()),
            _ => Err(OpError::shape(format!(
                "bias {} does not match the last dim of {}",
                inputs[1].shape, inputs[0].shape
            ))),
        }
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        numeric!(inputs[0].dtype(), T => bias_add::<T>(inputs[0], inputs[1], out))
    }

    #[cfg(feature = "grad")]
    fn grad(&self, _x: &[&Tensor], _y: &Tensor, g: &Tensor) -> crate::ops::grad::Grads {
        use super::ReduceSum;
        // Every dim but the last; none for a vector, whose gradient is g itself.
        let axes: Vec<i64> = (0..g.shape().len().saturating_sub(1)).map(|d| d as i64).collect();
        let db = if axes.is_empty() { g.clone() } else { ReduceSum { axes, keep_dims: false }.run(&[g])? };
        Ok(vec![Some(g.clone()), Some(db)])
    }
}

fn bias_add<T: Num>(x: &Tensor, bias: &Tensor, out: &mut Tensor) -> Result<(), OpError> {
    let (xs, bs) = (slice::<T>(x)?, slice::<T>(bias)?);
    let c = x.shape().last().copied().unwrap_or(0);
    if bias.shape() != [c] || x.shape().is_empty() {
        return Err(OpError::shape(format!(
            "bias of shape {:?} does not match the last dim of {:?}",
            bias.shape(),
            x.shape()
        )));
    }
    let dst = out.output_vec::<T>(x.shape());
    if c > 0 {
        for row in xs.chunks_exact(c) {
            dst.extend(row.iter().zip(bs).map(|(&v, &b)| Num::add(v, b)));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn adds_along_the_last_dim() {
        let x = Tensor::from(array![[1i32, 2], [3, 4]]);
        let y = BiasAdd.run(&[&x, &Tensor::from(array![10i32, 20])]).unwrap();
        assert_eq!(y, Tensor::from(array![[11i32, 22], [13, 24]]));
    }

    #[test]
    fn a_bias_of_another_size_is_refused() {
        let x = Tensor::from(array![[1.0f32, 2.0]]);
        let err = BiasAdd.run(&[&x, &Tensor::from(array![0.0f32, 0.0, 0.0])]).unwrap_err();
        assert!(err.to_string().contains("does not match the last dim"), "{err}");
        let err = BiasAdd.run(&[&Tensor::scalar(1.0f32), &Tensor::from(array![0.0f32])]).unwrap_err();
        assert!(err.to_string().contains("does not match the last dim"), "{err}");
    }

    #[cfg(feature = "grad")]
    #[test]
    fn gradient_matches_finite_differences() {
        use crate::ops::grad::{check_gradient, sample};
        check_gradient(&BiasAdd, &[sample(&[2, 3, 4], 0), sample(&[4], 5)]);
        check_gradient(&BiasAdd, &[sample(&[3], 0), sample(&[3], 5)]);
    }
}
