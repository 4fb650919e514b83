//! The op set: every op an artifact may contain, each defined once, in its
//! own file.
//!
//! An op's file holds its struct (the op with its typed attributes), its
//! semantics (the struct's doc comment), how its attributes are read from and
//! written to a [`Node`], its output rule (dtype and shape from the inputs'),
//! its reference kernel, its gradient (behind the `grad` feature) and its
//! unit tests: everything the [`OpDef`] trait asks for. The files are grouped
//! by family: [`array`](mod@array) (sources, shapes, moving elements, tensor
//! lists), [`control`] (loops, conditionals), [`math`] (arithmetic, elementwise functions,
//! comparisons, products, reductions), [`nn`] (convolutions, pooling, losses),
//! [`random`] (what training draws), [`sparse`] (sparse tensors and the
//! segment reductions over them) and [`text`] (strings to ids).
//!
//! One list, at the bottom of this file, makes the set: it generates the
//! [`Op`] enum, parsing by name, and the dispatch of every method, so that
//! an op missing a piece does not compile. [`CATALOG`] lists every op with
//! the op-set version it entered, and the pages of the op structs below are
//! the reference of each op's semantics.
//!
//! Conventions shared by every op: each op has one output. Broadcasting,
//! where an op says so, follows NumPy: shapes are aligned on their last
//! dimension, and two dimensions agree when they are equal or one of them
//! is 1 (the 1 is stretched). Negative axes count from the end (`-1` is the
//! last axis).
//!
//! ## Adding an op
//!
//! Write `ops/<family>/<op>.rs` with the struct and its `impl OpDef`, declare
//! the module in its family's `mod.rs`, and add one line to the list below
//! with the op-set version it enters, bumping [`OP_SET_VERSION`] if that is
//! a new version. The golden test `tests/op_set_versions.rs` pins which ops
//! each version holds, so an op cannot be added or changed without a bump.

use std::fmt;

use crate::graph::{Attr, Node};
use crate::{Assets, Result, Tensor};

pub mod array;
pub mod control;
mod error;
pub mod example;
#[cfg(feature = "grad")]
pub mod grad;
pub mod kernel;
pub mod math;
pub mod nn;
pub mod random;
pub mod rule;
pub mod sparse;
pub mod text;

pub use error::OpError;
pub use rule::TensorType;

/// The most elements a tensor the graph computes may declare: a node whose
/// known output dims multiply past this is refused at load, and a kernel
/// refuses to allocate more at run time.
pub const MAX_ELEMENTS: usize = 1 << 32;

/// The most dims a tensor may have (TensorFlow's own limit, 254): a deeper
/// shape is refused at load and in every tensor, so no kernel recurses or
/// loops per dim without bound.
pub const MAX_RANK: usize = 254;

/// The version of the op set this build implements: the newest an artifact
/// may declare. See [`CATALOG`] for what each version holds.
pub const OP_SET_VERSION: u32 = 7;

/// How many inputs an op takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arity {
    /// Exactly this many.
    Exactly(usize),
    /// This many or more.
    AtLeast(usize),
}

impl Arity {
    /// Whether `n` inputs fit.
    pub fn accepts(self, n: usize) -> bool {
        match self {
            Arity::Exactly(k) => n == k,
            Arity::AtLeast(k) => n >= k,
        }
    }
}

impl fmt::Display for Arity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arity::Exactly(k) => write!(f, "{k}"),
            Arity::AtLeast(k) => write!(f, "at least {k}"),
        }
    }
}

