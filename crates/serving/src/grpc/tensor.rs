//! `TensorProto` both ways: a request's inputs into the predictor's tensors,
//! its outputs back, with TensorFlow's typed fields (`float_val`...) or
//! `tensor_content` (raw little-endian elements).

use predictor::{Bytes, DataType, Tensor};

use super::proto::tensorflow::tensor_shape_proto::Dim;
use super::proto::tensorflow::{DataType as ProtoDataType, TensorProto, TensorShapeProto};
use crate::error::Error;

/// How a response writes its numeric outputs (strings always go in
/// `string_val`, as TensorFlow Serving writes them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TensorEncoding {
    /// The typed fields (`float_val`, `int_val`, `int64_val`, `bool_val`):
    /// TensorFlow Serving's default, which clients reading
    /// `outputs["y"].float_val` rely on.
    #[default]
    Fields,
    /// `tensor_content`, the elements as raw little-endian bytes: smaller
    /// and faster for large outputs; `tf.make_ndarray` reads both.
    Content,
}

/// TensorFlow's enum value of `dtype`.
pub(crate) fn proto_dtype(dtype: DataType) -> ProtoDataType {
    match dtype {
        DataType::F32 => ProtoDataType::DtFloat,
        DataType::I64 => ProtoDataType::DtInt64,
        DataType::I32 => ProtoDataType::DtInt32,
        DataType::Bool => ProtoDataType::DtBool,
        DataType::String => ProtoDataType::DtString,
    }
}

/// `dims` as a `TensorShapeProto` (-1 for an unknown dimension).
pub(crate) fn proto_shape(dims: impl IntoIterator<Item = i64>) -> TensorShapeProto {
    TensorShapeProto {
        dim: dims.into_iter().map(|size| Dim { size, name: String::new() }).collect(),
        unknown_rank: false,
    }
}

/// Input `key` of a request as a tensor. `expected` is the signature's
/// dtype for the key, if it has the key, for the message about a dtype
/// the server does not have.
///
/// As TensorFlow's `Tensor::FromProto`: `tensor_content` must hold exactly
/// the shape's elements; in a typed field, one value fills the whole shape
/// (the rule `tensor.proto` states). Unlike TensorFlow, which also repeats
/// the last of too few values and drops values past the shape, any other
/// count is refused, since it is a client's mistake.
///
/// # Errors
/// [`predictor::Error::InputValue`] naming the key: an unset or unserved
/// dtype, an unknown rank or dimension, a count of values or bytes that is
/// not the shape's, a string that is not UTF-8.
pub(crate) fn decode(key: &str, proto: TensorProto, expected: Option<DataType>) -> Result<Tensor, Error> {
    decode_impl(proto, expected)
        .map_err(|reason| Error::Predictor(predictor::Error::InputValue { key: key.to_owned(), reason }))
}

/// A request's input tensors by key, each decoded as `predictor`'s
/// signature expects it.
///
/// # Errors
/// As [`decode`], naming the input.
pub(crate) fn decode_inputs(
    predictor: &predictor::Predictor,
    inputs: impl IntoIterator<Item = (String, TensorProto)>,
) -> Result<Vec<(String, Tensor)>, Error> {
    let specs = predictor.inputs();
    inputs
        .into_iter()
        .map(|(key, proto)| {
            let expected = specs.iter().find(|s| s.key == key).map(|s| s.dtype);
            let tensor = decode(&key, proto, expected)?;
            Ok((key, tensor))
        })
        .collect()
}

