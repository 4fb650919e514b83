//! Small integer tensors the importer needs as constants (axes, multiples,
//! target shapes), computed from constants and from `Shape`, `StridedSlice`,
//! `Pack`, `GatherV2`, `Prod`, `Range`... as TensorFlow's shape functions
//! fold them.

use std::ops::RangeInclusive;

use opset::ops::array::{SliceSpec, slice_offsets};

use super::{Importer, attr, node_error};
use crate::Result;
use crate::pb;
use crate::restore::node_name;

impl<'a> Importer<'a> {
    /// Input `i` as integers: a constant, or a shape computation
    /// (`Shape`, `StridedSlice`, `Pack`...) whose values are all known.
    pub(super) fn ints(&mut self, scope: usize, node: &'a pb::NodeDef, i: usize) -> Result<Vec<i64>> {
        let dims = self.dims(scope, node, i)?;
        dims.iter()
            .map(|d| {
                d.ok_or_else(|| {
                    node_error(node, format!("input {i} depends on a size known only at run time: {dims:?}"))
                })
            })
            .collect()
    }

    /// Input `i` as integers, some unknown until run time (a batch size).
    pub(super) fn dims(&mut self, scope: usize, node: &'a pb::NodeDef, i: usize) -> Result<Vec<Option<i64>>> {
        let reference =
            Self::data_inputs(node).get(i).copied().ok_or_else(|| node_error(node, format!("missing input {i}")))?;
        self.shape_value(scope, reference, 0)
    }

    /// The value of a small integer tensor computed from constants and
    /// shapes, as TensorFlow's shape functions would fold it.
    pub(super) fn shape_value(&mut self, scope: usize, reference: &'a str, depth: usize) -> Result<Vec<Option<i64>>> {
        let (scope, reference) = self.outer(scope, reference);
        if let Some(folded) = self.scopes[scope].folded.get(node_name(reference)) {
            return Ok(folded.clone());
        }
        let node = self.node(scope, reference)?;
        if depth > 64 {
            return Err(node_error(node, "shape computation too deep"));
        }
        let input = |this: &mut Self, k: usize| -> Result<Vec<Option<i64>>> {
            let r = Self::data_inputs(node)
                .get(k)
                .copied()
                .ok_or_else(|| node_error(node, format!("missing input {k}")))?;
            this.shape_value(scope, r, depth + 1)
        };
        match node.op.as_str() {
            "Const" => {
                let t = self.constant_node(node)?;
                let v: Vec<i64> = match t.dtype() {
                    opset::DataType::I32 => t.as_slice::<i32>()?.iter().map(|&v| i64::from(v)).collect(),
                    opset::DataType::I64 => t.as_slice::<i64>()?.to_vec(),
                    other => return Err(node_error(node, format!("expected integers, got {other}"))),
                };
                Ok(v.into_iter().map(Some).collect())
            }
            // The same values (an `ExpandDims` of a scalar size into a vector).
            "Identity" | "Cast" | "ExpandDims" => input(self, 0),
            "Shape" => {
                // The dims of x's type, as its op's output rule gave it.
                let x = self.input(scope, node, 0)?;
                let ty = self.type_of(node, &x)?;
                Ok(ty.dims().iter().map(|d| d.and_then(|d| i64::try_from(d).ok())).collect())
            }
            "Pack" | "ConcatV2" => {
                let n = Self::data_inputs(node).len().saturating_sub(usize::from(node.op == "ConcatV2"));
                let mut out = Vec::new();
                for k in 0..n {
                    out.extend(input(self, k)?);
                }
                Ok(out)
            }
            "GatherV2" => {
                let v = input(self, 0)?;
                let indices = input(self, 1)?;
                indices
                    .iter()
                    .map(|i| {
                        let i = i.ok_or_else(|| node_error(node, "indices known only at run time"))?;
                        let i = if i < 0 { i + v.len() as i64 } else { i };
                        usize::try_from(i)
                            .ok()
                            .and_then(|i| v.get(i).copied())
                            .ok_or_else(|| node_error(node, format!("index {i} out of range")))
                    })
                    .collect()
            }
            "Prod" => {
                let v = input(self, 0)?;
                let mut product = Some(1i64);
                for d in v {
                    product = match (product, d) {
                        (Some(p), Some(d)) => {
                            Some(p.checked_mul(d).ok_or_else(|| node_error(node, "the product overflows"))?)
                        }
                        _ => None,
                    };
                }
                Ok(vec![product])
            }
            "Range" => {
                let mut bounds = [0i64; 3];
                for (k, bound) in bounds.iter_mut().enumerate() {
                    *bound = match input(self, k)?.as_slice() {
                        [Some(v)] => *v,
                        other => {
                            return Err(node_error(node, format!("input {k} is not one known integer: {other:?}")));
                        }
                    };
                }
                let [start, limit, delta] = bounds;
                Ok(range_values(node, start, limit, delta)?.into_iter().map(Some).collect())
            }
            "StridedSlice" => {
                let v = input(self, 0)?;
                let spec = self.slice_spec(scope, node)?;
                let dims = spec.resolve(&[v.len()]).map_err(|e| node_error(node, e.to_string()))?;
                Ok(slice_offsets(&[v.len()], &dims).into_iter().map(|o| v[o]).collect())
            }
            "Slice" => {
                // `tf.slice(v, [begin], [size])` of a vector; a size of -1 runs to the end.
                let v = input(self, 0)?;
                let (begin, size) = match (self.ints(scope, node, 1)?.as_slice(), self.ints(scope, node, 2)?.as_slice())
                {
                    (&[b], &[s]) => (b, s),
                    (b, s) => return Err(node_error(node, format!("begin {b:?} and size {s:?} of a vector slice"))),
                };
                let start = usize::try_from(begin).ok().filter(|&b| b <= v.len());
                let end = match (start, size) {
                    (Some(b), -1) => Some(v.len()).filter(|&e| e >= b),
                    (Some(b), s) => usize::try_from(s).ok().and_then(|s| b.checked_add(s)).filter(|&e| e <= v.len()),
                    (None, _) => None,
                };
                match (start, end) {
                    (Some(b), Some(e)) => Ok(v[b..e].to_vec()),
                    _ => Err(node_error(node, format!("slice at {begin} of size {size} of a vector of {}", v.len()))),
                }
            }
            // Any other op: its values are known only at run time, but our
            // translation of it says how many there are.
            other => {
                let tensor = self
                    .tensor(scope, reference)
                    .map_err(|_| node_error(node, format!("cannot compute a shape through TensorFlow op {other:?}")))?;
                match self.type_of(node, &tensor)?.dims() {
                    &[Some(n)] => Ok(vec![None; n]),
                    dims => Err(node_error(
                        node,
                        format!("cannot compute a shape through TensorFlow op {other:?} (of shape {dims:?})"),
                    )),
                }
            }
        }
    }

