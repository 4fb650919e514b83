//! The MLP 784-512-512-10 (ReLU, ReLU, softmax): the predictor against the
//! same math by hand with ndarray's `.dot()`, at batch 1, 32 and 256.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use estimator_rs::mlp::{by_hand, by_hand_layers, mlp_input, write_mlp};
use predictor::Predictor;

const SIZES: [usize; 4] = [784, 512, 512, 10];

fn predict_mlp(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let version = write_mlp(dir.path(), &SIZES, 1).unwrap();
    let predict_fn = Predictor::from_saved_model(&version).unwrap();
    let two_threads = predictor::LoadOptions { threads: 2, ..predictor::LoadOptions::default() };
    let predict_fn_2 = Predictor::load(&version, &two_threads).unwrap();
    let layers = by_hand_layers(&SIZES, 1);
    let mut group = c.benchmark_group("predict_mlp");
    for batch in [1usize, 32, 256] {
        group.throughput(Throughput::Elements(batch as u64));
        let x = mlp_input(batch, SIZES[0]);
        let inputs = [("x", x.clone())];
        let mut outputs = predict_fn.new_outputs();
        group.bench_with_input(BenchmarkId::new("predictor", batch), &batch, |bench, _| {
            bench.iter(|| predict_fn.predict_into(black_box(&inputs), &mut outputs).unwrap())
        });
        let mut outputs = predict_fn_2.new_outputs();
        group.bench_with_input(BenchmarkId::new("predictor, 2 threads", batch), &batch, |bench, _| {
            bench.iter(|| predict_fn_2.predict_into(black_box(&inputs), &mut outputs).unwrap())
        });
        let x = x.into_array::<f32>().unwrap().into_dimensionality().unwrap();
        group.bench_with_input(BenchmarkId::new("ndarray by hand", batch), &batch, |bench, _| {
            bench.iter(|| black_box(by_hand(black_box(&x), &layers)))
        });
    }
    group.finish();
}

fn load_mlp(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let version = write_mlp(dir.path(), &SIZES, 1).unwrap();
    let mut group = c.benchmark_group("load_mlp");
    group.bench_function("verified", |bench| bench.iter(|| black_box(Predictor::from_saved_model(&version).unwrap())));
    let unverified = predictor::LoadOptions { verify_checksums: false, ..predictor::LoadOptions::default() };
    group.bench_function("unverified", |bench| {
        bench.iter(|| black_box(Predictor::load(&version, &unverified).unwrap()))
    });
    group.finish();
}

/// A ~100 MB artifact (MLP 4096-4096-2048): loading maps it, never copies it.
fn load_big(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let version = write_mlp(dir.path(), &[4096, 4096, 2048], 1).unwrap();
    let mut group = c.benchmark_group("load_big");
    group.sample_size(20);
    group.bench_function("verified", |bench| bench.iter(|| black_box(Predictor::from_saved_model(&version).unwrap())));
    let unverified = predictor::LoadOptions { verify_checksums: false, ..predictor::LoadOptions::default() };
    group.bench_function("unverified", |bench| {
        bench.iter(|| black_box(Predictor::load(&version, &unverified).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, predict_mlp, load_mlp, load_big);