fn decode_impl(mut proto: TensorProto, expected: Option<DataType>) -> Result<Tensor, String> {
    let dtype = dtype(proto.dtype, expected)?;
    let shape = shape(proto.tensor_shape.as_ref())?;
    let n = shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or_else(|| format!("shape {shape:?} holds more elements than memory"))?;
    let content = &proto.tensor_content;
    let from_content = !content.is_empty() || (n == 0 && proto_value_count(&proto) == 0);
    let tensor = match dtype {
        DataType::F32 if from_content => {
            Tensor::from_vec(shape, little_endian(content, n, "DT_FLOAT", f32::from_le_bytes)?)
        }
        DataType::I32 if from_content => {
            Tensor::from_vec(shape, little_endian(content, n, "DT_INT32", i32::from_le_bytes)?)
        }
        DataType::I64 if from_content => {
            Tensor::from_vec(shape, little_endian(content, n, "DT_INT64", i64::from_le_bytes)?)
        }
        DataType::Bool if from_content => {
            Tensor::from_vec(shape, little_endian(content, n, "DT_BOOL", |[b]: [u8; 1]| b != 0)?)
        }
        DataType::String if from_content => Tensor::from_vec(shape, string_list(content, n)?),
        DataType::F32 => {
            Tensor::from_vec(shape.clone(), fill(std::mem::take(&mut proto.float_val), n, &shape, "float_val", &proto)?)
        }
        DataType::I32 => {
            Tensor::from_vec(shape.clone(), fill(std::mem::take(&mut proto.int_val), n, &shape, "int_val", &proto)?)
        }
        DataType::I64 => {
            Tensor::from_vec(shape.clone(), fill(std::mem::take(&mut proto.int64_val), n, &shape, "int64_val", &proto)?)
        }
        DataType::Bool => {
            Tensor::from_vec(shape.clone(), fill(std::mem::take(&mut proto.bool_val), n, &shape, "bool_val", &proto)?)
        }
        DataType::String => {
            let strings = std::mem::take(&mut proto.string_val).into_iter().map(Bytes::from).collect();
            Tensor::from_vec(shape.clone(), fill(strings, n, &shape, "string_val", &proto)?)
        }
    };
    tensor.map_err(|e| e.to_string())
}

/// The predictor's dtype for the request's `dtype` value.
fn dtype(value: i32, expected: Option<DataType>) -> Result<DataType, String> {
    let proto = ProtoDataType::try_from(value).map_err(|_| format!("dtype {value} is not a TensorFlow DataType"))?;
    match proto {
        ProtoDataType::DtFloat => Ok(DataType::F32),
        ProtoDataType::DtInt32 => Ok(DataType::I32),
        ProtoDataType::DtInt64 => Ok(DataType::I64),
        ProtoDataType::DtBool => Ok(DataType::Bool),
        ProtoDataType::DtString => Ok(DataType::String),
        ProtoDataType::DtInvalid => Err("the TensorProto has no dtype".into()),
        other => Err(format!(
            "expected dtype {}, got {}; the server's dtypes are DT_FLOAT, DT_INT64, DT_INT32, DT_BOOL and DT_STRING",
            expected.map_or("one of them", DataType::tf_name),
            other.as_str_name()
        )),
    }
}

/// A value's dims from its `tensor_shape` (none: a scalar).
fn shape(proto: Option<&TensorShapeProto>) -> Result<Vec<usize>, String> {
    let Some(proto) = proto else { return Ok(Vec::new()) };
    if proto.unknown_rank {
        return Err("tensor_shape has unknown_rank set: a value needs its dims".into());
    }
    proto
        .dim
        .iter()
        .enumerate()
        .map(|(i, d)| {
            usize::try_from(d.size)
                .map_err(|_| format!("dimension {i} of tensor_shape is {}: a value's dims are all known", d.size))
        })
        .collect()
}

/// How many values the typed fields hold, all fields together.
fn proto_value_count(proto: &TensorProto) -> usize {
    proto.float_val.len()
        + proto.double_val.len()
        + proto.int_val.len()
        + proto.int64_val.len()
        + proto.bool_val.len()
        + proto.string_val.len()
}

/// The `n` elements of a typed field (taken out of `proto`): all of them,
/// or one repeated.
fn fill<T: Clone>(
    values: Vec<T>,
    n: usize,
    shape: &[usize],
    field: &str,
    proto: &TensorProto,
) -> Result<Vec<T>, String> {
    match values.len() {
        len if len == n => Ok(values),
        1 => Ok(vec![values[0].clone(); n]),
        0 if proto_value_count(proto) > 0 => {
            let dtype = ProtoDataType::try_from(proto.dtype).map_or("?", |d| d.as_str_name());
            Err(format!("dtype {dtype} takes its values in {field} or tensor_content, and {field} is empty"))
        }
        len => Err(format!(
            "shape {shape:?} holds {n} values, got {len} in {field} (one value fills the shape, as in TensorFlow)"
        )),
    }
}

