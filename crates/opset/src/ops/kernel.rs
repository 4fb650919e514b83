//! What reference kernels share: dispatch on dtype, typed element access,
//! NumPy broadcasting on concrete shapes, and the checks that keep a hostile
//! artifact from making a kernel allocate without bound.

use super::array::slicing::row_major_strides;
use super::{MAX_ELEMENTS, OpError, rule};
use crate::tensor::Element;
use crate::{DataType, Tensor};

/// Dispatches `$body` with `$t` bound to the Rust type of a numeric `$dtype`.
macro_rules! numeric {
    ($dtype:expr, $t:ident => $body:expr) => {
        match $dtype {
            $crate::DataType::F32 => {
                type $t = f32;
                $body
            }
            $crate::DataType::I64 => {
                type $t = i64;
                $body
            }
            $crate::DataType::I32 => {
                type $t = i32;
                $body
            }
            other => Err($crate::ops::OpError::Dtype { input: 0, expected: "a numeric dtype", got: other }),
        }
    };
}
pub(crate) use numeric;

/// Dispatches `$body` with `$t` bound to the Rust type of any `$dtype`.
macro_rules! any_dtype {
    ($dtype:expr, $t:ident => $body:expr) => {
        match $dtype {
            $crate::DataType::Bool => {
                type $t = bool;
                $body
            }
            $crate::DataType::String => {
                type $t = $crate::Bytes;
                $body
            }
            other => $crate::ops::kernel::numeric!(other, $t => $body),
        }
    };
}
pub(crate) use any_dtype;

/// The elements of `t` as `T`.
///
/// # Errors
/// [`OpError::Tensor`] if `t` holds another dtype.
pub fn slice<T: Element>(t: &Tensor) -> Result<&[T], OpError> {
    Ok(t.as_slice::<T>()?)
}

/// A new tensor of `shape` holding `data`.
///
/// # Errors
/// [`OpError::Tensor`] if the element count does not match the shape.
pub fn tensor<T: Element>(shape: &[usize], data: Vec<T>) -> Result<Tensor, OpError> {
    Ok(Tensor::from_vec(shape.to_vec(), data)?)
}

/// Copies `x`'s elements into `out` with a new shape of the same size.
///
/// # Errors
/// [`OpError::Shape`] if the sizes differ.
pub fn copy(x: &Tensor, shape: &[usize], out: &mut Tensor) -> Result<(), OpError> {
    if shape.iter().product::<usize>() != x.len() {
        return Err(OpError::shape(format!("cannot give {} elements the shape {shape:?}", x.len())));
    }
    any_dtype!(x.dtype(), T => {
        out.output_vec::<T>(shape).extend_from_slice(slice::<T>(x)?);
        Ok(())
    })
}

/// The element count of an output about to be allocated, refused past
/// [`MAX_ELEMENTS`].
///
/// # Errors
/// [`OpError::TooLarge`].
pub fn checked_len(shape: &[usize]) -> Result<usize, OpError> {
    match crate::shape::volume(shape) {
        Some(_) => Ok(if shape.contains(&0) { 0 } else { shape.iter().product() }),
        None => Err(OpError::TooLarge { shape: shape.to_vec(), limit: MAX_ELEMENTS }),
    }
}

/// Splits `shape` around `axis` into (outer, len, inner) element counts.
pub fn around(shape: &[usize], axis: usize) -> (usize, usize, usize) {
    (shape[..axis].iter().product(), shape[axis], shape[axis + 1..].iter().product())
}

/// Reads i32 or i64 indices as i64.
///
/// # Errors
/// [`OpError::Dtype`] for another dtype (the indices are input `input`).
pub fn indices(t: &Tensor, input: usize) -> Result<Vec<i64>, OpError> {
    match t.dtype() {
        DataType::I64 => Ok(slice::<i64>(t)?.to_vec()),
        DataType::I32 => Ok(slice::<i32>(t)?.iter().map(|&i| i64::from(i)).collect()),
        got => Err(OpError::Dtype { input, expected: "i32 or i64", got }),
    }
}

