//! The model server binary, with `tensorflow_model_server`'s flags. See the
//! crate docs.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

/// Serve models over TensorFlow Serving's gRPC API (and its REST API with
/// --rest_api_port), with tensorflow_model_server's flags.
#[derive(Parser)]
#[command(name = "serving", version, about)]
struct Args {
    /// The port of the gRPC API (PredictionService, ModelService); 0 picks
    /// a free port, written in the log.
    #[arg(long, default_value_t = 8500)]
    port: u16,
    /// Also serve the gRPC API on this Unix socket. gRPC's C-core clients
    /// (Python, C++) send the socket's path as :authority, which the
    /// HTTP/2 library refuses (hyperium/h2#487): give them the channel
    /// option grpc.default_authority=localhost.
    #[arg(long = "grpc_socket_path")]
    grpc_socket_path: Option<PathBuf>,
    /// The port of the REST API. 0, the default as in TensorFlow Serving,
    /// leaves REST off.
    #[arg(long = "rest_api_port", default_value_t = 0)]
    rest_api_port: u16,
    /// The most milliseconds a REST request may take (0: no limit). A call
    /// already computing finishes; its answer is then a 504.
    #[arg(long = "rest_api_timeout_in_ms", default_value_t = 30000)]
    rest_api_timeout_in_ms: u64,
    /// The address both APIs bind.
    #[arg(long, default_value = "0.0.0.0")]
    host: String,
    /// The model's name in requests: /v1/models/<name>:predict, or the
    /// gRPC ModelSpec's name.
    #[arg(long = "model_name", requires = "model_base_path", required_unless_present = "model_config_file")]
    model_name: Option<String>,
    /// The export base holding numeric version directories.
    #[arg(long = "model_base_path", requires = "model_name")]
    model_base_path: Option<PathBuf>,
    /// Several models: TensorFlow Serving's config file (a text-format
    /// ModelServerConfig with a model_config_list).
    #[arg(long = "model_config_file", conflicts_with_all = ["model_name", "model_base_path"])]
    model_config_file: Option<PathBuf>,
    /// Seconds between reads of --model_config_file; a changed model list is
    /// applied without a restart, as HandleReloadConfigRequest does. 0 (the
    /// default): read once.
    #[arg(long = "model_config_file_poll_wait_seconds", default_value_t = 0.0)]
    model_config_file_poll_wait_seconds: f64,
    /// Seconds between looks for a new version of each model.
    #[arg(long = "file_system_poll_wait_seconds", default_value_t = 1.0)]
    file_system_poll_wait_seconds: f64,
    /// The largest request accepted, in bytes: a REST body or a gRPC message.
    #[arg(long = "max_body_bytes", default_value_t = 4 << 20)]
    max_body_bytes: usize,
    /// The most threads one request may use to split its large layers (0 or
    /// 1: each request on its own thread, best under concurrent load).
    #[arg(long = "tensorflow_intra_op_parallelism", default_value_t = 1)]
    tensorflow_intra_op_parallelism: usize,
    /// Accepted for TensorFlow Serving's command lines, and without effect:
    /// a plan runs its steps in order, and requests already run in parallel,
    /// one per core.
    #[arg(long = "tensorflow_inter_op_parallelism", default_value_t = 0)]
    tensorflow_inter_op_parallelism: usize,
    /// Merge concurrent requests to one signature into batches (see
    /// --batching_parameters_file; TensorFlow Serving's defaults without it:
    /// at most 1000 rows a batch, no waiting, one batch thread per core).
    #[arg(long = "enable_batching", default_value_t = false, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set, value_parser = clap::builder::BoolishValueParser::new())]
    enable_batching: bool,
    /// With --enable_batching: a text-format BatchingParameters
    /// (max_batch_size { value: 32 } batch_timeout_micros { value: 1000 }
    /// max_enqueued_batches, num_batch_threads, allowed_batch_sizes,
    /// pad_variable_length_inputs) instead of the defaults.
    #[arg(long = "batching_parameters_file")]
    batching_parameters_file: Option<PathBuf>,
    /// Before a version serves, replay the requests of its
    /// assets.extra/tf_serving_warmup_requests (a TFRecord of
    /// PredictionLogs); a version whose warmup fails does not serve. On by
    /// default, as in TensorFlow Serving: --enable_model_warmup=false
    /// turns it off.
    #[arg(long = "enable_model_warmup", default_value_t = true, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set, value_parser = clap::builder::BoolishValueParser::new())]
    enable_model_warmup: bool,
    /// How many times each warmup request is replayed.
    #[arg(long = "num_request_iterations_for_warmup", default_value_t = 1)]
    num_request_iterations_for_warmup: usize,
    /// TensorFlow Serving's monitoring config, a text-format
    /// MonitoringConfig: `prometheus_config { enable: true path:
    /// "/monitoring/prometheus/metrics" }` serves request counts, latency
    /// histograms and load events in Prometheus' format at that path of the
    /// REST port.
    #[arg(long = "monitoring_config_file")]
    monitoring_config_file: Option<PathBuf>,
    /// Let a config's version_labels point to versions not available (yet)
    /// instead of refusing the config, as TensorFlow Serving's flag.
    #[arg(long = "allow_version_labels_for_unavailable_models", default_value_t = false, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set, value_parser = clap::builder::BoolishValueParser::new())]
    allow_version_labels_for_unavailable_models: bool,
    /// How log lines are written: text (colours only on a terminal, never
    /// with NO_COLOR set) or json (one JSON object a line, for log
    /// collectors). RUST_LOG sets what is logged: info by default;
    /// RUST_LOG=serving=debug adds one line per request (model, version,
    /// API, entrypoint, status, latency); refusals log at info, server
    /// faults at warn.
    #[arg(long = "log_format", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Write the numeric outputs of gRPC responses in tensor_content (raw
    /// little-endian bytes) rather than in TensorFlow Serving's typed
    /// fields (float_val...).
    #[arg(long = "grpc_tensor_content")]
    grpc_tensor_content: bool,
}

