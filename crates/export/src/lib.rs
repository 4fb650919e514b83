//! The artifact: a SavedModel-like, versioned, self-contained directory that
//! the `estimator` writes and the `predictor` serves, and the op set whose
//! semantics both execute.
//!
//! ```
//! use export::{Artifact, Attr, DataType, Graph, Node, Shape, Tensor, TypedGraph};
//! use export::{MetaGraph, SavedModel, Signature, TensorInfo, Assets};
//! use ndarray::array;
//!
//! // y = x @ w, with w a variable
//! let graph = Graph { nodes: vec![
//!     Node::new("x", "Placeholder", &[])
//!         .with("dtype", Attr::Type(DataType::F32))
//!         .with("shape", Attr::Shape(Shape(vec![None, Some(2)]))),
//!     Node::new("w", "Variable", &[])
//!         .with("dtype", Attr::Type(DataType::F32))
//!         .with("shape", Attr::Shape(Shape::known(&[2, 1]))),
//!     Node::new("y", "MatMul", &["x", "w"]),
//! ]};
//! let info = |name: &str, shape| TensorInfo { name: name.into(), dtype: DataType::F32, shape };
//! let signature = Signature {
//!     method_name: export::PREDICT_METHOD.into(),
//!     inputs: [("x".to_owned(), info("x:0", Shape(vec![None, Some(2)])))].into(),
//!     outputs: [("y".to_owned(), info("y:0", Shape(vec![None, Some(1)])))].into(),
//! };
//! let model = SavedModel { meta_graphs: vec![MetaGraph {
//!     tags: vec!["serve".into()],
//!     graph,
//!     signatures: [(export::DEFAULT_SIGNATURE.to_owned(), signature)].into(),
//!     assets: vec![],
//! }]};
//!
//! // Write a version, read it back, and evaluate it with the reference kernels.
//! let base = tempfile::tempdir()?;
//! let w = Tensor::from(array![[2.0f32], [3.0]]);
//! let dir = export::write_artifact(base.path(), &model, &[("w", &w)], &Assets::new())?;
//! assert_eq!(export::latest_version(base.path())?, dir);
//!
//! let artifact = Artifact::open(&dir)?;
//! let graph = artifact.typed_graph(&["serve"])?;
//! let mut values = vec![None; graph.nodes().len()];
//! values[graph.resolve("x")?] = Some(Tensor::from(array![[1.0f32, 1.0]]));
//! values[graph.resolve("w")?] = Some(artifact.variables().get("w")?);
//! let y = graph.resolve("y")?;
//! graph.evaluate(&[y], &mut values)?;
//! assert_eq!(values[y].as_ref().unwrap().as_f32()?[[0, 0]], 5.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(clippy::unwrap_used, clippy::expect_used)]

mod assets;
mod bundle;
mod convert;
mod dtype;
mod error;
mod fsio;
mod graph;
pub mod ops;
mod pb;
mod saved_model;
mod shape;
mod signature;
mod tensor;
pub mod tf;
mod typed;
mod version;
mod vocab;

pub use assets::Assets;
pub use bundle::{ALIGNMENT, DATA_FILE, INDEX_FILE, VariablesBundle, write_bundle};
pub use dtype::DataType;
pub use error::{Error, Result};
pub use fsio::{TEMP_PREFIX, publish_dir, sync_dir, write_file_atomically, write_file_synced};
pub use graph::{Attr, Graph, Node, parse_tensor_ref};
pub use ops::{OP_SET_VERSION, Op, TensorType};
pub use saved_model::{
    ASSETS_DIR, Artifact, Format, MetaGraph, OpenOptions, SAVED_MODEL_FILE, SavedModel, VARIABLES_DIR, write_artifact,
};
pub use shape::{Shape, element_count};
pub use signature::{DEFAULT_SIGNATURE, PREDICT_METHOD, SERVE_TAG, Signature, TensorInfo};
pub use tensor::{Element, Tensor};
pub use typed::{TypedGraph, TypedNode};
pub use version::{latest_version, list_versions, write_version};
pub use vocab::{Vocabulary, fnv1a64, hash_bucket};

/// The version of the artifact format this build writes and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;