/// `n` little-endian elements of `N` bytes each.
fn little_endian<T, const N: usize>(
    bytes: &[u8],
    n: usize,
    dtype: &str,
    read: fn([u8; N]) -> T,
) -> Result<Vec<T>, String> {
    if Some(bytes.len()) != n.checked_mul(N) {
        return Err(format!("tensor_content holds {} bytes; {n} elements of {dtype} take {}", bytes.len(), n * N));
    }
    Ok(bytes
        .chunks_exact(N)
        .map(|c| {
            let mut element = [0u8; N];
            element.copy_from_slice(c);
            read(element)
        })
        .collect())
}

/// `n` strings in TensorFlow's `tensor_content` layout for DT_STRING: every
/// length as a varint32, then every string's bytes.
fn string_list(bytes: &[u8], n: usize) -> Result<Vec<Bytes>, String> {
    let mut at = 0;
    let mut lengths = Vec::with_capacity(n.min(bytes.len()));
    for _ in 0..n {
        let mut length = 0usize;
        for shift in (0..35).step_by(7) {
            let byte = *bytes.get(at).ok_or("tensor_content ends inside the string lengths")?;
            at += 1;
            length |= usize::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                break;
            }
        }
        lengths.push(length);
    }
    let mut strings = Vec::with_capacity(n);
    for length in lengths {
        let end =
            at.checked_add(length).filter(|&end| end <= bytes.len()).ok_or("tensor_content ends inside a string")?;
        strings.push(Bytes::copy_from_slice(&bytes[at..end]));
        at = end;
    }
    if at != bytes.len() {
        return Err(format!("tensor_content has {} bytes past its {n} strings", bytes.len() - at));
    }
    Ok(strings)
}

/// An output as a `TensorProto`: dtype, shape and elements.
pub(crate) fn encode(tensor: &Tensor, encoding: TensorEncoding) -> TensorProto {
    let mut proto = TensorProto {
        dtype: proto_dtype(tensor.dtype()).into(),
        tensor_shape: Some(proto_shape(tensor.shape().iter().map(|&d| i64::try_from(d).unwrap_or(i64::MAX)))),
        ..TensorProto::default()
    };
    let content = encoding == TensorEncoding::Content;
    // Each slice is of the tensor's own dtype, so these never fail.
    match tensor.dtype() {
        DataType::F32 if content => proto.tensor_content = bytes(tensor.as_slice::<f32>(), |v| v.to_le_bytes()),
        DataType::I32 if content => proto.tensor_content = bytes(tensor.as_slice::<i32>(), |v| v.to_le_bytes()),
        DataType::I64 if content => proto.tensor_content = bytes(tensor.as_slice::<i64>(), |v| v.to_le_bytes()),
        DataType::Bool if content => proto.tensor_content = bytes(tensor.as_slice::<bool>(), |v| [u8::from(*v)]),
        DataType::F32 => proto.float_val = tensor.as_slice::<f32>().map(<[f32]>::to_vec).unwrap_or_default(),
        DataType::I32 => proto.int_val = tensor.as_slice::<i32>().map(<[i32]>::to_vec).unwrap_or_default(),
        DataType::I64 => proto.int64_val = tensor.as_slice::<i64>().map(<[i64]>::to_vec).unwrap_or_default(),
        DataType::Bool => proto.bool_val = tensor.as_slice::<bool>().map(<[bool]>::to_vec).unwrap_or_default(),
        DataType::String => {
            proto.string_val =
                tensor.as_slice::<Bytes>().map(|s| s.iter().map(|s| s.to_vec()).collect()).unwrap_or_default();
        }
    }
    proto
}

