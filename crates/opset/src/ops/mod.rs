//! The op set: every op the artifact may contain, documented once here.
//!
//! Each op has one output. Inputs are listed in order; attributes are typed
//! ([`Attr`](crate::Attr)). Broadcasting, where an op says so, follows
//! NumPy: shapes are aligned on their last dimension, and two dimensions
//! agree when they are equal or one of them is 1 (the 1 is stretched).
//! Negative axes count from the end (`-1` is the last axis).
//!
//! | op | inputs | attributes | output |
//! |---|---|---|---|
//! | `Placeholder` | - | `dtype`, `shape` | the value fed at run time; it must match `shape` (unknown dims accept any size) |
//! | `Const` | - | `value` (tensor) | `value` |
//! | `Variable` | - | `dtype`, `shape` (fully known) | the tensor of the variables bundle named like the node |
//! | `Identity` | x | - | x |
//! | `Reshape` | x | `shape` (ints, at most one `-1` inferred) | x's elements, row-major, in `shape` |
//! | `Tile` | x | `multiples` (ints, one per dim, >= 0) | x repeated `multiples[i]` times along dim i |
//! | `Pad` | x (any) | `paddings` (ints, two per dim: before, after; >= 0), `value` (a scalar tensor of x's dtype, optional: zero, `""` or false) | x with `paddings[2i]` elements before it and `paddings[2i + 1]` after it along dim i, filled with `value` |
//! | `TileBy` | x, multiples (i32 or i64 `[rank]`, >= 0) | - | `Tile` with the multiples computed at run time (dims unknown until then) |
//! | `Shape` | x (any) | - | i64 `[rank]`: x's dims at run time |
//! | `ConcatV2` | x0, x1, ... (>= 1, same dtype and rank) | `axis` | the inputs joined along `axis`; other dims must be equal |
//! | `ExpandDims` | x | `axis` in `[-rank-1, rank]` | x with a dim of size 1 inserted at `axis` |
//! | `Squeeze` | x | `axes` (ints; empty: every dim of size 1) | x without those dims, which must be 1 |
//! | `StridedSlice` | x | `begin`, `end`, `strides` (ints, one per sliced dim; later dims whole), `begin_mask`, `end_mask`, `shrink_axis_mask` (ints, optional) | Python's `x[b:e:s, ...]` with TensorFlow's masks: bit d of `begin_mask`/`end_mask` ignores `begin[d]`/`end[d]`; bit d of `shrink_axis_mask` takes index `begin[d]` and drops dim d |
//! | `MatMul` | a `[m, k]`, b `[k, n]` (f32), or batches of them: `[..., m, k]` and `[..., k, n]` with the same leading dims | `transpose_a`, `transpose_b` (bool, optional: of the last two dims) | `a @ b`, `[..., m, n]` |
//! | `Einsum` | a, b (f32) | `equation` (`"abc,cde->abde"`: one letter per dim of each input, `->`, the output's; no `...`, no letter twice in a term) | the sum over the letters not in the output of the products of the elements the letters pick, as `np.einsum` (a letter's dims must agree) |
//! | `BiasAdd` | x `[..., c]`, bias `[c]` (numeric) | - | x + bias along the last dim |
//! | `Add`, `Sub`, `Mul`, `Div`, `Maximum`, `Minimum` | a, b (numeric, same dtype) | - | elementwise, broadcasting; integer `Div` truncates and fails on division by zero; `Maximum`/`Minimum` are NaN if either input is |
//! | `Transpose` | x | `perm` (ints, a permutation of the dims) | output dim i is input dim `perm[i]` |
//! | `Relu`, `Tanh`, `Sigmoid`, `Square`, `Neg`, `Abs`, `Exp`, `Log`, `Sqrt`, `Rsqrt`, `Softplus`, `Elu`, `Selu`, `Erf` | x (f32) | - | elementwise `max(x, 0)`, `tanh x`, `1 / (1 + e^-x)`, `x*x`, `-x`, `abs x`, `e^x`, `ln x`, `sqrt x`, `1 / sqrt x`, `ln(1 + e^x)`, `x > 0 ? x : e^x - 1`, `1.0507 * (x > 0 ? x : 1.6733 * (e^x - 1))` (TensorFlow's constants), the error function (IEEE: NaN outside the domain) |
//! | `Equal`, `NotEqual` | a, b (same dtype, any) | - | bool, elementwise `a == b` / `a != b`, broadcasting (strings compare bytewise; NaN is unequal to everything) |
//! | `Less`, `LessEqual`, `Greater`, `GreaterEqual` | a, b (same numeric dtype) | - | bool, elementwise `a < b`, `a <= b`, `a > b`, `a >= b`, broadcasting (false where either is NaN) |
//! | `LogicalAnd`, `LogicalOr` | a, b (bool) | - | bool, elementwise, broadcasting |
//! | `LogicalNot` | x (bool) | - | bool, elementwise |
//! | `Softmax` | x (f32, rank >= 1) | - | `e^(x - max) / sum e^(x - max)` along the last dim |
//! | `ArgMax` | x (numeric, rank >= 1) | `axis` | i64 index of the largest element along `axis` (first one on ties); the axis is removed |
//! | `ReduceSum`, `ReduceMean`, `ReduceMax`, `ReduceMin` | x (numeric) | `axes` (ints; empty: all), `keep_dims` (bool, optional) | sum / mean / max / min over `axes`; integer mean truncates; max and min of an empty axis are the dtype's lowest / highest value |
//! | `Cast` | x (numeric or bool) | `to` (dtype, not string) | float to int truncates toward zero; to bool is `x != 0`; bool to number is 0 or 1 |
//! | `Gather` | params, indices (i32 or i64) | `axis` (optional, default 0) | `params.shape[..axis] ++ indices.shape ++ params.shape[axis+1..]`; an index outside `[0, params.shape[axis])` is an error |
//! | `VocabLookup` | x (string) | `asset` (file name under `assets/`), `num_oov_buckets` (>= 0), `default_value` (i64) | i64 id of each string: its line number in the asset file (one token per line); a token not in the file gets `vocab_size + HashBucket(token)` over `num_oov_buckets` buckets, or `default_value` when there are no buckets (TensorFlow's `StaticVocabularyTable`) |
//! | `TableLookup` | x (string or i64, as the keys) | `keys` (string or i64 tensor, distinct), `values` (i64 tensor, one per key), `default_value` (i64) | i64 value of each element's key, `default_value` for any other (a key-value table: TensorFlow's `StaticHashTable` with a `KeyValueTensorInitializer`, as Keras's `StringLookup` and `IntegerLookup` build it) |
//! | `HashBucket` | x (string) | `num_buckets` (>= 1) | i64 `Fingerprint64(x) % num_buckets` for each string: FarmHash's fingerprint of the bytes, as TensorFlow's `StringToHashBucketFast` |
//! | `Select` | cond (bool), a, b (same dtype, any) | - | elementwise `cond ? a : b`, the three broadcasting together (TensorFlow's `SelectV2`) |
//! | `Conv2D` | x `[n, h, w, c]`, filter `[kh, kw, c, f]` (f32) | `strides`, `dilations` (2 ints each, height then width, >= 1; dilations optional), `padding` (`"SAME"` or `"VALID"`) | `[n, oh, ow, f]`: TensorFlow's NHWC `Conv2D` (a cross-correlation); `VALID` keeps windows inside the input, `SAME` gives `ceil(h / stride)` rows, padding with zeros evenly (the odd one after) |
//! | `DepthwiseConv2D` | x `[n, h, w, c]`, filter `[kh, kw, c, m]` (f32) | as `Conv2D` | `[n, oh, ow, c * m]`: each channel convolved alone by its `m` filters, output channel `ch * m + j` (TensorFlow's `DepthwiseConv2dNative`) |
//! | `MaxPool`, `AvgPool` | x `[n, h, w, c]` (f32) | `ksize`, `strides` (2 ints each, >= 1), `padding` | `[n, oh, ow, c]`: the largest / mean element of each window, per channel; padding is never counted (a `SAME` window at the edge averages only what it covers) |
//! | `AsString` | x (numeric or bool) | - | string of each element as TensorFlow's `AsString` writes it by default: integers in decimal, floats with 6 decimals (`1.500000`, `nan`, `inf`), bools `true`/`false` |
//! | `L2Loss` | x (f32) | - | scalar `sum(x^2) / 2` |
//! | `SoftmaxCrossEntropy` | logits `[n, k]`, labels `[n, k]` (f32) | - | `[n]`: `-sum(labels * log_softmax(logits))` per row |
//!
//! The op-set version ([`OP_SET_VERSION`]) is bumped whenever an op is added
//! or its meaning changes; a reader refuses an artifact from a newer op set.

