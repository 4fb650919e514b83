//! Classify and Regress, as TensorFlow Serving's `classifier.cc` and
//! `regressor.cc` run them: serialized `tf.Example`s fed to the `inputs` of
//! a classification signature (`tensorflow/serving/classify`, outputs
//! `classes` and/or `scores`, `[batch, classes]`) or a regression signature
//! (`tensorflow/serving/regress`, output `outputs`, `[batch]` or `[batch,
//! 1]`), the outputs read back per example. Both APIs (gRPC's
//! `ClassificationRequest`, REST's `:classify`) end here.

use std::sync::Arc;

use predictor::{Bytes, DataType, Outputs, Predictor, Tensor};

use crate::error::Error;
use crate::model::Loaded;
use crate::registry::Models;

/// TensorFlow Serving's method names and tensor keys.
const CLASSIFY_METHOD: &str = "tensorflow/serving/classify";
const REGRESS_METHOD: &str = "tensorflow/serving/regress";
const INPUTS: &str = "inputs";
const CLASSES: &str = "classes";
const SCORES: &str = "scores";
const OUTPUTS: &str = "outputs";

/// One class of an example's classification: its label and score, each
/// present when the signature has that output.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Class {
    pub label: Option<Bytes>,
    pub score: Option<f32>,
}

/// The classes of each example, in order.
///
/// # Errors
/// [`Error::BadRequest`] for a signature that is not a classification one
/// (naming its method), no example, or outputs of the wrong shape; the
/// predictor's for examples it refuses.
pub(crate) async fn classify(
    models: &Models,
    loaded: &Arc<Loaded>,
    signature: &str,
    examples: Vec<Bytes>,
) -> Result<Vec<Vec<Class>>, Error> {
    let predictor = checked(loaded, signature, CLASSIFY_METHOD, "classification")?;
    let keys: Vec<&str> = predictor.signature().outputs.keys().map(String::as_str).collect();
    if !keys.contains(&CLASSES) && !keys.contains(&SCORES) {
        return Err(Error::BadRequest(format!(
            "Expected classification signature outputs to contain at least one of classes or scores; signature {:?} has {keys:?}",
            predictor.signature_name()
        )));
    }
    let batch = examples.len();
    let outputs = run(models, loaded, predictor, examples).await?;
    let classes = matrix(&outputs, CLASSES, DataType::String, batch)?;
    let scores = matrix(&outputs, SCORES, DataType::F32, batch)?;
    if let (Some((_, c)), Some((_, s))) = (&classes, &scores)
        && c != s
    {
        return Err(Error::BadRequest(format!(
            "Tensors class and score should match in shape: {c} classes but {s} scores a row"
        )));
    }
    let labels = classes.map(|(t, n)| (t.as_slice::<Bytes>().map(<[Bytes]>::to_vec).unwrap_or_default(), n));
    let scores = scores.map(|(t, n)| (t.as_slice::<f32>().map(<[f32]>::to_vec).unwrap_or_default(), n));
    let width = labels.as_ref().map_or_else(|| scores.as_ref().map_or(0, |s| s.1), |l| l.1);
    Ok((0..batch)
        .map(|row| {
            (0..width)
                .map(|k| Class {
                    label: labels.as_ref().and_then(|(l, _)| l.get(row * width + k).cloned()),
                    score: scores.as_ref().and_then(|(s, _)| s.get(row * width + k).copied()),
                })
                .collect()
        })
        .collect())
}

/// The value regressed for each example, in order.
///
/// # Errors
/// As [`classify`], for a regression signature.
pub(crate) async fn regress(
    models: &Models,
    loaded: &Arc<Loaded>,
    signature: &str,
    examples: Vec<Bytes>,
) -> Result<Vec<f32>, Error> {
    let predictor = checked(loaded, signature, REGRESS_METHOD, "regression")?;
    if !predictor.signature().outputs.contains_key(OUTPUTS) {
        return Err(Error::BadRequest(format!(
            "No regression outputs found in signature {:?}: expected the output {OUTPUTS:?}",
            predictor.signature_name()
        )));
    }
    let batch = examples.len();
    let outputs = run(models, loaded, predictor, examples).await?;
    let values = outputs.get(OUTPUTS).ok_or_else(|| Error::BadRequest(format!("no output {OUTPUTS:?}")))?;
    match (values.shape(), values.as_slice::<f32>()) {
        ([n] | [n, 1], Ok(v)) if *n == batch => Ok(v.to_vec()),
        (shape, _) => Err(Error::BadRequest(format!(
            "Expected output Tensor shape to be either [batch_size] or [batch_size, 1] of floats but got {shape:?} of {}",
            values.dtype()
        ))),
    }
}

/// The predictor of `signature`, checked to be of `method` with the
/// `inputs` input.
fn checked<'l>(loaded: &'l Loaded, signature: &str, method: &str, what: &str) -> Result<&'l Predictor, Error> {
    let predictor = loaded.predictor(signature)?;
    let sig = predictor.signature();
    if sig.method_name != method {
        return Err(Error::BadRequest(format!(
            "Expected {what} signature method_name to be {method}. Was: {} (signature {:?})",
            sig.method_name,
            predictor.signature_name()
        )));
    }
    if !sig.inputs.contains_key(INPUTS) {
        return Err(Error::BadRequest(format!(
            "No {what} inputs found in signature {:?}: expected the input {INPUTS:?}",
            predictor.signature_name()
        )));
    }
    Ok(predictor)
}

async fn run(
    models: &Models,
    loaded: &Arc<Loaded>,
    predictor: &Predictor,
    examples: Vec<Bytes>,
) -> Result<Outputs, Error> {
    if examples.is_empty() {
        return Err(Error::BadRequest("Input is empty: give at least one example".into()));
    }
    let serialized = Tensor::from_vec(vec![examples.len()], examples).map_err(predictor::Error::from)?;
    models.predict(loaded, predictor.signature_name(), vec![(INPUTS.to_owned(), serialized)]).await
}

/// Output `key` as `[batch, n]` of `dtype` with its `n`, `None` when the
/// signature has no such output.
fn matrix<'o>(
    outputs: &'o Outputs,
    key: &str,
    dtype: DataType,
    batch: usize,
) -> Result<Option<(&'o Tensor, usize)>, Error> {
    let Some(t) = outputs.get(key) else { return Ok(None) };
    match t.shape() {
        &[b, n] if b == batch && t.dtype() == dtype => Ok(Some((t, n))),
        shape => Err(Error::BadRequest(format!(
            "Expected Tensor shape: [batch_size num_classes] of {dtype} for {key:?} but got {shape:?} of {}",
            t.dtype()
        ))),
    }
}
