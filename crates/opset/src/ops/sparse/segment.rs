//! What the sparse segment reductions (`SparseSegmentSum`,
//! `SparseSegmentMean`, `SparseSegmentSqrtN`) share: their output rule,
//! the checked reading of their indices and segment ids, their kernel (in
//! TensorFlow's order of additions) and their gradient (TensorFlow's
//! `SparseSegment*Grad`), each op file naming only its [`Scale`].

use crate::ops::OpError;
use crate::ops::kernel::{Num, checked_len, indices, slice};
use crate::ops::rule::TensorType;
use crate::{DataType, Tensor};

/// How a segment's sum is scaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scale {
    /// Not at all: the sum.
    Sum,
    /// By `1 / n`: the mean of the segment's `n` rows.
    Mean,
    /// By `1 / sqrt(n)`.
    SqrtN,
}

/// The output rule: `data` (`[N, ...]`, f32; i32 and i64 too for a sum),
/// `indices` and `segment_ids` (i32 or i64 vectors of one length) give
/// `[segments, ...]`, the number of segments known only at run time.
///
/// # Errors
/// [`OpError::Dtype`] or [`OpError::Shape`].
pub(crate) fn infer(scale: Scale, inputs: &[TensorType]) -> Result<TensorType, OpError> {
    let data = &inputs[0];
    check_dtype(scale, data.dtype)?;
    for i in [1, 2] {
        if !matches!(inputs[i].dtype, DataType::I32 | DataType::I64) {
            return Err(OpError::Dtype { input: i, expected: "i32 or i64", got: inputs[i].dtype });
        }
    }
    let (&[k], &[s]) = (inputs[1].dims(), inputs[2].dims()) else {
        return Err(OpError::shape(format!(
            "indices {} and segment_ids {}: expected vectors",
            inputs[1].shape, inputs[2].shape
        )));
    };
    if crate::ops::rule::unify(k, s).is_none() {
        return Err(OpError::shape(format!("{k:?} indices but {s:?} segment ids: expected one per index")));
    }
    let Some((_, rest)) = data.dims().split_first() else {
        return Err(OpError::shape("data is a scalar: expected [rows, ...]"));
    };
    Ok(TensorType::new(data.dtype, std::iter::once(None).chain(rest.iter().copied()).collect()))
}

fn check_dtype(scale: Scale, dtype: DataType) -> Result<(), OpError> {
    match (scale, dtype) {
        (_, DataType::F32) | (Scale::Sum, DataType::I32 | DataType::I64) => Ok(()),
        (Scale::Sum, got) => Err(OpError::Dtype { input: 0, expected: "f32, i32 or i64", got }),
        (_, got) => Err(OpError::Dtype { input: 0, expected: "f32", got }),
    }
}

/// The checked layout of a sparse segment reduction: `rows` output rows of
/// `inner` elements, and each segment present as `(id, first, end)` over
/// the picks (`rows_picked`, each a row of `data`).
struct Segments {
    shape: Vec<usize>,
    inner: usize,
    picked: Vec<usize>,
    groups: Vec<(usize, usize, usize)>,
}

/// Reads and checks the indices and segment ids against `data`'s shape, as
/// TensorFlow's kernel does: ids sorted (equal ids adjacent, groups
/// increasing), non-negative, the output `last id + 1` rows.
///
/// # Errors
/// [`OpError::Index`] for an index outside `data`'s rows, [`OpError::Invalid`]
/// for unsorted or negative segment ids, [`OpError::TooLarge`].
fn segments(data: &[usize], ids_t: &Tensor, segs_t: &Tensor) -> Result<Segments, OpError> {
    let Some((&n, rest)) = data.split_first() else {
        return Err(OpError::shape("data is a scalar: expected [rows, ...]"));
    };
    if ids_t.shape().len() != 1 || segs_t.shape().len() != 1 || ids_t.len() != segs_t.len() {
        return Err(OpError::shape(format!(
            "indices {:?} and segment_ids {:?}: expected vectors of one length",
            ids_t.shape(),
            segs_t.shape()
        )));
    }
    let (ids, segs) = (indices(ids_t, 1)?, indices(segs_t, 2)?);
    let invalid = |reason: String| OpError::Invalid { what: "segment_ids", reason };
    let rows = match segs.last() {
        None => 0,
        Some(&last) => match last.checked_add(1).and_then(|r| usize::try_from(r).ok()) {
            Some(r) if r > 0 => r,
            _ => return Err(invalid(format!("the last segment id is {last}: segment ids must be >= 0"))),
        },
    };
    let shape: Vec<usize> = std::iter::once(rows).chain(rest.iter().copied()).collect();
    checked_len(&shape)?;
    let picked = ids
        .iter()
        .map(|&i| {
            usize::try_from(i).ok().filter(|&i| i < n).ok_or(OpError::Index { index: i, len: n, shape: data.to_vec() })
        })
        .collect::<Result<Vec<usize>, OpError>>()?;
    let mut groups: Vec<(usize, usize, usize)> = Vec::new();
    let mut start = 0;
    while start < segs.len() {
        let id = segs[start];
        let end = start + segs[start..].iter().take_while(|&&s| s == id).count();
        let id = usize::try_from(id).ok().filter(|&i| i < rows).ok_or_else(|| {
            invalid(format!("segment id {id} out of range [0, {rows}), possibly because segment_ids is not sorted"))
        })?;
        if groups.last().is_some_and(|&(prev, _, _)| prev >= id) {
            return Err(invalid(format!("segment ids are not increasing: {id} after {}", groups[groups.len() - 1].0)));
        }
        groups.push((id, start, end));
        start = end;
    }
    let inner = if shape.contains(&0) { 0 } else { rest.iter().product() };
    Ok(Segments { shape, inner, picked, groups })
}

