//! What output rules share: the declared type of a graph tensor, and the
//! checks and shape arithmetic that many ops' rules use.

use crate::{DataType, Shape};

use super::{OpError, normalize_axis};

/// The dtype and declared shape of a graph tensor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorType {
    /// The element type.
    pub dtype: DataType,
    /// The shape; unknown dims are `None`.
    pub shape: Shape,
}

impl TensorType {
    /// A tensor of `dtype` with the declared `dims`.
    pub fn new(dtype: DataType, dims: Vec<Option<usize>>) -> TensorType {
        TensorType { dtype, shape: Shape(dims) }
    }

    /// The declared dims.
    pub fn dims(&self) -> &[Option<usize>] {
        &self.shape.0
    }
}

/// Axes of a reduction, normalised; empty means all.
///
/// # Errors
/// [`OpError::Axis`] if an axis is out of range.
pub fn reduce_axes(axes: &[i64], rank: usize) -> Result<Vec<usize>, OpError> {
    if axes.is_empty() {
        return Ok((0..rank).collect());
    }
    let axes: Vec<usize> = axes.iter().map(|&a| normalize_axis(a, rank)).collect::<Result<_, _>>()?;
    let mut seen = vec![false; rank];
    for &a in &axes {
        if std::mem::replace(&mut seen[a], true) {
            return Err(OpError::Invalid { what: "axes", reason: format!("axis {a} appears twice") });
        }
    }
    Ok(axes)
}

/// NumPy broadcasting of two declared shapes; `None` if they cannot agree.
pub fn broadcast_dims(a: &[Option<usize>], b: &[Option<usize>]) -> Option<Vec<Option<usize>>> {
    let rank = a.len().max(b.len());
    let at = |s: &[Option<usize>], i: usize| if i < rank - s.len() { Some(1) } else { s[i - (rank - s.len())] };
    (0..rank)
        .map(|i| match (at(a, i), at(b, i)) {
            (Some(1), d) | (d, Some(1)) => Some(d),
            (Some(x), Some(y)) if x == y => Some(Some(x)),
            (Some(_), Some(_)) => None,
            (Some(x), None) | (None, Some(x)) => Some(Some(x)),
            (None, None) => Some(None),
        })
        .collect()
}

/// The broadcast of the declared shapes of `inputs`, or
/// [`OpError::Broadcast`] naming them.
pub fn broadcast_types(inputs: &[TensorType]) -> Result<Vec<Option<usize>>, OpError> {
    let mut out: Option<Vec<Option<usize>>> = Some(Vec::new());
    for t in inputs {
        out = out.and_then(|o| broadcast_dims(&o, t.dims()));
    }
    out.ok_or_else(|| OpError::Broadcast {
        shapes: inputs.iter().map(|t| t.shape.to_string()).collect::<Vec<_>>().join(" and "),
    })
}

/// The common value of two declared dims, `Some(None)` if both unknown,
/// `None` if they contradict.
pub fn unify(a: Option<usize>, b: Option<usize>) -> Option<Option<usize>> {
    match (a, b) {
        (Some(x), Some(y)) if x != y => None,
        (Some(x), _) | (_, Some(x)) => Some(Some(x)),
        (None, None) => Some(None),
    }
}

/// The element count of fully known `dims`, `None` if a dim is unknown or
/// the count overflows.
pub fn known_count(dims: &[Option<usize>]) -> Option<usize> {
    dims.iter().try_fold(1usize, |n, d| d.and_then(|d| n.checked_mul(d)))
}

/// Input `i` must be of `dtype`.
///
/// # Errors
/// [`OpError::Dtype`].
pub fn expect_dtype(inputs: &[TensorType], i: usize, dtype: DataType) -> Result<(), OpError> {
    if inputs[i].dtype == dtype {
        Ok(())
    } else {
        Err(OpError::Dtype { input: i, expected: dtype.name(), got: inputs[i].dtype })
    }
}

/// Input `i` must be numeric (f32, i64, i32).
///
/// # Errors
/// [`OpError::Dtype`].
pub fn numeric(inputs: &[TensorType], i: usize) -> Result<(), OpError> {
    if inputs[i].dtype.is_numeric() {
        Ok(())
    } else {
        Err(OpError::Dtype { input: i, expected: "a numeric dtype", got: inputs[i].dtype })
    }
}

/// Input `i` must have input `j`'s dtype.
///
/// # Errors
/// [`OpError::DtypeMismatch`].
pub fn same_dtype(inputs: &[TensorType], i: usize, j: usize) -> Result<(), OpError> {
    if inputs[i].dtype == inputs[j].dtype {
        Ok(())
    } else {
        Err(OpError::DtypeMismatch { input: i, got: inputs[i].dtype, other: j, expected: inputs[j].dtype })
    }
}

/// Inputs 0 and 1 must be numeric and of one dtype.
///
/// # Errors
/// [`OpError::Dtype`] or [`OpError::DtypeMismatch`].
pub fn same_numeric(inputs: &[TensorType]) -> Result<(), OpError> {
    numeric(inputs, 0)?;
    same_dtype(inputs, 1, 0)
}