/// The broadcast shape of two concrete shapes.
///
/// # Errors
/// [`OpError::Broadcast`] if they disagree.
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> Result<Vec<usize>, OpError> {
    let wrap = |s: &[usize]| s.iter().map(|&d| Some(d)).collect::<Vec<_>>();
    rule::broadcast_dims(&wrap(a), &wrap(b))
        .and_then(|d| d.into_iter().collect())
        .ok_or_else(|| OpError::Broadcast { shapes: format!("{a:?} and {b:?}") })
}

/// `f` applied elementwise to `a` and `b` broadcast together, into `out`:
/// the one broadcasting loop of arithmetic, comparisons and logic.
///
/// # Errors
/// [`OpError::Broadcast`], or [`OpError::Tensor`] for an input not of `T`.
pub fn broadcast_zip<T: Element, U: Element>(
    a: &Tensor,
    b: &Tensor,
    f: impl Fn(&T, &T) -> U,
    out: &mut Tensor,
) -> Result<(), OpError> {
    let (av, bv) = (slice::<T>(a)?, slice::<T>(b)?);
    // The common cases first, without computing a broadcast shape.
    if a.shape() == b.shape() {
        out.output_vec::<U>(a.shape()).extend(av.iter().zip(bv).map(|(x, y)| f(x, y)));
        return Ok(());
    }
    if bv.len() == 1 && a.shape().len() >= b.shape().len() {
        out.output_vec::<U>(a.shape()).extend(av.iter().map(|x| f(x, &bv[0])));
        return Ok(());
    }
    if av.len() == 1 && b.shape().len() >= a.shape().len() {
        out.output_vec::<U>(b.shape()).extend(bv.iter().map(|y| f(&av[0], y)));
        return Ok(());
    }
    let shape = broadcast_shape(a.shape(), b.shape())?;
    checked_len(&shape)?;
    let dst = out.output_vec::<U>(&shape);
    for_each_broadcast_row(&shape, [a.shape(), b.shape()], |[oa, ob], [sa, sb], n| {
        dst.extend((0..n).map(|j| f(&av[oa + j * sa], &bv[ob + j * sb])));
    });
    Ok(())
}

/// Walks the output of `shape`, which `inputs` broadcast to (NumPy rules,
/// already checked), one row (its last dim) at a time, in order: `row`
/// gets each input's offset of the row's first element, each input's step
/// along the row (1, or 0 where the input is broadcast along it) and the
/// row's length. The one broadcasting walk of the elementwise kernels.
pub fn for_each_broadcast_row<const N: usize>(
    shape: &[usize],
    inputs: [&[usize]; N],
    mut row: impl FnMut([usize; N], [usize; N], usize),
) {
    if shape.contains(&0) {
        return;
    }
    let rank = shape.len();
    // Each input's stride along each output dim: 0 where it is broadcast.
    let strides: [Vec<usize>; N] = inputs.map(|dims| {
        let own = row_major_strides(dims);
        (0..rank)
            .map(|d| match (d + dims.len()).checked_sub(rank) {
                Some(i) if dims[i] != 1 => own[i],
                _ => 0,
            })
            .collect()
    });
    let Some(last) = rank.checked_sub(1) else {
        row([0; N], [0; N], 1);
        return;
    };
    let steps = std::array::from_fn(|i| strides[i][last]);
    let mut offsets = [0usize; N];
    let mut index = vec![0usize; last];
    loop {
        row(offsets, steps, shape[last]);
        let mut d = last;
        loop {
            let Some(prev) = d.checked_sub(1) else { return };
            d = prev;
            index[d] += 1;
            if index[d] < shape[d] {
                offsets.iter_mut().zip(&strides).for_each(|(o, s)| *o += s[d]);
                break;
            }
            offsets.iter_mut().zip(&strides).for_each(|(o, s)| *o -= s[d] * (shape[d] - 1));
            index[d] = 0;
        }
    }
}

