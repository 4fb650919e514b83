//! The one error type of the `serving` crate, and the one place that says
//! which HTTP status and which gRPC code each answers with.

use axum::http::StatusCode;

/// Why a request failed. Client mistakes are 4xx (INVALID_ARGUMENT,
/// NOT_FOUND...); only server faults are 5xx (INTERNAL).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The predictor refused or failed the call.
    #[error(transparent)]
    Predictor(#[from] predictor::Error),
    /// No model of that name is served.
    #[error("Servable not found for request: {}: no model {name:?} is served (serving {served})", request(name, version.as_deref()))]
    UnknownModel {
        /// The name asked for.
        name: String,
        /// The version asked for, if any.
        version: Option<String>,
        /// The models served, comma-separated.
        served: String,
    },
    /// The version asked for is not one served.
    #[error(
        "Servable not found for request: {}: version {version:?} of model {name:?} is not served (serving: {loaded})",
        request(name, Some(version))
    )]
    UnknownVersion {
        /// The model.
        name: String,
        /// The version asked for, as given.
        version: String,
        /// The versions served, or "none".
        loaded: String,
    },
    /// A version label was asked for, and the model has no such label
    /// (TensorFlow Serving's `ServerCore::GetModelVersionForLabel` words).
    #[error("Unrecognized servable version label: {label} (model {name:?} has the labels: {labels})")]
    UnknownLabel {
        /// The model.
        name: String,
        /// The label asked for.
        label: String,
        /// The model's labels, comma-separated.
        labels: String,
    },
    /// A config gives a label to a version that is not available
    /// (TensorFlow Serving's `ServerCore::UpdateModelVersionLabelMap` words).
    #[error(
        "Request to assign label to version {version} of model {name}, which is not currently available for inference (label {label:?}; available: {served})"
    )]
    LabelUnavailable {
        /// The model.
        name: String,
        /// The label.
        label: String,
        /// The version it points to.
        version: u64,
        /// The versions available, comma-separated.
        served: String,
    },
    /// No version has loaded yet.
    #[error("model {name:?} has no loaded version yet (none under {base}, or none loads)")]
    NotReady {
        /// The model.
        name: String,
        /// Its base path.
        base: String,
    },
    /// `output_filter` names an output the signature does not have.
    #[error("output tensor alias not found in signature: {key:?}; the outputs are {expected:?}")]
    UnknownOutput {
        /// The output asked for.
        key: String,
        /// The signature's outputs.
        expected: Vec<String>,
    },
    /// The request is not what the API accepts.
    #[error("{0}")]
    BadRequest(String),
    /// A model config (a config file, or a reload request) is invalid.
    #[error("model config: {0}")]
    InvalidConfig(String),
    /// A reload applied a config in which a model has no version that loads.
    #[error("the config is applied, but model {name:?} has no version loaded from {base}: {reason}")]
    NotLoaded {
        /// The model.
        name: String,
        /// Its base path.
        base: String,
        /// Why: no version there, or the error of the newest version.
        reason: String,
    },
    /// An API the server answers but does not implement (yet).
    #[error("{api} is not implemented: {reason}")]
    Unimplemented {
        /// The API, e.g. `Classify`.
        api: &'static str,
        /// Why, and what to use instead.
        reason: &'static str,
    },
    /// A task of the server did not complete (it was cancelled at shutdown).
    #[error("{what} did not complete: {reason}")]
    Interrupted {
        /// What was interrupted.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// Batching: the signature's queue holds `max_enqueued_batches` batches
    /// already (TensorFlow Serving's words).
    #[error(
        "The batch scheduling queue to which this task was submitted is full: {batches} batches for signature {signature:?} are waiting (max_enqueued_batches)"
    )]
    QueueFull {
        /// The signature.
        signature: String,
        /// The most batches that may wait.
        batches: usize,
    },
    /// The request body exceeds the configured limit.
    #[error("the request body is over the {limit}-byte limit")]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The REST request took longer than `--rest_api_timeout_in_ms`.
    #[error("the request did not complete within {ms} ms (--rest_api_timeout_in_ms)")]
    Timeout {
        /// The limit, in milliseconds.
        ms: u64,
    },
    /// No such endpoint.
    #[error("no endpoint {method} {path}")]
    NoRoute {
        /// The HTTP method.
        method: String,
        /// The path.
        path: String,
    },
}

/// TensorFlow Serving's words for a request: `Latest(toy)`, `Specific(toy, 7)`.
fn request(name: &str, version: Option<&str>) -> String {
    match version {
        None => format!("Latest({name})"),
        Some(v) => format!("Specific({name}, {v})"),
    }
}

/// The classes of failure, each with one HTTP status and one gRPC code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    InvalidArgument,
    NotFound,
    Unavailable,
    FailedPrecondition,
    TooLarge,
    Timeout,
    Unimplemented,
    Internal,
}

impl Error {
    fn kind(&self) -> Kind {
        match self {
            Error::UnknownModel { .. } | Error::UnknownVersion { .. } | Error::NoRoute { .. } => Kind::NotFound,
            Error::NotReady { .. } | Error::Interrupted { .. } | Error::QueueFull { .. } => Kind::Unavailable,
            Error::NotLoaded { .. } | Error::LabelUnavailable { .. } => Kind::FailedPrecondition,
            Error::TooLarge { .. } => Kind::TooLarge,
            Error::Timeout { .. } => Kind::Timeout,
            Error::Unimplemented { .. } => Kind::Unimplemented,
            Error::BadRequest(_)
            | Error::InvalidConfig(_)
            | Error::UnknownOutput { .. }
            | Error::UnknownLabel { .. } => Kind::InvalidArgument,
            Error::Predictor(e) => match e {
                // A kernel refusing the inputs (e.g. batch sizes that do not
                // agree) is the client's doing; reading the artifact is not.
                predictor::Error::Opset(predictor::OpsetError::Node { .. })
                | predictor::Error::Export(predictor::ExportError::Opset(predictor::OpsetError::Node { .. })) => {
                    Kind::InvalidArgument
                }
                predictor::Error::Export(_)
                | predictor::Error::Opset(_)
                | predictor::Error::TensorFlow(_)
                | predictor::Error::TensorFlowDisabled { .. } => Kind::Internal,
                _ => Kind::InvalidArgument,
            },
        }
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self.kind() {
            Kind::InvalidArgument => StatusCode::BAD_REQUEST,
            Kind::NotFound => StatusCode::NOT_FOUND,
            Kind::Unavailable | Kind::FailedPrecondition => StatusCode::SERVICE_UNAVAILABLE,
            Kind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Kind::Timeout => StatusCode::GATEWAY_TIMEOUT,
            Kind::Unimplemented => StatusCode::NOT_IMPLEMENTED,
            Kind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The gRPC code this error answers with, as TensorFlow Serving's.
    pub fn code(&self) -> tonic::Code {
        match self.kind() {
            Kind::InvalidArgument => tonic::Code::InvalidArgument,
            Kind::NotFound => tonic::Code::NotFound,
            Kind::Unavailable => tonic::Code::Unavailable,
            Kind::FailedPrecondition => tonic::Code::FailedPrecondition,
            Kind::TooLarge => tonic::Code::ResourceExhausted,
            Kind::Timeout => tonic::Code::DeadlineExceeded,
            Kind::Unimplemented => tonic::Code::Unimplemented,
            Kind::Internal => tonic::Code::Internal,
        }
    }
}

impl From<Error> for tonic::Status {
    fn from(e: Error) -> tonic::Status {
        tonic::Status::new(e.code(), e.to_string())
    }
}
