//! A model server speaking TensorFlow Serving's REST API over the
//! predictor, so existing TensorFlow Serving clients work unchanged.
//!
//! For each model it serves the newest numeric version under its base path
//! (`temp-*` exports in progress are ignored), polls the base path, and
//! swaps to a newer version without failing a request in flight: each
//! request holds the version it started with. A version that does not load
//! is refused with a log line, and the previous one keeps serving. One
//! model comes from `--model_name` and `--model_base_path`, several from
//! TensorFlow Serving's `--model_config_file` ([`read_model_config`]).
//!
//! The server keeps no state of its own beyond the model it reads from
//! disk: run as many replicas as needed behind any HTTP load balancer, each
//! pointed at the same base path (a shared volume or a synced copy), and
//! route `/readyz` as the readiness probe.
//!
//! ```text
//! cargo run --release -p serving -- --model_name toy --model_base_path saved_model --port 8501
//! curl -d '{"instances": [[1.0], [2.0]]}' localhost:8501/v1/models/toy:predict
//! cargo run --release -p serving -- --model_config_file models.config
//! ```

#![deny(clippy::unwrap_used, clippy::expect_used)]

mod codec;
mod config;
mod error;
mod model;
mod rest;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

pub use config::{ModelConfig, read_model_config};
pub use error::Error;
pub use model::{Loaded, ServedModel};
pub use rest::{AppState, router};

/// What to serve and how.
#[derive(Debug, Clone)]
pub struct Config {
    /// The models, by the names clients use in URLs (at least one).
    pub models: Vec<ModelConfig>,
    /// How often to look for a new version.
    pub poll_interval: Duration,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// The most threads one request may use (TensorFlow Serving's
    /// `--tensorflow_intra_op_parallelism`; 1, the default, keeps each
    /// request on the thread that serves it, best when requests already
    /// keep every core busy).
    pub threads: usize,
}

/// Serves `config`'s models on `listener` until `shutdown` completes, then
/// stops accepting and lets the requests in flight finish.
///
/// # Errors
/// An I/O error of the listener.
pub async fn serve(
    config: Config,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let models: BTreeMap<String, Arc<ServedModel>> = config
        .models
        .iter()
        .map(|m| {
            let mut served = ServedModel::new(m.name.clone(), m.base_path.clone());
            served.threads = config.threads.max(1);
            (m.name.clone(), Arc::new(served))
        })
        .collect();
    let poll_all = |models: Vec<Arc<ServedModel>>| async move {
        // Loading reads and checks files: off the request threads.
        let _ = tokio::task::spawn_blocking(move || {
            for model in &models {
                model.poll();
            }
        })
        .await;
    };
    // The first loads happen before the first request is accepted.
    poll_all(models.values().cloned().collect()).await;
    let pollers: Vec<Arc<ServedModel>> = models.values().cloned().collect();
    let interval = config.poll_interval;
    let polling = tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            poll_all(pollers.clone()).await;
        }
    });
    let names: Vec<&String> = models.keys().collect();
    tracing::info!(models = ?names, address = ?listener.local_addr()?, "serving");
    let state = Arc::new(AppState { models, max_body_bytes: config.max_body_bytes });
    let result = axum::serve(listener, router(state)).with_graceful_shutdown(shutdown).await;
    polling.abort();
    tracing::info!("shut down");
    result
}
