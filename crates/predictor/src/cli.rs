//! `saved_model_cli`: inspect an artifact and run it from the command line,
//! as TensorFlow's tool of that name does.
//!
//! ```text
//! saved_model_cli show --dir saved_model --all
//! saved_model_cli run --dir saved_model --input_exprs 'number=[[101.0]]'
//! saved_model_cli run --dir saved_model --inputs_json '{"number": [[101.0]]}'
//! saved_model_cli convert --dir tf_export/1700000000 --output_dir saved_model
//! ```
//!
//! `--dir` is a version directory or an export base (its newest version),
//! holding our artifact or a SavedModel written by TensorFlow.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};
use export::Signature;
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
        /// The meta graph's tags, comma-separated.
        #[arg(long = "tag_set", default_value = "serve")]
        tag_set: String,
        /// Show only this signature.
        #[arg(long = "signature_def")]
        signature_def: Option<String>,
        /// Show every signature with its inputs and outputs.
        #[arg(long)]
        all: bool,
    },
    /// Feed inputs to a signature and print its outputs as JSON.
    Run {
        /// A version directory, or an export base (its newest version is used).
        #[arg(long)]
        dir: PathBuf,
        /// The meta graph's tags, comma-separated.
        #[arg(long = "tag_set", default_value = "serve")]
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
    /// Convert a SavedModel (e.g. written by TensorFlow) into a new version
    /// of our artifact under an export base.
    Convert {
        /// A version directory, or an export base (its newest version is used).
        #[arg(long)]
        dir: PathBuf,
        /// The export base the new version is written under.
        #[arg(long = "output_dir")]
        output_dir: PathBuf,
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
        Command::Show { dir, tag_set, signature_def, all } => {
            let predictor = load(&dir, &tag_set, None)?;
            show(&predictor, signature_def.as_deref(), all)?
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
        Command::Convert { dir, output_dir } => {
            let dir = version_dir(&dir)?;
            let artifact = crate::loader::open(&dir, export::OpenOptions::default())?;
            let written = artifact.write_version(&output_dir)?;
            format!("converted the {} in {} into {}\n", artifact.format(), dir.display(), written.display())
        }
    };
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

fn load(dir: &Path, tag_set: &str, signature: Option<&str>) -> Result<Predictor> {
    let dir = version_dir(dir)?;
    let options =
        LoadOptions { tags: tag_set.split(',').map(|t| t.trim().to_owned()).collect(), ..LoadOptions::default() };
    let model = std::sync::Arc::new(crate::Model::load(&dir, &options)?);
    // `show` must work whatever the signatures are called.
    let signature = signature.or(model.default_signature()).unwrap_or_default().to_owned();
    Predictor::from_model(model, &signature)
}

fn show(predictor: &Predictor, only: Option<&str>, all: bool) -> Result<String> {
    let model = predictor.model();
    let mut text = String::new();
    if let Some(name) = only {
        let signature = model.signature(name)?;
        describe(&mut text, signature);
        return Ok(text);
    }
    text.push_str(&format!(
        "{}, version {} in {}\nMetaGraph with tag-set: '{}' contains the following signatures:\n",
        model.format(),
        model.version().map_or_else(|| "-".to_owned(), |v| v.to_string()),
        model.dir().display(),
        model.tags().join(","),
    ));
    for (name, signature) in model.signatures() {
        text.push_str(&format!("\nsignature_def['{name}']:\n"));
        if all {
            describe(&mut text, signature);
        }
    }
    Ok(text)
}

fn describe(text: &mut String, signature: &Signature) {
    for (side, map) in [("input", &signature.inputs), ("output", &signature.outputs)] {
        text.push_str(&format!("  The given signature contains the following {side}(s):\n"));
        for (key, info) in map {
            text.push_str(&format!(
                "    {side}s['{key}'] tensor_info:\n        dtype: {}\n        shape: {}\n        name: {}\n",
                info.dtype, info.shape, info.name
            ));
        }
    }
    text.push_str(&format!("  Method name is: {}\n", signature.method_name));
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