fn bytes<T, const N: usize>(values: Result<&[T], predictor::OpsetError>, le: fn(&T) -> [u8; N]) -> Vec<u8> {
    let values = values.unwrap_or_default();
    let mut out = Vec::with_capacity(values.len() * N);
    for v in values {
        out.extend_from_slice(&le(v));
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn proto(dtype: ProtoDataType, dims: &[i64]) -> TensorProto {
        TensorProto {
            dtype: dtype.into(),
            tensor_shape: Some(proto_shape(dims.iter().copied())),
            ..TensorProto::default()
        }
    }

    #[test]
    fn every_dtype_round_trips_through_fields_and_content() {
        let tensors = [
            Tensor::from_vec(vec![2, 1], vec![1.5f32, -2.0]).unwrap(),
            Tensor::from_vec(vec![3], vec![1i32, -7, 9]).unwrap(),
            Tensor::from_vec(vec![1, 2], vec![i64::MAX, -1]).unwrap(),
            Tensor::from_vec(vec![2], vec![true, false]).unwrap(),
            Tensor::strings(vec![2, 2], vec!["a".to_owned(), String::new(), "été".into(), "xyz".into()]).unwrap(),
            // Strings are bytes: a serialized proto is not UTF-8.
            Tensor::strings(vec![2], [b"\x0a\xff\x00".as_slice(), b""]).unwrap(),
            Tensor::from_vec(vec![0, 3], Vec::<f32>::new()).unwrap(),
            Tensor::scalar(4.25f32),
        ];
        for tensor in tensors {
            for encoding in [TensorEncoding::Fields, TensorEncoding::Content] {
                let proto = encode(&tensor, encoding);
                assert_eq!(decode("x", proto, None).unwrap(), tensor, "{tensor:?} {encoding:?}");
            }
        }
    }

    #[test]
    fn strings_in_tensor_content_use_tensorflows_layout() {
        // TensorFlow: tf.make_tensor_proto([b"ab", b"c"]) then
        // Tensor.AsProtoTensorContent: varint lengths, then the bytes.
        let mut p = proto(ProtoDataType::DtString, &[2]);
        p.tensor_content = b"\x02\x01abc".to_vec();
        assert_eq!(
            decode("s", p, None).unwrap(),
            Tensor::strings(vec![2], vec!["ab".to_owned(), "c".to_owned()]).unwrap()
        );
    }

    #[test]
    fn one_value_fills_the_shape() {
        let mut p = proto(ProtoDataType::DtFloat, &[2, 2]);
        p.float_val = vec![3.0];
        assert_eq!(decode("x", p, None).unwrap(), Tensor::from_vec(vec![2, 2], vec![3.0f32; 4]).unwrap());
    }

    #[test]
    fn bad_values_say_what_and_which_input() {
        let cases: Vec<(TensorProto, &str)> = vec![
            (
                TensorProto { float_val: vec![1.0, 2.0, 3.0], ..proto(ProtoDataType::DtFloat, &[2, 1]) },
                "shape [2, 1] holds 2 values, got 3 in float_val",
            ),
            (
                TensorProto { tensor_content: vec![0; 7], ..proto(ProtoDataType::DtFloat, &[2]) },
                "tensor_content holds 7 bytes; 2 elements of DT_FLOAT take 8",
            ),
            (proto(ProtoDataType::DtFloat, &[-1, 1]), "dimension 0 of tensor_shape is -1"),
            (TensorProto { double_val: vec![1.0], ..proto(ProtoDataType::DtDouble, &[1]) }, "got DT_DOUBLE"),
            (TensorProto { int_val: vec![1], ..proto(ProtoDataType::DtFloat, &[1]) }, "float_val is empty"),
            (TensorProto { float_val: vec![1.0], ..TensorProto::default() }, "no dtype"),
            (
                TensorProto { tensor_content: b"\x05ab".to_vec(), ..proto(ProtoDataType::DtString, &[1]) },
                "ends inside a string",
            ),
        ];
        for (p, says) in cases {
            let err = decode("number", p, Some(DataType::F32)).unwrap_err().to_string();
            assert!(err.starts_with("input \"number\": ") && err.contains(says), "{err}");
        }
    }
}
