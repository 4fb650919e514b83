//! Shapes whose dimensions may be unknown until run time.

use std::fmt;

use crate::{Error, Result};

/// A tensor shape as a signature or a graph declares it: each dimension is
/// known (`Some(n)`) or unknown (`None`, written `-1` on disk and `?` in
/// messages), like the batch dimension of a placeholder.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Shape(pub Vec<Option<usize>>);

impl Shape {
    /// A fully known shape.
    pub fn known(dims: &[usize]) -> Shape {
        Shape(dims.iter().map(|&d| Some(d)).collect())
    }

    /// The shape of a scalar.
    pub fn scalar() -> Shape {
        Shape(Vec::new())
    }

    /// Reads dims as written on disk, where `-1` marks an unknown dimension.
    ///
    /// # Errors
    /// A dimension below `-1` is an [`Error::Shape`] naming `what`.
    pub fn from_dims(dims: &[i64], what: &str) -> Result<Shape> {
        dims.iter()
            .map(|&d| match d {
                -1 => Ok(None),
                d if d >= 0 => usize::try_from(d).map(Some).map_err(|_| bad_dim(what, d)),
                d => Err(bad_dim(what, d)),
            })
            .collect::<Result<_>>()
            .map(Shape)
    }

    /// The dims as written on disk: `-1` for unknown.
    pub fn to_dims(&self) -> Vec<i64> {
        self.0.iter().map(|d| d.map_or(-1, |d| i64::try_from(d).unwrap_or(i64::MAX))).collect()
    }

    /// The number of dimensions.
    pub fn rank(&self) -> usize {
        self.0.len()
    }

    /// The dims if all are known.
    pub fn as_known(&self) -> Option<Vec<usize>> {
        self.0.iter().copied().collect()
    }

    /// Whether a concrete shape fits this one (same rank, known dims equal).
    #[inline]
    pub fn accepts(&self, dims: &[usize]) -> bool {
        self.0.len() == dims.len() && self.0.iter().zip(dims).all(|(s, &d)| s.is_none_or(|s| s == d))
    }

    /// Whether two declared shapes could describe the same tensor.
    pub fn compatible(&self, other: &Shape) -> bool {
        self.0.len() == other.0.len()
            && self.0.iter().zip(&other.0).all(|(a, b)| match (a, b) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            })
    }
}

fn bad_dim(what: &str, d: i64) -> Error {
    Error::Shape { what: what.to_owned(), reason: format!("dimension {d} is neither -1 (unknown) nor a size") }
}

/// The number of elements of a concrete shape, or an error if it is past
/// the limits every tensor keeps: rank at most [`crate::ops::MAX_RANK`],
/// and the product of its dims, a 0 counted as 1, at most
/// [`crate::ops::MAX_ELEMENTS`] (so that no kernel can compute an
/// overflowing or absurd size from it, even for an empty tensor such as
/// `[2^40, 0]`).
///
/// # Errors
/// [`Error::Shape`] naming `what` when the shape is past those limits.
pub fn element_count(dims: &[usize], what: &str) -> Result<usize> {
    match volume(dims) {
        Some(_) => Ok(if dims.contains(&0) { 0 } else { dims.iter().product() }),
        None => Err(Error::Shape {
            what: what.to_owned(),
            reason: format!("shape {dims:?} has more elements than memory can address"),
        }),
    }
}

/// The product of `dims` with each 0 counted as 1, if the rank is at most
/// [`crate::ops::MAX_RANK`] and the product at most
/// [`crate::ops::MAX_ELEMENTS`]: the bound every tensor and every declared
/// shape keeps.
pub fn volume(dims: &[usize]) -> Option<usize> {
    if dims.len() > crate::ops::MAX_RANK {
        return None;
    }
    dims.iter().try_fold(1usize, |n, &d| n.checked_mul(d.max(1))).filter(|&n| n <= crate::ops::MAX_ELEMENTS)
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            match d {
                Some(d) => write!(f, "{d}")?,
                None => f.write_str("?")?,
            }
        }
        f.write_str("]")
    }
}

impl From<&[usize]> for Shape {
    fn from(dims: &[usize]) -> Shape {
        Shape::known(dims)
    }
}