/// What every op defines, once, in its own file.
pub trait OpDef: Clone + fmt::Debug + PartialEq + Into<Op> + Send + Sync + 'static {
    /// The op's name in the artifact.
    const NAME: &'static str;
    /// The op-set version in which the op, with its current meaning, entered
    /// the set: an artifact using it declares at least this version.
    const SINCE: u32;
    /// How many inputs it takes.
    const INPUTS: Arity;
    /// Whether the output's shape depends on an input's values, not only
    /// on the inputs' shapes (a run-time size, a loop's trip count): the
    /// shape rule alone then cannot give it.
    const SHAPE_FROM_VALUES: bool = false;

    /// Reads the op from `node`'s attributes; `assets` resolves the files an
    /// op reads at load (a vocabulary).
    ///
    /// # Errors
    /// [`crate::Error::Node`] for a missing or ill-typed attribute.
    fn parse(node: &Node, assets: &Assets) -> Result<Self>;

    /// The attributes that [`OpDef::parse`] reads back into this op.
    fn attrs(&self) -> Vec<(&'static str, Attr)>;

    /// The output's dtype and declared shape, from the inputs' (unknown dims
    /// stay unknown), so that a graph whose shapes cannot agree is refused
    /// before it runs.
    ///
    /// # Errors
    /// [`OpError`] saying which input disagrees with what.
    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError>;

    /// The reference kernel: computes the op on `inputs` (as many as
    /// [`OpDef::INPUTS`] says: [`Op::eval`] checks) into `out`, reusing its
    /// allocation.
    ///
    /// # Errors
    /// [`OpError`] saying which input disagrees with what.
    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError>;

    /// The gradient of a scalar loss with respect to each input, given the
    /// inputs `x`, the output `y` and the loss's gradient `g` with respect to
    /// `y`; `None` for an input no gradient flows to (integers, indices,
    /// conditions).
    ///
    /// # Errors
    /// [`OpError`] when the op has no gradient for these inputs.
    #[cfg(feature = "grad")]
    fn grad(&self, x: &[&Tensor], y: &Tensor, g: &Tensor) -> Result<Vec<Option<Tensor>>, OpError>;

    /// Runs the kernel into a new tensor.
    ///
    /// # Errors
    /// As [`OpDef::eval`].
    fn run(&self, inputs: &[&Tensor]) -> Result<Tensor, OpError> {
        let mut out = Tensor::empty(crate::DataType::F32);
        self.eval(inputs, &mut out)?;
        Ok(out)
    }
}

/// One op of the set, as [`CATALOG`] lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpInfo {
    /// The op's name in the artifact.
    pub name: &'static str,
    /// The op-set version it entered.
    pub since: u32,
    /// How many inputs it takes.
    pub inputs: Arity,
}

/// Normalises a possibly negative `axis` for a tensor of `rank` dims.
///
/// # Errors
/// [`OpError::Axis`] if the axis is out of `[-rank, rank)`.
pub fn normalize_axis(axis: i64, rank: usize) -> Result<usize, OpError> {
    let r = i64::try_from(rank).map_err(|_| OpError::Axis { axis, rank })?;
    let a = if axis < 0 { axis + r } else { axis };
    if (0..r).contains(&a) { Ok(a as usize) } else { Err(OpError::Axis { axis, rank }) }
}

