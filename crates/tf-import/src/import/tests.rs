//! The importer on small graphs written here: each op typed as it is
//! emitted, shapes folded from those types, and a node that does not type
//! refused with its TensorFlow name.

use std::collections::BTreeMap;

use opset::{Attr, Shape};

use super::*;

/// TensorFlow's `DT_FLOAT` and `DT_INT64`.
const F32: i32 = 1;
const I64: i32 = 9;

fn node(name: &str, op: &str, inputs: &[&str], attrs: Vec<(&str, AttrV)>) -> pb::NodeDef {
    pb::NodeDef {
        name: name.into(),
        op: op.into(),
        input: inputs.iter().map(|&i| i.to_owned()).collect(),
        attr: attrs.into_iter().map(|(k, v)| (k.to_owned(), pb::AttrValue { value: Some(v) })).collect(),
        ..Default::default()
    }
}

/// A shape, -1 for an unknown dim.
fn shape(dims: &[i64]) -> pb::TensorShapeProto {
    let dim = dims.iter().map(|&size| pb::tensor_shape_proto::Dim { size, name: String::new() }).collect();
    pb::TensorShapeProto { dim, unknown_rank: false }
}

/// Placeholder `x` of f32 `dims`.
fn input(dims: &[i64]) -> pb::NodeDef {
    node("x", "Placeholder", &[], vec![("dtype", AttrV::Type(F32)), ("shape", AttrV::Shape(shape(dims)))])
}

/// A constant vector of i64.
fn ints(name: &str, values: &[i64]) -> pb::NodeDef {
    let len = i64::try_from(values.len()).unwrap();
    let value = pb::TensorProto {
        dtype: I64,
        tensor_shape: Some(shape(&[len])),
        int64_val: values.to_vec(),
        ..Default::default()
    };
    node(name, "Const", &[], vec![("dtype", AttrV::Type(I64)), ("value", AttrV::Tensor(value))])
}

/// Imports `nodes` with the signature `x` -> `y`.
fn import(nodes: Vec<pb::NodeDef>) -> Result<MetaGraph> {
    let info = |name: &str| pb::TensorInfo { name: name.into(), dtype: F32, tensor_shape: None };
    let signature = pb::SignatureDef {
        inputs: BTreeMap::from([("x".to_owned(), info("x:0"))]),
        outputs: BTreeMap::from([("y".to_owned(), info("y:0"))]),
        method_name: String::new(),
    };
    let meta = pb::MetaGraphDef {
        signature_def: BTreeMap::from([("serving_default".to_owned(), signature)]),
        ..Default::default()
    };
    let graph = pb::GraphDef { node: nodes, library: None };
    let bundle = TfBundle::empty();
    Ok(Importer::new(&graph, &bundle, std::path::PathBuf::new()).import(&meta)?.0)
}

#[test]
fn shapes_fold_from_the_types_of_the_emitted_tensors() {
    // y = reshape(x, shape(x)): the target shape folds, the batch dim becoming -1.
    let meta = import(vec![
        input(&[-1, 2, 3]),
        node("s", "Shape", &["x"], vec![("out_type", AttrV::Type(I64))]),
        node("y", "Reshape", &["x", "s"], vec![]),
    ])
    .unwrap();
    let ops: Vec<&str> = meta.graph.nodes.iter().map(|n| n.op.as_str()).collect();
    assert_eq!(ops, ["Placeholder", "Reshape"]);
    assert_eq!(meta.graph.nodes[1].attrs["shape"], Attr::Ints(vec![-1, 2, 3]));
    // The signature's output shape is the one the graph infers.
    assert_eq!(meta.signatures["serving_default"].outputs["y"].shape, Shape(vec![None, Some(2), Some(3)]));
}

#[test]
fn a_node_its_output_rule_refuses_is_named() {
    // f32 + i64.
    let err = import(vec![input(&[2]), ints("c", &[1, 2]), node("y", "AddV2", &["x", "c"], vec![])]).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("\"y\" (AddV2)") && text.contains("input 1 is i64, input 0 is f32"), "{text}");
}

#[test]
fn window_attributes_are_checked() {
    let pool = |strides: Vec<i64>| {
        let list = pb::attr_value::ListValue { i: strides, ..Default::default() };
        let ksize = pb::attr_value::ListValue { i: vec![1, 2, 2, 1], ..Default::default() };
        let attrs = vec![
            ("ksize", AttrV::List(ksize)),
            ("strides", AttrV::List(list)),
            ("padding", AttrV::S(b"SAME".to_vec())),
        ];
        import(vec![input(&[1, 4, 4, 1]), node("y", "MaxPool", &["x"], attrs)])
    };
    let meta = pool(vec![1, 2, 2, 1]).unwrap();
    assert_eq!(meta.signatures["serving_default"].outputs["y"].shape, Shape(vec![Some(1), Some(2), Some(2), Some(1)]));
    let err = pool(vec![1, 0, 2, 1]).unwrap_err().to_string();
    assert!(err.contains("strides [0, 2]: expected sizes in 1..=65536"), "{err}");
    let err = pool(vec![2, 2]).unwrap_err().to_string();
    assert!(err.contains("strides [2, 2]: expected [1, height, width, 1]"), "{err}");
}
