//! What a `model_fn` receives and returns: features, the spec per mode, and
//! the `ModelFn` trait itself.

use std::collections::BTreeMap;

use crate::builder::{GraphBuilder, Output};
use crate::entities::EntityMetrics;
use crate::optim::TrainOp;
use crate::{Error, Mode, Result};

/// Features: a single tensor, or named tensors (as a serving receiver
/// usually provides). The same shape serves graph handles
/// (`Features<Output>`) and values (`Features<Tensor>`).
#[derive(Debug, Clone, PartialEq)]
pub enum Features<T> {
    /// One tensor.
    Single(T),
    /// Tensors by name.
    Map(BTreeMap<String, T>),
}

impl<T> Features<T> {
    /// The tensor for `key`: the single tensor whatever the key, or the
    /// map's entry, as the write-up's `model_fn` does with
    /// `if isinstance(features, dict): features = features['feature']`.
    ///
    /// # Errors
    /// [`Error::MissingFeature`] if the map lacks `key`.
    pub fn single_or(&self, key: &str) -> Result<&T> {
        match self {
            Features::Single(t) => Ok(t),
            Features::Map(m) => m
                .get(key)
                .ok_or_else(|| Error::MissingFeature { key: key.to_owned(), available: m.keys().cloned().collect() }),
        }
    }

    /// The tensors with their names (`None` for a single tensor).
    pub fn iter(&self) -> Box<dyn Iterator<Item = (Option<&str>, &T)> + '_> {
        match self {
            Features::Single(t) => Box::new(std::iter::once((None, t))),
            Features::Map(m) => Box::new(m.iter().map(|(k, v)| (Some(k.as_str()), v))),
        }
    }

    /// Applies `f` to every tensor, keeping the names.
    ///
    /// # Errors
    /// The first error of `f`.
    pub fn try_map<U, E>(&self, mut f: impl FnMut(Option<&str>, &T) -> Result<U, E>) -> Result<Features<U>, E> {
        Ok(match self {
            Features::Single(t) => Features::Single(f(None, t)?),
            Features::Map(m) => {
                Features::Map(m.iter().map(|(k, v)| Ok((k.clone(), f(Some(k), v)?))).collect::<Result<_, E>>()?)
            }
        })
    }
}

impl<T> From<T> for Features<T> {
    fn from(t: T) -> Features<T> {
        Features::Single(t)
    }
}

impl<T> From<BTreeMap<String, T>> for Features<T> {
    fn from(m: BTreeMap<String, T>) -> Features<T> {
        Features::Map(m)
    }
}

/// What a `model_fn` returns for a mode, as `tf.estimator.EstimatorSpec`.
#[derive(Debug, Clone)]
pub struct EstimatorSpec {
    /// The mode the spec was built for.
    pub mode: Mode,
    /// PREDICT: the predictions (a single tensor is exported as `output`).
    pub predictions: Option<Features<Output>>,
    /// EVAL and TRAIN: the scalar loss.
    pub loss: Option<Output>,
    /// TRAIN: what minimises the loss.
    pub train_op: Option<TrainOp>,
    /// EVAL: extra scalar metrics (e.g. accuracy), averaged over examples.
    pub eval_metrics: BTreeMap<String, Output>,
    /// EVAL: a tagger's entities, scored over the whole evaluation.
    pub entity_metrics: Option<EntityMetrics>,
}

impl EstimatorSpec {
    /// A PREDICT spec.
    pub fn predict(predictions: impl Into<Features<Output>>) -> EstimatorSpec {
        EstimatorSpec {
            mode: Mode::Predict,
            predictions: Some(predictions.into()),
            loss: None,
            train_op: None,
            eval_metrics: BTreeMap::new(),
            entity_metrics: None,
        }
    }

    /// An EVAL spec.
    pub fn eval(loss: Output) -> EstimatorSpec {
        EstimatorSpec {
            mode: Mode::Eval,
            predictions: None,
            loss: Some(loss),
            train_op: None,
            eval_metrics: BTreeMap::new(),
            entity_metrics: None,
        }
    }

    /// A TRAIN spec.
    pub fn train(loss: Output, train_op: TrainOp) -> EstimatorSpec {
        EstimatorSpec {
            mode: Mode::Train,
            predictions: None,
            loss: Some(loss),
            train_op: Some(train_op),
            eval_metrics: BTreeMap::new(),
            entity_metrics: None,
        }
    }

    /// Scores a tagger's entities in `evaluate`: `precision`, `recall` and
    /// `f1` over exact entity spans, as CoNLL's `conlleval`.
    pub fn with_entity_metrics(mut self, metrics: EntityMetrics) -> EstimatorSpec {
        self.entity_metrics = Some(metrics);
        self
    }

    /// Adds an evaluation metric: a scalar computed per batch, averaged over
    /// examples by `evaluate`.
    pub fn with_metric(mut self, name: &str, value: Output) -> EstimatorSpec {
        self.eval_metrics.insert(name.to_owned(), value);
        self
    }
}

/// The type of a plain `fn` model, handy to name an `Estimator`'s type:
/// `Estimator<ModelFnPointer<Params>, Params>`.
pub type ModelFnPointer<P> = fn(&mut GraphBuilder, Features<Output>, Option<Output>, Mode, &P) -> Result<EstimatorSpec>;

/// A model: builds the graph for a mode and returns its spec, as
/// TensorFlow's `model_fn(features, labels, mode, params)`. Implemented for
/// every function or closure of that shape.
pub trait ModelFn<P> {
    /// Builds the graph on `g` for `mode`. `labels` is `None` in PREDICT.
    ///
    /// # Errors
    /// Any build error; a mode the model does not handle is
    /// [`Error::ModelFn`].
    fn build(
        &self,
        g: &mut GraphBuilder,
        features: Features<Output>,
        labels: Option<Output>,
        mode: Mode,
        params: &P,
    ) -> Result<EstimatorSpec>;
}

impl<P, F> ModelFn<P> for F
where
    F: Fn(&mut GraphBuilder, Features<Output>, Option<Output>, Mode, &P) -> Result<EstimatorSpec>,
{
    fn build(
        &self,
        g: &mut GraphBuilder,
        features: Features<Output>,
        labels: Option<Output>,
        mode: Mode,
        params: &P,
    ) -> Result<EstimatorSpec> {
        self(g, features, labels, mode, params)
    }
}
