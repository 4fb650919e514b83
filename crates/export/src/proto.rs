//! Conversions between the private protobuf types of `saved_model.pb` and
//! `variables.index` (`pb`) and our public types (the op set's dtypes,
//! shapes, tensors and graph; the artifact's model and signatures).
//! Validation of what the bytes say happens here, once.

use std::collections::BTreeMap;

use opset::{Attr, Bytes, DataType, Graph, Node, Shape, Tensor, element_count};

use crate::artifact::{MetaGraph, SavedModel};
use crate::pb;
use crate::pb::attr_value::Value;
use crate::signature::{Signature, TensorInfo};
use crate::tensor_bytes::{numeric_bytes, tensor_from_bytes};

type R<T> = std::result::Result<T, String>;

pub(crate) fn dtype_to_pb(d: DataType) -> pb::DataType {
    match d {
        DataType::F32 => pb::DataType::DtF32,
        DataType::I64 => pb::DataType::DtI64,
        DataType::I32 => pb::DataType::DtI32,
        DataType::Bool => pb::DataType::DtBool,
        DataType::String => pb::DataType::DtString,
    }
}

pub(crate) fn dtype_from_pb(raw: i32, what: &str) -> R<DataType> {
    match pb::DataType::try_from(raw) {
        Ok(pb::DataType::DtF32) => Ok(DataType::F32),
        Ok(pb::DataType::DtI64) => Ok(DataType::I64),
        Ok(pb::DataType::DtI32) => Ok(DataType::I32),
        Ok(pb::DataType::DtBool) => Ok(DataType::Bool),
        Ok(pb::DataType::DtString) => Ok(DataType::String),
        _ => Err(format!("{what}: unknown dtype code {raw}")),
    }
}

pub(crate) fn shape_to_pb(s: &Shape) -> pb::Shape {
    pb::Shape { dims: s.to_dims() }
}

pub(crate) fn shape_from_pb(s: Option<&pb::Shape>, what: &str) -> R<Shape> {
    Shape::from_dims(s.map_or(&[][..], |s| &s.dims), what).map_err(|e| e.to_string())
}

/// A concrete (fully known) shape and its element count, checked for overflow.
pub(crate) fn concrete_shape(s: Option<&pb::Shape>, what: &str) -> R<(Vec<usize>, usize)> {
    let shape = shape_from_pb(s, what)?;
    let dims = shape.as_known().ok_or_else(|| format!("{what}: shape {shape} has an unknown dimension"))?;
    let n = element_count(&dims, what).map_err(|e| e.to_string())?;
    Ok((dims, n))
}

pub(crate) fn tensor_to_pb(t: &Tensor) -> pb::Tensor {
    let (content, string_val) = match t.dtype() {
        DataType::String => {
            (Vec::new(), t.as_slice::<Bytes>().unwrap_or_default().iter().map(|s| s.to_vec()).collect())
        }
        _ => (numeric_bytes(t), Vec::new()),
    };
    pb::Tensor {
        dtype: dtype_to_pb(t.dtype()) as i32,
        shape: Some(shape_to_pb(&Shape::known(t.shape()))),
        content,
        string_val,
    }
}

pub(crate) fn tensor_from_pb(t: &pb::Tensor, what: &str) -> R<Tensor> {
    let dtype = dtype_from_pb(t.dtype, what)?;
    let (shape, n) = concrete_shape(t.shape.as_ref(), what)?;
    if dtype == DataType::String {
        if t.string_val.len() != n {
            return Err(format!("{what}: shape {shape:?} holds {n} strings, found {}", t.string_val.len()));
        }
        return Tensor::strings(shape, &t.string_val).map_err(|e| e.to_string());
    }
    tensor_from_bytes(dtype, shape, n, &t.content, what)
}

fn attr_to_pb(a: &Attr) -> pb::AttrValue {
    let value = match a {
        Attr::Int(i) => Value::I(*i),
        Attr::Float(f) => Value::F(*f),
        Attr::Bool(b) => Value::B(*b),
        Attr::Str(s) => Value::S(s.clone()),
        Attr::Type(d) => Value::Dtype(dtype_to_pb(*d) as i32),
        Attr::Shape(s) => Value::Shape(shape_to_pb(s)),
        Attr::Tensor(t) => Value::Tensor(tensor_to_pb(t)),
        Attr::Ints(v) => Value::Ints(pb::attr_value::IntList { values: v.clone() }),
        Attr::Graph(g) => Value::Graph(graph_to_pb(g)),
    };
    pb::AttrValue { value: Some(value) }
}

fn attr_from_pb(a: &pb::AttrValue, what: &str) -> R<Attr> {
    Ok(match a.value.as_ref().ok_or_else(|| format!("{what}: empty attribute"))? {
        Value::I(i) => Attr::Int(*i),
        Value::F(f) => Attr::Float(*f),
        Value::B(b) => Attr::Bool(*b),
        Value::S(s) => Attr::Str(s.clone()),
        Value::Dtype(d) => Attr::Type(dtype_from_pb(*d, what)?),
        Value::Shape(s) => Attr::Shape(shape_from_pb(Some(s), what)?),
        Value::Tensor(t) => Attr::Tensor(tensor_from_pb(t, what)?),
        Value::Ints(l) => Attr::Ints(l.values.clone()),
        Value::Graph(g) => Attr::Graph(graph_from_pb(g).map_err(|e| format!("{what}: {e}"))?),
    })
}

