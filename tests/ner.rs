//! The write-up's "advanced use" end to end: the bi-LSTM + CRF tagger of
//! the `ner` example trained (a smaller run), scored on held-out sentences
//! whose names it never saw, exported with raw words in, and served by the
//! predictor alone (its recurrent loops fused) with the estimator's answers.

#[path = "common/server.rs"]
mod server;

use std::path::PathBuf;
use std::sync::OnceLock;

use estimator::ModelFnPointer;
use estimator::prelude::*;
use estimator_rs::ner::corpus::{self, Sentence, Split};
use estimator_rs::ner::tagger::{Params, example, input_fn, model_fn, serving_input_receiver_fn};
use predictor::{LoadOptions, Predictor};
use serde_json::json;
use server::Server;

struct Trained {
    _dir: tempfile::TempDir,
    estimator: Estimator<ModelFnPointer<Params>, Params>,
    f1: f32,
    version: PathBuf,
}

const TRAIN: u64 = 1000;

fn trained() -> &'static Trained {
    static TRAINED: OnceLock<Trained> = OnceLock::new();
    TRAINED.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let params = Params::with_vocabularies(&dir.path().join("data"), TRAIN).unwrap();
        let f: ModelFnPointer<Params> = model_fn;
        let estimator = Estimator::new(f, dir.path().join("model"), params).unwrap();
        estimator.train(|| input_fn(Split::Train, TRAIN, 20, 3), Steps::UntilExhausted).unwrap();
        let metrics = estimator.evaluate(|| input_fn(Split::HeldOut, 200, 50, 1)).unwrap();
        let version = estimator.export_saved_model(dir.path().join("saved_model"), serving_input_receiver_fn).unwrap();
        Trained { _dir: dir, estimator, f1: metrics.metrics["f1"], version }
    })
}

/// Held-out sentences, and sentences of words no vocabulary has.
fn sentences() -> Vec<Sentence> {
    let mut all: Vec<Sentence> = (0..28).map(|i| corpus::sentence(Split::HeldOut, i)).collect();
    for words in [&["Zq", "Xyzzy", "lives", "in", "Qwopville", "."][..], &["ünïcödé", "works", "for", "Ææ", "Corp"]]
    {
        all.push(Sentence { words: words.iter().map(|w| (*w).to_owned()).collect(), tags: vec!["O"; words.len()] });
    }
    all
}

/// The sentences as the receiver takes them: `words` padded with "", `nwords`.
fn feed(batch: &[Sentence]) -> Vec<(&'static str, Tensor)> {
    let width = batch.iter().map(|s| s.words.len()).max().unwrap_or(0);
    let words: Vec<String> = batch
        .iter()
        .flat_map(|s| s.words.iter().cloned().chain(std::iter::repeat_n(String::new(), width - s.words.len())))
        .collect();
    let nwords: Vec<i32> = batch.iter().map(|s| s.words.len() as i32).collect();
    vec![
        ("words", Tensor::strings(vec![batch.len(), width], words).unwrap()),
        ("nwords", Tensor::from_vec(vec![batch.len()], nwords).unwrap()),
    ]
}

#[test]
fn tags_held_out_entities_with_f1_above_95_percent() {
    assert!(trained().f1 >= 0.95, "held-out entity F1 {}", trained().f1);
}

#[test]
fn the_predictor_answers_what_the_estimator_answers() {
    let t = trained();
    for asset in ["words.txt", "chars.txt", "tags.txt"] {
        assert!(t.version.join("assets").join(asset).exists(), "{asset} travels in the artifact");
    }
    let batch = sentences();
    let naive: Vec<_> = t
        .estimator
        .predict(|| Dataset::from_vec(batch.iter().map(example).collect()).padded_batch(7))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for fused in [true, false] {
        let options = LoadOptions { fused_cells: fused, ..LoadOptions::default() };
        let predict_fn = Predictor::load(&t.version, &options).unwrap();
        // The characters' and the words' bi-LSTMs, each two loops.
        assert_eq!(predict_fn.fused_loops(), if fused { 4 } else { 0 });
        let out = predict_fn.predict(&feed(&batch)).unwrap();
        let (tags, ids, scores) = (&out["tags"], &out["tag_ids"], &out["score"]);
        let width = tags.shape()[1];
        for (i, (s, p)) in batch.iter().zip(&naive).enumerate() {
            let n = s.words.len();
            let row = |_: &Tensor| i * width..i * width + n;
            assert_eq!(
                &tags.as_slice::<predictor::Bytes>().unwrap()[row(tags)],
                &p["tags"].as_slice::<predictor::Bytes>().unwrap()[..n]
            );
            assert_eq!(&ids.as_slice::<i32>().unwrap()[row(ids)], &p["tag_ids"].as_slice::<i32>().unwrap()[..n]);
            let (a, b) = (scores.as_slice::<f32>().unwrap()[i], p["score"].as_slice::<f32>().unwrap()[0]);
            assert!((a - b).abs() <= 1e-4 * (1.0 + b.abs()), "sentence {i}: score {a} vs {b}");
            assert!(
                tags.as_slice::<predictor::Bytes>().unwrap()[i * width + n..(i + 1) * width].iter().all(|t| t == "O")
            );
        }
    }
}

#[test]
fn the_server_answers_tag_strings_over_rest() {
    let t = trained();
    let base = t.version.parent().unwrap();
    let server = Server::start_named("ner", base, 1 << 20);
    let (status, body) =
        server.predict(json!({"instances": [{"words": ["John", "lives", "in", "Paris"], "nwords": 4}]}));
    assert_eq!(status, 200, "{body}");
    let tags = &body["predictions"][0]["tags"];
    assert_eq!(tags, &json!(["B-PER", "O", "O", "B-LOC"]), "{body}");
    assert_eq!(body["predictions"][0]["tag_ids"], json!([1, 0, 0, 3]));
    // The columnar form, two sentences padded to the longer: what the predictor answers.
    let batch = [
        Sentence {
            words: ["Zorblax", "Corp", "hired", "Quint", "last", "year", "."].map(String::from).to_vec(),
            tags: vec![],
        },
        Sentence { words: ["Trosk", "is", "far", "from", "Vexo", "."].map(String::from).to_vec(), tags: vec![] },
    ];
    let padded: Vec<String> = batch[1].words.iter().cloned().chain([String::new()]).collect();
    let (status, body) = server.predict(json!({"inputs": {"words": [batch[0].words, padded], "nwords": [7, 6]}}));
    assert_eq!(status, 200, "{body}");
    let direct = Predictor::from_saved_model(&t.version).unwrap().predict(&feed(&batch)).unwrap();
    let tags: Vec<&str> = direct["tags"]
        .as_slice::<predictor::Bytes>()
        .unwrap()
        .iter()
        .map(|t| std::str::from_utf8(t).unwrap())
        .collect();
    assert_eq!(body["outputs"]["tags"], json!([&tags[..7], &tags[7..]]), "{body}");
    assert_eq!(&tags[..2], ["B-ORG", "I-ORG"], "an organisation's suffix word");
    // A missing input is refused, naming it.
    let (status, body) = server.predict(json!({"instances": [{"words": ["John"]}]}));
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains("nwords"), "{body}");
    server.shutdown();
}
