//! The graph importer: from a TensorFlow meta graph, the nodes each
//! signature needs (pruned from its outputs), translated into our op set,
//! with `StatefulPartitionedCall`s inlined from the function library and
//! variables resolved to their checkpoint tensors.
//!
//! This file holds the machinery every translation uses (scopes, inputs,
//! calls, variables, the emission of our typed nodes); [`ops`] holds what
//! each TensorFlow op becomes, registered per family.

use std::collections::{BTreeMap, HashMap, HashSet};

mod attr;
mod lookup_tables;
mod ops;
mod shapes;

use export::{MetaGraph, Signature, TensorInfo};
use opset::ops::array::{Placeholder, Variable};
use opset::{Graph, Node, Op, Tensor, TensorType};

use crate::bundle::TfBundle;
use crate::pb;
use crate::pb::attr_value::Value as AttrV;
use crate::restore::{checkpoint_keys, function_of, node_name, output_index};
use crate::{Error, Result};

/// Where a TensorFlow node lives: the top-level graph, or an inlined call.
struct Scope<'a> {
    nodes: HashMap<&'a str, &'a pb::NodeDef>,
    /// Function arguments -> (caller's scope, caller's tensor reference).
    args: HashMap<&'a str, (usize, &'a str)>,
    /// Prefix of our node names for this scope (`call/` for an inlined call).
    prefix: String,
    /// How many calls deep this scope is.
    depth: usize,
    /// The function this scope runs (none for the top-level graph).
    function: Option<&'a pb::FunctionDef>,
    /// Function arguments bound to our tensors: a loop body's arguments are
    /// the placeholders of its subgraph (in a TF1 frame's body, its
    /// `Merge`, `Switch` and loop-invariant `Enter` nodes).
    bound: HashMap<&'a str, String>,
    /// The values of bound nodes that fold to small integers (a TF1 frame's
    /// loop-invariant `Enter` of a constant or of a shape): what
    /// [`Importer::shape_value`] gives for them.
    folded: HashMap<&'a str, Vec<Option<i64>>>,
}

