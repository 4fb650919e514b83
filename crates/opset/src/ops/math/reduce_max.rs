//! `ReduceMax`.

use super::reduce::{Reduction, reduction_op};

/// The largest element of a numeric tensor `x` over `axes` (TensorFlow's
/// `Max`).
///
/// Attributes: `axes` (ints, negative from the end; empty: all) and
/// `keep_dims` (bool, optional: keep the reduced dims as 1). The output has
/// x's dtype; NaN if any element is; the max over no element is the dtype's
/// lowest value.
///
/// Gradient: `g` to every element equal to the max of its group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReduceMax {
    /// The axes reduced; empty: all.
    pub axes: Vec<i64>,
    /// Whether the reduced dims stay, as 1.
    pub keep_dims: bool,
}

reduction_op!(ReduceMax, "ReduceMax", Reduction::Max);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{Op, OpDef, OpError};
    use crate::{Assets, Tensor};
    use ndarray::{Array2, array};

    #[test]
    fn the_largest_nan_first() {
        let x = Tensor::from(array![[1.0f32, 3.0], [f32::NAN, 0.0]]);
        let y = ReduceMax { axes: vec![1], keep_dims: false }.run(&[&x]).unwrap();
        let y = y.as_slice::<f32>().unwrap();
        assert_eq!(y[0], 3.0);
        assert!(y[1].is_nan());
        let empty = Tensor::from(Array2::<i32>::zeros((1, 0)));
        let lowest = ReduceMax { axes: vec![1], keep_dims: false }.run(&[&empty]).unwrap();
        assert_eq!(lowest, Tensor::from(array![i32::MIN]));
    }

    #[test]
    fn attributes_round_trip() {
        let op = ReduceMax { axes: vec![], keep_dims: true };
        let node = Op::from(op.clone()).to_node("m", vec!["x".into()]);
        assert_eq!(ReduceMax::parse(&node, &Assets::new()).unwrap(), op);
    }

    #[test]
    fn strings_are_refused() {
        let err = ReduceMax::default().run(&[&Tensor::from(array!["a".to_owned()])]).unwrap_err();
        assert!(matches!(err, OpError::Dtype { input: 0, .. }), "{err}");
    }

    #[cfg(feature = "grad")]
    #[test]
    fn gradient_matches_finite_differences() {
        use crate::ops::grad::{check_gradient, sample};
        check_gradient(&ReduceMax { axes: vec![1], keep_dims: false }, &[sample(&[2, 5, 3], 0)]);
    }
}
