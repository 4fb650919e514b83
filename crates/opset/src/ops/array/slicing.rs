//! Strided slices: Python's `x[b0:e0:s0, b1:e1:s1, ...]` with TensorFlow's
//! masks, resolved against a concrete shape into one [`DimSlice`] per dim,
//! and the row-major index maps that `StridedSlice` (its kernel and its
//! gradient) and `Transpose` walk.

use smallvec::SmallVec;

use crate::Tensor;
use crate::ops::OpError;
use crate::ops::kernel::slice;
use crate::tensor::Element;

/// The attributes of a strided slice, one entry per sliced dim (dims past
/// the list are taken whole).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SliceSpec {
    /// Start per dim (negative counts from the end).
    pub begin: Vec<i64>,
    /// Stop per dim, exclusive (negative counts from the end).
    pub end: Vec<i64>,
    /// Step per dim, non-zero (negative walks backwards).
    pub strides: Vec<i64>,
    /// Bit `d` set: ignore `begin[d]`, start at the first element (the last for a negative step).
    pub begin_mask: i64,
    /// Bit `d` set: ignore `end[d]`, run to the end (the start for a negative step).
    pub end_mask: i64,
    /// Bit `d` set: take only index `begin[d]` and drop dim `d`.
    pub shrink_axis_mask: i64,
}

/// Where one input dim's slice starts, its step, its length, and whether
/// the dim is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DimSlice {
    /// First input index.
    pub start: i64,
    /// Step between input indices.
    pub step: i64,
    /// Number of elements taken.
    pub len: usize,
    /// Whether the output drops this dim (shrink).
    pub dropped: bool,
}

impl DimSlice {
    /// The whole of a dim of `len` elements, in order.
    pub fn whole(len: usize) -> DimSlice {
        DimSlice { start: 0, step: 1, len, dropped: false }
    }
}

impl SliceSpec {
    /// The slice of each dim of an input of `shape`.
    ///
    /// # Errors
    /// [`OpError`] for a zero stride, more spec entries than dims, lists of
    /// different lengths, or a shrunk index out of range.
    pub fn resolve(&self, shape: &[usize]) -> Result<Vec<DimSlice>, OpError> {
        let n = self.begin.len();
        if self.end.len() != n || self.strides.len() != n {
            return Err(OpError::Invalid {
                what: "begin, end and strides",
                reason: "must have one entry per sliced dim".into(),
            });
        }
        if n > shape.len() {
            return Err(OpError::shape(format!("{n} sliced dims for a tensor of rank {}", shape.len())));
        }
        shape.iter().enumerate().map(|(d, &size)| self.resolve_dim(d, size)).collect()
    }

    /// The slice of dim `d`, of `size` elements.
    fn resolve_dim(&self, d: usize, size: usize) -> Result<DimSlice, OpError> {
        let (Some(&begin), Some(&end), Some(&step)) = (self.begin.get(d), self.end.get(d), self.strides.get(d)) else {
            return Ok(DimSlice::whole(size));
        };
        // A mask has 64 bits: a dim past them is never masked.
        let bit = |mask: i64| u32::try_from(d).ok().and_then(|d| mask.checked_shr(d)).is_some_and(|m| m & 1 == 1);
        if step == 0 {
            return Err(OpError::Invalid { what: "strides", reason: format!("stride 0 in dim {d}") });
        }
        let size = i64::try_from(size).unwrap_or(i64::MAX);
        let at = |i: i64| if i < 0 { i + size } else { i };
        if bit(self.shrink_axis_mask) {
            let i = at(begin);
            if !(0..size).contains(&i) {
                return Err(OpError::Invalid {
                    what: "begin",
                    reason: format!("index {begin} is out of range for dim {d} of size {size}"),
                });
            }
            return Ok(DimSlice { start: i, step: 1, len: 1, dropped: true });
        }
        let (lo, hi) = if step > 0 { (0, size) } else { (-1, size - 1) };
        let start = if bit(self.begin_mask) { if step > 0 { lo } else { hi } } else { at(begin).clamp(lo, hi) };
        let stop = if bit(self.end_mask) { if step > 0 { hi } else { lo } } else { at(end).clamp(lo, hi) };
        // Both ends lie in [-1, size], so the span cannot overflow.
        let span = if step > 0 { stop - start } else { start - stop };
        let len = if span <= 0 { 0 } else { span.unsigned_abs().div_ceil(step.unsigned_abs()) };
        Ok(DimSlice { start, step, len: usize::try_from(len).unwrap_or(usize::MAX), dropped: false })
    }
}

/// The input offset of every output element, row-major, for a slice `dims`
/// of an input of `shape`: the one index map the `StridedSlice` kernel
/// (gather) and its gradient (scatter) share.
pub fn slice_offsets(shape: &[usize], dims: &[DimSlice]) -> Vec<usize> {
    strided_offsets(&row_major_strides(shape), dims)
}

/// A few dims, strides or indices, on the stack for the usual ranks.
pub(crate) type Dims = SmallVec<[usize; 6]>;

