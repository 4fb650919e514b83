//! A `model_fn` built for one mode into a checked graph, with the nodes the
//! estimator feeds (features, labels, variables) located once, and a
//! reusable slot per node so that a training loop reuses its buffers.

use std::collections::BTreeMap;

use opset::{DataType, Shape, Tensor, TensorType, TypedGraph};

use crate::builder::{GraphBuilder, Output};
use crate::dataset::Example;
use crate::spec::{EstimatorSpec, Features, ModelFn};
use crate::{Error, Mode, Result};

/// A built graph ready to run.
pub(crate) struct Program {
    pub graph: TypedGraph,
    pub builder: GraphBuilder,
    pub spec: EstimatorSpec,
    features: Features<Output>,
    labels: Option<Output>,
    values: Vec<Option<Tensor>>,
}

/// The placeholder type for a batched tensor: the batch dimension unknown,
/// and every other too when each batch is padded to its own.
fn batched(t: &Tensor, padded: bool) -> (DataType, Shape) {
    let dims = t.shape().iter().enumerate().map(|(i, &d)| (i > 0 && !padded).then_some(d)).collect();
    (t.dtype(), Shape(dims))
}

impl Program {
    /// Calls `model_fn` for `mode` on placeholders shaped like `batch`
    /// (only its rank and dtypes when batches are `padded`).
    pub fn build<P>(
        model_fn: &dyn ModelFn<P>,
        params: &P,
        mode: Mode,
        batch: &Example,
        padded: bool,
    ) -> Result<Program> {
        let mut g = GraphBuilder::new();
        let features = batch.features.try_map(|key, t| {
            let (dtype, shape) = batched(t, padded);
            let name = key.map_or_else(|| "features".to_owned(), |k| format!("features/{k}"));
            g.placeholder(&name, dtype, shape)
        })?;
        let labels = match (&batch.labels, mode) {
            (Some(t), Mode::Train | Mode::Eval) => {
                let (dtype, shape) = batched(t, padded);
                Some(g.placeholder("labels", dtype, shape)?)
            }
            (None, Mode::Train | Mode::Eval) => {
                return Err(Error::Input { reason: format!("{mode} needs labels, the input pipeline yields none") });
            }
            (_, Mode::Predict) => None,
        };
        let spec = model_fn.build(&mut g, features.clone(), labels, mode, params)?;
        Program::new(g, spec, mode, features, labels)
    }

    /// Checks the spec against its mode and the graph as a whole.
    pub fn new(
        builder: GraphBuilder,
        spec: EstimatorSpec,
        mode: Mode,
        features: Features<Output>,
        labels: Option<Output>,
    ) -> Result<Program> {
        let missing = |what: &str| Error::ModelFn { mode, reason: format!("the returned EstimatorSpec has no {what}") };
        match mode {
            Mode::Train if spec.train_op.is_none() => return Err(missing("train_op")),
            Mode::Train | Mode::Eval if spec.loss.is_none() => return Err(missing("loss")),
            Mode::Predict if spec.predictions.is_none() => return Err(missing("predictions")),
            _ => {}
        }
        if let Some(loss) = spec.loss {
            let ty = builder.ty(loss);
            if *ty != (TensorType { dtype: DataType::F32, shape: Shape::scalar() }) {
                return Err(Error::ModelFn {
                    mode,
                    reason: format!("the loss must be an f32 scalar, got {} {}", ty.dtype, ty.shape),
                });
            }
        }
        let graph = TypedGraph::new(&builder.graph(), builder.assets())?;
        let values = vec![None; graph.nodes().len()];
        Ok(Program { graph, builder, spec, features, labels, values })
    }

    /// Feeds `batch` and the variables (moved in, and back out afterwards,
    /// whatever happens), computes `targets`, and hands the values to `then`.
    pub fn run<R>(
        &mut self,
        batch: Example,
        variables: &mut BTreeMap<String, Tensor>,
        targets: &[Output],
        then: impl FnOnce(&TypedGraph, &[Option<Tensor>]) -> Result<R>,
    ) -> Result<R> {
        self.feed(batch)?;
        let defs: Vec<(String, usize)> =
            self.builder.variables().iter().map(|d| (d.name.clone(), d.output.index())).collect();
        for (name, i) in &defs {
            self.values[*i] = Some(variables.remove(name).ok_or_else(|| Error::Checkpoint {
                path: name.into(),
                reason: "the model declares this variable but no value was restored for it".into(),
            })?);
        }
        let targets: Vec<usize> = targets.iter().map(|t| t.index()).collect();
        let result = self
            .graph
            .evaluate(&targets, &mut self.values)
            .map_err(Error::from)
            .and_then(|()| then(&self.graph, &self.values));
        for (name, i) in defs {
            if let Some(v) = self.values[i].take() {
                variables.insert(name, v);
            }
        }
        result
    }

    fn feed(&mut self, batch: Example) -> Result<()> {
        let mismatch = || Error::Input { reason: "the batch's features are not keyed like the first batch's".into() };
        match (&self.features, batch.features) {
            (Features::Single(node), Features::Single(t)) => self.values[node.index()] = Some(t),
            (Features::Map(nodes), Features::Map(mut ts)) => {
                for (key, node) in nodes {
                    self.values[node.index()] = Some(ts.remove(key).ok_or_else(mismatch)?);
                }
            }
            _ => return Err(mismatch()),
        }
        if let (Some(node), Some(t)) = (self.labels, batch.labels) {
            self.values[node.index()] = Some(t);
        }
        Ok(())
    }

    /// The variables' first values, from their initializers.
    pub fn initial_variables(&self, seed: u64) -> BTreeMap<String, Tensor> {
        self.builder
            .variables()
            .iter()
            .map(|d| (d.name.clone(), d.initializer.value(&d.name, d.dtype, &d.shape, seed)))
            .collect()
    }

    /// Takes the model's variables out of a restored checkpoint, checking
    /// each against its declaration.
    pub fn variables_from(
        &self,
        restored: &mut BTreeMap<String, Tensor>,
        path: &std::path::Path,
    ) -> Result<BTreeMap<String, Tensor>> {
        self.builder
            .variables()
            .iter()
            .map(|d| {
                let t = restored.remove(&d.name).ok_or_else(|| Error::Checkpoint {
                    path: path.to_owned(),
                    reason: format!("variable {:?} of the model is not in the checkpoint", d.name),
                })?;
                if t.dtype() != d.dtype || t.shape() != d.shape.as_slice() {
                    return Err(Error::Checkpoint {
                        path: path.to_owned(),
                        reason: format!(
                            "variable {:?} is {} {:?} in the checkpoint, the model declares {} {:?}",
                            d.name,
                            t.dtype(),
                            t.shape(),
                            d.dtype,
                            d.shape
                        ),
                    });
                }
                Ok((d.name.clone(), t))
            })
            .collect()
    }
}
