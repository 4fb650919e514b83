//! The one error type of the `estimator` crate.

use std::path::PathBuf;

use crate::Mode;

/// What can go wrong building, training, evaluating, predicting or exporting.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An artifact or checkpoint could not be read or written.
    #[error(transparent)]
    Export(#[from] export::Error),
    /// A graph, tensor or kernel error of the op set, naming the node or
    /// tensor (a dtype or shape that does not agree...).
    #[error(transparent)]
    Opset(#[from] opset::Error),
    /// The `model_fn` does not handle a mode, or returned a spec missing
    /// what the mode needs.
    #[error("model_fn in {mode} mode: {reason}")]
    ModelFn {
        /// The mode the model_fn was called in.
        mode: Mode,
        /// What is missing or wrong.
        reason: String,
    },
    /// A graph operation could not be added: wrong dtypes or shapes.
    #[error("building node {node:?}: {reason}")]
    Build {
        /// The node being added.
        node: String,
        /// Why it was refused.
        reason: String,
    },
    /// A batch of the input pipeline is inconsistent.
    #[error("input pipeline: {reason}")]
    Input {
        /// What is wrong, with the shapes or keys concerned.
        reason: String,
    },
    /// The input pipeline yielded nothing.
    #[error("the input pipeline yielded no batch")]
    EmptyDataset,
    /// A feature key the model asked for is not among the features.
    #[error("feature {key:?} is not among the features {available:?}")]
    MissingFeature {
        /// The key asked for.
        key: String,
        /// The keys present.
        available: Vec<String>,
    },
    /// The loss became NaN or infinite.
    #[error("loss is {loss} at step {step}: training diverged (try a smaller learning rate)")]
    Diverged {
        /// The global step at which it happened.
        step: i64,
        /// The loss value.
        loss: f32,
    },
    /// No checkpoint to restore in the model directory.
    #[error("no checkpoint in {model_dir}: train the estimator first")]
    NoCheckpoint {
        /// The model directory.
        model_dir: PathBuf,
    },
    /// A checkpoint exists but does not fit the model.
    #[error("checkpoint {path}: {reason}")]
    Checkpoint {
        /// The checkpoint directory or state file.
        path: PathBuf,
        /// What does not fit.
        reason: String,
    },
}

/// The `Result` of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