/// The row-major strides of `shape`: how far apart, in elements, two
/// neighbours along each dim are.
pub(crate) fn row_major_strides(shape: &[usize]) -> Dims {
    // Saturating: past a dim of 0 the strides are never used.
    let mut strides: Dims = smallvec::smallvec![1usize; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        strides[d] = strides[d + 1].saturating_mul(shape[d + 1]);
    }
    strides
}

/// The offset of every output element, row-major, when output dim `d`
/// walks `dims[d]` over an input whose dim `d` has stride `strides[d]`
/// (also how `Transpose` reads its input, with permuted strides).
pub fn strided_offsets(strides: &[usize], dims: &[DimSlice]) -> Vec<usize> {
    let strides: Vec<i64> = strides.iter().map(|&s| i64::try_from(s).unwrap_or(i64::MAX)).collect();
    // With no dim of 0, the count is at most the input's (each slice takes
    // at most its dim); a dim of 0 ends it before any product overflows.
    let total = if dims.iter().any(|s| s.len == 0) { 0 } else { dims.iter().map(|s| s.len).product() };
    let mut offsets = Vec::with_capacity(total);
    let mut index = vec![0usize; dims.len()];
    for _ in 0..total {
        let offset: i64 =
            dims.iter().zip(&index).zip(&strides).map(|((s, &i), &st)| (s.start + i as i64 * s.step) * st).sum();
        offsets.push(usize::try_from(offset).unwrap_or(usize::MAX));
        for d in (0..dims.len()).rev() {
            index[d] += 1;
            if index[d] < dims[d].len {
                break;
            }
            index[d] = 0;
        }
    }
    offsets
}

/// The elements of `x` (of `T`) that output dim `d`, walking `dims[d]`
/// with input stride `strides[d]`, reads, row-major, into `out` with
/// `shape`: the one copy `StridedSlice`, `Reverse` and `Transpose` share.
///
/// Trailing dims that read consecutive elements are merged into one run,
/// copied as a block; the other dims are walked as an odometer whose offset
/// moves by one stride per step, so nothing is allocated per element.
///
/// # Errors
/// [`OpError::Tensor`] if `x` is not of `T`; [`OpError::Shape`] for a walk
/// past the end of `x` (a slice that was not resolved against its shape).
pub(crate) fn take_strided<T: Element>(
    x: &Tensor,
    strides: &[usize],
    dims: &[DimSlice],
    shape: &[usize],
    out: &mut Tensor,
) -> Result<(), OpError> {
    let src = slice::<T>(x)?;
    let dst = out.output_vec::<T>(shape);
    if dims.iter().any(|d| d.len == 0) {
        return Ok(());
    }
    // Steps in elements, wrapping: a walk that overflows lands out of range
    // (or nowhere it is read from, for a dim of one) and is caught below.
    let stride = |d: usize| i64::try_from(strides.get(d).copied().unwrap_or(0)).unwrap_or(i64::MAX);
    let step: SmallVec<[i64; 6]> = dims.iter().enumerate().map(|(d, s)| s.step.wrapping_mul(stride(d))).collect();
    let mut offset = dims.iter().enumerate().fold(0i64, |o, (d, s)| o.wrapping_add(s.start.wrapping_mul(stride(d))));
    let (mut outer, mut run) = (dims.len(), 1usize);
    while let Some(d) = outer.checked_sub(1) {
        match dims[d].len {
            1 => {}
            len if step[d] == run as i64 => run *= len,
            _ => break,
        }
        outer = d;
    }
    // The last outer dim is walked by a plain loop (a transpose's runs are
    // a few elements: no odometer step, and single elements pushed rather
    // than copied as slices); the dims before it by the odometer.
    let (inner, inner_len, inner_step) = match outer.checked_sub(1) {
        Some(d) => (d, dims[d].len, step[d]),
        None => (0, 1, 0),
    };
    dst.reserve(dims.iter().filter(|d| !d.dropped).map(|d| d.len).product());
    let mut index: Dims = smallvec::smallvec![0usize; inner];
    loop {
        let mut at = offset;
        for _ in 0..inner_len {
            let from = usize::try_from(at).ok();
            if run == 1 {
                dst.push(from.and_then(|i| src.get(i)).ok_or_else(|| past_the_end(x.shape()))?.clone());
            } else {
                let block = from.and_then(|i| src.get(i..i.checked_add(run)?));
                dst.extend(block.ok_or_else(|| past_the_end(x.shape()))?.iter().cloned());
            }
            at = at.wrapping_add(inner_step);
        }
        // The odometer over the dims before, last fastest.
        let mut d = inner;
        loop {
            let Some(prev) = d.checked_sub(1) else { return Ok(()) };
            d = prev;
            index[d] += 1;
            offset = offset.wrapping_add(step[d]);
            if index[d] < dims[d].len {
                break;
            }
            offset = offset.wrapping_sub(step[d].wrapping_mul(dims[d].len as i64));
            index[d] = 0;
        }
    }
}

