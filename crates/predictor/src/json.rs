//! Tensors as JSON nested arrays, the encoding TensorFlow Serving's REST API
//! and `saved_model_cli` use: `[[1.0], [2.0]]` is a `[2, 1]` tensor.
//!
//! Non-finite floats are the tokens `NaN`, `Infinity` and `-Infinity`, as
//! TensorFlow Serving reads and writes them (RapidJSON's
//! `kParseNanAndInfFlag` and `kWriteNanAndInfFlag` in
//! tensorflow_serving/util/json_tensor.cc; `Inf` and `-Inf` are read too).
//! JSON has no such tokens and serde_json refuses them, so [`parse`] and
//! [`to_string`] stand between the text and [`Value`]: inside a `Value`, a
//! non-finite float is one of three marker strings that begin with the
//! Unicode noncharacter U+FDD0, which [`tensor_from_json`] reads as the
//! float and [`to_string`] writes as the bare token.
//!
//! Strings are bytes: a JSON string gives its UTF-8, and `{"b64": "..."}`
//! any bytes (a serialized proto, an image), as TensorFlow Serving reads
//! them; [`tensor_to_json`] writes UTF-8 strings as JSON strings and other
//! bytes as `{"b64": "..."}`, and [`output_to_json`] every string of an
//! output whose key ends in `_bytes` as `{"b64": "..."}`, as TensorFlow
//! Serving does.

use base64::Engine;
use opset::{Bytes, DataType, Tensor};
use serde_json::Value;

use crate::{Error, Result};

/// The marker strings of the non-finite floats inside a [`Value`], and
/// their tokens in JSON text.
const NON_FINITE: [(&str, &str, f32); 3] = [
    ("\u{FDD0}NaN", "NaN", f32::NAN),
    ("\u{FDD0}Infinity", "Infinity", f32::INFINITY),
    ("\u{FDD0}-Infinity", "-Infinity", f32::NEG_INFINITY),
];

/// The tokens read outside strings, longest first, and the marker each becomes.
const TOKENS: [(&str, usize); 5] = [("-Infinity", 2), ("Infinity", 1), ("-Inf", 2), ("Inf", 1), ("NaN", 0)];

/// Parses JSON text that may hold `NaN`, `Infinity` and `-Infinity` (and
/// `Inf`, `-Inf`) as numbers, as TensorFlow Serving's REST API accepts.
///
/// # Errors
/// serde_json's, for text that is not JSON with those tokens.
pub fn parse(text: &[u8]) -> serde_json::Result<Value> {
    let has_token = text.windows(3).any(|w| w == b"NaN" || w == b"Inf");
    if !has_token {
        return serde_json::from_slice(text);
    }
    let mut out = Vec::with_capacity(text.len() + 16);
    let (mut i, mut in_string, mut escaped) = (0, false, false);
    while let Some(&b) = text.get(i) {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
        } else if b == b'"' {
            in_string = true;
        } else if let Some((token, marker)) =
            TOKENS.iter().find(|(token, _)| text.get(i..).is_some_and(|rest| rest.starts_with(token.as_bytes())))
        {
            out.push(b'"');
            out.extend_from_slice(NON_FINITE[*marker].0.as_bytes());
            out.push(b'"');
            i += token.len();
            continue;
        }
        out.push(b);
        i += 1;
    }
    serde_json::from_slice(&out)
}

/// Writes `value` as JSON text, non-finite floats (from [`tensor_to_json`])
/// as the bare tokens `NaN`, `Infinity` and `-Infinity`, as TensorFlow
/// Serving writes them.
pub fn to_string(value: &Value) -> String {
    let text = value.to_string();
    if !text.contains('\u{FDD0}') {
        return text;
    }
    NON_FINITE.iter().fold(text, |text, (marker, token, _)| text.replace(&format!("\"{marker}\""), token))
}

