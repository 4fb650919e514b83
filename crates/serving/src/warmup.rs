//! Model warmup (`--enable_model_warmup`, on by default as in TensorFlow
//! Serving): before a version serves, the requests recorded in its
//! `assets.extra/tf_serving_warmup_requests` (a TFRecord file of
//! `PredictionLog`s, as TensorFlow Serving's warmup guide writes it) are
//! replayed against it, each `--num_request_iterations_for_warmup` times,
//! so that the first real request finds the weights paged in and the plans
//! run once. A version whose warmup fails does not serve: the failure is
//! its load error, as in TensorFlow Serving
//! (tensorflow_serving/servables/tensorflow/saved_model_warmup_util.cc).
//!
//! Classify, Regress and MultiInference records are skipped with a
//! warning: this server answers those APIs UNIMPLEMENTED.

use std::path::Path;

use prost::Message;

use crate::grpc::proto::prediction_log::LogType;
use crate::grpc::proto::{PredictLog, PredictRequest, PredictionLog};
use crate::grpc::tensor::decode_inputs;
use crate::metrics::Metrics;
use crate::model::{Loaded, run};

/// The warmup file, under the version's `assets.extra`.
pub const WARMUP_REQUESTS_FILE: &str = "tf_serving_warmup_requests";

/// TensorFlow Serving's limit on warmup records.
const MAX_RECORDS: usize = 1000;

/// Replays the warmup requests of version directory `dir` on `loaded`,
/// each `iterations` times; returns how many records were replayed (0
/// without a warmup file).
///
/// # Errors
/// TensorFlow Serving's words, naming the file: an unreadable or
/// corrupt file, more than 1000 records, a record that is not a
/// `PredictionLog`, or a request the version refuses.
pub(crate) fn warm_up(loaded: &Loaded, dir: &Path, iterations: usize, metrics: &Metrics) -> Result<usize, String> {
    let path = dir.join("assets.extra").join(WARMUP_REQUESTS_FILE);
    if !path.exists() {
        return Ok(0);
    }
    let started = std::time::Instant::now();
    let replayed = replay(loaded, &path, iterations);
    // TensorFlow Serving's status text: `OK`, or the code and message.
    let status = match &replayed {
        Ok(_) => "OK".to_owned(),
        Err(e) => format!("INVALID_ARGUMENT: {e}"),
    };
    metrics.warmup(&dir.display().to_string(), &status, started.elapsed());
    replayed
}

/// Replays the warmup file at `path`.
fn replay(loaded: &Loaded, path: &Path, iterations: usize) -> Result<usize, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("reading the warmup data {}: {e}", path.display()))?;
    let records = export::tfrecord::split(&bytes, path)
        .map_err(|e| format!("{e}. Please verify your warmup data is in TFRecord format."))?;
    if records.len() > MAX_RECORDS {
        return Err(format!("Number of warmup records exceeds the maximum ({MAX_RECORDS}) at {}", path.display()));
    }
    let mut skipped = 0;
    for (i, record) in records.iter().enumerate() {
        let log = PredictionLog::decode(*record)
            .map_err(|e| format!("Failed to parse warmup record {i} from {}: {e}", path.display()))?;
        match log.log_type {
            Some(LogType::PredictLog(PredictLog { request: Some(request), .. })) => {
                for _ in 0..iterations {
                    predict(loaded, request.clone())
                        .map_err(|e| format!("warmup record {i} of {}: {e}", path.display()))?;
                }
            }
            Some(LogType::ClassifyLog(_) | LogType::RegressLog(_) | LogType::MultiInferenceLog(_)) => skipped += 1,
            Some(LogType::PredictLog(_)) => {
                return Err(format!("warmup record {i} of {}: a PredictLog without its request", path.display()));
            }
            Some(LogType::SessionRunLog(_)) | None => {
                return Err(format!("Unsupported log_type for warmup: record {i} of {}", path.display()));
            }
        }
    }
    if skipped > 0 {
        tracing::warn!(file = %path.display(), skipped, "warmup: Classify, Regress and MultiInference records skipped");
    }
    Ok(records.len())
}

/// One warmup Predict, as the gRPC API would answer it.
fn predict(loaded: &Loaded, request: PredictRequest) -> Result<(), crate::Error> {
    let signature = request.model_spec.map(|s| s.signature_name).unwrap_or_default();
    let predictor = loaded.predictor(&signature)?;
    run(predictor, decode_inputs(predictor, request.inputs)?)?;
    Ok(())
}
