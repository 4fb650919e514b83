//! `GreaterEqual`.

use super::{CompareFn, compare_op};

/// `a >= b` as bools, elementwise over two numeric tensors of one dtype (f32,
/// i64 or i32), broadcasting; false where either element is NaN
/// (TensorFlow's `GreaterEqual`).
///
/// Gradient: none flows (the output is bools).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GreaterEqual;

impl CompareFn for GreaterEqual {
    const NAME: &'static str = "GreaterEqual";
    const SINCE: u32 = 3;

    fn apply<T: PartialOrd>(a: &T, b: &T) -> bool {
        a >= b
    }
}

compare_op!(GreaterEqual);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tensor;
    use crate::ops::OpDef;
    use ndarray::array;

    #[test]
    fn compares_against_a_broadcast_scalar() {
        let y =
            GreaterEqual.run(&[&Tensor::from(array![1.0f32, 2.0, 3.0, f32::NAN]), &Tensor::scalar(2.0f32)]).unwrap();
        assert_eq!(y.as_slice::<bool>().unwrap(), &[false, true, true, false]);
        let y = GreaterEqual.run(&[&Tensor::from(array![[1i64], [2]]), &Tensor::from(array![2i64, 1])]).unwrap();
        assert_eq!(y.shape(), &[2, 2]);
        assert_eq!(y.as_slice::<bool>().unwrap(), &[false, true, true, true]);
    }

    #[test]
    fn mixed_dtypes_are_refused() {
        assert!(GreaterEqual.run(&[&Tensor::from(array![1i32]), &Tensor::from(array![1i64])]).is_err());
    }
}
