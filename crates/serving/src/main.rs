//! The model server binary. See the crate docs.

use std::time::Duration;

use clap::Parser;

/// Serve a model over TensorFlow Serving's REST API.
#[derive(Parser)]
#[command(name = "serving", version, about)]
struct Args {
    /// The name clients use in URLs: /v1/models/<name>:predict.
    #[arg(long = "model_name", requires = "model_base_path", required_unless_present = "model_config_file")]
    model_name: Option<String>,
    /// The export base holding numeric version directories.
    #[arg(long = "model_base_path", requires = "model_name")]
    model_base_path: Option<std::path::PathBuf>,
    /// Several models: TensorFlow Serving's config file (a text-format
    /// `ModelServerConfig` with a `model_config_list`).
    #[arg(long = "model_config_file", conflicts_with_all = ["model_name", "model_base_path"])]
    model_config_file: Option<std::path::PathBuf>,
    /// The port of the REST API.
    #[arg(long, alias = "rest_api_port", default_value_t = 8501)]
    port: u16,
    /// The address to bind.
    #[arg(long, default_value = "0.0.0.0")]
    host: String,
    /// Seconds between looks for a new version.
    #[arg(long = "file_system_poll_wait_seconds", default_value_t = 1.0)]
    poll_seconds: f64,
    /// The largest request body accepted, in bytes.
    #[arg(long = "max_body_bytes", default_value_t = 4 << 20)]
    max_body_bytes: usize,
    /// The most threads one request may use to split its large layers (1:
    /// each request on its own thread, best under concurrent load).
    #[arg(long = "tensorflow_intra_op_parallelism", default_value_t = 1)]
    threads: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Colours only on a terminal, never with NO_COLOR set: logs written to
    // a file or a pipe carry no ANSI codes.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stdout())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_ansi(colour)
        .init();
    let args = Args::parse();
    let listener = tokio::net::TcpListener::bind((args.host.as_str(), args.port)).await?;
    let models = match (args.model_config_file, args.model_name, args.model_base_path) {
        (Some(file), _, _) => serving::read_model_config(&file).map_err(anyhow::Error::msg)?,
        (None, Some(name), Some(base_path)) => vec![serving::ModelConfig { name, base_path }],
        _ => anyhow::bail!("give --model_name and --model_base_path, or --model_config_file"),
    };
    let config = serving::Config {
        models,
        poll_interval: Duration::from_secs_f64(args.poll_seconds.max(0.01)),
        max_body_bytes: args.max_body_bytes,
        threads: args.threads,
    };
    serving::serve(config, listener, shutdown_signal()).await?;
    Ok(())
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
