//! The write-up's story, in Rust: train `y = a*x1 + b*x2` as one dense unit,
//! predict the naive way (the checkpoint is restored from disk on every
//! call), then export a versioned SavedModel for the predictor.
//!
//! ```text
//! cargo run --release -p estimator --example train
//! ```
//!
//! prints the final loss, the learned kernel and bias (both features are
//! `n`, so the data fixes only a + b = 2: the kernel's two weights sum to 2,
//! each is whatever training reached), an evaluation's loss, the naive
//! predictions for 100..110 (about 2n) with the time of each call, and the
//! exported version directory under `saved_model/`. Progress lines keep
//! TensorFlow's format; TensorBoard's event files go to the model directory.

#[path = "common/logging.rs"]
mod logging;

use std::time::Instant;

use clap::Parser;
use estimator::prelude::*;
use ndarray::array;

/// Train the toy model, predict naively, export.
#[derive(Parser)]
struct Args {
    /// Where checkpoints go.
    #[arg(long, default_value = "model")]
    model_dir: String,
    /// Where versions are exported.
    #[arg(long, default_value = "saved_model")]
    export_dir: String,
    /// Train until this global step.
    #[arg(long, default_value_t = 1000)]
    max_steps: u64,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 0.5)]
    learning_rate: f32,
}

/// Hyperparameters handed to the model_fn.
struct Params {
    learning_rate: f32,
}

/// `([n, n], [2n])` for n in 0..100, in batches of 20, 200 times over.
fn train_input_fn() -> Dataset<Example> {
    Dataset::from_generator(|| (0..100).map(|n| Example::new(array![n as f32, n as f32], array![2.0 * n as f32])))
        .batch(20)
        .repeat(200)
}

/// One example `[n, n]`, as the write-up's service sends it.
fn example_input_fn(n: f32) -> Dataset<Example> {
    Dataset::from_vec(vec![Example::unlabeled(array![n, n])]).batch(1)
}

fn model_fn(
    g: &mut GraphBuilder,
    features: Features<Output>,
    labels: Option<Output>,
    mode: Mode,
    params: &Params,
) -> Result<EstimatorSpec> {
    // A serving receiver hands a map; training hands the tensor itself.
    let features = *features.single_or("feature")?;
    let predictions = layers::dense(g, features, 1)?;
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

/// The client feeds `number: f32[?, 1]`; the model sees it tiled to `[?, 2]`.
fn serving_input_receiver_fn(g: &mut GraphBuilder) -> Result<ServingInputReceiver> {
    let number = g.placeholder("number", DataType::F32, Shape(vec![None, Some(1)]))?;
    let features = g.tile(number, &[1, 2])?;
    Ok(ServingInputReceiver::new(features, [("number".to_owned(), number)].into()))
}

fn main() -> anyhow::Result<()> {
    logging::init();
    let args = Args::parse();
    let params = Params { learning_rate: args.learning_rate };
    let estimator = Estimator::new(model_fn, &args.model_dir, params)?;

    let start = Instant::now();
    let summary = estimator.train(train_input_fn, Steps::Max(args.max_steps))?;
    println!("trained to step {} in {:.1?}, final loss {:.3e}", summary.global_step, start.elapsed(), summary.loss);
    let weights = estimator::checkpoint::restore(&summary.checkpoint)?;
    let (kernel, bias) = (weights["dense/kernel"].as_slice::<f32>()?, weights["dense/bias"].as_slice::<f32>()?);
    // Both features are n: the data fixes a + b = 2, not a and b apiece.
    println!("kernel = {kernel:?} (a + b = {:.4}), bias = {bias:?}", kernel.iter().sum::<f32>());
    let metrics = estimator.evaluate(|| train_input_fn().take(5))?;
    println!("evaluation at step {}: loss = {:.3e}", metrics.global_step, metrics.loss);

    // The naive way: every call rebuilds the graph and restores from disk.
    for n in 100..110 {
        let start = Instant::now();
        let prediction = estimator.predict(|| example_input_fn(n as f32))?.next().transpose()?;
        let y = prediction.as_ref().map(|p| p["output"].as_f32().map(|y| y[[0]])).transpose()?;
        println!("predict({n}) = {:.4} in {:.1?}", y.unwrap_or(f32::NAN), start.elapsed());
    }

    let version = estimator.export_saved_model(&args.export_dir, serving_input_receiver_fn)?;
    println!("exported {}", version.display());
    Ok(())
}
