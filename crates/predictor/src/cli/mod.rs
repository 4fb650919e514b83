//! `saved_model_cli`: inspect an artifact and run it from the command line,
//! as TensorFlow's tool of that name does, with its flags and its text.
//!
//! ```text
//! saved_model_cli show --dir saved_model --all
//! saved_model_cli run --dir saved_model --input_exprs 'number=np.ones((1, 1))'
//! saved_model_cli run --dir saved_model --inputs 'number=x.npy' --outdir out
//! saved_model_cli import --dir tf_export/1700000000 --output_dir saved_model
//! ```
//!
//! `--dir` is a version directory or an export base (its newest version),
//! holding our artifact or a SavedModel written by TensorFlow. `show`
//! prints TensorFlow's text for both (`--details` adds a line of ours);
//! `run` takes `--inputs` (`.npy`, `.npz[name]`), `--input_exprs` (Python
//! literals and `np.` constructors, parsed, never evaluated) and ours,
//! `--input_examples` (`tf.Example`s as Python dicts of feature lists) and
//! ours, `--inputs_json`; it prints the outputs as JSON or writes `.npy`
//! files with `--outdir`.

use std::collections::BTreeMap;
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
        /// Inputs from numpy files: `key=file.npy` or `key=file.npz[name]`,
        /// separated by `;`.
        #[arg(long)]
        inputs: Option<String>,
        /// Inputs as Python expressions, separated by `;`: literals
        /// (`x=[[1.0, nan]]`) and `np.array`, `np.ones`, `np.zeros`,
        /// `np.full`, `np.arange`. Overrides the same key in `--inputs`.
        #[arg(long = "input_exprs")]
        input_exprs: Option<String>,
        /// tf.Example inputs, separated by `;`: `key=[{'x': [1.0], 'color':
        /// ['red']}, ...]` (each feature a list: floats, integers or
        /// strings), serialized as TensorFlow's tool does. Overrides the
        /// same key in `--inputs` and `--input_exprs`.
        #[arg(long = "input_examples")]
        input_examples: Option<String>,
        /// Ours: inputs as one JSON object, `{"number": [[1.0]]}`.
        #[arg(long = "inputs_json")]
        inputs_json: Option<String>,
        /// Write each output to `<outdir>/<key>.npy` (numpy's format).
        #[arg(long)]
        outdir: Option<PathBuf>,
        /// Replace output files that already exist in `--outdir`.
        #[arg(long)]
        overwrite: bool,
        /// More inputs, as in `--input_exprs`.
        #[arg(value_name = "KEY=EXPR")]
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
            let export = show::summarize(&dir)?;
            let text = show::render(&export, tag_set.as_deref(), signature_def.as_deref(), all, list_ops)?;
            if details { format!("{}\n{text}", export.header) } else { text }
        }
        Command::Run {
            dir,
            tag_set,
            signature_def,
            inputs,
            input_exprs,
            input_examples,
            inputs_json,
            outdir,
            overwrite,
            exprs,
        } => {
            let predictor = load(&dir, &tag_set, Some(&signature_def))?;
            let dtype = |key: &str| {
                predictor.inputs().iter().find(|s| s.key == key).map(|s| s.dtype).ok_or_else(|| Error::UnknownInput {
                    key: key.to_owned(),
                    expected: predictor.inputs().iter().map(|s| s.key.clone()).collect(),
                })
            };
            // As TensorFlow's tool: `--input_exprs` overrides `--inputs`;
            // within one flag a key given twice is an error.
            let mut fed: BTreeMap<String, Tensor> = BTreeMap::new();
            let mut from_files = BTreeMap::new();
            for (key, spec) in pairs(inputs.as_deref().unwrap_or(""), "key=file.npy or key=file.npz[name]")? {
                let tensor = npy::read_input(&key, &spec, dtype(&key)?)?;
                once(&mut from_files, key, tensor)?;
            }
            fed.extend(from_files);
            let mut from_exprs = BTreeMap::new();
            let listed = input_exprs.iter().map(String::as_str).chain(exprs.iter().map(String::as_str));
            for text in listed {
                for (key, value) in pairs(text, "key=<expression>, e.g. number=[[1.0]]")? {
                    let tensor = expr::tensor(&value, dtype(&key)?)
                        .map_err(|reason| Error::InputValue { key: key.clone(), reason })?;
                    once(&mut from_exprs, key, tensor)?;
                }
            }
            if let Some(json) = inputs_json {
                let parsed: Value = crate::json::parse(json.as_bytes())
                    .map_err(|e| Error::InputValue { key: "--inputs_json".into(), reason: e.to_string() })?;
                let Value::Object(map) = parsed else {
                    return Err(Error::InputValue {
                        key: "--inputs_json".into(),
                        reason: "expected a JSON object".into(),
                    });
                };
                for (key, value) in map {
                    let tensor = tensor_from_json(&value, dtype(&key)?, &key)?;
                    once(&mut from_exprs, key, tensor)?;
                }
            }
            fed.extend(from_exprs);
            let mut from_examples = BTreeMap::new();
            for (key, value) in pairs(input_examples.as_deref().unwrap_or(""), "key=[{'feature': [values]}]")? {
                dtype(&key)?;
                let tensor = expr::examples(&value).map_err(|reason| Error::InputValue { key: key.clone(), reason })?;
                once(&mut from_examples, key, tensor)?;
            }
            fed.extend(from_examples);
            run(&predictor, fed, outdir.as_deref(), overwrite)?
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

/// `key=value` pairs separated by `;` (empty ones skipped).
fn pairs(text: &str, form: &str) -> Result<Vec<(String, String)>> {
    text.split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (key, value) = p
                .split_once('=')
                .ok_or_else(|| Error::InputValue { key: p.to_owned(), reason: format!("expected {form}") })?;
            Ok((key.trim().to_owned(), value.trim().to_owned()))
        })
        .collect()
}

/// Adds input `key`, refusing one given twice.
fn once(inputs: &mut BTreeMap<String, Tensor>, key: String, tensor: Tensor) -> Result<()> {
    if inputs.contains_key(&key) {
        return Err(Error::DuplicateInput { key });
    }
    inputs.insert(key, tensor);
    Ok(())
}

/// Runs the signature; prints the outputs as JSON, or writes them as
/// `.npy` files under `outdir` and says where, as TensorFlow's tool does.
fn run(
    predictor: &Predictor,
    inputs: BTreeMap<String, Tensor>,
    outdir: Option<&Path>,
    overwrite: bool,
) -> Result<String> {
    let feed: Vec<(&str, Tensor)> = inputs.into_iter().map(|(k, t)| (predictor_key(predictor, &k), t)).collect();
    let outputs = predictor.predict(&feed)?;
    let Some(dir) = outdir else {
        let json: Map<String, Value> = outputs.iter().map(|(k, t)| (k.to_owned(), tensor_to_json(t))).collect();
        return Ok(format!("{}\n", crate::json::to_string(&Value::Object(json))));
    };
    let written = npy::write_outputs(outputs.iter(), dir, overwrite)?;
    Ok(written.iter().map(|(key, path)| format!("Output {key} is saved to {}\n", path.display())).collect())
}

/// The signature's own spelling of input `key` (a `&str` the feed can
/// borrow for the call).
fn predictor_key<'p>(predictor: &'p Predictor, key: &str) -> &'p str {
    predictor.inputs().iter().find(|s| s.key == key).map_or("", |s| s.key.as_str())
}

mod expr;
mod npy;
mod show;
