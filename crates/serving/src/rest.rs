//! TensorFlow Serving's REST endpoints:
//!
//! - `POST /v1/models/{name}[/versions/{v}|/labels/{label}]:predict`
//! - `POST /v1/models/{name}[/versions/{v}|/labels/{label}]:classify` and
//!   `:regress` (tf.Examples as JSON features: `{"context": {...},
//!   "examples": [{...}]}`, answered with `{"results": ...}`)
//! - `GET  /v1/models/{name}[/versions/{v}|/labels/{label}]` (version status)
//! - `GET  /v1/models/{name}[/versions/{v}|/labels/{label}]/metadata` (signatures)
//!
//! (the routes of TensorFlow Serving's `http_rest_api_handler.cc`).
//!
//! plus `GET /healthz` (the process answers) and `GET /readyz` (a version
//! is loaded). Errors are `{"error": "..."}`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, to_bytes};
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use crate::codec::{inputs, parse_request, response};
use crate::error::Error;
use crate::example_json::serialized_examples;
use crate::inference;
use crate::metrics::{Api, Entrypoint};
use crate::model::Loaded;
use crate::observe;
use crate::registry::Models;
use crate::version::{VersionStatus, Wanted};

/// What the handlers share.
pub struct AppState {
    /// The models served, by name.
    pub models: Arc<Models>,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// The longest a request may take (`--rest_api_timeout_in_ms`).
    pub timeout: Option<Duration>,
    /// Where to serve the Prometheus page, if anywhere
    /// (`--monitoring_config_file`).
    pub prometheus_path: Option<String>,
}

/// The router of the REST API.
pub fn router(state: Arc<AppState>) -> Router {
    let mut router = Router::new()
        .route("/v1/models/{*rest}", any(models))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready));
    if let Some(path) = &state.prometheus_path {
        router = router.route(path, get(prometheus));
    }
    router.with_state(state)
}

/// The metrics in Prometheus' text format.
async fn prometheus(State(state): State<Arc<AppState>>) -> Response {
    let page = state.models.metrics().render();
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], page).into_response()
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        (self.status(), Json(json!({ "error": self.to_string() }))).into_response()
    }
}

/// Ready once every model has a version loaded.
async fn ready(State(state): State<Arc<AppState>>) -> Response {
    let mut lines = Vec::new();
    for model in state.models.all().values() {
        match model.current() {
            Some(loaded) => lines.push(format!("ready: {} version {}", model.name, loaded.version)),
            None => {
                let message = format!("model {:?} has no version loaded yet", model.name);
                return (StatusCode::SERVICE_UNAVAILABLE, message).into_response();
            }
        }
    }
    (StatusCode::OK, lines.join("\n")).into_response()
}

/// What a `/v1/models/...` path asks for.
struct Target<'a> {
    name: &'a str,
    version: Wanted<'a>,
    action: Action,
}

#[derive(PartialEq)]
enum Action {
    Status,
    Metadata,
    Predict,
    Classify,
    Regress,
}

impl Action {
    fn api(&self) -> Api {
        match self {
            Action::Status => Api::GetModelStatus,
            Action::Metadata => Api::GetModelMetadata,
            Action::Predict => Api::Predict,
            Action::Classify => Api::Classify,
            Action::Regress => Api::Regress,
        }
    }
}

fn parse_target(rest: &str) -> Option<Target<'_>> {
    let (rest, call) = [(":predict", Action::Predict), (":classify", Action::Classify), (":regress", Action::Regress)]
        .into_iter()
        .find_map(|(suffix, action)| rest.strip_suffix(suffix).map(|r| (r, Some(action))))
        .unwrap_or((rest, None));
    let (rest, metadata) = match rest.strip_suffix("/metadata") {
        Some(r) => (r, true),
        None => (rest, false),
    };
    let (name, version) = if let Some((n, v)) = rest.split_once("/versions/") {
        (n, v.parse().map_or(Wanted::Text(v), Wanted::Number))
    } else if let Some((n, label)) = rest.split_once("/labels/") {
        (n, Wanted::Label(label))
    } else {
        (rest, Wanted::Newest)
    };
    let bad_label = matches!(version, Wanted::Label(l) if l.is_empty() || l.contains('/'));
    if name.is_empty() || name.contains('/') || bad_label || (call.is_some() && metadata) {
        return None;
    }
    let action = match call {
        Some(action) => action,
        None if metadata => Action::Metadata,
        None => Action::Status,
    };
    Some(Target { name, version, action })
}

async fn models(State(state): State<Arc<AppState>>, method: Method, Path(rest): Path<String>, body: Body) -> Response {
    let started = Instant::now();
    let no_route = || Error::NoRoute { method: method.to_string(), path: format!("/v1/models/{rest}") };
    let target = parse_target(&rest);
    let answer = match &target {
        None => Err(no_route()),
        Some(target) => match state.timeout {
            None => handle(&state, &method, &rest, target, body).await,
            Some(limit) => tokio::time::timeout(limit, handle(&state, &method, &rest, target, body))
                .await
                .unwrap_or_else(|_| Err(Error::Timeout { ms: u64::try_from(limit.as_millis()).unwrap_or(u64::MAX) })),
        },
    };
    if let Some(target) = &target {
        let request = observe::Request {
            model: target.name,
            version: target.version,
            api: target.action.api(),
            entrypoint: Entrypoint::Rest,
            started,
        };
        observe::finished(state.models.metrics(), &request, answer.as_ref().err());
    }
    match answer {
        // Non-finite floats written as NaN / Infinity tokens, as TensorFlow Serving writes them.
        Ok(value) => (
            StatusCode::OK,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            predictor::json::to_string(&value),
        )
            .into_response(),
        Err(e) => {
            if target.is_none() {
                tracing::info!(path = %rest, "request refused: {e}");
            }
            e.into_response()
        }
    }
}

