//! The topic classifier (strings -> vocabulary lookup -> embeddings ->
//! masked mean -> dense -> classes and probabilities), served by the
//! predictor at batch 1 and 64.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use estimator::prelude::*;
use estimator_rs::topics::{Params, Split, input_fn, model_fn, phrase, serving_input_receiver_fn, write_vocabulary};
use predictor::Predictor;

fn predict_text(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let (vocabulary, vocabulary_size) = write_vocabulary(&dir.path().join("data")).unwrap();
    let params = Params { vocabulary, vocabulary_size, embedding_dim: 8, learning_rate: 0.05 };
    let estimator = Estimator::new(model_fn, dir.path().join("model"), params).unwrap();
    estimator.train(|| input_fn(Split::Train, 2000, 32, 5), Steps::UntilExhausted).unwrap();
    let version = estimator.export_saved_model(dir.path().join("saved_model"), serving_input_receiver_fn).unwrap();
    let predict_fn = Predictor::from_saved_model(&version).unwrap();
    let mut group = c.benchmark_group("predict_text");
    for batch in [1usize, 64] {
        group.throughput(Throughput::Elements(batch as u64));
        let phrases: Vec<String> = (0..batch as u64).flat_map(|i| phrase(Split::HeldOut, i).0).collect();
        let words = Tensor::strings(vec![batch, phrases.len() / batch], phrases).unwrap();
        let inputs = [("words", words)];
        let mut outputs = predict_fn.new_outputs();
        group.bench_with_input(BenchmarkId::new("predictor", batch), &batch, |bench, _| {
            bench.iter(|| predict_fn.predict_into(black_box(&inputs), &mut outputs).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, predict_text);