fn graph_to_pb(g: &Graph) -> pb::Graph {
    pb::Graph {
        nodes: g
            .nodes
            .iter()
            .map(|n| pb::Node {
                name: n.name.clone(),
                op: n.op.clone(),
                inputs: n.inputs.clone(),
                attrs: n.attrs.iter().map(|(k, v)| (k.clone(), attr_to_pb(v))).collect(),
            })
            .collect(),
    }
}

fn graph_from_pb(g: &pb::Graph) -> R<Graph> {
    let nodes = g
        .nodes
        .iter()
        .map(|n| {
            let attrs = n
                .attrs
                .iter()
                .map(|(k, v)| Ok((k.clone(), attr_from_pb(v, &format!("node {:?} attribute {k:?}", n.name))?)))
                .collect::<R<BTreeMap<_, _>>>()?;
            Ok(Node { name: n.name.clone(), op: n.op.clone(), inputs: n.inputs.clone(), attrs })
        })
        .collect::<R<Vec<_>>>()?;
    Ok(Graph { nodes })
}

/// The op of every node of `g` and of its subgraphs (loop bodies), so that
/// an artifact declares the op set its nested ops need too. Iterative: a
/// deeply nested graph cannot overflow the stack.
fn graph_ops(g: &Graph) -> Vec<&str> {
    let mut ops = Vec::new();
    let mut pending = vec![g];
    while let Some(g) = pending.pop() {
        for node in &g.nodes {
            ops.push(node.op.as_str());
            pending.extend(node.attrs.values().filter_map(|a| match a {
                Attr::Graph(sub) => Some(sub),
                _ => None,
            }));
        }
    }
    ops
}

fn infos_to_pb(m: &BTreeMap<String, TensorInfo>) -> BTreeMap<String, pb::TensorInfo> {
    m.iter()
        .map(|(k, i)| {
            let info = pb::TensorInfo {
                name: i.name.clone(),
                dtype: dtype_to_pb(i.dtype) as i32,
                shape: Some(shape_to_pb(&i.shape)),
            };
            (k.clone(), info)
        })
        .collect()
}

fn infos_from_pb(m: &BTreeMap<String, pb::TensorInfo>, what: &str) -> R<BTreeMap<String, TensorInfo>> {
    m.iter()
        .map(|(k, i)| {
            let what = format!("{what} {k:?}");
            let info = TensorInfo {
                name: i.name.clone(),
                dtype: dtype_from_pb(i.dtype, &what)?,
                shape: shape_from_pb(i.shape.as_ref(), &what)?,
            };
            Ok((k.clone(), info))
        })
        .collect()
}

pub(crate) fn saved_model_to_pb(m: &SavedModel) -> pb::SavedModel {
    pb::SavedModel {
        format_version: crate::FORMAT_VERSION,
        op_set_version: opset::ops::required_version(m.meta_graphs.iter().flat_map(|mg| graph_ops(&mg.graph))),
        meta_graphs: m
            .meta_graphs
            .iter()
            .map(|mg| pb::MetaGraph {
                tags: mg.tags.clone(),
                graph: Some(graph_to_pb(&mg.graph)),
                signatures: mg
                    .signatures
                    .iter()
                    .map(|(k, s)| {
                        let sig = pb::Signature {
                            method_name: s.method_name.clone(),
                            inputs: infos_to_pb(&s.inputs),
                            outputs: infos_to_pb(&s.outputs),
                        };
                        (k.clone(), sig)
                    })
                    .collect(),
                assets: mg.assets.iter().map(|f| pb::AssetFile { filename: f.clone() }).collect(),
            })
            .collect(),
    }
}

/// Converts a decoded `saved_model.pb`; versions are checked by the caller.
pub(crate) fn saved_model_from_pb(m: &pb::SavedModel) -> R<SavedModel> {
    let meta_graphs = m
        .meta_graphs
        .iter()
        .map(|mg| {
            let graph = graph_from_pb(mg.graph.as_ref().ok_or("a meta graph has no graph")?)?;
            let signatures = mg
                .signatures
                .iter()
                .map(|(k, s)| {
                    let sig = Signature {
                        method_name: s.method_name.clone(),
                        inputs: infos_from_pb(&s.inputs, &format!("signature {k:?} input"))?,
                        outputs: infos_from_pb(&s.outputs, &format!("signature {k:?} output"))?,
                    };
                    Ok((k.clone(), sig))
                })
                .collect::<R<_>>()?;
            Ok(MetaGraph {
                tags: mg.tags.clone(),
                graph,
                signatures,
                assets: mg.assets.iter().map(|a| a.filename.clone()).collect(),
            })
        })
        .collect::<R<Vec<_>>>()?;
    Ok(SavedModel { meta_graphs })
}