async fn handle(
    state: &AppState,
    method: &Method,
    rest: &str,
    target: &Target<'_>,
    body: Body,
) -> Result<Value, Error> {
    let posted = matches!(target.action, Action::Predict | Action::Classify | Action::Regress);
    let expected = if posted { Method::POST } else { Method::GET };
    if *method != expected {
        return Err(Error::NoRoute { method: method.to_string(), path: format!("/v1/models/{rest}") });
    }
    let wanted = target.version;
    match target.action {
        Action::Status => Ok(status(&state.models.get(target.name, wanted)?.status(wanted)?)),
        Action::Metadata => {
            let (model, loaded) = state.models.serving(target.name, wanted)?;
            Ok(metadata(&model.name, &loaded))
        }
        Action::Predict | Action::Classify | Action::Regress => {
            let (_, loaded) = state.models.serving(target.name, wanted)?;
            let bytes = to_bytes(body, state.max_body_bytes)
                .await
                .map_err(|_| Error::TooLarge { limit: state.max_body_bytes })?;
            match target.action {
                Action::Predict => predict(&state.models, &loaded, &bytes).await,
                _ => examples(&state.models, &loaded, &bytes, target.action == Action::Classify).await,
            }
        }
    }
}

async fn predict(models: &Models, loaded: &Arc<Loaded>, body: &[u8]) -> Result<Value, Error> {
    let request = parse_request(body)?;
    let rows = request.rows;
    let predictor = loaded.predictor(&request.signature)?;
    // No instance, no prediction (rather than a shape error for the empty batch).
    if rows && request.payload.as_array().is_some_and(Vec::is_empty) {
        return Ok(json!({ "predictions": [] }));
    }
    let tensors = inputs(predictor, request)?;
    let batch = tensors.first().and_then(|(_, t)| t.shape().first().copied()).unwrap_or(0);
    let outputs = models.predict(loaded, predictor.signature_name(), tensors).await?;
    response(&outputs, rows, batch)
}

/// A `:classify` or `:regress` body run: `{"results": [[[label, score],
/// ...], ...]}` (a class with only a label or a score is that value alone)
/// or `{"results": [value, ...]}`, as TensorFlow Serving answers.
async fn examples(models: &Models, loaded: &Arc<Loaded>, body: &[u8], classify: bool) -> Result<Value, Error> {
    let value = predictor::json::parse(body).map_err(|e| Error::BadRequest(format!("JSON Parse error: {e}")))?;
    let Value::Object(body) = value else {
        return Err(Error::BadRequest("the request body must be a JSON object".into()));
    };
    let signature = match body.get("signature_name") {
        None => "",
        Some(Value::String(s)) => s.as_str(),
        Some(other) => return Err(Error::BadRequest(format!("'signature_name' must be a string, got {other}"))),
    };
    let examples = serialized_examples(&body)?;
    if !classify {
        let values = inference::regress(models, loaded, signature, examples).await?;
        return Ok(json!({ "results": values }));
    }
    let label = |l: &predictor::Bytes| Value::from(String::from_utf8_lossy(l).into_owned());
    let results: Vec<Value> = inference::classify(models, loaded, signature, examples)
        .await?
        .iter()
        .map(|classes| {
            Value::Array(
                classes
                    .iter()
                    .map(|c| match (&c.label, c.score) {
                        (Some(l), Some(s)) => json!([label(l), s]),
                        (Some(l), None) => label(l),
                        (None, Some(s)) => json!(s),
                        (None, None) => Value::Null,
                    })
                    .collect(),
            )
        })
        .collect();
    Ok(json!({ "results": results }))
}

fn status(statuses: &[VersionStatus]) -> Value {
    let versions: Vec<Value> = statuses
        .iter()
        .map(|s| {
            let (code, message) = match &s.error {
                None => ("OK", ""),
                Some(e) => ("UNKNOWN", e.as_str()),
            };
            json!({
                "version": s.version.to_string(),
                "state": s.state.tf_name(),
                "status": { "error_code": code, "error_message": message },
            })
        })
        .collect();
    json!({ "model_version_status": versions })
}

fn tensor_info(info: &predictor::TensorInfo) -> Value {
    let dims: Vec<Value> = info.shape.to_dims().iter().map(|d| json!({ "size": d.to_string(), "name": "" })).collect();
    json!({ "dtype": info.dtype.tf_name(), "tensor_shape": { "dim": dims, "unknown_rank": false }, "name": info.name })
}

fn metadata(name: &str, loaded: &Loaded) -> Value {
    let mut signatures = Map::new();
    for (key, p) in &loaded.predictors {
        let sig = p.signature();
        let side = |m: &std::collections::BTreeMap<String, predictor::TensorInfo>| {
            Value::Object(m.iter().map(|(k, i)| (k.clone(), tensor_info(i))).collect())
        };
        signatures.insert(
            key.clone(),
            json!({ "inputs": side(&sig.inputs), "outputs": side(&sig.outputs), "method_name": sig.method_name }),
        );
    }
    json!({
        "model_spec": { "name": name, "signature_name": "", "version": loaded.version.to_string() },
        "metadata": { "signature_def": {
            "signature_def": signatures,
            "@type": "type.googleapis.com/tensorflow.serving.SignatureDefMap",
        } },
    })
}
