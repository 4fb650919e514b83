//! A Rust counterpart of `tf.estimator`: write a `model_fn`, train it with
//! Adam over an input pipeline, evaluate it, predict with it, and export it
//! as a versioned artifact that the `predictor` crate serves.
//!
//! The write-up's toy model, `y = a*x1 + b*x2` as one dense unit:
//!
//! ```
//! use estimator::prelude::*;
//! use ndarray::array;
//!
//! fn model_fn(g: &mut GraphBuilder, features: Features<Output>, labels: Option<Output>, mode: Mode, _: &()) -> Result<EstimatorSpec> {
//!     let x = *features.single_or("feature")?;
//!     let predictions = layers::dense(g, x, 1)?;
//!     if mode == Mode::Predict {
//!         return Ok(EstimatorSpec::predict(predictions));
//!     }
//!     let labels = labels.ok_or(Error::ModelFn { mode, reason: "no labels".into() })?;
//!     let diff = g.sub(predictions, labels)?;
//!     let loss = losses::l2_loss(g, diff)?;
//!     Ok(match mode {
//!         Mode::Eval => EstimatorSpec::eval(loss),
//!         _ => EstimatorSpec::train(loss, Adam::new(0.5).minimize(loss)),
//!     })
//! }
//!
//! let train_input_fn = || {
//!     Dataset::from_generator(|| (0..100).map(|n| Example::new(array![n as f32, n as f32], array![2.0 * n as f32])))
//!         .batch(20)
//!         .repeat(200)
//! };
//! let dir = tempfile::tempdir()?;
//! let estimator = Estimator::new(model_fn, dir.path().join("model"), ())?;
//! let summary = estimator.train(train_input_fn, Steps::Max(1000))?;
//! assert_eq!(summary.global_step, 1000);
//!
//! // The naive path: restores the checkpoint from disk on every call.
//! let example = || Dataset::from_vec(vec![Example::unlabeled(array![101.0f32, 101.0])]).batch(1);
//! let y = estimator.predict(example)?.next().unwrap()?;
//! assert!((y["output"].as_f32()?[[0]] - 202.0).abs() < 0.1);
//!
//! // Export with a receiver that takes `number: f32[?, 1]` and tiles it to `[?, 2]`.
//! let version = estimator.export_saved_model(dir.path().join("saved_model"), |g| {
//!     let number = g.placeholder("number", DataType::F32, Shape(vec![None, Some(1)]))?;
//!     let features = g.tile(number, &[1, 2])?;
//!     Ok(ServingInputReceiver::new(features, [("number".to_owned(), number)].into()))
//! })?;
//! assert!(version.join("saved_model.pb").exists());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(clippy::unwrap_used, clippy::expect_used)]

mod builder;
pub mod checkpoint;
pub mod crf;
mod dataset;
pub mod entities;
mod error;
#[allow(clippy::module_inception)]
mod estimator;
mod grad;
mod init;
pub mod layers;
pub mod losses;
mod mode;
mod optim;
mod program;
mod serving;
mod spec;
pub mod summary;
mod train_and_evaluate;

pub use builder::{GraphBuilder, Loop, LoopStep, Output, SummaryDef, VariableDef};
pub use dataset::{Dataset, Example, Stack};
pub use error::{Error, Result};
pub use estimator::{Estimator, Metrics, Predictions, RunConfig, Steps, TrainSummary};
pub use grad::gradients;
pub use init::Initializer;
pub use mode::Mode;
pub use opset::ops::nn::Sliding;
pub use optim::{Adam, Optimizer, OptimizerState, Sgd, TrainOp};
pub use serving::{DEFAULT_OUTPUT_KEY, ServingInputReceiver};
pub use spec::{EstimatorSpec, Features, ModelFn, ModelFnPointer};
pub use train_and_evaluate::{
    BestExporter, CompareFn, EvalSpec, Exporter, Exporting, FinalExporter, LatestExporter, ReceiverFn, TrainSpec,
    train_and_evaluate,
};

/// What a model file needs, in one import.
pub mod prelude {
    pub use crate::layers::{self, Activation, Conv2D, Dense};
    pub use crate::losses;
    pub use crate::{
        Adam, Dataset, Error, Estimator, EstimatorSpec, Example, Features, GraphBuilder, Mode, Output, Result,
        RunConfig, ServingInputReceiver, Sgd, Steps,
    };
    pub use opset::{DataType, Shape, Tensor};
}