/// Translates one TensorFlow meta graph into ours, from the signatures'
/// outputs back through what they need, each TensorFlow tensor once.
pub(crate) struct Importer<'a> {
    /// The function library, by name.
    functions: HashMap<&'a str, &'a pb::FunctionDef>,
    /// Top-level variable node name -> checkpoint key.
    keys: HashMap<String, String>,
    bundle: &'a TfBundle,
    /// The top-level graph (0) and each inlined call.
    scopes: Vec<Scope<'a>>,
    /// Our nodes, in the order emitted (each after its inputs).
    nodes: Vec<Node>,
    /// The dtype and shape of each of our tensors emitted so far, by name:
    /// each op's output rule applied as it is emitted.
    types: HashMap<String, TensorType>,
    /// The names of our nodes, each unique.
    names: HashSet<String>,
    /// (scope, TensorFlow node, output) -> our tensor computing it.
    memo: HashMap<(usize, &'a str, usize), String>,
    /// Tensors being translated: meeting one again means a cycle.
    visiting: HashSet<(usize, &'a str, usize)>,
    /// The variables our graph reads, by checkpoint key.
    variables: BTreeMap<String, Tensor>,
    /// The version's `assets/` directory, and the files the graph reads from it.
    assets_dir: std::path::PathBuf,
    assets: std::collections::BTreeSet<String>,
    /// For each function of the object graph, the top-level constant each
    /// bound input is (`None` for other kinds): how a TF2 key-value table's
    /// initializer gets its keys and values.
    bound_constants: HashMap<&'a str, Vec<Option<&'a str>>>,
    /// The body of each loop translated so far, by (scope, `While` node):
    /// shared by the loop's outputs.
    loop_bodies: HashMap<(usize, &'a str), std::sync::Arc<opset::ops::control::LoopBody>>,
    /// The branches of each conditional translated so far, by (scope, `If`
    /// node): shared by the conditional's outputs.
    cond_branches: HashMap<(usize, &'a str), std::sync::Arc<opset::ops::control::Branches>>,
    /// Each TF1 loop frame translated so far, by (scope, frame name): its
    /// body and loop variables, shared by the frame's `Exit`s.
    frames: HashMap<(usize, &'a str), ops::Frame<'a>>,
}

/// What the importer was emitting into before it started a subgraph.
struct Emitting {
    nodes: Vec<Node>,
    types: HashMap<String, TensorType>,
    names: HashSet<String>,
}

/// How deep the importer follows inputs (recursively) before refusing the
/// graph: deeper than any model's longest path (BERT-large is ~3,000 ops
/// deep), and a hostile chain must not overflow the stack.
const MAX_DEPTH: usize = 10_000;

/// The importer follows inputs recursively: when the stack left is below
/// this, the next levels run on a fresh segment of [`STACK_SEGMENT`] bytes
/// (whatever the caller's stack, [`MAX_DEPTH`] levels fit).
const STACK_RED_ZONE: usize = 256 << 10;
const STACK_SEGMENT: usize = 4 << 20;

/// An error about TensorFlow node `node`.
fn node_error(node: &pb::NodeDef, reason: impl Into<String>) -> Error {
    Error::Node { node: node.name.clone(), op: node.op.clone(), reason: reason.into() }
}

impl<'a> Importer<'a> {
    /// An importer of `graph`, whose variables are in `bundle` and assets
    /// in `assets_dir`.
    pub fn new(graph: &'a pb::GraphDef, bundle: &'a TfBundle, assets_dir: std::path::PathBuf) -> Importer<'a> {
        let functions = graph.functions();
        let top = Scope {
            nodes: graph.node.iter().map(|n| (n.name.as_str(), n)).collect(),
            args: HashMap::new(),
            prefix: String::new(),
            depth: 0,
            function: None,
            bound: HashMap::new(),
            folded: HashMap::new(),
        };
        Importer {
            functions,
            keys: checkpoint_keys(graph),
            bundle,
            scopes: vec![top],
            nodes: Vec::new(),
            types: HashMap::new(),
            names: HashSet::new(),
            memo: HashMap::new(),
            visiting: HashSet::new(),
            variables: BTreeMap::new(),
            assets_dir,
            assets: std::collections::BTreeSet::new(),
            bound_constants: HashMap::new(),
            loop_bodies: HashMap::new(),
            cond_branches: HashMap::new(),
            frames: HashMap::new(),
        }
    }

    /// Imports the signatures of `meta` (TensorFlow's internal `__*` ones
    /// aside) into one graph.
    pub fn import(mut self, meta: &'a pb::MetaGraphDef) -> Result<(MetaGraph, BTreeMap<String, Tensor>)> {
        if let Some(objects) = &meta.object_graph_def {
            let constant = |id: &i32| {
                let node = objects.nodes.get(usize::try_from(*id).ok()?)?;
                node.constant.as_ref().map(|c| c.operation.as_str())
            };
            self.bound_constants = objects
                .concrete_functions
                .iter()
                .map(|(name, f)| (name.as_str(), f.bound_inputs.iter().map(constant).collect()))
                .collect();
        }
        let mut signatures = BTreeMap::new();
        for (key, sig) in meta.signature_def.iter().filter(|(k, _)| !k.starts_with("__")) {
            let fail = |reason: String| Error::Signature { signature: key.clone(), reason };
            let mut inputs = BTreeMap::new();
            for (name, info) in &sig.inputs {
                let tensor = self.placeholder(&info.name).map_err(|e| fail(format!("input {name:?}: {e}")))?;
                let dtype = crate::tensor_proto::dtype(info.dtype).map_err(|e| fail(format!("input {name:?}: {e}")))?;
                let shape = crate::tensor_proto::shape(info.tensor_shape.as_ref())
                    .map_err(|e| fail(format!("input {name:?}: {e}")))?;
                inputs.insert(name.clone(), TensorInfo { name: tensor, dtype, shape });
            }
            let mut outputs = BTreeMap::new();
            for (name, info) in &sig.outputs {
                let tensor = self.tensor(0, &info.name)?;
                let dtype =
                    crate::tensor_proto::dtype(info.dtype).map_err(|e| fail(format!("output {name:?}: {e}")))?;
                // The graph's inferred shape: TensorFlow often leaves it
                // unknown in the signature.
                let shape = match self.types.get(&tensor) {
                    Some(ty) => ty.shape.clone(),
                    None => crate::tensor_proto::shape(info.tensor_shape.as_ref())
                        .unwrap_or_else(|_| opset::Shape(Vec::new())),
                };
                outputs.insert(name.clone(), TensorInfo { name: tensor, dtype, shape });
            }
            signatures.insert(key.clone(), Signature { method_name: sig.method_name.clone(), inputs, outputs });
        }
        let graph = Graph { nodes: self.nodes };
        let tags = meta.meta_info_def.as_ref().map(|m| m.tags.clone()).unwrap_or_default();
        let assets = self.assets.into_iter().collect();
        Ok((MetaGraph { tags, graph, signatures, assets }, self.variables))
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
        let dtype = attr::dtype(node, "dtype")?;
        let shape = match attr::get(node, "shape") {
            Some(AttrV::Shape(s)) => crate::tensor_proto::shape(Some(s)).map_err(|e| node_error(node, e))?,
            _ => return Err(node_error(node, "no shape attribute")),
        };
        let name = self.emit(0, node, Placeholder { dtype, shape }, &[])?;
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
        if let Some(bound) = self.scopes[scope].bound.get(node_name(reference)) {
            return Ok(bound.clone());
        }
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
        let name = stacker::maybe_grow(STACK_RED_ZONE, STACK_SEGMENT, || self.translate(scope, node, index));
        self.visiting.remove(&key);
        let name = name?;
        self.memo.insert(key, name.clone());
        Ok(name)
    }

    /// The data inputs of a node (control inputs `^x` dropped).
    fn data_inputs(node: &'a pb::NodeDef) -> Vec<&'a str> {
        node.input.iter().filter(|i| !i.starts_with('^')).map(String::as_str).collect()
    }

    /// Our tensor for data input `i` of `node`.
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

    /// Our tensors for data inputs `range` of `node`, in order.
    fn inputs(&mut self, scope: usize, node: &'a pb::NodeDef, range: std::ops::Range<usize>) -> Result<Vec<String>> {
        range.map(|i| self.input(scope, node, i)).collect()
    }

    /// The value of a `Const` node.
    fn constant_node(&self, node: &pb::NodeDef) -> Result<Tensor> {
        let Some(AttrV::Tensor(t)) = attr::get(node, "value") else {
            return Err(node_error(node, "a Const without a value"));
        };
        crate::tensor_proto::tensor(t).map_err(|e| node_error(node, e))
    }

    /// The name our node for TensorFlow node `node` of `scope` is based on
    /// (the TensorFlow name, under the prefix of an inlined call); the
    /// helper nodes of a translation add `/<what>` to it.
    fn base(&self, scope: usize, node: &pb::NodeDef) -> String {
        format!("{}{}", self.scopes[scope].prefix, node.name)
    }

    /// Adds our node computing `op` on `inputs` for TensorFlow node `node`,
    /// named after it, and returns its name.
    ///
    /// # Errors
    /// [`Error::Node`] naming `node` when the op's output rule refuses the
    /// inputs' types.
    fn emit(&mut self, scope: usize, node: &pb::NodeDef, op: impl Into<Op>, inputs: &[String]) -> Result<String> {
        self.emit_named(node, self.base(scope, node), op, inputs)
    }

    /// As [`Importer::emit`], for our node named `base` (made unique with a
    /// `_<n>` suffix): a helper node of `node`'s translation.
    fn emit_named(&mut self, node: &pb::NodeDef, base: String, op: impl Into<Op>, inputs: &[String]) -> Result<String> {
        let mut name = base.clone();
        let mut i = 0;
        while !self.names.insert(name.clone()) {
            i += 1;
            name = format!("{base}_{i}");
        }
        self.add(node, name.clone(), op.into(), inputs)?;
        Ok(name)
    }

    /// Adds our node `name` computing `op` on `inputs`, typed by the op's
    /// output rule on the inputs' types; a refusal names TensorFlow node `node`.
    fn add(&mut self, node: &pb::NodeDef, name: String, op: Op, inputs: &[String]) -> Result<()> {
        let types = inputs.iter().map(|x| self.type_of(node, x).cloned()).collect::<Result<Vec<_>>>()?;
        let ty = op.infer(&types).map_err(|e| node_error(node, e.to_string()))?;
        self.nodes.push(op.to_node(name.clone(), inputs.to_vec()));
        self.types.insert(name, ty);
        Ok(())
    }

    /// The dtype and shape of our tensor `tensor`, read by TensorFlow node `node`.
    fn type_of(&self, node: &pb::NodeDef, tensor: &str) -> Result<&TensorType> {
        self.types.get(tensor).ok_or_else(|| node_error(node, format!("our tensor {tensor:?} was never emitted")))
    }

    /// The resource (variable handle) `node` reads: its first data input.
    fn resource_input(node: &'a pb::NodeDef) -> Result<&'a str> {
        Self::data_inputs(node).first().copied().ok_or_else(|| node_error(node, "no resource input"))
    }

    /// Our `Variable` node for the variable behind resource `reference` (in
    /// a loop body, the loop variable holding its value).
    fn variable(&mut self, scope: usize, reference: &'a str) -> Result<String> {
        let (mut scope, mut reference) = self.outer(scope, reference);
        let var = loop {
            if let Some(bound) = self.scopes[scope].bound.get(node_name(reference)) {
                return Ok(bound.clone());
            }
            let node = self.node(scope, reference)?;
            match node.op.as_str() {
                "VarHandleOp" | "VariableV2" | "Variable" => break node,
                "Identity" => {
                    (scope, reference) = self.outer(scope, Self::data_inputs(node).first().copied().unwrap_or_default())
                }
                _ => return Err(node_error(node, "expected a variable handle")),
            }
        };
        let shared = match attr::get(var, "shared_name") {
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
            if !self.names.insert(key.clone()) {
                return Err(node_error(var, format!("checkpoint key {key:?} collides with a node name")));
            }
            let op = Variable { dtype: value.dtype(), shape: value.shape().to_vec() };
            self.add(var, key.clone(), op.into(), &[])?;
            self.variables.insert(key.clone(), value);
        }
        Ok(key)
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
        let prefix = format!("{}/", self.base(scope, node));
        // One scope per call node: calls of one node share their inlined body.
        let callee = match self.scopes.iter().position(|s| s.prefix == prefix) {
            Some(s) => s,
            None => {
                let callee = self.push_scope(f, prefix, depth, HashMap::new());
                self.scopes[callee].args =
                    sig.input_arg.iter().zip(&inputs).map(|(a, &r)| (a.name.as_str(), (scope, r))).collect();
                callee
            }
        };
        let out =
            sig.output_arg.get(index).ok_or_else(|| node_error(node, format!("the function has no output {index}")))?;
        let ret =
            f.ret.get(&out.name).ok_or_else(|| node_error(node, format!("output {:?} is not returned", out.name)))?;
        self.tensor(callee, ret)
    }

    /// A new scope running function `f`, its arguments `bound` to our tensors.
    fn push_scope(
        &mut self,
        f: &'a pb::FunctionDef,
        prefix: String,
        depth: usize,
        bound: HashMap<&'a str, String>,
    ) -> usize {
        self.scopes.push(Scope {
            nodes: f.node_def.iter().map(|n| (n.name.as_str(), n)).collect(),
            args: HashMap::new(),
            prefix,
            depth,
            function: Some(f),
            bound,
            folded: HashMap::new(),
        });
        self.scopes.len() - 1
    }

    /// The function `scope` runs.
    fn scope_function(&self, scope: usize) -> Option<&'a pb::FunctionDef> {
        self.scopes[scope].function
    }

    /// Starts emitting into a new, empty graph (a loop's or a branch's
    /// subgraph); returns what [`Importer::leave_subgraph`] restores.
    fn enter_subgraph(&mut self) -> Emitting {
        Emitting {
            nodes: std::mem::take(&mut self.nodes),
            types: std::mem::take(&mut self.types),
            names: std::mem::take(&mut self.names),
        }
    }

    /// Goes back to emitting into the graph `outer` was taken from; returns
    /// the subgraph's nodes.
    fn leave_subgraph(&mut self, outer: Emitting) -> Vec<Node> {
        self.types = outer.types;
        self.names = outer.names;
        std::mem::replace(&mut self.nodes, outer.nodes)
    }

    /// Where the assets the graph reads so far are.
    fn asset_paths(&self) -> Result<opset::Assets> {
        Ok(opset::Assets::in_dir(&self.assets_dir, self.assets.iter().map(String::as_str))?)
    }
}

#[cfg(test)]
mod tests;
