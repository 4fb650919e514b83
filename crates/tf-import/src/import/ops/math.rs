//! Math ops: arithmetic, elementwise functions, comparisons and logic,
//! products, softmax and reductions.

use std::sync::Arc;

use opset::DataType;
use opset::Tensor;
use opset::ops::OpDef;
use opset::ops::array::{Cast, Const, Identity};
use opset::ops::math::{
    Abs, Add, ArgMax, BiasAdd, Div, Einsum, Elu, Equal, Equation, Erf, Exp, Greater, GreaterEqual, Less, LessEqual,
    Log, LogicalAnd, LogicalNot, LogicalOr, MatMul, Maximum, Minimum, Mul, Neg, NotEqual, ReduceMax, ReduceMean,
    ReduceMin, ReduceProd, ReduceSum, Relu, Rsqrt, Selu, Sigmoid, Softmax, Softplus, Sqrt, Square, Sub, Tanh,
};

use super::{Translate, as_dtype, same_op};
use crate::Result;
use crate::import::{Importer, attr, node_error};
use crate::pb;

/// The TensorFlow ops of this family, by name.
pub(super) const OPS: &[(&str, Translate)] = &[
    ("MatMul", matmul),
    ("BatchMatMul", batch_matmul),
    ("BatchMatMulV2", batch_matmul),
    ("BatchMatMulV3", batch_matmul),
    ("Einsum", einsum),
    ("BiasAdd", bias_add),
    ("Add", same_op::<Add, 2>),
    ("AddV2", same_op::<Add, 2>),
    ("AddN", add_n),
    ("Sub", same_op::<Sub, 2>),
    ("Mul", same_op::<Mul, 2>),
    ("RealDiv", same_op::<Div, 2>),
    ("Div", same_op::<Div, 2>),
    ("Maximum", same_op::<Maximum, 2>),
    ("Minimum", same_op::<Minimum, 2>),
    ("SquaredDifference", squared_difference),
    ("Equal", same_op::<Equal, 2>),
    ("NotEqual", same_op::<NotEqual, 2>),
    ("Less", same_op::<Less, 2>),
    ("LessEqual", same_op::<LessEqual, 2>),
    ("Greater", same_op::<Greater, 2>),
    ("GreaterEqual", same_op::<GreaterEqual, 2>),
    ("LogicalAnd", same_op::<LogicalAnd, 2>),
    ("LogicalOr", same_op::<LogicalOr, 2>),
    ("LogicalNot", same_op::<LogicalNot, 1>),
    ("Relu", same_op::<Relu, 1>),
    ("Relu6", relu6),
    ("LeakyRelu", leaky_relu),
    ("Tanh", same_op::<Tanh, 1>),
    ("Sigmoid", same_op::<Sigmoid, 1>),
    ("Softmax", same_op::<Softmax, 1>),
    ("Square", same_op::<Square, 1>),
    ("Neg", same_op::<Neg, 1>),
    ("Abs", same_op::<Abs, 1>),
    ("Exp", same_op::<Exp, 1>),
    ("Log", same_op::<Log, 1>),
    ("Sqrt", same_op::<Sqrt, 1>),
    ("Rsqrt", same_op::<Rsqrt, 1>),
    ("Softplus", same_op::<Softplus, 1>),
    ("Elu", same_op::<Elu, 1>),
    ("Selu", same_op::<Selu, 1>),
    ("Erf", same_op::<Erf, 1>),
    ("ArgMax", arg_max),
    ("Sum", reduce::<ReduceSum>),
    ("Mean", reduce::<ReduceMean>),
    ("Max", reduce::<ReduceMax>),
    ("Prod", reduce::<ReduceProd>),
    ("Min", reduce::<ReduceMin>),
    ("All", logical_reduce::<ReduceMin>),
    ("Any", logical_reduce::<ReduceMax>),
];

/// `MatMul`, transposing as its `transpose_a` and `transpose_b` say.
fn matmul<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    let ab = im.inputs(scope, node, 0..2)?;
    let op = MatMul { transpose_a: attr::flag(node, "transpose_a"), transpose_b: attr::flag(node, "transpose_b") };
    im.emit(scope, node, op, &ab)
}

/// `BatchMatMul*`: our `MatMul` batches too (equal batch dims: no
/// broadcasting), adjoints being transposes of real matrices.
fn batch_matmul<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    let ab = im.inputs(scope, node, 0..2)?;
    let op = MatMul { transpose_a: attr::flag(node, "adj_x"), transpose_b: attr::flag(node, "adj_y") };
    im.emit(scope, node, op, &ab)
}

/// A two-operand `Einsum`.
fn einsum<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    let equation = attr::bytes(node, "equation").ok_or_else(|| node_error(node, "no equation"))?;
    let equation = String::from_utf8_lossy(equation);
    if Importer::data_inputs(node).len() != 2 {
        return Err(node_error(node, "only two-operand einsums are supported"));
    }
    let ab = im.inputs(scope, node, 0..2)?;
    let equation = Equation::parse(&equation).map_err(|e| node_error(node, e.to_string()))?;
    im.emit(scope, node, Einsum { equation: Arc::new(equation) }, &ab)
}

