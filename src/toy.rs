//! The write-up's toy model, `y = a*x1 + b*x2`, as the estimator trains,
//! predicts (the naive way) and exports it. Also the estimator crate's own
//! tests' model (`#[path]`-included there).

use std::path::{Path, PathBuf};

use estimator::prelude::*;
use estimator::{Initializer, ModelFnPointer};
use ndarray::array;

/// The toy model's params: Adam's learning rate and, optionally, fixed
/// initial weights (Glorot-uniform kernel and zero bias otherwise).
#[derive(Debug, Clone, PartialEq)]
pub struct ToyParams {
    /// Adam's learning rate (the write-up's 0.5).
    pub learning_rate: f32,
    /// Initial kernel, row-major.
    pub kernel: Option<Vec<f32>>,
    /// Initial bias.
    pub bias: Option<Vec<f32>>,
}

impl Default for ToyParams {
    fn default() -> ToyParams {
        ToyParams { learning_rate: 0.5, kernel: None, bias: None }
    }
}

/// The write-up's `model_fn`: one dense unit, `l2_loss`, Adam.
pub fn toy_model_fn(
    g: &mut GraphBuilder,
    features: Features<Output>,
    labels: Option<Output>,
    mode: Mode,
    params: &ToyParams,
) -> Result<EstimatorSpec> {
    let features = *features.single_or("feature")?;
    let mut dense = Dense::new(1);
    if let Some(k) = &params.kernel {
        dense.kernel_initializer = Initializer::Values(k.clone());
    }
    if let Some(b) = &params.bias {
        dense.bias_initializer = Initializer::Values(b.clone());
    }
    let predictions = dense.apply(g, features)?;
    if mode == Mode::Predict {
        return Ok(EstimatorSpec::predict(predictions));
    }
    let labels = labels.ok_or(Error::ModelFn { mode, reason: "labels are required".into() })?;
    let diff = g.sub(predictions, labels)?;
    let loss = losses::l2_loss(g, diff)?;
    Ok(match mode {
        Mode::Eval => EstimatorSpec::eval(loss),
        _ => EstimatorSpec::train(loss, Adam::new(params.learning_rate).minimize(loss)),
    })
}

/// `([n, n], [2n])` for n in 0..100, batch 20, repeated 200 times: 1,000 steps.
pub fn train_input_fn() -> Dataset<Example> {
    Dataset::from_generator(|| (0..100).map(|n| Example::new(array![n as f32, n as f32], array![2.0 * n as f32])))
        .batch(20)
        .repeat(200)
}

/// One unlabeled example `[n, n]`, as the write-up's `example_input_fn`.
pub fn example_input_fn(n: f32) -> Dataset<Example> {
    Dataset::from_vec(vec![Example::unlabeled(array![n, n])]).batch(1)
}

/// The write-up's receiver: `number: f32[?, 1]` tiled to `[?, 2]`.
pub fn serving_input_receiver_fn(g: &mut GraphBuilder) -> Result<ServingInputReceiver> {
    let number = g.placeholder("number", DataType::F32, Shape(vec![None, Some(1)]))?;
    let features = g.tile(number, &[1, 2])?;
    Ok(ServingInputReceiver::new(features, [("number".to_owned(), number)].into()))
}

/// The toy estimator's type.
pub type ToyEstimator = Estimator<ModelFnPointer<ToyParams>, ToyParams>;

/// The toy estimator with checkpoints in `dir/model` and `params`.
pub fn toy_estimator_with(dir: &Path, params: ToyParams) -> ToyEstimator {
    let model_fn: ModelFnPointer<ToyParams> = toy_model_fn;
    // A path under a directory is a valid model_dir until it is a file.
    match Estimator::new(model_fn, dir.join("model"), params) {
        Ok(e) => e,
        Err(e) => panic!("{e}"),
    }
}

/// The toy estimator with checkpoints in `dir/model`, the write-up's params.
pub fn toy_estimator(dir: &Path) -> ToyEstimator {
    toy_estimator_with(dir, ToyParams::default())
}

/// Trains the toy estimator for 1,000 steps in `dir/model` and exports it
/// under `dir/saved_model`; returns the estimator and the version directory.
///
/// # Errors
/// Whatever training or export reports.
pub fn train_and_export(dir: &Path) -> Result<(ToyEstimator, PathBuf)> {
    let estimator = toy_estimator(dir);
    estimator.train(train_input_fn, Steps::Max(1000))?;
    let version = estimator.export_saved_model(dir.join("saved_model"), serving_input_receiver_fn)?;
    Ok((estimator, version))
}

/// The naive prediction for `n`: rebuilds the graph and restores the
/// checkpoint from disk, as `estimator.predict` does.
///
/// # Errors
/// Whatever `predict` reports.
pub fn naive_predict<M: estimator::ModelFn<P>, P>(estimator: &Estimator<M, P>, n: f32) -> Result<f32> {
    let prediction = estimator.predict(|| example_input_fn(n))?.next().ok_or(Error::EmptyDataset)??;
    Ok(prediction[estimator::DEFAULT_OUTPUT_KEY].as_slice::<f32>()?.first().copied().unwrap_or(f32::NAN))
}
