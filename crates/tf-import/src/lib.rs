//! Reading the SavedModels that TensorFlow writes: `saved_model.pb` holding
//! a TensorFlow `SavedModel` proto, and `variables/variables.index` (a
//! LevelDB table) with `variables.data-NNNNN-of-MMMMM` shards.
//!
//! The importer picks what each signature needs, translates it into our
//! graph IR and op set, and resolves the variables to checkpoint tensors;
//! from there a TensorFlow export runs exactly as one of ours.
//!
//! [`open`] gives an [`export::Artifact`], which [`convert`] writes as a new
//! version of ours.
//!
//! ```no_run
//! // A version directory written by TensorFlow's `export_saved_model`.
//! let artifact = tf_import::open("tf_export/1700000000")?;
//! let graph = artifact.typed_graph(&["serve"])?;
//! println!("{} nodes", graph.nodes().len());
//! // The same model as a new version of our artifact.
//! let version = artifact.write_version("saved_model")?;
//! # let _ = version;
//! # Ok::<(), tf_import::Error>(())
//! ```

#![deny(clippy::unwrap_used, clippy::expect_used)]

mod bundle;
mod concrete_functions;
mod error;
mod import;
mod inspect;
mod open;
mod pb;
mod restore;
mod sstable;
mod tensor_proto;

use std::collections::BTreeMap;
use std::path::Path;

use export::{ASSETS_DIR, SAVED_MODEL_FILE, SavedModel, VARIABLES_DIR};
use opset::Tensor;
use prost::Message;

pub use error::{Error, Result};
pub use inspect::{MetaGraphSummary, SavedModelSummary, SignatureSummary, TensorSummary, UnsupportedNode, inspect};
pub use open::{convert, open};

/// Whether `saved_model.pb` bytes are a TensorFlow SavedModel rather than
/// ours. Ours starts with field 1 as a varint (`format_version`, tag
/// `0x08`); TensorFlow's with field 1 as a varint too
/// (`saved_model_schema_version`) but then field 2 as a message
/// (`meta_graphs`, tag `0x12`), where ours has field 2 as a varint.
pub fn is_tensorflow(bytes: &[u8]) -> bool {
    let mut cursor = bytes;
    if cursor.first() != Some(&0x08) {
        return cursor.first() == Some(&0x12);
    }
    cursor = &cursor[1..];
    if sstable::varint(&mut cursor).is_err() {
        return false;
    }
    cursor.first() == Some(&0x12)
}

/// Imports the TensorFlow SavedModel in `dir` from its `saved_model.pb` bytes.
///
/// # Errors
/// [`Error::Decode`] for a garbage proto, [`Error::Malformed`] or
/// [`Error::Checksum`] for a bad bundle, [`Error::Node`] naming the
/// TensorFlow node and op the importer cannot translate.
fn import(dir: &Path, bytes: &[u8]) -> Result<(SavedModel, BTreeMap<String, Tensor>)> {
    let path = dir.join(SAVED_MODEL_FILE);
    let proto = pb::SavedModel::decode(bytes).map_err(|source| Error::Decode {
        path: path.clone(),
        message: "TensorFlow SavedModel",
        source,
    })?;
    let bundle = bundle::TfBundle::open(&dir.join(VARIABLES_DIR))?;
    let mut meta_graphs = Vec::new();
    let mut variables = BTreeMap::new();
    for meta in &proto.meta_graphs {
        let graph = meta.graph_def.as_ref().ok_or_else(|| Error::malformed(&path, "a meta graph has no graph"))?;
        let (meta_graph, vars) = import::Importer::new(graph, &bundle, dir.join(ASSETS_DIR)).import(meta)?;
        meta_graphs.push(meta_graph);
        variables.extend(vars);
    }
    Ok((SavedModel { meta_graphs }, variables))
}
