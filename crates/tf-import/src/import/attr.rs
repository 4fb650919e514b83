//! Reading the attributes of a TensorFlow node.

use super::{AttrV, node_error};
use crate::Result;
use crate::pb;

/// Attribute `key` of `node`, if set.
pub(super) fn get<'n>(node: &'n pb::NodeDef, key: &str) -> Option<&'n AttrV> {
    node.attr.get(key).and_then(|a| a.value.as_ref())
}

/// Whether bool attribute `key` is set and true.
pub(super) fn flag(node: &pb::NodeDef, key: &str) -> bool {
    matches!(get(node, key), Some(AttrV::B(true)))
}

/// Int attribute `key`, if set.
pub(super) fn int(node: &pb::NodeDef, key: &str) -> Option<i64> {
    match get(node, key) {
        Some(AttrV::I(v)) => Some(*v),
        _ => None,
    }
}

/// Int attribute `key`, `default` if it is not set (TensorFlow's default).
pub(super) fn int_or(node: &pb::NodeDef, key: &str, default: i64) -> i64 {
    int(node, key).unwrap_or(default)
}

/// Float attribute `key`, `default` if it is not set (TensorFlow's default).
pub(super) fn float_or(node: &pb::NodeDef, key: &str, default: f32) -> f32 {
    match get(node, key) {
        Some(AttrV::F(v)) => *v,
        _ => default,
    }
}

/// String attribute `key` (bytes), if set.
pub(super) fn bytes<'n>(node: &'n pb::NodeDef, key: &str) -> Option<&'n [u8]> {
    match get(node, key) {
        Some(AttrV::S(s)) => Some(s),
        _ => None,
    }
}

/// Dtype attribute `key`, as ours.
///
/// # Errors
/// [`crate::Error::Node`] if it is not set, or a dtype we do not have.
pub(super) fn dtype(node: &pb::NodeDef, key: &str) -> Result<opset::DataType> {
    match get(node, key) {
        Some(AttrV::Type(t)) => crate::tensor_proto::dtype(*t).map_err(|e| node_error(node, e)),
        _ => Err(node_error(node, format!("no dtype attribute {key:?}"))),
    }
}

/// Refuses a `data_format` other than NHWC (channels last), the only one
/// our image ops take.
///
/// # Errors
/// [`crate::Error::Node`] naming the node.
pub(super) fn nhwc(node: &pb::NodeDef) -> Result<()> {
    match bytes(node, "data_format") {
        Some(f) if f != b"NHWC" => Err(node_error(node, "only the NHWC data format is supported")),
        _ => Ok(()),
    }
}
