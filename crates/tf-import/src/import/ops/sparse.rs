//! Sparse ops, what feature columns compile to: bucketizing, sparse segment
//! reductions (embedding combiners), filling empty rows, and densifying.

use opset::ops::math::Bucketize;
use opset::ops::sparse::{
    FillOutput, ReshapeOutput, SparseFillEmptyRows, SparseReshape, SparseSegmentMean, SparseSegmentSqrtN,
    SparseSegmentSum, SparseToDense,
};

use super::{Translate, same_op};
use crate::Result;
use crate::import::{AttrV, Importer, attr, node_error};
use crate::pb;

/// The TensorFlow ops of this family, by name.
pub(super) const OPS: &[(&str, Translate)] = &[
    ("Bucketize", bucketize),
    ("SparseSegmentSum", same_op::<SparseSegmentSum, 3>),
    ("SparseSegmentMean", same_op::<SparseSegmentMean, 3>),
    ("SparseSegmentSqrtN", same_op::<SparseSegmentSqrtN, 3>),
    ("SparseFillEmptyRows", fill_empty_rows),
    ("SparseToDense", sparse_to_dense),
    ("SparseReshape", sparse_reshape),
];

/// `Bucketize` over its `boundaries` (sorted floats).
fn bucketize<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    let boundaries = match attr::get(node, "boundaries") {
        Some(AttrV::List(l)) => l.f.clone(),
        _ => return Err(node_error(node, "no boundaries")),
    };
    let op = Bucketize::new(boundaries).map_err(|e| node_error(node, e.to_string()))?;
    let x = im.input(scope, node, 0)?;
    im.emit(scope, node, op, &[x])
}

/// Output `index` of `SparseFillEmptyRows` (output_indices, output_values,
/// empty_row_indicator, reverse_index_map): our op yielding that output.
fn fill_empty_rows<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, index: usize) -> Result<String> {
    let output = FillOutput::from_index(index)
        .ok_or_else(|| node_error(node, format!("output {index} of SparseFillEmptyRows's 4")))?;
    let inputs = im.inputs(scope, node, 0..4)?;
    let base = format!("{}/{}", im.base(scope, node), output.name());
    im.emit_named(node, base, SparseFillEmptyRows { output }, &inputs)
}

/// Output `index` of `SparseReshape` (output_indices, output_shape): our
/// op yielding that output.
fn sparse_reshape<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, index: usize) -> Result<String> {
    let output = ReshapeOutput::from_index(index)
        .ok_or_else(|| node_error(node, format!("output {index} of SparseReshape's 2")))?;
    let inputs = im.inputs(scope, node, 0..3)?;
    let base = format!("{}/{}", im.base(scope, node), output.name());
    im.emit_named(node, base, SparseReshape { output }, &inputs)
}

