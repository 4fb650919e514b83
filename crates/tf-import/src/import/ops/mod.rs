//! What each TensorFlow op becomes in our op set: one translator per
//! TensorFlow op name, registered by family. [`calls`] routes tensors
//! (placeholders, constants, identities, variables, function calls),
//! [`control`] translates TF2 loops and tensor lists, [`frames`] TF1 loop
//! frames and TensorArrays, [`array`](mod@array) moves elements, [`math`] computes, [`nn`] holds images and
//! normalisation, [`sparse`] holds what feature columns compile to, [`text`] strings and lookup tables.
//! Each family lists its ops in its `OPS` slice; [`Importer::translate`] looks the node's op
//! up in all of them.
//!
//! ## Adding an op
//!
//! Write its translator in its family's file (or register a generic one,
//! such as [`same_op`]) and add `(tf_name, translator)` to that family's
//! `OPS`.

use std::collections::HashMap;
use std::sync::OnceLock;

use opset::DataType;
use opset::ops::OpDef;
use opset::ops::array::Cast;

pub(super) use frames::Frame;

use super::{Importer, node_error};
use crate::Result;
use crate::pb;

mod array;
mod calls;
mod control;
mod example;
mod frames;
mod math;
mod nn;
mod sparse;
mod text;

/// Translates TensorFlow node `node` of scope `scope` (its output `index`)
/// into our ops, emitting them through the importer, and returns the name
/// of our tensor computing that output.
pub(super) type Translate = for<'a> fn(&mut Importer<'a>, usize, &'a pb::NodeDef, usize) -> Result<String>;

/// The registrations of every family.
const FAMILIES: [&[(&str, Translate)]; 9] =
    [calls::OPS, control::OPS, frames::OPS, array::OPS, math::OPS, nn::OPS, sparse::OPS, text::OPS, example::OPS];

/// Every family's translators, by TensorFlow op name (built once).
fn registry() -> &'static HashMap<&'static str, Translate> {
    static REGISTRY: OnceLock<HashMap<&'static str, Translate>> = OnceLock::new();
    REGISTRY.get_or_init(|| FAMILIES.into_iter().flatten().copied().collect())
}

impl pb::NodeDef {
    /// Whether the importer has a translator for this node's op (what
    /// `tf_import::inspect` reports). A method rather than a free function:
    /// this module is private to `import`, and an inherent method is
    /// visible to the whole crate.
    pub(crate) fn is_supported(&self) -> bool {
        registry().contains_key(self.op.as_str())
    }
}

impl<'a> Importer<'a> {
    /// Translates one TensorFlow node (output `index`) with the translator
    /// registered for its op.
    pub(super) fn translate(&mut self, scope: usize, node: &'a pb::NodeDef, index: usize) -> Result<String> {
        let op = node.op.as_str();
        if index != 0 && !calls::MULTI_OUTPUT.contains(&op) {
            return Err(node_error(node, format!("output {index} of a single-output op")));
        }
        let translate = registry()
            .get(op)
            .ok_or_else(|| node_error(node, format!("TensorFlow op {op:?} is not supported by the importer")))?;
        translate(self, scope, node, index)
    }
}

/// The translation of a TensorFlow op that is one of ours without
/// attributes: our op `O` on the node's first `N` inputs.
fn same_op<'a, O: OpDef + Default, const N: usize>(
    im: &mut Importer<'a>,
    scope: usize,
    node: &'a pb::NodeDef,
    _: usize,
) -> Result<String> {
    let inputs = im.inputs(scope, node, 0..N)?;
    im.emit(scope, node, O::default(), &inputs)
}

/// Our tensor `x`, of i64, as `to`: itself for i64, else a `Cast` named
/// `<x>/cast` (for TensorFlow ops whose output dtype is an attribute where
/// ours give i64).
fn as_dtype(im: &mut Importer<'_>, node: &pb::NodeDef, x: String, to: DataType) -> Result<String> {
    if to == DataType::I64 { Ok(x) } else { im.emit_named(node, format!("{x}/cast"), Cast { to }, &[x]) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_tensorflow_op_is_registered_once() {
        let names: Vec<&str> = FAMILIES.into_iter().flatten().map(|&(name, _)| name).collect();
        assert_eq!(registry().len(), names.len(), "a TensorFlow op registered twice: {names:?}");
        for name in ["MatMul", "Conv2D", "LookupTableFindV2", "StatefulPartitionedCall", "ConcatV2"] {
            assert!(registry().contains_key(name), "{name}");
        }
    }
}
