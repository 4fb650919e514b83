//! SavedModels exported by TensorFlow (`tests/fixtures/tensorflow/`): load
//! and call, each beside the same model converted to our format.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group};
use estimator_rs::mlp::mlp_input;
use ndarray::array;
use opset::Tensor;
use predictor::Predictor;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tensorflow").join(name).join("1700000000")
}

/// A fixture: its name, TensorFlow's export, the same converted to ours,
/// and the inputs of a call.
type Model = (&'static str, PathBuf, PathBuf, [(&'static str, Tensor); 1]);

fn models(out: &Path) -> Vec<Model> {
    [
        ("toy", "estimator_toy", ("number", Tensor::from(array![[42.0f32]]))),
        ("mlp", "tf_function_mlp", ("x", mlp_input(1, 784))),
    ]
    .into_iter()
    .map(|(name, dir, input)| {
        let tf = fixture(dir);
        let ours = tf_import::convert(&tf, out.join(name)).unwrap();
        (name, tf, ours, [input])
    })
    .collect()
}

fn tensorflow_exports(c: &mut Criterion) {
    let out = tempfile::tempdir().unwrap();
    let models = models(out.path());
    let mut load = c.benchmark_group("load_tf");
    for (name, tf, ours, _) in &models {
        load.bench_function(format!("{name}: TensorFlow SavedModel"), |b| {
            b.iter(|| black_box(Predictor::from_saved_model(tf).unwrap()))
        });
        load.bench_function(format!("{name}: converted"), |b| {
            b.iter(|| black_box(Predictor::from_saved_model(ours).unwrap()))
        });
    }
    load.finish();
    let mut predict = c.benchmark_group("predict_tf");
    for (name, tf, ours, inputs) in &models {
        for (format, dir) in [("TensorFlow SavedModel", tf), ("converted", ours)] {
            let p = Predictor::from_saved_model(dir).unwrap();
            let mut outputs = p.new_outputs();
            predict.bench_function(format!("{name}: {format}"), |b| {
                b.iter(|| p.predict_into(black_box(inputs), &mut outputs).unwrap())
            });
        }
    }
    predict.finish();
}

criterion_group!(benches, tensorflow_exports);
