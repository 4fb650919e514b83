//! A model server speaking TensorFlow Serving's REST API over the
//! predictor, so existing TensorFlow Serving clients work unchanged.
//!
//! It serves the newest numeric version under a base path (`temp-*`
//! exports in progress are ignored), polls the base path, and swaps to a
//! newer version without failing a request in flight: each request holds
//! the version it started with. A version that does not load is refused
//! with a log line, and the previous one keeps serving.
//!
//! The server keeps no state of its own beyond the model it reads from
//! disk: run as many replicas as needed behind any HTTP load balancer, each
//! pointed at the same base path (a shared volume or a synced copy), and
//! route `/readyz` as the readiness probe.
//!
//! ```text
//! cargo run --release -p serving -- --model_name toy --model_base_path saved_model --port 8501
//! curl -d '{"instances": [[1.0], [2.0]]}' localhost:8501/v1/models/toy:predict
//! ```

#![deny(clippy::unwrap_used, clippy::expect_used)]

mod codec;
mod error;
mod model;
mod rest;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use error::Error;
pub use model::{Loaded, ServedModel};
pub use rest::{AppState, router};

/// What to serve and how.
#[derive(Debug, Clone)]
pub struct Config {
    /// The name clients use in URLs.
    pub model_name: String,
    /// The export base holding the versions.
    pub model_base_path: PathBuf,
    /// How often to look for a new version.
    pub poll_interval: Duration,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
}

/// Serves `config`'s model on `listener` until `shutdown` completes, then
/// stops accepting and lets the requests in flight finish.
///
/// # Errors
/// An I/O error of the listener.
pub async fn serve(
    config: Config,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let model = Arc::new(ServedModel::new(config.model_name.clone(), config.model_base_path.clone()));
    let first = Arc::clone(&model);
    // The first load happens before the first request is accepted.
    let _ = tokio::task::spawn_blocking(move || first.poll()).await;
    let poller = Arc::clone(&model);
    let interval = config.poll_interval;
    let polling = tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let model = Arc::clone(&poller);
            // Loading reads and checks files: off the request threads.
            let _ = tokio::task::spawn_blocking(move || model.poll()).await;
        }
    });
    let state = Arc::new(AppState { model, max_body_bytes: config.max_body_bytes });
    tracing::info!(model = %config.model_name, address = ?listener.local_addr()?, "serving");
    let result = axum::serve(listener, router(state)).with_graceful_shutdown(shutdown).await;
    polling.abort();
    tracing::info!("shut down");
    result
}
