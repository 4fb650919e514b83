//! The server: both APIs over one set of models on one runtime, the
//! pollers that swap versions in and re-read the config file, and the
//! graceful shutdown of it all.

use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::batching::BatchingParameters;
use crate::config::{ModelConfig, read_model_config};
use crate::error::Error;
use crate::grpc::{self, TensorEncoding};
use crate::registry::Models;
use crate::rest::{AppState, router};

/// What to serve and how.
#[derive(Debug, Clone)]
pub struct Config {
    /// The models, by the names clients use.
    pub models: Vec<ModelConfig>,
    /// How often to look for a new version (`--file_system_poll_wait_seconds`).
    pub poll_interval: Duration,
    /// The largest request accepted, in bytes: a REST body or a gRPC message.
    pub max_body_bytes: usize,
    /// The most threads one request may use (TensorFlow Serving's
    /// `--tensorflow_intra_op_parallelism`; 1 keeps each request on the
    /// thread that serves it, best when requests already keep every core
    /// busy).
    pub threads: usize,
    /// A config file to re-read and apply when it changes.
    pub config_file: Option<ConfigFile>,
    /// The longest a REST request may take (`--rest_api_timeout_in_ms`).
    pub rest_timeout: Option<Duration>,
    /// How gRPC responses write numeric outputs.
    pub tensor_encoding: TensorEncoding,
    /// Where the REST port serves the Prometheus page, if anywhere
    /// (`--monitoring_config_file`'s `prometheus_config`).
    pub prometheus_path: Option<String>,
    /// Let a version label point to a version not available (yet), as
    /// TensorFlow Serving's `--allow_version_labels_for_unavailable_models`.
    pub allow_version_labels_for_unavailable_models: bool,
    /// Merge concurrent requests into batches, as these parameters say
    /// (`--enable_batching`, `--batching_parameters_file`).
    pub batching: Option<BatchingParameters>,
    /// Replay each version's `assets.extra/tf_serving_warmup_requests`
    /// this many times before it serves (`--enable_model_warmup`,
    /// `--num_request_iterations_for_warmup`); `None`: no warmup.
    pub warmup: Option<usize>,
}

impl Default for Config {
    /// No model; TensorFlow Serving's defaults otherwise: a poll every
    /// second, 4 MiB requests, one thread per request, no config file
    /// poll, no REST timeout, typed fields in gRPC responses, labels only
    /// on available versions, no Prometheus page, no batching, each
    /// warmup request replayed once.
    fn default() -> Config {
        Config {
            models: Vec::new(),
            poll_interval: Duration::from_secs(1),
            max_body_bytes: 4 << 20,
            threads: 1,
            config_file: None,
            rest_timeout: None,
            tensor_encoding: TensorEncoding::Fields,
            allow_version_labels_for_unavailable_models: false,
            prometheus_path: None,
            batching: None,
            warmup: Some(1),
        }
    }
}

/// A model config file re-read every `poll_interval`
/// (`--model_config_file_poll_wait_seconds`): a changed model list is
/// applied as a `HandleReloadConfigRequest` would apply it.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    /// The file (TensorFlow Serving's text-format `ModelServerConfig`).
    pub path: PathBuf,
    /// How often to read it.
    pub poll_interval: Duration,
}

/// Where the server listens: gRPC and REST, each optional.
#[derive(Debug, Default)]
pub struct Listeners {
    /// TensorFlow Serving's gRPC API (`--port`).
    pub grpc: Option<tokio::net::TcpListener>,
    /// The gRPC API again on a Unix socket (`--grpc_socket_path`). Clients
    /// must send a valid `:authority` such as `localhost` (gRPC's C-core
    /// sends the socket's path unless told `grpc.default_authority`, and
    /// the HTTP/2 library refuses it).
    #[cfg(unix)]
    pub grpc_unix: Option<tokio::net::UnixListener>,
    /// The REST API (`--rest_api_port`).
    pub rest: Option<tokio::net::TcpListener>,
}

type Task = Pin<Box<dyn Future<Output = io::Result<()>> + Send>>;

