//! Tensors as JSON nested arrays, the encoding TensorFlow Serving's REST API
//! and `saved_model_cli` use: `[[1.0], [2.0]]` is a `[2, 1]` tensor.

use opset::{DataType, Tensor};
use serde_json::Value;

use crate::{Error, Result};

/// Reads `value` (nested arrays of numbers, bools or strings, or a scalar)
/// as a tensor of `dtype`, for the input `key`.
///
/// # Errors
/// [`Error::InputValue`] naming `key` for ragged nesting, an element of the
/// wrong kind, or an integer out of range.
pub fn tensor_from_json(value: &Value, dtype: DataType, key: &str) -> Result<Tensor> {
    let fail = |reason: String| Error::InputValue { key: key.to_owned(), reason };
    let mut shape = Vec::new();
    let mut probe = value;
    while let Value::Array(items) = probe {
        shape.push(items.len());
        match items.first() {
            Some(first) => probe = first,
            None => break,
        }
    }
    let mut leaves = Vec::with_capacity(shape.iter().product());
    collect(value, &shape, &mut leaves).map_err(fail)?;
    // Each leaf read as the dtype's element, or an error naming its index.
    fn read<T>(leaves: &[&Value], dtype: DataType, f: impl Fn(&Value) -> Option<T>) -> Result<Vec<T>, String> {
        leaves
            .iter()
            .enumerate()
            .map(|(i, v)| f(v).ok_or_else(|| format!("element {i} is {v}, not a {dtype}")))
            .collect()
    }
    let tensor = match dtype {
        DataType::F32 => Tensor::from_vec(shape, read(&leaves, dtype, |v| v.as_f64().map(|f| f as f32)).map_err(fail)?),
        DataType::I64 => Tensor::from_vec(shape, read(&leaves, dtype, Value::as_i64).map_err(fail)?),
        DataType::I32 => Tensor::from_vec(
            shape,
            read(&leaves, dtype, |v| v.as_i64().and_then(|x| i32::try_from(x).ok())).map_err(fail)?,
        ),
        DataType::Bool => Tensor::from_vec(shape, read(&leaves, dtype, Value::as_bool).map_err(fail)?),
        DataType::String => {
            Tensor::from_vec(shape, read(&leaves, dtype, |v| v.as_str().map(str::to_owned)).map_err(fail)?)
        }
    };
    Ok(tensor?)
}

/// Collects the leaves of `value`, checking every level has the length of `shape`.
fn collect<'a>(value: &'a Value, shape: &[usize], leaves: &mut Vec<&'a Value>) -> std::result::Result<(), String> {
    match (value, shape.split_first()) {
        (Value::Array(items), Some((&n, rest))) if items.len() == n => {
            items.iter().try_for_each(|item| collect(item, rest, leaves))
        }
        (Value::Array(items), Some((&n, _))) => {
            Err(format!("ragged nesting: a list of {} where the first list at that depth has {n}", items.len()))
        }
        (Value::Array(_), None) => Err("ragged nesting: a list where the first list holds a scalar".into()),
        (_, Some(_)) => Err(format!("ragged nesting: {value} where a list was expected")),
        (leaf, None) => {
            leaves.push(leaf);
            Ok(())
        }
    }
}

/// Writes `tensor` as nested arrays. Non-finite floats, which JSON cannot
/// hold, become `null`.
pub fn tensor_to_json(tensor: &Tensor) -> Value {
    fn nest<T>(shape: &[usize], items: &[T], leaf: &impl Fn(&T) -> Value) -> Value {
        match shape.split_first() {
            None => items.first().map_or(Value::Null, leaf),
            Some((&n, rest)) => {
                let inner: usize = rest.iter().product();
                Value::Array((0..n).map(|i| nest(rest, &items[i * inner..(i + 1) * inner], leaf)).collect())
            }
        }
    }
    let shape = tensor.shape();
    match tensor.dtype() {
        DataType::F32 => nest(shape, tensor.as_slice::<f32>().unwrap_or_default(), &|v| {
            serde_json::Number::from_f64(f64::from(*v)).map_or(Value::Null, Value::Number)
        }),
        DataType::I64 => nest(shape, tensor.as_slice::<i64>().unwrap_or_default(), &|v| Value::from(*v)),
        DataType::I32 => nest(shape, tensor.as_slice::<i32>().unwrap_or_default(), &|v| Value::from(*v)),
        DataType::Bool => nest(shape, tensor.as_slice::<bool>().unwrap_or_default(), &|v| Value::from(*v)),
        DataType::String => nest(shape, tensor.as_slice::<String>().unwrap_or_default(), &|v| Value::from(v.as_str())),
    }
}
