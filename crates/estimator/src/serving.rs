//! Export for serving: the receiver that turns what a client sends into the
//! model's features, and the writing of a version through `export`.

use std::collections::BTreeMap;
use std::path::Path;

use export::{DEFAULT_SIGNATURE, MetaGraph, PREDICT_METHOD, SERVE_TAG, SavedModel, Signature, TensorInfo};
use opset::Tensor;

use crate::builder::{GraphBuilder, Output};
use crate::program::Program;
use crate::spec::{EstimatorSpec, Features, ModelFn};
use crate::{Error, Mode, Result};

/// The key of a single-tensor prediction, in `predict` results and in the
/// exported signature, as TensorFlow names it.
pub const DEFAULT_OUTPUT_KEY: &str = "output";

/// What a `serving_input_receiver_fn` returns, as
/// `tf.estimator.export.ServingInputReceiver`: the placeholders a client
/// feeds (by key) and the features the model receives.
#[derive(Debug, Clone)]
pub struct ServingInputReceiver {
    /// The model's features, computed from the receiver tensors.
    pub features: Features<Output>,
    /// The placeholders a client feeds, by the key it uses.
    pub receiver_tensors: BTreeMap<String, Output>,
}

impl ServingInputReceiver {
    /// A receiver from features and the placeholders behind them.
    pub fn new(
        features: impl Into<Features<Output>>,
        receiver_tensors: BTreeMap<String, Output>,
    ) -> ServingInputReceiver {
        ServingInputReceiver { features: features.into(), receiver_tensors }
    }
}

/// The spec's predictions as (key, output) pairs.
pub(crate) fn prediction_outputs(spec: &EstimatorSpec) -> Result<Vec<(String, Output)>> {
    match &spec.predictions {
        Some(Features::Single(o)) => Ok(vec![(DEFAULT_OUTPUT_KEY.to_owned(), *o)]),
        Some(Features::Map(m)) => Ok(m.iter().map(|(k, o)| (k.clone(), *o)).collect()),
        None => {
            Err(Error::ModelFn { mode: Mode::Predict, reason: "the returned EstimatorSpec has no predictions".into() })
        }
    }
}

fn info(g: &GraphBuilder, o: Output) -> TensorInfo {
    let ty = g.ty(o);
    TensorInfo { name: format!("{}:0", g.name(o)), dtype: ty.dtype, shape: ty.shape.clone() }
}

/// Builds the serving graph and writes it with the checkpoint's variables.
pub(crate) fn export<P>(
    model_fn: &dyn ModelFn<P>,
    params: &P,
    receiver_fn: impl FnOnce(&mut GraphBuilder) -> Result<ServingInputReceiver>,
    checkpoint: &Path,
    restored: &mut BTreeMap<String, Tensor>,
    export_dir_base: &Path,
) -> Result<std::path::PathBuf> {
    let (model, variables, assets) = build(model_fn, params, receiver_fn, checkpoint, restored)?;
    let refs: Vec<(&str, &Tensor)> = variables.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let dir = export::write_artifact(export_dir_base, &model, &refs, &assets)?;
    tracing::info!("SavedModel written to: {}", dir.display());
    Ok(dir)
}

/// The export of the checkpoint in memory: the artifact [`export`] would
/// write, without writing it.
pub(crate) fn export_artifact<P>(
    model_fn: &dyn ModelFn<P>,
    params: &P,
    receiver_fn: impl FnOnce(&mut GraphBuilder) -> Result<ServingInputReceiver>,
    checkpoint: &Path,
    restored: &mut BTreeMap<String, Tensor>,
) -> Result<export::Artifact> {
    let (model, variables, assets) = build(model_fn, params, receiver_fn, checkpoint, restored)?;
    Ok(export::Artifact::in_memory(model, variables, assets))
}

/// The serving graph, its signatures, the checkpoint's variables it reads
/// and its assets.
fn build<P>(
    model_fn: &dyn ModelFn<P>,
    params: &P,
    receiver_fn: impl FnOnce(&mut GraphBuilder) -> Result<ServingInputReceiver>,
    checkpoint: &Path,
    restored: &mut BTreeMap<String, Tensor>,
) -> Result<(SavedModel, BTreeMap<String, Tensor>, opset::Assets)> {
    let mut g = GraphBuilder::new();
    let receiver = receiver_fn(&mut g)?;
    if receiver.receiver_tensors.is_empty() {
        return Err(Error::ModelFn {
            mode: Mode::Predict,
            reason: "the serving input receiver has no receiver tensor".into(),
        });
    }
    let spec = model_fn.build(&mut g, receiver.features.clone(), None, Mode::Predict, params)?;
    let program = Program::new(g, spec, Mode::Predict, receiver.features, None)?;
    let variables = program.variables_from(restored, checkpoint)?;
    let g = &program.builder;
    let signature = Signature {
        method_name: PREDICT_METHOD.into(),
        inputs: receiver.receiver_tensors.iter().map(|(k, o)| (k.clone(), info(g, *o))).collect(),
        outputs: prediction_outputs(&program.spec)?.into_iter().map(|(k, o)| (k, info(g, o))).collect(),
    };
    let model = SavedModel {
        meta_graphs: vec![MetaGraph {
            tags: vec![SERVE_TAG.into()],
            graph: g.graph(),
            // TensorFlow's estimators export the same signature under both keys.
            signatures: [(DEFAULT_SIGNATURE.to_owned(), signature.clone()), ("predict".to_owned(), signature)].into(),
            assets: g.assets().iter().map(|(name, _)| name.to_owned()).collect(),
        }],
    };
    // The signature must hold against the graph as the predictor will see it.
    for (key, s) in &model.meta_graphs[0].signatures {
        s.check(key, &program.graph)?;
    }
    Ok((model, variables, g.assets().clone()))
}
