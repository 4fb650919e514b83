//! The graph importer: from a TensorFlow meta graph, the nodes each
//! signature needs (pruned from its outputs), translated into our op set,
//! with `StatefulPartitionedCall`s inlined from the function library and
//! variables resolved to their checkpoint tensors.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::bundle::TfBundle;
use super::pb;
use super::pb::attr_value::Value as AttrV;
use super::restore::{checkpoint_keys, function_of, node_name, output_index};
use crate::graph::{Attr, Graph, Node};
use crate::saved_model::MetaGraph;
use crate::signature::{Signature, TensorInfo};
use crate::{Error, Result, Tensor};

/// Where a TensorFlow node lives: the top-level graph, or an inlined call.
struct Scope<'a> {
    nodes: HashMap<&'a str, &'a pb::NodeDef>,
    /// Function arguments -> (caller's scope, caller's tensor reference).
    args: HashMap<&'a str, (usize, &'a str)>,
    /// Prefix of our node names for this scope (`call/` for an inlined call).
    prefix: String,
    /// How many calls deep this scope is.
    depth: usize,
}

pub(crate) struct Importer<'a> {
    functions: HashMap<&'a str, &'a pb::FunctionDef>,
    keys: HashMap<String, String>,
    bundle: &'a TfBundle,
    scopes: Vec<Scope<'a>>,
    nodes: Vec<Node>,
    names: HashSet<String>,
    memo: HashMap<(usize, &'a str, usize), String>,
    /// Tensors being translated: meeting one again means a cycle.
    visiting: HashSet<(usize, &'a str, usize)>,
    variables: BTreeMap<String, Tensor>,
}

/// How deep the importer follows inputs (recursively) before refusing the
/// graph: a hostile chain must not overflow the stack.
const MAX_DEPTH: usize = 1_000;

/// An error about TensorFlow node `node`.
fn node_error(node: &pb::NodeDef, reason: impl Into<String>) -> Error {
    Error::Node { node: node.name.clone(), op: node.op.clone(), reason: reason.into() }
}

impl<'a> Importer<'a> {
    pub fn new(graph: &'a pb::GraphDef, bundle: &'a TfBundle) -> Importer<'a> {
        let functions = graph
            .library
            .iter()
            .flat_map(|l| &l.function)
            .filter_map(|f| Some((f.signature.as_ref()?.name.as_str(), f)))
            .collect();
        let top = Scope {
            nodes: graph.node.iter().map(|n| (n.name.as_str(), n)).collect(),
            args: HashMap::new(),
            prefix: String::new(),
            depth: 0,
        };
        Importer {
            functions,
            keys: checkpoint_keys(graph),
            bundle,
            scopes: vec![top],
            nodes: Vec::new(),
            names: HashSet::new(),
            memo: HashMap::new(),
            visiting: HashSet::new(),
            variables: BTreeMap::new(),
        }
    }

    /// Imports the signatures of `meta` (TensorFlow's internal `__*` ones
    /// aside) into one graph.
    pub fn import(mut self, meta: &'a pb::MetaGraphDef) -> Result<(MetaGraph, BTreeMap<String, Tensor>)> {
        let mut signatures = BTreeMap::new();
        for (key, sig) in meta.signature_def.iter().filter(|(k, _)| !k.starts_with("__")) {
            let fail = |reason: String| Error::Signature { signature: key.clone(), reason };
            let mut inputs = BTreeMap::new();
            for (name, info) in &sig.inputs {
                let tensor = self.placeholder(&info.name).map_err(|e| fail(format!("input {name:?}: {e}")))?;
                let dtype = super::convert::dtype(info.dtype).map_err(|e| fail(format!("input {name:?}: {e}")))?;
                let shape = super::convert::shape(info.tensor_shape.as_ref())
                    .map_err(|e| fail(format!("input {name:?}: {e}")))?;
                inputs.insert(name.clone(), TensorInfo { name: tensor, dtype, shape });
            }
            let mut outputs = BTreeMap::new();
            for (name, info) in &sig.outputs {
                let tensor = self.tensor(0, &info.name)?;
                let dtype = super::convert::dtype(info.dtype).map_err(|e| fail(format!("output {name:?}: {e}")))?;
                let shape =
                    super::convert::shape(info.tensor_shape.as_ref()).unwrap_or_else(|_| crate::Shape(Vec::new()));
                outputs.insert(name.clone(), TensorInfo { name: tensor, dtype, shape });
            }
            signatures.insert(key.clone(), Signature { method_name: sig.method_name.clone(), inputs, outputs });
        }
        // Output shapes come from the graph once it is typed (TensorFlow
        // often leaves them unknown in the signature).
        let graph = Graph { nodes: self.nodes };
        if let Ok(typed) = crate::TypedGraph::new(&graph, &crate::Assets::new()) {
            for sig in signatures.values_mut() {
                for info in sig.outputs.values_mut() {
                    if let Ok(i) = typed.resolve(&info.name) {
                        info.shape = typed.nodes()[i].ty.shape.clone();
                    }
                }
            }
        }
        let tags = meta.meta_info_def.as_ref().map(|m| m.tags.clone()).unwrap_or_default();
        Ok((MetaGraph { tags, graph, signatures, assets: Vec::new() }, self.variables))
    }

    /// A signature input: a `Placeholder` (or `PlaceholderWithDefault`) of the top-level graph.
    fn placeholder(&mut self, reference: &'a str) -> Result<String> {
        let node = self.node(0, reference)?;
        if !matches!(node.op.as_str(), "Placeholder" | "PlaceholderWithDefault") {
            return Err(node_error(node, "a signature input must be a placeholder"));
        }
        if let Some(name) = self.memo.get(&(0, node.name.as_str(), 0)) {
            return Ok(name.clone());
        }
        let dtype = self.dtype_attr(node, "dtype")?;
        let shape = match node.attr.get("shape").and_then(|a| a.value.as_ref()) {
            Some(AttrV::Shape(s)) => super::convert::shape(Some(s)).map_err(|e| node_error(node, e))?,
            _ => return Err(node_error(node, "no shape attribute")),
        };
        let name =
            self.emit(0, node, "Placeholder", &[], vec![("dtype", Attr::Type(dtype)), ("shape", Attr::Shape(shape))]);
        self.memo.insert((0, node.name.as_str(), 0), name.clone());
        Ok(name)
    }

    fn node(&self, scope: usize, reference: &str) -> Result<&'a pb::NodeDef> {
        let name = node_name(reference);
        // The consumer is named by `input`, which knows it.
        self.scopes[scope]
            .nodes
            .get(name)
            .copied()
            .ok_or_else(|| Error::MissingInput { node: String::new(), input: reference.to_owned() })
    }

    /// Follows function arguments out to the caller's reference.
    fn outer(&self, mut scope: usize, mut reference: &'a str) -> (usize, &'a str) {
        while let Some(&(s, r)) = self.scopes[scope].args.get(reference) {
            (scope, reference) = (s, r);
        }
        (scope, reference)
    }

    /// Our node computing TensorFlow tensor `reference` in `scope`.
    fn tensor(&mut self, scope: usize, reference: &'a str) -> Result<String> {
        let (scope, reference) = self.outer(scope, reference);
        let node = self.node(scope, reference)?;
        let index = output_index(reference);
        let key = (scope, node.name.as_str(), index);
        if let Some(name) = self.memo.get(&key) {
            return Ok(name.clone());
        }
        if !self.visiting.insert(key) {
            return Err(Error::Cycle { node: node.name.clone() });
        }
        if self.visiting.len() > MAX_DEPTH {
            return Err(node_error(node, format!("the graph is deeper than {MAX_DEPTH} nodes along one path")));
        }
        let name = self.convert(scope, node, index);
        self.visiting.remove(&key);
        let name = name?;
        self.memo.insert(key, name.clone());
        Ok(name)
    }

    /// The data inputs of a node (control inputs `^x` dropped).
    fn data_inputs(node: &'a pb::NodeDef) -> Vec<&'a str> {
        node.input.iter().filter(|i| !i.starts_with('^')).map(String::as_str).collect()
    }

    fn input(&mut self, scope: usize, node: &'a pb::NodeDef, i: usize) -> Result<String> {
        let inputs = Self::data_inputs(node);
        let reference = inputs.get(i).copied().ok_or_else(|| node_error(node, format!("missing input {i}")))?;
        self.tensor(scope, reference).map_err(|e| match e {
            Error::MissingInput { node: consumer, input } if consumer.is_empty() => {
                Error::MissingInput { node: node.name.clone(), input }
            }
            e => e,
        })
    }

    /// Input `i` as integers: a constant, or a shape computation
    /// (`Shape`, `StridedSlice`, `Pack`...) whose values are all known.
    fn ints(&mut self, scope: usize, node: &'a pb::NodeDef, i: usize) -> Result<Vec<i64>> {
        let dims = self.dims(scope, node, i)?;
        dims.iter()
            .map(|d| {
                d.ok_or_else(|| {
                    node_error(node, format!("input {i} depends on a size known only at run time: {dims:?}"))
                })
            })
            .collect()
    }

    /// Input `i` as integers, some unknown until run time (a batch size).
    fn dims(&mut self, scope: usize, node: &'a pb::NodeDef, i: usize) -> Result<Vec<Option<i64>>> {
        let reference =
            Self::data_inputs(node).get(i).copied().ok_or_else(|| node_error(node, format!("missing input {i}")))?;
        self.shape_value(scope, reference, 0)
    }

    /// The value of a small integer tensor computed from constants and
    /// shapes, as TensorFlow's shape functions would fold it.
    fn shape_value(&mut self, scope: usize, reference: &'a str, depth: usize) -> Result<Vec<Option<i64>>> {
        let (scope, reference) = self.outer(scope, reference);
        let node = self.node(scope, reference)?;
        if depth > 64 {
            return Err(node_error(node, "shape computation too deep"));
        }
        let input = |this: &mut Self, k: usize| -> Result<Vec<Option<i64>>> {
            let r = Self::data_inputs(node)
                .get(k)
                .copied()
                .ok_or_else(|| node_error(node, format!("missing input {k}")))?;
            this.shape_value(scope, r, depth + 1)
        };
        match node.op.as_str() {
            "Const" => {
                let t = self.constant_node(node)?;
                let v: Vec<i64> = match t.dtype() {
                    crate::DataType::I32 => t.as_slice::<i32>()?.iter().map(|&v| i64::from(v)).collect(),
                    crate::DataType::I64 => t.as_slice::<i64>()?.to_vec(),
                    other => return Err(node_error(node, format!("expected integers, got {other}"))),
                };
                Ok(v.into_iter().map(Some).collect())
            }
            "Identity" | "Cast" => input(self, 0),
            "Shape" => {
                let x = self.input(scope, node, 0)?;
                let graph = Graph { nodes: self.nodes.clone() };
                let typed = crate::TypedGraph::new(&graph, &crate::Assets::new())?;
                let ty = &typed.nodes()[typed.resolve(&x)?].ty;
                Ok(ty.shape.0.iter().map(|d| d.and_then(|d| i64::try_from(d).ok())).collect())
            }
            "Pack" | "ConcatV2" => {
                let n = Self::data_inputs(node).len() - usize::from(node.op == "ConcatV2");
                let mut out = Vec::new();
                for k in 0..n {
                    out.extend(input(self, k)?);
                }
                Ok(out)
            }
            "GatherV2" => {
                let v = input(self, 0)?;
                let indices = input(self, 1)?;
                indices
                    .iter()
                    .map(|i| {
                        let i = i.ok_or_else(|| node_error(node, "indices known only at run time"))?;
                        let i = if i < 0 { i + v.len() as i64 } else { i };
                        usize::try_from(i)
                            .ok()
                            .and_then(|i| v.get(i).copied())
                            .ok_or_else(|| node_error(node, format!("index {i} out of range")))
                    })
                    .collect()
            }
            "Prod" => {
                let v = input(self, 0)?;
                Ok(vec![v.iter().try_fold(1i64, |p, d| d.map(|d| p * d))])
            }
            "StridedSlice" => {
                let v = input(self, 0)?;
                let spec = self.slice_spec(scope, node)?;
                let dims = spec.resolve(&[v.len()]).map_err(|e| node_error(node, e))?;
                Ok(crate::ops::slice_offsets(&[v.len()], &dims).into_iter().map(|o| v[o]).collect())
            }
            other => Err(node_error(node, format!("cannot compute a shape through TensorFlow op {other:?}"))),
        }
    }

    /// A `StridedSlice`'s constant bounds and masks.
    fn slice_spec(&mut self, scope: usize, node: &'a pb::NodeDef) -> Result<crate::ops::SliceSpec> {
        let mask = |key: &str| match node.attr.get(key).and_then(|a| a.value.as_ref()) {
            Some(AttrV::I(m)) => *m,
            _ => 0,
        };
        if mask("ellipsis_mask") != 0 || mask("new_axis_mask") != 0 {
            return Err(node_error(node, "ellipsis (...) and new-axis (None) slicing are not supported"));
        }
        Ok(crate::ops::SliceSpec {
            begin: self.ints(scope, node, 1)?,
            end: self.ints(scope, node, 2)?,
            strides: self.ints(scope, node, 3)?,
            begin_mask: mask("begin_mask"),
            end_mask: mask("end_mask"),
            shrink_axis_mask: mask("shrink_axis_mask"),
        })
    }

    fn int(&mut self, scope: usize, node: &'a pb::NodeDef, i: usize) -> Result<i64> {
        match self.ints(scope, node, i)?.as_slice() {
            [v] => Ok(*v),
            other => Err(node_error(node, format!("input {i} must be one integer, got {other:?}"))),
        }
    }

    fn dtype_attr(&self, node: &pb::NodeDef, key: &str) -> Result<crate::DataType> {
        match node.attr.get(key).and_then(|a| a.value.as_ref()) {
            Some(AttrV::Type(t)) => super::convert::dtype(*t).map_err(|e| node_error(node, e)),
            _ => Err(node_error(node, format!("no dtype attribute {key:?}"))),
        }
    }

    fn flag(node: &pb::NodeDef, key: &str) -> bool {
        matches!(node.attr.get(key).and_then(|a| a.value.as_ref()), Some(AttrV::B(true)))
    }

    /// Adds one of our nodes for TensorFlow node `node`, named uniquely.
    fn emit(
        &mut self,
        scope: usize,
        node: &pb::NodeDef,
        op: &str,
        inputs: &[String],
        attrs: Vec<(&str, Attr)>,
    ) -> String {
        self.emit_named(format!("{}{}", self.scopes[scope].prefix, node.name), op, inputs, attrs)
    }

    fn emit_named(&mut self, base: String, op: &str, inputs: &[String], attrs: Vec<(&str, Attr)>) -> String {
        let mut name = base.clone();
        let mut i = 0;
        while !self.names.insert(name.clone()) {
            i += 1;
            name = format!("{base}_{i}");
        }
        let mut n = Node { name: name.clone(), op: op.to_owned(), inputs: inputs.to_vec(), attrs: BTreeMap::new() };
        n.attrs.extend(attrs.into_iter().map(|(k, v)| (k.to_owned(), v)));
        self.nodes.push(n);
        name
    }

    /// Our `Variable` node for the variable behind resource `reference`.
    fn variable(&mut self, scope: usize, reference: &'a str) -> Result<String> {
        let (mut scope, mut reference) = self.outer(scope, reference);
        let var = loop {
            let node = self.node(scope, reference)?;
            match node.op.as_str() {
                "VarHandleOp" | "VariableV2" | "Variable" => break node,
                "Identity" => {
                    (scope, reference) = self.outer(scope, Self::data_inputs(node).first().copied().unwrap_or_default())
                }
                _ => return Err(node_error(node, "expected a variable handle")),
            }
        };
        let shared = match var.attr.get("shared_name").and_then(|a| a.value.as_ref()) {
            Some(AttrV::S(s)) => String::from_utf8(s.clone()).ok(),
            _ => None,
        };
        let key = [self.keys.get(&var.name).cloned(), shared, Some(var.name.clone())]
            .into_iter()
            .flatten()
            .find(|k| self.bundle.contains(k))
            .ok_or_else(|| node_error(var, "no checkpoint tensor restores this variable"))?;
        if !self.variables.contains_key(&key) {
            let value = self.bundle.get(&key)?;
            let attrs =
                vec![("dtype", Attr::Type(value.dtype())), ("shape", Attr::Shape(crate::Shape::known(value.shape())))];
            if !self.names.insert(key.clone()) {
                return Err(node_error(var, format!("checkpoint key {key:?} collides with a node name")));
            }
            self.nodes.push(Node {
                name: key.clone(),
                op: "Variable".into(),
                inputs: Vec::new(),
                attrs: attrs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            });
            self.variables.insert(key.clone(), value);
        }
        Ok(key)
    }

    /// Translates one TensorFlow node (output `index`).
    fn convert(&mut self, scope: usize, node: &'a pb::NodeDef, index: usize) -> Result<String> {
        let op = node.op.as_str();
        let multi_output = matches!(op, "StatefulPartitionedCall" | "PartitionedCall" | "IdentityN");
        if index != 0 && !multi_output {
            return Err(node_error(node, format!("output {index} of a single-output op")));
        }
        let unary = |this: &mut Self, ours: &str| -> Result<String> {
            let x = this.input(scope, node, 0)?;
            Ok(this.emit(scope, node, ours, &[x], vec![]))
        };
        let binary = |this: &mut Self, ours: &str| -> Result<String> {
            let (a, b) = (this.input(scope, node, 0)?, this.input(scope, node, 1)?);
            Ok(this.emit(scope, node, ours, &[a, b], vec![]))
        };
        Ok(match op {
            "Placeholder" => return Err(node_error(node, "a placeholder that is not a signature input")),
            "PlaceholderWithDefault" | "Identity" | "Snapshot" | "StopGradient" => unary(self, "Identity")?,
            "IdentityN" => {
                let x = self.input(scope, node, index)?;
                self.emit(scope, node, "Identity", &[x], vec![])
            }
            "Const" => {
                let value = self.constant_node(node)?;
                self.emit(scope, node, "Const", &[], vec![("value", Attr::Tensor(value))])
            }
            "ReadVariableOp" => {
                let reference =
                    Self::data_inputs(node).first().copied().ok_or_else(|| node_error(node, "no resource input"))?;
                self.variable(scope, reference)?
            }
            "VariableV2" | "Variable" => self.variable(scope, &node.name)?,
            "MatMul" => {
                let (a, b) = (self.input(scope, node, 0)?, self.input(scope, node, 1)?);
                let attrs = vec![
                    ("transpose_a", Attr::Bool(Self::flag(node, "transpose_a"))),
                    ("transpose_b", Attr::Bool(Self::flag(node, "transpose_b"))),
                ];
                self.emit(scope, node, "MatMul", &[a, b], attrs)
            }
            "BiasAdd" => {
                if let Some(AttrV::S(f)) = node.attr.get("data_format").and_then(|a| a.value.as_ref())
                    && f.as_slice() != b"NHWC"
                {
                    return Err(node_error(node, "only the NHWC data format is supported"));
                }
                binary(self, "BiasAdd")?
            }
            "Add" | "AddV2" => binary(self, "Add")?,
            "Sub" => binary(self, "Sub")?,
            "Mul" => binary(self, "Mul")?,
            "RealDiv" | "Div" => binary(self, "Div")?,
            "Equal" | "NotEqual" | "Maximum" | "Minimum" => binary(self, op)?,
            "SquaredDifference" => {
                let d = binary(self, "Sub")?;
                let base = format!("{d}/square");
                self.emit_named(base, "Square", &[d], vec![])
            }
            "LeakyRelu" => {
                let alpha = match node.attr.get("alpha").and_then(|a| a.value.as_ref()) {
                    Some(AttrV::F(a)) => *a,
                    _ => 0.2,
                };
                let x = self.input(scope, node, 0)?;
                let base = format!("{}{}", self.scopes[scope].prefix, node.name);
                let a = self.emit_named(
                    format!("{base}/alpha"),
                    "Const",
                    &[],
                    vec![("value", Attr::Tensor(Tensor::scalar(alpha)))],
                );
                let ax = self.emit_named(format!("{base}/scaled"), "Mul", &[x.clone(), a], vec![]);
                self.emit(scope, node, "Maximum", &[x, ax], vec![])
            }
            "Relu6" => {
                let r = unary(self, "Relu")?;
                let six = self.emit_named(
                    format!("{r}/six"),
                    "Const",
                    &[],
                    vec![("value", Attr::Tensor(Tensor::scalar(6.0f32)))],
                );
                self.emit_named(format!("{r}/min"), "Minimum", &[r, six], vec![])
            }
            "Transpose" => {
                let x = self.input(scope, node, 0)?;
                let perm = self.ints(scope, node, 1)?;
                self.emit(scope, node, "Transpose", &[x], vec![("perm", Attr::Ints(perm))])
            }
            "BatchMatMulV2" | "BatchMatMulV3" | "BatchMatMul" => {
                // Rank-2 operands only: then it is a MatMul (checked when typed).
                let (a, b) = (self.input(scope, node, 0)?, self.input(scope, node, 1)?);
                let attrs = vec![
                    ("transpose_a", Attr::Bool(Self::flag(node, "adj_x"))),
                    ("transpose_b", Attr::Bool(Self::flag(node, "adj_y"))),
                ];
                self.emit(scope, node, "MatMul", &[a, b], attrs)
            }
            "FusedBatchNorm" | "FusedBatchNormV2" | "FusedBatchNormV3" => self.batch_norm(scope, node)?,
            "Relu" | "Tanh" | "Sigmoid" | "Softmax" | "Square" | "Neg" | "Abs" | "Exp" | "Log" | "Sqrt" | "Rsqrt"
            | "Softplus" => unary(self, op)?,
            "Tile" => {
                let x = self.input(scope, node, 0)?;
                let multiples = self.ints(scope, node, 1)?;
                self.emit(scope, node, "Tile", &[x], vec![("multiples", Attr::Ints(multiples))])
            }
            "Reshape" => {
                let x = self.input(scope, node, 0)?;
                // One size known only at run time (the batch) becomes -1.
                let dims = self.dims(scope, node, 1)?;
                if dims.iter().filter(|d| d.is_none()).count() > 1 {
                    return Err(node_error(node, format!("more than one size of {dims:?} is known only at run time")));
                }
                let shape = dims.iter().map(|d| d.unwrap_or(-1)).collect();
                self.emit(scope, node, "Reshape", &[x], vec![("shape", Attr::Ints(shape))])
            }
            "ExpandDims" => {
                let x = self.input(scope, node, 0)?;
                let axis = self.int(scope, node, 1)?;
                self.emit(scope, node, "ExpandDims", &[x], vec![("axis", Attr::Int(axis))])
            }
            "Squeeze" => {
                let x = self.input(scope, node, 0)?;
                let axes = match node.attr.get("squeeze_dims").and_then(|a| a.value.as_ref()) {
                    Some(AttrV::List(l)) => l.i.clone(),
                    _ => Vec::new(),
                };
                self.emit(scope, node, "Squeeze", &[x], vec![("axes", Attr::Ints(axes))])
            }
            "ConcatV2" => {
                let inputs = Self::data_inputs(node);
                let n = inputs.len().saturating_sub(1);
                let axis = self.int(scope, node, n)?;
                let xs = (0..n).map(|i| self.input(scope, node, i)).collect::<Result<Vec<_>>>()?;
                self.emit(scope, node, "ConcatV2", &xs, vec![("axis", Attr::Int(axis))])
            }
            "Pack" => {
                let axis = match node.attr.get("axis").and_then(|a| a.value.as_ref()) {
                    Some(AttrV::I(a)) => *a,
                    _ => 0,
                };
                let n = Self::data_inputs(node).len();
                let mut parts = Vec::with_capacity(n);
                for i in 0..n {
                    let x = self.input(scope, node, i)?;
                    let base = format!("{}{}/expand_{i}", self.scopes[scope].prefix, node.name);
                    parts.push(self.emit_named(base, "ExpandDims", &[x], vec![("axis", Attr::Int(axis))]));
                }
                self.emit(scope, node, "ConcatV2", &parts, vec![("axis", Attr::Int(axis))])
            }
            "StridedSlice" => {
                let x = self.input(scope, node, 0)?;
                let spec = self.slice_spec(scope, node)?;
                let attrs = vec![
                    ("begin", Attr::Ints(spec.begin)),
                    ("end", Attr::Ints(spec.end)),
                    ("strides", Attr::Ints(spec.strides)),
                    ("begin_mask", Attr::Int(spec.begin_mask)),
                    ("end_mask", Attr::Int(spec.end_mask)),
                    ("shrink_axis_mask", Attr::Int(spec.shrink_axis_mask)),
                ];
                self.emit(scope, node, "StridedSlice", &[x], attrs)
            }
            "Cast" => {
                let to = self.dtype_attr(node, "DstT")?;
                let x = self.input(scope, node, 0)?;
                self.emit(scope, node, "Cast", &[x], vec![("to", Attr::Type(to))])
            }
            "ArgMax" => {
                let x = self.input(scope, node, 0)?;
                let axis = self.int(scope, node, 1)?;
                let out = self.dtype_attr(node, "output_type").unwrap_or(crate::DataType::I64);
                let arg = self.emit(scope, node, "ArgMax", &[x], vec![("axis", Attr::Int(axis))]);
                if out == crate::DataType::I64 {
                    arg
                } else {
                    let base = format!("{arg}/cast");
                    self.emit_named(base, "Cast", &[arg], vec![("to", Attr::Type(out))])
                }
            }
            "Sum" | "Mean" | "Max" | "Min" => {
                let x = self.input(scope, node, 0)?;
                let axes = self.ints(scope, node, 1)?;
                if axes.is_empty() {
                    // TensorFlow reduces nothing over an empty axis list; ours would reduce all.
                    self.emit(scope, node, "Identity", &[x], vec![])
                } else {
                    let ours = match op {
                        "Sum" => "ReduceSum",
                        "Mean" => "ReduceMean",
                        "Max" => "ReduceMax",
                        _ => "ReduceMin",
                    };
                    let keep = Self::flag(node, "keep_dims");
                    self.emit(
                        scope,
                        node,
                        ours,
                        &[x],
                        vec![("axes", Attr::Ints(axes)), ("keep_dims", Attr::Bool(keep))],
                    )
                }
            }
            "GatherV2" | "ResourceGather" => {
                if matches!(node.attr.get("batch_dims").and_then(|a| a.value.as_ref()), Some(AttrV::I(b)) if *b != 0) {
                    return Err(node_error(node, "batch_dims other than 0 is not supported"));
                }
                let params = if op == "ResourceGather" {
                    let reference = Self::data_inputs(node)
                        .first()
                        .copied()
                        .ok_or_else(|| node_error(node, "no resource input"))?;
                    self.variable(scope, reference)?
                } else {
                    self.input(scope, node, 0)?
                };
                let indices = self.input(scope, node, 1)?;
                let axis = if op == "GatherV2" { self.int(scope, node, 2)? } else { 0 };
                self.emit(scope, node, "Gather", &[params, indices], vec![("axis", Attr::Int(axis))])
            }
            "StatefulPartitionedCall" | "PartitionedCall" => self.call(scope, node, index)?,
            other => return Err(node_error(node, format!("TensorFlow op {other:?} is not supported by the importer"))),
        })
    }

    /// Inference-time batch normalisation, `x * inv + (offset - mean * inv)`
    /// with `inv = scale / sqrt(variance + epsilon)`, over the last (channel)
    /// dim; everything but the two ops on `x` folds at load.
    fn batch_norm(&mut self, scope: usize, node: &'a pb::NodeDef) -> Result<String> {
        if Self::flag(node, "is_training") {
            return Err(node_error(node, "training-mode batch normalisation is not supported"));
        }
        if let Some(AttrV::S(f)) = node.attr.get("data_format").and_then(|a| a.value.as_ref())
            && f.as_slice() != b"NHWC"
        {
            return Err(node_error(node, "only the NHWC data format is supported"));
        }
        let epsilon = match node.attr.get("epsilon").and_then(|a| a.value.as_ref()) {
            Some(AttrV::F(e)) => *e,
            _ => 1e-4,
        };
        let [x, scale, offset, mean, variance] = [0, 1, 2, 3, 4].map(|i| self.input(scope, node, i));
        let (x, scale, offset, mean, variance) = (x?, scale?, offset?, mean?, variance?);
        let base = format!("{}{}", self.scopes[scope].prefix, node.name);
        let eps = self.emit_named(
            format!("{base}/epsilon"),
            "Const",
            &[],
            vec![("value", Attr::Tensor(Tensor::scalar(epsilon)))],
        );
        let var_eps = self.emit_named(format!("{base}/variance_epsilon"), "Add", &[variance, eps], vec![]);
        let rsqrt = self.emit_named(format!("{base}/rsqrt"), "Rsqrt", &[var_eps], vec![]);
        let inv = self.emit_named(format!("{base}/inv"), "Mul", &[rsqrt, scale], vec![]);
        let shift = self.emit_named(format!("{base}/mean_inv"), "Mul", &[mean, inv.clone()], vec![]);
        let bias = self.emit_named(format!("{base}/bias"), "Sub", &[offset, shift], vec![]);
        let scaled = self.emit_named(format!("{base}/scaled"), "Mul", &[x, inv], vec![]);
        Ok(self.emit(scope, node, "Add", &[scaled, bias], vec![]))
    }

    fn constant_node(&self, node: &pb::NodeDef) -> Result<Tensor> {
        let Some(AttrV::Tensor(t)) = node.attr.get("value").and_then(|a| a.value.as_ref()) else {
            return Err(node_error(node, "a Const without a value"));
        };
        super::convert::tensor(t).map_err(|e| node_error(node, e))
    }

    /// Inlines a function call: a scope whose arguments are the call's
    /// inputs; output `index` is the function's `index`-th return value.
    fn call(&mut self, scope: usize, node: &'a pb::NodeDef, index: usize) -> Result<String> {
        let name = function_of(node).ok_or_else(|| node_error(node, "a call without a function"))?;
        let f = *self
            .functions
            .get(name)
            .ok_or_else(|| node_error(node, format!("function {name:?} is not in the library")))?;
        let sig = f.signature.as_ref().ok_or_else(|| node_error(node, "a function without a signature"))?;
        let depth = self.scopes[scope].depth + 1;
        if depth > 32 {
            return Err(node_error(node, "function calls nest more than 32 deep (recursive?)"));
        }
        let inputs = Self::data_inputs(node);
        let prefix = format!("{}{}/", self.scopes[scope].prefix, node.name);
        // One scope per call node: calls of one node share their inlined body.
        let callee = match self.scopes.iter().position(|s| s.prefix == prefix) {
            Some(s) => s,
            None => {
                let args = sig.input_arg.iter().zip(&inputs).map(|(a, &r)| (a.name.as_str(), (scope, r))).collect();
                self.scopes.push(Scope {
                    nodes: f.node_def.iter().map(|n| (n.name.as_str(), n)).collect(),
                    args,
                    prefix,
                    depth,
                });
                self.scopes.len() - 1
            }
        };
        let out =
            sig.output_arg.get(index).ok_or_else(|| node_error(node, format!("the function has no output {index}")))?;
        let ret =
            f.ret.get(&out.name).ok_or_else(|| node_error(node, format!("output {:?} is not returned", out.name)))?;
        self.tensor(callee, ret)
    }
}
