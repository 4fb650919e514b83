//! `LessEqual`.

use super::{CompareFn, compare_op};

/// `a <= b` as bools, elementwise over two numeric tensors of one dtype (f32,
/// i64 or i32), broadcasting; false where either element is NaN
/// (TensorFlow's `LessEqual`).
///
/// Gradient: none flows (the output is bools).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LessEqual;

impl CompareFn for LessEqual {
    const NAME: &'static str = "LessEqual";
    const SINCE: u32 = 3;

    fn apply<T: PartialOrd>(a: &T, b: &T) -> bool {
        a <= b
    }
}

compare_op!(LessEqual);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tensor;
    use crate::ops::OpDef;
    use ndarray::array;

    #[test]
    fn compares_against_a_broadcast_scalar() {
        let y = LessEqual.run(&[&Tensor::from(array![1.0f32, 2.0, 3.0, f32::NAN]), &Tensor::scalar(2.0f32)]).unwrap();
        assert_eq!(y.as_slice::<bool>().unwrap(), &[true, true, false, false]);
        let y = LessEqual.run(&[&Tensor::from(array![[1i64], [2]]), &Tensor::from(array![2i64, 1])]).unwrap();
        assert_eq!(y.shape(), &[2, 2]);
        assert_eq!(y.as_slice::<bool>().unwrap(), &[true, true, true, false]);
    }

    #[test]
    fn mixed_dtypes_are_refused() {
        assert!(LessEqual.run(&[&Tensor::from(array![1i32]), &Tensor::from(array![1i64])]).is_err());
    }
}
