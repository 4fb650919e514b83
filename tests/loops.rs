//! Loops in our own artifacts: a `While` written, loaded and run by the
//! predictor's compiled loop, equal to the reference kernels; and hostile
//! loops (endless, absurd list sizes) refused with an error, never a hang
//! or an out-of-memory.

use std::path::PathBuf;
use std::sync::Arc;

use export::{MetaGraph, SavedModel, Signature, TensorInfo};
use ndarray::array;
use opset::ops::Op;
use opset::ops::array::{Const, Identity, ListReserve, Placeholder};
use opset::ops::control::{LoopBody, While};
use opset::ops::math::{Add, Less, Mul};
use opset::{Assets, DataType, Graph, Node, Shape, Tensor};
use predictor::Predictor;

fn node(name: &str, op: impl Into<Op>, inputs: &[&str]) -> Node {
    op.into().to_node(name, inputs.iter().map(|&i| i.to_owned()).collect())
}

fn placeholder(name: &str, dtype: DataType, dims: Vec<Option<usize>>) -> Node {
    node(name, Placeholder { dtype, shape: Shape(dims) }, &[])
}

fn constant(name: &str, value: Tensor) -> Node {
    node(name, Const { value }, &[])
}

/// `while i < n: i, acc = i + 1, acc * 2` (or, `endless`, while true).
fn doubling(endless: bool) -> Arc<LoopBody> {
    let mut nodes = vec![
        placeholder("arg_0", DataType::I64, vec![]),
        placeholder("arg_1", DataType::F32, vec![None]),
        placeholder("arg_2", DataType::I64, vec![]),
        constant("one", Tensor::scalar(1i64)),
        constant("two", Tensor::scalar(2.0f32)),
        node("out_0", Add, &["arg_0", "one"]),
        node("out_1", Mul, &["arg_1", "two"]),
        node("out_2", Identity, &["arg_2"]),
    ];
    nodes.push(if endless { constant("cond", Tensor::scalar(true)) } else { node("cond", Less, &["arg_0", "arg_2"]) });
    Arc::new(LoopBody::new(Graph { nodes }, &Assets::new()).unwrap())
}

/// An artifact computing `y = x * 2^n` with the loop, fed `x: f32[?]` and `n: i64`.
fn write(dir: &std::path::Path, body: Arc<LoopBody>, extra: Vec<Node>) -> PathBuf {
    let mut nodes = vec![
        placeholder("x", DataType::F32, vec![None]),
        placeholder("n", DataType::I64, vec![]),
        constant("zero", Tensor::scalar(0i64)),
        node("y", While { body, output: 1, max_iterations: None }, &["zero", "x", "n"]),
    ];
    nodes.extend(extra);
    let info = |name: &str, dtype, dims| TensorInfo { name: name.into(), dtype, shape: Shape(dims) };
    let signature = Signature {
        method_name: export::PREDICT_METHOD.into(),
        inputs: [
            ("x".to_owned(), info("x", DataType::F32, vec![None])),
            ("n".to_owned(), info("n", DataType::I64, vec![])),
        ]
        .into(),
        outputs: [("y".to_owned(), info("y", DataType::F32, vec![None]))].into(),
    };
    let model = SavedModel {
        meta_graphs: vec![MetaGraph {
            tags: vec![export::SERVE_TAG.into()],
            graph: Graph { nodes },
            signatures: [(export::DEFAULT_SIGNATURE.to_owned(), signature)].into(),
            assets: vec![],
        }],
    };
    export::write_artifact(dir, &model, &[], &Assets::new()).unwrap()
}

fn run(p: &Predictor, x: Tensor, n: i64) -> predictor::Result<Vec<f32>> {
    let out = p.predict(&[("x", x), ("n", Tensor::scalar(n))])?;
    Ok(out["y"].as_slice::<f32>().unwrap().to_vec())
}

#[test]
fn a_loop_runs_compiled_as_the_reference_does() {
    let dir = tempfile::tempdir().unwrap();
    let version = write(dir.path(), doubling(false), vec![]);
    let p = Predictor::from_saved_model(&version).unwrap();
    for n in [0, 1, 5] {
        let y = run(&p, Tensor::from(array![1.0f32, -0.5, 3.0]), n).unwrap();
        let scale = 2f32.powi(n as i32);
        assert_eq!(y, vec![scale, -0.5 * scale, 3.0 * scale], "n = {n}");
    }
    // The same loop through the reference kernels of the artifact's graph.
    let artifact = export::Artifact::open(&version).unwrap();
    let graph = artifact.typed_graph(&["serve"]).unwrap();
    let mut values = vec![None; graph.nodes().len()];
    values[graph.resolve("x").unwrap()] = Some(Tensor::from(array![1.5f32]));
    values[graph.resolve("n").unwrap()] = Some(Tensor::scalar(3i64));
    let y = graph.resolve("y").unwrap();
    graph.evaluate(&[y], &mut values).unwrap();
    assert_eq!(
        values[y].as_ref().unwrap().as_slice::<f32>().unwrap(),
        run(&p, Tensor::from(array![1.5f32]), 3).unwrap()
    );
}

#[test]
fn an_endless_loop_is_refused_not_run_forever() {
    let dir = tempfile::tempdir().unwrap();
    let version = write(dir.path(), doubling(true), vec![]);
    let p = Predictor::from_saved_model(&version).unwrap();
    let err = run(&p, Tensor::from(array![1.0f32]), 3).unwrap_err().to_string();
    assert!(err.contains("refused as endless") && err.contains("\"y\""), "{err}");
}

#[test]
fn an_absurd_list_is_refused_before_allocating() {
    // A list of 2^40 rows reserved inside the graph, fed by the caller's n.
    let dir = tempfile::tempdir().unwrap();
    let reserve = ListReserve { element_dtype: DataType::F32, element_shape: Shape(vec![Some(1 << 20)]) };
    let version = write(dir.path(), doubling(false), vec![node("list", reserve, &["n"])]);
    let artifact = export::Artifact::open(&version).unwrap();
    let graph = artifact.typed_graph(&["serve"]).unwrap();
    let mut values = vec![None; graph.nodes().len()];
    values[graph.resolve("n").unwrap()] = Some(Tensor::scalar(1i64 << 40));
    let list = graph.resolve("list").unwrap();
    let err = graph.evaluate(&[list], &mut values).unwrap_err().to_string();
    assert!(err.contains("over the limit"), "{err}");
}
