//! `Reverse`.

use crate::graph::{Attr, Node};
use crate::ops::array::slicing::{DimSlice, take_slice};
use crate::ops::kernel::any_dtype;
use crate::ops::{Arity, OpDef, OpError, TensorType, normalize_axis};
use crate::{Assets, Result, Tensor};

/// `x` (any dtype) reversed along each of `axes`: TensorFlow's `ReverseV2`
/// (`tf.reverse`).
///
/// Attribute: `axes` (ints, distinct, negative from the end; empty: `x`
/// unchanged).
///
/// Gradient: `g` reversed the same way (the op is its own inverse).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reverse {
    /// The axes reversed.
    pub axes: Vec<i64>,
}

impl OpDef for Reverse {
    const NAME: &'static str = "Reverse";
    const SINCE: u32 = 5;
    const INPUTS: Arity = Arity::Exactly(1);

    fn parse(node: &Node, _: &Assets) -> Result<Reverse> {
        Ok(Reverse { axes: node.attr_ints("axes")?.to_vec() })
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        vec![("axes", Attr::Ints(self.axes.clone()))]
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        self.reversed(inputs[0].dims().len())?;
        Ok(inputs[0].clone())
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        let x = inputs[0];
        let reversed = self.reversed(x.shape().len())?;
        let dims: Vec<DimSlice> = x
            .shape()
            .iter()
            .zip(&reversed)
            .map(|(&len, &r)| match (r, i64::try_from(len)) {
                (true, Ok(n)) if n > 0 => DimSlice { start: n - 1, step: -1, len, dropped: false },
                _ => DimSlice::whole(len),
            })
            .collect();
        any_dtype!(x.dtype(), T => take_slice::<T>(x, &dims, x.shape(), out))
    }

    #[cfg(feature = "grad")]
    fn grad(&self, _x: &[&Tensor], _y: &Tensor, g: &Tensor) -> crate::ops::grad::Grads {
        Ok(vec![Some(self.run(&[g])?)])
    }
}

impl Reverse {
    /// Whether each dim of a tensor of `rank` dims is reversed.
    fn reversed(&self, rank: usize) -> Result<Vec<bool>, OpError> {
        let mut reversed = vec![false; rank];
        for &axis in &self.axes {
            let a = normalize_axis(axis, rank)?;
            if std::mem::replace(&mut reversed[a], true) {
                return Err(OpError::Invalid {
                    what: "axes",
                    reason: format!("{:?} names axis {a} twice (rank {rank})", self.axes),
                });
            }
        }
        Ok(reversed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DataType;
    use crate::ops::Op;
    use ndarray::array;

    #[test]
    fn reverses_along_the_axes() {
        let x = Tensor::from(array![[1i32, 2, 3], [4, 5, 6]]);
        let rev = |axes: Vec<i64>| Reverse { axes }.run(&[&x]).unwrap();
        assert_eq!(rev(vec![1]), Tensor::from(array![[3i32, 2, 1], [6, 5, 4]]));
        assert_eq!(rev(vec![-2]), Tensor::from(array![[4i32, 5, 6], [1, 2, 3]]));
        assert_eq!(rev(vec![0, -1]), Tensor::from(array![[6i32, 5, 4], [3, 2, 1]]));
        assert_eq!(rev(vec![]), x);
        let words = Tensor::from(array!["a", "b", "c"].mapv(String::from));
        assert_eq!(
            Reverse { axes: vec![0] }.run(&[&words]).unwrap(),
            Tensor::from(array!["c", "b", "a"].mapv(String::from))
        );
        let empty = Tensor::from_vec::<f32>(vec![0, 2], vec![]).unwrap();
        assert_eq!(Reverse { axes: vec![0, 1] }.run(&[&empty]).unwrap(), empty);
    }

    #[test]
    fn bad_axes_are_refused() {
        let x = Tensor::from(array![[1.0f32, 2.0]]);
        let err = Reverse { axes: vec![1, -1] }.run(&[&x]).unwrap_err();
        assert!(matches!(err, OpError::Invalid { what: "axes", .. }), "{err}");
        let err = Reverse { axes: vec![2] }.run(&[&x]).unwrap_err();
        assert_eq!(err, OpError::Axis { axis: 2, rank: 2 });
        let ty = TensorType::new(DataType::F32, vec![None]);
        assert!(Reverse { axes: vec![-2] }.infer(std::slice::from_ref(&ty)).is_err());
        assert_eq!(Reverse { axes: vec![-1] }.infer(std::slice::from_ref(&ty)).unwrap(), ty);
    }

    #[test]
    fn attributes_round_trip() {
        let op = Reverse { axes: vec![0, -1] };
        let node = Op::from(op.clone()).to_node("r", vec!["x".into()]);
        assert_eq!(Reverse::parse(&node, &Assets::new()).unwrap(), op);
    }

    #[cfg(feature = "grad")]
    #[test]
    fn gradient_matches_finite_differences() {
        use crate::ops::grad::{check_gradient, sample};
        check_gradient(&Reverse { axes: vec![0, 2] }, &[sample(&[3, 4, 2], 0)]);
    }
}
