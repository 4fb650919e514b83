//! Kernels that move elements: squeeze, slices, transpose, tile, concat, gather.

use super::{KResult, around, slice};
use crate::ops::normalize_axis;
use crate::tensor::Element;
use crate::{DataType, Tensor};

pub(super) fn squeeze_shape(shape: &[usize], axes: &[i64]) -> Result<Vec<usize>, String> {
    let axes: Vec<usize> = if axes.is_empty() {
        (0..shape.len()).filter(|&i| shape[i] == 1).collect()
    } else {
        axes.iter().map(|&a| normalize_axis(a, shape.len())).collect::<Result<_, _>>()?
    };
    if let Some(&a) = axes.iter().find(|&&a| shape[a] != 1) {
        return Err(format!("cannot squeeze dim {a} of size {} in {shape:?}", shape[a]));
    }
    Ok(shape.iter().enumerate().filter(|(i, _)| !axes.contains(i)).map(|(_, &d)| d).collect())
}

pub(super) fn strided_slice<T: Element>(x: &Tensor, spec: &crate::ops::SliceSpec, out: &mut Tensor) -> KResult {
    let dims = spec.resolve(x.shape())?;
    let shape: Vec<usize> = dims.iter().filter(|d| !d.dropped).map(|d| d.len).collect();
    let src = slice::<T>(x)?;
    let dst = out.output_vec::<T>(&shape);
    dst.extend(crate::ops::slice_offsets(x.shape(), &dims).into_iter().map(|o| src[o].clone()));
    Ok(())
}

pub(super) fn transpose<T: Element>(x: &Tensor, perm: &[usize], out: &mut Tensor) -> KResult {
    let shape = x.shape();
    if perm.len() != shape.len() {
        return Err(format!("perm {perm:?} for a tensor of rank {}", shape.len()));
    }
    // The output, read in order, walks the input with permuted strides.
    let mut strides = vec![1usize; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        strides[d] = strides[d + 1] * shape[d + 1];
    }
    let out_shape: Vec<usize> = perm.iter().map(|&p| shape[p]).collect();
    let dims: Vec<crate::ops::DimSlice> =
        perm.iter().map(|&p| crate::ops::DimSlice { start: 0, step: 1, len: shape[p], dropped: false }).collect();
    let permuted: Vec<usize> = perm.iter().map(|&p| strides[p]).collect();
    let src = slice::<T>(x)?;
    let dst = out.output_vec::<T>(&out_shape);
    dst.extend(crate::ops::slice::strided_offsets(&permuted, &dims).into_iter().map(|o| src[o].clone()));
    Ok(())
}

pub(super) fn pad<T: Element>(
    x: &Tensor,
    paddings: &[[usize; 2]],
    value: Option<&Tensor>,
    out: &mut Tensor,
) -> KResult {
    let (shape, offsets) = pad_offsets(x.shape(), paddings)?;
    let len = super::checked_len(&shape)?;
    let fill = match value {
        Some(v) => slice::<T>(v)?.first().cloned().unwrap_or_default(),
        None => T::default(),
    };
    let src = slice::<T>(x)?;
    let dst = out.output_vec::<T>(&shape);
    dst.resize(len, fill);
    for (v, &o) in src.iter().zip(&offsets) {
        dst[o] = v.clone();
    }
    Ok(())
}

/// The shape of `shape` padded by `paddings`, and where each element of
/// the input lands in the padded output (row-major offsets): the one map
/// `Pad` and its gradient share.
pub fn pad_offsets(shape: &[usize], paddings: &[[usize; 2]]) -> Result<(Vec<usize>, Vec<usize>), String> {
    if paddings.len() != shape.len() {
        return Err(format!("{} pairs of paddings for a tensor of shape {shape:?}", paddings.len()));
    }
    let padded: Vec<usize> = shape
        .iter()
        .zip(paddings)
        .map(|(&d, [b, a])| d.checked_add(*b).and_then(|d| d.checked_add(*a)))
        .collect::<Option<_>>()
        .ok_or_else(|| format!("padding {shape:?} by {paddings:?} overflows"))?;
    super::checked_len(&padded)?;
    let n: usize = shape.iter().product();
    let mut offsets = Vec::with_capacity(n);
    for flat in 0..n {
        let (mut rest, mut offset, mut stride) = (flat, 0, 1);
        for d in (0..shape.len()).rev() {
            offset += (rest % shape[d] + paddings[d][0]) * stride;
            rest /= shape[d];
            stride *= padded[d];
        }
        offsets.push(offset);
    }
    Ok((padded, offsets))
}