mod broadcast;
pub mod einsum;
mod infer;
mod kernels;
pub use kernels::{around, indices, pad_offsets};
mod slice;
mod window;

use std::sync::Arc;

use crate::graph::Node;
use crate::vocab::Vocabulary;
use crate::{Assets, DataType, Result, Shape, Tensor};
use einsum::Equation;

pub use infer::{TensorType, reduce_axes};
pub use slice::{DimSlice, SliceSpec, slice_offsets};
pub use window::Sliding;

/// The most elements a tensor the graph computes may declare: a node whose
/// known output dims multiply past this is refused at load, and a kernel
/// refuses to allocate more at run time.
pub const MAX_ELEMENTS: usize = 1 << 32;

/// The version of the op set this build implements.
pub const OP_SET_VERSION: u32 = 2;

/// The name of every op of the set.
pub const OP_NAMES: &[&str] = &[
    "Placeholder",
    "Const",
    "Variable",
    "Identity",
    "Reshape",
    "Tile",
    "TileBy",
    "Pad",
    "Shape",
    "AsString",
    "ConcatV2",
    "ExpandDims",
    "Squeeze",
    "StridedSlice",
    "MatMul",
    "Einsum",
    "BiasAdd",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Relu",
    "Tanh",
    "Sigmoid",
    "Square",
    "Neg",
    "Abs",
    "Exp",
    "Log",
    "Sqrt",
    "Rsqrt",
    "Softplus",
    "Elu",
    "Selu",
    "Erf",
    "Maximum",
    "Minimum",
    "ReduceMax",
    "ReduceMin",
    "Transpose",
    "Equal",
    "NotEqual",
    "Less",
    "LessEqual",
    "Greater",
    "GreaterEqual",
    "LogicalAnd",
    "LogicalOr",
    "LogicalNot",
    "Softmax",
    "ArgMax",
    "ReduceSum",
    "ReduceMean",
    "Cast",
    "Gather",
    "VocabLookup",
    "TableLookup",
    "HashBucket",
    "Select",
    "Conv2D",
    "DepthwiseConv2D",
    "MaxPool",
    "AvgPool",
    "L2Loss",
    "SoftmaxCrossEntropy",
];

