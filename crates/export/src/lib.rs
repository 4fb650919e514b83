//! The artifact: a SavedModel-like, versioned, self-contained directory that
//! the `estimator` writes and the `predictor` serves. Its graph is made of
//! the ops of the `opset` crate; this crate holds the schema, the variables
//! bundle, the tensor codec, the version directories, and reading and
//! writing a version.
//!
//! ```
//! use export::{Artifact, MetaGraph, SavedModel, Signature, TensorInfo};
//! use opset::{Assets, Attr, DataType, Graph, Node, Shape, Tensor};
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
//! // Write a version, open it, and evaluate it with the reference kernels.
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

mod artifact;
mod bundle;
mod error;
mod fsio;
mod pb;
mod proto;
mod python_repr;
mod signature;
mod tensor_bytes;
pub mod tfrecord;
mod version;

pub use artifact::{
    ASSETS_DIR, Artifact, Format, MetaGraph, OpenOptions, SAVED_MODEL_FILE, SavedModel, VARIABLES_DIR, write_artifact,
};
pub use bundle::{ALIGNMENT, DATA_FILE, INDEX_FILE, VariablesBundle, write_bundle};
pub use error::{Error, Result};
pub use fsio::{TEMP_PREFIX, publish_dir, sync_dir, write_file_atomically, write_file_synced};
pub use python_repr::python_repr;
pub use signature::{DEFAULT_SIGNATURE, PREDICT_METHOD, SERVE_TAG, Signature, TensorInfo};
#[doc(hidden)]
pub use tensor_bytes::tensor_from_bytes;
pub use version::{latest_version, list_versions, write_version, write_version_as};

/// The version of the artifact format this build writes and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;
