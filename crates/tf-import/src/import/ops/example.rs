//! Parsing serialized `tf.Example`s: TensorFlow's `ParseExampleV2`, the v1
//! `ParseExample` and `ParseSingleExample`, one of our `ParseExample` nodes
//! per output used.

use opset::DataType;
use opset::ops::example::{ExampleOutput, ParseExample};

use super::Translate;
use crate::Result;
use crate::import::{AttrV, Importer, attr, node_error};
use crate::pb;

/// The TensorFlow ops of this family, by name.
pub(super) const OPS: &[(&str, Translate)] = &[
    ("ParseExampleV2", parse_example_v2),
    ("ParseExample", parse_example_v1),
    ("ParseSingleExample", parse_single_example),
];

/// Where a parse node's inputs are: the first key input of each kind and
/// the first default.
struct Layout {
    serialized: usize,
    sparse_keys: usize,
    dense_keys: usize,
    dense_defaults: usize,
    keys: Keys,
}

/// How a parse node gives its feature names.
#[derive(Clone, Copy, PartialEq)]
enum Keys {
    /// One string tensor of keys per kind (v2).
    Tensor,
    /// One scalar input per key (v1).
    PerInput,
    /// The `sparse_keys` and `dense_keys` attributes (`ParseSingleExample`).
    Attribute,
}

/// `ParseExampleV2(serialized, names, sparse_keys, dense_keys, ragged_keys,
/// dense_defaults...)`.
fn parse_example_v2<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, index: usize) -> Result<String> {
    if attr_list(node, "ragged_value_types").is_some_and(|l| !l.r#type.is_empty()) {
        return Err(node_error(node, "ragged features (tf.io.RaggedFeature) are not supported"));
    }
    let layout = Layout { serialized: 0, sparse_keys: 2, dense_keys: 3, dense_defaults: 5, keys: Keys::Tensor };
    parse(im, scope, node, index, &layout)
}

/// `ParseSingleExample(serialized, dense_defaults...)`, the keys in its
/// attributes; `serialized` a scalar, so no output has a batch dim.
fn parse_single_example<'a>(
    im: &mut Importer<'a>,
    scope: usize,
    node: &'a pb::NodeDef,
    index: usize,
) -> Result<String> {
    let layout = Layout { serialized: 0, sparse_keys: 0, dense_keys: 0, dense_defaults: 1, keys: Keys::Attribute };
    parse(im, scope, node, index, &layout)
}

/// `ParseExample(serialized, names, sparse_keys..., dense_keys...,
/// dense_defaults...)` (v1: a scalar input per key).
fn parse_example_v1<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, index: usize) -> Result<String> {
    let (sparse, dense) = counts(node)?;
    let layout = Layout {
        serialized: 0,
        sparse_keys: 2,
        dense_keys: 2 + sparse,
        dense_defaults: 2 + sparse + dense,
        keys: Keys::PerInput,
    };
    parse(im, scope, node, index, &layout)
}

/// The numbers of sparse and dense features.
fn counts(node: &pb::NodeDef) -> Result<(usize, usize)> {
    let sparse = attr_list(node, "sparse_types").map_or(0, |l| l.r#type.len());
    let dense = attr_list(node, "Tdense").map_or(0, |l| l.r#type.len());
    if attr::int(node, "num_sparse").is_some_and(|n| usize::try_from(n).ok() != Some(sparse)) {
        return Err(node_error(node, "num_sparse differs from the count of sparse_types"));
    }
    Ok((sparse, dense))
}

fn attr_list<'n>(node: &'n pb::NodeDef, key: &str) -> Option<&'n pb::attr_value::ListValue> {
    match attr::get(node, key) {
        Some(AttrV::List(l)) => Some(l),
        _ => None,
    }
}

