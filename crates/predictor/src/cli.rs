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
//!
//! `show` on a TensorFlow export prints TensorFlow's own text from its
//! `saved_model.pb` alone (`tf_import::inspect`), as TensorFlow's tool
//! does: it works even when the importer cannot translate an op, and then
//! ends with a section of ours listing those ops by node.

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
        /// The meta graph's tags, comma-separated (default `serve`; for a
        /// TensorFlow export without `--signature_def`, none lists the tag-sets).
        #[arg(long = "tag_set")]
        tag_set: Option<String>,
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
            let dir = version_dir(&dir)?;
            #[cfg(feature = "tensorflow")]
            if is_tensorflow_export(&dir) {
                let summary = tf_import::inspect(&dir)?;
                let text = tensorflow::show(&summary, tag_set.as_deref(), signature_def.as_deref(), all)?;
                return write(out, &text);
            }
            let predictor = load(&dir, tag_set.as_deref().unwrap_or(DEFAULT_TAGS), None)?;
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
fn is_tensorflow_export(dir: &Path) -> bool {
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

/// `show` on a TensorFlow export: TensorFlow's `saved_model_cli show` text,
/// from what `saved_model.pb` stores, then (ours) the ops this build cannot run.
#[cfg(feature = "tensorflow")]
mod tensorflow {
    use std::collections::BTreeSet;
    use std::fmt::Write as _;

    use tf_import::{MetaGraphSummary, SavedModelSummary, SignatureSummary, TensorSummary, UnsupportedNode};

    use super::DEFAULT_TAGS;
    use crate::{Error, Result};

    /// The text of `show`: as TensorFlow's, `--all` shows every meta graph
    /// and signature; else no `--tag_set` lists the tag-sets; a tag set
    /// lists its signature keys; a `--signature_def` (tag set `serve` unless
    /// given) shows that signature.
    ///
    /// # Errors
    /// [`Error::Export`] (`NoMetaGraph`) for a tag set the export does not
    /// have, [`Error::NoSignature`] for a signature its meta graph does not have.
    pub(super) fn show(
        summary: &SavedModelSummary,
        tag_set: Option<&str>,
        signature_def: Option<&str>,
        all: bool,
    ) -> Result<String> {
        let mut text = String::new();
        if all {
            let mut metas: Vec<&MetaGraphSummary> = summary.meta_graphs.iter().collect();
            metas.sort_by(|a, b| a.tags.cmp(&b.tags));
            for meta in metas {
                let tags = meta.tags.join(", ");
                let _ = writeln!(text, "\nMetaGraphDef with tag-set: '{tags}' contains the following SignatureDefs:");
                for (key, signature) in &meta.signatures {
                    let _ = writeln!(text, "\nsignature_def['{key}']:");
                    describe(&mut text, signature, "  ");
                }
                unsupported(&mut text, meta);
            }
            return Ok(text);
        }
        match (tag_set, signature_def) {
            (None, None) => {
                text.push_str("The given SavedModel contains the following tag-sets:\n");
                let mut tag_sets: Vec<&Vec<String>> = summary.meta_graphs.iter().map(|m| &m.tags).collect();
                tag_sets.sort();
                for tags in tag_sets {
                    let mut sorted: Vec<&str> = tags.iter().map(String::as_str).collect();
                    sorted.sort_unstable();
                    let _ = writeln!(text, "{}", py_repr(&sorted.join(", ")));
                }
                for meta in &summary.meta_graphs {
                    unsupported(&mut text, meta);
                }
            }
            (Some(tags), None) => {
                let meta = meta_graph(summary, tags)?;
                text.push_str("The given SavedModel MetaGraphDef contains SignatureDefs with the following keys:\n");
                for key in meta.signatures.keys() {
                    let _ = writeln!(text, "SignatureDef key: \"{key}\"");
                }
                unsupported(&mut text, meta);
            }
            (tags, Some(key)) => {
                let meta = meta_graph(summary, tags.unwrap_or(DEFAULT_TAGS))?;
                let signature = meta.signatures.get(key).ok_or_else(|| Error::NoSignature {
                    name: key.to_owned(),
                    available: meta.signatures.keys().cloned().collect(),
                })?;
                describe(&mut text, signature, "");
                unsupported(&mut text, meta);
            }
        }
        Ok(text)
    }

    /// The meta graph whose tag set is `tags` (comma-separated, as a set).
    fn meta_graph<'s>(summary: &'s SavedModelSummary, tags: &str) -> Result<&'s MetaGraphSummary> {
        let wanted: BTreeSet<&str> = tags.split(',').map(str::trim).collect();
        summary
            .meta_graphs
            .iter()
            .find(|m| m.tags.iter().map(String::as_str).collect::<BTreeSet<_>>() == wanted)
            .ok_or_else(|| {
                Error::Export(export::Error::NoMetaGraph {
                    wanted: wanted.iter().map(|t| (*t).to_owned()).collect(),
                    available: summary.meta_graphs.iter().map(|m| m.tags.clone()).collect(),
                })
            })
    }

    /// A signature's inputs, outputs and method, each line after `indent`.
    fn describe(text: &mut String, signature: &SignatureSummary, indent: &str) {
        for (side, map) in [("input", &signature.inputs), ("output", &signature.outputs)] {
            let _ = writeln!(text, "{indent}The given SavedModel SignatureDef contains the following {side}(s):");
            for (key, info) in map {
                let _ = writeln!(text, "{indent}  {side}s['{key}'] tensor_info:");
                tensor_info(text, info, indent);
            }
        }
        let _ = writeln!(text, "{indent}Method name is: {}", signature.method_name);
    }

    /// A `TensorInfo`: TensorFlow's dtype name, the shape as a tuple
    /// (`(-1, 784)`; a scalar `()`, one dimension `(3)`), the tensor name.
    fn tensor_info(text: &mut String, info: &TensorSummary, indent: &str) {
        let shape = match &info.shape {
            None => "unknown_rank".to_owned(),
            Some(dims) => format!("({})", dims.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")),
        };
        let _ = writeln!(text, "{indent}      dtype: {}", info.dtype_name());
        let _ = writeln!(text, "{indent}      shape: {shape}");
        let _ = writeln!(text, "{indent}      name: {}", info.name);
    }

    /// Ours, not TensorFlow's: the ops of `meta` this build cannot run, each
    /// with its number of nodes and up to three of them; nothing if none.
    fn unsupported(text: &mut String, meta: &MetaGraphSummary) {
        let ops = meta.unsupported_ops();
        if ops.is_empty() {
            return;
        }
        let _ = writeln!(
            text,
            "\nThis build cannot run {} of this export (tag-set '{}'; `run` and `convert` refuse it):",
            plural(ops.len(), "op type"),
            meta.tags.join(", "),
        );
        for (op, nodes) in ops {
            let mut examples: Vec<String> = nodes.iter().take(3).map(|n| node(n)).collect();
            if nodes.len() > 3 {
                examples.push("...".to_owned());
            }
            let _ = writeln!(text, "  {op}: {} ({})", plural(nodes.len(), "node"), examples.join(", "));
        }
    }

    /// A node, and the function it is in if not the top-level graph.
    fn node(n: &UnsupportedNode) -> String {
        match &n.function {
            Some(f) => format!("{} in {f}", n.node),
            None => n.node.clone(),
        }
    }

    fn plural(n: usize, what: &str) -> String {
        if n == 1 { format!("1 {what}") } else { format!("{n} {what}s") }
    }

    /// Python's `repr` of a string, as TensorFlow prints a tag-set: in
    /// single quotes, or double ones if it holds a single quote and no double.
    fn py_repr(s: &str) -> String {
        let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
        let mut out = String::from(quote);
        for c in s.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\r' => out.push_str("\\r"),
                c if c == quote => {
                    out.push('\\');
                    out.push(c);
                }
                c => out.push(c),
            }
        }
        out.push(quote);
        out
    }
}
