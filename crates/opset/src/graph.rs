//! The graph IR as stored in the artifact: named nodes, each an op with
//! inputs and typed attributes. [`crate::TypedGraph`] is its validated form.

use std::collections::BTreeMap;

use crate::{DataType, Error, Result, Shape, Tensor};

/// A dataflow graph: a list of nodes, acyclic, in any order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Graph {
    /// The nodes; names are unique.
    pub nodes: Vec<Node>,
}

/// One op application.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Unique name within the graph.
    pub name: String,
    /// The op, one of the set ([`crate::ops::CATALOG`]).
    pub op: String,
    /// Inputs, each `node` or `node:N` (output `N` of `node`).
    pub inputs: Vec<String>,
    /// Typed attributes, as documented per op in [`crate::ops`].
    pub attrs: BTreeMap<String, Attr>,
}

/// A typed attribute value.
#[derive(Debug, Clone, PartialEq)]
pub enum Attr {
    /// An integer (axis, bucket count...).
    Int(i64),
    /// A float.
    Float(f32),
    /// A flag.
    Bool(bool),
    /// A string (an asset file name...).
    Str(String),
    /// A dtype.
    Type(DataType),
    /// A shape, possibly with unknown dims.
    Shape(Shape),
    /// A constant tensor.
    Tensor(Tensor),
    /// A list of integers (axes, multiples, a target shape).
    Ints(Vec<i64>),
    /// A subgraph (the body of a loop: [`crate::ops::control::While`]).
    Graph(Graph),
}

impl Node {
    /// A node with no attribute.
    pub fn new(name: impl Into<String>, op: impl Into<String>, inputs: &[&str]) -> Node {
        Node {
            name: name.into(),
            op: op.into(),
            inputs: inputs.iter().map(|s| (*s).to_owned()).collect(),
            attrs: BTreeMap::new(),
        }
    }

    /// Adds an attribute (builder style).
    pub fn with(mut self, key: &str, value: Attr) -> Node {
        self.attrs.insert(key.to_owned(), value);
        self
    }

    pub(crate) fn error(&self, reason: impl Into<String>) -> Error {
        Error::Node { node: self.name.clone(), op: self.op.clone(), reason: reason.into() }
    }

    /// `source`, refused by this node's op, as an error naming the node.
    pub fn op_error(&self, source: crate::ops::OpError) -> Error {
        Error::Op { node: self.name.clone(), op: self.op.clone(), source }
    }

    /// The attribute `key`, or an error naming the node.
    pub(crate) fn attr(&self, key: &str) -> Result<&Attr> {
        self.attrs.get(key).ok_or_else(|| self.error(format!("missing attribute {key:?}")))
    }

    pub(crate) fn attr_int(&self, key: &str) -> Result<i64> {
        match self.attr(key)? {
            Attr::Int(i) => Ok(*i),
            other => Err(self.error(format!("attribute {key:?}: expected an int, got {other:?}"))),
        }
    }

    pub(crate) fn attr_ints(&self, key: &str) -> Result<&[i64]> {
        match self.attr(key)? {
            Attr::Ints(v) => Ok(v),
            other => Err(self.error(format!("attribute {key:?}: expected a list of ints, got {other:?}"))),
        }
    }

    pub(crate) fn attr_type(&self, key: &str) -> Result<DataType> {
        match self.attr(key)? {
            Attr::Type(t) => Ok(*t),
            other => Err(self.error(format!("attribute {key:?}: expected a dtype, got {other:?}"))),
        }
    }

    pub(crate) fn attr_shape(&self, key: &str) -> Result<&Shape> {
        match self.attr(key)? {
            Attr::Shape(s) => Ok(s),
            other => Err(self.error(format!("attribute {key:?}: expected a shape, got {other:?}"))),
        }
    }

    pub(crate) fn attr_str(&self, key: &str) -> Result<&str> {
        match self.attr(key)? {
            Attr::Str(s) => Ok(s),
            other => Err(self.error(format!("attribute {key:?}: expected a string, got {other:?}"))),
        }
    }

    pub(crate) fn attr_tensor(&self, key: &str) -> Result<&Tensor> {
        match self.attr(key)? {
            Attr::Tensor(t) => Ok(t),
            other => Err(self.error(format!("attribute {key:?}: expected a tensor, got {other:?}"))),
        }
    }

    pub(crate) fn attr_graph(&self, key: &str) -> Result<&Graph> {
        match self.attr(key)? {
            Attr::Graph(g) => Ok(g),
            other => Err(self.error(format!("attribute {key:?}: expected a graph, got {other:?}"))),
        }
    }

    /// An optional flag, `false` when absent.
    pub(crate) fn attr_flag(&self, key: &str) -> Result<bool> {
        match self.attrs.get(key) {
            None => Ok(false),
            Some(Attr::Bool(b)) => Ok(*b),
            Some(other) => Err(self.error(format!("attribute {key:?}: expected a bool, got {other:?}"))),
        }
    }
}

/// Splits a tensor reference `node` or `node:N` into the node name and output index.
///
/// A name may itself contain `:` only if followed by a non-number, so
/// `scope:weird` is node `scope:weird`, output 0.
pub fn parse_tensor_ref(reference: &str) -> (&str, usize) {
    match reference.rsplit_once(':') {
        Some((node, index)) if !index.is_empty() && index.bytes().all(|b| b.is_ascii_digit()) => {
            (node, index.parse().unwrap_or(usize::MAX))
        }
        _ => (reference, 0),
    }
}
