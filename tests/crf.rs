//! The estimator's linear-chain CRF (`estimator::crf`) computes TensorFlow's
//! numbers: Viterbi decoding against `tests/fixtures/tensorflow/tf1_crf_decode/`
//! (a TF1 SavedModel with `crf_decode`'s semantics: its `transitions`
//! variable read by `tf_import`, its cases from `expected.json`), and the
//! log-likelihood, sequence score and log norm against
//! `tests/fixtures/tensorflow/crf_log_likelihood.json` (a JSON-only
//! reference: `tf.contrib.crf.crf_log_likelihood`'s code ported to plain TF
//! ops by `make_crf_log_likelihood.py`). Each is built on placeholders and
//! evaluated by `opset`'s reference kernels.

use std::path::{Path, PathBuf};

use estimator::{GraphBuilder, Output, crf};
use opset::{DataType, Shape, Tensor, TypedGraph};
use predictor::json::tensor_from_json;
use serde_json::Value;

const TAGS: usize = 5;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tensorflow")
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// `got` equals `want` in shape and, element by element, within
/// `tolerance` (relative past 1, absolute below).
fn assert_close(got: &Tensor, want: &Tensor, tolerance: f32, at: &str) {
    assert_eq!(got.shape(), want.shape(), "{at}: shapes");
    let (g, w) = (got.as_slice::<f32>().unwrap(), want.as_slice::<f32>().unwrap());
    for (i, (g, w)) in g.iter().zip(w).enumerate() {
        assert!((g - w).abs() <= tolerance * w.abs().max(1.0), "{at}[{i}]: ours {g}, TensorFlow {w}");
    }
}

/// Placeholders `unary: f32[?, ?, 5]`, `tags: i32[?, ?]`,
/// `lengths: i32[?]`, and the variable `transitions` [5, 5] of
/// `crf::transitions`.
struct Inputs {
    unary: Output,
    tags: Output,
    lengths: Output,
    transitions: Output,
}

fn inputs(g: &mut GraphBuilder) -> Inputs {
    Inputs {
        unary: g.placeholder("unary", DataType::F32, Shape(vec![None, None, Some(TAGS)])).unwrap(),
        tags: g.placeholder("tags", DataType::I32, Shape(vec![None, None])).unwrap(),
        lengths: g.placeholder("lengths", DataType::I32, Shape(vec![None])).unwrap(),
        transitions: crf::transitions(g, TAGS).unwrap(),
    }
}

/// Evaluates `targets` with each `(node, value)` fed.
fn evaluate(graph: &TypedGraph, feeds: Vec<(Output, Tensor)>, targets: &[Output]) -> Vec<Tensor> {
    let mut values = vec![None; graph.nodes().len()];
    for (o, value) in feeds {
        values[o.index()] = Some(value);
    }
    let indices: Vec<usize> = targets.iter().map(|t| t.index()).collect();
    graph.evaluate(&indices, &mut values).unwrap();
    targets.iter().map(|t| values[t.index()].take().unwrap()).collect()
}

/// `tf1_crf_decode/make.py`: Viterbi over `potentials: f32[?, ?, 5]` and
/// `lengths: i32[?]` with a seeded `transitions` variable; outputs `tags`
/// (0 past each length, a length of 0 decoded as 1) and `score`. Tags
/// exactly, scores within 1e-5.
#[test]
fn decode_finds_tensorflows_tags_and_scores() {
    let mut g = GraphBuilder::new();
    let x = inputs(&mut g);
    let decoded = crf::decode(&mut g, x.unary, x.lengths, x.transitions).unwrap();

    let base = fixtures().join("tf1_crf_decode");
    let artifact = tf_import::open(base.join("1700000000")).unwrap();
    let theirs: Vec<&str> = artifact.variables().names().collect();
    let ours: Vec<&str> = g.variables().iter().map(|d| d.name.as_str()).collect();
    assert_eq!(ours, theirs, "variable names");
    let transitions = artifact.variables().get("transitions").unwrap();
    assert_eq!(transitions.shape(), [TAGS, TAGS]);

    let graph = TypedGraph::new(&g.graph(), g.assets()).unwrap();
    let expected = read_json(&base.join("expected.json"));
    let cases = expected["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 5);
    for (c, case) in cases.iter().enumerate() {
        let input = |key: &str, dtype| tensor_from_json(&case["inputs"][key], dtype, key).unwrap();
        let feeds = vec![
            (x.unary, input("potentials", DataType::F32)),
            (x.lengths, input("lengths", DataType::I32)),
            (x.transitions, transitions.clone()),
        ];
        let [tags, score] = &evaluate(&graph, feeds, &[decoded.tags, decoded.score])[..] else { unreachable!() };
        let want_tags = tensor_from_json(&case["outputs"]["tags"], DataType::I32, "tags").unwrap();
        assert_eq!(tags.shape(), want_tags.shape(), "case {c}: tags' shape");
        assert_eq!(tags.as_slice::<i32>().unwrap(), want_tags.as_slice::<i32>().unwrap(), "case {c}: tags");
        let want_score = tensor_from_json(&case["outputs"]["score"], DataType::F32, "score").unwrap();
        assert_close(score, &want_score, 1e-5, &format!("case {c}: score"));
    }
}

/// `make_crf_log_likelihood.py`: `crf_log_likelihood`, `crf_sequence_score`
/// and `crf_log_norm` as `tf.contrib.crf` computes them, on batches of
/// mixed lengths (0 and 1 among them; junk tags and unary scores past each
/// length; one batch of a single step), each case with its own
/// transitions. Within 1e-4.
#[test]
fn log_likelihood_matches_tensorflows_crf_log_likelihood() {
    let mut g = GraphBuilder::new();
    let x = inputs(&mut g);
    let ll = crf::log_likelihood(&mut g, x.unary, x.tags, x.lengths, x.transitions).unwrap();
    let score = crf::sequence_score(&mut g, x.unary, x.tags, x.lengths, x.transitions).unwrap();
    let norm = crf::log_norm(&mut g, x.unary, x.lengths, x.transitions).unwrap();
    let outputs = [("log_likelihood", ll), ("sequence_score", score), ("log_norm", norm)];

    let graph = TypedGraph::new(&g.graph(), g.assets()).unwrap();
    let expected = read_json(&fixtures().join("crf_log_likelihood.json"));
    let cases = expected["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 5);
    let mut lengths_seen = Vec::new();
    for (c, case) in cases.iter().enumerate() {
        let input = |key: &str, dtype| tensor_from_json(&case["inputs"][key], dtype, key).unwrap();
        let lengths = input("lengths", DataType::I32);
        lengths_seen.extend_from_slice(lengths.as_slice::<i32>().unwrap());
        let feeds = vec![
            (x.unary, input("unary", DataType::F32)),
            (x.tags, input("tags", DataType::I32)),
            (x.lengths, lengths),
            (x.transitions, input("transitions", DataType::F32)),
        ];
        let targets: Vec<Output> = outputs.iter().map(|(_, o)| *o).collect();
        let values = evaluate(&graph, feeds, &targets);
        let keys: Vec<&String> = case["outputs"].as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), outputs.len(), "case {c}: output keys {keys:?}");
        for ((key, _), got) in outputs.iter().zip(&values) {
            let want = tensor_from_json(&case["outputs"][*key], DataType::F32, key).unwrap();
            assert_close(got, &want, 1e-4, &format!("case {c}: {key}"));
        }
    }
    assert!(lengths_seen.contains(&0) && lengths_seen.contains(&1), "{lengths_seen:?}");
}
