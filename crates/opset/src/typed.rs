//! `TypedGraph`: a graph checked once (ops parsed, inputs resolved, acyclic,
//! dtypes and shapes inferred) and sorted so every node follows its inputs;
//! plus the reference evaluator that runs it with the ops' kernels.

use std::collections::HashMap;

use crate::graph::{Graph, parse_tensor_ref};
use crate::ops::{Op, OpError, TensorType};
use crate::{Assets, Error, Result, Tensor};

/// A validated graph in topological order.
#[derive(Debug, Clone)]
pub struct TypedGraph {
    nodes: Vec<TypedNode>,
    by_name: HashMap<String, usize>,
}

/// A node of a [`TypedGraph`]; its inputs are indices of earlier nodes.
#[derive(Debug, Clone)]
pub struct TypedNode {
    /// The node's name in the artifact.
    pub name: String,
    /// The op and its attributes.
    pub op: Op,
    /// Indices of the input nodes, all smaller than this node's.
    pub inputs: Vec<usize>,
    /// The inferred dtype and shape of the output.
    pub ty: TensorType,
}

impl TypedNode {
    /// An error about this node.
    pub fn error(&self, reason: impl Into<String>) -> Error {
        Error::Node { node: self.name.clone(), op: self.op.name().to_owned(), reason: reason.into() }
    }

    /// `source`, refused by this node's op, as an error naming the node.
    pub fn op_error(&self, source: OpError) -> Error {
        Error::Op { node: self.name.clone(), op: self.op.name().to_owned(), source }
    }
}

impl TypedGraph {
    /// Validates `graph`: names unique, every op known with its attributes,
    /// every input present with the right count, no cycle, dtypes and shapes
    /// consistent. `assets` resolves the files ops read at load.
    ///
    /// Nodes are sorted so each follows its inputs; a graph already in that
    /// order (as a builder writes it) keeps every node at its position.
    ///
    /// # Errors
    /// [`Error::DuplicateNode`], [`Error::UnknownOp`], [`Error::MissingInput`],
    /// [`Error::Cycle`] or [`Error::Node`], each naming the node.
    pub fn new(graph: &Graph, assets: &Assets) -> Result<TypedGraph> {
        let mut index = HashMap::with_capacity(graph.nodes.len());
        for (i, node) in graph.nodes.iter().enumerate() {
            if index.insert(node.name.as_str(), i).is_some() {
                return Err(Error::DuplicateNode { node: node.name.clone() });
            }
        }
        let mut ops = Vec::with_capacity(graph.nodes.len());
        let mut edges = Vec::with_capacity(graph.nodes.len());
        for node in &graph.nodes {
            ops.push(Op::parse(node, assets)?);
            let inputs = node
                .inputs
                .iter()
                .map(|input| {
                    let (name, output) = parse_tensor_ref(input);
                    let &j = index
                        .get(name)
                        .ok_or_else(|| Error::MissingInput { node: node.name.clone(), input: input.clone() })?;
                    if output != 0 {
                        return Err(node.error(format!("input {input:?}: every op has a single output (:0)")));
                    }
                    Ok(j)
                })
                .collect::<Result<Vec<_>>>()?;
            edges.push(inputs);
        }
        let order = topological_order(&edges).map_err(|i| Error::Cycle { node: graph.nodes[i].name.clone() })?;
        let mut position = vec![0; order.len()];
        for (p, &i) in order.iter().enumerate() {
            position[i] = p;
        }
        let mut ops: Vec<Option<Op>> = ops.into_iter().map(Some).collect();
        let mut nodes: Vec<TypedNode> = Vec::with_capacity(order.len());
        for &i in &order {
            let source = &graph.nodes[i];
            let op = ops[i].take().ok_or_else(|| source.error("visited twice"))?;
            let inputs: Vec<usize> = edges[i].iter().map(|&j| position[j]).collect();
            let types: Vec<TensorType> = inputs.iter().map(|&j| nodes[j].ty.clone()).collect();
            let ty = op.infer(&types).map_err(|e| source.op_error(e))?;
            let known: Vec<usize> = ty.shape.0.iter().map(|d| d.unwrap_or(1)).collect();
            if crate::shape::volume(&known).is_none() {
                return Err(source.error(format!(
                    "its output shape {} is absurd (over {} elements, a 0 dim counted as 1, or over {} dims)",
                    ty.shape,
                    crate::ops::MAX_ELEMENTS,
                    crate::ops::MAX_RANK
                )));
            }
            nodes.push(TypedNode { name: source.name.clone(), op, inputs, ty });
        }
        let by_name = nodes.iter().enumerate().map(|(i, n)| (n.name.clone(), i)).collect();
        Ok(TypedGraph { nodes, by_name })
    }