/// The float a marker string stands for.
fn non_finite(value: &Value) -> Option<f32> {
    let text = value.as_str()?;
    NON_FINITE.iter().find(|(marker, _, _)| *marker == text).map(|(_, _, f)| *f)
}

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
            .map(|(i, v)| f(v).ok_or_else(|| format!("element {i} is {}, not a {dtype}", to_string(v))))
            .collect()
    }
    let tensor = match dtype {
        DataType::F32 => Tensor::from_vec(
            shape,
            read(&leaves, dtype, |v| v.as_f64().map(|f| f as f32).or_else(|| non_finite(v))).map_err(fail)?,
        ),
        DataType::I64 => Tensor::from_vec(shape, read(&leaves, dtype, Value::as_i64).map_err(fail)?),
        DataType::I32 => Tensor::from_vec(
            shape,
            read(&leaves, dtype, |v| v.as_i64().and_then(|x| i32::try_from(x).ok())).map_err(fail)?,
        ),
        DataType::Bool => Tensor::from_vec(shape, read(&leaves, dtype, Value::as_bool).map_err(fail)?),
        DataType::String => Tensor::from_vec(shape, read(&leaves, dtype, string_leaf).map_err(fail)?),
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

/// The bytes of a string leaf: a JSON string's UTF-8, or the bytes a
/// `{"b64": "..."}` object encodes.
fn string_leaf(value: &Value) -> Option<Bytes> {
    match value {
        Value::String(s) => Some(Bytes::copy_from_slice(s.as_bytes())),
        Value::Object(map) if map.len() == 1 => {
            let encoded = map.get("b64")?.as_str()?;
            base64::engine::general_purpose::STANDARD.decode(encoded).ok().map(Bytes::from)
        }
        _ => None,
    }
}

/// `{"b64": "..."}` of `bytes`.
fn b64(bytes: &[u8]) -> Value {
    serde_json::json!({ "b64": base64::engine::general_purpose::STANDARD.encode(bytes) })
}

/// Writes the output `key` as TensorFlow Serving does: as
/// [`tensor_to_json`], but every string as `{"b64": "..."}` when the key
/// ends in `_bytes`.
pub fn output_to_json(key: &str, tensor: &Tensor) -> Value {
    match (key.ends_with("_bytes"), tensor.as_slice::<Bytes>()) {
        (true, Ok(strings)) => nest(tensor.shape(), strings, &|v| b64(v)),
        _ => tensor_to_json(tensor),
    }
}

/// `items` (row-major, of `shape`) as nested arrays, each leaf written by `leaf`.
fn nest<T>(shape: &[usize], items: &[T], leaf: &impl Fn(&T) -> Value) -> Value {
    match shape.split_first() {
        None => items.first().map_or(Value::Null, leaf),
        Some((&n, rest)) => {
            let inner: usize = rest.iter().product();
            Value::Array((0..n).map(|i| nest(rest, &items[i * inner..(i + 1) * inner], leaf)).collect())
        }
    }
}

/// Writes `tensor` as nested arrays. Non-finite floats become the markers
/// [`to_string`] writes as `NaN`, `Infinity` and `-Infinity`; strings that
/// are not UTF-8 become `{"b64": "..."}`.
pub fn tensor_to_json(tensor: &Tensor) -> Value {
    let shape = tensor.shape();
    match tensor.dtype() {
        DataType::F32 => nest(shape, tensor.as_slice::<f32>().unwrap_or_default(), &|v| {
            serde_json::Number::from_f64(f64::from(*v)).map_or_else(
                || {
                    let marker = if v.is_nan() {
                        0
                    } else if *v > 0.0 {
                        1
                    } else {
                        2
                    };
                    Value::from(NON_FINITE[marker].0)
                },
                Value::Number,
            )
        }),
        DataType::I64 => nest(shape, tensor.as_slice::<i64>().unwrap_or_default(), &|v| Value::from(*v)),
        DataType::I32 => nest(shape, tensor.as_slice::<i32>().unwrap_or_default(), &|v| Value::from(*v)),
        DataType::Bool => nest(shape, tensor.as_slice::<bool>().unwrap_or_default(), &|v| Value::from(*v)),
        DataType::String => nest(shape, tensor.as_slice::<Bytes>().unwrap_or_default(), &|v| {
            std::str::from_utf8(v).map_or_else(|_| b64(v), Value::from)
        }),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_bytes_read_from_text_or_b64_and_written_back_losslessly() {
        let value = parse(br#"[["caf\u00e9", {"b64": "/wA="}]]"#).unwrap();
        let tensor = tensor_from_json(&value, DataType::String, "s").unwrap();
        assert_eq!(tensor.as_slice::<Bytes>().unwrap(), [b"caf\xc3\xa9".as_slice(), b"\xff\x00"]);
        // UTF-8 as text, other bytes as b64; every string as b64 under a `_bytes` key.
        assert_eq!(to_string(&tensor_to_json(&tensor)), r#"[["café",{"b64":"/wA="}]]"#);
        assert_eq!(to_string(&output_to_json("image_bytes", &tensor)), r#"[[{"b64":"Y2Fmw6k="},{"b64":"/wA="}]]"#);
        let bad = parse(br#"[{"b64": "not base64!"}]"#).unwrap();
        let err = tensor_from_json(&bad, DataType::String, "s").unwrap_err().to_string();
        assert!(err.contains("element 0"), "{err}");
    }

    #[test]
    fn non_finite_floats_read_and_written_as_tensorflow_serving() {
        let value = parse(br#"{"x": [NaN, Infinity, -Infinity, Inf, -Inf, 1.5], "s": "NaN \" Infinity"}"#).unwrap();
        let tensor = tensor_from_json(&value["x"], DataType::F32, "x").unwrap();
        let v = tensor.as_slice::<f32>().unwrap();
        assert!(v[0].is_nan());
        assert_eq!(&v[1..], [f32::INFINITY, f32::NEG_INFINITY, f32::INFINITY, f32::NEG_INFINITY, 1.5]);
        assert_eq!(value["s"], "NaN \" Infinity", "tokens inside strings stay text");
        let written = to_string(&tensor_to_json(&tensor));
        assert_eq!(written, "[NaN,Infinity,-Infinity,Infinity,-Infinity,1.5]");
        let err = tensor_from_json(&value["x"], DataType::I64, "x").unwrap_err().to_string();
        assert!(err.contains("element 0 is NaN, not a"), "{err}");
        assert!(parse(b"[Nope]").is_err());
    }
}
