//! What the server keeps of each request, REST and gRPC alike: its count
//! and latency in the [`Metrics`], and one log line with the model, the
//! version asked for, the API, the entrypoint, the status and the latency:
//! at debug for an answer, at info for a client's error (INVALID_ARGUMENT,
//! NOT_FOUND...), at warn for the server's (INTERNAL, UNAVAILABLE,
//! DEADLINE_EXCEEDED...).

use std::time::Instant;

use crate::error::Error;
use crate::metrics::{Api, Entrypoint, Metrics, code_name};
use crate::version::Wanted;

/// A request being served: what its log line and metrics name.
pub(crate) struct Request<'a> {
    /// The model asked for.
    pub(crate) model: &'a str,
    /// The version asked for.
    pub(crate) version: Wanted<'a>,
    /// The API.
    pub(crate) api: Api,
    /// REST or gRPC.
    pub(crate) entrypoint: Entrypoint,
    /// When it came in.
    pub(crate) started: Instant,
}

/// Records `request`, answered, or refused with `error`.
pub(crate) fn finished(metrics: &Metrics, request: &Request<'_>, error: Option<&Error>) {
    let latency = request.started.elapsed();
    let code = error.map_or(tonic::Code::Ok, Error::code);
    metrics.request(request.model, request.api, request.entrypoint, code, latency);
    let (model, version, api) = (request.model, request.version, request.api.name());
    let (entrypoint, status) = (request.entrypoint.name(), code_name(code));
    let latency_us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
    match error {
        None => tracing::debug!(model, %version, api, entrypoint, status, latency_us, "request"),
        Some(e) if is_server_fault(code) => {
            tracing::warn!(model, %version, api, entrypoint, status, latency_us, "request failed: {e}");
        }
        Some(e) => tracing::info!(model, %version, api, entrypoint, status, latency_us, "request refused: {e}"),
    }
}

/// Whether `code` says the server, not the client, failed.
fn is_server_fault(code: tonic::Code) -> bool {
    matches!(
        code,
        tonic::Code::Internal
            | tonic::Code::Unavailable
            | tonic::Code::DeadlineExceeded
            | tonic::Code::Unknown
            | tonic::Code::DataLoss
            | tonic::Code::FailedPrecondition
    )
}
