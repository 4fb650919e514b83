//! `OpError`: what goes wrong inside one op, before the graph says which
//! node it was ([`crate::Error::Op`] adds that).

use crate::DataType;

use super::Arity;

/// Why an op's output rule or kernel refused its inputs. The graph wraps it
/// in [`crate::Error::Op`] with the node's name and op.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum OpError {
    /// The op was given the wrong number of inputs.
    #[error("expected {expected} input(s), got {got}")]
    Arity {
        /// What the op takes.
        expected: Arity,
        /// How many came.
        got: usize,
    },
    /// An input has a dtype the op does not take.
    #[error("input {input}: expected {expected}, got {got}")]
    Dtype {
        /// The input's position.
        input: usize,
        /// What the op takes there, in words (`f32`, `a numeric dtype`...).
        expected: &'static str,
        /// The dtype that came.
        got: DataType,
    },
    /// Two inputs that must share a dtype do not.
    #[error("input {input} is {got}, input {other} is {expected}")]
    DtypeMismatch {
        /// The input that disagrees.
        input: usize,
        /// The dtype it has.
        got: DataType,
        /// The input it must agree with.
        other: usize,
        /// That input's dtype.
        expected: DataType,
    },
    /// Shapes that must broadcast together do not.
    #[error("shapes {shapes} do not broadcast")]
    Broadcast {
        /// The shapes, as written (`[2, 3] and [4]`).
        shapes: String,
    },
    /// An axis outside `[-rank, rank)`.
    #[error("axis {axis} is out of range for rank {rank}")]
    Axis {
        /// The axis given.
        axis: i64,
        /// The rank of the tensor it indexes.
        rank: usize,
    },
    /// An index outside the dim it indexes.
    #[error("index {index} is out of range [0, {len}) for params of shape {shape:?}")]
    Index {
        /// The index given.
        index: i64,
        /// The size of the dim it indexes.
        len: usize,
        /// The shape of the indexed tensor.
        shape: Vec<usize>,
    },
    /// An output past [`super::MAX_ELEMENTS`] elements: refused rather than
    /// allocated (a hostile artifact must not exhaust memory).
    #[error("an output of shape {shape:?} is over the limit of {limit} elements")]
    TooLarge {
        /// The output's shape.
        shape: Vec<usize>,
        /// The limit.
        limit: usize,
    },
    /// An integer division by zero.
    #[error("integer division by zero")]
    DivisionByZero,
    /// A source op (`Placeholder`, `Variable`) has no kernel.
    #[error("a source op has no kernel: its value must be supplied")]
    Source,
    /// An attribute or input value that the op cannot use.
    #[error("{what}: {reason}")]
    Invalid {
        /// The attribute or input concerned (`perm`, `input 1`...).
        what: &'static str,
        /// What is wrong, with the values.
        reason: String,
    },
    /// Inputs whose shapes, or the op's attributes, cannot agree.
    #[error("{0}")]
    Shape(String),
    /// The op has no gradient for these inputs.
    #[error("no gradient: {0}")]
    NoGradient(String),
    /// A tensor could not be read or built (wrong dtype, bad shape).
    #[error("{0}")]
    Tensor(String),
}

impl From<crate::Error> for OpError {
    fn from(e: crate::Error) -> OpError {
        OpError::Tensor(e.to_string())
    }
}

impl OpError {
    /// Inputs whose shapes or the op's attributes disagree, in words.
    pub fn shape(reason: impl Into<String>) -> OpError {
        OpError::Shape(reason.into())
    }
}
