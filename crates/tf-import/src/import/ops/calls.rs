//! The ops that route tensors rather than compute them: placeholders,
//! constants, identities, variables and function calls (inlined).

use opset::ops::array::{Const, Identity};

use super::{Translate, same_op};
use crate::Result;
use crate::import::{Importer, node_error};
use crate::pb;

/// The TensorFlow ops of this family, by name.
pub(super) const OPS: &[(&str, Translate)] = &[
    ("Placeholder", placeholder),
    ("PlaceholderWithDefault", same_op::<Identity, 1>),
    ("Identity", same_op::<Identity, 1>),
    ("Snapshot", same_op::<Identity, 1>),
    ("StopGradient", same_op::<Identity, 1>),
    ("IdentityN", identity_n),
    ("Const", constant),
    ("ReadVariableOp", read_variable),
    ("VariableV2", variable),
    ("Variable", variable),
    ("StatefulPartitionedCall", call),
    ("PartitionedCall", call),
];

/// The ops with more than one output (every other op's outputs past 0 are refused).
pub(super) const MULTI_OUTPUT: &[&str] = &[
    "StatefulPartitionedCall",
    "PartitionedCall",
    "IdentityN",
    "While",
    "StatelessWhile",
    "If",
    "StatelessIf",
    "Split",
    "Unpack",
    "SparseFillEmptyRows",
    "ParseExampleV2",
    "ParseExample",
    "ParseSingleExample",
    "SparseReshape",
    "Unique",
    "TensorArrayV3",
    "Switch",
    "Merge",
];

/// A placeholder that a signature does not feed: refused.
fn placeholder<'a>(_: &mut Importer<'a>, _: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    Err(node_error(node, "a placeholder that is not a signature input"))
}

/// Output `index` of `IdentityN`: its input `index`.
fn identity_n<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, index: usize) -> Result<String> {
    let x = im.input(scope, node, index)?;
    im.emit(scope, node, Identity, &[x])
}

/// A constant: ours, with the same value.
fn constant<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    let value = im.constant_node(node)?;
    im.emit(scope, node, Const { value }, &[])
}

/// The value of a resource variable: our `Variable`.
fn read_variable<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    let reference = Importer::resource_input(node)?;
    im.variable(scope, reference)
}

/// A TF1 reference variable: our `Variable`.
fn variable<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    im.variable(scope, &node.name)
}

/// A function call, inlined: output `index` is the function's.
fn call<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, index: usize) -> Result<String> {
    im.call(scope, node, index)
}
