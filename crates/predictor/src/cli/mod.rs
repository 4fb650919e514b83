//! `saved_model_cli`: inspect an artifact and run it from the command line,
//! as TensorFlow's tool of that name does.
//!
//! ```text
//! saved_model_cli show --dir saved_model --all
//! saved_model_cli run --dir saved_model --input_exprs 'number=[[101.0]]'
//! saved_model_cli run --dir saved_model --inputs_json '{"number": [[101.0]]}'
//! saved_model_cli import --dir tf_export/1700000000 --output_dir saved_model
//! ```
//!
//! `--dir` is a version directory or an export base (its newest version),
//! holding our artifact or a SavedModel written by TensorFlow.
//!
//! `show` on a TensorFlow export prints TensorFlow's own text from its
//! `saved_model.pb` alone (`tf_import::inspect`), as TensorFlow's tool
//! does: it works even when the importer cannot translate an op, and then
//! ends with a section of ours listing those ops by node.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};
use serde_json::{Map, Value};

use crate::json::{tensor_from_json, tensor_to_json};
use crate::{Error, LoadOptions, Predictor, Result, Tensor};

/// Inspect and run exported models.
#[derive(Debug, Parser)]
#[command(name = "saved_model_cli", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show the meta graph's signatures, or one signature's inputs and outputs.
    Show {
        /// A version directory, or an export base (its newest version is used).
        #[arg(long)]
        dir: PathBuf,
        /// The meta graph's tags, comma-separated (default `serve`; for a
        /// TensorFlow export without `--signature_def`, none lists the tag-sets).
        #[arg(long = "tag_set")]
        tag_set: Option<String>,
        /// Show only this signature.
        #[arg(long = "signature_def")]
        signature_def: Option<String>,
        /// Show every signature with its inputs and outputs, and the ops
        /// each meta graph uses.
        #[arg(long)]
        all: bool,
        /// List the ops the meta graph of `--tag_set` uses.
        #[arg(long = "list_ops")]
        list_ops: bool,
        /// Ours, not TensorFlow's: first say which format and version the
        /// directory holds and where it is.
        #[arg(long)]
        details: bool,
    },
    /// Feed inputs to a signature and print its outputs as JSON.
    Run {
        /// A version directory, or an export base (its newest version is used).
        #[arg(long)]
        dir: PathBuf,
        /// The meta graph's tags, comma-separated.
        #[arg(long = "tag_set", default_value = DEFAULT_TAGS)]
        tag_set: String,
        /// The signature to run.
        #[arg(long = "signature_def", default_value = export::DEFAULT_SIGNATURE)]
        signature_def: String,
        /// Inputs as `key=<JSON>`, separated by `;` (e.g. `number=[[1.0]]`).
        #[arg(long = "input_exprs")]
        input_exprs: Option<String>,
        /// Inputs as one JSON object: `{"number": [[1.0]]}`.
        #[arg(long = "inputs_json")]
        inputs_json: Option<String>,
        /// More inputs as `key=<JSON>`.
        #[arg(value_name = "KEY=VALUE")]
        exprs: Vec<String>,
    },
    /// Import a SavedModel written by TensorFlow (or copy one of ours) as
    /// our artifact: its graph translated to our op set, its variables
    /// re-packed, under `--output_dir` with the same version number. Not
    /// TensorFlow's `convert` (TensorRT), whose name it also answers to.
    #[command(visible_alias = "convert")]
    Import {
        /// A version directory, or an export base (its newest version is used).
        #[arg(long)]
        dir: PathBuf,
        /// The export base the version is written under.
        #[arg(long = "output_dir")]
        output_dir: PathBuf,
        /// Number the new version by the time, as a fresh export is,
        /// rather than keeping the source's number.
        #[arg(long)]
        renumber: bool,
    },
}

