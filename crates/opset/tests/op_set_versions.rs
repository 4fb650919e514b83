//! The golden list of the op set: which ops each op-set version holds. An
//! artifact declares the lowest version that has all its ops, and a reader
//! refuses a newer one, so an op cannot enter the set, leave it or change its
//! meaning without moving this list, and a new version number with it.
//!
//! Adding an op: give it `SINCE = OP_SET_VERSION + 1` (or the current
//! version if it has not shipped yet), bump `OP_SET_VERSION`, and add its
//! name to that version's line below. Changing an op's meaning is the same,
//! under its existing name.

use opset::ops::{Arity, CATALOG, OP_SET_VERSION, Op, op_info, required_version};
use opset::{Assets, Node};

/// Each version's ops, in the order of the op set's list.
const GOLDEN: &[(u32, &str)] = &[
    (
        1,
        "Placeholder Const Variable Identity Reshape Tile ExpandDims Squeeze StridedSlice Transpose Gather Cast \
         MatMul BiasAdd Add Sub Mul Div Maximum Minimum Relu Tanh Sigmoid Square Neg Abs Exp Log Sqrt Rsqrt \
         Softplus Equal NotEqual Softmax ArgMax ReduceSum ReduceMean ReduceMax ReduceMin L2Loss SoftmaxCrossEntropy",
    ),
    // VocabLookup's out-of-vocabulary buckets hash as TensorFlow's (FarmHash Fingerprint64, was FNV-1a).
    (2, "Select VocabLookup HashBucket"),
    // `ConcatV2` renamed `Concat` (op sets 1 and 2 wrote `ConcatV2`; still read as `Concat`).
    (
        3,
        "TileBy Pad Shape Concat Einsum Elu Selu Erf Less LessEqual Greater GreaterEqual LogicalAnd LogicalOr \
         LogicalNot Conv2D DepthwiseConv2D MaxPool AvgPool AsString TableLookup",
    ),
    (4, "ReverseSequence"),
    // Tensor lists, ReverseV2, OneHot, loops and conditionals (subgraph attributes); TF1 loops' GatherNd,
    // TensorArray scatters and run-time ranges.
    (5, "ReshapeTo GatherNd ListReserve ListSetItem ListScatter Reverse OneHot Range While If"),
    // A tagger's characters of each word, its CRF decoding and the names of its ids; dropout's random mask
    // (training graphs); what feature columns compile to (bucketized columns, embedding columns' distinct ids,
    // combiners and empty rows, indicator columns, categorical columns' reshapes, dense ids made sparse,
    // run-time shapes sliced).
    (
        6,
        "Unique Where Slice Bucketize CrfDecode SparseSegmentSum SparseSegmentMean SparseSegmentSqrtN \
         SparseFillEmptyRows SparseToDense SparseReshape UnicodeSplit StringLength IndexToString RandomUniform",
    ),
    // Serialized tf.Examples parsed (models exported with a parsing serving input receiver); products
    // of run-time shapes.
    (7, "ReduceProd ParseExample"),
];

#[test]
fn each_version_holds_the_golden_ops() {
    for &(version, golden) in GOLDEN {
        let listed: Vec<&str> = CATALOG.iter().filter(|op| op.since == version).map(|op| op.name).collect();
        let golden: Vec<&str> = golden.split_whitespace().collect();
        assert_eq!(listed, golden, "op set version {version}");
    }
    let newest = GOLDEN.last().map(|&(v, _)| v);
    assert_eq!(newest, Some(OP_SET_VERSION), "OP_SET_VERSION must be the newest version with ops");
    assert!(CATALOG.iter().all(|op| (1..=OP_SET_VERSION).contains(&op.since)));
}

#[test]
fn names_are_unique_and_resolve() {
    for (i, op) in CATALOG.iter().enumerate() {
        assert!(CATALOG[..i].iter().all(|other| other.name != op.name), "{} listed twice", op.name);
        assert_eq!(op_info(op.name), Some(op));
    }
    assert_eq!(op_info("ConcatV2").map(|op| op.name), Some("Concat"));
    assert_eq!(op_info("Conv3D"), None);
}

#[test]
fn an_export_declares_the_lowest_version_that_has_its_ops() {
    assert_eq!(required_version(["Placeholder", "Variable", "MatMul", "BiasAdd", "Relu"]), 1);
    assert_eq!(required_version(["Placeholder", "VocabLookup", "Gather"]), 2);
    assert_eq!(required_version(["Placeholder", "Conv2D", "Relu"]), 3);
    assert_eq!(required_version(["Placeholder", "ConcatV2"]), 3);
    assert_eq!(required_version(["NoSuchOp"]), OP_SET_VERSION);
    assert_eq!(required_version([]), 1);
}

#[test]
fn an_unknown_op_or_a_wrong_input_count_is_refused_by_node() {
    let err = Op::parse(&Node::new("n", "Conv3D", &["x"]), &Assets::new()).unwrap_err().to_string();
    assert!(err.contains("\"n\"") && err.contains("Conv3D"), "{err}");
    let relu = CATALOG.iter().find(|op| op.name == "Relu").unwrap();
    assert_eq!(relu.inputs, Arity::Exactly(1));
    let err = Op::parse(&Node::new("r", "Relu", &["x", "y"]), &Assets::new()).unwrap_err().to_string();
    assert!(err.contains("expected 1 input(s), got 2"), "{err}");
}

#[test]
fn artifacts_of_op_sets_1_and_2_keep_their_concat() {
    let node = Node::new("c", "ConcatV2", &["a", "b"]).with("axis", opset::Attr::Int(0));
    let op = Op::parse(&node, &Assets::new()).unwrap();
    assert_eq!(op.name(), "Concat");
}
