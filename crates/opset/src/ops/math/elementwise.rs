//! What the elementwise families share: an op of the unary family (`Relu`,
//! `Exp`...) defines its function and derivative ([`UnaryFn`]), one of the
//! binary arithmetic family (`Add`, `Div`...) its operation and gradient
//! ([`BinaryFn`]), one of the comparisons (`Less`...) its order test
//! ([`CompareFn`]); `unary_op!`, `binary_op!` and `compare_op!` make each an
//! [`OpDef`](crate::ops::OpDef) with the family's attributes (none), output
//! rule and kernel.

use crate::Tensor;
use crate::ops::OpError;
use crate::ops::kernel::{Num, any_dtype, broadcast_zip, numeric, slice};
use crate::ops::rule::{self, TensorType};

/// An elementwise f32 function: what one op of the unary family defines.
pub trait UnaryFn {
    /// The op's name in the artifact.
    const NAME: &'static str;
    /// The op-set version it entered.
    const SINCE: u32;
    /// The function of one element.
    fn apply(x: f32) -> f32;
    /// The loss's gradient with respect to `x`, from its gradient `g` with
    /// respect to the output `y = apply(x)`.
    fn grad(g: f32, x: f32, y: f32) -> f32;
}

/// Elementwise arithmetic of two tensors broadcast together: what one op
/// of the binary family defines.
pub trait BinaryFn {
    /// The op's name in the artifact.
    const NAME: &'static str;
    /// The op-set version it entered.
    const SINCE: u32;
    /// The operation on two elements.
    fn apply<T: Num>(a: T, b: T) -> T;
    /// Refuses inputs the operation cannot take (integer division by zero).
    ///
    /// # Errors
    /// [`OpError`] saying why.
    fn check<T: Num>(_b: &[T]) -> Result<(), OpError> {
        Ok(())
    }
    /// The loss's gradients with respect to `a` and `b` (before undoing the
    /// broadcast), from its gradient `g` with respect to the output `y`.
    ///
    /// # Errors
    /// [`OpError`] from the kernels it runs.
    #[cfg(feature = "grad")]
    fn grad(a: &Tensor, b: &Tensor, y: &Tensor, g: &Tensor) -> Result<(Tensor, Tensor), OpError>;
}

/// An order comparison of two numeric tensors broadcast together, as bools
/// (false where either element is NaN): what one comparison op defines.
pub trait CompareFn {
    /// The op's name in the artifact.
    const NAME: &'static str;
    /// The op-set version it entered.
    const SINCE: u32;
    /// The comparison of two elements.
    fn apply<T: PartialOrd>(a: &T, b: &T) -> bool;
}

/// The unary family's output rule: an f32 tensor of the input's shape.
pub(crate) fn unary_infer(inputs: &[TensorType]) -> Result<TensorType, OpError> {
    rule::expect_dtype(inputs, 0, crate::DataType::F32)?;
    Ok(inputs[0].clone())
}

/// The unary family's kernel.
pub(crate) fn unary_eval<F: UnaryFn>(x: &Tensor, out: &mut Tensor) -> Result<(), OpError> {
    let src = slice::<f32>(x)?;
    out.output_vec::<f32>(x.shape()).extend(src.iter().map(|&v| F::apply(v)));
    Ok(())
}

/// The binary family's output rule: two numeric tensors of one dtype,
/// broadcast together.
pub(crate) fn binary_infer(inputs: &[TensorType]) -> Result<TensorType, OpError> {
    rule::same_numeric(inputs)?;
    Ok(TensorType::new(inputs[0].dtype, rule::broadcast_types(inputs)?))
}

/// The binary family's kernel.
pub(crate) fn binary_eval<F: BinaryFn>(a: &Tensor, b: &Tensor, out: &mut Tensor) -> Result<(), OpError> {
    numeric!(a.dtype(), T => {
        F::check::<T>(slice::<T>(b)?)?;
        broadcast_zip::<T, T>(a, b, |&x, &y| F::apply(x, y), out)
    })
}

/// The comparisons' output rule: bools of two numeric tensors of one dtype
/// broadcast together.
pub(crate) fn compare_infer(inputs: &[TensorType]) -> Result<TensorType, OpError> {
    rule::same_numeric(inputs)?;
    Ok(TensorType::new(crate::DataType::Bool, rule::broadcast_types(inputs)?))
}

/// The comparisons' kernel.
pub(crate) fn compare_eval<F: CompareFn>(a: &Tensor, b: &Tensor, out: &mut Tensor) -> Result<(), OpError> {
    numeric!(a.dtype(), T => broadcast_zip::<T, bool>(a, b, F::apply, out))
}

