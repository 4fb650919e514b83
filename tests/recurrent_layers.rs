//! The estimator's recurrent layers (`estimator::layers::{Lstm, Gru,
//! Bidirectional}`) compute TensorFlow 1's numbers: each is built on
//! placeholders `x: f32[?, ?, 3]` and `lengths: i32[?]`, given the
//! variables of a TF1 fixture (`tests/fixtures/tensorflow/tf1_*`, read by
//! `tf_import`) and evaluated by `opset`'s reference kernels on the inputs
//! of its `expected.json`. And exported from an estimator, each runs in the
//! predictor as its fused cell, with the estimator's own answers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use estimator::layers::{Bidirectional, Gru, Lstm};
use estimator::prelude::*;
use estimator::{Initializer, ModelFnPointer};
use opset::TypedGraph;
use predictor::json::tensor_from_json;
use predictor::{LoadOptions, Predictor};
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tensorflow").join(name)
}

fn expected(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture(name).join("expected.json")).unwrap()).unwrap()
}

/// `got` equals `want` in shape and, element by element, within 1e-5
/// (relative, absolute below 1).
fn assert_close(got: &Tensor, want: &Tensor, at: &str) {
    assert_eq!(got.shape(), want.shape(), "{at}: shapes");
    let (g, w) = (got.as_slice::<f32>().unwrap(), want.as_slice::<f32>().unwrap());
    for (i, (g, w)) in g.iter().zip(w).enumerate() {
        assert!((g - w).abs() <= 1e-5 * w.abs().max(1.0), "{at}[{i}]: ours {g}, expected {w}");
    }
}

/// The inputs of a case of `expected.json`, as the signature types them.
fn case_inputs(case: &Value) -> [(&'static str, Tensor); 2] {
    let input = |key: &str, dtype| tensor_from_json(&case["inputs"][key], dtype, key).unwrap();
    [("x", input("x", DataType::F32)), ("lengths", input("lengths", DataType::I32))]
}

/// Builds a layer with `build` on placeholders `x` and `lengths` (its
/// outputs by the fixture's output keys), gives its variables the values
/// of fixture `name`'s (same names, same shapes: all of them, no other),
/// and checks every output of every case against TensorFlow's.
fn check_against_tensorflow(
    name: &str,
    build: impl FnOnce(&mut GraphBuilder, Output, Output) -> Result<BTreeMap<&'static str, Output>>,
) {
    let mut g = GraphBuilder::new();
    let x = g.placeholder("x", DataType::F32, Shape(vec![None, None, Some(3)])).unwrap();
    let lengths = g.placeholder("lengths", DataType::I32, Shape(vec![None])).unwrap();
    let outputs = build(&mut g, x, lengths).unwrap();

    let artifact = tf_import::open(fixture(name).join("1700000000")).unwrap();
    let theirs: Vec<&str> = artifact.variables().names().collect();
    let mut ours: Vec<&str> = g.variables().iter().map(|d| d.name.as_str()).collect();
    ours.sort_unstable();
    assert_eq!(ours, theirs, "{name}: variable names");
    let variables: Vec<(usize, Tensor)> = g
        .variables()
        .iter()
        .map(|d| {
            let value = artifact.variables().get(&d.name).unwrap();
            assert_eq!(value.shape(), d.shape.as_slice(), "{name}: shape of {}", d.name);
            (d.output.index(), value)
        })
        .collect();

    let graph = TypedGraph::new(&g.graph(), g.assets()).unwrap();
    let expected = expected(name);
    let cases = expected["cases"].as_array().unwrap();
    for (c, case) in cases.iter().enumerate() {
        let mut values = vec![None; graph.nodes().len()];
        let [(_, xs), (_, ls)] = case_inputs(case);
        values[x.index()] = Some(xs);
        values[lengths.index()] = Some(ls);
        for (i, value) in &variables {
            values[*i] = Some(value.clone());
        }
        let targets: Vec<usize> = outputs.values().map(|o| o.index()).collect();
        graph.evaluate(&targets, &mut values).unwrap();
        let keys: Vec<&String> = case["outputs"].as_object().unwrap().keys().collect();
        assert_eq!(keys, outputs.keys().collect::<Vec<_>>(), "{name}: output keys");
        for (key, o) in &outputs {
            let want = tensor_from_json(&case["outputs"][*key], DataType::F32, key).unwrap();
            assert_close(values[o.index()].as_ref().unwrap(), &want, &format!("{name} case {c} output {key}"));
        }
    }
}

/// `tf1_dynamic_rnn/make.py`: `dynamic_rnn(LSTMCell(5), x,
/// sequence_length=lengths)`, outputs `outputs`, `state.h`, `state.c`.
#[test]
fn lstm_computes_tensorflows_lstm_cell() {
    check_against_tensorflow("tf1_dynamic_rnn", |g, x, lengths| {
        let rnn = Lstm::new(5).apply(g, x, lengths)?;
        let [c, h] = rnn.state[..] else { panic!("an LSTM's state is (c, h)") };
        Ok([("outputs", rnn.outputs), ("h", h), ("c", c)].into())
    });
}

/// `tf1_gru_cell/make.py`: `dynamic_rnn(GRUCell(5), x,
/// sequence_length=lengths)`, outputs `outputs` and `state`.
#[test]
fn gru_computes_tensorflows_gru_cell() {
    check_against_tensorflow("tf1_gru_cell", |g, x, lengths| {
        let rnn = Gru::new(5).apply(g, x, lengths)?;
        Ok([("outputs", rnn.outputs), ("state", rnn.last().unwrap())].into())
    });
}

/// `tf1_bidirectional_lstm/make.py`: `bidirectional_dynamic_rnn(LSTMCell(4),
/// LSTMCell(4), x, sequence_length=lengths)`, outputs the two outputs
/// concatenated and each direction's final `h`.
#[test]
fn bidirectional_lstm_computes_tensorflows_bidirectional_dynamic_rnn() {
    check_against_tensorflow("tf1_bidirectional_lstm", |g, x, lengths| {
        let birnn = Bidirectional::new(Lstm::new(4)).apply(g, x, lengths)?;
        let (h_fw, h_bw) = (birnn.forward.last().unwrap(), birnn.backward.last().unwrap());
        Ok([("outputs", birnn.outputs), ("h_fw", h_fw), ("h_bw", h_bw)].into())
    });
}

/// The TensorFlow export itself, imported: both loops fused, and the fused
/// and general loops give TensorFlow's outputs.
#[test]
fn tensorflows_bidirectional_lstm_runs_fused_in_the_predictor() {
    let version = fixture("tf1_bidirectional_lstm").join("1700000000");
    let fused = Predictor::from_saved_model(&version).unwrap();
    let general = Predictor::load(&version, &LoadOptions { fused_cells: false, ..Default::default() }).unwrap();
    assert_eq!((fused.fused_loops(), general.fused_loops()), (2, 0));
    for (c, case) in expected("tf1_bidirectional_lstm")["cases"].as_array().unwrap().iter().enumerate() {
        let inputs = case_inputs(case);
        for (how, p) in [("fused", &fused), ("general", &general)] {
            let outputs = p.predict(&inputs).unwrap();
            for (key, want) in case["outputs"].as_object().unwrap() {
                let want = tensor_from_json(want, DataType::F32, key).unwrap();
                assert_close(&outputs[key.as_str()], &want, &format!("{how} case {c} output {key}"));
            }
        }
    }
}

/// Which recurrent layer the model below uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layer {
    Lstm,
    Gru,
    BidirectionalLstm,
}

