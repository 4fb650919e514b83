//! Signatures: the named, typed, shaped inputs and outputs a client sees.

use std::collections::BTreeMap;

use opset::{DataType, Op, Shape, TypedGraph};

use crate::{Error, Result};

/// The key of the signature served by default, as in TensorFlow.
pub const DEFAULT_SIGNATURE: &str = "serving_default";
/// The tag of the meta graph used for serving, as in TensorFlow.
pub const SERVE_TAG: &str = "serve";
/// The `method_name` of prediction signatures, as in TensorFlow.
pub const PREDICT_METHOD: &str = "tensorflow/serving/predict";

/// A named function of the model: keyed inputs in, keyed outputs out.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Signature {
    /// What kind of call this is (e.g. [`PREDICT_METHOD`]).
    pub method_name: String,
    /// Inputs by the key a client uses (e.g. `number`).
    pub inputs: BTreeMap<String, TensorInfo>,
    /// Outputs by the key a client reads (e.g. `output`).
    pub outputs: BTreeMap<String, TensorInfo>,
}

/// A user-facing tensor: the graph tensor it binds to, its dtype and shape.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorInfo {
    /// The graph tensor, `node` or `node:0`.
    pub name: String,
    /// The element type.
    pub dtype: DataType,
    /// The shape; `None` dims (e.g. the batch) vary per call.
    pub shape: Shape,
}

impl Signature {
    /// Checks the signature against its graph: every input is a placeholder
    /// and every output a node, with the declared dtypes and compatible shapes.
    ///
    /// # Errors
    /// [`Error::Signature`] naming `key` and the offending entry.
    pub fn check(&self, key: &str, graph: &TypedGraph) -> Result<()> {
        let fail = |reason: String| Error::Signature { signature: key.to_owned(), reason };
        if self.outputs.is_empty() {
            return Err(fail("it has no output".into()));
        }
        for (side, map) in [("input", &self.inputs), ("output", &self.outputs)] {
            for (name, info) in map {
                let i = graph
                    .resolve(&info.name)
                    .map_err(|_| fail(format!("{side} {name:?} refers to {:?}, which the graph lacks", info.name)))?;
                let node = &graph.nodes()[i];
                if side == "input" && !matches!(node.op, Op::Placeholder { .. }) {
                    return Err(fail(format!(
                        "input {name:?} refers to {:?}, a {} rather than a Placeholder",
                        info.name,
                        node.op.name()
                    )));
                }
                if node.ty.dtype != info.dtype || !node.ty.shape.compatible(&info.shape) {
                    return Err(fail(format!(
                        "{side} {name:?} is declared {} {} but {:?} is {} {}",
                        info.dtype, info.shape, info.name, node.ty.dtype, node.ty.shape
                    )));
                }
            }
        }
        Ok(())
    }
}
