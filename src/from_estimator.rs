//! `predictor.from_estimator`, as the write-up names it: a predictor
//! straight from a trained estimator. The estimator exports its latest
//! checkpoint to memory ([`estimator::Estimator::export_artifact`]) and the
//! predictor loads that artifact as it loads one from disk (same
//! validation, same plan): the two crates still meet only in the artifact,
//! here, the one package that sees both.
//!
//! ```
//! use estimator_rs::{from_estimator, serving_input_receiver_fn, toy_estimator, train_input_fn};
//! use estimator::prelude::*;
//!
//! # let dir = tempfile::tempdir()?;
//! # let estimator = toy_estimator(dir.path());
//! # estimator.train(train_input_fn, Steps::Max(1000))?;
//! let predict_fn = from_estimator(&estimator, serving_input_receiver_fn)?;
//! let out = predict_fn.predict(&[("number", ndarray::array![[101.0f32]].into())])?;
//! assert!((out["output"].as_f32()?[[0, 0]] - 202.0).abs() < 0.1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use estimator::{Estimator, GraphBuilder, ModelFn, ServingInputReceiver};
use predictor::{LoadOptions, Predictor};

/// What [`from_estimator`] can meet: the export's errors or the load's.
#[derive(Debug, thiserror::Error)]
pub enum FromEstimatorError {
    /// Exporting the latest checkpoint failed (none yet, a receiver error...).
    #[error(transparent)]
    Export(#[from] estimator::Error),
    /// The predictor refused the artifact.
    #[error(transparent)]
    Load(#[from] predictor::Error),
}

/// A predictor of `estimator`'s latest checkpoint through
/// `serving_input_receiver_fn`, built in memory (no export directory), with
/// the default [`LoadOptions`].
///
/// # Errors
/// [`FromEstimatorError::Export`] before any checkpoint or for a receiver
/// that fails; [`FromEstimatorError::Load`] if the predictor refuses the
/// artifact.
pub fn from_estimator<F: ModelFn<P>, P>(
    estimator: &Estimator<F, P>,
    serving_input_receiver_fn: impl FnOnce(&mut GraphBuilder) -> estimator::Result<ServingInputReceiver>,
) -> Result<Predictor, FromEstimatorError> {
    let artifact = estimator.export_artifact(serving_input_receiver_fn)?;
    Ok(Predictor::from_artifact(&artifact, &LoadOptions::default())?)
}