/// `Equal`'s and `NotEqual`'s kernel: whether each pair of elements of `a`
/// and `b` (one dtype, any), broadcast together, is equal (`equal: true`) or
/// unequal (`equal: false`). Floats compare as IEEE (NaN is unequal to
/// everything), strings bytewise.
pub(crate) fn equality_eval(a: &Tensor, b: &Tensor, equal: bool, out: &mut Tensor) -> Result<(), OpError> {
    any_dtype!(a.dtype(), T => broadcast_zip::<T, bool>(a, b, |x, y| (x == y) == equal, out))
}

/// `LogicalAnd`'s and `LogicalOr`'s output rule: bools of two bool tensors
/// broadcast together.
pub(crate) fn logical_infer(inputs: &[TensorType]) -> Result<TensorType, OpError> {
    rule::expect_dtype(inputs, 0, crate::DataType::Bool)?;
    rule::expect_dtype(inputs, 1, crate::DataType::Bool)?;
    Ok(TensorType::new(crate::DataType::Bool, rule::broadcast_types(inputs)?))
}

/// `Maximum`'s and `Minimum`'s gradients (before undoing the broadcast):
/// `g` to `a` where the output `y` is `a`'s element (ties included), to `b`
/// elsewhere (where `b` was chosen, or either input is NaN).
///
/// # Errors
/// [`OpError`] from the kernels it runs.
#[cfg(feature = "grad")]
pub(crate) fn chosen_grad(a: &Tensor, y: &Tensor, g: &Tensor) -> Result<(Tensor, Tensor), OpError> {
    use super::{Equal, Mul, Sub};
    use crate::ops::OpDef;
    use crate::ops::array::Cast;
    let chose_a = Cast { to: crate::DataType::F32 }.run(&[&Equal.run(&[y, a])?])?;
    let da = Mul.run(&[g, &chose_a])?;
    let db = Sub.run(&[g, &da])?;
    Ok((da, db))
}

/// The `parse` and `attrs` of an op without attributes (a unit struct).
macro_rules! attributeless {
    ($t:ident) => {
        fn parse(_: &$crate::Node, _: &$crate::Assets) -> $crate::Result<$t> {
            Ok($t)
        }

        fn attrs(&self) -> Vec<(&'static str, $crate::Attr)> {
            Vec::new()
        }
    };
}
pub(crate) use attributeless;

/// Makes a [`UnaryFn`] an op: no attributes, f32 in and out.
macro_rules! unary_op {
    ($t:ident) => {
        impl $crate::ops::OpDef for $t {
            const NAME: &'static str = <$t as $crate::ops::math::UnaryFn>::NAME;
            const SINCE: u32 = <$t as $crate::ops::math::UnaryFn>::SINCE;
            const INPUTS: $crate::ops::Arity = $crate::ops::Arity::Exactly(1);

            $crate::ops::math::elementwise::attributeless!($t);

            fn infer(
                &self,
                inputs: &[$crate::ops::TensorType],
            ) -> Result<$crate::ops::TensorType, $crate::ops::OpError> {
                $crate::ops::math::elementwise::unary_infer(inputs)
            }

            fn eval(&self, inputs: &[&$crate::Tensor], out: &mut $crate::Tensor) -> Result<(), $crate::ops::OpError> {
                $crate::ops::math::elementwise::unary_eval::<$t>(inputs[0], out)
            }

            #[cfg(feature = "grad")]
            fn grad(&self, x: &[&$crate::Tensor], y: &$crate::Tensor, g: &$crate::Tensor) -> $crate::ops::grad::Grads {
                let d = $crate::ops::grad::pointwise(g, x[0], y, <$t as $crate::ops::math::UnaryFn>::grad)?;
                Ok(vec![Some(d)])
            }
        }
    };
}
pub(crate) use unary_op;

/// Makes a [`BinaryFn`] an op: no attributes, numeric, broadcasting.
macro_rules! binary_op {
    ($t:ident) => {
        impl $crate::ops::OpDef for $t {
            const NAME: &'static str = <$t as $crate::ops::math::BinaryFn>::NAME;
            const SINCE: u32 = <$t as $crate::ops::math::BinaryFn>::SINCE;
            const INPUTS: $crate::ops::Arity = $crate::ops::Arity::Exactly(2);

            $crate::ops::math::elementwise::attributeless!($t);

            fn infer(
                &self,
                inputs: &[$crate::ops::TensorType],
            ) -> Result<$crate::ops::TensorType, $crate::ops::OpError> {
                $crate::ops::math::elementwise::binary_infer(inputs)
            }

            fn eval(&self, inputs: &[&$crate::Tensor], out: &mut $crate::Tensor) -> Result<(), $crate::ops::OpError> {
                $crate::ops::math::elementwise::binary_eval::<$t>(inputs[0], inputs[1], out)
            }

            #[cfg(feature = "grad")]
            fn grad(&self, x: &[&$crate::Tensor], y: &$crate::Tensor, g: &$crate::Tensor) -> $crate::ops::grad::Grads {
                use $crate::ops::grad::unbroadcast;
                let (da, db) = <$t as $crate::ops::math::BinaryFn>::grad(x[0], x[1], y, g)?;
                Ok(vec![Some(unbroadcast(da, x[0].shape())?), Some(unbroadcast(db, x[1].shape())?)])
            }
        }
    };
}
pub(crate) use binary_op;

