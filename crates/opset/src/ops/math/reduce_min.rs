//! `ReduceMin`.

use super::reduce::{Reduction, reduction_op};

/// The smallest element of a numeric tensor `x` over `axes` (TensorFlow's
/// `Min`).
///
/// Attributes: `axes` (ints, negative from the end; empty: all) and
/// `keep_dims` (bool, optional: keep the reduced dims as 1). The output has
/// x's dtype; NaN if any element is; the min over no element is the dtype's
/// highest value.
///
/// Gradient: `g` to every element equal to the min of its group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReduceMin {
    /// The axes reduced; empty: all.
    pub axes: Vec<i64>,
    /// Whether the reduced dims stay, as 1.
    pub keep_dims: bool,
}

reduction_op!(ReduceMin, "ReduceMin", Reduction::Min);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{Op, OpDef, OpError, TensorType};
    use crate::{Assets, DataType, Tensor};
    use ndarray::array;

    #[test]
    fn the_smallest() {
        let x = Tensor::from(array![[3i64, -1], [2, 5]]);
        let y = ReduceMin { axes: vec![0], keep_dims: false }.run(&[&x]).unwrap();
        assert_eq!(y, Tensor::from(array![2i64, -1]));
    }

    #[test]
    fn attributes_round_trip() {
        let op = ReduceMin { axes: vec![-2], keep_dims: false };
        let node = Op::from(op.clone()).to_node("m", vec!["x".into()]);
        assert_eq!(ReduceMin::parse(&node, &Assets::new()).unwrap(), op);
    }

    #[test]
    fn the_output_rule_drops_or_keeps_the_axes() {
        let x = TensorType::new(DataType::F32, vec![None, Some(3), Some(4)]);
        let keep = ReduceMin { axes: vec![1], keep_dims: true }.infer(std::slice::from_ref(&x)).unwrap();
        assert_eq!(keep.dims(), &[None, Some(1), Some(4)]);
        let drop = ReduceMin { axes: vec![-1, 0], keep_dims: false }.infer(std::slice::from_ref(&x)).unwrap();
        assert_eq!(drop.dims(), &[Some(3)]);
        let err = ReduceMin { axes: vec![-4], keep_dims: false }.infer(&[x]).unwrap_err();
        assert_eq!(err, OpError::Axis { axis: -4, rank: 3 });
    }

    #[cfg(feature = "grad")]
    #[test]
    fn gradient_matches_finite_differences() {
        use crate::ops::grad::{check_gradient, sample};
        check_gradient(&ReduceMin { axes: vec![0, 2], keep_dims: true }, &[sample(&[3, 2, 4], 5)]);
    }
}