macro_rules! op_set {
    ($($family:ident :: $op:ident),* $(,)?) => {
        /// A parsed, typed op: one variant per op of the set, each holding
        /// the op's struct (whose page documents its semantics).
        #[derive(Debug, Clone, PartialEq)]
        pub enum Op {
            $(
                #[doc = concat!("[`", stringify!($family), "::", stringify!($op), "`]")]
                $op($family::$op),
            )*
        }

        $(
            impl From<$family::$op> for Op {
                fn from(op: $family::$op) -> Op {
                    Op::$op(op)
                }
            }
        )*

        /// Every op of the set in the order of its list: name, the op-set
        /// version it entered, its input count.
        pub const CATALOG: &[OpInfo] = &[
            $(
                OpInfo {
                    name: <$family::$op as OpDef>::NAME,
                    since: <$family::$op as OpDef>::SINCE,
                    inputs: <$family::$op as OpDef>::INPUTS,
                },
            )*
        ];

        impl Op {
            /// Parses `node`'s op and attributes and checks its input count;
            /// `assets` resolves asset file names for ops that read one at
            /// load (`VocabLookup`).
            ///
            /// # Errors
            /// [`crate::Error::UnknownOp`], or [`crate::Error::Node`] for a
            /// missing or ill-typed attribute, a wrong input count, or an
            /// unreadable asset.
            pub fn parse(node: &Node, assets: &Assets) -> Result<Op> {
                let op: Op = match current_name(&node.op) {
                    $( <$family::$op as OpDef>::NAME => <$family::$op as OpDef>::parse(node, assets)?.into(), )*
                    other => {
                        return Err(crate::Error::UnknownOp {
                            node: node.name.clone(),
                            op: other.to_owned(),
                            version: OP_SET_VERSION,
                        })
                    }
                };
                let n = node.inputs.len();
                if !op.arity().accepts(n) {
                    return Err(node.error(format!("expected {} input(s), got {n}", op.arity())));
                }
                Ok(op)
            }

            /// The op's name as written in the artifact.
            pub fn name(&self) -> &'static str {
                match self {
                    $( Op::$op(_) => <$family::$op as OpDef>::NAME, )*
                }
            }

            /// The op-set version the op entered.
            pub fn since(&self) -> u32 {
                match self {
                    $( Op::$op(_) => <$family::$op as OpDef>::SINCE, )*
                }
            }

            /// Whether the output's shape depends on an input's values
            /// ([`OpDef::SHAPE_FROM_VALUES`]).
            pub fn shape_from_values(&self) -> bool {
                match self {
                    $( Op::$op(_) => <$family::$op as OpDef>::SHAPE_FROM_VALUES, )*
                }
            }

            /// How many inputs the op takes.
            pub fn arity(&self) -> Arity {
                match self {
                    $( Op::$op(_) => <$family::$op as OpDef>::INPUTS, )*
                }
            }

            /// The op's attributes, as [`Op::parse`] reads them.
            pub fn attrs(&self) -> Vec<(&'static str, Attr)> {
                match self {
                    $( Op::$op(op) => op.attrs(), )*
                }
            }

            /// The node of this op named `name`, reading `inputs`.
            pub fn to_node(&self, name: impl Into<String>, inputs: Vec<String>) -> Node {
                Node {
                    name: name.into(),
                    op: self.name().to_owned(),
                    inputs,
                    attrs: self.attrs().into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
                }
            }

            /// The output's dtype and declared shape from the inputs'.
            ///
            /// # Errors
            /// [`OpError`] saying which input disagrees with what; the caller
            /// names the node.
            pub fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
                self.check_arity(inputs.len())?;
                match self {
                    $( Op::$op(op) => op.infer(inputs), )*
                }
            }

            /// Runs the reference kernel: computes the op on `inputs` into
            /// `out`, reusing `out`'s allocation when it already has the
            /// right dtype.
            ///
            /// # Errors
            /// [`OpError`] saying which input disagrees with what; the caller
            /// names the node. Sources (`Placeholder`, `Variable`) have no
            /// kernel: their values are supplied by the caller.
            pub fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
                self.check_arity(inputs.len())?;
                match self {
                    $( Op::$op(op) => op.eval(inputs, out), )*
                }
            }

            /// The gradient with respect to each input (see [`OpDef::grad`]).
            ///
            /// # Errors
            /// [`OpError`] when the op has no gradient for these inputs.
            #[cfg(feature = "grad")]
            pub fn grad(&self, x: &[&Tensor], y: &Tensor, g: &Tensor) -> Result<Vec<Option<Tensor>>, OpError> {
                self.check_arity(x.len())?;
                match self {
                    $( Op::$op(op) => op.grad(x, y, g), )*
                }
            }
        }
    };
}

/// The entry of [`CATALOG`] for the op named `name` (or named so by an
/// earlier op set).
pub fn op_info(name: &str) -> Option<&'static OpInfo> {
    let name = current_name(name);
    CATALOG.iter().find(|op| op.name == name)
}

