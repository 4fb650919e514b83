//! `show`: TensorFlow's `saved_model_cli show` text, line for line, for our
//! artifacts and TensorFlow's SavedModels alike. A TensorFlow export is
//! read from its `saved_model.pb` alone (`tf_import::inspect`), as
//! TensorFlow's tool does: it works even when the importer cannot translate
//! an op, and the text then ends with a section of ours listing those ops
//! by node. TensorFlow 2 exports end `--all` with TensorFlow's "Concrete
//! Functions" section, read from their object graph.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use crate::{Error, Result};

/// What `show` prints of one meta graph, whichever format it came from.
pub(super) struct MetaText {
    tags: Vec<String>,
    signatures: BTreeMap<String, SignatureText>,
    /// The op types the graph uses (TensorFlow's for its exports, ours for
    /// our artifacts).
    ops: BTreeSet<String>,
    /// Ours, after TensorFlow's text: the ops this build cannot run.
    notes: String,
}

struct SignatureText {
    method: String,
    inputs: BTreeMap<String, TensorText>,
    outputs: BTreeMap<String, TensorText>,
}

struct TensorText {
    /// TensorFlow's dtype name (`DT_FLOAT`).
    dtype: String,
    /// Dims (`-1` unknown), `None` for an unknown rank.
    shape: Option<Vec<i64>>,
    name: String,
}

/// What `show` prints of an export: its meta graphs, TensorFlow's
/// "Concrete Functions" section (`--all`, TensorFlow 2 exports), and a line
/// of ours saying what the directory holds (`--details`).
pub(super) struct ExportText {
    pub metas: Vec<MetaText>,
    pub functions: Option<String>,
    pub header: String,
}

/// The export in the version directory `dir`, for `show`.
///
/// # Errors
/// What reading the export meets, naming the file.
pub(super) fn summarize(dir: &Path) -> Result<ExportText> {
    #[cfg(feature = "tensorflow")]
    if super::is_tensorflow_export(dir) {
        let summary = tf_import::inspect(dir)?;
        return Ok(ExportText {
            metas: summary.meta_graphs.iter().map(tensorflow::meta_text).collect(),
            functions: summary.concrete_functions.clone(),
            header: format!("TensorFlow SavedModel in {}", dir.display()),
        });
    }
    let artifact = crate::loader::open(dir, export::OpenOptions::default())?;
    let header = format!(
        "{}, version {} in {}",
        artifact.format(),
        artifact.version().map_or_else(|| "-".to_owned(), |v| v.to_string()),
        dir.display()
    );
    let metas = artifact
        .model()
        .meta_graphs
        .iter()
        .map(|meta| MetaText {
            tags: meta.tags.clone(),
            signatures: meta
                .signatures
                .iter()
                .map(|(key, sig)| {
                    let tensors = |map: &BTreeMap<String, export::TensorInfo>| {
                        map.iter()
                            .map(|(k, info)| {
                                let dims =
                                    info.shape.0.iter().map(|d| d.map_or(-1, |d| i64::try_from(d).unwrap_or(-1)));
                                // A tensor of ours is its node's only output: `:0`, as
                                // TensorFlow names tensors.
                                let name = match info.name.contains(':') {
                                    true => info.name.clone(),
                                    false => format!("{}:0", info.name),
                                };
                                let text = TensorText {
                                    dtype: info.dtype.tf_name().to_owned(),
                                    shape: Some(dims.collect()),
                                    name,
                                };
                                (k.clone(), text)
                            })
                            .collect()
                    };
                    let text = SignatureText {
                        method: sig.method_name.clone(),
                        inputs: tensors(&sig.inputs),
                        outputs: tensors(&sig.outputs),
                    };
                    (key.clone(), text)
                })
                .collect(),
            ops: meta.graph.nodes.iter().map(|n| n.op.clone()).collect(),
            notes: String::new(),
        })
        .collect();
    Ok(ExportText { metas, functions: None, header })
}