/// Elementwise binary arithmetic with broadcasting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    /// `a + b`
    Add,
    /// `a - b`
    Sub,
    /// `a * b`
    Mul,
    /// `a / b`
    Div,
    /// `max(a, b)` (NaN if either is)
    Maximum,
    /// `min(a, b)` (NaN if either is)
    Minimum,
}

/// Elementwise f32 functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    /// `max(x, 0)`
    Relu,
    /// `tanh(x)`
    Tanh,
    /// `1 / (1 + exp(-x))`
    Sigmoid,
    /// `x * x`
    Square,
    /// `-x`
    Neg,
    /// `|x|`
    Abs,
    /// `e^x`
    Exp,
    /// natural logarithm (NaN below 0, -inf at 0)
    Log,
    /// square root (NaN below 0)
    Sqrt,
    /// `1 / sqrt(x)`
    Rsqrt,
    /// `ln(1 + e^x)`, computed without overflow
    Softplus,
    /// `x` above 0, `e^x - 1` below
    Elu,
    /// `SELU_SCALE * x` above 0, `SELU_SCALE * SELU_ALPHA * (e^x - 1)` below
    Selu,
    /// the error function, `2 / sqrt(pi) * integral of e^(-t^2) from 0 to x`
    Erf,
}

/// SELU's `alpha`, as TensorFlow has it.
pub const SELU_ALPHA: f32 = 1.673_263_2;
/// SELU's `scale`, as TensorFlow has it.
pub const SELU_SCALE: f32 = 1.050_701;

impl UnaryOp {
    /// The function on one element.
    #[inline]
    pub fn apply(self, v: f32) -> f32 {
        match self {
            UnaryOp::Relu => v.max(0.0),
            UnaryOp::Tanh => v.tanh(),
            UnaryOp::Sigmoid => 1.0 / (1.0 + (-v).exp()),
            UnaryOp::Square => v * v,
            UnaryOp::Neg => -v,
            UnaryOp::Abs => v.abs(),
            UnaryOp::Exp => v.exp(),
            UnaryOp::Log => v.ln(),
            UnaryOp::Sqrt => v.sqrt(),
            UnaryOp::Rsqrt => 1.0 / v.sqrt(),
            UnaryOp::Softplus => v.max(0.0) + (-v.abs()).exp().ln_1p(),
            UnaryOp::Elu => {
                if v > 0.0 {
                    v
                } else {
                    v.exp_m1()
                }
            }
            UnaryOp::Selu => SELU_SCALE * if v > 0.0 { v } else { SELU_ALPHA * v.exp_m1() },
            UnaryOp::Erf => libm::erff(v),
        }
    }
}

