//! A text model end to end: strings in, a vocabulary asset with
//! out-of-vocabulary buckets, embeddings, masked mean pooling; trained,
//! exported, and served by the predictor alone with the estimator's answers.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use estimator::ModelFnPointer;
use estimator::prelude::*;
use estimator_rs::topics::{
    MAX_LEN, Params, Split, input_fn, model_fn, phrase, serving_input_receiver_fn, write_vocabulary,
};
use predictor::Predictor;

struct Trained {
    _dir: tempfile::TempDir,
    estimator: Estimator<ModelFnPointer<Params>, Params>,
    accuracy: f32,
    version: PathBuf,
}

fn trained() -> &'static Trained {
    static TRAINED: OnceLock<Trained> = OnceLock::new();
    TRAINED.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let (vocabulary, vocabulary_size) = write_vocabulary(&dir.path().join("data")).unwrap();
        let params = Params { vocabulary, vocabulary_size, embedding_dim: 8, learning_rate: 0.05 };
        let f: ModelFnPointer<Params> = model_fn;
        let estimator = Estimator::new(f, dir.path().join("model"), params).unwrap();
        estimator.train(|| input_fn(Split::Train, 2000, 32, 5), Steps::UntilExhausted).unwrap();
        let metrics = estimator.evaluate(|| input_fn(Split::HeldOut, 500, 100, 1)).unwrap();
        let version = estimator.export_saved_model(dir.path().join("saved_model"), serving_input_receiver_fn).unwrap();
        Trained { _dir: dir, estimator, accuracy: metrics.metrics["accuracy"], version }
    })
}

fn words(batch: &[Vec<String>]) -> Tensor {
    let width = batch.iter().map(Vec::len).max().unwrap_or(0);
    let flat: Vec<String> = batch
        .iter()
        .flat_map(|w| w.iter().cloned().chain(std::iter::repeat_n(String::new(), width - w.len())))
        .collect();
    Tensor::strings(vec![batch.len(), width], flat).unwrap()
}

#[test]
fn reaches_95_percent_on_held_out_phrases() {
    assert!(trained().accuracy >= 0.95, "held-out accuracy {}", trained().accuracy);
}

#[test]
fn the_predictor_answers_what_the_estimator_answers() {
    let t = trained();
    let predict_fn = Predictor::from_saved_model(&t.version).unwrap();
    assert!(t.version.join("assets/vocab.txt").exists(), "the vocabulary travels in the artifact");
    // Held-out phrases, and unknown words that land in the OOV buckets.
    let mut batch: Vec<Vec<String>> = (0..20).map(|i| phrase(Split::HeldOut, i).0).collect();
    batch.push(["zorblax", "pizza", "", "", "", ""].map(String::from).to_vec());
    batch.push(["qwerty", "uiop", "asdf", "", "", ""].map(String::from).to_vec());
    let out = predict_fn.predict(&[("words", words(&batch))]).unwrap();
    let classes = out["classes"].as_slice::<i64>().unwrap();
    let probabilities = out["probabilities"].as_slice::<f32>().unwrap();
    for (i, w) in batch.iter().enumerate() {
        let example = Example::unlabeled(Tensor::strings(vec![MAX_LEN], w.clone()).unwrap());
        let naive = t
            .estimator
            .predict(move || Dataset::from_vec(vec![example.clone()]).batch(1))
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        assert_eq!(naive["classes"].as_slice::<i64>().unwrap()[0], classes[i], "{w:?}");
        for (a, b) in naive["probabilities"].as_slice::<f32>().unwrap().iter().zip(&probabilities[i * 3..i * 3 + 3]) {
            assert!((a - b).abs() <= 1e-6, "{w:?}: estimator {a}, predictor {b}");
        }
    }
    // The class of a phrase does not depend on how much padding it has.
    let short = predict_fn.predict(&[("words", words(&[vec!["laptop".into(), "the".into()]]))]).unwrap();
    let long = predict_fn
        .predict(&[("words", words(&[vec!["laptop".into(), "the".into(), String::new(), String::new()]]))])
        .unwrap();
    assert_eq!(short["probabilities"], long["probabilities"]);
    assert_eq!(short["classes"].as_slice::<i64>().unwrap(), [2]);
}

#[test]
fn json_strings_and_ragged_batches() {
    let p = Predictor::from_saved_model(&trained().version).unwrap();
    let value: serde_json::Value = serde_json::json!([["good", "movie", ""], ["pizza", "chef", "zzz"]]);
    let t = predictor::json::tensor_from_json(&value, opset::DataType::String, "words").unwrap();
    let out = p.predict(&[("words", t)]).unwrap();
    assert_eq!(out["classes"].as_slice::<i64>().unwrap()[1], 1);
    let ragged = serde_json::json!([["good", "movie"], ["pizza"]]);
    let err = predictor::json::tensor_from_json(&ragged, opset::DataType::String, "words").unwrap_err().to_string();
    assert!(err.contains("words") && err.contains("ragged"), "{err}");
    let numbers = serde_json::json!([[1, 2]]);
    let err = predictor::json::tensor_from_json(&numbers, opset::DataType::String, "words").unwrap_err().to_string();
    assert!(err.contains("not a string"), "{err}");
    let err = p.predict(&[("words", Tensor::from(ndarray::array![[1.0f32]]))]).unwrap_err().to_string();
    assert!(err.contains("expected dtype string, got f32"), "{err}");
}

fn copy_version(src: &Path) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let dst = dir.path().join("1");
    for sub in ["", "variables", "assets"] {
        std::fs::create_dir_all(dst.join(sub)).unwrap();
        for f in std::fs::read_dir(src.join(sub)).unwrap() {
            let f = f.unwrap();
            if f.path().is_file() {
                std::fs::copy(f.path(), dst.join(sub).join(f.file_name())).unwrap();
            }
        }
    }
    (dir, dst)
}

#[test]
fn a_bad_vocabulary_asset_is_refused() {
    let (_d, v) = copy_version(&trained().version);
    std::fs::remove_file(v.join("assets/vocab.txt")).unwrap();
    let err = Predictor::from_saved_model(&v).unwrap_err().to_string();
    assert!(err.contains("vocab.txt"), "{err}");
    std::fs::write(v.join("assets/vocab.txt"), "").unwrap();
    let err = Predictor::from_saved_model(&v).unwrap_err().to_string();
    assert!(err.contains("empty"), "{err}");
    std::fs::write(v.join("assets/vocab.txt"), "goal\nmatch\ngoal\n").unwrap();
    let err = Predictor::from_saved_model(&v).unwrap_err().to_string();
    assert!(err.contains("\"goal\" appears on line 1 and again on line 3"), "{err}");
    std::fs::write(v.join("assets/vocab.txt"), b"goal\n\xff\xfe\n").unwrap();
    let err = Predictor::from_saved_model(&v).unwrap_err().to_string();
    assert!(err.contains("not UTF-8"), "{err}");
}
