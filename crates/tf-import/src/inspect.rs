//! What a TensorFlow SavedModel says about itself, read without importing
//! it: each meta graph's tag set and SignatureDefs exactly as stored (what
//! TensorFlow's `saved_model_cli show` prints, it too reading only
//! `saved_model.pb`), and the nodes whose op the importer has no translator
//! for. Only `saved_model.pb` is decoded: no variables, no assets, no graph
//! built, so an export the importer refuses can still be inspected.
//!
//! ```no_run
//! let summary = tf_import::inspect("tf_export/1700000000")?;
//! for meta_graph in &summary.meta_graphs {
//!     println!("{:?}: {:?}", meta_graph.tags, meta_graph.signatures.keys().collect::<Vec<_>>());
//!     for (op, nodes) in meta_graph.unsupported_ops() {
//!         println!("{op}: {} nodes", nodes.len());
//!     }
//! }
//! # Ok::<(), tf_import::Error>(())
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use export::SAVED_MODEL_FILE;
use prost::Message;

use crate::pb;
use crate::pb::attr_value::Value as AttrV;
use crate::restore::node_name;
use crate::{Error, Result, is_tensorflow};

/// A TensorFlow SavedModel as [`inspect`] read it.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct SavedModelSummary {
    /// The `saved_model.pb` read.
    pub path: PathBuf,
    /// Its meta graphs, in the file's order.
    pub meta_graphs: Vec<MetaGraphSummary>,
    /// TensorFlow's "Concrete Functions" section of `saved_model_cli show
    /// --all` (from the object graph: the root's functions and their input
    /// signatures), as it prints it; `None` for an export without an object
    /// graph (TensorFlow 1's), for which it prints none.
    pub concrete_functions: Option<String>,
}

/// One meta graph of a TensorFlow SavedModel.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct MetaGraphSummary {
    /// Its tag set, in the stored order.
    pub tags: Vec<String>,
    /// Its SignatureDefs by key, TensorFlow's internal ones
    /// (`__saved_model_init_op`) included.
    pub signatures: BTreeMap<String, SignatureSummary>,
    /// The nodes the signatures need whose op the importer cannot
    /// translate, sorted by op, then function, then node name. Empty when
    /// the importer translates every op it would meet.
    pub unsupported: Vec<UnsupportedNode>,
    /// The op types the graph uses, as TensorFlow's
    /// `meta_graph.ops_used_by_graph_def` counts them (what its
    /// `saved_model_cli show --all` and `--list_ops` print): the top-level
    /// nodes' ops and those of the functions they name as an op or as a
    /// `PartitionedCall`'s `f` (transitively), functions themselves excluded.
    pub ops: BTreeSet<String>,
}

/// A SignatureDef, as stored.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct SignatureSummary {
    /// Its method name (`tensorflow/serving/predict`...); may be empty.
    pub method_name: String,
    /// Its inputs, by key.
    pub inputs: BTreeMap<String, TensorSummary>,
    /// Its outputs, by key.
    pub outputs: BTreeMap<String, TensorSummary>,
}

/// A SignatureDef's `TensorInfo`, as stored.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct TensorSummary {
    /// TensorFlow's tensor name (`serving_default_x:0`); empty for the
    /// sparse and composite encodings, which have none.
    pub name: String,
    /// TensorFlow's `DataType` enum value (`1` is `DT_FLOAT`): see
    /// [`TensorSummary::dtype_name`].
    pub dtype: i32,
    /// The dimensions (`-1` for an unknown one); `None` for an unknown rank.
    /// No shape stored is a known rank of 0, as TensorFlow reads it.
    pub shape: Option<Vec<i64>>,
}

/// A node whose op the importer has no translator for.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub struct UnsupportedNode {
    /// Its op (`While`).
    pub op: String,
    /// The function of the library it is in; `None` for the top-level graph.
    pub function: Option<String>,
    /// Its name (within its function, for a function's node).
    pub node: String,
}

impl MetaGraphSummary {
    /// [`MetaGraphSummary::unsupported`] grouped by op, in op order.
    pub fn unsupported_ops(&self) -> BTreeMap<&str, Vec<&UnsupportedNode>> {
        let mut ops: BTreeMap<&str, Vec<&UnsupportedNode>> = BTreeMap::new();
        for node in &self.unsupported {
            ops.entry(node.op.as_str()).or_default().push(node);
        }
        ops
    }
}