    /// A `StridedSlice`'s constant bounds and masks.
    pub(super) fn slice_spec(&mut self, scope: usize, node: &'a pb::NodeDef) -> Result<SliceSpec> {
        let mask = |key: &str| attr::int_or(node, key, 0);
        if mask("ellipsis_mask") != 0 || mask("new_axis_mask") != 0 {
            return Err(node_error(node, "ellipsis (...) and new-axis (None) slicing are not supported"));
        }
        Ok(SliceSpec {
            begin: self.ints(scope, node, 1)?,
            end: self.ints(scope, node, 2)?,
            strides: self.ints(scope, node, 3)?,
            begin_mask: mask("begin_mask"),
            end_mask: mask("end_mask"),
            shrink_axis_mask: mask("shrink_axis_mask"),
        })
    }

    /// Input `i` as one integer (an axis, a bound).
    pub(super) fn int(&mut self, scope: usize, node: &'a pb::NodeDef, i: usize) -> Result<i64> {
        match self.ints(scope, node, i)?.as_slice() {
            [v] => Ok(*v),
            other => Err(node_error(node, format!("input {i} must be one integer, got {other:?}"))),
        }
    }
}

/// The values of `range(start, limit, delta)` (TensorFlow's `Range` with
/// bounds fixed in the graph, folded).
///
/// # Errors
/// [`crate::Error::Node`] naming `node` for a range that is empty the wrong
/// way, endless (`delta` 0) or longer than 2^24 (checked: hostile bounds
/// must not overflow).
pub(super) fn range_values(node: &pb::NodeDef, start: i64, limit: i64, delta: i64) -> Result<Vec<i64>> {
    let span = limit.checked_sub(start);
    let backwards = span.is_some_and(|d| d.signum() * delta.signum() < 0);
    if backwards || span.and_then(|d| d.checked_div(delta)).is_none_or(|n| n > 1 << 24) {
        return Err(node_error(node, format!("range({start}, {limit}, {delta}) is empty, endless or too long")));
    }
    Ok((0..)
        .map_while(|i: i64| i.checked_mul(delta).and_then(|d| start.checked_add(d)))
        .take_while(|&v| if delta > 0 { v < limit } else { v > limit })
        .collect())
}

/// `values` (what `node` gives as `what`) as sizes, each in `range`.
///
/// # Errors
/// [`crate::Error::Node`] naming `what` and the values, for a value out of `range`.
pub(super) fn sizes(
    node: &pb::NodeDef,
    what: &str,
    values: &[i64],
    range: RangeInclusive<usize>,
) -> Result<Vec<usize>> {
    values
        .iter()
        .map(|&v| usize::try_from(v).ok().filter(|v| range.contains(v)))
        .collect::<Option<Vec<usize>>>()
        .ok_or_else(|| {
            let (low, high) = range.into_inner();
            node_error(node, format!("{what} {values:?}: expected sizes in {low}..={high}"))
        })
}
