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

#[derive(Debug, PartialEq)]
enum Token<'a> {
    Name(&'a str),
    Str(String),
    Scalar(&'a str),
    Colon,
    Open,
    Close,
    ListOpen,
    ListClose,
}

impl std::fmt::Display for Token<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Token::Name(n) | Token::Scalar(n) => write!(f, "{n:?}"),
            Token::Str(s) => write!(f, "the string {s:?}"),
            Token::Colon => f.write_str("':'"),
            Token::Open => f.write_str("'{'"),
            Token::Close => f.write_str("'}'"),
            Token::ListOpen => f.write_str("'['"),
            Token::ListClose => f.write_str("']'"),
        }
    }
}

/// The tokens of the text format, with their line numbers.
struct Tokens<'a> {
    rest: &'a str,
    line: usize,
    peeked: Option<(usize, Token<'a>)>,
}

impl<'a> Tokens<'a> {
    fn new(text: &'a str) -> Tokens<'a> {
        Tokens { rest: text, line: 1, peeked: None }
    }

    fn next(&mut self) -> Result<Option<(usize, Token<'a>)>, String> {
        if let Some(t) = self.peeked.take() {
            return Ok(Some(t));
        }
        loop {
            let trimmed = self.rest.trim_start_matches([' ', '\t', '\r', ',', ';']);
            self.rest = trimmed;
            if let Some(after) = trimmed.strip_prefix('\n') {
                self.line += 1;
                self.rest = after;
            } else if trimmed.starts_with('#') {
                self.rest = trimmed.find('\n').map_or("", |i| &trimmed[i..]);
            } else {
                break;
            }
        }
        let line = self.line;
        let Some(c) = self.rest.chars().next() else { return Ok(None) };
        let token = match c {
            ':' => self.take(1, Token::Colon),
            '{' | '<' => self.take(1, Token::Open),
            '}' | '>' => self.take(1, Token::Close),
            '[' => self.take(1, Token::ListOpen),
            ']' => self.take(1, Token::ListClose),
            '"' | '\'' => Token::Str(self.string(c)?),
            c if c.is_ascii_alphabetic() || c == '_' => Token::Name(self.word()),
            c if c.is_ascii_digit() || c == '-' || c == '+' || c == '.' => Token::Scalar(self.word()),
            other => return Err(format!("line {line}: unexpected character {other:?}")),
        };
        Ok(Some((line, token)))
    }

    fn take(&mut self, n: usize, token: Token<'a>) -> Token<'a> {
        self.rest = &self.rest[n..];
        token
    }

    fn word(&mut self) -> &'a str {
        let end =
            self.rest.find(|c: char| !(c.is_ascii_alphanumeric() || "_.-+".contains(c))).unwrap_or(self.rest.len());
        let (word, rest) = self.rest.split_at(end);
        self.rest = rest;
        word
    }

    /// A quoted string (C escapes for quotes, backslash, n, t).
    fn string(&mut self, quote: char) -> Result<String, String> {
        let mut out = String::new();
        let mut chars = self.rest[1..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                c if c == quote => {
                    self.rest = &self.rest[1 + i + 1..];
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, 't')) => out.push('\t'),
                    Some((_, c)) => out.push(c),
                    None => break,
                },
                '\n' => break,
                c => out.push(c),
            }
        }
        Err(format!("line {}: unterminated string", self.line))
    }

    fn expect_next(&mut self, what: &str) -> Result<(usize, Token<'a>), String> {
        self.next()?.ok_or_else(|| format!("line {}: expected {what}, got the end of the file", self.line))
    }

    fn name(&mut self) -> Result<(usize, &'a str), String> {
        match self.expect_next("a field name")? {
            (line, Token::Name(n)) => Ok((line, n)),
            (line, other) => Err(format!("line {line}: expected a field name, got {other}")),
        }
    }

    /// `{`, optionally after a `:`.
    fn open(&mut self, line: usize) -> Result<(), String> {
        match self.expect_next("'{'")? {
            (_, Token::Open) => Ok(()),
            (_, Token::Colon) => self.open(line),
            (at, other) => Err(format!("line {at}: expected '{{' after the field of line {line}, got {other}")),
        }
    }

    /// Whether the next token closes the current message (consumed if so).
    fn close_next(&mut self) -> Result<bool, String> {
        let token = self.expect_next("'}'")?;
        if token.1 == Token::Close {
            return Ok(true);
        }
        self.peeked = Some(token);
        Ok(false)
    }

    /// `: "value"`.
    fn string_field(&mut self, line: usize) -> Result<String, String> {
        match (self.expect_next("':'")?, self.expect_next("a string")?) {
            ((_, Token::Colon), (_, Token::Str(s))) => Ok(s),
            (_, (at, other)) => {
                Err(format!("line {at}: expected a quoted string for the field of line {line}, got {other}"))
            }
        }
    }

    /// `: N`, a number for the field `field` of `line`.
    fn number_field<T: std::str::FromStr>(&mut self, line: usize, field: &str) -> Result<T, String> {
        match (self.expect_next("':'")?, self.expect_next("a number")?) {
            ((_, Token::Colon), (at, Token::Scalar(n))) => {
                n.parse().map_err(|_| format!("line {at}: {field} must be a non-negative integer, got {n:?}"))
            }
            (_, (at, other)) => Err(format!("line {at}: expected a number for {field} of line {line}, got {other}")),
        }
    }

    /// `: N` or `: [N, M, ...]`, numbers for the repeated field `field`.
    fn numbers_field<T: std::str::FromStr>(&mut self, line: usize, field: &str) -> Result<Vec<T>, String> {
        match self.expect_next("':'")? {
            (_, Token::Colon) => {}
            (at, other) => return Err(format!("line {at}: expected ':' after {field} of line {line}, got {other}")),
        }
        let parse = |at: usize, n: &str| {
            n.parse().map_err(|_| format!("line {at}: {field} must be non-negative integers, got {n:?}"))
        };
        match self.expect_next("a number or '['")? {
            (at, Token::Scalar(n)) => Ok(vec![parse(at, n)?]),
            (_, Token::ListOpen) => {
                let mut out = Vec::new();
                loop {
                    match self.expect_next("a number or ']'")? {
                        (_, Token::ListClose) => return Ok(out),
                        (at, Token::Scalar(n)) => out.push(parse(at, n)?),
                        (at, other) => return Err(format!("line {at}: expected a number in {field}, got {other}")),
                    }
                }
            }
            (at, other) => Err(format!("line {at}: expected a number for {field} of line {line}, got {other}")),
        }
    }

    /// A field's value: `: scalar`, `: "string"`, or a message `{ ... }`.
    fn skip_value(&mut self) -> Result<(), String> {
        let (line, token) = self.expect_next("a value")?;
        let token = if token == Token::Colon { self.expect_next("a value")?.1 } else { token };
        match token {
            Token::Str(_) | Token::Scalar(_) | Token::Name(_) => Ok(()),
            Token::ListOpen => {
                while self.expect_next("']'")?.1 != Token::ListClose {}
                Ok(())
            }
            Token::Open => {
                let mut depth = 1;
                while depth > 0 {
                    match self.expect_next("'}'")?.1 {
                        Token::Open => depth += 1,
                        Token::Close => depth -= 1,
                        _ => {}
                    }
                }
                Ok(())
            }
            other => Err(format!("line {line}: expected a value, got {other}")),
        }
    }
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
