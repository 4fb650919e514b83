//! The write-up's toy model: one call through the predictor against the
//! same math written by hand, and against the estimator's naive `predict`
//! (graph rebuilt and checkpoint restored from disk on every call); the
//! load of the artifact; 1,000 training steps.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group};
use estimator::Steps;
use estimator_rs::{naive_predict, serving_input_receiver_fn, toy_estimator, train_and_export, train_input_fn};
use ndarray::{Array2, ArrayView2, array};
use opset::Tensor;
use predictor::Predictor;

/// The model's math by hand with ndarray, as a Rust developer would write
/// it without a framework: tile, matrix product, bias.
fn by_hand(number: ArrayView2<f32>, kernel: ArrayView2<f32>, bias: f32) -> Array2<f32> {
    let features = ndarray::concatenate![ndarray::Axis(1), number, number];
    features.dot(&kernel) + bias
}

fn predict_toy(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let (estimator, version) = train_and_export(dir.path()).unwrap();
    let predict_fn = Predictor::from_saved_model(&version).unwrap();
    let weights = export::Artifact::open(&version).unwrap();
    let kernel =
        weights.variables().get("dense/kernel").unwrap().into_array::<f32>().unwrap().into_dimensionality().unwrap();
    let bias = weights.variables().get("dense/bias").unwrap().as_slice::<f32>().unwrap()[0];
    let (a, b) = (kernel[[0, 0]], kernel[[1, 0]]);

    let mut group = c.benchmark_group("predict_toy");
    group.bench_function("floor: a*x + b*x + c as a plain fn", |bench| {
        bench.iter(|| {
            let x = black_box(101.0f32);
            black_box(a * x + b * x + bias)
        })
    });
    let number = array![[101.0f32]];
    group.bench_function("by hand: ndarray tile + dot + bias", |bench| {
        bench.iter(|| black_box(by_hand(black_box(number.view()), kernel.view(), bias)))
    });
    let inputs = [("number", Tensor::from(number.clone()))];
    group.bench_function("predictor: predict", |bench| {
        bench.iter(|| black_box(predict_fn.predict(black_box(&inputs)).unwrap()))
    });
    let mut outputs = predict_fn.new_outputs();
    group.bench_function("predictor: predict_into", |bench| {
        bench.iter(|| predict_fn.predict_into(black_box(&inputs), &mut outputs).unwrap())
    });
    let mut session = predict_fn.session();
    group.bench_function("predictor: session.run", |bench| {
        bench.iter(|| black_box(session.run(black_box(&inputs)).unwrap()["output"].len()))
    });
    group.bench_function("predictor: session.run, the call alone", |bench| {
        bench.iter(|| {
            black_box(session.run(black_box(&inputs)).unwrap());
        })
    });
    let output = predict_fn.output_position("output").unwrap();
    group.bench_function("predictor: session.run, output by position", |bench| {
        bench.iter(|| black_box(session.run(black_box(&inputs)).unwrap().at(output).unwrap().len()))
    });
    group.bench_function("naive: estimator.predict (restores from disk)", |bench| {
        bench.iter(|| black_box(naive_predict(&estimator, black_box(101.0)).unwrap()))
    });
    group.finish();
}

fn load_toy(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let (estimator, version) = train_and_export(dir.path()).unwrap();
    c.bench_function("load_toy", |bench| {
        bench.iter(|| black_box(Predictor::from_saved_model(black_box(&version)).unwrap()))
    });
    // A predictor from the estimator: in memory, against export then load.
    let mut group = c.benchmark_group("from_estimator_toy");
    group.bench_function("from_estimator (in memory)", |bench| {
        bench.iter(|| black_box(estimator_rs::from_estimator(&estimator, serving_input_receiver_fn).unwrap()))
    });
    let exports = tempfile::tempdir().unwrap();
    group.bench_function("export_saved_model + from_saved_model", |bench| {
        bench.iter(|| {
            let version = estimator.export_saved_model(exports.path(), serving_input_receiver_fn).unwrap();
            black_box(Predictor::from_saved_model(&version).unwrap())
        })
    });
    group.finish();
}

fn train_adam_toy(c: &mut Criterion) {
    let mut group = c.benchmark_group("train_adam_toy");
    group.sample_size(20).measurement_time(Duration::from_secs(10));
    group.bench_function("1000 steps", |bench| {
        bench.iter_batched(
            || tempfile::tempdir().unwrap(),
            |dir| {
                let estimator = toy_estimator(dir.path());
                black_box(estimator.train(train_input_fn, Steps::Max(1000)).unwrap())
            },
            criterion::BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, predict_toy, load_toy, train_adam_toy);
