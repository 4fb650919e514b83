//! The tensor codec: a tensor's elements as bytes and back. Numeric
//! tensors are their little-endian elements, bools one byte each, strings
//! (u64 little-endian length, bytes) records. The variables bundle stores
//! tensors so, and `saved_model.pb` carries constants' numeric bytes so.

use opset::{Bytes, Data, DataType, Element, Tensor};

/// The little-endian bytes of a numeric or bool tensor (empty for strings).
pub(crate) fn numeric_bytes(t: &Tensor) -> Vec<u8> {
    match t.data() {
        Data::F32(_) => bytemuck::cast_slice::<f32, u8>(t.as_slice::<f32>().unwrap_or_default()).to_vec(),
        Data::I64(_) => bytemuck::cast_slice::<i64, u8>(t.as_slice::<i64>().unwrap_or_default()).to_vec(),
        Data::I32(_) => bytemuck::cast_slice::<i32, u8>(t.as_slice::<i32>().unwrap_or_default()).to_vec(),
        Data::Bool(v) => v.iter().map(|&b| u8::from(b)).collect(),
        Data::String(_) => Vec::new(),
    }
}

/// A tensor's bytes in the data file: numeric as is, strings as
/// (u64 little-endian length, bytes) records.
pub(crate) fn tensor_to_bytes(t: &Tensor) -> Vec<u8> {
    match t.data() {
        Data::String(v) => {
            let mut out = Vec::with_capacity(v.iter().map(|s| 8 + s.len()).sum());
            for s in v {
                out.extend_from_slice(&(s.len() as u64).to_le_bytes());
                out.extend_from_slice(s);
            }
            out
        }
        _ => numeric_bytes(t),
    }
}

/// Decodes `count` elements of `dtype` from `bytes` into an owned tensor:
/// numeric little-endian, bools one byte each (0 or 1), strings as
/// `tensor_to_bytes` writes them. `what` names the tensor in errors.
///
/// Public for the TensorFlow importer (`tf-import`), whose bundles and
/// constants hold numeric tensors in the same little-endian layout.
///
/// # Errors
/// A message naming `what` if the bytes cannot hold `count` elements or do
/// not decode (a bool that is not 0 or 1, a string that is not UTF-8).
#[doc(hidden)]
pub fn tensor_from_bytes(
    dtype: DataType,
    shape: Vec<usize>,
    count: usize,
    bytes: &[u8],
    what: &str,
) -> std::result::Result<Tensor, String> {
    let size_error = || format!("{what}: {} bytes cannot hold {count} elements of {dtype}", bytes.len());
    if let Some(size) = dtype.byte_size()
        && count.checked_mul(size) != Some(bytes.len())
    {
        return Err(size_error());
    }
    fn pod<T: bytemuck::Pod + Element>(bytes: &[u8], shape: Vec<usize>) -> Tensor {
        let values: Vec<T> = bytes.chunks_exact(size_of::<T>()).map(bytemuck::pod_read_unaligned).collect();
        Tensor::from_data(shape, T::wrap(values))
    }
    Ok(match dtype {
        DataType::F32 => pod::<f32>(bytes, shape),
        DataType::I64 => pod::<i64>(bytes, shape),
        DataType::I32 => pod::<i32>(bytes, shape),
        DataType::Bool => {
            let values = bytes
                .iter()
                .enumerate()
                .map(|(i, &b)| match b {
                    0 | 1 => Ok(b == 1),
                    other => Err(format!("{what}: bool element {i} is the byte {other}, not 0 or 1")),
                })
                .collect::<std::result::Result<Vec<bool>, String>>()?;
            Tensor::from_data(shape, bool::wrap(values))
        }
        DataType::String => {
            let mut values = Vec::with_capacity(count.min(bytes.len() / 8));
            let mut rest = bytes;
            for _ in 0..count {
                let (len, tail) = rest.split_first_chunk::<8>().ok_or_else(size_error)?;
                let len = usize::try_from(u64::from_le_bytes(*len)).map_err(|_| size_error())?;
                if len > tail.len() {
                    return Err(size_error());
                }
                let (s, tail) = tail.split_at(len);
                values.push(Bytes::copy_from_slice(s));
                rest = tail;
            }
            if !rest.is_empty() {
                return Err(size_error());
            }
            Tensor::from_data(shape, Bytes::wrap(values))
        }
    })
}
