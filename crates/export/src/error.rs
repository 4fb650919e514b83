//! The one error type of the `export` crate.

use std::path::PathBuf;

/// Everything that can go wrong reading, validating, evaluating or writing an
/// artifact. Each variant names the file, tensor, node or key concerned.
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
    /// The artifact was written by a newer version of this format.
    #[error(
        "{path}: {what} version {found} is newer than the newest this build reads ({supported}); upgrade the reader"
    )]
    UnsupportedVersion {
        /// The file concerned.
        path: PathBuf,
        /// `format` or `op set`.
        what: &'static str,
        /// The version found in the file.
        found: u32,
        /// The newest version this build understands.
        supported: u32,
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
    /// No version directory under an export base.
    #[error("no version directory (all-digit name) under {base}{hint}")]
    NoVersion {
        /// The export base directory.
        base: PathBuf,
        /// What the directory holds instead, when that says what was meant:
        /// a version's own files, or an export still being written.
        hint: String,
    },
    /// No meta graph carries the requested tags.
    #[error("no meta graph tagged {wanted:?}; the artifact has {available:?}")]
    NoMetaGraph {
        /// The tags asked for.
        wanted: Vec<String>,
        /// The tag sets present.
        available: Vec<Vec<String>>,
    },
    /// A string tensor holds bytes that are not UTF-8.
    #[error("{what}: string element {index} is not valid UTF-8")]
    Utf8 {
        /// The tensor concerned.
        what: String,
        /// The index of the bad element in row-major order.
        index: usize,
    },
    /// A signature refers to something the graph does not have, or does not exist.
    #[error("signature {signature:?}: {reason}")]
    Signature {
        /// The signature's key.
        signature: String,
        /// What is wrong.
        reason: String,
    },
    /// A graph, tensor or asset error of the op set (an invalid node, a
    /// dtype or shape that does not agree...).
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

    /// A malformed-artifact error on `path`.
    pub(crate) fn malformed(path: impl Into<PathBuf>, reason: impl Into<String>) -> Error {
        Error::Malformed { path: path.into(), reason: reason.into() }
    }
}
