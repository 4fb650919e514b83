//! `tf.Example`s from TensorFlow Serving's JSON (the `:classify` and
//! `:regress` bodies, `tensorflow_serving/util/json_tensor.cc`): each
//! example an object of features, each feature a value or a list of values
//! of one kind: strings (`bytes_list`; `{"b64": "..."}` for any bytes),
//! integers (`int64_list`) or other numbers (`float_list`). A `context`
//! object's features go into every example, the example's own winning.

use base64::Engine;
use prost::Message;
use serde_json::{Map, Value};

use crate::error::Error;
use crate::grpc::proto::tensorflow::feature::Kind;
use crate::grpc::proto::tensorflow::{BytesList, Example, Feature, Features, FloatList, Int64List};

/// The serialized examples of a `:classify` / `:regress` body's `examples`
/// and `context`.
///
/// # Errors
/// [`Error::BadRequest`] naming the example and feature: not an object,
/// a feature of mixed kinds, nested lists, bad base64.
pub(crate) fn serialized_examples(body: &Map<String, Value>) -> Result<Vec<predictor::Bytes>, Error> {
    let examples = match body.get("examples") {
        Some(Value::Array(examples)) => examples,
        Some(_) => return Err(Error::BadRequest("'examples' must be a list of objects".into())),
        None => return Err(Error::BadRequest("missing 'examples': a list of objects of features".into())),
    };
    // As TensorFlow Serving's ExampleListWithContext: the context's bytes,
    // then the example's (a proto merge: the example's features win).
    let context = match body.get("context") {
        None => Vec::new(),
        Some(value) => example(value, "context")?.encode_to_vec(),
    };
    examples
        .iter()
        .enumerate()
        .map(|(i, value)| {
            let mut bytes = context.clone();
            bytes.extend(example(value, &format!("example {i}"))?.encode_to_vec());
            Ok(predictor::Bytes::from(bytes))
        })
        .collect()
}

/// One example from its JSON object.
fn example(value: &Value, at: &str) -> Result<Example, Error> {
    let Value::Object(features) = value else {
        return Err(Error::BadRequest(format!("{at} must be an object of features, got {value}")));
    };
    let feature = features
        .iter()
        .map(|(key, value)| {
            Ok((key.clone(), Feature { kind: Some(feature(value, &format!("{at}, feature {key:?}"))?) }))
        })
        .collect::<Result<_, Error>>()?;
    Ok(Example { features: Some(Features { feature }) })
}

/// One value of a feature.
enum Scalar {
    Bytes(Vec<u8>),
    Int(i64),
    Float(f32),
}

fn scalar(value: &Value, at: &str) -> Result<Scalar, Error> {
    let bad = |what: &str| Error::BadRequest(format!("{at}: {what}, got {value}"));
    match value {
        Value::String(s) => Ok(Scalar::Bytes(s.clone().into_bytes())),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Ok(Scalar::Int(i)),
            None => n.as_f64().map(|f| Scalar::Float(f as f32)).ok_or_else(|| bad("a number out of range")),
        },
        Value::Object(map) if map.len() == 1 => {
            let encoded =
                map.get("b64").and_then(Value::as_str).ok_or_else(|| bad("an object must be {\"b64\": ...}"))?;
            base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .map(Scalar::Bytes)
                .map_err(|e| Error::BadRequest(format!("{at}: bad base64: {e}")))
        }
        _ => Err(bad("expected a string, a number or {\"b64\": ...}")),
    }
}

/// A feature's list: one value, or a list of values of one kind (numbers
/// mixing integers and others are floats).
fn feature(value: &Value, at: &str) -> Result<Kind, Error> {
    let items: Vec<Scalar> = match value {
        Value::Array(items) => items.iter().map(|v| scalar(v, at)).collect::<Result<_, _>>()?,
        one => vec![scalar(one, at)?],
    };
    let floats = items.iter().any(|s| matches!(s, Scalar::Float(_)));
    let mut kind = match items.first() {
        Some(Scalar::Bytes(_)) => Kind::BytesList(BytesList::default()),
        Some(_) if floats => Kind::FloatList(FloatList::default()),
        Some(_) => Kind::Int64List(Int64List::default()),
        // An empty list: no value of any kind.
        None => Kind::FloatList(FloatList::default()),
    };
    for item in items {
        match (&mut kind, item) {
            (Kind::BytesList(l), Scalar::Bytes(b)) => l.value.push(b),
            (Kind::Int64List(l), Scalar::Int(i)) => l.value.push(i),
            (Kind::FloatList(l), Scalar::Float(f)) => l.value.push(f),
            (Kind::FloatList(l), Scalar::Int(i)) => l.value.push(i as f32),
            _ => {
                return Err(Error::BadRequest(format!(
                    "{at}: the values of a feature must all be strings or all numbers"
                )));
            }
        }
    }
    Ok(kind)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> Example {
        Example::decode(bytes).unwrap()
    }

    fn kind<'e>(e: &'e Example, key: &str) -> &'e Kind {
        e.features.as_ref().unwrap().feature[key].kind.as_ref().unwrap()
    }

    #[test]
    fn features_take_tensorflow_servings_kinds_and_the_context_goes_into_every_example() {
        let body = serde_json::json!({
            "context": {"country": "fr", "age": 30},
            "examples": [{"x": 0.5, "tags": ["a", "b"], "raw": {"b64": "/wA="}, "n": [1, 2]}, {"age": 41, "mix": [1, 2.5]}],
        });
        let all = serialized_examples(body.as_object().unwrap()).unwrap();
        let (first, second) = (decode(&all[0]), decode(&all[1]));
        assert_eq!(kind(&first, "x"), &Kind::FloatList(FloatList { value: vec![0.5] }));
        assert_eq!(kind(&first, "tags"), &Kind::BytesList(BytesList { value: vec![b"a".to_vec(), b"b".to_vec()] }));
        assert_eq!(kind(&first, "raw"), &Kind::BytesList(BytesList { value: vec![vec![0xff, 0]] }));
        assert_eq!(kind(&first, "n"), &Kind::Int64List(Int64List { value: vec![1, 2] }));
        assert_eq!(kind(&first, "country"), &Kind::BytesList(BytesList { value: vec![b"fr".to_vec()] }));
        assert_eq!(kind(&second, "age"), &Kind::Int64List(Int64List { value: vec![41] }), "the example's own wins");
        assert_eq!(kind(&second, "mix"), &Kind::FloatList(FloatList { value: vec![1.0, 2.5] }));
    }

    #[test]
    fn mixed_or_nested_values_are_refused_naming_the_example_and_feature() {
        let err = |body: Value| serialized_examples(body.as_object().unwrap()).unwrap_err().to_string();
        let e = err(serde_json::json!({"examples": [{"x": 1}, {"t": ["a", 1]}]}));
        assert!(e.contains("example 1, feature \"t\"") && e.contains("all be strings or all numbers"), "{e}");
        assert!(err(serde_json::json!({"examples": [{"x": [[1]]}]})).contains("expected a string, a number"));
        assert!(err(serde_json::json!({"examples": [3]})).contains("example 0 must be an object"));
        assert!(err(serde_json::json!({"instances": []})).contains("missing 'examples'"));
    }
}
