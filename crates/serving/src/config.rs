//! TensorFlow Serving's model config file (`--model_config_file`): a
//! `ModelServerConfig` in protobuf text format, of which the server reads
//! the model list:
//!
//! ```text
//! model_config_list {
//!   config { name: "toy" base_path: "/models/toy" model_platform: "tensorflow" }
//!   config { name: "mlp" base_path: "/models/mlp" }
//! }
//! ```
//!
//! A `config` may also carry a version policy and version labels, as in
//! TensorFlow Serving:
//!
//! ```text
//! config {
//!   name: "toy" base_path: "/models/toy"
//!   model_version_policy { specific { versions: 2 versions: 3 } }
//!   version_labels { key: "stable" value: 2 }
//!   version_labels { key: "canary" value: 3 }
//! }
//! ```
//!
//! (`latest { num_versions: 2 }` and `all {}` are the other policies; the
//! default is `latest { num_versions: 1 }`.) Other fields are skipped with
//! a log line. Relative base paths are taken from the config file's
//! directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::policy::VersionPolicy;
use crate::text_format::{Token, Tokens};

/// A model to serve: its name in URLs, its export base, which versions to
/// serve and their labels.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelConfig {
    /// The name clients use in URLs.
    pub name: String,
    /// The export base holding the versions.
    pub base_path: PathBuf,
    /// Which versions to serve (`model_version_policy`).
    pub version_policy: VersionPolicy,
    /// Names for versions (`version_labels`): label to version.
    pub version_labels: BTreeMap<String, u64>,
}

impl ModelConfig {
    /// The model `name` from `base_path`, its newest version served, no labels.
    pub fn new(name: impl Into<String>, base_path: impl Into<PathBuf>) -> ModelConfig {
        ModelConfig { name: name.into(), base_path: base_path.into(), ..ModelConfig::default() }
    }
}

/// Reads the model list of the config file at `path`.
///
/// # Errors
/// A message naming the file, and the line for a syntax error, a model
/// without a name or base path, or a name given twice.
pub fn read_model_config(path: &Path) -> Result<Vec<ModelConfig>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let mut models = parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    for model in &mut models {
        if model.base_path.is_relative() {
            model.base_path = dir.join(&model.base_path);
        }
    }
    Ok(models)
}

/// Parses the text of a config file.
///
/// # Errors
/// A message with the line of the first problem.
pub fn parse(text: &str) -> Result<Vec<ModelConfig>, String> {
    let mut tokens = Tokens::new(text);
    let mut models: Vec<ModelConfig> = Vec::new();
    while let Some((line, token)) = tokens.next()? {
        match token {
            Token::Name("model_config_list") => {
                tokens.open(line)?;
                while !tokens.close_next()? {
                    let (line, field) = tokens.name()?;
                    if field != "config" {
                        tracing::warn!(line, field, "model config: field skipped");
                        tokens.skip_value()?;
                        continue;
                    }
                    let model = config(&mut tokens, line)?;
                    add(&mut models, model).map_err(|e| format!("line {line}: {e}"))?;
                }
            }
            Token::Name(n) => {
                tracing::warn!(line, field = n, "model config: field skipped");
                tokens.skip_value()?;
            }
            other => return Err(format!("line {line}: expected a field name, got {other}")),
        }
    }
    if models.is_empty() {
        return Err("no model_config_list with a config in it".into());
    }
    Ok(models)
}

/// One `config { ... }` block (its name already read at `line`).
fn config(tokens: &mut Tokens<'_>, line: usize) -> Result<ModelConfig, String> {
    tokens.open(line)?;
    let (mut name, mut base_path) = (String::new(), String::new());
    let mut policy = VersionPolicy::default();
    let mut labels = BTreeMap::new();
    while !tokens.close_next()? {
        let (line, field) = tokens.name()?;
        match field {
            "name" => name = tokens.string_field(line)?,
            "base_path" => base_path = tokens.string_field(line)?,
            "model_version_policy" => policy = version_policy(tokens, line)?,
            "version_labels" => {
                let (label, version) = version_label(tokens, line)?;
                labels.insert(label, version);
            }
            "model_platform" => {
                let platform = tokens.string_field(line)?;
                check_platform(&platform).map_err(|e| format!("line {line}: {e}"))?;
            }
            other => {
                tracing::warn!(line, field = other, "model config: field skipped");
                tokens.skip_value()?;
            }
        }
    }
    let mut model = model(name, base_path).map_err(|e| format!("line {line}: {e}"))?;
    model.version_policy = policy;
    model.version_labels = labels;
    Ok(model)
}

/// `model_version_policy { latest { num_versions: N } | all {} | specific { versions: V ... } }`.
fn version_policy(tokens: &mut Tokens<'_>, line: usize) -> Result<VersionPolicy, String> {
    tokens.open(line)?;
    let mut policy = VersionPolicy::default();
    while !tokens.close_next()? {
        let (line, choice) = tokens.name()?;
        tokens.open(line)?;
        policy = match choice {
            "latest" => {
                let mut n = 0;
                while !tokens.close_next()? {
                    match tokens.name()? {
                        (line, "num_versions") => n = tokens.number_field(line, "num_versions")?,
                        (line, other) => return Err(format!("line {line}: latest has num_versions, not {other}")),
                    }
                }
                VersionPolicy::Latest(n)
            }
            "all" => {
                if !tokens.close_next()? {
                    return Err(format!("line {line}: all {{}} takes no field"));
                }
                VersionPolicy::All
            }
            "specific" => {
                let mut versions = Vec::new();
                while !tokens.close_next()? {
                    match tokens.name()? {
                        (line, "versions") => versions.extend(tokens.numbers_field::<u64>(line, "versions")?),
                        (line, other) => return Err(format!("line {line}: specific has versions, not {other}")),
                    }
                }
                if versions.is_empty() {
                    return Err(format!("line {line}: specific {{}} needs at least one version"));
                }
                VersionPolicy::Specific(versions)
            }
            other => {
                return Err(format!("line {line}: expected a version policy (latest, all or specific), got {other:?}"));
            }
        };
    }
    Ok(policy)
}

