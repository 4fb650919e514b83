//! The one error type of the `predictor` crate.

use opset::{DataType, Shape};

/// What can go wrong loading an artifact or answering a call. Each variant
/// names the signature key, node or file concerned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The artifact could not be read, is corrupt, or its graph is invalid.
    #[error(transparent)]
    Export(#[from] export::Error),
    /// A graph, tensor or kernel error of the op set, naming the node (e.g.
    /// a kernel refusing inputs whose shapes do not agree).
    #[error(transparent)]
    Opset(#[from] opset::Error),
    /// A TensorFlow SavedModel could not be read or imported.
    #[cfg(feature = "tensorflow")]
    #[error(transparent)]
    TensorFlow(#[from] tf_import::Error),
    /// The directory holds a TensorFlow SavedModel, and this build of the
    /// predictor was compiled without its `tensorflow` feature.
    #[error(
        "{path} is a TensorFlow SavedModel: reading it needs the predictor's `tensorflow` feature (on by default), or the model converted to our format first (`tf_import::convert`)"
    )]
    TensorFlowDisabled {
        /// The `saved_model.pb` concerned.
        path: std::path::PathBuf,
    },
    /// A version directory was expected, and `dir` holds versions instead:
    /// an export base, given to a function that loads one version.
    #[error(
        "{dir} holds no saved_model.pb but versions {versions:?}: it looks like an export base; load its newest version with Predictor::from_export_base (saved_model_cli takes either)"
    )]
    ExportBase {
        /// The directory given.
        dir: std::path::PathBuf,
        /// The versions under it, oldest first.
        versions: Vec<u64>,
    },
    /// The requested signature is not in the artifact.
    #[error("no signature {name:?}; the artifact has {available:?}")]
    NoSignature {
        /// The signature asked for.
        name: String,
        /// The signatures present.
        available: Vec<String>,
    },
    /// A signature input was not fed.
    #[error("input {key:?} is missing; the signature expects {expected:?}")]
    MissingInput {
        /// The missing key.
        key: String,
        /// Every input key of the signature.
        expected: Vec<String>,
    },
    /// A key was fed that the signature does not have.
    #[error("unknown input {key:?}; the signature expects {expected:?}")]
    UnknownInput {
        /// The unknown key.
        key: String,
        /// Every input key of the signature.
        expected: Vec<String>,
    },
    /// The same key was fed twice.
    #[error("input {key:?} is fed twice")]
    DuplicateInput {
        /// The repeated key.
        key: String,
    },
    /// An input has the wrong dtype.
    #[error("input {key:?}: expected dtype {expected}, got {got}")]
    InputDType {
        /// The input's key.
        key: String,
        /// The signature's dtype.
        expected: DataType,
        /// The dtype fed.
        got: DataType,
    },
    /// An input has the wrong rank or a wrong fixed dimension.
    #[error("input {key:?}: expected shape {expected}, got {got:?}")]
    InputShape {
        /// The input's key.
        key: String,
        /// The signature's shape (`?` dims vary per call).
        expected: Shape,
        /// The shape fed.
        got: Vec<usize>,
    },
    /// A value given for an input (as JSON or on a command line) cannot
    /// become a tensor of the signature's dtype.
    #[error("input {key:?}: {reason}")]
    InputValue {
        /// The input's key.
        key: String,
        /// What is wrong with the value (ragged nesting, a wrong element...).
        reason: String,
    },
    /// `predict_into` was given outputs made for another signature.
    #[error("the outputs buffer holds {got:?}, this signature's outputs are {expected:?}")]
    OutputsMismatch {
        /// The signature's output keys.
        expected: Vec<String>,
        /// The keys of the buffer given.
        got: Vec<String>,
    },
}

/// The `Result` of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