/// Output `index` of a parse node: a sparse feature's indices, values or
/// shape, or a dense feature's values.
fn parse<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, index: usize, at: &Layout) -> Result<String> {
    let (sparse, dense) = counts(node)?;
    let dtype_at = |key: &str, i: usize| -> Result<DataType> {
        let code = attr_list(node, key)
            .and_then(|l| l.r#type.get(i))
            .ok_or_else(|| node_error(node, format!("no {key}[{i}]")))?;
        crate::tensor_proto::dtype(*code).map_err(|e| node_error(node, e))
    };
    let (kind, i) = match index {
        i if i < 3 * sparse => (i / sparse.max(1), i % sparse.max(1)),
        i if i < 3 * sparse + dense => (3, i - 3 * sparse),
        i => return Err(node_error(node, format!("output {i} of {} sparse and {dense} dense features", sparse))),
    };
    let (key, dtype, output) = if kind < 3 {
        let key = feature_key(im, scope, node, at, (at.sparse_keys, "sparse_keys"), i, sparse)?;
        let output =
            [ExampleOutput::SparseIndices, ExampleOutput::SparseValues, ExampleOutput::SparseShape][kind].clone();
        (key, dtype_at("sparse_types", i)?, output)
    } else {
        let key = feature_key(im, scope, node, at, (at.dense_keys, "dense_keys"), i, dense)?;
        let shape = attr_list(node, "dense_shapes")
            .and_then(|l| l.shape.get(i))
            .ok_or_else(|| node_error(node, format!("no dense_shapes[{i}]")))?;
        let shape = crate::tensor_proto::shape(Some(shape)).map_err(|e| node_error(node, e))?;
        (key, dtype_at("Tdense", i)?, ExampleOutput::Dense(shape))
    };
    let part = match &output {
        ExampleOutput::Dense(_) => "dense",
        ExampleOutput::SparseIndices => "sparse_indices",
        ExampleOutput::SparseValues => "sparse_values",
        ExampleOutput::SparseShape => "sparse_shape",
    };
    let mut inputs = vec![im.input(scope, node, at.serialized)?];
    if kind == 3 {
        inputs.push(im.input(scope, node, at.dense_defaults + i)?);
    }
    let base = format!("{}/{part}/{key}", im.base(scope, node));
    im.emit_named(node, base, ParseExample { key, dtype, output }, &inputs)
}

/// The name of feature `i` of a kind whose keys start at input `first` (or
/// are in the attribute `attribute`).
fn feature_key<'a>(
    im: &mut Importer<'a>,
    scope: usize,
    node: &'a pb::NodeDef,
    at: &Layout,
    (first, attribute): (usize, &str),
    i: usize,
    count: usize,
) -> Result<String> {
    if at.keys == Keys::Attribute {
        let keys = attr_list(node, attribute).map(|l| l.s.as_slice()).unwrap_or_default();
        if keys.len() != count {
            return Err(node_error(node, format!("{} {attribute} for {count} features", keys.len())));
        }
        let key = keys.get(i).ok_or_else(|| node_error(node, format!("no {attribute}[{i}]")))?;
        return String::from_utf8(key.clone()).map_err(|_| node_error(node, format!("{attribute}[{i}] is not UTF-8")));
    }
    let (input, element) = if at.keys == Keys::PerInput { (first + i, 0) } else { (first, i) };
    let inputs = Importer::data_inputs(node);
    let reference = inputs.get(input).copied().ok_or_else(|| node_error(node, format!("missing input {input}")))?;
    let keys = im.constant_node(im.node(scope, reference)?)?;
    let keys = keys.as_slice::<opset::Bytes>().map_err(|e| node_error(node, e.to_string()))?;
    if at.keys == Keys::Tensor && keys.len() != count {
        return Err(node_error(node, format!("{} keys for {count} features", keys.len())));
    }
    let key = keys.get(element).ok_or_else(|| node_error(node, format!("no key {i}")))?;
    String::from_utf8(key.to_vec()).map_err(|_| node_error(node, format!("feature key {i} is not UTF-8")))
}
