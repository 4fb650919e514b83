//! The reference answer for a version directory: its graph evaluated node
//! by node with `opset`'s kernels, no plan, no fusion. What the predictor
//! must reproduce.

use std::collections::BTreeMap;
use std::path::Path;

use export::{Artifact, Error};
use opset::{Tensor, TypedGraph};

/// Evaluates signature `signature` of the `serve` meta graph of `version`
/// on `inputs`, returning its outputs by key.
///
/// # Errors
/// Whatever opening the artifact or evaluating the graph reports.
pub fn reference_outputs(
    version: &Path,
    signature: &str,
    inputs: &[(&str, Tensor)],
) -> export::Result<BTreeMap<String, Tensor>> {
    Reference::open(version)?.outputs(signature, inputs)
}

/// An artifact opened once for repeated reference evaluations (the graph
/// interpreted node by node, every call).
pub struct Reference {
    artifact: Artifact,
    graph: TypedGraph,
}

impl Reference {
    /// Opens and types the `serve` graph of `version`.
    ///
    /// # Errors
    /// Whatever opening the artifact reports.
    pub fn open(version: &Path) -> export::Result<Reference> {
        let artifact = Artifact::open(version)?;
        let graph = artifact.typed_graph(&["serve"])?;
        Ok(Reference { artifact, graph })
    }

    /// The outputs of `signature` for `inputs`, by key.
    ///
    /// # Errors
    /// An unknown signature or input key, or what evaluating the graph reports.
    pub fn outputs(&self, signature: &str, inputs: &[(&str, Tensor)]) -> export::Result<BTreeMap<String, Tensor>> {
        let (artifact, graph) = (&self.artifact, &self.graph);
        let meta = artifact.model().meta_graph(&["serve"])?;
        let sig = meta.signatures.get(signature).ok_or_else(|| Error::Signature {
            signature: signature.to_owned(),
            reason: "not in the artifact".into(),
        })?;
        let mut values = vec![None; graph.nodes().len()];
        for (key, tensor) in inputs {
            let info = sig.inputs.get(*key).ok_or_else(|| Error::MissingVariable { name: (*key).to_owned() })?;
            values[graph.resolve(&info.name)?] = Some(tensor.clone());
        }
        for name in artifact.variables().names() {
            if let Ok(i) = graph.resolve(name) {
                values[i] = Some(artifact.variables().get(name)?);
            }
        }
        let outputs = sig
            .outputs
            .iter()
            .map(|(k, info)| Ok((k.clone(), graph.resolve(&info.name)?)))
            .collect::<export::Result<Vec<_>>>()?;
        let targets: Vec<usize> = outputs.iter().map(|(_, i)| *i).collect();
        graph.evaluate(&targets, &mut values)?;
        outputs
            .into_iter()
            .map(|(k, i)| {
                values[i].take().map(|v| (k, v)).ok_or_else(|| Error::MissingVariable { name: "output".into() })
            })
            .collect()
    }
}
