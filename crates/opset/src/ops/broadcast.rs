//! NumPy broadcasting on concrete shapes, and the numeric element trait.

use crate::tensor::Element;

/// The broadcast shape of two concrete shapes, or a message if they disagree.
pub(crate) fn broadcast_shape(a: &[usize], b: &[usize]) -> Result<Vec<usize>, String> {
    let wrap = |s: &[usize]| s.iter().map(|&d| Some(d)).collect::<Vec<_>>();
    super::infer::broadcast_dims(&wrap(a), &wrap(b))
        .and_then(|d| d.into_iter().collect())
        .ok_or_else(|| format!("shapes {a:?} and {b:?} do not broadcast"))
}

/// Arithmetic element types: `f32`, `i64`, `i32`.
pub(crate) trait Num:
    Element
    + Copy
    + PartialOrd
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
    + std::ops::AddAssign
{
    const ZERO: Self;
    const LOWEST: Self;
    const HIGHEST: Self;
    const IS_FLOAT: bool;
    fn from_i64(v: i64) -> Self;
    fn from_f64(v: f64) -> Self;
    fn to_i64(self) -> i64;
    fn to_f64(self) -> f64;
}

macro_rules! num {
    ($t:ty, $zero:expr, $float:expr) => {
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
        }
    };
}

num!(f32, 0.0, true);
// For f32, MIN/MAX are the finite extremes; max/min reductions start there.
num!(i64, 0, false);
num!(i32, 0, false);
