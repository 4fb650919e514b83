//! Serve an exported model: load the artifact once, then answer each call
//! from memory through its signature, in well under a microsecond for
//! small models. Depends on the artifact (`export`, its op set `opset`)
//! and, behind the default `tensorflow` feature, the TensorFlow importer
//! (`tf-import`) alone: no estimator, no optimizer, no input pipeline.
//!
//! ```
//! # use export::*;
//! # use opset::*;
//! # use ndarray::array;
//! # let base = tempfile::tempdir()?;
//! # // An artifact as the estimator exports the write-up's model:
//! # // `number: f32[?, 1]`, tiled to [?, 2], through one dense unit.
//! # let f32_node = |name: &str, op: &str, inputs: &[&str]| Node::new(name, op, inputs);
//! # let graph = Graph { nodes: vec![
//! #     Node::new("number", "Placeholder", &[]).with("dtype", Attr::Type(DataType::F32)).with("shape", Attr::Shape(Shape(vec![None, Some(1)]))),
//! #     Node::new("Tile", "Tile", &["number"]).with("multiples", Attr::Ints(vec![1, 2])),
//! #     Node::new("dense/kernel", "Variable", &[]).with("dtype", Attr::Type(DataType::F32)).with("shape", Attr::Shape(Shape::known(&[2, 1]))),
//! #     Node::new("dense/bias", "Variable", &[]).with("dtype", Attr::Type(DataType::F32)).with("shape", Attr::Shape(Shape::known(&[1]))),
//! #     f32_node("dense/MatMul", "MatMul", &["Tile", "dense/kernel"]),
//! #     f32_node("dense/BiasAdd", "BiasAdd", &["dense/MatMul", "dense/bias"]),
//! # ]};
//! # let info = |name: &str, shape| TensorInfo { name: name.into(), dtype: DataType::F32, shape };
//! # let signature = Signature { method_name: PREDICT_METHOD.into(),
//! #     inputs: [("number".to_owned(), info("number:0", Shape(vec![None, Some(1)])))].into(),
//! #     outputs: [("output".to_owned(), info("dense/BiasAdd:0", Shape(vec![None, Some(1)])))].into() };
//! # let model = SavedModel { meta_graphs: vec![MetaGraph { tags: vec!["serve".into()], graph,
//! #     signatures: [(DEFAULT_SIGNATURE.to_owned(), signature)].into(), assets: vec![] }] };
//! # let (kernel, bias) = (Tensor::from(array![[1.0f32], [1.0]]), Tensor::from(array![0.0f32]));
//! # write_artifact(base.path(), &model, &[("dense/kernel", &kernel), ("dense/bias", &bias)], &Assets::new())?;
//! use predictor::Predictor;
//!
//! let predict_fn = Predictor::from_export_base(base.path())?;
//! for nb in 100..110 {
//!     let out = predict_fn.predict(&[("number", array![[nb as f32]].into())])?;
//!     assert_eq!(out["output"].as_f32()?[[0, 0]], 2.0 * nb as f32);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(clippy::unwrap_used, clippy::expect_used)]

#[cfg(feature = "cli")]
pub mod cli;
pub mod cpu;
mod error;
#[cfg(feature = "json")]
pub mod json;
mod kernel;
mod loader;
mod loop_control;
mod looping;
mod model;
mod outputs;
mod plan;
mod pool;
#[allow(clippy::module_inception)]
mod predictor;
mod recurrent;
mod session;
mod shapes;

pub use error::{Error, Result};
pub use export::{
    DEFAULT_SIGNATURE, Error as ExportError, Format, Signature, TensorInfo, latest_version, list_versions,
};
pub use model::{LoadOptions, Model};
pub use opset::{DataType, Error as OpsetError, Shape, Tensor};
pub use outputs::Outputs;
pub use plan::InputSpec;
pub use predictor::Predictor;
pub use session::{Session, SessionOutputs};