/// The kernel: each segment's picked rows of `data` summed and scaled, in
/// TensorFlow's order (the first `n mod 8` rows, or 8 or 9 of them, summed
/// and scaled by `1 / n` or `1 / sqrt(n)` when `n < 10`; then groups of 8
/// summed and added; a segment of 10 rows or more divided at the end);
/// rows no segment names are 0.
///
/// # Errors
/// As [`segments`], or [`OpError::Dtype`].
pub(crate) fn eval(scale: Scale, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
    let data = inputs[0];
    check_dtype(scale, data.dtype())?;
    let s = segments(data.shape(), inputs[1], inputs[2])?;
    match data.dtype() {
        DataType::F32 => reduce::<f32>(scale, data, &s, out),
        DataType::I32 => reduce::<i32>(scale, data, &s, out),
        DataType::I64 => reduce::<i64>(scale, data, &s, out),
        got => Err(OpError::Dtype { input: 0, expected: "f32, i32 or i64", got }),
    }
}

fn reduce<T: Num>(scale: Scale, data: &Tensor, s: &Segments, out: &mut Tensor) -> Result<(), OpError> {
    let src = slice::<T>(data)?;
    let inner = s.inner;
    let dst = out.output_vec::<T>(&s.shape);
    dst.resize(checked_len(&s.shape)?, T::ZERO);
    let row = |i: usize| &src[s.picked[i] * inner..(s.picked[i] + 1) * inner];
    // Scaling is only for f32 (the mean and sqrt(n) ops take nothing else).
    let factor = |n: usize| -> T {
        match scale {
            Scale::Sum => T::from_i64(1),
            Scale::Mean => T::from_f64(f64::from(1.0f32 / n as f32)),
            Scale::SqrtN => T::from_f64(f64::from(1.0f32 / (n as f64).sqrt() as f32)),
        }
    };
    for &(id, start, end) in &s.groups {
        let o = &mut dst[id * inner..(id + 1) * inner];
        let n = end - start;
        if n == 1 {
            o.copy_from_slice(row(start));
            continue;
        }
        let head = match n & 7 {
            0 => 8,
            1 => 9,
            r => r,
        };
        let f = if n < 10 { factor(n) } else { T::from_i64(1) };
        for (j, o) in o.iter_mut().enumerate() {
            let mut sum = row(start)[j];
            for k in start + 1..start + head {
                sum = Num::add(sum, row(k)[j]);
            }
            let mut v = if scale == Scale::Sum { sum } else { Num::mul(sum, f) };
            let mut k = start + head;
            while k < end {
                let mut group = row(k)[j];
                for m in k + 1..k + 8 {
                    group = Num::add(group, row(m)[j]);
                }
                v = Num::add(v, group);
                k += 8;
            }
            if n >= 10 {
                match scale {
                    Scale::Sum => {}
                    Scale::Mean => v = v / T::from_f64(n as f64),
                    Scale::SqrtN => v = v / T::from_f64(f64::from((n as f64).sqrt() as f32)),
                }
            }
            *o = v;
        }
    }
    Ok(())
}

/// The gradient to `data` (TensorFlow's `SparseSegmentSumGrad`,
/// `SparseSegmentMeanGrad`, `SparseSegmentSqrtNGrad`): row `indices[k]`
/// gets `g[segment_ids[k]]` scaled as its segment was, summed over the
/// picks of that row, in order; none to the indices and ids, none for
/// integer data.
///
/// # Errors
/// As [`segments`], or [`OpError::Shape`] for a `g` not of the output's shape.
#[cfg(feature = "grad")]
pub(crate) fn grad(scale: Scale, x: &[&Tensor], g: &Tensor) -> crate::ops::grad::Grads {
    if x[0].dtype() != DataType::F32 {
        return Ok(vec![None, None, None]);
    }
    let s = segments(x[0].shape(), x[1], x[2])?;
    crate::ops::grad::expect_output_shape(g, &s.shape)?;
    let gs = slice::<f32>(g)?;
    let inner = s.inner;
    let mut d = vec![0.0f32; checked_len(x[0].shape())?];
    for &(id, start, end) in &s.groups {
        let n = (end - start) as f64;
        let f = match scale {
            Scale::Sum => 1.0,
            Scale::Mean => (1.0 / n) as f32,
            Scale::SqrtN => (1.0 / n.sqrt()) as f32,
        };
        let src = &gs[id * inner..(id + 1) * inner];
        for &r in &s.picked[start..end] {
            let dst = &mut d[r * inner..(r + 1) * inner];
            dst.iter_mut().zip(src).for_each(|(d, &g)| *d += if f == 1.0 { g } else { g * f });
        }
    }
    Ok(vec![Some(crate::ops::kernel::tensor(x[0].shape(), d)?), None, None])
}