impl TensorSummary {
    /// TensorFlow's name for [`TensorSummary::dtype`] (`DT_FLOAT`,
    /// `DT_FLOAT_REF`...), as its `saved_model_cli` prints it; for a value
    /// TensorFlow 2.15 does not define, `unknown DataType <n>`.
    pub fn dtype_name(&self) -> String {
        dtype_name(self.dtype)
    }
}

/// TensorFlow's `DataType` names (`tensorflow/core/framework/types.proto`);
/// `<name>_REF` is the value plus 100.
const DTYPE_NAMES: [(i32, &str); 28] = [
    (0, "DT_INVALID"),
    (1, "DT_FLOAT"),
    (2, "DT_DOUBLE"),
    (3, "DT_INT32"),
    (4, "DT_UINT8"),
    (5, "DT_INT16"),
    (6, "DT_INT8"),
    (7, "DT_STRING"),
    (8, "DT_COMPLEX64"),
    (9, "DT_INT64"),
    (10, "DT_BOOL"),
    (11, "DT_QINT8"),
    (12, "DT_QUINT8"),
    (13, "DT_QINT32"),
    (14, "DT_BFLOAT16"),
    (15, "DT_QINT16"),
    (16, "DT_QUINT16"),
    (17, "DT_UINT16"),
    (18, "DT_COMPLEX128"),
    (19, "DT_HALF"),
    (20, "DT_RESOURCE"),
    (21, "DT_VARIANT"),
    (22, "DT_UINT32"),
    (23, "DT_UINT64"),
    (24, "DT_FLOAT8_E5M2"),
    (25, "DT_FLOAT8_E4M3FN"),
    (29, "DT_INT4"),
    (30, "DT_UINT4"),
];

fn dtype_name(value: i32) -> String {
    let name = |v: i32| DTYPE_NAMES.iter().find(|&&(n, _)| n == v).map(|&(_, name)| name);
    match (name(value), value.checked_sub(100).filter(|&v| v > 0).and_then(name)) {
        (Some(name), _) => name.to_owned(),
        (None, Some(base)) => format!("{base}_REF"),
        (None, None) => format!("unknown DataType {value}"),
    }
}

/// The ops that are only ever read for their handle (a variable's or a
/// lookup table's) by the op consuming them, never translated themselves.
const HANDLE_OPS: [&str; 3] = ["VarHandleOp", "HashTableV2", "HashTable"];

/// The ops the importer evaluates at import time where an op needs integers
/// (a target shape, multiples...), as TensorFlow's shape functions fold
/// them: from constants and `Shape`s, through these. One of them without a
/// translator (`Prod`) is unsupported only where it computes on tensors
/// rather than on shapes.
const SHAPE_OPS: [&str; 9] =
    ["Const", "Shape", "Identity", "Cast", "Pack", "ConcatV2", "GatherV2", "Prod", "StridedSlice"];

/// How deep the importer follows a shape computation.
const MAX_SHAPE_DEPTH: usize = 64;

/// Reads the TensorFlow SavedModel in the version directory `dir`: its
/// `saved_model.pb` only, decoded, not imported (variables are not read).
///
/// Each meta graph's unsupported nodes are those the importer would meet
/// and has no translator for: the nodes its signatures (TensorFlow's
/// internal `__*` ones aside, as the importer does) reach through data
/// inputs, in the top-level graph and into every function a reached node
/// names (a call's `f`, a loop's `cond` and `body`...). The save and restore
/// subgraphs, which serving never runs, are not reached.
///
/// # Errors
/// [`Error::Io`] for a missing or unreadable `saved_model.pb`;
/// [`Error::Malformed`] for one that is not TensorFlow's (ours is read by
/// `export::Artifact::open`); [`Error::Decode`] for garbage or truncated
/// bytes. Each names the file.
pub fn inspect(dir: impl AsRef<Path>) -> Result<SavedModelSummary> {
    let path = dir.as_ref().join(SAVED_MODEL_FILE);
    let bytes = fs::read(&path).map_err(Error::io("reading", &path))?;
    if !is_tensorflow(&bytes) {
        return Err(Error::malformed(&path, "this is not a TensorFlow SavedModel"));
    }
    let proto = pb::SavedModel::decode(bytes.as_slice()).map_err(|source| Error::Decode {
        path: path.clone(),
        message: "TensorFlow SavedModel",
        source,
    })?;
    let meta_graphs = proto.meta_graphs.iter().map(summarize).collect();
    Ok(SavedModelSummary { path, meta_graphs, concrete_functions: crate::concrete_functions::section(&proto) })
}

