//! `Mul`.

use super::{BinaryFn, binary_op};
use crate::ops::kernel::Num;
#[cfg(feature = "grad")]
use crate::{
    Tensor,
    ops::{OpDef, OpError},
};

/// `a * b`, elementwise over two numeric tensors of one dtype (f32, i64 or
/// i32), broadcasting (TensorFlow's `Mul`).
///
/// Gradient: `g * b` to `a` and `g * a` to `b`, each summed over the dims it
/// was broadcast along.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Mul;

impl BinaryFn for Mul {
    const NAME: &'static str = "Mul";
    const SINCE: u32 = 1;

    fn apply<T: Num>(a: T, b: T) -> T {
        Num::mul(a, b)
    }

    #[cfg(feature = "grad")]
    fn grad(a: &Tensor, b: &Tensor, _y: &Tensor, g: &Tensor) -> Result<(Tensor, Tensor), OpError> {
        Ok((Mul.run(&[g, b])?, Mul.run(&[g, a])?))
    }
}

binary_op!(Mul);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tensor;
    use crate::ops::OpDef;
    use ndarray::array;

    #[test]
    fn scales_by_a_scalar() {
        let y = Mul.run(&[&Tensor::scalar(3i64), &Tensor::from(array![[1i64, -2], [0, 4]])]).unwrap();
        assert_eq!(y.shape(), &[2, 2]);
        assert_eq!(y.as_slice::<i64>().unwrap(), &[3, -6, 0, 12]);
    }

    #[test]
    fn shapes_that_do_not_broadcast_are_refused() {
        let err = Mul.run(&[&Tensor::from(array![1.0f32, 2.0]), &Tensor::from(array![1.0f32, 2.0, 3.0])]).unwrap_err();
        assert!(matches!(err, crate::ops::OpError::Broadcast { .. }), "{err}");
    }
}

#[cfg(all(test, feature = "grad"))]
mod grad_tests {
    use super::*;
    use crate::Tensor;
    use crate::ops::OpDef;
    use ndarray::array;

    #[test]
    fn gives_each_input_g_times_the_other() {
        let (a, b) = (Tensor::from(array![[1.0f32, 2.0], [3.0, 4.0]]), Tensor::scalar(10.0f32));
        let y = Mul.run(&[&a, &b]).unwrap();
        let g = Tensor::from(array![[1.0f32, 0.5], [-1.0, 2.0]]);
        let d = Mul.grad(&[&a, &b], &y, &g).unwrap();
        assert_eq!(d[0].as_ref().unwrap(), &Tensor::from(array![[10.0f32, 5.0], [-10.0, 20.0]]));
        // 1*1 + 0.5*2 - 1*3 + 2*4, summed to the scalar b.
        assert_eq!(d[1].as_ref().unwrap(), &Tensor::scalar(7.0f32));
    }
}
