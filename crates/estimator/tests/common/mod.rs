//! The write-up's toy model, shared by the estimator's tests: the same
//! source file as the workspace's end-to-end tests use (`src/toy.rs`).

#![allow(dead_code, unused_imports)]

#[path = "../../../../src/toy.rs"]
mod toy;

pub use toy::{
    ToyParams as Params, example_input_fn, serving_input_receiver_fn as receiver_fn, toy_estimator_with,
    toy_model_fn as model_fn, train_input_fn,
};

/// The single prediction of the naive path for `n`.
pub fn predict_one<M: estimator::ModelFn<P>, P>(estimator: &estimator::Estimator<M, P>, n: f32) -> f32 {
    toy::naive_predict(estimator, n).unwrap()
}