/// Arithmetic element types: `f32`, `i64`, `i32`.
pub trait Num:
    Element
    + Copy
    + PartialOrd
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
    + std::ops::AddAssign
{
    /// Zero.
    const ZERO: Self;
    /// The lowest value (for f32, the lowest finite one).
    const LOWEST: Self;
    /// The highest value (for f32, the highest finite one).
    const HIGHEST: Self;
    /// Whether this is a floating-point type.
    const IS_FLOAT: bool;
    /// `v` converted as Rust's `as` does.
    fn from_i64(v: i64) -> Self;
    /// `v` converted as Rust's `as` does (float to int truncates toward zero).
    fn from_f64(v: f64) -> Self;
    /// `self` as an i64.
    fn to_i64(self) -> i64;
    /// `self` as an f64.
    fn to_f64(self) -> f64;
    /// `self + other`, integers wrapping around on overflow (as TensorFlow's
    /// kernels do) rather than panicking.
    fn add(self, other: Self) -> Self;
    /// `self - other`, integers wrapping around on overflow.
    fn sub(self, other: Self) -> Self;
    /// `self * other`, integers wrapping around on overflow.
    fn mul(self, other: Self) -> Self;
}

macro_rules! num {
    ($t:ty, $zero:expr, $float:expr, $add:path, $sub:path, $mul:path) => {
        impl Num for $t {
            const ZERO: Self = $zero;
            const LOWEST: Self = <$t>::MIN;
            const HIGHEST: Self = <$t>::MAX;
            const IS_FLOAT: bool = $float;
            fn from_i64(v: i64) -> Self {
                v as $t
            }
            fn from_f64(v: f64) -> Self {
                v as $t
            }
            fn to_i64(self) -> i64 {
                self as i64
            }
            fn to_f64(self) -> f64 {
                self as f64
            }
            fn add(self, other: Self) -> Self {
                $add(self, other)
            }
            fn sub(self, other: Self) -> Self {
                $sub(self, other)
            }
            fn mul(self, other: Self) -> Self {
                $mul(self, other)
            }
        }
    };
}

num!(f32, 0.0, true, std::ops::Add::add, std::ops::Sub::sub, std::ops::Mul::mul);
num!(i64, 0, false, i64::wrapping_add, i64::wrapping_sub, i64::wrapping_mul);
num!(i32, 0, false, i32::wrapping_add, i32::wrapping_sub, i32::wrapping_mul);

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::IxDyn;

    #[test]
    fn broadcasting_matches_ndarray() {
        let shapes: [(&[usize], &[usize]); 6] = [
            (&[2, 3, 4], &[4]),
            (&[2, 1, 4], &[3, 1]),
            (&[1, 3, 1], &[2, 1, 5]),
            (&[3, 1], &[1]),
            (&[], &[2, 2]),
            (&[2, 0], &[1]),
        ];
        for (sa, sb) in shapes {
            let count = |s: &[usize]| s.iter().product::<usize>();
            let a = Tensor::from_vec(sa.to_vec(), (0..count(sa)).map(|v| v as i64 * 10).collect()).unwrap();
            let b = Tensor::from_vec(sb.to_vec(), (0..count(sb)).map(|v| v as i64).collect()).unwrap();
            let mut out = Tensor::empty(DataType::I64);
            broadcast_zip::<i64, i64>(&a, &b, |x, y| x + y, &mut out).unwrap();
            let shape = broadcast_shape(sa, sb).unwrap();
            let (va, vb) = (a.view::<i64>().unwrap(), b.view::<i64>().unwrap());
            let want = &va.broadcast(IxDyn(&shape)).unwrap() + &vb.broadcast(IxDyn(&shape)).unwrap();
            assert_eq!(out.shape(), want.shape(), "{sa:?} {sb:?}");
            assert_eq!(out.as_slice::<i64>().unwrap(), want.iter().copied().collect::<Vec<_>>(), "{sa:?} {sb:?}");
        }
    }
}