    /// The nodes, each after its inputs.
    pub fn nodes(&self) -> &[TypedNode] {
        &self.nodes
    }

    /// The index of the node producing tensor `reference` (`node` or `node:0`).
    ///
    /// # Errors
    /// [`Error::MissingInput`] if no node has that name or the output index is not 0.
    pub fn resolve(&self, reference: &str) -> Result<usize> {
        let (name, output) = parse_tensor_ref(reference);
        match self.by_name.get(name) {
            Some(&i) if output == 0 => Ok(i),
            _ => Err(Error::MissingInput { node: "(signature)".into(), input: reference.to_owned() }),
        }
    }

    /// Marks the nodes `targets` depend on (themselves included).
    pub fn needed(&self, targets: &[usize]) -> Vec<bool> {
        let mut needed = vec![false; self.nodes.len()];
        let mut stack: Vec<usize> = targets.to_vec();
        while let Some(i) = stack.pop() {
            if !std::mem::replace(&mut needed[i], true) {
                stack.extend(&self.nodes[i].inputs);
            }
        }
        needed
    }

    /// Computes every node `targets` need, in order, with the reference kernels.
    ///
    /// `values` has one slot per node. The caller fills the slots of the
    /// placeholders and variables involved; other slots are computed (a slot
    /// already holding a tensor has its allocation reused). Fed values are
    /// checked against their node's dtype and shape.
    ///
    /// # Errors
    /// [`Error::Node`] naming a source left empty, a fed value of the wrong
    /// dtype or shape, or a node whose kernel failed.
    pub fn evaluate(&self, targets: &[usize], values: &mut [Option<Tensor>]) -> Result<()> {
        if values.len() != self.nodes.len() {
            return Err(Error::Shape {
                what: "evaluation values".into(),
                reason: format!("expected {} slots, got {}", self.nodes.len(), values.len()),
            });
        }
        let needed = self.needed(targets);
        for (i, node) in self.nodes.iter().enumerate().filter(|(i, _)| needed[*i]) {
            let (done, rest) = values.split_at_mut(i);
            let slot = &mut rest[0];
            if matches!(node.op, Op::Placeholder(_) | Op::Variable(_)) {
                let value = slot.as_ref().ok_or_else(|| node.error("no value was supplied for this source"))?;
                self.check(node, value)?;
                continue;
            }
            let inputs = node
                .inputs
                .iter()
                .map(|&j| {
                    done[j].as_ref().ok_or_else(|| node.error(format!("input {} has no value", self.nodes[j].name)))
                })
                .collect::<Result<Vec<&Tensor>>>()?;
            let out = slot.get_or_insert_with(|| Tensor::empty(node.ty.dtype));
            node.op.eval(&inputs, out).map_err(|e| node.op_error(e))?;
            self.check(node, out)?;
        }
        Ok(())
    }

    /// Checks a value against its node's declared dtype and shape.
    pub(crate) fn check(&self, node: &TypedNode, value: &Tensor) -> Result<()> {
        if value.dtype() != node.ty.dtype {
            return Err(node.error(format!("expected dtype {}, got {}", node.ty.dtype, value.dtype())));
        }
        if !node.ty.shape.accepts(value.shape()) {
            return Err(node.error(format!("expected shape {}, got {:?}", node.ty.shape, value.shape())));
        }
        Ok(())
    }
}

/// Kahn's algorithm over `inputs[i]` (the nodes `i` reads); returns a node
/// order with inputs first, or a node on a cycle. Stable: among ready nodes
/// the earliest comes first, so a graph already in order keeps its order.
/// Iterative: a hostile, very deep graph cannot overflow the stack.
fn topological_order(inputs: &[Vec<usize>]) -> std::result::Result<Vec<usize>, usize> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    let n = inputs.len();
    let mut pending: Vec<usize> = inputs.iter().map(Vec::len).collect();
    let mut consumers = vec![Vec::new(); n];
    for (i, ins) in inputs.iter().enumerate() {
        for &j in ins {
            consumers[j].push(i);
        }
    }
    let mut ready: BinaryHeap<Reverse<usize>> = (0..n).filter(|&i| pending[i] == 0).map(Reverse).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(Reverse(i)) = ready.pop() {
        order.push(i);
        for &c in &consumers[i] {
            pending[c] -= 1;
            if pending[c] == 0 {
                ready.push(Reverse(c));
            }
        }
    }
    if order.len() == n { Ok(order) } else { Err((0..n).find(|&i| pending[i] > 0).unwrap_or(0)) }
}
