//! TensorFlow Serving's monitoring config (`--monitoring_config_file`): a
//! `MonitoringConfig` in protobuf text format
//! (tensorflow_serving/config/monitoring_config.proto), of which the server
//! reads the Prometheus exporter's settings:
//!
//! ```text
//! prometheus_config { enable: true path: "/monitoring/prometheus/metrics" }
//! ```
//!
//! An empty path is TensorFlow Serving's default,
//! `PrometheusExporter::kPrometheusPath` (tensorflow_serving/util/prometheus_exporter.cc).

use std::path::Path;

use crate::text_format::{Token, Tokens};

/// TensorFlow Serving's default path of the Prometheus page.
pub const DEFAULT_PROMETHEUS_PATH: &str = "/monitoring/prometheus/metrics";

/// Where to serve the metrics, when enabled.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MonitoringConfig {
    /// The path of the Prometheus page on the REST port, `None` when
    /// `prometheus_config { enable: false }` or absent.
    pub prometheus_path: Option<String>,
}

/// Reads the monitoring config file at `path`.
///
/// # Errors
/// A message naming the file, and the line for a syntax error.
pub fn read_monitoring_config(path: &Path) -> Result<MonitoringConfig, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Parses the text of a monitoring config file.
///
/// # Errors
/// A message with the line of the first problem.
pub fn parse(text: &str) -> Result<MonitoringConfig, String> {
    let mut tokens = Tokens::new(text);
    let mut config = MonitoringConfig::default();
    while let Some((line, token)) = tokens.next()? {
        match token {
            Token::Name("prometheus_config") => {
                tokens.open(line)?;
                let (mut enable, mut path) = (false, String::new());
                while !tokens.close_next()? {
                    match tokens.name()? {
                        (line, "enable") => enable = tokens.bool_field(line, "enable")?,
                        (line, "path") => path = tokens.string_field(line)?,
                        (line, other) => {
                            tracing::warn!(line, field = other, "monitoring config: field skipped");
                            tokens.skip_value()?;
                        }
                    }
                }
                if !path.is_empty() && !path.starts_with('/') {
                    return Err(format!("line {line}: the prometheus path must start with '/', got {path:?}"));
                }
                config.prometheus_path =
                    enable.then(|| if path.is_empty() { DEFAULT_PROMETHEUS_PATH.to_owned() } else { path });
            }
            Token::Name(n) => {
                tracing::warn!(line, field = n, "monitoring config: field skipped");
                tokens.skip_value()?;
            }
            other => return Err(format!("line {line}: expected a field name, got {other}")),
        }
    }
    Ok(config)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_tensorflow_servings_monitoring_config() {
        let path = |text: &str| parse(text).unwrap().prometheus_path;
        assert_eq!(path("prometheus_config { enable: true path: \"/metrics\" }"), Some("/metrics".into()));
        assert_eq!(path("prometheus_config { enable: true }"), Some(DEFAULT_PROMETHEUS_PATH.into()));
        assert_eq!(path("prometheus_config: { enable: false, path: \"/m\" }"), None);
        assert_eq!(path(""), None);
        let err = parse("prometheus_config { enable: yes }").unwrap_err();
        assert!(err.contains("expected true or false for enable"), "{err}");
        let err = parse("prometheus_config { enable: true path: \"m\" }").unwrap_err();
        assert!(err.contains("must start with '/'"), "{err}");
    }
}