/// Elementwise order comparisons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    /// `a < b`
    Less,
    /// `a <= b`
    LessEqual,
    /// `a > b`
    Greater,
    /// `a >= b`
    GreaterEqual,
}

impl CompareOp {
    /// The comparison of two values (false when they are unordered: NaN).
    #[inline]
    pub fn apply<T: PartialOrd>(self, a: &T, b: &T) -> bool {
        match self {
            CompareOp::Less => a < b,
            CompareOp::LessEqual => a <= b,
            CompareOp::Greater => a > b,
            CompareOp::GreaterEqual => a >= b,
        }
    }
}

/// Reductions over axes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReduceOp {
    /// Sum of the elements.
    Sum,
    /// Arithmetic mean of the elements.
    Mean,
    /// The largest element.
    Max,
    /// The smallest element.
    Min,
}

/// A parsed, typed op: a [`Node`]'s op name and attributes, checked.
/// See the [module docs](self) for the semantics of each.
#[derive(Debug, Clone)]
#[allow(missing_docs)]
pub enum Op {
    Placeholder {
        dtype: DataType,
        shape: Shape,
    },
    Const {
        value: Tensor,
    },
    Variable {
        dtype: DataType,
        shape: Vec<usize>,
    },
    Identity,
    Reshape {
        shape: Vec<i64>,
    },
    Tile {
        multiples: Vec<usize>,
    },
    TileBy,
    Pad {
        paddings: Vec<[usize; 2]>,
        value: Option<Tensor>,
    },
    Shape,
    AsString,
    Concat {
        axis: i64,
    },
    ExpandDims {
        axis: i64,
    },
    Squeeze {
        axes: Vec<i64>,
    },
    Transpose {
        perm: Vec<usize>,
    },
    StridedSlice(SliceSpec),
    MatMul {
        transpose_a: bool,
        transpose_b: bool,
    },
    Einsum(Arc<Equation>),
    BiasAdd,
    Binary(BinaryOp),
    Unary(UnaryOp),
    /// `Equal` (`negate: false`) or `NotEqual` (`negate: true`).
    Equal {
        negate: bool,
    },
    Compare(CompareOp),
    /// `LogicalAnd` (`and: true`) or `LogicalOr`.
    Logical {
        and: bool,
    },
    LogicalNot,
    Softmax,
    ArgMax {
        axis: i64,
    },
    Reduce {
        op: ReduceOp,
        axes: Vec<i64>,
        keep_dims: bool,
    },
    Cast {
        to: DataType,
    },
    Gather {
        axis: i64,
    },
    VocabLookup {
        vocab: Arc<Vocabulary>,
        num_oov_buckets: u64,
        default_value: i64,
    },
    TableLookup {
        table: Arc<Table>,
        default_value: i64,
    },
    HashBucket {
        num_buckets: u64,
    },
    Select,
    Conv2D(Sliding),
    DepthwiseConv2D(Sliding),
    /// `MaxPool` (`max: true`) or `AvgPool`.
    Pool {
        max: bool,
        ksize: [usize; 2],
        sliding: Sliding,
    },
    L2Loss,
    SoftmaxCrossEntropy,
}

