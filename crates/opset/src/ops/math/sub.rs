//! `Sub`.

#[cfg(feature = "grad")]
use super::Neg;
use super::{BinaryFn, binary_op};
use crate::ops::kernel::Num;
#[cfg(feature = "grad")]
use crate::{
    Tensor,
    ops::{OpDef, OpError},
};

/// `a - b`, elementwise over two numeric tensors of one dtype (f32, i64 or
/// i32), broadcasting (TensorFlow's `Sub`).
///
/// Gradient: `g` to `a` and `-g` to `b`, each summed over the dims it was
/// broadcast along.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sub;

impl BinaryFn for Sub {
    const NAME: &'static str = "Sub";
    const SINCE: u32 = 1;

    fn apply<T: Num>(a: T, b: T) -> T {
        Num::sub(a, b)
    }

    #[cfg(feature = "grad")]
    fn grad(_a: &Tensor, _b: &Tensor, _y: &Tensor, g: &Tensor) -> Result<(Tensor, Tensor), OpError> {
        Ok((g.clone(), Neg.run(&[g])?))
    }
}

binary_op!(Sub);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tensor;
    use crate::ops::OpDef;
    use ndarray::array;

    #[test]
    fn subtracts_a_column_from_each_row() {
        let y = Sub.run(&[&Tensor::from(array![[10i32, 20], [30, 40]]), &Tensor::from(array![[1i32], [2]])]).unwrap();
        assert_eq!(y.as_slice::<i32>().unwrap(), &[9, 19, 28, 38]);
    }

    #[test]
    fn mixed_dtypes_are_refused() {
        let err = Sub.run(&[&Tensor::from(array![1.0f32]), &Tensor::from(array![1i64])]).unwrap_err();
        assert!(matches!(err, crate::ops::OpError::Tensor(_)), "{err}");
    }
}

#[cfg(all(test, feature = "grad"))]
mod grad_tests {
    use super::*;
    use crate::Tensor;
    use crate::ops::OpDef;
    use ndarray::array;

    #[test]
    fn gives_g_to_a_and_minus_g_summed_to_b() {
        let (a, b) = (Tensor::from(array![[1.0f32, 2.0], [3.0, 4.0]]), Tensor::from(array![5.0f32, 6.0]));
        let y = Sub.run(&[&a, &b]).unwrap();
        let g = Tensor::from(array![[1.0f32, 2.0], [3.0, 4.0]]);
        let d = Sub.grad(&[&a, &b], &y, &g).unwrap();
        assert_eq!(d[0].as_ref().unwrap(), &g);
        assert_eq!(d[1].as_ref().unwrap(), &Tensor::from(array![-4.0f32, -6.0]));
    }
}