fn summarize(meta: &pb::MetaGraphDef) -> MetaGraphSummary {
    let tensor = |info: &pb::TensorInfo| TensorSummary {
        name: info.name.clone(),
        dtype: info.dtype,
        shape: match &info.tensor_shape {
            Some(s) if s.unknown_rank => None,
            Some(s) => Some(s.dim.iter().map(|d| d.size).collect()),
            None => Some(Vec::new()),
        },
    };
    let tensors = |map: &BTreeMap<String, pb::TensorInfo>| map.iter().map(|(k, v)| (k.clone(), tensor(v))).collect();
    let signatures = meta
        .signature_def
        .iter()
        .map(|(key, sig)| {
            let summary = SignatureSummary {
                method_name: sig.method_name.clone(),
                inputs: tensors(&sig.inputs),
                outputs: tensors(&sig.outputs),
            };
            (key.clone(), summary)
        })
        .collect();
    MetaGraphSummary {
        tags: meta.meta_info_def.as_ref().map(|m| m.tags.clone()).unwrap_or_default(),
        signatures,
        unsupported: meta.graph_def.as_ref().map(|g| unsupported(g, meta)).unwrap_or_default(),
        ops: meta.graph_def.as_ref().map(ops_used).unwrap_or_default(),
    }
}

/// TensorFlow's `ops_used_by_graph_def` (see [`MetaGraphSummary::ops`]).
fn ops_used(graph: &pb::GraphDef) -> BTreeSet<String> {
    let functions = graph.functions();
    let mut used: HashSet<&str> = HashSet::new();
    let mut todo: Vec<&[pb::NodeDef]> = vec![&graph.node];
    while let Some(nodes) = todo.pop() {
        for node in nodes {
            let called = match (node.op.as_str(), node.attr.get("f").and_then(|a| a.value.as_ref())) {
                ("PartitionedCall" | "StatefulPartitionedCall", Some(AttrV::Func(f))) => Some(f.name.as_str()),
                _ => None,
            };
            for op in std::iter::once(node.op.as_str()).chain(called) {
                if used.insert(op)
                    && let Some(f) = functions.get(op)
                {
                    todo.push(&f.node_def);
                }
            }
        }
    }
    used.into_iter().filter(|op| !functions.contains_key(op)).map(str::to_owned).collect()
}

/// The unsupported nodes that the signatures of `meta` reach in `graph`
/// (see [`inspect`]), sorted. An explicit work list, each node visited
/// once: a hostile graph's depth or cycles cost nothing.
fn unsupported(graph: &pb::GraphDef, meta: &pb::MetaGraphDef) -> Vec<UnsupportedNode> {
    let functions = graph.functions();
    let mut scopes: Scopes<'_> = HashMap::new();
    scopes.insert(None, graph.node.iter().map(|n| (n.name.as_str(), n)).collect());
    let mut todo: Vec<(Option<&str>, &str)> = meta
        .signature_def
        .iter()
        .filter(|(key, _)| !key.starts_with("__"))
        .flat_map(|(_, sig)| sig.inputs.values().chain(sig.outputs.values()))
        .map(|info| (None, node_name(&info.name)))
        .collect();
    let mut seen = HashSet::new();
    let mut folded = HashMap::new();
    let mut found = Vec::new();
    while let Some((scope, name)) = todo.pop() {
        if !seen.insert((scope, name)) {
            continue;
        }
        // Not a node: a function's argument (the caller's inputs are
        // followed at the call), or a dangling reference (the importer's
        // to report).
        let Some(&node) = scopes.get(&scope).and_then(|nodes| nodes.get(name)) else { continue };
        if !node.is_supported()
            && !HANDLE_OPS.contains(&node.op.as_str())
            && !folds(&scopes, &mut folded, scope, name, 0)
        {
            found.push(UnsupportedNode {
                op: node.op.clone(),
                function: scope.map(str::to_owned),
                node: node.name.clone(),
            });
        }
        todo.extend(node.input.iter().filter(|i| !i.starts_with('^')).map(|i| (scope, node_name(i))));
        for called in node.attr.values().flat_map(|a| called_functions(a)) {
            let Some(&f) = functions.get(called) else { continue };
            let Some(f_name) = f.signature.as_ref().map(|s| s.name.as_str()) else { continue };
            scopes.entry(Some(f_name)).or_insert_with(|| f.node_def.iter().map(|n| (n.name.as_str(), n)).collect());
            todo.extend(f.ret.values().map(|r| (Some(f_name), node_name(r))));
        }
    }
    found.sort();
    found
}