/// The elements of `x` (of `T`) that the slice `dims` picks, in order,
/// into `out` with `shape`: how `StridedSlice` and `Reverse` read their
/// input.
///
/// # Errors
/// As [`take_strided`].
pub(crate) fn take_slice<T: Element>(
    x: &Tensor,
    dims: &[DimSlice],
    shape: &[usize],
    out: &mut Tensor,
) -> Result<(), OpError> {
    take_strided::<T>(x, &row_major_strides(x.shape()), dims, shape, out)
}

fn past_the_end(shape: &[usize]) -> OpError {
    OpError::shape(format!("a read past the end of a tensor of shape {shape:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(begin: &[i64], end: &[i64], strides: &[i64], masks: [i64; 3]) -> SliceSpec {
        SliceSpec {
            begin: begin.to_vec(),
            end: end.to_vec(),
            strides: strides.to_vec(),
            begin_mask: masks[0],
            end_mask: masks[1],
            shrink_axis_mask: masks[2],
        }
    }

    #[test]
    fn a_reversed_dim_walks_backwards() {
        // x[::-1, 1] of a 3 x 4 matrix: rows 2, 1, 0 of column 1.
        let dims = spec(&[0, 1], &[0, 2], &[-1, 1], [1, 1, 2]).resolve(&[3, 4]).unwrap();
        assert_eq!(dims[0], DimSlice { start: 2, step: -1, len: 3, dropped: false });
        assert!(dims[1].dropped);
        assert_eq!(slice_offsets(&[3, 4], &dims), [9, 5, 1]);
    }

    #[test]
    fn strided_reads_match_the_offsets() {
        // Runs merged over whole trailing dims, partial ones, negative steps
        // and shrunk dims all read what the per-element offsets say.
        let shape = [3, 4, 5];
        let x = Tensor::from_vec(shape.to_vec(), (0..60).map(|v| v as i64).collect()).unwrap();
        let cases = [
            spec(&[0, 1], &[3, 3], &[1, 1], [0, 0, 0]),
            spec(&[1, 0, 0], &[2, 4, 5], &[1, 1, 1], [0, 0, 0]),
            spec(&[2, 3, 4], &[0, 0, 0], &[-1, -2, -1], [1, 1, 0]),
            spec(&[0, 2, 1], &[3, 3, 4], &[2, 1, 2], [0, 0, 2]),
            spec(&[-1], &[0], &[1], [0, 0, 1]),
        ];
        for case in cases {
            let dims = case.resolve(&shape).unwrap();
            let out_shape: Vec<usize> = dims.iter().filter(|d| !d.dropped).map(|d| d.len).collect();
            let mut out = Tensor::empty(crate::DataType::I64);
            take_slice::<i64>(&x, &dims, &out_shape, &mut out).unwrap();
            let want: Vec<i64> = slice_offsets(&shape, &dims).iter().map(|&o| o as i64).collect();
            assert_eq!(out.as_slice::<i64>().unwrap(), want, "{case:?}");
        }
    }

    #[test]
    fn a_walk_past_the_end_is_an_error() {
        let x = Tensor::from_vec(vec![2, 3], vec![0.0f32; 6]).unwrap();
        let past = [DimSlice { start: 1, step: 1, len: 2, dropped: false }, DimSlice::whole(3)];
        let err = take_slice::<f32>(&x, &past, &[2, 3], &mut Tensor::empty(crate::DataType::F32)).unwrap_err();
        assert!(err.to_string().contains("past the end"), "{err}");
    }

    #[test]
    fn huge_strides_and_deep_masks_do_not_overflow() {
        let dims = spec(&[0], &[5], &[i64::MIN], [0, 0, 0]).resolve(&[5]).unwrap();
        assert_eq!(dims[0].len, 0, "a negative step from 0 down to 5 takes nothing");
        let dims = spec(&[0], &[5], &[i64::MAX], [0, 0, 0]).resolve(&[5]).unwrap();
        assert_eq!(dims[0].len, 1);
        let deep = vec![1usize; 70];
        let n = deep.len();
        let dims = spec(&vec![0; n], &vec![1; n], &vec![1; n], [-1, -1, 0]).resolve(&deep).unwrap();
        assert!(dims.iter().all(|d| d.len == 1));
    }

    #[test]
    fn bad_specs_are_refused() {
        let err = spec(&[0], &[1], &[0], [0, 0, 0]).resolve(&[3]).unwrap_err();
        assert!(err.to_string().contains("stride 0"), "{err}");
        let err = spec(&[3], &[4], &[1], [0, 0, 1]).resolve(&[3]).unwrap_err();
        assert!(err.to_string().contains("out of range"), "{err}");
        assert!(spec(&[0, 0], &[1], &[1], [0, 0, 0]).resolve(&[3, 3]).is_err());
        assert!(spec(&[0, 0], &[1, 1], &[1, 1], [0, 0, 0]).resolve(&[3]).is_err());
    }
}