/// Weights away from their defaults (zero biases), so that every part of
/// the cell matters.
fn seeded() -> Initializer {
    Initializer::Uniform { min: -0.5, max: 0.5 }
}

/// A recurrent layer of 4 units over features `x` (`[batch, time, 3]`) and
/// `lengths`; predicts its `outputs` and final `h` (`c` too for an LSTM),
/// trained to bring `h` to the labels.
fn rnn_model_fn(
    g: &mut GraphBuilder,
    features: Features<Output>,
    labels: Option<Output>,
    mode: Mode,
    layer: &Layer,
) -> Result<EstimatorSpec> {
    let (x, lengths) = (*features.single_or("x")?, *features.single_or("lengths")?);
    let lstm = || Lstm { bias_initializer: seeded(), ..Lstm::new(4) };
    let predictions: BTreeMap<String, Output> = match layer {
        Layer::Lstm => {
            let rnn = lstm().apply(g, x, lengths)?;
            [("outputs".to_owned(), rnn.outputs), ("c".to_owned(), rnn.state[0]), ("h".to_owned(), rnn.state[1])].into()
        }
        Layer::Gru => {
            let rnn = Gru::new(4).apply(g, x, lengths)?;
            [("outputs".to_owned(), rnn.outputs), ("h".to_owned(), rnn.state[0])].into()
        }
        Layer::BidirectionalLstm => {
            let birnn = Bidirectional::new(lstm()).apply(g, x, lengths)?;
            let h = g.add(birnn.forward.state[1], birnn.backward.state[1])?;
            [("outputs".to_owned(), birnn.outputs), ("h".to_owned(), h)].into()
        }
    };
    if mode == Mode::Predict {
        return Ok(EstimatorSpec::predict(predictions));
    }
    let labels = labels.ok_or(Error::ModelFn { mode, reason: "labels are required".into() })?;
    let diff = g.sub(predictions["h"], labels)?;
    let loss = losses::l2_loss(g, diff)?;
    Ok(match mode {
        Mode::Eval => EstimatorSpec::eval(loss),
        _ => EstimatorSpec::train(loss, Adam::new(0.05).minimize(loss)),
    })
}