/// The text of `show`, as TensorFlow's: `--all` shows every meta graph
/// with its signatures and ops; else no `--tag_set` lists the tag-sets; a
/// tag set lists its signature keys (after its ops with `--list_ops`); a
/// `--signature_def` (tag set `serve` unless given) shows that signature.
///
/// # Errors
/// [`Error::Export`] (`NoMetaGraph`) for a tag set the export does not
/// have, [`Error::NoSignature`] for a signature its meta graph does not have.
pub(super) fn render(
    export: &ExportText,
    tag_set: Option<&str>,
    signature_def: Option<&str>,
    all: bool,
    list_ops: bool,
) -> Result<String> {
    let metas = &export.metas;
    let mut text = String::new();
    if all {
        let mut sorted: Vec<&MetaText> = metas.iter().collect();
        sorted.sort_by(|a, b| a.tags.cmp(&b.tags));
        for meta in sorted {
            let tags = meta.tags.join(", ");
            let _ = writeln!(text, "\nMetaGraphDef with tag-set: '{tags}' contains the following SignatureDefs:");
            for (key, signature) in &meta.signatures {
                let _ = writeln!(text, "\nsignature_def['{key}']:");
                describe(&mut text, signature, "  ");
            }
            ops(&mut text, meta);
            text.push_str(&meta.notes);
        }
        text.push_str(export.functions.as_deref().unwrap_or_default());
        return Ok(text);
    }
    match (tag_set, signature_def) {
        (None, None) => {
            if list_ops {
                text.push_str("--list_ops must be paired with a tag-set or with --all.\n");
            }
            text.push_str("The given SavedModel contains the following tag-sets:\n");
            let mut tag_sets: Vec<Vec<&str>> = metas
                .iter()
                .map(|m| {
                    let mut tags: Vec<&str> = m.tags.iter().map(String::as_str).collect();
                    tags.sort_unstable();
                    tags
                })
                .collect();
            tag_sets.sort();
            for tags in tag_sets {
                let _ = writeln!(text, "{}", export::python_repr(&tags.join(", ")));
            }
            for meta in metas {
                text.push_str(&meta.notes);
            }
        }
        (Some(tags), None) => {
            let meta = meta_graph(metas, tags)?;
            if list_ops {
                ops(&mut text, meta);
            }
            text.push_str("The given SavedModel MetaGraphDef contains SignatureDefs with the following keys:\n");
            for key in meta.signatures.keys() {
                let _ = writeln!(text, "SignatureDef key: \"{key}\"");
            }
            text.push_str(&meta.notes);
        }
        (tags, Some(key)) => {
            let meta = meta_graph(metas, tags.unwrap_or(super::DEFAULT_TAGS))?;
            if list_ops {
                ops(&mut text, meta);
            }
            let signature = meta.signatures.get(key).ok_or_else(|| Error::NoSignature {
                name: key.to_owned(),
                available: meta.signatures.keys().cloned().collect(),
            })?;
            describe(&mut text, signature, "");
            text.push_str(&meta.notes);
        }
    }
    Ok(text)
}

/// The meta graph whose tag set is `tags` (comma-separated, as a set).
fn meta_graph<'m>(metas: &'m [MetaText], tags: &str) -> Result<&'m MetaText> {
    let wanted: BTreeSet<&str> = tags.split(',').map(str::trim).collect();
    metas.iter().find(|m| m.tags.iter().map(String::as_str).collect::<BTreeSet<_>>() == wanted).ok_or_else(|| {
        Error::Export(export::Error::NoMetaGraph {
            wanted: wanted.iter().map(|t| (*t).to_owned()).collect(),
            available: metas.iter().map(|m| m.tags.clone()).collect(),
        })
    })
}

/// A signature's inputs, outputs and method, each line after `indent`.
fn describe(text: &mut String, signature: &SignatureText, indent: &str) {
    for (side, map) in [("input", &signature.inputs), ("output", &signature.outputs)] {
        let _ = writeln!(text, "{indent}The given SavedModel SignatureDef contains the following {side}(s):");
        for (key, info) in map {
            let _ = writeln!(text, "{indent}  {side}s['{key}'] tensor_info:");
            // A tuple, as Python prints one: `(-1, 784)`; a scalar `()`.
            let shape = match &info.shape {
                None => "unknown_rank".to_owned(),
                Some(dims) => format!("({})", dims.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")),
            };
            let _ = writeln!(text, "{indent}      dtype: {}", info.dtype);
            let _ = writeln!(text, "{indent}      shape: {shape}");
            let _ = writeln!(text, "{indent}      name: {}", info.name);
        }
    }
    let _ = writeln!(text, "{indent}Method name is: {}", signature.method);
}

/// TensorFlow's ops line: the tags as a Python list, the ops as a Python
/// set (sorted here; TensorFlow's order is its set's, arbitrary).
fn ops(text: &mut String, meta: &MetaText) {
    let tags: Vec<String> = meta.tags.iter().map(|t| export::python_repr(t)).collect();
    let ops = if meta.ops.is_empty() {
        "set()".to_owned()
    } else {
        format!("{{{}}}", meta.ops.iter().map(|op| export::python_repr(op)).collect::<Vec<_>>().join(", "))
    };
    let _ = writeln!(text, "The MetaGraph with tag set [{}] contains the following ops: {ops}", tags.join(", "));
}

/// A TensorFlow export's meta graphs, from `tf_import::inspect`.
#[cfg(feature = "tensorflow")]
mod tensorflow {
    use std::fmt::Write as _;

    use tf_import::{MetaGraphSummary, TensorSummary, UnsupportedNode};

    use super::{MetaText, SignatureText, TensorText};

    pub(super) fn meta_text(meta: &MetaGraphSummary) -> MetaText {
        let tensor =
            |t: &TensorSummary| TensorText { dtype: t.dtype_name(), shape: t.shape.clone(), name: t.name.clone() };
        let signatures = meta
            .signatures
            .iter()
            .map(|(key, sig)| {
                let text = SignatureText {
                    method: sig.method_name.clone(),
                    inputs: sig.inputs.iter().map(|(k, t)| (k.clone(), tensor(t))).collect(),
                    outputs: sig.outputs.iter().map(|(k, t)| (k.clone(), tensor(t))).collect(),
                };
                (key.clone(), text)
            })
            .collect();
        MetaText { tags: meta.tags.clone(), signatures, ops: meta.ops.clone(), notes: unsupported(meta) }
    }

    /// Ours, not TensorFlow's: the ops of `meta` this build cannot run, each
    /// with its number of nodes and up to three of them; nothing if none.
    fn unsupported(meta: &MetaGraphSummary) -> String {
        let mut text = String::new();
        let ops = meta.unsupported_ops();
        if ops.is_empty() {
            return text;
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
        text
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
}
