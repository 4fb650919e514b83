//! The bi-LSTM + CRF tagger of the `ner` example: training throughput
//! (sentences/s) and one 20-word sentence, and 32 of them, tagged by the
//! predictor and by the estimator's naive predict.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use estimator::prelude::*;
use estimator_rs::ner::corpus::{self, Sentence, Split};
use estimator_rs::ner::tagger::{Params, example, input_fn, model_fn, serving_input_receiver_fn};
use predictor::Predictor;

const TRAIN: u64 = 1000;

/// Held-out sentences run together into `n` sentences of exactly 20 words.
fn twenty_word_sentences(n: usize) -> Vec<Sentence> {
    let mut words = (0..).flat_map(|i| corpus::sentence(Split::HeldOut, i).words);
    (0..n)
        .map(|_| {
            let w: Vec<String> = words.by_ref().take(20).collect();
            Sentence { tags: vec!["O"; w.len()], words: w }
        })
        .collect()
}

fn ner(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let params = Params::with_vocabularies(&dir.path().join("data"), TRAIN).unwrap();
    let estimator = Estimator::new(model_fn, dir.path().join("model"), params).unwrap();
    estimator.train(|| input_fn(Split::Train, TRAIN, 20, 1), Steps::UntilExhausted).unwrap();

    let mut group = c.benchmark_group("train_ner");
    group.sample_size(10).throughput(Throughput::Elements(200));
    group.bench_function("estimator/10_steps_of_20", |bench| {
        bench.iter(|| estimator.train(|| input_fn(Split::Train, 200, 20, 1), Steps::UntilExhausted).unwrap())
    });
    group.finish();

    let version = estimator.export_saved_model(dir.path().join("saved_model"), serving_input_receiver_fn).unwrap();
    let predict_fn = Predictor::from_saved_model(&version).unwrap();
    let mut group = c.benchmark_group("predict_ner");
    for batch in [1usize, 32] {
        group.throughput(Throughput::Elements(batch as u64));
        let sentences = twenty_word_sentences(batch);
        let words: Vec<String> = sentences.iter().flat_map(|s| s.words.clone()).collect();
        let inputs = [
            ("words", Tensor::strings(vec![batch, 20], words).unwrap()),
            ("nwords", Tensor::from_vec(vec![batch], vec![20i32; batch]).unwrap()),
        ];
        let mut outputs = predict_fn.new_outputs();
        group.bench_with_input(BenchmarkId::new("predictor", batch), &batch, |bench, _| {
            bench.iter(|| predict_fn.predict_into(black_box(&inputs), &mut outputs).unwrap())
        });
        let examples: Vec<Example> = sentences.iter().map(example).collect();
        group.bench_with_input(BenchmarkId::new("naive", batch), &batch, |bench, _| {
            bench.iter(|| {
                let data = Dataset::from_vec(examples.clone()).padded_batch(batch);
                estimator.predict(move || data).unwrap().count()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, ner);
