//! The importer on small graphs written here: each op typed as it is
//! emitted, shapes folded from those types, and a node that does not type
//! refused with its TensorFlow name.

use std::collections::BTreeMap;

use opset::{Attr, Shape, Tensor};

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

/// A scalar constant of i64 (`DT_INT64`) or f32, read in frame `after`'s
/// body when given (a control input from its pivot, as TensorFlow puts
/// constants into a loop).
fn scalar(name: &str, int: Option<i64>, float: Option<f32>, after: Option<&str>) -> pb::NodeDef {
    let (dtype, int64_val, float_val) = match (int, float) {
        (Some(v), _) => (I64, vec![v], vec![]),
        (_, v) => (F32, vec![], v.into_iter().collect()),
    };
    let value = pb::TensorProto { dtype, tensor_shape: Some(shape(&[])), int64_val, float_val, ..Default::default() };
    let control = after.map(|a| format!("^{a}"));
    let inputs: Vec<&str> = control.iter().map(String::as_str).collect();
    node(name, "Const", &inputs, vec![("dtype", AttrV::Type(dtype)), ("value", AttrV::Tensor(value))])
}

/// `Enter(input)` into frame `frame`, loop-invariant when `constant`.
fn enter(name: &str, input: &str, frame: &str, constant: bool) -> pb::NodeDef {
    let attrs = vec![("frame_name", AttrV::S(frame.as_bytes().to_vec())), ("is_constant", AttrV::B(constant))];
    node(name, "Enter", &[input], attrs)
}

/// The nodes of loop variable `k` (`Merge_k`, `Switch_k`, `Identity_k`,
/// `NextIteration_k`, `Exit_k` under `p/`) of the frame `p` decided by
/// `p/LoopCond`: its initial value enters from `initial`, its next value is
/// `next`.
fn loop_var(p: &str, k: &str, initial: &str, next: &str) -> Vec<pb::NodeDef> {
    let n = |what: &str| format!("{p}/{what}{k}");
    vec![
        enter(&n("Enter"), initial, p, false),
        node(&n("Merge"), "Merge", &[&n("Enter"), &n("NextIteration")], vec![]),
        node(&n("Switch"), "Switch", &[&n("Merge"), &format!("{p}/LoopCond")], vec![]),
        node(&n("Identity"), "Identity", &[&format!("{}:1", n("Switch"))], vec![]),
        node(&n("NextIteration"), "NextIteration", &[next], vec![]),
        node(&n("Exit"), "Exit", &[&n("Switch")], vec![]),
    ]
}

/// `x` doubled 3 times by a TF1 while loop: `i, acc = 0, x; while i < 3:
/// i, acc = i + 1, acc * 2`; `y` is `acc`'s Exit.
fn doubling_loop() -> Vec<pb::NodeDef> {
    let mut nodes = vec![
        input(&[]),
        scalar("zero", Some(0), None, None),
        scalar("three", Some(3), None, None),
        enter("w/Less/Enter", "three", "w", true),
        node("w/Less", "Less", &["w/Merge", "w/Less/Enter"], vec![]),
        node("w/LoopCond", "LoopCond", &["w/Less"], vec![]),
        scalar("w/one", Some(1), None, Some("w/Identity")),
        node("w/add", "AddV2", &["w/Identity", "w/one"], vec![]),
        scalar("w/two", None, Some(2.0), Some("w/Identity")),
        node("w/mul", "Mul", &["w/Identity_1", "w/two"], vec![]),
        node("y", "Identity", &["w/Exit_1"], vec![]),
    ];
    nodes.extend(loop_var("w", "", "zero", "w/add"));
    nodes.extend(loop_var("w", "_1", "x", "w/mul"));
    nodes
}

/// An f32 tensor of `shape`.
fn matrix(shape: &[usize], values: &[f32]) -> Tensor {
    Tensor::from_vec(shape.to_vec(), values.to_vec()).unwrap()
}

/// Runs `meta`'s signature on `x`.
fn run(meta: &MetaGraph, x: impl Into<Tensor>) -> Tensor {
    let graph = opset::TypedGraph::new(&meta.graph, &opset::Assets::new()).unwrap();
    let signature = &meta.signatures["serving_default"];
    let (x_node, y) =
        (graph.resolve(&signature.inputs["x"].name).unwrap(), graph.resolve(&signature.outputs["y"].name));
    let y = y.unwrap();
    let mut values = vec![None; graph.nodes().len()];
    values[x_node] = Some(x.into());
    graph.evaluate(&[y], &mut values).unwrap();
    values[y].take().unwrap()
}