/// `BiasAdd` over the channels of NHWC data.
fn bias_add<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, index: usize) -> Result<String> {
    attr::nhwc(node)?;
    same_op::<BiasAdd, 2>(im, scope, node, index)
}

/// `AddN`: a chain of `Add`s, the last named after the node.
fn add_n<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    let n = Importer::data_inputs(node).len();
    let mut sum = im.input(scope, node, 0)?;
    for i in 1..n {
        let x = im.input(scope, node, i)?;
        sum = if i + 1 == n {
            im.emit(scope, node, Add, &[sum, x])?
        } else {
            im.emit_named(node, format!("{}/add_{i}", im.base(scope, node)), Add, &[sum, x])?
        };
    }
    if n == 1 { im.emit(scope, node, Identity, &[sum]) } else { Ok(sum) }
}

/// `SquaredDifference`: the `Sub`, squared.
fn squared_difference<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, index: usize) -> Result<String> {
    let d = same_op::<Sub, 2>(im, scope, node, index)?;
    im.emit_named(node, format!("{d}/square"), Square, &[d])
}

/// `Relu6`: the `Relu`, clipped at 6.
fn relu6<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, index: usize) -> Result<String> {
    let r = same_op::<Relu, 1>(im, scope, node, index)?;
    let six = im.emit_named(node, format!("{r}/six"), Const { value: Tensor::scalar(6.0f32) }, &[])?;
    im.emit_named(node, format!("{r}/min"), Minimum, &[r, six])
}

/// `LeakyRelu`: `max(x, alpha * x)`.
fn leaky_relu<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    let alpha = attr::float_or(node, "alpha", 0.2);
    let x = im.input(scope, node, 0)?;
    let base = im.base(scope, node);
    let a = im.emit_named(node, format!("{base}/alpha"), Const { value: Tensor::scalar(alpha) }, &[])?;
    let ax = im.emit_named(node, format!("{base}/scaled"), Mul, &[x.clone(), a])?;
    im.emit(scope, node, Maximum, &[x, ax])
}

/// `ArgMax` along a constant axis, cast to its `output_type`.
fn arg_max<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    let x = im.input(scope, node, 0)?;
    let axis = im.int(scope, node, 1)?;
    let out = attr::dtype(node, "output_type").unwrap_or(opset::DataType::I64);
    let arg = im.emit(scope, node, ArgMax { axis }, &[x])?;
    as_dtype(im, node, arg, out)
}

/// Our reductions, built from TensorFlow's axes and `keep_dims`.
trait Reduction: OpDef {
    /// The reduction over `axes`.
    fn over(axes: Vec<i64>, keep_dims: bool) -> Self;
}

macro_rules! reductions {
    ($($op:ident),*) => {
        $(
            impl Reduction for $op {
                fn over(axes: Vec<i64>, keep_dims: bool) -> $op {
                    $op { axes, keep_dims }
                }
            }
        )*
    };
}

reductions!(ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd);

/// `Sum`, `Mean`, `Max`, `Min` or `Prod` over constant axes; none reduces nothing
/// in TensorFlow (ours would reduce all): an `Identity`.
fn reduce<'a, O: Reduction>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    let x = im.input(scope, node, 0)?;
    let axes = im.ints(scope, node, 1)?;
    if axes.is_empty() {
        return im.emit(scope, node, Identity, &[x]);
    }
    im.emit(scope, node, O::over(axes, attr::flag(node, "keep_dims")), &[x])
}

/// `All` (with `ReduceMin`) or `Any` (with `ReduceMax`) of bools over
/// constant axes: `reduce(cast(x, i32)) > 0`. Expressed with ops the set
/// already has rather than new bool reductions: min and max of 0/1 are
/// exactly "all" and "any", and over no element they give i32's highest
/// (> 0: `All` of nothing is true) and lowest value (not > 0: `Any` of
/// nothing is false), as TensorFlow says. No axes reduces nothing: an
/// `Identity`.
fn logical_reduce<'a, O: Reduction>(
    im: &mut Importer<'a>,
    scope: usize,
    node: &'a pb::NodeDef,
    _: usize,
) -> Result<String> {
    let x = im.input(scope, node, 0)?;
    let axes = im.ints(scope, node, 1)?;
    if axes.is_empty() {
        return im.emit(scope, node, Identity, &[x]);
    }
    let base = im.base(scope, node);
    let ints = im.emit_named(node, format!("{base}/as_int"), Cast { to: DataType::I32 }, &[x])?;
    let reduced =
        im.emit_named(node, format!("{base}/reduce"), O::over(axes, attr::flag(node, "keep_dims")), &[ints])?;
    let zero = im.emit_named(node, format!("{base}/zero"), Const { value: Tensor::scalar(0i32) }, &[])?;
    im.emit(scope, node, Greater, &[reduced, zero])
}