/// The lowest op-set version that has every op named in `ops`: what an
/// artifact using them declares, so that the oldest readers able to run it
/// can load it. A name the set does not know counts as the newest version.
///
/// ```
/// use opset::ops::required_version;
///
/// assert_eq!(required_version(["Placeholder", "MatMul", "Add"]), 1);
/// assert_eq!(required_version(["MatMul", "Conv2D"]), 3);
/// ```
pub fn required_version<'a>(ops: impl IntoIterator<Item = &'a str>) -> u32 {
    ops.into_iter().map(|name| op_info(name).map_or(OP_SET_VERSION, |op| op.since)).max().unwrap_or(1)
}

/// The op's name today for a name an earlier op set used: `ConcatV2`
/// (TensorFlow's name, used by op sets 1 and 2) is `Concat`.
fn current_name(name: &str) -> &str {
    match name {
        "ConcatV2" => "Concat",
        other => other,
    }
}

impl Op {
    /// Runs the kernel into a new tensor.
    ///
    /// # Errors
    /// As [`Op::eval`].
    pub fn run(&self, inputs: &[&Tensor]) -> Result<Tensor, OpError> {
        let mut out = Tensor::empty(crate::DataType::F32);
        self.eval(inputs, &mut out)?;
        Ok(out)
    }

    fn check_arity(&self, n: usize) -> Result<(), OpError> {
        if self.arity().accepts(n) { Ok(()) } else { Err(OpError::Arity { expected: self.arity(), got: n }) }
    }
}

// The op set. The version each op entered is in its file (`OpDef::SINCE`).
op_set! {
    array::Placeholder,
    array::Const,
    array::Variable,
    array::Identity,
    array::Reshape,
    array::ReshapeTo,
    array::Tile,
    array::TileBy,
    array::Pad,
    array::ShapeOf,
    array::Concat,
    array::ExpandDims,
    array::Squeeze,
    array::StridedSlice,
    array::Transpose,
    array::Gather,
    array::GatherNd,
    array::Cast,
    array::Select,
    array::ReverseSequence,
    array::ListReserve,
    array::ListSetItem,
    array::ListScatter,
    array::Reverse,
    array::OneHot,
    array::Range,
    array::Unique,
    array::Where,
    array::Slice,
    math::MatMul,
    math::Einsum,
    math::BiasAdd,
    math::Add,
    math::Sub,
    math::Mul,
    math::Div,
    math::Maximum,
    math::Minimum,
    math::Relu,
    math::Tanh,
    math::Sigmoid,
    math::Square,
    math::Neg,
    math::Abs,
    math::Exp,
    math::Log,
    math::Sqrt,
    math::Rsqrt,
    math::Softplus,
    math::Elu,
    math::Selu,
    math::Erf,
    math::Equal,
    math::NotEqual,
    math::Less,
    math::LessEqual,
    math::Greater,
    math::GreaterEqual,
    math::LogicalAnd,
    math::LogicalOr,
    math::LogicalNot,
    math::Softmax,
    math::ArgMax,
    math::ReduceSum,
    math::ReduceMean,
    math::ReduceMax,
    math::ReduceMin,
    math::ReduceProd,
    math::Bucketize,
    nn::Conv2D,
    nn::DepthwiseConv2D,
    nn::MaxPool,
    nn::AvgPool,
    nn::L2Loss,
    nn::SoftmaxCrossEntropy,
    nn::CrfDecode,
    sparse::SparseSegmentSum,
    sparse::SparseSegmentMean,
    sparse::SparseSegmentSqrtN,
    sparse::SparseFillEmptyRows,
    sparse::SparseToDense,
    sparse::SparseReshape,
    example::ParseExample,
    text::AsString,
    text::VocabLookup,
    text::TableLookup,
    text::HashBucket,
    text::UnicodeSplit,
    text::StringLength,
    text::IndexToString,
    random::RandomUniform,
    control::While,
    control::If,
}