#[test]
fn a_tf1_loop_frame_becomes_a_while() {
    let meta = import(doubling_loop()).unwrap();
    let whiles: Vec<&Node> = meta.graph.nodes.iter().filter(|n| n.op == "While").collect();
    // One While for the Exit used, over both loop variables and the invariant bound.
    assert_eq!(whiles.len(), 1);
    assert_eq!(whiles[0].name, "w/Exit_1");
    assert_eq!(whiles[0].inputs.len(), 3);
    assert_eq!(run(&meta, Tensor::scalar(1.5f32)), Tensor::scalar(12.0f32));
}

#[test]
fn nested_tf1_frames_nest_whiles() {
    // j, acc = 0, x; while j < 2: (i, acc = 0, acc; while i < 3: i, acc = i + 1, acc + x); j += 1
    let mut nodes = vec![
        input(&[]),
        scalar("zero", Some(0), None, None),
        scalar("two", Some(2), None, None),
        scalar("three", Some(3), None, None),
        enter("o/Less/Enter", "two", "o", true),
        enter("o/x", "x", "o", true),
        enter("o/three", "three", "o", true),
        node("o/Less", "Less", &["o/Merge", "o/Less/Enter"], vec![]),
        node("o/LoopCond", "LoopCond", &["o/Less"], vec![]),
        scalar("o/one", Some(1), None, Some("o/Identity")),
        node("o/add", "AddV2", &["o/Identity", "o/one"], vec![]),
        scalar("o/i/zero", Some(0), None, Some("o/Identity")),
        enter("o/i/Less/Enter", "o/three", "o/i", true),
        enter("o/i/x", "o/x", "o/i", true),
        node("o/i/Less", "Less", &["o/i/Merge", "o/i/Less/Enter"], vec![]),
        node("o/i/LoopCond", "LoopCond", &["o/i/Less"], vec![]),
        scalar("o/i/one", Some(1), None, Some("o/i/Identity")),
        node("o/i/add", "AddV2", &["o/i/Identity", "o/i/one"], vec![]),
        node("o/i/acc", "AddV2", &["o/i/Identity_1", "o/i/x"], vec![]),
        node("y", "Identity", &["o/Exit_1"], vec![]),
    ];
    nodes.extend(loop_var("o", "", "zero", "o/add"));
    nodes.extend(loop_var("o", "_1", "x", "o/i/Exit_1"));
    nodes.extend(loop_var("o/i", "", "o/i/zero", "o/i/add"));
    nodes.extend(loop_var("o/i", "_1", "o/Identity_1", "o/i/acc"));
    let meta = import(nodes).unwrap();
    let outer: Vec<&Node> = meta.graph.nodes.iter().filter(|n| n.op == "While").collect();
    assert_eq!(outer.len(), 1);
    let Attr::Graph(body) = &outer[0].attrs["body"] else { panic!("no body") };
    assert_eq!(body.nodes.iter().filter(|n| n.op == "While").count(), 1);
    assert_eq!(run(&meta, Tensor::scalar(1.5f32)), Tensor::scalar(10.5f32));
}

#[test]
fn a_malformed_tf1_frame_is_refused_naming_the_node() {
    let refused = |edit: &dyn Fn(&mut Vec<pb::NodeDef>)| {
        let mut nodes = doubling_loop();
        edit(&mut nodes);
        import(nodes).unwrap_err().to_string()
    };
    let find = |nodes: &mut Vec<pb::NodeDef>, name: &str| nodes.iter().position(|n| n.name == name).unwrap();
    // A Merge whose NextIteration is missing.
    let err = refused(&|nodes| {
        let at = find(nodes, "w/Merge_1");
        nodes[at].input.truncate(1);
    });
    assert!(err.contains("\"w/Merge_1\" (Merge)") && err.contains("joins an Enter and a NextIteration"), "{err}");
    // A Merge without an Enter.
    let err = refused(&|nodes| {
        let at = find(nodes, "w/Merge");
        nodes[at].input[0] = "zero".into();
    });
    assert!(err.contains("\"w/Merge\" (Merge)") && err.contains("Const, NextIteration"), "{err}");
    // A Switch that no LoopCond decides.
    let err = refused(&|nodes| {
        let at = find(nodes, "w/Switch_1");
        nodes[at].input[1] = "w/Less".into();
    });
    assert!(err.contains("\"w/Switch_1\" (Switch)") && err.contains("decided by a LoopCond"), "{err}");
    // An Enter without a frame.
    let err = refused(&|nodes| {
        let at = find(nodes, "w/Enter_1");
        nodes[at].attr.remove("frame_name");
    });
    assert!(err.contains("\"w/Enter_1\" (Enter)") && err.contains("without a frame_name"), "{err}");
    // Variables of two frames on one LoopCond.
    let err = refused(&|nodes| {
        let at = find(nodes, "w/Enter");
        nodes[at] = enter("w/Enter", "zero", "elsewhere", false);
    });
    assert!(err.contains("\"w/Merge\" (Merge)") && err.contains("in frame \"elsewhere\""), "{err}");
    // The body reading a loop's Merge from outside it.
    let err = refused(&|nodes| {
        let at = find(nodes, "y");
        nodes[at].input[0] = "w/Merge_1".into();
    });
    assert!(err.contains("\"w/Merge_1\" (Merge)") && err.contains("reached other than through"), "{err}");
    // A NextIteration without an input.
    let err = refused(&|nodes| {
        let at = find(nodes, "w/NextIteration");
        nodes[at].input.clear();
    });
    assert!(err.contains("\"w/NextIteration\" (NextIteration)"), "{err}");
    // A loop that feeds its own Exit back into its body: refused by depth, not a hang.
    let err = refused(&|nodes| {
        let at = find(nodes, "w/add");
        nodes[at].input[0] = "w/Exit".into();
        // (x is not read: only signature inputs are placeholders, and each
        // nested copy of the loop would read it as a placeholder of its own.)
        let at = find(nodes, "w/Enter_1");
        nodes[at].input[0] = "half".into();
        nodes.push(scalar("half", None, Some(0.5), None));
    });
    assert!(err.contains("\"w/LoopCond\" (LoopCond)") && err.contains("nest more than 32 deep"), "{err}");
}

