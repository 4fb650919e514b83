//! The MLP 784-512-512-10 (same seeded weights) run by tract-onnx, by the
//! predictor, and by hand with ndarray, in one criterion run.
//!
//! ```text
//! cargo bench --manifest-path peers/Cargo.toml
//! ```
//!
//! The ONNX model is built in Rust from the weights through tract's own
//! protobuf types: MatMul, Add, Relu, ..., Softmax, with a fixed batch so
//! that tract optimizes for it, and run through a reused `SimpleState`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use estimator_rs::mlp::{by_hand, by_hand_layers, mlp, mlp_input, write_mlp};
use predictor::Predictor;
use tract_linalg::multithread::{multithread_tract_scope, Executor};
use tract_onnx::pb;
use tract_onnx::prelude::*;

const SIZES: [usize; 4] = [784, 512, 512, 10];

fn value_info(name: &str, dims: &[usize]) -> pb::ValueInfoProto {
    let dim = dims
        .iter()
        .map(|&d| pb::tensor_shape_proto::Dimension {
            value: Some(pb::tensor_shape_proto::dimension::Value::DimValue(d as i64)),
            ..Default::default()
        })
        .collect();
    let tensor = pb::type_proto::Tensor { elem_type: 1, shape: Some(pb::TensorShapeProto { dim }) };
    pb::ValueInfoProto {
        name: name.into(),
        r#type: Some(pb::TypeProto { value: Some(pb::type_proto::Value::TensorType(tensor)), ..Default::default() }),
        ..Default::default()
    }
}

fn node(op: &str, inputs: &[&str], output: &str) -> pb::NodeProto {
    pb::NodeProto {
        op_type: op.into(),
        input: inputs.iter().map(|s| (*s).to_owned()).collect(),
        output: vec![output.into()],
        name: output.into(),
        ..Default::default()
    }
}

/// The MLP as an ONNX model for a fixed batch, optimized and made runnable by tract.
fn tract_plan(batch: usize) -> std::sync::Arc<TypedRunnableModel> {
    let (_, weights) = mlp(&SIZES, 1);
    let initializer = weights
        .iter()
        .map(|(name, t)| pb::TensorProto {
            name: name.clone(),
            dims: t.shape().iter().map(|&d| d as i64).collect(),
            data_type: 1,
            float_data: t.as_slice::<f32>().unwrap().to_vec(),
            ..Default::default()
        })
        .collect();
    let mut nodes = Vec::new();
    let mut last = "x".to_owned();
    for l in 0..SIZES.len() - 1 {
        let (w, b) = (format!("dense_{l}/kernel"), format!("dense_{l}/bias"));
        let (mm, add) = (format!("mm{l}"), format!("add{l}"));
        nodes.push(node("MatMul", &[&last, &w], &mm));
        nodes.push(node("Add", &[&mm, &b], &add));
        let out = if l + 2 == SIZES.len() { "probs".to_owned() } else { format!("relu{l}") };
        nodes.push(node(if l + 2 == SIZES.len() { "Softmax" } else { "Relu" }, &[&add], &out));
        last = out;
    }
    let graph = pb::GraphProto {
        node: nodes,
        name: "mlp".into(),
        initializer,
        input: vec![value_info("x", &[batch, SIZES[0]])],
        output: vec![value_info("probs", &[batch, SIZES[3]])],
        ..Default::default()
    };
    let model = pb::ModelProto {
        ir_version: 8,
        opset_import: vec![pb::OperatorSetIdProto { domain: String::new(), version: 13 }],
        graph: Some(graph),
        ..Default::default()
    };
    tract_onnx::onnx().model_for_proto_model(&model).unwrap().into_optimized().unwrap().into_runnable().unwrap()
}

fn peers_mlp(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let version = write_mlp(dir.path(), &SIZES, 1).unwrap();
    let predict_fn = Predictor::from_saved_model(&version).unwrap();
    let two_threads = predictor::LoadOptions { threads: 2, ..Default::default() };
    let predict_fn_2 = Predictor::load(&version, &two_threads).unwrap();
    let tract_two_threads = Executor::multithread(2);
    let layers = by_hand_layers(&SIZES, 1);
    let mut group = c.benchmark_group("peers_mlp");
    for batch in [1usize, 8, 32, 256] {
        group.throughput(Throughput::Elements(batch as u64));
        let x = mlp_input(batch, SIZES[0]);
        let array: ndarray::Array2<f32> = x.clone().into_array::<f32>().unwrap().into_dimensionality().unwrap();

        let plan = tract_plan(batch);
        let mut state = tract_onnx::tract_core::plan::SimpleState::new(&plan).unwrap();
        let input: TValue = tract_ndarray::Array2::from_shape_vec((batch, SIZES[0]), array.iter().copied().collect::<Vec<f32>>())
            .unwrap()
            .into_tensor()
            .into_tvalue();
        // Same answers first.
        let ours = predict_fn.predict(&[("x", x.clone())]).unwrap();
        let theirs = state.run(tvec!(input.clone())).unwrap();
        let theirs = theirs[0].to_plain_array_view::<f32>().unwrap();
        for (a, b) in ours["probs"].as_slice::<f32>().unwrap().iter().zip(theirs.iter()) {
            assert!((a - b).abs() < 1e-5, "predictor {a}, tract {b}");
        }

        group.bench_with_input(BenchmarkId::new("tract 0.23 (reused SimpleState)", batch), &batch, |bench, _| {
            bench.iter(|| black_box(state.run(tvec!(input.clone())).unwrap()))
        });
        group.bench_with_input(BenchmarkId::new("tract 0.23, 2 threads", batch), &batch, |bench, _| {
            bench.iter(|| {
                multithread_tract_scope(tract_two_threads.clone(), || black_box(state.run(tvec!(input.clone())).unwrap()))
            })
        });
        let inputs = [("x", x)];
        let mut outputs = predict_fn.new_outputs();
        group.bench_with_input(BenchmarkId::new("predictor", batch), &batch, |bench, _| {
            bench.iter(|| predict_fn.predict_into(black_box(&inputs), &mut outputs).unwrap())
        });
        let mut outputs = predict_fn_2.new_outputs();
        group.bench_with_input(BenchmarkId::new("predictor, 2 threads", batch), &batch, |bench, _| {
            bench.iter(|| predict_fn_2.predict_into(black_box(&inputs), &mut outputs).unwrap())
        });
        group.bench_with_input(BenchmarkId::new("ndarray by hand", batch), &batch, |bench, _| {
            bench.iter(|| black_box(by_hand(black_box(&array), &layers)))
        });
    }
    group.finish();
}

criterion_group!(benches, peers_mlp);
criterion_main!(benches);
