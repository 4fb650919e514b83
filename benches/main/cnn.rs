//! A small MNIST-sized CNN (`estimator_rs::cnn`): the predictor's fused
//! convolutions (patches gathered into rows, then the dense kernel) against
//! the same graph interpreted with `opset`'s reference kernels.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use estimator_rs::cnn::{cnn_input, write_cnn};
use estimator_rs::reference::Reference;
use predictor::Predictor;

fn predict_cnn(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let version = write_cnn(dir.path(), 1).unwrap();
    let predict_fn = Predictor::from_saved_model(&version).unwrap();
    let reference = Reference::open(&version).unwrap();
    let mut group = c.benchmark_group("predict_cnn");
    for batch in [1usize, 16] {
        group.throughput(Throughput::Elements(batch as u64));
        let inputs = [("image", cnn_input(batch))];
        // Same answers first.
        let (ours, theirs) =
            (predict_fn.predict(&inputs).unwrap(), reference.outputs("serving_default", &inputs).unwrap());
        let pairs =
            ours["features"].as_slice::<f32>().unwrap().iter().zip(theirs["features"].as_slice::<f32>().unwrap());
        pairs.for_each(|(a, b)| assert!((a - b).abs() <= 1e-4 * b.abs().max(1.0), "predictor {a}, reference {b}"));
        let mut outputs = predict_fn.new_outputs();
        group.bench_with_input(BenchmarkId::new("predictor", batch), &batch, |bench, _| {
            bench.iter(|| predict_fn.predict_into(black_box(&inputs), &mut outputs).unwrap())
        });
        group.bench_with_input(BenchmarkId::new("reference kernels, interpreted", batch), &batch, |bench, _| {
            bench.iter(|| black_box(reference.outputs("serving_default", black_box(&inputs)).unwrap()))
        });
    }
    group.finish();
}

criterion_group!(benches, predict_cnn);