/// Nodes by name, per scope (`None`: the top-level graph; else a function).
type Scopes<'a> = HashMap<Option<&'a str>, HashMap<&'a str, &'a pb::NodeDef>>;

/// Whether node `name` of `scope` is a shape computation the importer
/// folds: a `Const`, a `Shape`, or one of [`SHAPE_OPS`] on such
/// computations (`memo` holds the answers so far: a shared subgraph is
/// looked at once).
fn folds<'a>(
    scopes: &Scopes<'a>,
    memo: &mut HashMap<(Option<&'a str>, &'a str), bool>,
    scope: Option<&'a str>,
    name: &'a str,
    depth: usize,
) -> bool {
    if let Some(&answer) = memo.get(&(scope, name)) {
        return answer;
    }
    let Some(&node) = scopes.get(&scope).and_then(|nodes| nodes.get(name)) else { return false };
    let answer = match node.op.as_str() {
        "Const" | "Shape" => true,
        op if SHAPE_OPS.contains(&op) && depth < MAX_SHAPE_DEPTH => node
            .input
            .iter()
            .filter(|i| !i.starts_with('^'))
            .all(|i| folds(scopes, memo, scope, node_name(i), depth + 1)),
        _ => false,
    };
    memo.insert((scope, name), answer);
    answer
}

/// The functions an attribute names (`func`, or a list of them).
fn called_functions(attr: &pb::AttrValue) -> Vec<&str> {
    match &attr.value {
        Some(AttrV::Func(f)) => vec![f.name.as_str()],
        Some(AttrV::List(list)) => list.func.iter().map(|f| f.name.as_str()).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/tensorflow").join(name).join("1700000000")
    }

    #[test]
    fn signatures_are_read_as_stored() {
        let summary = inspect(fixture("tf_function_mlp")).unwrap();
        let [meta] = summary.meta_graphs.as_slice() else { panic!("{summary:?}") };
        assert_eq!(meta.tags, ["serve"]);
        let sig = &meta.signatures["serving_default"];
        assert_eq!(sig.method_name, "tensorflow/serving/predict");
        let x = &sig.inputs["x"];
        assert_eq!(
            (x.name.as_str(), x.dtype_name().as_str(), x.shape.as_deref()),
            ("serving_default_x:0", "DT_FLOAT", Some(&[-1, 784][..]))
        );
        assert!(meta.signatures.contains_key("__saved_model_init_op"), "{:?}", meta.signatures.keys());
        // The save and restore functions are not what serving runs.
        assert_eq!(meta.unsupported, [], "{:?}", meta.unsupported_ops());
    }

    #[test]
    fn every_fixture_the_importer_opens_has_no_unsupported_node() {
        let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/tensorflow");
        for entry in fs::read_dir(base).unwrap() {
            let dir = entry.unwrap().path().join("1700000000");
            if !dir.join(SAVED_MODEL_FILE).exists() {
                continue;
            }
            let summary = inspect(&dir).unwrap();
            let unsupported: Vec<&UnsupportedNode> = summary.meta_graphs.iter().flat_map(|m| &m.unsupported).collect();
            match crate::open(&dir) {
                Ok(_) => assert_eq!(unsupported, Vec::<&UnsupportedNode>::new(), "{}", dir.display()),
                Err(Error::Node { op, reason, .. }) if reason.contains("not supported by the importer") => {
                    assert!(unsupported.iter().any(|n| n.op == op), "{}: {op} not in {unsupported:?}", dir.display());
                }
                Err(_) => {}
            }
        }
    }

    #[test]
    fn dtype_names_are_tensorflow_s() {
        assert_eq!(dtype_name(1), "DT_FLOAT");
        assert_eq!(dtype_name(19), "DT_HALF");
        assert_eq!(dtype_name(101), "DT_FLOAT_REF");
        assert_eq!(dtype_name(100), "unknown DataType 100");
        assert_eq!(dtype_name(-3), "unknown DataType -3");
    }

    #[test]
    fn a_garbage_file_is_a_decode_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SAVED_MODEL_FILE);
        fs::write(&path, [0x08, 0x01, 0x12, 0xff, 0xff, 0x03]).unwrap();
        match inspect(dir.path()) {
            Err(e @ Error::Decode { .. }) => assert!(e.to_string().contains(&path.display().to_string()), "{e}"),
            other => panic!("{other:?}"),
        }
        fs::write(&path, b"hello").unwrap();
        assert!(matches!(inspect(dir.path()), Err(Error::Malformed { .. })));
        assert!(matches!(inspect(dir.path().join("nothing")), Err(Error::Io { .. })));
    }
}