/// The format of log lines (`--log_format`).
#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object a line.
    Json,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    match args.log_format {
        LogFormat::Json => tracing_subscriber::fmt().json().with_env_filter(filter).init(),
        LogFormat::Text => {
            // Colours only on a terminal, never with NO_COLOR set: logs
            // written to a file or a pipe carry no ANSI codes.
            let colour = std::io::IsTerminal::is_terminal(&std::io::stdout())
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            tracing_subscriber::fmt().with_env_filter(filter).with_ansi(colour).init();
        }
    }
    if args.rest_api_port != 0 && args.rest_api_port == args.port {
        anyhow::bail!("--port and --rest_api_port cannot be the same ({})", args.port);
    }
    let models = match (&args.model_config_file, args.model_name, args.model_base_path) {
        (Some(file), _, _) => serving::read_model_config(file).map_err(anyhow::Error::msg)?,
        (None, Some(name), Some(base_path)) => vec![serving::ModelConfig::new(name, base_path)],
        _ => anyhow::bail!("give --model_name and --model_base_path, or --model_config_file"),
    };
    if args.tensorflow_inter_op_parallelism != 0 {
        tracing::info!("--tensorflow_inter_op_parallelism has no effect here: a plan runs its steps in order");
    }
    let prometheus_path = match &args.monitoring_config_file {
        None => None,
        Some(file) => serving::read_monitoring_config(file).map_err(anyhow::Error::msg)?.prometheus_path,
    };
    if let (Some(path), 0) = (&prometheus_path, args.rest_api_port) {
        tracing::warn!("the Prometheus page ({path}) is served on the REST port: give --rest_api_port");
    }
    let batching = match (args.enable_batching, &args.batching_parameters_file) {
        (false, None) => None,
        (false, Some(file)) => {
            tracing::warn!("--batching_parameters_file {} has no effect without --enable_batching", file.display());
            None
        }
        (true, None) => Some(serving::BatchingParameters::default()),
        (true, Some(file)) => Some(serving::BatchingParameters::read(file).map_err(anyhow::Error::msg)?),
    };
    let seconds = |s: f64| Duration::from_secs_f64(s.max(0.01));
    let config_file = match args.model_config_file {
        Some(path) if args.model_config_file_poll_wait_seconds > 0.0 => {
            Some(serving::ConfigFile { path, poll_interval: seconds(args.model_config_file_poll_wait_seconds) })
        }
        _ => None,
    };
    let config = serving::Config {
        models,
        poll_interval: seconds(args.file_system_poll_wait_seconds),
        max_body_bytes: args.max_body_bytes,
        threads: args.tensorflow_intra_op_parallelism,
        config_file,
        rest_timeout: (args.rest_api_timeout_in_ms > 0).then(|| Duration::from_millis(args.rest_api_timeout_in_ms)),
        allow_version_labels_for_unavailable_models: args.allow_version_labels_for_unavailable_models,
        prometheus_path,
        batching,
        warmup: args.enable_model_warmup.then_some(args.num_request_iterations_for_warmup),
        tensor_encoding: if args.grpc_tensor_content {
            serving::TensorEncoding::Content
        } else {
            serving::TensorEncoding::Fields
        },
    };
    #[allow(unused_mut)]
    let mut listeners = serving::Listeners {
        grpc: Some(listen(&args.host, args.port).await?),
        rest: match args.rest_api_port {
            0 => None,
            port => Some(listen(&args.host, port).await?),
        },
        ..serving::Listeners::default()
    };
    #[cfg(unix)]
    if let Some(path) = &args.grpc_socket_path {
        let listener = tokio::net::UnixListener::bind(path)
            .map_err(|e| anyhow::anyhow!("could not listen on {}: {e}", path.display()))?;
        listeners.grpc_unix = Some(listener);
    }
    serving::serve(config, listeners, shutdown_signal()).await?;
    if let Some(path) = &args.grpc_socket_path {
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}

/// A listener on `host:port`, or an error naming the address.
async fn listen(host: &str, port: u16) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind((host, port))
        .await
        .map_err(|e| anyhow::anyhow!("could not listen on {host}:{port}: {e}"))
}

/// SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown requested: draining requests in flight");
}