/// Sequences of 3 features padded to 6 steps, lengths 6, 3, 1 and 0; the
/// padding junk that must not matter.
fn sequences() -> Vec<(Tensor, i32)> {
    [6, 3, 1, 0]
        .into_iter()
        .enumerate()
        .map(|(b, n)| {
            let x = (0..18)
                .map(|k| {
                    let v = ((k * 37 + b * 101) % 23) as f32 / 11.0 - 1.0;
                    if k / 3 < n { v } else { 50.0 + v }
                })
                .collect();
            (Tensor::from_vec(vec![6, 3], x).unwrap(), n as i32)
        })
        .collect()
}

fn example((x, n): (Tensor, i32), label: Option<Tensor>) -> Example {
    Example::from_features(
        Features::Map([("x".to_owned(), x), ("lengths".to_owned(), Tensor::scalar(n))].into()),
        label,
    )
}

/// Receives `x: f32[?, ?, 3]` and `lengths: i32[?]`.
fn receiver(g: &mut GraphBuilder) -> Result<ServingInputReceiver> {
    let x = g.placeholder("x", DataType::F32, Shape(vec![None, None, Some(3)]))?;
    let lengths = g.placeholder("lengths", DataType::I32, Shape(vec![None]))?;
    let tensors: BTreeMap<String, Output> = [("x".to_owned(), x), ("lengths".to_owned(), lengths)].into();
    Ok(ServingInputReceiver::new(Features::Map(tensors.clone()), tensors))
}

/// Trains the model over `layer` two steps, exports it, and checks that
/// the predictor fuses its `loops` loops and that, fused or not, it
/// predicts what the estimator predicts (the naive path).
fn check_export(layer: Layer, loops: usize) {
    let dir = tempfile::tempdir().unwrap();
    let model_fn: ModelFnPointer<Layer> = rnn_model_fn;
    let estimator = Estimator::new(model_fn, dir.path().join("model"), layer).unwrap();
    let train = || {
        let label = Tensor::from_vec(vec![4], vec![0.5f32, -0.25, 0.1, 0.0]).unwrap();
        Dataset::from_vec(sequences().into_iter().map(|s| example(s, Some(label.clone()))).collect()).batch(4)
    };
    estimator.train(train, Steps::Max(2)).unwrap();
    let naive: Vec<BTreeMap<String, Tensor>> = estimator
        .predict(|| Dataset::from_vec(sequences().into_iter().map(|s| example(s, None)).collect()).batch(4))
        .unwrap()
        .collect::<Result<_>>()
        .unwrap();
    assert_eq!(naive.len(), 4, "{layer:?}: one prediction per sequence");

    let version = estimator.export_saved_model(dir.path().join("saved_model"), receiver).unwrap();
    let fused = Predictor::from_saved_model(&version).unwrap();
    let general = Predictor::load(&version, &LoadOptions { fused_cells: false, ..Default::default() }).unwrap();
    let in_memory = estimator_rs::from_estimator(&estimator, receiver).unwrap();
    assert_eq!((fused.fused_loops(), in_memory.fused_loops(), general.fused_loops()), (loops, loops, 0), "{layer:?}");

    let (xs, ns): (Vec<Tensor>, Vec<i32>) = sequences().into_iter().unzip();
    let inputs = [("x", Tensor::stack(&xs).unwrap()), ("lengths", Tensor::from_vec(vec![4], ns).unwrap())];
    for (how, p) in [("fused", &fused), ("in memory", &in_memory), ("general", &general)] {
        let outputs = p.predict(&inputs).unwrap();
        for (b, row) in naive.iter().enumerate() {
            assert_eq!(row.len(), p.signature().outputs.len());
            for (key, want) in row {
                let got = outputs[key.as_str()].row(b).unwrap();
                assert_close(&got, want, &format!("{layer:?} {how} row {b} output {key}"));
            }
        }
    }
}

#[test]
fn an_exported_lstm_runs_fused_in_the_predictor() {
    check_export(Layer::Lstm, 1);
}

#[test]
fn an_exported_gru_runs_fused_in_the_predictor() {
    check_export(Layer::Gru, 1);
}

#[test]
fn an_exported_bidirectional_lstm_runs_fused_in_the_predictor() {
    check_export(Layer::BidirectionalLstm, 2);
}
