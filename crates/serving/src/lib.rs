//! A model server speaking TensorFlow Serving's gRPC and REST APIs over the
//! predictor, with `tensorflow_model_server`'s flags, so existing
//! TensorFlow Serving clients and command lines work unchanged.
//!
//! - **gRPC** ([`grpc`], `--port`, 8500 by default, and optionally
//!   `--grpc_socket_path`): `tensorflow.serving.PredictionService`
//!   (`Predict`, `GetModelMetadata`, `Classify` and `Regress` on
//!   tf.Examples; `MultiInference` answers UNIMPLEMENTED) and
//!   `tensorflow.serving.ModelService` (`GetModelStatus`,
//!   `HandleReloadConfigRequest`), with TensorFlow Serving's package,
//!   message and method names and field numbers, and its status codes.
//! - **REST** (`--rest_api_port`; 0, the default, leaves it off as in
//!   TensorFlow Serving): `/v1/models/{name}[/versions/{v}|/labels/{l}][:predict|/metadata]`,
//!   plus `/healthz` and `/readyz`.
//!
//! For each model it serves the numeric versions under its base path that
//! its version policy selects (`temp-*` exports in progress are ignored):
//! the newest by default, or as the config file's `model_version_policy`
//! says (`latest { num_versions }`, `all {}`, `specific { versions }`),
//! each loaded and addressable by number, a request naming none going to
//! the newest. `version_labels` name versions
//! (`/v1/models/{name}/labels/{label}:predict`, gRPC's `version_label`); as
//! in TensorFlow Serving a label must point to an available version unless
//! `--allow_version_labels_for_unavailable_models`. It polls the base path
//! and swaps versions in and out without failing a request in flight: each
//! request holds the version it started with. A version that does not load
//! is refused with a log line (and shows in the status with its error),
//! and an older one keeps serving in its stead. One model comes from `--model_name`
//! and `--model_base_path`, several from TensorFlow Serving's
//! `--model_config_file` ([`read_model_config`]), re-read every
//! `--model_config_file_poll_wait_seconds`; `HandleReloadConfigRequest`
//! replaces the model list the same way, without a restart.
//!
//! Each version replays the requests of its
//! `assets.extra/tf_serving_warmup_requests` before it serves, as
//! TensorFlow Serving's model warmup (`--enable_model_warmup`, on by
//! default); a version whose warmup fails is refused like one that does
//! not load.
//!
//! Server-side batching as TensorFlow Serving's (`--enable_batching`,
//! `--batching_parameters_file`, [`BatchingParameters`]): concurrent
//! requests to one signature of one version run as one call, each
//! answered with its own rows.
//!
//! Monitoring as TensorFlow Serving's: `--monitoring_config_file` (a
//! text-format `MonitoringConfig`, [`read_monitoring_config`]) with
//! `prometheus_config { enable: true }` serves, on the REST port at
//! `/monitoring/prometheus/metrics` (or its `path`), request counts by
//! model and status, latency histograms by model, API, entrypoint and
//! status, and version loads and unloads, under TensorFlow Serving's metric
//! names ([`Metrics`]).
//!
//! Logs: each request is one line at debug (`RUST_LOG=serving=debug`) with
//! its model, version asked for, API, entrypoint, status and latency; a
//! refused request one at info, a server fault one at warn;
//! `--log_format json` writes one JSON object a line.
//!
//! The server keeps no state of its own beyond the model it reads from
//! disk: run as many replicas as needed behind any load balancer, each
//! pointed at the same base path (a shared volume or a synced copy), and
//! route `/readyz` as the readiness probe.
//!
//! ```text
//! cargo run --release -p serving -- --model_name toy --model_base_path saved_model --rest_api_port 8501
//! curl -d '{"instances": [[1.0], [2.0]]}' localhost:8501/v1/models/toy:predict
//! cargo run --release -p serving -- --model_config_file models.config --model_config_file_poll_wait_seconds 60
//! ```
//!
//! In a program, [`serve`] runs both APIs on one runtime until a shutdown
//! future completes:
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! let config = serving::Config {
//!     models: vec![serving::ModelConfig::new("toy", "saved_model")],
//!     ..serving::Config::default()
//! };
//! let listeners = serving::Listeners {
//!     grpc: Some(tokio::net::TcpListener::bind("127.0.0.1:8500").await?),
//!     rest: Some(tokio::net::TcpListener::bind("127.0.0.1:8501").await?),
//!     ..serving::Listeners::default()
//! };
//! serving::serve(config, listeners, async { let _ = tokio::signal::ctrl_c().await; }).await
//! # }
//! ```

#![deny(clippy::unwrap_used, clippy::expect_used)]

mod batching;
mod codec;
mod config;
mod error;
mod example_json;
pub mod grpc;
mod inference;
mod metrics;
mod model;
mod monitoring;
mod observe;
mod policy;
mod registry;
mod rest;
mod server;
mod text_format;
mod version;
mod warmup;

pub use batching::BatchingParameters;
pub use config::{ModelConfig, read_model_config};
pub use error::Error;
pub use grpc::TensorEncoding;
pub use metrics::{Api, Entrypoint, Metrics, code_name};
pub use model::{Loaded, ServedModel};
pub use monitoring::{DEFAULT_PROMETHEUS_PATH, MonitoringConfig, read_monitoring_config};
pub use policy::VersionPolicy;
pub use registry::Models;
pub use rest::{AppState, router};
pub use server::{Config, ConfigFile, Listeners, serve};
pub use version::{VersionState, VersionStatus, Wanted};
pub use warmup::WARMUP_REQUESTS_FILE;