/// Makes a [`CompareFn`] an op: no attributes, numeric in, bools out, no
/// gradient to either input.
macro_rules! compare_op {
    ($t:ident) => {
        impl $crate::ops::OpDef for $t {
            const NAME: &'static str = <$t as $crate::ops::math::CompareFn>::NAME;
            const SINCE: u32 = <$t as $crate::ops::math::CompareFn>::SINCE;
            const INPUTS: $crate::ops::Arity = $crate::ops::Arity::Exactly(2);

            $crate::ops::math::elementwise::attributeless!($t);

            fn infer(
                &self,
                inputs: &[$crate::ops::TensorType],
            ) -> Result<$crate::ops::TensorType, $crate::ops::OpError> {
                $crate::ops::math::elementwise::compare_infer(inputs)
            }

            fn eval(&self, inputs: &[&$crate::Tensor], out: &mut $crate::Tensor) -> Result<(), $crate::ops::OpError> {
                $crate::ops::math::elementwise::compare_eval::<$t>(inputs[0], inputs[1], out)
            }

            #[cfg(feature = "grad")]
            fn grad(&self, _: &[&$crate::Tensor], _: &$crate::Tensor, _: &$crate::Tensor) -> $crate::ops::grad::Grads {
                Ok(vec![None, None])
            }
        }
    };
}
pub(crate) use compare_op;

/// What the elementwise ops' tests share.
#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::DataType;
    use crate::ops::math::{Add, Less, Relu};
    use crate::ops::{OpDef, TensorType};

    /// Asserts that `F::grad` is the derivative of `F::apply` at each of
    /// `points`: it must match a central finite difference (scaled by an
    /// upstream gradient other than 1, so that the scaling is checked too).
    pub(crate) fn assert_grad_is_derivative<F: UnaryFn>(points: &[f32]) {
        const H: f32 = 1e-3;
        const G: f32 = 0.75;
        for &x in points {
            let difference = G * (F::apply(x + H) - F::apply(x - H)) / (2.0 * H);
            let grad = F::grad(G, x, F::apply(x));
            assert!(
                (grad - difference).abs() <= 1e-3 * (1.0 + difference.abs()),
                "{}: at {x} the gradient is {grad}, the finite difference {difference}",
                F::NAME
            );
        }
    }

    /// Asserts that `got` holds `want` elementwise within 1e-6 (relative
    /// above 1), NaN matching NaN.
    pub(crate) fn assert_close(got: &Tensor, want: &[f32]) {
        let got = got.as_slice::<f32>().unwrap();
        assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
        for (&g, &w) in got.iter().zip(want) {
            let close = (g.is_nan() && w.is_nan()) || g == w || (g - w).abs() <= 1e-6 * w.abs().max(1.0);
            assert!(close, "{got:?} vs {want:?}");
        }
    }

    fn ty(dtype: DataType, dims: &[usize]) -> TensorType {
        TensorType::new(dtype, dims.iter().map(|&d| Some(d)).collect())
    }

    #[test]
    fn the_unary_family_takes_only_f32() {
        let err = Relu.infer(&[ty(DataType::I64, &[2])]).unwrap_err();
        assert_eq!(err.to_string(), "input 0: expected f32, got i64");
    }

    #[test]
    fn the_binary_family_takes_one_numeric_dtype_broadcasting() {
        let err = Add.infer(&[ty(DataType::F32, &[2]), ty(DataType::I32, &[2])]).unwrap_err();
        assert_eq!(err.to_string(), "input 1 is i32, input 0 is f32");
        assert!(matches!(
            Add.infer(&[ty(DataType::F32, &[2]), ty(DataType::F32, &[3])]),
            Err(OpError::Broadcast { .. })
        ));
        assert_eq!(Add.infer(&[ty(DataType::I64, &[2, 1]), ty(DataType::I64, &[3])]), Ok(ty(DataType::I64, &[2, 3])));
    }

    #[test]
    fn comparisons_take_numbers_and_give_bools() {
        let err = Less.infer(&[ty(DataType::String, &[2]), ty(DataType::String, &[2])]).unwrap_err();
        assert_eq!(err.to_string(), "input 0: expected a numeric dtype, got string");
        assert_eq!(Less.infer(&[ty(DataType::I32, &[]), ty(DataType::I32, &[4])]), Ok(ty(DataType::Bool, &[4])));
    }
}
