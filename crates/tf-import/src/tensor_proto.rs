//! TensorFlow's dtypes, shapes and constant tensors, as ours.

use opset::{DataType, Shape, Tensor};

use crate::pb;

type R<T> = Result<T, String>;

/// Our dtype for a TensorFlow dtype code (ref types, +100, read as their base).
pub(crate) fn dtype(code: i32) -> R<DataType> {
    let code = if code > 100 { code - 100 } else { code };
    match pb::DataType::try_from(code) {
        Ok(pb::DataType::DtFloat) => Ok(DataType::F32),
        Ok(pb::DataType::DtInt64) => Ok(DataType::I64),
        Ok(pb::DataType::DtInt32) => Ok(DataType::I32),
        Ok(pb::DataType::DtBool) => Ok(DataType::Bool),
        Ok(pb::DataType::DtString) => Ok(DataType::String),
        Ok(other) => Err(format!("dtype {} is not supported", other.as_str_name())),
        Err(_) => Err(format!("unknown dtype code {code}")),
    }
}

/// A declared shape; an unknown rank is an error (signatures need a rank).
pub(crate) fn shape(s: Option<&pb::TensorShapeProto>) -> R<Shape> {
    let Some(s) = s else { return Ok(Shape::scalar()) };
    if s.unknown_rank {
        return Err("the shape has an unknown rank".into());
    }
    Shape::from_dims(&s.dim.iter().map(|d| d.size).collect::<Vec<_>>(), "shape").map_err(|e| e.to_string())
}

/// A fully known shape and its element count.
pub(crate) fn known_shape(s: Option<&pb::TensorShapeProto>) -> R<(Vec<usize>, usize)> {
    let declared = shape(s)?;
    let dims = declared.as_known().ok_or_else(|| format!("shape {declared} is not fully known"))?;
    let n = opset::element_count(&dims, "tensor").map_err(|e| e.to_string())?;
    Ok((dims, n))
}

/// A constant: from `tensor_content` (raw little-endian), from the typed
/// `*_val` lists, or a single `*_val` broadcast to the whole shape, as
/// TensorFlow allows.
pub(crate) fn tensor(t: &pb::TensorProto) -> R<Tensor> {
    let dtype = dtype(t.dtype)?;
    let (dims, n) = known_shape(t.tensor_shape.as_ref())?;
    fn fill<T: Clone>(values: Vec<T>, n: usize) -> R<Vec<T>> {
        match values.len() {
            len if len == n => Ok(values),
            1 => Ok(vec![values[0].clone(); n]),
            0 if n == 0 => Ok(values),
            len => Err(format!("{len} values for {n} elements")),
        }
    }
    if !t.tensor_content.is_empty() && dtype != DataType::String {
        return export::tensor_from_bytes(dtype, dims, n, &t.tensor_content, "constant");
    }
    let tensor = match dtype {
        DataType::F32 => Tensor::from_vec(dims, fill(t.float_val.clone(), n)?),
        DataType::I32 => Tensor::from_vec(dims, fill(t.int_val.clone(), n)?),
        DataType::I64 => Tensor::from_vec(dims, fill(t.int64_val.clone(), n)?),
        DataType::Bool => Tensor::from_vec(dims, fill(t.bool_val.clone(), n)?),
        DataType::String => {
            let strings = t.string_val.iter().map(|b| opset::Bytes::copy_from_slice(b)).collect();
            Tensor::from_vec(dims, fill(strings, n)?)
        }
    };
    tensor.map_err(|e| e.to_string())
}
