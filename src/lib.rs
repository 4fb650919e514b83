//! Shared pieces of the end-to-end tests and benches. This package is the
//! one place that sees both the estimator and the predictor; neither crate
//! depends on the other.
//!
//! - [`from_estimator`]: a predictor straight from a trained estimator.
//! - [`toy`]: the write-up's model as the estimator trains and exports it.
//! - [`mlp`]: dense models of any size written straight through `export`.
//! - [`cnn`]: a small image model written the same way.
//! - [`reference`]: what `opset`'s reference kernels answer for a version.
//! - [`ner`]: the bi-LSTM + CRF tagger of the estimator's `ner` example.
//! - [`topics`]: the text classifier of the estimator's `text_classifier`
//!   example (the same source file, so the three tell one story).

pub mod cnn;
mod from_estimator;
pub mod mlp;
pub mod ner;
pub mod reference;
#[path = "../crates/estimator/examples/text_classifier/topics.rs"]
pub mod topics;
pub mod toy;

pub use from_estimator::{FromEstimatorError, from_estimator};
pub use toy::{
    ToyEstimator, ToyParams, example_input_fn, naive_predict, serving_input_receiver_fn, toy_estimator,
    toy_estimator_with, toy_model_fn, train_and_export, train_input_fn,
};
