//! `ReduceMean`.

use super::reduce::{Reduction, reduction_op};

/// The arithmetic mean of a numeric tensor `x` over `axes` (TensorFlow's
/// `Mean`).
///
/// Attributes: `axes` (ints, negative from the end; empty: all) and
/// `keep_dims` (bool, optional: keep the reduced dims as 1). The output has
/// x's dtype: an integer mean truncates toward zero, and an integer mean
/// over no element is refused (a division by zero); a float one is NaN.
///
/// Gradient: `g` divided by the count, spread back over the reduced dims.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReduceMean {
    /// The axes averaged over; empty: all.
    pub axes: Vec<i64>,
    /// Whether the reduced dims stay, as 1.
    pub keep_dims: bool,
}

reduction_op!(ReduceMean, "ReduceMean", Reduction::Mean);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{Op, OpDef, OpError};
    use crate::{Assets, Tensor};
    use ndarray::{Array2, array};

    #[test]
    fn averages_and_truncates_integers() {
        let x = Tensor::from(array![[1.0f32, 2.0], [4.0, 8.0]]);
        assert_eq!(
            ReduceMean { axes: vec![0], keep_dims: false }.run(&[&x]).unwrap(),
            Tensor::from(array![2.5f32, 5.0])
        );
        let ints = Tensor::from(array![[1i32, 2], [-4, -7]]);
        let mean = ReduceMean { axes: vec![1], keep_dims: true }.run(&[&ints]).unwrap();
        assert_eq!(mean, Tensor::from(array![[1i32], [-5]]));
    }

    #[test]
    fn attributes_round_trip() {
        let op = ReduceMean { axes: vec![1], keep_dims: false };
        let node = Op::from(op.clone()).to_node("m", vec!["x".into()]);
        assert_eq!(ReduceMean::parse(&node, &Assets::new()).unwrap(), op);
    }

    #[test]
    fn an_integer_mean_of_nothing_is_refused() {
        let empty = Tensor::from(Array2::<i64>::zeros((2, 0)));
        let err = ReduceMean { axes: vec![1], keep_dims: false }.run(&[&empty]).unwrap_err();
        assert_eq!(err, OpError::DivisionByZero);
    }

    #[cfg(feature = "grad")]
    #[test]
    fn gradient_matches_finite_differences() {
        use crate::ops::grad::{check_gradient, sample};
        check_gradient(&ReduceMean { axes: vec![-1], keep_dims: false }, &[sample(&[3, 4], 0)]);
        check_gradient(&ReduceMean { axes: vec![], keep_dims: true }, &[sample(&[2, 3], 2)]);
    }
}
