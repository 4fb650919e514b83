//! The one error type of the `serving` crate, and its HTTP status.

use axum::http::StatusCode;

/// Why a request failed. Client mistakes are 4xx; only server faults are 5xx.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The predictor refused or failed the call.
    #[error(transparent)]
    Predictor(#[from] predictor::Error),
    /// No model of that name is served.
    #[error("Servable not found for request: model {name:?} (serving {served:?})")]
    UnknownModel {
        /// The name asked for.
        name: String,
        /// The models served, comma-separated.
        served: String,
    },
    /// The version asked for is not the one loaded.
    #[error("Servable not found for request: version {version:?} of model {name:?} (loaded: {loaded})")]
    UnknownVersion {
        /// The model.
        name: String,
        /// The version asked for, as given.
        version: String,
        /// The version loaded, if any.
        loaded: String,
    },
    /// No version has loaded yet.
    #[error("model {name:?} has no loaded version yet (none under {base}, or none loads)")]
    NotReady {
        /// The model.
        name: String,
        /// Its base path.
        base: String,
    },
    /// The request body is not what the API accepts.
    #[error("{0}")]
    BadRequest(String),
    /// The request body exceeds the configured limit.
    #[error("the request body is over the {limit}-byte limit")]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
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

impl Error {
    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::UnknownModel { .. } | Error::UnknownVersion { .. } | Error::NoRoute { .. } => StatusCode::NOT_FOUND,
            Error::NotReady { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Error::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::Predictor(e) => match e {
                // A kernel refusing the inputs (e.g. batch sizes that do not
                // agree) is the client's doing; reading the artifact is not.
                predictor::Error::Opset(predictor::OpsetError::Node { .. })
                | predictor::Error::Export(predictor::ExportError::Opset(predictor::OpsetError::Node { .. })) => {
                    StatusCode::BAD_REQUEST
                }
                predictor::Error::Export(_)
                | predictor::Error::Opset(_)
                | predictor::Error::TensorFlow(_)
                | predictor::Error::TensorFlowDisabled { .. } => StatusCode::INTERNAL_SERVER_ERROR,
                _ => StatusCode::BAD_REQUEST,
            },
        }
    }
}
