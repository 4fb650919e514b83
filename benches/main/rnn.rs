//! Recurrent models exported by Keras (`tests/fixtures/tensorflow/`): the
//! issue's bi-LSTM tagger (embedding 8, 12 units per direction, 5 softmax
//! tags, vocabulary 50) on sentences of 20 tokens, and a GRU(8) over 10
//! steps of 3 features. TensorFlow 2.15's own figures on our machines (a
//! signature call): 766 us and 1.19 ms for the tagger at batch 1 and 32,
//! 414 us for the GRU at batch 1.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use opset::Tensor;
use predictor::{LoadOptions, Predictor};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tensorflow").join(name).join("1700000000")
}

/// `batch` sentences of 20 token ids in 1..50, each a different length
/// from 20 down (the rest padded with 0), as a tagger serves them.
fn sentences(batch: usize) -> Tensor {
    let ids = (0..batch * 20)
        .map(|k| {
            let (row, col) = (k / 20, k % 20);
            if col < 20 - row % 12 { 1 + (k * 7 % 49) as i32 } else { 0 }
        })
        .collect();
    Tensor::from_vec(vec![batch, 20], ids).unwrap()
}

fn recurrent(c: &mut Criterion) {
    let mut group = c.benchmark_group("predict_rnn");
    let general = LoadOptions { fused_cells: false, ..Default::default() };
    let taggers = [
        ("bi-LSTM tagger, fused LSTM steps", LoadOptions::default()),
        ("bi-LSTM tagger, general loop", general.clone()),
    ];
    for (name, options) in taggers {
        let tagger = Predictor::load(&fixture("keras_bilstm_tagger"), &options).unwrap();
        for batch in [1usize, 32] {
            let inputs = [("tokens", sentences(batch))];
            let mut outputs = tagger.new_outputs();
            group.throughput(Throughput::Elements(batch as u64));
            group.bench_with_input(BenchmarkId::new(name, batch), &batch, |b, _| {
                b.iter(|| tagger.predict_into(black_box(&inputs), &mut outputs).unwrap())
            });
        }
    }
    let x: Vec<f32> = (0..30).map(|k| (k % 7) as f32 / 7.0 - 0.5).collect();
    let inputs = [("x", Tensor::from_vec(vec![1, 10, 3], x).unwrap())];
    group.throughput(Throughput::Elements(1));
    for (name, options) in [
        ("GRU(8) over 10 steps, fused GRU steps", LoadOptions::default()),
        ("GRU(8) over 10 steps, general loop", general),
    ] {
        let gru = Predictor::load(&fixture("keras_gru"), &options).unwrap();
        let mut outputs = gru.new_outputs();
        group.bench_with_input(BenchmarkId::new(name, 1), &1, |b, _| {
            b.iter(|| gru.predict_into(black_box(&inputs), &mut outputs).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, recurrent);
