//! `StridedSlice`: Python-style `x[b0:e0:s0, b1:e1:s1, ...]` with
//! TensorFlow's masks.

/// The attributes of a strided slice, one entry per sliced dim (dims past
/// the list are taken whole).
#[derive(Debug, Clone, PartialEq, Eq)]
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

impl SliceSpec {
    /// The slice of each dim of an input of `shape`.
    ///
    /// # Errors
    /// A message for a zero stride, more spec entries than dims, lists of
    /// different lengths, or a shrunk index out of range.
    pub fn resolve(&self, shape: &[usize]) -> Result<Vec<DimSlice>, String> {
        let n = self.begin.len();
        if self.end.len() != n || self.strides.len() != n {
            return Err("begin, end and strides must have one entry per sliced dim".into());
        }
        if n > shape.len() {
            return Err(format!("{n} sliced dims for a tensor of rank {}", shape.len()));
        }
        shape
            .iter()
            .enumerate()
            .map(|(d, &size)| {
                let size = size as i64;
                if d >= n {
                    return Ok(DimSlice { start: 0, step: 1, len: size as usize, dropped: false });
                }
                let bit = |mask: i64| mask >> d & 1 == 1;
                let step = self.strides[d];
                if step == 0 {
                    return Err(format!("stride 0 in dim {d}"));
                }
                let at = |i: i64| if i < 0 { i + size } else { i };
                if bit(self.shrink_axis_mask) {
                    let i = at(self.begin[d]);
                    if !(0..size).contains(&i) {
                        return Err(format!("index {} is out of range for dim {d} of size {size}", self.begin[d]));
                    }
                    return Ok(DimSlice { start: i, step: 1, len: 1, dropped: true });
                }
                let (lo, hi) = if step > 0 { (0, size) } else { (-1, size - 1) };
                let start =
                    if bit(self.begin_mask) { if step > 0 { lo } else { hi } } else { at(self.begin[d]).clamp(lo, hi) };
                let stop =
                    if bit(self.end_mask) { if step > 0 { hi } else { lo } } else { at(self.end[d]).clamp(lo, hi) };
                let span = if step > 0 { stop - start } else { start - stop };
                let len = if span <= 0 { 0 } else { (span + step.abs() - 1) / step.abs() };
                Ok(DimSlice { start, step, len: len as usize, dropped: false })
            })
            .collect()
    }
}

/// The input offset of every output element, row-major: the one index map
/// the kernel (gather) and its gradient (scatter) share.
pub fn slice_offsets(shape: &[usize], dims: &[DimSlice]) -> Vec<usize> {
    let mut strides = vec![1usize; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        strides[d] = strides[d + 1] * shape[d + 1];
    }
    strided_offsets(&strides, dims)
}

/// The offset of every output element, row-major, when output dim `d`
/// walks `dims[d]` over an input whose dim `d` has stride `strides[d]`
/// (also how `Transpose` reads its input, with permuted strides).
pub(crate) fn strided_offsets(strides: &[usize], dims: &[DimSlice]) -> Vec<usize> {
    let strides: Vec<i64> = strides.iter().map(|&s| s as i64).collect();
    let total: usize = dims.iter().map(|s| s.len).product();
    let mut offsets = Vec::with_capacity(total);
    let mut index = vec![0usize; dims.len()];
    for _ in 0..total {
        let offset: i64 =
            dims.iter().zip(&index).zip(&strides).map(|((s, &i), &st)| (s.start + i as i64 * s.step) * st).sum();
        offsets.push(offset as usize);
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