#[test]
fn tf1_select_picks_rows_and_all_and_any_reduce_bools() {
    // y = where(all(x > 0, 1), x, where(any(x < -5, 1), x, -x)), row by row.
    let meta = import(vec![
        input(&[-1, 3]),
        scalar("zero", None, Some(0.0), None),
        scalar("low", None, Some(-5.0), None),
        ints("axis", &[1]),
        node("positive", "Greater", &["x", "zero"], vec![]),
        node("all", "All", &["positive", "axis"], vec![]),
        node("small", "Less", &["x", "low"], vec![]),
        node("any", "Any", &["small", "axis"], vec![]),
        node("neg", "Neg", &["x"], vec![]),
        node("inner", "Select", &["any", "x", "neg"], vec![]),
        node("y", "Select", &["all", "x", "inner"], vec![]),
    ])
    .unwrap();
    let x = matrix(&[3, 3], &[1.0, 2.0, 3.0, 1.0, -2.0, 3.0, -6.0, 1.0, 1.0]);
    let want = matrix(&[3, 3], &[1.0, 2.0, 3.0, -1.0, 2.0, -3.0, -6.0, 1.0, 1.0]);
    assert_eq!(run(&meta, x), want);
}

#[test]
fn tensor_arrays_are_dense_lists_whose_unknown_element_shape_their_uses_give() {
    // ta = TensorArray(f32, size 3) (element shape unknown); ta.unstack(x).gather([2, 0]).
    let unknown = pb::TensorShapeProto { dim: Vec::new(), unknown_rank: true };
    let array_attrs = vec![("dtype", AttrV::Type(F32)), ("element_shape", AttrV::Shape(unknown))];
    let gather_attrs = vec![("dtype", AttrV::Type(F32)), ("element_shape", AttrV::Shape(shape(&[2])))];
    let meta = import(vec![
        input(&[3, 2]),
        ints("size", &[3]),
        node("size/scalar", "Reshape", &["size", "scalar_shape"], vec![]),
        ints("scalar_shape", &[]),
        node("ta", "TensorArrayV3", &["size/scalar"], array_attrs),
        ints("rows", &[0, 1, 2]),
        node("scatter", "TensorArrayScatterV3", &["ta", "rows", "x", "ta:1"], vec![("T", AttrV::Type(F32))]),
        ints("picks", &[2, 0]),
        node("y", "TensorArrayGatherV3", &["ta", "picks", "scatter"], gather_attrs),
    ])
    .unwrap();
    let ops: Vec<&str> = meta.graph.nodes.iter().map(|n| n.op.as_str()).collect();
    assert!(ops.contains(&"ListReserve") && ops.contains(&"ListScatter"), "{ops:?}");
    let x = matrix(&[3, 2], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    assert_eq!(run(&meta, x), matrix(&[2, 2], &[5.0, 6.0, 1.0, 2.0]));
    assert_eq!(meta.signatures["serving_default"].outputs["y"].shape, Shape(vec![Some(2), Some(2)]));

    // A handle that is no TensorArray's is refused by the op reading it.
    let err = import(vec![
        input(&[3, 2]),
        ints("picks", &[2, 0]),
        node("y", "TensorArrayGatherV3", &["x", "picks", "x"], vec![("dtype", AttrV::Type(F32))]),
    ])
    .unwrap_err()
    .to_string();
    assert!(err.contains("\"y\" (TensorArrayGatherV3)") && err.contains("not a TensorArrayV3's"), "{err}");
}
