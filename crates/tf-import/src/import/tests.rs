//! The importer on small graphs written here: each op typed as it is
//! emitted, shapes folded from those types, and a node that does not type
//! refused with its TensorFlow name.

use std::collections::BTreeMap;

use opset::{Attr, Shape, Tensor};

use super::*;

/// TensorFlow's `DT_FLOAT` and `DT_INT64`.
pub(crate) const F32: i32 = 1;
pub(crate) const I64: i32 = 9;

/// A node of `op` reading `inputs`, with `attrs`.
pub(crate) fn node(name: &str, op: &str, inputs: &[&str], attrs: Vec<(&str, AttrV)>) -> pb::NodeDef {
    pb::NodeDef {
        name: name.into(),
        op: op.into(),
        input: inputs.iter().map(|&i| i.to_owned()).collect(),
        attr: attrs.into_iter().map(|(k, v)| (k.to_owned(), pb::AttrValue { value: Some(v) })).collect(),
        ..Default::default()
    }
}

/// A shape, -1 for an unknown dim.
pub(crate) fn shape(dims: &[i64]) -> pb::TensorShapeProto {
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
    import_with(nodes, Vec::new(), &["x"], &["y"])
}

/// Imports `nodes` and the function `library` with the signature whose
/// inputs and outputs are the nodes named `inputs` and `outputs` (each
/// keyed by its name).
fn import_with(
    nodes: Vec<pb::NodeDef>,
    library: Vec<pb::FunctionDef>,
    inputs: &[&str],
    outputs: &[&str],
) -> Result<MetaGraph> {
    let info = |name: &str| pb::TensorInfo { name: format!("{name}:0"), dtype: F32, tensor_shape: None };
    let infos = |names: &[&str]| names.iter().map(|&n| (n.to_owned(), info(n))).collect();
    let signature = pb::SignatureDef { inputs: infos(inputs), outputs: infos(outputs), method_name: String::new() };
    let meta = pb::MetaGraphDef {
        signature_def: BTreeMap::from([("serving_default".to_owned(), signature)]),
        ..Default::default()
    };
    let library = (!library.is_empty()).then_some(pb::FunctionDefLibrary { function: library });
    let graph = pb::GraphDef { node: nodes, library };
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

/// TensorFlow's `DT_BOOL`.
const BOOL: i32 = 10;

/// Placeholder `name` of `dtype` and `dims`.
fn placeholder(name: &str, dtype: i32, dims: &[i64]) -> pb::NodeDef {
    node(name, "Placeholder", &[], vec![("dtype", AttrV::Type(dtype)), ("shape", AttrV::Shape(shape(dims)))])
}

/// A list of dtypes, as an attribute.
fn types(list: &[i32]) -> AttrV {
    AttrV::List(pb::attr_value::ListValue { r#type: list.to_vec(), ..Default::default() })
}

/// A function of the library: arguments `args` (name, dtype), outputs
/// `outs` (name, the reference it returns) of f32, body `nodes`.
fn function(name: &str, args: &[(&str, i32)], outs: &[(&str, &str)], nodes: Vec<pb::NodeDef>) -> pb::FunctionDef {
    let arg = |name: &str, dtype: i32| pb::op_def::ArgDef { name: name.into(), r#type: dtype };
    pb::FunctionDef {
        signature: Some(pb::OpDef {
            name: name.into(),
            input_arg: args.iter().map(|&(n, t)| arg(n, t)).collect(),
            output_arg: outs.iter().map(|&(n, _)| arg(n, F32)).collect(),
        }),
        node_def: nodes,
        ret: outs.iter().map(|&(n, r)| (n.to_owned(), r.to_owned())).collect(),
    }
}

/// A function attribute naming `name`.
fn func(name: &str) -> AttrV {
    AttrV::Func(pb::NameAttrList { name: name.into(), ..Default::default() })
}

/// Runs `meta`'s signature on `inputs`, giving output `output`.
fn run_with(meta: &MetaGraph, inputs: Vec<(&str, Tensor)>, output: &str) -> opset::Result<Tensor> {
    let graph = opset::TypedGraph::new(&meta.graph, &opset::Assets::new())?;
    let signature = &meta.signatures["serving_default"];
    let mut values = vec![None; graph.nodes().len()];
    for (key, value) in inputs {
        values[graph.resolve(&signature.inputs[key].name)?] = Some(value);
    }
    let y = graph.resolve(&signature.outputs[output].name)?;
    graph.evaluate(&[y], &mut values)?;
    Ok(values[y].take().unwrap())
}

/// `(x + x, x[i])` and `(-x, sum(x))` as a TF2 conditional's branches over
/// `x: f32[?]` and `i: i64[]`.
fn branch_library() -> Vec<pb::FunctionDef> {
    let args = [("x", F32), ("i", I64)];
    let then = function(
        "then",
        &args,
        &[("twice", "add:z:0"), ("picked", "pick:output:0")],
        vec![
            node("add", "AddV2", &["x", "x"], vec![]),
            ints("axis", &[0]),
            node("pick", "GatherV2", &["x", "i", "axis:output:0"], vec![]),
        ],
    );
    let otherwise = function(
        "else",
        &args,
        &[("negated", "neg:y:0"), ("sum", "sum:output:0")],
        vec![
            node("neg", "Neg", &["x"], vec![]),
            ints("axis", &[0]),
            node("sum", "Sum", &["x", "axis:output:0"], vec![]),
        ],
    );
    vec![then, otherwise]
}

/// A TF2 conditional `op` on condition `cond` over `x` and `i`, its two
/// outputs as `y` and `z`.
fn tf2_cond(op: &str, cond: &str, tcond: i32) -> Vec<pb::NodeDef> {
    let attrs = vec![
        ("then_branch", func("then")),
        ("else_branch", func("else")),
        ("Tcond", AttrV::Type(tcond)),
        ("Tin", types(&[F32, I64])),
        ("Tout", types(&[F32, F32])),
    ];
    vec![
        input(&[-1]),
        placeholder("i", I64, &[]),
        placeholder("flag", BOOL, &[]),
        node("cond", op, &[cond, "x", "i"], attrs),
        node("y", "Identity", &["cond"], vec![]),
        node("z", "Identity", &["cond:1"], vec![]),
    ]
}

#[test]
fn a_tf2_if_runs_the_branch_its_condition_picks_and_shares_its_branches() {
    let meta = import_with(tf2_cond("If", "flag", BOOL), branch_library(), &["x", "i", "flag"], &["y", "z"]).unwrap();
    let ifs: Vec<&Node> = meta.graph.nodes.iter().filter(|n| n.op == "If").collect();
    // One of our If per output used, over the same branches.
    assert_eq!(ifs.len(), 2);
    assert_eq!((&ifs[0].attrs["then"], &ifs[0].attrs["else"]), (&ifs[1].attrs["then"], &ifs[1].attrs["else"]));
    let outputs: Vec<i64> = ifs.iter().map(|n| if let Attr::Int(k) = n.attrs["output"] { k } else { -1 }).collect();
    assert!(outputs.contains(&0) && outputs.contains(&1), "{outputs:?}");
    let x = || matrix(&[3], &[1.0, 2.0, 3.0]);
    let run = |flag: bool, i: i64, output: &str| {
        run_with(&meta, vec![("x", x()), ("i", Tensor::scalar(i)), ("flag", Tensor::scalar(flag))], output)
    };
    assert_eq!(run(true, 2, "y").unwrap(), matrix(&[3], &[2.0, 4.0, 6.0]));
    assert_eq!(run(true, 2, "z").unwrap(), Tensor::scalar(3.0f32));
    assert_eq!(run(false, 2, "y").unwrap(), matrix(&[3], &[-1.0, -2.0, -3.0]));
    // The then branch's gather is out of range: not taken, it never runs.
    assert_eq!(run(false, 7, "z").unwrap(), Tensor::scalar(6.0f32));
    let err = run(true, 7, "z").unwrap_err().to_string();
    assert!(err.contains("out of range"), "{err}");
}

#[test]
fn a_stateless_if_on_a_number_takes_it_as_nonzero() {
    let meta = import_with(tf2_cond("StatelessIf", "i", I64), branch_library(), &["x", "i"], &["y"]).unwrap();
    let run = |i: i64| run_with(&meta, vec![("x", matrix(&[2], &[1.0, -2.0])), ("i", Tensor::scalar(i))], "y");
    assert_eq!(run(0).unwrap(), matrix(&[2], &[-1.0, 2.0]));
    assert_eq!(run(1).unwrap(), matrix(&[2], &[2.0, -4.0]));
}

#[test]
fn a_tf2_if_whose_branches_do_not_fit_is_refused_naming_it() {
    // The else branch takes one argument.
    let mut library = branch_library();
    library[1].signature.as_mut().unwrap().input_arg.pop();
    let err = import_with(tf2_cond("If", "flag", BOOL), library, &["x", "i", "flag"], &["y"]).unwrap_err();
    let err = err.to_string();
    assert!(err.contains("\"cond\" (If)") && err.contains("takes 1 arguments, the node passes 2"), "{err}");
    // The then branch's second result is a vector, the else branch's a scalar.
    let mut library = branch_library();
    library[0].ret.insert("picked".into(), "add:z:0".into());
    let err = import_with(tf2_cond("If", "flag", BOOL), library, &["x", "i", "flag"], &["y"]).unwrap_err();
    let err = err.to_string();
    assert!(err.contains("\"cond\" (If)") && err.contains("out_1 is f32 [?] in the then branch"), "{err}");
    // An output past Tout.
    let mut nodes = tf2_cond("If", "flag", BOOL);
    nodes[5].input[0] = "cond:2".into();
    let err = import_with(nodes, branch_library(), &["x", "i", "flag"], &["z"]).unwrap_err().to_string();
    assert!(err.contains("output 2 of a conditional with 2 output(s)"), "{err}");
}

/// A TF1 `tf.cond(p, ...)` (control flow v1) under `c/`: its pivot
/// `Switch(p, p)`, the `pred_id`, and per value a branch reads, a
/// `Switch(value, pred_id)`.
fn tf1_pivot(c: &str, p: &str) -> Vec<pb::NodeDef> {
    vec![
        node(&format!("{c}/Switch"), "Switch", &[p, p], vec![]),
        node(&format!("{c}/switch_t"), "Identity", &[&format!("{c}/Switch:1")], vec![]),
        node(&format!("{c}/switch_f"), "Identity", &[&format!("{c}/Switch")], vec![]),
        node(&format!("{c}/pred_id"), "Identity", &[p], vec![]),
    ]
}

/// `y = p ? (q ? 2 (x + 1) : 0 (x + 1)) : -x` and `sign = p ? 1 : -1` by
/// TF1 conds, the inner one nested in the outer's true branch.
fn tf1_conds() -> Vec<pb::NodeDef> {
    let mut nodes = vec![input(&[-1]), placeholder("p", BOOL, &[]), placeholder("q", BOOL, &[])];
    nodes.extend(tf1_pivot("c", "p"));
    nodes.extend([
        node("c/add/Switch", "Switch", &["x", "c/pred_id"], vec![]),
        scalar("c/one", None, Some(1.0), Some("c/switch_t")),
        node("c/add", "AddV2", &["c/add/Switch:1", "c/one"], vec![]),
        node("c/neg/Switch", "Switch", &["x", "c/pred_id"], vec![]),
        node("c/neg", "Neg", &["c/neg/Switch"], vec![]),
        // The inner cond, on q switched into the outer true branch.
        node("c/q/Switch", "Switch", &["q", "c/pred_id"], vec![]),
        node("c/inner/q", "Identity", &["c/q/Switch:1"], vec![]),
    ]);
    nodes.extend(tf1_pivot("c/inner", "c/inner/q"));
    nodes.extend([
        node("c/inner/double/Switch", "Switch", &["c/add", "c/inner/pred_id"], vec![]),
        node("c/inner/double", "AddV2", &["c/inner/double/Switch:1", "c/inner/double/Switch:1"], vec![]),
        node("c/inner/zero/Switch", "Switch", &["c/add", "c/inner/pred_id"], vec![]),
        scalar("c/inner/zero", None, Some(0.0), Some("c/inner/switch_f")),
        node("c/inner/mul", "Mul", &["c/inner/zero/Switch", "c/inner/zero"], vec![]),
        node("c/inner/Merge", "Merge", &["c/inner/mul", "c/inner/double"], vec![]),
        node("c/Merge", "Merge", &["c/neg", "c/inner/Merge"], vec![]),
        node("y", "Identity", &["c/Merge"], vec![]),
        // Constant branches: each hangs on its side of the pivot by a control edge.
        scalar("c/plus", None, Some(1.0), Some("c/switch_t")),
        scalar("c/minus", None, Some(-1.0), Some("c/switch_f")),
        node("c/Merge_1", "Merge", &["c/minus", "c/plus"], vec![]),
        node("sign", "Identity", &["c/Merge_1"], vec![]),
    ]);
    nodes
}

#[test]
fn tf1_conds_become_ifs_nested_as_written() {
    let meta = import_with(tf1_conds(), Vec::new(), &["x", "p", "q"], &["y", "sign"]).unwrap();
    let ifs: Vec<&Node> = meta.graph.nodes.iter().filter(|n| n.op == "If").collect();
    assert_eq!(ifs.len(), 2, "one If per Merge");
    let y = ifs.iter().find(|n| n.name == "c/Merge").unwrap();
    // The condition, and x switched in once (by two Switches) with q.
    assert_eq!(y.inputs.len(), 3, "{:?}", y.inputs);
    let Attr::Graph(then) = &y.attrs["then"] else { panic!("no then branch") };
    assert_eq!(then.nodes.iter().filter(|n| n.op == "If").count(), 1, "the inner cond nests");
    let sign = ifs.iter().find(|n| n.name == "c/Merge_1").unwrap();
    assert_eq!(sign.inputs.len(), 1, "constant branches take no argument: {:?}", sign.inputs);
    let x = || matrix(&[2], &[1.0, -3.0]);
    let run = |p: bool, q: bool, output: &str| {
        run_with(&meta, vec![("x", x()), ("p", Tensor::scalar(p)), ("q", Tensor::scalar(q))], output).unwrap()
    };
    assert_eq!(run(true, true, "y"), matrix(&[2], &[4.0, -4.0]));
    assert_eq!(run(true, false, "y"), matrix(&[2], &[0.0, -0.0]));
    assert_eq!(run(false, true, "y"), matrix(&[2], &[-1.0, 3.0]));
    assert_eq!(run(true, false, "sign"), Tensor::scalar(1.0f32));
    assert_eq!(run(false, false, "sign"), Tensor::scalar(-1.0f32));
}

#[test]
fn a_tf1_cond_in_a_loop_body_becomes_an_if_in_the_while() {
    // i, acc = 0, x; while i < 3: i, acc = i + 1, (acc * 2 if i < 2 else acc + 10)
    let mut nodes = doubling_loop();
    nodes.retain(|n| n.name != "w/mul");
    nodes.extend([
        scalar("w/c/two", Some(2), None, Some("w/Identity")),
        node("w/c/p", "Less", &["w/Identity", "w/c/two"], vec![]),
        scalar("w/c/ten", None, Some(10.0), Some("w/c/switch_f")),
        node("w/c/mul/Switch", "Switch", &["w/Identity_1", "w/c/pred_id"], vec![]),
        node("w/c/mul/Switch_1", "Switch", &["w/two", "w/c/pred_id"], vec![]),
        node("w/c/mul", "Mul", &["w/c/mul/Switch:1", "w/c/mul/Switch_1:1"], vec![]),
        node("w/c/add/Switch", "Switch", &["w/Identity_1", "w/c/pred_id"], vec![]),
        node("w/c/add", "AddV2", &["w/c/add/Switch", "w/c/ten"], vec![]),
        node("w/mul", "Merge", &["w/c/add", "w/c/mul"], vec![]),
    ]);
    nodes.extend(tf1_pivot("w/c", "w/c/p"));
    let meta = import(nodes).unwrap();
    let whiles: Vec<&Node> = meta.graph.nodes.iter().filter(|n| n.op == "While").collect();
    let Attr::Graph(body) = &whiles[0].attrs["body"] else { panic!("no body") };
    assert_eq!(body.nodes.iter().filter(|n| n.op == "If").count(), 1);
    assert_eq!(run(&meta, Tensor::scalar(1.5f32)), Tensor::scalar(16.0f32));
}

#[test]
fn a_merge_that_joins_no_tf1_cond_is_refused_naming_it() {
    let refused = |edit: &dyn Fn(&mut Vec<pb::NodeDef>)| {
        let mut nodes = tf1_conds();
        edit(&mut nodes);
        import_with(nodes, Vec::new(), &["x", "p", "q"], &["y", "sign"]).unwrap_err().to_string()
    };
    let find = |nodes: &mut Vec<pb::NodeDef>, name: &str| nodes.iter().position(|n| n.name == name).unwrap();
    // Both inputs from the false side.
    let err = refused(&|nodes| {
        let at = find(nodes, "c/Merge");
        nodes[at].input[1] = "c/neg".into();
    });
    assert!(err.contains("\"c/Merge\" (Merge)") && err.contains("reached other than through"), "{err}");
    assert!(err.contains("do not come from the two sides of the Switches on \"p\""), "{err}");
    // Switches on two predicates.
    let err = refused(&|nodes| {
        nodes.push(node("c/other/Switch", "Switch", &["x", "q"], vec![]));
        let at = find(nodes, "c/neg");
        nodes[at].input[0] = "c/other/Switch".into();
    });
    assert!(err.contains("\"c/Merge\" (Merge)") && err.contains("Switches on 2 predicates"), "{err}");
    // No Switch at all.
    let err = refused(&|nodes| {
        let at = find(nodes, "c/neg");
        nodes[at].input[0] = "x".into();
        let at = find(nodes, "c/Merge");
        nodes[at].input[1] = "x".into();
    });
    assert!(err.contains("\"c/Merge\" (Merge)") && err.contains("read no Switch"), "{err}");
    // Three inputs.
    let err = refused(&|nodes| {
        let at = find(nodes, "c/Merge_1");
        nodes[at].input.push("c/plus".into());
    });
    assert!(err.contains("\"c/Merge_1\" (Merge)") && err.contains("joins 3 input(s)"), "{err}");
    // Its value_index.
    let err = refused(&|nodes| {
        let at = find(nodes, "sign");
        nodes[at].input[0] = "c/Merge_1:1".into();
    });
    assert!(err.contains("\"c/Merge_1\" (Merge)") && err.contains("value_index"), "{err}");
    // A Switch read other than through a Merge.
    let err = refused(&|nodes| {
        let at = find(nodes, "sign");
        nodes[at].input[0] = "c/add/Switch:1".into();
    });
    assert!(err.contains("\"c/add/Switch\" (Switch)") && err.contains("reached other than through"), "{err}");
}

#[test]
fn one_hot_folds_its_depth() {
    let on_off = |name: &str, v: f32| scalar(name, None, Some(v), None);
    let meta = import_with(
        vec![
            placeholder("x", I64, &[-1]),
            ints("depth", &[3]),
            on_off("on", 5.0),
            on_off("off", -1.0),
            node("y", "OneHot", &["x", "depth", "on", "off"], vec![("axis", AttrV::I(0))]),
        ],
        Vec::new(),
        &["x"],
        &["y"],
    )
    .unwrap();
    assert_eq!(meta.signatures["serving_default"].outputs["y"].shape, Shape(vec![Some(3), None]));
    let y = run(&meta, Tensor::from_vec(vec![3], vec![2i64, 0, 7]).unwrap());
    assert_eq!(y, matrix(&[3, 3], &[-1.0, 5.0, -1.0, -1.0, -1.0, -1.0, 5.0, -1.0, -1.0]));
}

#[test]
fn parse_single_example_reads_its_keys_from_attributes() {
    use opset::example::{BytesList, Example, Feature, Features, FloatList, Kind};
    use prost::Message;
    const STRING: i32 = 7;
    let list = |l: pb::attr_value::ListValue| AttrV::List(l);
    let default =
        pb::TensorProto { dtype: F32, tensor_shape: Some(shape(&[1])), float_val: vec![5.0], ..Default::default() };
    let nodes = vec![
        node("x", "Placeholder", &[], vec![("dtype", AttrV::Type(STRING)), ("shape", AttrV::Shape(shape(&[])))]),
        node("d", "Const", &[], vec![("dtype", AttrV::Type(F32)), ("value", AttrV::Tensor(default))]),
        node(
            "p",
            "ParseSingleExample",
            &["x", "d"],
            vec![
                ("num_sparse", AttrV::I(1)),
                ("sparse_keys", list(pb::attr_value::ListValue { s: vec![b"w".to_vec()], ..Default::default() })),
                ("dense_keys", list(pb::attr_value::ListValue { s: vec![b"age".to_vec()], ..Default::default() })),
                ("sparse_types", list(pb::attr_value::ListValue { r#type: vec![STRING], ..Default::default() })),
                ("Tdense", list(pb::attr_value::ListValue { r#type: vec![F32], ..Default::default() })),
                ("dense_shapes", list(pb::attr_value::ListValue { shape: vec![shape(&[1])], ..Default::default() })),
            ],
        ),
        // Outputs: sparse indices, values, shapes (one sparse key), then the dense value.
        node("y", "Identity", &["p:3"], vec![]),
    ];
    let meta = import(nodes).unwrap();
    let example = |features: Vec<(&str, Kind)>| {
        let feature = features.into_iter().map(|(k, v)| (k.to_owned(), Feature { kind: Some(v) })).collect();
        Tensor::scalar(opset::Bytes::from(Example { features: Some(Features { feature }) }.encode_to_vec()))
    };
    let words = Kind::BytesList(BytesList { value: vec![b"a".to_vec()] });
    assert_eq!(run(&meta, example(vec![("w", words)])), matrix(&[1], &[5.0]), "the default");
    let age = Kind::FloatList(FloatList { value: vec![2.5] });
    assert_eq!(run(&meta, example(vec![("age", age)])), matrix(&[1], &[2.5]));
}