impl Op {
    /// Parses `node`'s op and attributes; `assets` resolves asset file names
    /// for ops that read one at load (`VocabLookup`).
    ///
    /// # Errors
    /// [`Error::UnknownOp`](crate::Error::UnknownOp), or
    /// [`Error::Node`](crate::Error::Node) for a missing or ill-typed attribute,
    /// a wrong input count, or an unreadable asset.
    pub fn parse(node: &Node, assets: &Assets) -> Result<Op> {
        let op = match node.op.as_str() {
            "Placeholder" => {
                Op::Placeholder { dtype: node.attr_type("dtype")?, shape: node.attr_shape("shape")?.clone() }
            }
            "Const" => Op::Const { value: node.attr_tensor("value")?.clone() },
            "Variable" => {
                let shape = node.attr_shape("shape")?;
                let shape = shape.as_known().ok_or_else(|| node.error(format!("shape {shape} must be fully known")))?;
                Op::Variable { dtype: node.attr_type("dtype")?, shape }
            }
            "Identity" => Op::Identity,
            "Reshape" => {
                let shape = node.attr_ints("shape")?.to_vec();
                if shape.iter().any(|&d| d < -1) || shape.iter().filter(|&&d| d == -1).count() > 1 {
                    return Err(node.error(format!("shape {shape:?}: dims must be sizes, with at most one -1")));
                }
                Op::Reshape { shape }
            }
            "Tile" => {
                let multiples = node.attr_ints("multiples")?;
                let multiples = multiples
                    .iter()
                    .map(|&m| usize::try_from(m))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|_| node.error(format!("multiples {multiples:?} must be >= 0")))?;
                Op::Tile { multiples }
            }
            "TileBy" => Op::TileBy,
            "Pad" => {
                let ints = node.attr_ints("paddings")?;
                let sizes = ints.iter().map(|&p| usize::try_from(p).ok().filter(|&p| p <= MAX_ELEMENTS));
                let sizes = sizes.collect::<Option<Vec<usize>>>().filter(|s| s.len() % 2 == 0);
                let sizes =
                    sizes.ok_or_else(|| node.error(format!("paddings {ints:?}: expected pairs of sizes >= 0")))?;
                let value = match node.attrs.get("value") {
                    Some(_) => Some(node.attr_tensor("value")?.clone()).filter(|v| v.len() == 1),
                    None => None,
                };
                if node.attrs.contains_key("value") && value.is_none() {
                    return Err(node.error("value: expected a scalar"));
                }
                Op::Pad { paddings: sizes.chunks_exact(2).map(|p| [p[0], p[1]]).collect(), value }
            }
            "Shape" => Op::Shape,
            "AsString" => Op::AsString,
            "ConcatV2" => Op::Concat { axis: node.attr_int("axis")? },
            "ExpandDims" => Op::ExpandDims { axis: node.attr_int("axis")? },
            "Squeeze" => Op::Squeeze { axes: node.attr_ints("axes")?.to_vec() },
            "StridedSlice" => {
                let mask = |key: &str| if node.attrs.contains_key(key) { node.attr_int(key) } else { Ok(0) };
                Op::StridedSlice(SliceSpec {
                    begin: node.attr_ints("begin")?.to_vec(),
                    end: node.attr_ints("end")?.to_vec(),
                    strides: node.attr_ints("strides")?.to_vec(),
                    begin_mask: mask("begin_mask")?,
                    end_mask: mask("end_mask")?,
                    shrink_axis_mask: mask("shrink_axis_mask")?,
                })
            }
            "MatMul" => {
                Op::MatMul { transpose_a: node.attr_flag("transpose_a")?, transpose_b: node.attr_flag("transpose_b")? }
            }
            "Einsum" => Op::Einsum(Arc::new(Equation::parse(node.attr_str("equation")?).map_err(|e| node.error(e))?)),
            "BiasAdd" => Op::BiasAdd,
            "Add" => Op::Binary(BinaryOp::Add),
            "Sub" => Op::Binary(BinaryOp::Sub),
            "Mul" => Op::Binary(BinaryOp::Mul),
            "Div" => Op::Binary(BinaryOp::Div),
            "Maximum" => Op::Binary(BinaryOp::Maximum),
            "Minimum" => Op::Binary(BinaryOp::Minimum),
            "Relu" => Op::Unary(UnaryOp::Relu),
            "Tanh" => Op::Unary(UnaryOp::Tanh),
            "Sigmoid" => Op::Unary(UnaryOp::Sigmoid),
            "Square" => Op::Unary(UnaryOp::Square),
            "Neg" => Op::Unary(UnaryOp::Neg),
            "Abs" => Op::Unary(UnaryOp::Abs),
            "Exp" => Op::Unary(UnaryOp::Exp),
            "Log" => Op::Unary(UnaryOp::Log),
            "Sqrt" => Op::Unary(UnaryOp::Sqrt),
            "Rsqrt" => Op::Unary(UnaryOp::Rsqrt),
            "Softplus" => Op::Unary(UnaryOp::Softplus),
            "Elu" => Op::Unary(UnaryOp::Elu),
            "Selu" => Op::Unary(UnaryOp::Selu),
            "Erf" => Op::Unary(UnaryOp::Erf),
            "Transpose" => {
                let perm = node.attr_ints("perm")?;
                let mut sorted: Vec<i64> = perm.to_vec();
                sorted.sort_unstable();
                if sorted.iter().enumerate().any(|(i, &p)| p != i as i64) {
                    return Err(node.error(format!("perm {perm:?} is not a permutation of 0..{}", perm.len())));
                }
                Op::Transpose { perm: perm.iter().map(|&p| p as usize).collect() }
            }
            "Equal" => Op::Equal { negate: false },
            "NotEqual" => Op::Equal { negate: true },
            "Less" => Op::Compare(CompareOp::Less),
            "LessEqual" => Op::Compare(CompareOp::LessEqual),
            "Greater" => Op::Compare(CompareOp::Greater),
            "GreaterEqual" => Op::Compare(CompareOp::GreaterEqual),
            "LogicalAnd" => Op::Logical { and: true },
            "LogicalOr" => Op::Logical { and: false },
            "LogicalNot" => Op::LogicalNot,
            "Softmax" => Op::Softmax,
            "ArgMax" => Op::ArgMax { axis: node.attr_int("axis")? },
            "ReduceSum" | "ReduceMean" | "ReduceMax" | "ReduceMin" => Op::Reduce {
                op: match node.op.as_str() {
                    "ReduceSum" => ReduceOp::Sum,
                    "ReduceMean" => ReduceOp::Mean,
                    "ReduceMax" => ReduceOp::Max,
                    _ => ReduceOp::Min,
                },
                axes: node.attr_ints("axes")?.to_vec(),
                keep_dims: node.attr_flag("keep_dims")?,
            },
            "Cast" => {
                let to = node.attr_type("to")?;
                if to == DataType::String {
                    return Err(node.error("cannot cast to string"));
                }
                Op::Cast { to }
            }
            "Gather" => Op::Gather { axis: if node.attrs.contains_key("axis") { node.attr_int("axis")? } else { 0 } },
            "VocabLookup" => {
                let asset = node.attr_str("asset")?;
                let path = assets.path(asset).map_err(|e| node.error(e.to_string()))?;
                let vocab = Vocabulary::from_file(path).map_err(|e| node.error(e.to_string()))?;
                let buckets = node.attr_int("num_oov_buckets")?;
                Op::VocabLookup {
                    vocab: Arc::new(vocab),
                    num_oov_buckets: u64::try_from(buckets)
                        .map_err(|_| node.error(format!("num_oov_buckets {buckets} must be >= 0")))?,
                    default_value: node.attr_int("default_value")?,
                }
            }
            "TableLookup" => {
                let (keys, values) = (node.attr_tensor("keys")?, node.attr_tensor("values")?);
                let values = values.as_slice::<i64>().map_err(|e| node.error(format!("values: {e}")))?;
                let table = match keys.dtype() {
                    DataType::String => Table::Strings(table(node, keys.as_slice::<String>()?, values)?),
                    DataType::I64 => Table::Ints(table(node, keys.as_slice::<i64>()?, values)?),
                    other => return Err(node.error(format!("keys of {other}: expected strings or i64"))),
                };
                Op::TableLookup { table: Arc::new(table), default_value: node.attr_int("default_value")? }
            }
            "HashBucket" => {
                let n = node.attr_int("num_buckets")?;
                match u64::try_from(n) {
                    Ok(num_buckets) if num_buckets >= 1 => Op::HashBucket { num_buckets },
                    _ => return Err(node.error(format!("num_buckets {n} must be >= 1"))),
                }
            }
            "Select" => Op::Select,
            "Conv2D" => Op::Conv2D(sliding(node, true)?),
            "DepthwiseConv2D" => Op::DepthwiseConv2D(sliding(node, true)?),
            "MaxPool" | "AvgPool" => {
                Op::Pool { max: node.op == "MaxPool", ksize: pair(node, "ksize")?, sliding: sliding(node, false)? }
            }
            "L2Loss" => Op::L2Loss,
            "SoftmaxCrossEntropy" => Op::SoftmaxCrossEntropy,
            other => {
                return Err(crate::Error::UnknownOp {
                    node: node.name.clone(),
                    op: other.to_owned(),
                    version: OP_SET_VERSION,
                });
            }
        };
        let (min, max) = op.arity();
        let n = node.inputs.len();
        if n < min || n > max {
            let expected = if min == max { format!("{min}") } else { format!("at least {min}") };
            return Err(node.error(format!("expected {expected} input(s), got {n}")));
        }
        Ok(op)
    }

    /// The op's name as written in the artifact.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Placeholder { .. } => "Placeholder",
            Op::Const { .. } => "Const",
            Op::Variable { .. } => "Variable",
            Op::Identity => "Identity",
            Op::Reshape { .. } => "Reshape",
            Op::Tile { .. } => "Tile",
            Op::TileBy => "TileBy",
            Op::Pad { .. } => "Pad",
            Op::Shape => "Shape",
            Op::AsString => "AsString",
            Op::Concat { .. } => "ConcatV2",
            Op::ExpandDims { .. } => "ExpandDims",
            Op::Squeeze { .. } => "Squeeze",
            Op::StridedSlice(_) => "StridedSlice",
            Op::MatMul { .. } => "MatMul",
            Op::Einsum(_) => "Einsum",
            Op::BiasAdd => "BiasAdd",
            Op::Binary(BinaryOp::Add) => "Add",
            Op::Binary(BinaryOp::Sub) => "Sub",
            Op::Binary(BinaryOp::Mul) => "Mul",
            Op::Binary(BinaryOp::Div) => "Div",
            Op::Binary(BinaryOp::Maximum) => "Maximum",
            Op::Binary(BinaryOp::Minimum) => "Minimum",
            Op::Unary(UnaryOp::Relu) => "Relu",
            Op::Unary(UnaryOp::Tanh) => "Tanh",
            Op::Unary(UnaryOp::Sigmoid) => "Sigmoid",
            Op::Unary(UnaryOp::Square) => "Square",
            Op::Unary(UnaryOp::Neg) => "Neg",
            Op::Unary(UnaryOp::Abs) => "Abs",
            Op::Unary(UnaryOp::Exp) => "Exp",
            Op::Unary(UnaryOp::Log) => "Log",
            Op::Unary(UnaryOp::Sqrt) => "Sqrt",
            Op::Unary(UnaryOp::Rsqrt) => "Rsqrt",
            Op::Unary(UnaryOp::Softplus) => "Softplus",
            Op::Unary(UnaryOp::Elu) => "Elu",
            Op::Unary(UnaryOp::Selu) => "Selu",
            Op::Unary(UnaryOp::Erf) => "Erf",
            Op::Transpose { .. } => "Transpose",
            Op::Equal { negate: false } => "Equal",
            Op::Equal { negate: true } => "NotEqual",
            Op::Compare(CompareOp::Less) => "Less",
            Op::Compare(CompareOp::LessEqual) => "LessEqual",
            Op::Compare(CompareOp::Greater) => "Greater",
            Op::Compare(CompareOp::GreaterEqual) => "GreaterEqual",
            Op::Logical { and: true } => "LogicalAnd",
            Op::Logical { and: false } => "LogicalOr",
            Op::LogicalNot => "LogicalNot",
            Op::Softmax => "Softmax",
            Op::ArgMax { .. } => "ArgMax",
            Op::Reduce { op: ReduceOp::Sum, .. } => "ReduceSum",
            Op::Reduce { op: ReduceOp::Mean, .. } => "ReduceMean",
            Op::Reduce { op: ReduceOp::Max, .. } => "ReduceMax",
            Op::Reduce { op: ReduceOp::Min, .. } => "ReduceMin",
            Op::Cast { .. } => "Cast",
            Op::Gather { .. } => "Gather",
            Op::VocabLookup { .. } => "VocabLookup",
            Op::TableLookup { .. } => "TableLookup",
            Op::HashBucket { .. } => "HashBucket",
            Op::Select => "Select",
            Op::Conv2D(_) => "Conv2D",
            Op::DepthwiseConv2D(_) => "DepthwiseConv2D",
            Op::Pool { max: true, .. } => "MaxPool",
            Op::Pool { max: false, .. } => "AvgPool",
            Op::L2Loss => "L2Loss",
            Op::SoftmaxCrossEntropy => "SoftmaxCrossEntropy",
        }
    }

    /// The allowed input count, as `(min, max)`.
    pub fn arity(&self) -> (usize, usize) {
        match self {
            Op::Placeholder { .. } | Op::Const { .. } | Op::Variable { .. } => (0, 0),
            Op::Concat { .. } => (1, usize::MAX),
            Op::Select => (3, 3),
            Op::MatMul { .. }
            | Op::Einsum(_)
            | Op::BiasAdd
            | Op::Binary(_)
            | Op::Equal { .. }
            | Op::Compare(_)
            | Op::Logical { .. }
            | Op::Gather { .. }
            | Op::TileBy
            | Op::Conv2D(_)
            | Op::DepthwiseConv2D(_)
            | Op::SoftmaxCrossEntropy => (2, 2),
            Op::Identity
            | Op::Reshape { .. }
            | Op::Tile { .. }
            | Op::Pad { .. }
            | Op::Shape
            | Op::AsString
            | Op::LogicalNot
            | Op::ExpandDims { .. }
            | Op::Squeeze { .. }
            | Op::Transpose { .. }
            | Op::StridedSlice(_)
            | Op::Unary(_)
            | Op::Softmax
            | Op::ArgMax { .. }
            | Op::Reduce { .. }
            | Op::Cast { .. }
            | Op::VocabLookup { .. }
            | Op::HashBucket { .. }
            | Op::TableLookup { .. }
            | Op::Pool { .. }
            | Op::L2Loss => (1, 1),
        }
    }

    /// Runs the reference kernel: computes the op on `inputs` into `out`,
    /// reusing `out`'s allocation when it already has the right dtype.
    ///
    /// # Errors
    /// A message saying which input disagrees with what; the caller names the
    /// node. Sources (`Placeholder`, `Variable`) have no kernel: their values
    /// are supplied by the caller.
    pub fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> std::result::Result<(), String> {
        kernels::eval(self, inputs, out)
    }

    /// Infers the output dtype and shape from the inputs'.
    ///
    /// # Errors
    /// A message saying which input disagrees with what; the caller names the node.
    pub fn infer(&self, inputs: &[TensorType]) -> std::result::Result<TensorType, String> {
        infer::infer(self, inputs)
    }
}

