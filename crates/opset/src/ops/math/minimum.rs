//! `Minimum`.

use super::{BinaryFn, binary_op};
use crate::ops::kernel::Num;
#[cfg(feature = "grad")]
use crate::{Tensor, ops::OpError};

/// `min(a, b)`, elementwise over two numeric tensors of one dtype (f32, i64
/// or i32), broadcasting; NaN where either input is NaN (TensorFlow's
/// `Minimum`).
///
/// Gradient: `g` to the input the output took its element from, `a` on ties
/// (`b` where either is NaN), each summed over the dims it was broadcast
/// along.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Minimum;

impl BinaryFn for Minimum {
    const NAME: &'static str = "Minimum";
    const SINCE: u32 = 1;

    // `a != a` only for NaN: a NaN on either side wins, as in TensorFlow.
    #[allow(clippy::eq_op)]
    fn apply<T: Num>(a: T, b: T) -> T {
        if a <= b || a != a { a } else { b }
    }

    #[cfg(feature = "grad")]
    fn grad(a: &Tensor, _b: &Tensor, y: &Tensor, g: &Tensor) -> Result<(Tensor, Tensor), OpError> {
        super::elementwise::chosen_grad(a, y, g)
    }
}

binary_op!(Minimum);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tensor;
    use crate::ops::OpDef;
    use ndarray::array;

    #[test]
    fn takes_the_smaller_and_propagates_nan() {
        let y = Minimum.run(&[
            &Tensor::from(array![1.0f32, f32::NAN, -2.0, 0.0]),
            &Tensor::from(array![0.0f32, 0.0, 0.0, f32::NAN]),
        ]);
        let y = y.unwrap();
        let y = y.as_slice::<f32>().unwrap();
        assert_eq!((y[0], y[2]), (0.0, -2.0));
        assert!(y[1].is_nan() && y[3].is_nan(), "{y:?}");
        let y = Minimum.run(&[&Tensor::from(array![[3i64], [-5]]), &Tensor::from(array![0i64, 4])]).unwrap();
        assert_eq!(y.as_slice::<i64>().unwrap(), &[0, 3, -5, -5]);
    }
}

#[cfg(all(test, feature = "grad"))]
mod grad_tests {
    use super::*;
    use crate::Tensor;
    use crate::ops::OpDef;
    use ndarray::array;

    #[test]
    fn the_smaller_input_gets_g_and_a_wins_ties() {
        let (a, b) = (Tensor::from(array![1.0f32, 5.0, 2.0]), Tensor::scalar(2.0f32));
        let y = Minimum.run(&[&a, &b]).unwrap();
        let g = Tensor::from(array![10.0f32, 20.0, 30.0]);
        let d = Minimum.grad(&[&a, &b], &y, &g).unwrap();
        assert_eq!(d[0].as_ref().unwrap(), &Tensor::from(array![10.0f32, 0.0, 30.0]));
        assert_eq!(d[1].as_ref().unwrap(), &Tensor::scalar(20.0f32));
    }

    #[test]
    fn where_an_input_is_nan_g_goes_to_b() {
        let (a, b) = (Tensor::from(array![f32::NAN, 1.0]), Tensor::from(array![0.0f32, f32::NAN]));
        let y = Minimum.run(&[&a, &b]).unwrap();
        let g = Tensor::from(array![1.0f32, 1.0]);
        let d = Minimum.grad(&[&a, &b], &y, &g).unwrap();
        assert_eq!(d[0].as_ref().unwrap(), &Tensor::from(array![0.0f32, 0.0]));
        assert_eq!(d[1].as_ref().unwrap(), &Tensor::from(array![1.0f32, 1.0]));
    }
}