/// Serves `config`'s models on `listeners` until `shutdown` completes, then
/// stops accepting on every listener and lets the requests in flight
/// finish. The versions each model's policy selects are loaded before the
/// first request is accepted.
///
/// # Errors
/// An I/O error of a listener (the others are then shut down too), none
/// given, or a version label on a version that is not available (as
/// TensorFlow Serving, which then fails to start).
pub async fn serve(
    config: Config,
    listeners: Listeners,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let mut models = Models::new(config.threads, config.allow_version_labels_for_unavailable_models);
    if let Some(params) = config.batching.clone() {
        tracing::info!(?params, "batching requests");
        models.enable_batching(params)?;
    }
    if let Some(iterations) = config.warmup {
        models.enable_warmup(iterations);
    }
    let models = Arc::new(models);
    let (first, configs) = (Arc::clone(&models), config.models.clone());
    match tokio::task::spawn_blocking(move || first.reload(&configs)).await {
        Ok(Err(e @ Error::LabelUnavailable { .. })) => return Err(io::Error::new(io::ErrorKind::InvalidInput, e)),
        Ok(Err(e)) => tracing::warn!("{e}"),
        Ok(Ok(())) => {}
        Err(e) => return Err(io::Error::other(e)),
    }
    let mut pollers = vec![tokio::spawn(poll_versions(Arc::clone(&models), config.poll_interval))];
    if let Some(file) = config.config_file.clone() {
        pollers.push(tokio::spawn(poll_config_file(Arc::clone(&models), file, config.models.clone())));
    }

    let (stop, stopped) = watch::channel(false);
    let stop = Arc::new(stop);
    let forward = Arc::clone(&stop);
    tokio::spawn(async move {
        shutdown.await;
        forward.send_replace(true);
    });
    let signal = move || {
        let mut stopped = stopped.clone();
        async move {
            let _ = stopped.wait_for(|&s| s).await;
        }
    };

    let mut tasks: Vec<Task> = Vec::new();
    let mut addresses = Vec::new();
    let routes = grpc::routes(Arc::clone(&models), config.max_body_bytes, config.tensor_encoding);
    if let Some(listener) = listeners.grpc {
        addresses.push(format!("gRPC {}", listener.local_addr()?));
        let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
        let server = tonic::transport::Server::builder().add_routes(routes.clone());
        let signal = signal();
        tasks.push(Box::pin(async move {
            server.serve_with_incoming_shutdown(incoming, signal).await.map_err(io::Error::other)
        }));
    }
    #[cfg(unix)]
    if let Some(listener) = listeners.grpc_unix {
        addresses
            .push(format!("gRPC unix:{:?}", listener.local_addr()?.as_pathname().unwrap_or(std::path::Path::new("?"))));
        let incoming = tokio_stream::wrappers::UnixListenerStream::new(listener);
        let server = tonic::transport::Server::builder().add_routes(routes.clone());
        let signal = signal();
        tasks.push(Box::pin(async move {
            server.serve_with_incoming_shutdown(incoming, signal).await.map_err(io::Error::other)
        }));
    }
    if let Some(listener) = listeners.rest {
        addresses.push(format!("REST {}", listener.local_addr()?));
        let state = Arc::new(AppState {
            models: Arc::clone(&models),
            max_body_bytes: config.max_body_bytes,
            timeout: config.rest_timeout,
            prometheus_path: config.prometheus_path.clone(),
        });
        let serving = axum::serve(listener, router(state)).with_graceful_shutdown(signal());
        tasks.push(Box::pin(async move { serving.await }));
    }
    if tasks.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "no listener: give a gRPC port, a socket or a REST port",
        ));
    }
    let names: Vec<String> = models.all().keys().cloned().collect();
    tracing::info!(models = ?names, listening = ?addresses, "serving");

    let mut running = tokio::task::JoinSet::new();
    for task in tasks {
        running.spawn(task);
    }
    let mut result = Ok(());
    while let Some(done) = running.join_next().await {
        if let Err(e) = done.map_err(io::Error::other).and_then(|served| served) {
            tracing::error!("a listener failed: {e}; shutting the others down");
            stop.send_replace(true);
            result = result.and(Err(e));
        }
    }
    for poller in pollers {
        poller.abort();
    }
    tracing::info!("shut down");
    result
}

/// One poll of every model, off the request threads (loading reads and
/// compiles).
async fn poll(models: Arc<Models>) {
    let _ = tokio::task::spawn_blocking(move || models.poll()).await;
}

async fn poll_versions(models: Arc<Models>, interval: Duration) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        poll(Arc::clone(&models)).await;
    }
}

/// Re-reads `file` and applies its model list when it differs from the
/// last one applied (`applied`, the list the server started with).
async fn poll_config_file(models: Arc<Models>, file: ConfigFile, mut applied: Vec<ModelConfig>) {
    let mut ticks = tokio::time::interval(file.poll_interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let (path, models) = (file.path.clone(), Arc::clone(&models));
        let last = applied.clone();
        let reloaded = tokio::task::spawn_blocking(move || {
            let configs = read_model_config(&path)?;
            if configs == last {
                return Ok(None);
            }
            if let Err(e) = models.reload(&configs) {
                tracing::warn!("{e}");
            }
            Ok::<_, String>(Some(configs))
        })
        .await;
        match reloaded {
            Ok(Ok(Some(configs))) => applied = configs,
            Ok(Ok(None)) => {}
            Ok(Err(e)) => tracing::warn!("model config file not applied: {e}"),
            Err(e) => tracing::warn!("model config file poll interrupted: {e}"),
        }
    }
}
