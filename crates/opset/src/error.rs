//! The one error type of the `opset` crate.

use std::path::PathBuf;

use crate::DataType;

/// Everything that can go wrong building, validating or evaluating a graph,
/// or reading what it refers to (assets, vocabularies). Each variant names
/// the file, tensor or node concerned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or directory could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done (`reading`, `writing`, `renaming`...).
        action: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The artifact is in a well-formed encoding but says something impossible.
    #[error("{path}: {reason}")]
    Malformed {
        /// The file concerned.
        path: PathBuf,
        /// What is wrong, with the offending values.
        reason: String,
    },
    /// The graph is invalid at a given node.
    #[error("node {node:?} ({op}): {reason}")]
    Node {
        /// The node's name.
        node: String,
        /// The node's op.
        op: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An op refused its inputs at a node: its output rule at load, or its
    /// kernel at run time.
    #[error("node {node:?} ({op}): {source}")]
    Op {
        /// The node's name.
        node: String,
        /// The node's op.
        op: String,
        /// What the op refused.
        source: crate::ops::OpError,
    },
    /// The graph refers to an op this build does not know.
    #[error("node {node:?}: unknown op {op:?} (op set version {version})")]
    UnknownOp {
        /// The node's name.
        node: String,
        /// The unknown op.
        op: String,
        /// The op set this build implements.
        version: u32,
    },
    /// A node refers to an input that no node produces.
    #[error("node {node:?}: input {input:?} names no node of the graph")]
    MissingInput {
        /// The node's name.
        node: String,
        /// The dangling input reference.
        input: String,
    },
    /// The graph has a cycle through the named node.
    #[error("the graph has a cycle through node {node:?}")]
    Cycle {
        /// A node on the cycle.
        node: String,
    },
    /// Two nodes share a name.
    #[error("two nodes are named {node:?}")]
    DuplicateNode {
        /// The repeated name.
        node: String,
    },
    /// A tensor has another dtype than the one expected.
    #[error("{what}: expected dtype {expected}, got {got}")]
    DType {
        /// The tensor concerned (a key, node or variable).
        what: String,
        /// The dtype expected.
        expected: DataType,
        /// The dtype found.
        got: DataType,
    },
    /// A shape whose element count overflows or contradicts its data.
    #[error("{what}: {reason}")]
    Shape {
        /// The tensor concerned.
        what: String,
        /// What is wrong with its shape.
        reason: String,
    },
}

/// The `Result` of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An I/O error on `path` while doing `action`.
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { action, path, source }
    }

    /// A malformed-file error on `path`.
    pub(crate) fn malformed(path: impl Into<PathBuf>, reason: impl Into<String>) -> Error {
        Error::Malformed { path: path.into(), reason: reason.into() }
    }
}
