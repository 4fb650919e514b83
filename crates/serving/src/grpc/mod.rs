//! TensorFlow Serving's gRPC API: `tensorflow.serving.PredictionService`
//! and `tensorflow.serving.ModelService` (their messages and a client in
//! [`proto`]), over the same models, lookups and errors as the REST API.
//! Errors carry TensorFlow Serving's codes: INVALID_ARGUMENT for a bad
//! input, NOT_FOUND for an unknown model or version, UNAVAILABLE while no
//! version has loaded, UNIMPLEMENTED for what the server does not do
//! (tf.Example inputs).

mod model_service;
mod prediction;
pub mod proto;
pub(crate) mod tensor;

use std::sync::Arc;
use std::time::Instant;

pub use tensor::TensorEncoding;

use crate::error::Error;
use crate::metrics::{Api, Entrypoint};
use crate::observe;
use crate::registry::Models;
use crate::version::Wanted;
use proto::ModelSpec;
use proto::model_service_server::ModelServiceServer;
use proto::model_spec::VersionChoice;
use proto::prediction_service_server::PredictionServiceServer;

/// Both services over `models`, for tonic's server: requests (and so
/// gRPC messages) up to `max_message_bytes`, outputs written as `encoding` says.
pub fn routes(models: Arc<Models>, max_message_bytes: usize, encoding: TensorEncoding) -> tonic::service::Routes {
    let prediction = PredictionServiceServer::new(prediction::Prediction { models: Arc::clone(&models), encoding })
        .max_decoding_message_size(max_message_bytes)
        .max_encoding_message_size(usize::MAX);
    let model =
        ModelServiceServer::new(model_service::ModelService { models }).max_decoding_message_size(max_message_bytes);
    tonic::service::Routes::new(prediction).add_service(model)
}

/// The request's `model_spec`, which every RPC needs.
fn model_spec(spec: Option<ModelSpec>) -> Result<ModelSpec, Error> {
    spec.ok_or_else(|| Error::BadRequest("Missing ModelSpec".into()))
}

/// The version a `ModelSpec` asks for.
fn wanted(spec: &ModelSpec) -> Wanted<'_> {
    match &spec.version_choice {
        None => Wanted::Newest,
        Some(VersionChoice::Version(v)) => Wanted::Number(*v),
        Some(VersionChoice::VersionLabel(label)) => Wanted::Label(label),
    }
}

/// The `ModelSpec` of an answer: the model, the version that answered and
/// the signature used (empty where none was).
fn answered(name: &str, version: u64, signature: &str) -> ModelSpec {
    ModelSpec {
        name: name.to_owned(),
        version_choice: Some(VersionChoice::Version(i64::try_from(version).unwrap_or(i64::MAX))),
        signature_name: signature.to_owned(),
    }
}

/// A handler's result as tonic's, recorded (metrics and log line) under
/// the request's `spec` (what it asked for), `api` and status, with its
/// time since `started`.
fn observed<T>(
    models: &Models,
    api: Api,
    spec: Option<&ModelSpec>,
    started: Instant,
    result: Result<T, Error>,
) -> Result<tonic::Response<T>, tonic::Status> {
    let request = observe::Request {
        model: spec.map_or("", |s| s.name.as_str()),
        version: spec.map_or(Wanted::Newest, wanted),
        api,
        entrypoint: Entrypoint::Grpc,
        started,
    };
    observe::finished(models.metrics(), &request, result.as_ref().err());
    result.map(tonic::Response::new).map_err(Into::into)
}

/// A handler's result as tonic's, a refusal logged (at debug: it is the
/// client's to see) with the API.
fn respond<T>(api: &'static str, result: Result<T, Error>) -> Result<tonic::Response<T>, tonic::Status> {
    result.map(tonic::Response::new).map_err(|e| {
        tracing::debug!(api, "request refused: {e}");
        e.into()
    })
}