/// `version_labels { key: "stable" value: 3 }`.
fn version_label(tokens: &mut Tokens<'_>, line: usize) -> Result<(String, u64), String> {
    tokens.open(line)?;
    let (mut key, mut value) = (None, None);
    while !tokens.close_next()? {
        match tokens.name()? {
            (line, "key") => key = Some(tokens.string_field(line)?),
            (line, "value") => value = Some(tokens.number_field(line, "value")?),
            (line, other) => return Err(format!("line {line}: version_labels has key and value, not {other}")),
        }
    }
    match (key, value) {
        (Some(key), Some(value)) if !key.is_empty() => Ok((key, value)),
        (key, value) => Err(format!(
            "line {line}: version_labels needs a non-empty key and a value (got key {key:?}, value {value:?})"
        )),
    }
}

/// Checks a `model_platform`: only TensorFlow's models are served (empty
/// means TensorFlow, as in TensorFlow Serving).
///
/// # Errors
/// A message naming the platform.
pub(crate) fn check_platform(platform: &str) -> Result<(), String> {
    match platform {
        "" | "tensorflow" => Ok(()),
        other => Err(format!("model_platform {other:?}: only \"tensorflow\" is served")),
    }
}

/// One model of a config, checked: a non-empty name without `/` and a base path.
///
/// # Errors
/// A message naming what is missing or wrong.
pub(crate) fn model(name: String, base_path: String) -> Result<ModelConfig, String> {
    if name.is_empty() || base_path.is_empty() {
        return Err(format!("a config needs a name and a base_path (got name {name:?}, base_path {base_path:?})"));
    }
    if name.contains('/') {
        return Err(format!("model name {name:?} must be non-empty, without '/'"));
    }
    Ok(ModelConfig::new(name, base_path))
}

/// Adds `model` to `models` unless its name is already there.
///
/// # Errors
/// A message naming the model configured twice.
pub(crate) fn add(models: &mut Vec<ModelConfig>, model: ModelConfig) -> Result<(), String> {
    if models.iter().any(|m| m.name == model.name) {
        return Err(format!("model {:?} is configured twice", model.name));
    }
    models.push(model);
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_tensorflow_servings_model_list() {
        let text = r#"
            # Three models: a version policy and labels, the default policy, a list.
            model_config_list {
              config {
                name: 'toy'
                base_path: "/models/toy"
                model_platform: "tensorflow"
                model_version_policy { specific { versions: 1 versions: 2 } }
                version_labels { key: "stable" value: 1 }
                version_labels { key: "canary" value: 2 }
              }
              config: { name: "mlp", base_path: "models/mlp" }
              config { name: "all" base_path: "/a" model_version_policy { all {} } }
              config { name: "two" base_path: "/b" model_version_policy: { latest: { num_versions: 2 } } }
              config { name: "list" base_path: "/c" model_version_policy { specific { versions: [3, 4] } } }
            }
        "#;
        let models = parse(text).unwrap();
        let toy = ModelConfig {
            version_policy: VersionPolicy::Specific(vec![1, 2]),
            version_labels: [("stable".to_owned(), 1), ("canary".to_owned(), 2)].into_iter().collect(),
            ..ModelConfig::new("toy", "/models/toy")
        };
        assert_eq!(models[0], toy);
        assert_eq!(models[1], ModelConfig::new("mlp", "models/mlp"));
        assert_eq!(models[2].version_policy, VersionPolicy::All);
        assert_eq!(models[3].version_policy, VersionPolicy::Latest(2));
        assert_eq!(models[4].version_policy, VersionPolicy::Specific(vec![3, 4]));
    }

    #[test]
    fn bad_configs_say_where() {
        for (text, says) in [
            ("model_config_list { config { name: \"a\" } }", "line 1: a config needs a name and a base_path"),
            (
                "model_config_list {\n config { name: \"a\" base_path: \"/x\" }\n config { name: \"a\" base_path: \"/y\" } }",
                "line 3: model \"a\" is configured twice",
            ),
            ("model_config_list {\n config { name: \"a\n\" } }", "line 2: unterminated string"),
            (
                "model_config_list { config { name: \"a\" base_path: \"/x\" model_platform: \"onnx\" } }",
                "only \"tensorflow\"",
            ),
            ("model_config_list { config { name: 5 } }", "expected a quoted string"),
            ("model_config_list { config { name: \"a\" base_path: \"/x\" }", "got the end of the file"),
            ("model_config_list { }", "no model_config_list with a config"),
            ("model_config_list { config { name: \"a/b\" base_path: \"/x\" } }", "without '/'"),
            ("@", "unexpected character '@'"),
            (
                "model_config_list { config { name: \"a\" base_path: \"/x\" model_version_policy { newest {} } } }",
                "expected a version policy (latest, all or specific), got \"newest\"",
            ),
            (
                "model_config_list { config { name: \"a\" base_path: \"/x\" version_labels { key: \"s\" value: -1 } } }",
                "value must be a non-negative integer, got \"-1\"",
            ),
            (
                "model_config_list { config { name: \"a\" base_path: \"/x\" version_labels { value: 1 } } }",
                "needs a non-empty key and a value",
            ),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.contains(says), "{text:?}: {err}");
        }
    }
}
