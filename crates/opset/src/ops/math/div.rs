//! `Div`.

use super::{BinaryFn, binary_op};
#[cfg(feature = "grad")]
use super::{Mul, Neg};
use crate::ops::OpError;
use crate::ops::kernel::Num;
#[cfg(feature = "grad")]
use crate::{Tensor, ops::OpDef};

/// `a / b`, elementwise over two numeric tensors of one dtype (f32, i64 or
/// i32), broadcasting (TensorFlow's `Div`). Floats divide as IEEE (`x / 0`
/// is ±inf or NaN); integer division truncates toward zero, and an integer
/// `b` holding a zero is refused. The one integer quotient that overflows,
/// the dtype's lowest value divided by -1, wraps to the lowest value.
///
/// Gradient: `g / b` to `a` and `-g * a / b^2` to `b`, each summed over the
/// dims it was broadcast along.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Div;

impl BinaryFn for Div {
    const NAME: &'static str = "Div";
    const SINCE: u32 = 1;

    fn apply<T: Num>(a: T, b: T) -> T {
        // Rust panics on `MIN / -1`; two's complement wraps it to MIN.
        if !T::IS_FLOAT && a == T::LOWEST && b == T::from_i64(-1) { a } else { a / b }
    }

    fn check<T: Num>(b: &[T]) -> Result<(), OpError> {
        if !T::IS_FLOAT && b.contains(&T::ZERO) { Err(OpError::DivisionByZero) } else { Ok(()) }
    }

    #[cfg(feature = "grad")]
    fn grad(a: &Tensor, b: &Tensor, _y: &Tensor, g: &Tensor) -> Result<(Tensor, Tensor), OpError> {
        let ratio = Div.run(&[a, &Mul.run(&[b, b])?])?;
        let db = Neg.run(&[&Mul.run(&[g, &ratio])?])?;
        Ok((Div.run(&[g, b])?, db))
    }
}

binary_op!(Div);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tensor;
    use crate::ops::OpDef;
    use ndarray::array;

    #[test]
    fn integer_division_truncates_toward_zero() {
        let y = Div.run(&[&Tensor::from(array![7i64, -7, 6]), &Tensor::from(array![2i64, 2, -4])]).unwrap();
        assert_eq!(y.as_slice::<i64>().unwrap(), &[3, -3, -1]);
    }

    #[test]
    fn float_division_by_zero_is_ieee() {
        let y = Div.run(&[&Tensor::from(array![1.0f32, -1.0, 0.0, 3.0]), &Tensor::from(array![0.0f32, 0.0, 0.0, 2.0])]);
        let y = y.unwrap();
        let y = y.as_slice::<f32>().unwrap();
        assert_eq!((y[0], y[1], y[3]), (f32::INFINITY, f32::NEG_INFINITY, 1.5));
        assert!(y[2].is_nan());
    }

    #[test]
    fn integer_division_by_zero_is_refused() {
        let err = Div.run(&[&Tensor::from(array![1i32, 2]), &Tensor::from(array![1i32, 0])]).unwrap_err();
        assert_eq!(err, OpError::DivisionByZero);
        assert_eq!(err.to_string(), "integer division by zero");
    }

    #[test]
    fn the_overflowing_quotient_wraps_instead_of_panicking() {
        let y = Div.run(&[&Tensor::from(array![i64::MIN, 8]), &Tensor::scalar(-1i64)]).unwrap();
        assert_eq!(y.as_slice::<i64>().unwrap(), &[i64::MIN, -8]);
        let y = Div.run(&[&Tensor::scalar(i32::MIN), &Tensor::scalar(-1i32)]).unwrap();
        assert_eq!(y.as_slice::<i32>().unwrap(), &[i32::MIN]);
    }
}

#[cfg(all(test, feature = "grad"))]
mod grad_tests {
    use super::*;
    use crate::Tensor;
    use ndarray::array;

    #[test]
    fn gives_g_over_b_to_a_and_minus_g_a_over_b_squared_to_b() {
        let (a, b) = (Tensor::from(array![[3.0f32, 6.0], [-2.0, 1.0]]), Tensor::from(array![2.0f32, -4.0]));
        let y = Div.run(&[&a, &b]).unwrap();
        let g = Tensor::from(array![[1.0f32, 2.0], [4.0, -8.0]]);
        let d = Div.grad(&[&a, &b], &y, &g).unwrap();
        assert_eq!(d[0].as_ref().unwrap(), &Tensor::from(array![[0.5f32, -0.5], [2.0, 2.0]]));
        // Column 0: -(1*3 + 4*-2) / 4 = 1.25; column 1: -(2*6 + -8*1) / 16 = -0.25.
        assert_eq!(d[1].as_ref().unwrap(), &Tensor::from(array![1.25f32, -0.25]));
    }
}
