//! TensorFlow Serving's JSON: the row format (`"instances"`, answered with
//! `"predictions"`) and the columnar format (`"inputs"`, answered with
//! `"outputs"`); binary strings as `{"b64": "..."}`.

use predictor::json::{output_to_json, tensor_from_json};
use predictor::{Outputs, Predictor, Tensor};
use serde_json::{Map, Value};

use crate::error::Error;

/// A parsed `:predict` body.
pub struct PredictRequest {
    /// `signature_name`, empty for the default.
    pub signature: String,
    /// `true` for `"instances"` (rows), `false` for `"inputs"` (columns).
    pub rows: bool,
    /// The payload.
    pub payload: Value,
}

/// Parses a `:predict` body.
///
/// # Errors
/// [`Error::BadRequest`] for malformed JSON or a body with neither or both
/// of `instances` and `inputs`.
pub fn parse_request(body: &[u8]) -> Result<PredictRequest, Error> {
    // NaN, Infinity and -Infinity accepted as TensorFlow Serving accepts them.
    let value = predictor::json::parse(body).map_err(|e| Error::BadRequest(format!("JSON Parse error: {e}")))?;
    let Value::Object(mut map) = value else {
        return Err(Error::BadRequest("the request body must be a JSON object".into()));
    };
    let signature = match map.remove("signature_name") {
        None => String::new(),
        Some(Value::String(s)) => s,
        Some(other) => return Err(Error::BadRequest(format!("'signature_name' must be a string, got {other}"))),
    };
    let (rows, payload) = match (map.remove("instances"), map.remove("inputs")) {
        (Some(i), None) => (true, i),
        (None, Some(i)) => (false, i),
        (Some(_), Some(_)) => {
            return Err(Error::BadRequest(
                "specify one of 'instances' (row format) or 'inputs' (columnar format), not both".into(),
            ));
        }
        (None, None) => {
            return Err(Error::BadRequest("missing 'instances' (row format) or 'inputs' (columnar format)".into()));
        }
    };
    Ok(PredictRequest { signature, rows, payload })
}

/// The tensors of a request, by input key.
///
/// # Errors
/// [`Error::BadRequest`] naming the key: a missing key in an instance,
/// ragged instances, values of the wrong kind.
pub fn inputs(predictor: &Predictor, request: PredictRequest) -> Result<Vec<(String, Tensor)>, Error> {
    let specs = predictor.inputs();
    let single = match specs {
        [only] => Some(only.key.as_str()),
        _ => None,
    };
    let columns: Map<String, Value> = if request.rows {
        let Value::Array(instances) = request.payload else {
            return Err(Error::BadRequest("'instances' must be a list".into()));
        };
        let mut columns: Map<String, Value> = specs.iter().map(|s| (s.key.clone(), Value::Array(Vec::new()))).collect();
        for (i, instance) in instances.into_iter().enumerate() {
            let named = match (instance, single) {
                (Value::Object(map), _) if !(map.len() == 1 && map.contains_key("b64")) => map,
                (value, Some(key)) => [(key.to_owned(), value)].into_iter().collect(),
                (_, None) => {
                    return Err(Error::BadRequest(format!(
                        "instance {i} must be an object keyed by the inputs {:?}",
                        keys(predictor)
                    )));
                }
            };
            for (key, value) in named {
                let Some(Value::Array(column)) = columns.get_mut(&key) else {
                    return Err(predictor::Error::UnknownInput { key, expected: keys(predictor) }.into());
                };
                column.push(value);
            }
            // As TensorFlow Serving: every instance names every input.
            if let Some((key, _)) = columns.iter().find(|(_, c)| c.as_array().map_or(0, Vec::len) != i + 1) {
                return Err(Error::BadRequest(format!(
                    "instance {i} has no input {key:?}: each instance gives every input of {:?}",
                    keys(predictor)
                )));
            }
        }
        columns
    } else {
        match (request.payload, single) {
            (Value::Object(map), Some(key)) if map.contains_key(key) && map.len() == 1 => map,
            (Value::Object(map), None) => map,
            (value, Some(key)) => [(key.to_owned(), value)].into_iter().collect(),
            (_, None) => {
                return Err(Error::BadRequest(format!("'inputs' must be an object keyed by {:?}", keys(predictor))));
            }
        }
    };
    columns
        .into_iter()
        .map(|(key, value)| {
            let spec = specs
                .iter()
                .find(|s| s.key == key)
                .ok_or_else(|| predictor::Error::UnknownInput { key: key.clone(), expected: keys(predictor) })?;
            // Strings as text or {"b64": "..."}, read by the predictor's JSON.
            let tensor = tensor_from_json(&value, spec.dtype, &key)?;
            Ok((key, tensor))
        })
        .collect()
}

fn keys(predictor: &Predictor) -> Vec<String> {
    predictor.inputs().iter().map(|s| s.key.clone()).collect()
}

/// The response body for `outputs`.
///
/// # Errors
/// [`Error::BadRequest`] in the row format when an output has no batch dimension.
pub fn response(outputs: &Outputs, rows: bool, batch: usize) -> Result<Value, Error> {
    let json: Vec<(&str, Value)> = outputs.iter().map(|(k, t)| (k, output_to_json(k, t))).collect();
    if !rows {
        return Ok(match json.as_slice() {
            [(_, only)] => serde_json::json!({ "outputs": only }),
            _ => {
                serde_json::json!({ "outputs": json.into_iter().map(|(k, v)| (k.to_owned(), v)).collect::<Map<_, _>>() })
            }
        });
    }
    let mut columns = Vec::with_capacity(json.len());
    for (key, value) in json {
        match value {
            Value::Array(items) if items.len() == batch => columns.push((key, items)),
            _ => {
                return Err(Error::BadRequest(format!(
                    "output {key:?} is not batched; use the columnar format ('inputs')"
                )));
            }
        }
    }
    let predictions: Vec<Value> = (0..batch)
        .map(|i| match columns.as_slice() {
            [(_, only)] => only[i].clone(),
            _ => Value::Object(columns.iter().map(|(k, items)| ((*k).to_owned(), items[i].clone())).collect()),
        })
        .collect();
    Ok(serde_json::json!({ "predictions": predictions }))
}
