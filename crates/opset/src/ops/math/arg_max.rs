//! `ArgMax`.

use crate::graph::{Attr, Node};
use crate::ops::kernel::{Num, around, numeric, slice};
use crate::ops::rule::{self, TensorType};
use crate::ops::{Arity, OpDef, OpError, normalize_axis};
use crate::{Assets, DataType, Result, Tensor};

/// The i64 index of the largest element of a numeric tensor `x` (rank >= 1)
/// along `axis`, which is removed (TensorFlow's `ArgMax`); the first one on
/// ties; an empty axis is refused.
///
/// Attributes: `axis` (int, negative from the end).
///
/// Gradient: none flows (an index).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ArgMax {
    /// The axis searched, then removed.
    pub axis: i64,
}

impl OpDef for ArgMax {
    const NAME: &'static str = "ArgMax";
    const SINCE: u32 = 1;
    const INPUTS: Arity = Arity::Exactly(1);

    fn parse(node: &Node, _: &Assets) -> Result<ArgMax> {
        Ok(ArgMax { axis: node.attr_int("axis")? })
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        vec![("axis", Attr::Int(self.axis))]
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        rule::numeric(inputs, 0)?;
        let mut out = inputs[0].dims().to_vec();
        out.remove(normalize_axis(self.axis, out.len())?);
        Ok(TensorType::new(DataType::I64, out))
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        numeric!(inputs[0].dtype(), T => argmax::<T>(inputs[0], self.axis, out))
    }

    #[cfg(feature = "grad")]
    fn grad(&self, _x: &[&Tensor], _y: &Tensor, _g: &Tensor) -> crate::ops::grad::Grads {
        Ok(vec![None])
    }
}

fn argmax<T: Num>(x: &Tensor, axis: i64, out: &mut Tensor) -> Result<(), OpError> {
    let axis = normalize_axis(axis, x.shape().len())?;
    let (outer, n, inner) = around(x.shape(), axis);
    if n == 0 {
        return Err(OpError::shape(format!("argmax over an empty axis {axis} of {:?}", x.shape())));
    }
    let src = slice::<T>(x)?;
    let mut shape = x.shape().to_vec();
    shape.remove(axis);
    let dst = out.output_vec::<i64>(&shape);
    for o in 0..outer {
        for i in 0..inner {
            let at = |k: usize| src[(o * n + k) * inner + i];
            let best = (1..n).fold(0, |best, k| if at(k) > at(best) { k } else { best });
            dst.push(best as i64);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn the_first_largest_along_the_axis() {
        let x = Tensor::from(array![[1.0f32, 5.0, 5.0], [7.0, 0.0, -1.0]]);
        assert_eq!(ArgMax { axis: 1 }.run(&[&x]).unwrap(), Tensor::from(array![1i64, 0]));
        assert_eq!(ArgMax { axis: -2 }.run(&[&x]).unwrap(), Tensor::from(array![1i64, 0, 0]));
    }

    #[test]
    fn attributes_round_trip() {
        let node = crate::ops::Op::from(ArgMax { axis: -1 }).to_node("a", vec!["x".into()]);
        assert_eq!(ArgMax::parse(&node, &Assets::new()).unwrap(), ArgMax { axis: -1 });
    }

    #[test]
    fn an_empty_axis_or_a_scalar_is_refused() {
        let empty = Tensor::from(ndarray::Array2::<i64>::zeros((2, 0)));
        let err = ArgMax { axis: 1 }.run(&[&empty]).unwrap_err();
        assert!(err.to_string().contains("argmax over an empty axis 1"), "{err}");
        assert_eq!(ArgMax { axis: 0 }.run(&[&Tensor::scalar(1i32)]).unwrap_err(), OpError::Axis { axis: 0, rank: 0 });
    }
}
