//! The write-up's toy model, shared by the estimator's tests.

#![allow(dead_code)]

use estimator::Initializer;
use estimator::prelude::*;
use ndarray::array;

/// Learning rate and, optionally, fixed initial weights.
#[derive(Clone)]
pub struct Params {
    /// Adam's learning rate.
    pub learning_rate: f32,
    /// Initial kernel, row-major (Glorot-uniform if `None`).
    pub kernel: Option<Vec<f32>>,
    /// Initial bias (zeros if `None`).
    pub bias: Option<Vec<f32>>,
}

impl Default for Params {
    fn default() -> Params {
        Params { learning_rate: 0.5, kernel: None, bias: None }
    }
}

/// The write-up's model_fn: one dense unit, `l2_loss`, Adam.
pub fn model_fn(
    g: &mut GraphBuilder,
    features: Features<Output>,
    labels: Option<Output>,
    mode: Mode,
    params: &Params,
) -> Result<EstimatorSpec> {
    let x = *features.single_or("feature")?;
    let mut dense = Dense::new(1);
    if let Some(k) = &params.kernel {
        dense.kernel_initializer = Initializer::Values(k.clone());
    }
    if let Some(b) = &params.bias {
        dense.bias_initializer = Initializer::Values(b.clone());
    }
    let predictions = dense.apply(g, x)?;
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

/// `([n, n], [2n])` for n in 0..100, batch 20, repeated 200 times.
pub fn train_input_fn() -> Dataset<Example> {
    Dataset::from_generator(|| (0..100).map(|n| Example::new(array![n as f32, n as f32], array![2.0 * n as f32])))
        .batch(20)
        .repeat(200)
}

/// One unlabeled example `[n, n]`.
pub fn example_input_fn(n: f32) -> Dataset<Example> {
    Dataset::from_vec(vec![Example::unlabeled(array![n, n])]).batch(1)
}

/// `number: f32[?, 1]` tiled to `[?, 2]`.
pub fn receiver_fn(g: &mut GraphBuilder) -> Result<ServingInputReceiver> {
    let number = g.placeholder("number", DataType::F32, Shape(vec![None, Some(1)]))?;
    let features = g.tile(number, &[1, 2])?;
    Ok(ServingInputReceiver::new(features, [("number".to_owned(), number)].into()))
}

/// The single prediction of the naive path for `n`.
pub fn predict_one<M: estimator::ModelFn<P>, P>(estimator: &Estimator<M, P>, n: f32) -> f32 {
    let p = estimator.predict(|| example_input_fn(n)).unwrap().next().unwrap().unwrap();
    p["output"].as_f32().unwrap()[[0]]
}
