//! The one error type of the `tf-import` crate.

use std::path::PathBuf;

/// Everything that can go wrong reading a TensorFlow SavedModel and
/// importing it. Each variant names the file, tensor, node or signature
/// concerned (TensorFlow's names).
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
    /// A protobuf file could not be decoded (truncated or garbage bytes).
    #[error("{path} is not a valid {message}: {source}")]
    Decode {
        /// The file concerned.
        path: PathBuf,
        /// The protobuf message that was expected.
        message: &'static str,
        /// The decoder's error.
        source: prost::DecodeError,
    },
    /// The artifact is in a well-formed encoding but says something impossible.
    #[error("{path}: {reason}")]
    Malformed {
        /// The file concerned.
        path: PathBuf,
        /// What is wrong, with the offending values.
        reason: String,
    },
    /// A variable's bytes do not match the checksum recorded in the index.
    #[error("variable {name:?} is corrupt: crc32c {actual:#010x} of its bytes, index says {expected:#010x}")]
    Checksum {
        /// The variable's name.
        name: String,
        /// The checksum recorded in the index.
        expected: u32,
        /// The checksum of the bytes found.
        actual: u32,
    },
    /// A variable the graph or the caller asked for is not in the bundle.
    #[error("variable {name:?} is not in the variables bundle")]
    MissingVariable {
        /// The variable's name.
        name: String,
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
    /// A signature refers to something the graph does not have, or does not exist.
    #[error("signature {signature:?}: {reason}")]
    Signature {
        /// The signature's key.
        signature: String,
        /// What is wrong.
        reason: String,
    },
    /// An error of the artifact the import produces (e.g. writing it).
    #[error(transparent)]
    Export(#[from] export::Error),
    /// An error of the op set: a translated graph or constant that does not
    /// hold together, naming the node.
    #[error(transparent)]
    Opset(#[from] opset::Error),
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