/// Runs a parsed command, writing its report to `out`.
///
/// # Errors
/// Loading errors, [`Error::InputValue`] for an unreadable input
/// expression, the prediction errors, and [`Error::Export`] if `out`
/// cannot be written.
pub fn execute(cli: Cli, out: &mut dyn Write) -> Result<()> {
    let text = match cli.command {
        Command::Show { dir, tag_set, signature_def, all, list_ops, details } => {
            let dir = version_dir(&dir)?;
            let (metas, header) = show::summarize(&dir)?;
            let text = show::render(&metas, tag_set.as_deref(), signature_def.as_deref(), all, list_ops)?;
            if details { format!("{header}\n{text}") } else { text }
        }
        Command::Run { dir, tag_set, signature_def, input_exprs, inputs_json, exprs } => {
            let predictor = load(&dir, &tag_set, Some(&signature_def))?;
            let mut inputs = Map::new();
            if let Some(json) = inputs_json {
                let parsed: Value = serde_json::from_str(&json)
                    .map_err(|e| Error::InputValue { key: "--inputs_json".into(), reason: e.to_string() })?;
                let Value::Object(map) = parsed else {
                    return Err(Error::InputValue {
                        key: "--inputs_json".into(),
                        reason: "expected a JSON object".into(),
                    });
                };
                inputs.extend(map);
            }
            for expr in input_exprs.iter().flat_map(|e| e.split(';')).chain(exprs.iter().map(String::as_str)) {
                let expr = expr.trim();
                if expr.is_empty() {
                    continue;
                }
                let (key, value) = expr.split_once('=').ok_or_else(|| Error::InputValue {
                    key: expr.to_owned(),
                    reason: "expected key=<JSON value>, e.g. number=[[1.0]]".into(),
                })?;
                let value = serde_json::from_str(value.trim())
                    .map_err(|e| Error::InputValue { key: key.trim().to_owned(), reason: format!("not JSON: {e}") })?;
                inputs.insert(key.trim().to_owned(), value);
            }
            run(&predictor, &inputs)?
        }
        Command::Import { dir, output_dir, renumber } => {
            let dir = version_dir(&dir)?;
            let artifact = crate::loader::open(&dir, export::OpenOptions::default())?;
            let written = match artifact.version() {
                Some(version) if !renumber => artifact.write_version_as(&output_dir, version)?,
                _ => artifact.write_version(&output_dir)?,
            };
            format!("imported the {} in {} as {}\n", artifact.format(), dir.display(), written.display())
        }
    };
    write(out, &text)
}

/// The tag set `show` and `run` use when none is given.
const DEFAULT_TAGS: &str = "serve";

fn write(out: &mut dyn Write, text: &str) -> Result<()> {
    out.write_all(text.as_bytes()).map_err(|source| export::Error::Io {
        action: "writing",
        path: "standard output".into(),
        source,
    })?;
    Ok(())
}

/// `dir` itself if it holds a `saved_model.pb`, else its newest version.
fn version_dir(dir: &Path) -> Result<PathBuf> {
    Ok(if dir.join(export::SAVED_MODEL_FILE).exists() { dir.to_owned() } else { export::latest_version(dir)? })
}

/// Whether the version directory `dir` holds a SavedModel written by
/// TensorFlow (an unreadable `saved_model.pb` is left to the loader to
/// report, with its usual error).
#[cfg(feature = "tensorflow")]
pub(crate) fn is_tensorflow_export(dir: &Path) -> bool {
    use std::io::Read;
    let mut head = Vec::with_capacity(16);
    std::fs::File::open(dir.join(export::SAVED_MODEL_FILE))
        .and_then(|f| f.take(16).read_to_end(&mut head))
        .is_ok_and(|_| tf_import::is_tensorflow(&head))
}

fn load(dir: &Path, tag_set: &str, signature: Option<&str>) -> Result<Predictor> {
    let dir = version_dir(dir)?;
    let options =
        LoadOptions { tags: tag_set.split(',').map(|t| t.trim().to_owned()).collect(), ..LoadOptions::default() };
    let model = std::sync::Arc::new(crate::Model::load(&dir, &options)?);
    // `show` must work whatever the signatures are called.
    let signature = signature.or(model.default_signature()).unwrap_or_default().to_owned();
    Predictor::from_model(model, &signature)
}

fn run(predictor: &Predictor, inputs: &Map<String, Value>) -> Result<String> {
    let tensors = inputs
        .iter()
        .map(|(key, value)| {
            let spec = predictor.inputs().iter().find(|s| s.key == *key).ok_or_else(|| Error::UnknownInput {
                key: key.clone(),
                expected: predictor.inputs().iter().map(|s| s.key.clone()).collect(),
            })?;
            Ok((key.as_str(), tensor_from_json(value, spec.dtype, key)?))
        })
        .collect::<Result<Vec<(&str, Tensor)>>>()?;
    let outputs = predictor.predict(&tensors)?;
    let json: Map<String, Value> = outputs.iter().map(|(k, t)| (k.to_owned(), tensor_to_json(t))).collect();
    Ok(format!("{}\n", Value::Object(json)))
}

mod show;