pub(super) fn tile<T: Element>(x: &Tensor, multiples: &[usize], out: &mut Tensor) -> KResult {
    if multiples.len() != x.shape().len() {
        return Err(format!("{} multiples for a tensor of shape {:?}", multiples.len(), x.shape()));
    }
    let shape: Vec<usize> = x
        .shape()
        .iter()
        .zip(multiples)
        .map(|(d, m)| d.checked_mul(*m))
        .collect::<Option<_>>()
        .ok_or_else(|| format!("tiling {:?} by {multiples:?} overflows", x.shape()))?;
    super::checked_len(&shape)?;
    let src = slice::<T>(x)?;
    let dst = out.output_vec::<T>(&shape);
    tile_into(src, x.shape(), multiples, dst);
    Ok(())
}

/// Appends `src` (of `shape`) tiled by `multiples` to `dst`, row-major.
pub(super) fn tile_into<T: Clone>(src: &[T], shape: &[usize], multiples: &[usize], dst: &mut Vec<T>) {
    let Some((&rows, inner_shape)) = shape.split_first() else {
        dst.extend_from_slice(src);
        return;
    };
    let inner: usize = inner_shape.iter().product();
    let start = dst.len();
    for row in 0..rows {
        tile_into(&src[row * inner..(row + 1) * inner], inner_shape, &multiples[1..], dst);
    }
    let block = dst.len() - start;
    match multiples[0] {
        0 => dst.truncate(start),
        m => (1..m).for_each(|_| dst.extend_from_within(start..start + block)),
    }
}

pub(super) fn concat<T: Element>(inputs: &[&Tensor], axis: i64, out: &mut Tensor) -> KResult {
    let first = inputs[0].shape();
    let axis = normalize_axis(axis, first.len())?;
    let mut shape = first.to_vec();
    shape[axis] = 0;
    for (i, t) in inputs.iter().enumerate() {
        let s = t.shape();
        if s.len() != first.len() || s.iter().zip(first).enumerate().any(|(d, (a, b))| d != axis && a != b) {
            return Err(format!("input {i} has shape {s:?}, input 0 has {first:?} (axis {axis})"));
        }
        shape[axis] += s[axis];
    }
    let outer: usize = first[..axis].iter().product();
    let parts = inputs
        .iter()
        .map(|t| Ok((slice::<T>(t)?, t.shape()[axis..].iter().product())))
        .collect::<Result<Vec<(&[T], usize)>, String>>()?;
    let dst = out.output_vec::<T>(&shape);
    for o in 0..outer {
        for &(src, chunk) in &parts {
            dst.extend_from_slice(&src[o * chunk..(o + 1) * chunk]);
        }
    }
    Ok(())
}

/// Reads i32 or i64 indices as i64.
///
/// # Errors
/// A message for another dtype.
pub fn indices(t: &Tensor) -> Result<Vec<i64>, String> {
    match t.dtype() {
        DataType::I64 => Ok(slice::<i64>(t)?.to_vec()),
        DataType::I32 => Ok(slice::<i32>(t)?.iter().map(|&i| i64::from(i)).collect()),
        other => Err(format!("indices must be i32 or i64, got {other}")),
    }
}

pub(super) fn gather<T: Element>(params: &Tensor, idx: &Tensor, axis: i64, out: &mut Tensor) -> KResult {
    let p = params.shape();
    let axis = normalize_axis(axis, p.len())?;
    let (outer, n, inner) = around(p, axis);
    let ids = indices(idx)?;
    if let Some(bad) = ids.iter().find(|&&i| i < 0 || i as usize >= n) {
        return Err(format!("index {bad} is out of range [0, {n}) for params of shape {p:?}"));
    }
    let shape: Vec<usize> = p[..axis].iter().chain(idx.shape()).chain(&p[axis + 1..]).copied().collect();
    let src = slice::<T>(params)?;
    let dst = out.output_vec::<T>(&shape);
    for o in 0..outer {
        for &i in &ids {
            let start = (o * n + i as usize) * inner;
            dst.extend_from_slice(&src[start..start + inner]);
        }
    }
    Ok(())
}