/// `SparseToDense`, validating its indices unless `validate_indices` is
/// false (TensorFlow's default: validated).
fn sparse_to_dense<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    let validate_indices = !matches!(attr::get(node, "validate_indices"), Some(AttrV::B(false)));
    let inputs = im.inputs(scope, node, 0..4)?;
    im.emit(scope, node, SparseToDense { validate_indices }, &inputs)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use opset::{Assets, Tensor, TypedGraph};

    use crate::bundle::TfBundle;
    use crate::import::{AttrV, Importer};
    use crate::pb;

    use crate::import::tests::{F32, I64, node, shape};

    /// A constant of `dims` holding i64 `ints` or f32 `floats`.
    fn constant(name: &str, dims: &[i64], ints: &[i64], floats: &[f32]) -> pb::NodeDef {
        let dtype = if floats.is_empty() { I64 } else { F32 };
        let value = pb::TensorProto {
            dtype,
            tensor_shape: Some(shape(dims)),
            int64_val: ints.to_vec(),
            float_val: floats.to_vec(),
            ..Default::default()
        };
        node(name, "Const", &[], vec![("dtype", AttrV::Type(dtype)), ("value", AttrV::Tensor(value))])
    }

    /// The graph of this TensorFlow program, its outputs by key:
    ///
    /// ```python
    /// x = tf.constant([0.5, -2.0])  # fed
    /// buckets = gen_math_ops.bucketize(x, boundaries=[0.0, 1.0])  # [1, 0]
    /// f = gen_sparse_ops.sparse_fill_empty_rows(indices=tf.constant([[0, 0], [2, 1]], tf.int64), values=x,
    ///     dense_shape=tf.constant([3, 2], tf.int64), default_value=tf.constant(9.0))
    /// # [[0, 0], [1, 0], [2, 1]], [0.5, 9.0, -2.0], [False, True, False], [0, 2]
    /// dense = gen_sparse_ops.sparse_to_dense(f[0], tf.constant([3, 2], tf.int64), f[1], tf.constant(0.0))
    /// # [[0.5, 0.0], [9.0, 0.0], [0.0, -2.0]]
    /// r = gen_sparse_ops.sparse_reshape(f[0], tf.constant([3, 2], tf.int64), tf.constant([-1], tf.int64))
    /// # [[0], [2], [5]], [6]
    /// u = tf.unique(tf.constant([4, 1, 4], tf.int64), out_idx=tf.int64)  # [4, 1], [0, 1, 0]
    /// w = tf.where(f[2])  # [[1]]
    /// s = tf.slice(r[1], tf.constant([0], tf.int64), tf.constant([-1], tf.int64))  # [6]
    /// table = tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    /// mean = tf.sparse.segment_mean(table, tf.constant([2, 0, 1], tf.int64), tf.constant([0, 0, 1], tf.int64))
    /// # [[3.0, 4.0], [3.0, 4.0]]
    /// ```
    fn graph() -> (pb::GraphDef, pb::MetaGraphDef) {
        let boundaries = pb::attr_value::ListValue { f: vec![0.0, 1.0], ..Default::default() };
        let nodes = vec![
            node("x", "Placeholder", &[], vec![("dtype", AttrV::Type(F32)), ("shape", AttrV::Shape(shape(&[2])))]),
            node("buckets", "Bucketize", &["x"], vec![("boundaries", AttrV::List(boundaries))]),
            constant("indices", &[2, 2], &[0, 0, 2, 1], &[]),
            constant("dense_shape", &[2], &[3, 2], &[]),
            constant("nine", &[], &[], &[9.0]),
            constant("zero", &[], &[], &[0.0]),
            node("f", "SparseFillEmptyRows", &["indices", "x", "dense_shape", "nine"], vec![]),
            node("dense", "SparseToDense", &["f", "dense_shape", "f:1", "zero"], vec![]),
            constant("table", &[3, 2], &[], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
            constant("ids", &[3], &[2, 0, 1], &[]),
            constant("segments", &[3], &[0, 0, 1], &[]),
            node("mean", "SparseSegmentMean", &["table", "ids", "segments"], vec![]),
            constant("flat", &[1], &[-1], &[]),
            node("r", "SparseReshape", &["f:0", "dense_shape", "flat"], vec![]),
            constant("words", &[3], &[4, 1, 4], &[]),
            node("u", "Unique", &["words"], vec![("out_idx", AttrV::Type(I64))]),
            node("w", "Where", &["f:2"], vec![]),
            constant("begin", &[1], &[0], &[]),
            node("s", "Slice", &["r:1", "begin", "flat"], vec![]),
        ];
        let info = |name: &str, dtype| pb::TensorInfo { name: name.to_owned(), dtype, tensor_shape: None };
        let outputs = [
            ("buckets", info("buckets:0", 3)),
            ("empty", info("f:2", 10)),
            ("reverse", info("f:3", I64)),
            ("dense", info("dense:0", F32)),
            ("mean", info("mean:0", F32)),
            ("flat_indices", info("r:0", I64)),
            ("flat_shape", info("r:1", I64)),
            ("distinct", info("u:0", I64)),
            ("where", info("u:1", I64)),
            ("empty_rows", info("w:0", I64)),
            ("sliced", info("s:0", I64)),
        ];
        let signature = pb::SignatureDef {
            inputs: BTreeMap::from([("x".to_owned(), info("x:0", F32))]),
            outputs: outputs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            method_name: String::new(),
        };
        let meta = pb::MetaGraphDef {
            signature_def: BTreeMap::from([("serving_default".to_owned(), signature)]),
            ..Default::default()
        };
        (pb::GraphDef { node: nodes, library: None }, meta)
    }

    #[test]
    fn feature_column_ops_import_and_compute_as_tensorflow() {
        let (graph, meta) = graph();
        let bundle = TfBundle::empty();
        let (ours, _) = Importer::new(&graph, &bundle, std::path::PathBuf::new()).import(&meta).unwrap();
        let typed = TypedGraph::new(&ours.graph, &Assets::new()).unwrap();
        let signature = &ours.signatures["serving_default"];
        let mut values = vec![None; typed.nodes().len()];
        values[typed.resolve(&signature.inputs["x"].name).unwrap()] =
            Some(Tensor::from_vec(vec![2], vec![0.5f32, -2.0]).unwrap());
        let keys = [
            "buckets",
            "empty",
            "reverse",
            "dense",
            "mean",
            "flat_indices",
            "flat_shape",
            "distinct",
            "where",
            "empty_rows",
            "sliced",
        ];
        let targets: Vec<usize> = keys.iter().map(|k| typed.resolve(&signature.outputs[*k].name).unwrap()).collect();
        typed.evaluate(&targets, &mut values).unwrap();
        let value = |k: usize| values[targets[k]].clone().unwrap();
        assert_eq!(value(0), Tensor::from_vec(vec![2], vec![1i32, 0]).unwrap());
        assert_eq!(value(1), Tensor::from_vec(vec![3], vec![false, true, false]).unwrap());
        assert_eq!(value(2), Tensor::from_vec(vec![2], vec![0i64, 2]).unwrap());
        assert_eq!(value(3), Tensor::from_vec(vec![3, 2], vec![0.5f32, 0.0, 9.0, 0.0, 0.0, -2.0]).unwrap());
        assert_eq!(value(4), Tensor::from_vec(vec![2, 2], vec![3.0f32, 4.0, 3.0, 4.0]).unwrap());
        assert_eq!(value(5), Tensor::from_vec(vec![3, 1], vec![0i64, 2, 5]).unwrap());
        assert_eq!(value(6), Tensor::from_vec(vec![1], vec![6i64]).unwrap());
        assert_eq!(value(7), Tensor::from_vec(vec![2], vec![4i64, 1]).unwrap());
        assert_eq!(value(8), Tensor::from_vec(vec![3], vec![0i64, 1, 0]).unwrap());
        assert_eq!(value(9), Tensor::from_vec(vec![1, 1], vec![1i64]).unwrap());
        assert_eq!(value(10), Tensor::from_vec(vec![1], vec![6i64]).unwrap());
    }

    #[test]
    fn a_fifth_output_and_unsorted_boundaries_are_refused() {
        let (mut graph, mut meta) = graph();
        let signature = meta.signature_def.get_mut("serving_default").unwrap();
        signature.outputs.get_mut("empty").unwrap().name = "f:4".into();
        let bundle = TfBundle::empty();
        let err = Importer::new(&graph, &bundle, std::path::PathBuf::new()).import(&meta).unwrap_err().to_string();
        assert!(err.contains("output 4"), "{err}");
        let (_, meta) = self::graph();
        let boundaries = pb::attr_value::ListValue { f: vec![1.0, 0.0], ..Default::default() };
        graph.node[1] = node("buckets", "Bucketize", &["x"], vec![("boundaries", AttrV::List(boundaries))]);
        let err = Importer::new(&graph, &bundle, std::path::PathBuf::new()).import(&meta).unwrap_err().to_string();
        assert!(err.contains("sorted"), "{err}");
    }
}