/// Normalises a possibly negative `axis` for a tensor of `rank` dims.
///
/// # Errors
/// A message if the axis is out of `[-rank, rank)`.
pub fn normalize_axis(axis: i64, rank: usize) -> std::result::Result<usize, String> {
    let r = i64::try_from(rank).map_err(|_| "rank too large".to_owned())?;
    let a = if axis < 0 { axis + r } else { axis };
    if (0..r).contains(&a) { Ok(a as usize) } else { Err(format!("axis {axis} is out of range for rank {rank}")) }
}

/// The entries of a `TableLookup`, by the dtype of their keys.
#[derive(Debug, Clone, PartialEq)]
pub enum Table {
    /// String keys.
    Strings(std::collections::HashMap<String, i64>),
    /// i64 keys.
    Ints(std::collections::HashMap<i64, i64>),
}

/// The map of `keys` to `values`, refusing a repeated key.
fn table<K: std::hash::Hash + Eq + Clone + std::fmt::Debug>(
    node: &Node,
    keys: &[K],
    values: &[i64],
) -> Result<std::collections::HashMap<K, i64>> {
    if keys.len() != values.len() {
        return Err(node.error(format!("{} keys but {} values", keys.len(), values.len())));
    }
    let mut table = std::collections::HashMap::with_capacity(keys.len());
    for (k, &v) in keys.iter().zip(values) {
        if table.insert(k.clone(), v).is_some() {
            return Err(node.error(format!("key {k:?} appears twice")));
        }
    }
    Ok(table)
}

/// Two positive ints (height, width) of attribute `key`, each at most
/// [`window::MAX_STEP`].
fn pair(node: &Node, key: &str) -> Result<[usize; 2]> {
    match node.attr_ints(key)? {
        &[a, b] if [a, b].iter().all(|&v| (1..=window::MAX_STEP as i64).contains(&v)) => Ok([a as usize, b as usize]),
        other => Err(node.error(format!("{key} {other:?}: expected 2 ints in 1..={}", window::MAX_STEP))),
    }
}

/// The `strides`, `padding` and (for a convolution, optionally) `dilations` of `node`.
fn sliding(node: &Node, dilated: bool) -> Result<Sliding> {
    let same = match node.attr_str("padding")? {
        "SAME" => true,
        "VALID" => false,
        other => return Err(node.error(format!("padding {other:?}: expected \"SAME\" or \"VALID\""))),
    };
    let dilations = if dilated && node.attrs.contains_key("dilations") { pair(node, "dilations")? } else { [1, 1] };
    Ok(Sliding { strides: pair(node, "strides")?, dilations, same })
}
