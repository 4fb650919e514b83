//! Serve an exported model: load the artifact once, then answer each call
//! from memory through its signature, in well under a microsecond for
//! small models. Depends on the artifact (`export`, its op set `opset`)
//! and, behind the default `tensorflow` feature, the TensorFlow importer
//! (`tf-import`) alone: no estimator, no optimizer, no input pipeline.
//!
//! The write-up's model (`number: f32[?, 1]` in, `output` out), exported by
//! the estimator or by TensorFlow into an export base of versions:
//!
//! ```
//! # let saved_model = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/tensorflow/estimator_toy");
//! use predictor::{Predictor, ndarray::array};
//!
//! let predict_fn = Predictor::from_export_base(saved_model)?;
//! for nb in 100..110 {
//!     let out = predict_fn.predict(&[("number", array![[nb as f32]].into())])?;
//!     let y = out.get("output").expect("the signature's output").as_f32()?;
//!     println!("{nb} -> {}", y[[0, 0]]);
//! }
//! # Ok::<(), predictor::Error>(())
//! ```
//!
//! # Concepts
//!
//! - **Export base and version**: an export writes `<base>/<unix seconds>/`
//!   (`saved_model.pb`, `variables/`, `assets/`), published by a rename, as
//!   TensorFlow does. [`Predictor::from_export_base`] loads the newest
//!   version, [`Predictor::from_saved_model`] one version directory; both
//!   read our artifact and TensorFlow's SavedModels alike.
//! - **Signature**: the named entry point of the export (TensorFlow's
//!   `SignatureDef`, `serving_default` unless told otherwise): input and
//!   output keys, each with a dtype and shape ([`Predictor::inputs`],
//!   [`InputSpec`]). Calls are checked against it: a wrong key, dtype or
//!   shape is an [`Error`] naming it, never a panic.
//! - **Plan**: at load, the signature is compiled into a flat list of steps
//!   (only the nodes its outputs need, constants folded, dense layers and
//!   recurrent cells fused, weights laid out for the CPU's instruction set,
//!   [`cpu`]); each call runs it from memory.
//! - **Session**: [`Predictor::predict`] allocates its outputs;
//!   [`Predictor::predict_into`] reuses yours ([`Predictor::new_outputs`]);
//!   a [`Session`] ([`Predictor::session`]) binds inputs and reads outputs
//!   in place, for hot loops. One `Predictor` is shared by every thread
//!   (`Arc`); each thread keeps its own scratch.
//! - **[`LoadOptions`]**, for [`Predictor::load`]: `tags` (the meta graph,
//!   default `serve`), `signature` (default `serving_default`),
//!   `verify_checksums` (crc32c of every weight at load, default on),
//!   `threads` (the most threads one call may use, default 1), `fused_cells`
//!   (recurrent cells as fused steps, default on).
//! - **Outputs**: [`Outputs::get`] returns `None` for an unknown key;
//!   `outputs["key"]` is the map-style index, which panics on one.
//! - **Errors**: one type, [`Error`]; the artifact's and the op set's errors
//!   convert into it, so `?` works on [`latest_version`] and
//!   [`Tensor::as_f32`] in a function returning [`Result`].
//! - **`ndarray`**: re-exported ([`ndarray`]), the version tensors convert
//!   from and to.
//!
//! # Features
//!
//! - `tensorflow` (default): read TensorFlow's SavedModels (import at load).
//! - `json`: tensors to and from JSON nested arrays, as TensorFlow Serving's
//!   REST API encodes them (the `json` module).
//! - `cli`: the `saved_model_cli` binary (`show`, `run`, `import`), with
//!   TensorFlow's flags and output text.

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
pub use export::{DEFAULT_SIGNATURE, Error as ExportError, Format, Signature, TensorInfo};
pub use model::{LoadOptions, Model};
pub use ndarray;
pub use opset::{Bytes, DataType, Element, Error as OpsetError, Shape, SharedBytes, Tensor};
pub use outputs::Outputs;
pub use plan::InputSpec;
pub use predictor::Predictor;
pub use session::{Session, SessionOutputs};

/// The newest version directory under the export base `base` (the
/// directories whose name is all digits; `temp-*` exports in progress are
/// skipped), with this crate's error.
///
/// # Errors
/// [`Error::Export`]: no version (saying what `base` holds instead when
/// that tells what was meant), or `base` unreadable.
pub fn latest_version(base: impl AsRef<std::path::Path>) -> Result<std::path::PathBuf> {
    Ok(export::latest_version(base)?)
}

/// The versions under the export base `base`, oldest first, with this
/// crate's error.
///
/// # Errors
/// [`Error::Export`] if `base` cannot be listed.
pub fn list_versions(base: impl AsRef<std::path::Path>) -> Result<Vec<(u64, std::path::PathBuf)>> {
    Ok(export::list_versions(base)?)
}
