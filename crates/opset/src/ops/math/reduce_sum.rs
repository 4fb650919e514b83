//! `ReduceSum`.

use super::reduce::{Reduction, reduction_op};

/// The sum of a numeric tensor `x` over `axes` (TensorFlow's `Sum`).
///
/// Attributes: `axes` (ints, negative from the end; empty: all) and
/// `keep_dims` (bool, optional: keep the reduced dims as 1). The output has
/// x's dtype; a sum over no element is 0.
///
/// Gradient: `g` spread back over the reduced dims.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReduceSum {
    /// The axes summed over; empty: all.
    pub axes: Vec<i64>,
    /// Whether the reduced dims stay, as 1.
    pub keep_dims: bool,
}

reduction_op!(ReduceSum, "ReduceSum", Reduction::Sum);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{Op, OpDef, OpError};
    use crate::{Assets, Tensor};
    use ndarray::array;

    #[test]
    fn sums_over_axes() {
        let x = Tensor::from(array![[1i64, 2, 3], [4, 5, 6]]);
        let rows = ReduceSum { axes: vec![-1], keep_dims: false }.run(&[&x]).unwrap();
        assert_eq!(rows, Tensor::from(array![6i64, 15]));
        let all = ReduceSum { axes: vec![], keep_dims: true }.run(&[&x]).unwrap();
        assert_eq!(all, Tensor::from(array![[21i64]]));
    }

    #[test]
    fn attributes_round_trip() {
        let op = ReduceSum { axes: vec![0, -1], keep_dims: true };
        let node = Op::from(op.clone()).to_node("s", vec!["x".into()]);
        assert_eq!(ReduceSum::parse(&node, &Assets::new()).unwrap(), op);
    }

    #[test]
    fn an_axis_out_of_range_is_refused() {
        let err = ReduceSum { axes: vec![2], keep_dims: false }.run(&[&Tensor::from(array![[1.0f32]])]).unwrap_err();
        assert_eq!(err, OpError::Axis { axis: 2, rank: 2 });
    }

    #[cfg(feature = "grad")]
    #[test]
    fn gradient_matches_finite_differences() {
        use crate::ops::grad::{check_gradient, sample};
        check_gradient(&ReduceSum { axes: vec![1], keep_dims: false }, &[sample(&[2, 3, 4], 0)]);
        check_gradient(&ReduceSum { axes: vec![0, 2], keep_dims: true }, &[sample(&[2, 3, 4], 1)]);
    }
}
