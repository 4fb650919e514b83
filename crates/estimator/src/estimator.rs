//! `Estimator`: train, evaluate, predict and export a model defined by a
//! `model_fn`, as `tf.estimator.Estimator` does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use opset::Tensor;

use crate::checkpoint::{self, GLOBAL_STEP};
use crate::dataset::{Dataset, Example};
use crate::entities::{EntityCounts, EntityMetrics};
use crate::grad::gradients;
use crate::optim::OptimizerState;
use crate::program::Program;
use crate::spec::ModelFn;
use crate::{Error, Mode, Result};

/// The batches of an input pipeline.
type Batches = Box<dyn Iterator<Item = Result<Example>> + Send>;

/// How long to train.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Steps {
    /// This many steps more than the checkpoint's global step (`steps=`).
    Count(u64),
    /// Until the global step reaches this value (`max_steps=`).
    Max(u64),
    /// Until the input pipeline is exhausted.
    UntilExhausted,
}

/// Run settings, as `tf.estimator.RunConfig`.
#[derive(Debug, Clone, PartialEq)]
pub struct RunConfig {
    /// Seed of the variables' initializers (`tf_random_seed`).
    pub seed: u64,
    /// Write a checkpoint every this many steps (and always at the end).
    pub save_checkpoints_steps: u64,
    /// Checkpoints kept in `model_dir`, newest first.
    pub keep_checkpoint_max: usize,
    /// Log the loss and the steps per second every this many steps.
    pub log_step_count_steps: u64,
    /// Write the loss for TensorBoard every this many steps
    /// (`save_summary_steps`; 0: no event files). See [`crate::summary`].
    pub save_summary_steps: u64,
}

impl Default for RunConfig {
    fn default() -> RunConfig {
        RunConfig {
            seed: 0,
            save_checkpoints_steps: 1000,
            keep_checkpoint_max: 5,
            log_step_count_steps: 100,
            save_summary_steps: 100,
        }
    }
}

/// What `train` did.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainSummary {
    /// The global step reached.
    pub global_step: i64,
    /// The loss of the last step.
    pub loss: f32,
    /// The checkpoint written at the end.
    pub checkpoint: PathBuf,
}

/// What `evaluate` measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    /// The loss, averaged over batches.
    pub loss: f32,
    /// The global step of the checkpoint evaluated.
    pub global_step: i64,
    /// The spec's extra metrics, each averaged over batches.
    pub metrics: BTreeMap<String, f32>,
}

/// A model, its directory of checkpoints, and its hyperparameters.
///
/// See the crate docs for the whole story: train, evaluate, predict, export.
pub struct Estimator<M, P = ()> {
    model_fn: M,
    model_dir: PathBuf,
    params: P,
    config: RunConfig,
}

impl<M: ModelFn<P>, P> Estimator<M, P> {
    /// An estimator whose checkpoints live in `model_dir` (created on first train).
    ///
    /// # Errors
    /// [`Error::Export`] if `model_dir` exists and is not a directory.
    pub fn new(model_fn: M, model_dir: impl AsRef<Path>, params: P) -> Result<Estimator<M, P>> {
        let model_dir = model_dir.as_ref().to_owned();
        if model_dir.exists() && !model_dir.is_dir() {
            return Err(Error::Export(export::Error::Io {
                action: "using as model directory",
                path: model_dir,
                source: std::io::ErrorKind::NotADirectory.into(),
            }));
        }
        Ok(Estimator { model_fn, model_dir, params, config: RunConfig::default() })
    }

    /// Replaces the run settings.
    pub fn with_config(mut self, config: RunConfig) -> Estimator<M, P> {
        self.config = config;
        self
    }

    /// The model directory.
    pub fn model_dir(&self) -> &Path {
        &self.model_dir
    }

    /// The params given to the `model_fn`.
    pub fn params(&self) -> &P {
        &self.params
    }

    /// The newest checkpoint, if training has written one.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] if the state file is unreadable.
    pub fn latest_checkpoint(&self) -> Result<Option<PathBuf>> {
        checkpoint::latest(&self.model_dir)
    }

    /// Builds the graph for `mode` on the first batch of `dataset`, and
    /// returns the batches (the first one put back in front).
    fn start(&self, mode: Mode, dataset: &Dataset<Example>) -> Result<(Program, Batches)> {
        let mut batches = dataset.iter();
        let first = batches.next().ok_or(Error::EmptyDataset)??;
        let program = Program::build(&self.model_fn, &self.params, mode, &first, dataset.is_padded())?;
        Ok((program, Box::new(std::iter::once(Ok(first)).chain(batches))))
    }

    /// Reads the latest checkpoint (logging it, as TensorFlow does).
    fn restore(&self) -> Result<(PathBuf, BTreeMap<String, Tensor>)> {
        let dir = self.latest_checkpoint()?.ok_or_else(|| Error::NoCheckpoint { model_dir: self.model_dir.clone() })?;
        tracing::info!("Restoring parameters from {}", dir.display());
        let tensors = checkpoint::restore(&dir)?;
        Ok((dir, tensors))
    }

    /// Trains on the batches of `input_fn()`, resuming from the latest
    /// checkpoint if there is one, and writes checkpoints every
    /// `save_checkpoints_steps` and at the end.
    ///
    /// # Errors
    /// [`Error::EmptyDataset`], [`Error::Input`] for an inconsistent batch,
    /// [`Error::Diverged`] naming the step if the loss becomes NaN or
    /// infinite (the last good checkpoint stays the latest), the build and
    /// checkpoint errors.
    pub fn train(&self, input_fn: impl FnOnce() -> Dataset<Example>, steps: Steps) -> Result<TrainSummary> {
        self.train_with(input_fn, steps, &mut |_| Ok(()))
    }

    /// [`Estimator::train`], calling `saved(step)` after each checkpoint
    /// written during training (not the final one): how
    /// [`crate::train_and_evaluate`] evaluates as training goes.
    pub(crate) fn train_with(
        &self,
        input_fn: impl FnOnce() -> Dataset<Example>,
        steps: Steps,
        saved: &mut dyn FnMut(i64) -> Result<()>,
    ) -> Result<TrainSummary> {
        let dataset = input_fn();
        let (mut program, batches) = self.start(Mode::Train, &dataset)?;
        let train_op =
            program.spec.train_op.ok_or(Error::ModelFn { mode: Mode::Train, reason: "no train_op".into() })?;
        let (mut variables, mut optimizer, mut step) = match self.latest_checkpoint()? {
            None => (program.initial_variables(self.config.seed), OptimizerState::default(), 0),
            Some(_) => {
                let (dir, mut restored) = self.restore()?;
                let variables = program.variables_from(&mut restored, &dir)?;
                let step = restored
                    .remove(GLOBAL_STEP)
                    .map(|t| t.as_slice::<i64>().map(|s| s.first().copied().unwrap_or(0)))
                    .transpose()?
                    .unwrap_or(0);
                (variables, OptimizerState { tensors: restored }, step)
            }
        };
        let limit = match steps {
            Steps::Count(n) => step.saturating_add(i64::try_from(n).unwrap_or(i64::MAX)),
            Steps::Max(n) => i64::try_from(n).unwrap_or(i64::MAX),
            Steps::UntilExhausted => i64::MAX,
        };
        let trainable: Vec<(String, usize)> = program
            .builder
            .variables()
            .iter()
            .filter(|d| d.trainable)
            .map(|d| (d.name.clone(), d.output.index()))
            .collect();
        let wrt: Vec<usize> = trainable.iter().map(|(_, i)| *i).collect();
        let loss_node = train_op.loss;
        let summaries = program.builder.summaries().to_vec();
        let mut last_loss = f32::NAN;
        let mut saved_at = None;
        let mut clock = (Instant::now(), step);
        let mut events = match self.config.save_summary_steps {
            0 => None,
            _ => Some(crate::summary::EventWriter::create(&self.model_dir)?),
        };
        if let Some(events) = &mut events {
            events.graph(step, &program.builder.graph())?;
        }
        for batch in batches {
            if step >= limit {
                break;
            }
            // The model_fn's summaries, computed in the same pass when due
            // (before this step's update, as TensorFlow's are).
            let summarize = events.is_some() && every(step + 1, self.config.save_summary_steps);
            let mut targets = vec![loss_node];
            if summarize {
                targets.extend(summaries.iter().map(|s| s.output));
            }
            let (loss, grads, summarized) = program.run(batch?, &mut variables, &targets, |graph, values| {
                let loss = values[loss_node.index()]
                    .as_ref()
                    .and_then(|t| t.as_slice::<f32>().ok()?.first().copied())
                    .unwrap_or(f32::NAN);
                if !loss.is_finite() {
                    return Err(Error::Diverged { step, loss });
                }
                let grads = gradients(graph, values, loss_node.index(), &wrt)?;
                let summarized = match summarize {
                    true => summary_values(&summaries, values)?,
                    false => Vec::new(),
                };
                Ok((loss, grads, summarized))
            })?;
            let grads: BTreeMap<String, Tensor> = trainable.iter().map(|(n, _)| n.clone()).zip(grads).collect();
            train_op.optimizer.apply(&mut optimizer, &mut variables, &grads)?;
            step += 1;
            last_loss = loss;
            if let Some(events) = &mut events
                && every(step, self.config.save_summary_steps)
            {
                let mut values = summarized;
                values.insert(
                    0,
                    crate::summary::SummaryValue { tag: "loss".into(), simple_value: Some(loss), histo: None },
                );
                events.values(step, values)?;
            }
            if every(step, self.config.log_step_count_steps) {
                // TensorFlow's two lines (StepCounterHook's and LoggingTensorHook's).
                let elapsed = clock.0.elapsed().as_secs_f64();
                let rate = (step - clock.1) as f64 / elapsed.max(1e-9);
                tracing::info!("global_step/sec: {rate:.6}");
                tracing::info!("loss = {loss}, step = {step} ({elapsed:.3} sec)");
                if let Some(events) = &mut events {
                    events.scalars(step, &[("global_step/sec", rate as f32)])?;
                }
                clock = (Instant::now(), step);
            }
            if every(step, self.config.save_checkpoints_steps) {
                saved_at = Some(self.save(step, &variables, &optimizer)?);
                if step < limit {
                    saved(step)?;
                }
            }
        }
        let checkpoint = match saved_at {
            Some((s, dir)) if s == step => dir,
            _ => self.save(step, &variables, &optimizer)?.1,
        };
        if let Some(events) = &mut events {
            events.flush()?;
        }
        tracing::info!("Loss for final step: {last_loss}.");
        Ok(TrainSummary { global_step: step, loss: last_loss, checkpoint })
    }

    fn save(
        &self,
        step: i64,
        variables: &BTreeMap<String, Tensor>,
        optimizer: &OptimizerState,
    ) -> Result<(i64, PathBuf)> {
        let mut tensors = variables.clone();
        tensors.extend(optimizer.tensors.iter().map(|(k, v)| (k.clone(), v.clone())));
        tensors.insert(GLOBAL_STEP.into(), Tensor::scalar(step));
        let dir = checkpoint::save(&self.model_dir, step, &tensors, self.config.keep_checkpoint_max)?;
        tracing::info!("Saving checkpoints for {step} into {}", dir.display());
        Ok((step, dir))
    }

    /// Evaluates the latest checkpoint on every batch of `input_fn()`.
    ///
    /// # Errors
    /// [`Error::NoCheckpoint`] before any training, [`Error::EmptyDataset`],
    /// and the build and input errors.
    pub fn evaluate(&self, input_fn: impl FnOnce() -> Dataset<Example>) -> Result<Metrics> {
        let dataset = input_fn();
        let (mut program, batches) = self.start(Mode::Eval, &dataset)?;
        let (dir, mut restored) = self.restore()?;
        let mut variables = program.variables_from(&mut restored, &dir)?;
        let global_step =
            restored.get(GLOBAL_STEP).and_then(|t| t.as_slice::<i64>().ok()?.first().copied()).unwrap_or(0);
        let loss = program.spec.loss.ok_or(Error::ModelFn { mode: Mode::Eval, reason: "no loss".into() })?;
        let metrics: Vec<(String, crate::Output)> =
            program.spec.eval_metrics.iter().map(|(k, v)| (k.clone(), *v)).collect();
        let mut targets = vec![loss];
        targets.extend(metrics.iter().map(|(_, o)| *o));
        let scalars = targets.len();
        let entities = program.spec.entity_metrics.clone();
        targets.extend(entities.iter().flat_map(EntityMetrics::outputs));
        let mut sums = vec![0.0f64; scalars];
        let mut counts = EntityCounts::default();
        let mut batches_seen = 0usize;
        for batch in batches {
            let values = program.run(batch?, &mut variables, &targets, |_, values| {
                if let Some(entities) = &entities {
                    let [p, l, n] = entities.outputs().map(|o| values[o.index()].as_ref());
                    let missing = || Error::Input { reason: "the entity metrics' tensors were not computed".into() };
                    entities
                        .count([p.ok_or_else(missing)?, l.ok_or_else(missing)?, n.ok_or_else(missing)?], &mut counts)?;
                }
                targets[..scalars].iter().map(|t| scalar(values, *t)).collect::<Result<Vec<f32>>>()
            })?;
            sums.iter_mut().zip(values).for_each(|(s, v)| *s += f64::from(v));
            batches_seen += 1;
        }
        let mean = |s: f64| (s / batches_seen.max(1) as f64) as f32;
        let mut result = Metrics {
            loss: mean(sums[0]),
            global_step,
            metrics: metrics.into_iter().zip(&sums[1..]).map(|((k, _), &s)| (k, mean(s))).collect(),
        };
        if entities.is_some() {
            result.metrics.extend([
                ("precision".to_owned(), counts.precision()),
                ("recall".to_owned(), counts.recall()),
                ("f1".to_owned(), counts.f1()),
            ]);
        }
        // As TensorFlow's estimator: the loss and every metric at the
        // checkpoint's step, in `<model_dir>/eval/` for TensorBoard.
        if self.config.save_summary_steps > 0 {
            let mut events = crate::summary::EventWriter::create(self.model_dir.join("eval"))?;
            let mut scalars = vec![("loss", result.loss)];
            scalars.extend(result.metrics.iter().map(|(k, v)| (k.as_str(), *v)));
            events.scalars(global_step, &scalars)?;
            events.flush()?;
        }
        Ok(result)
    }

    /// Predictions for every example of `input_fn()`, yielded lazily, one
    /// map per example (a single-tensor prediction under the key `output`).
    ///
    /// As in TensorFlow, each call rebuilds the graph and restores the
    /// latest checkpoint from disk: this is the slow path that a
    /// `predictor` loaded once exists to beat.
    ///
    /// # Errors
    /// [`Error::NoCheckpoint`], [`Error::EmptyDataset`], the build errors;
    /// each item may carry an input error.
    pub fn predict(&self, input_fn: impl FnOnce() -> Dataset<Example>) -> Result<Predictions> {
        let dataset = input_fn();
        let (program, batches) = self.start(Mode::Predict, &dataset)?;
        let (dir, mut restored) = self.restore()?;
        let variables = program.variables_from(&mut restored, &dir)?;
        let outputs = crate::serving::prediction_outputs(&program.spec)?;
        Ok(Predictions { program, variables, outputs, batches, pending: Vec::new().into_iter() })
    }

    /// Exports the latest checkpoint as a new version under
    /// `export_dir_base`, with the serving graph built by
    /// `serving_input_receiver_fn` feeding the model in PREDICT mode.
    /// Returns the version directory.
    ///
    /// # Errors
    /// [`Error::NoCheckpoint`], a build error naming the node if the
    /// receiver's features do not fit the model, [`Error::Export`] naming
    /// the file if the directory is not writable (no version appears).
    pub fn export_saved_model(
        &self,
        export_dir_base: impl AsRef<Path>,
        serving_input_receiver_fn: impl FnOnce(&mut crate::GraphBuilder) -> Result<crate::ServingInputReceiver>,
    ) -> Result<PathBuf> {
        let (dir, mut restored) = self.restore()?;
        crate::serving::export(
            &self.model_fn,
            &self.params,
            serving_input_receiver_fn,
            &dir,
            &mut restored,
            export_dir_base.as_ref(),
        )
    }

    /// The export of the latest checkpoint, in memory: the artifact
    /// [`Estimator::export_saved_model`] writes, without a disk (what a
    /// predictor built from an estimator loads; the estimator and the
    /// predictor still meet only in the artifact).
    ///
    /// # Errors
    /// As [`Estimator::export_saved_model`], writing aside.
    pub fn export_artifact(
        &self,
        serving_input_receiver_fn: impl FnOnce(&mut crate::GraphBuilder) -> Result<crate::ServingInputReceiver>,
    ) -> Result<export::Artifact> {
        let (dir, mut restored) = self.restore()?;
        crate::serving::export_artifact(&self.model_fn, &self.params, serving_input_receiver_fn, &dir, &mut restored)
    }
}

/// Whether a periodic action is due at `step` (never for a period of 0).
fn every(step: i64, period: u64) -> bool {
    u64::try_from(step).is_ok_and(|s| s > 0 && s.is_multiple_of(period))
}

/// The model_fn's summaries, from the values of a training pass.
fn summary_values(
    summaries: &[crate::builder::SummaryDef],
    values: &[Option<Tensor>],
) -> Result<Vec<crate::summary::SummaryValue>> {
    summaries
        .iter()
        .map(|s| {
            let value = values[s.output.index()]
                .as_ref()
                .ok_or_else(|| Error::Input { reason: format!("summary {:?} was not computed", s.tag) })?;
            let floats = value.as_slice::<f32>()?;
            Ok(crate::summary::SummaryValue {
                tag: s.tag.clone(),
                simple_value: (!s.histogram).then(|| floats.first().copied().unwrap_or(f32::NAN)),
                histo: s.histogram.then(|| crate::summary::HistogramProto::of(floats)),
            })
        })
        .collect()
}

/// The scalar value of `t` among `values`.
fn scalar(values: &[Option<Tensor>], t: crate::Output) -> Result<f32> {
    values[t.index()]
        .as_ref()
        .and_then(|v| v.as_slice::<f32>().ok()?.first().copied())
        .ok_or_else(|| Error::Input { reason: format!("node {} did not produce an f32 scalar", t.index()) })
}

/// The lazy results of [`Estimator::predict`]: one item per example.
pub struct Predictions {
    program: Program,
    variables: BTreeMap<String, Tensor>,
    outputs: Vec<(String, crate::Output)>,
    batches: Batches,
    pending: std::vec::IntoIter<BTreeMap<String, Tensor>>,
}

impl Iterator for Predictions {
    type Item = Result<BTreeMap<String, Tensor>>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(p) = self.pending.next() {
            return Some(Ok(p));
        }
        let batch = match self.batches.next()? {
            Ok(b) => b,
            Err(e) => return Some(Err(e)),
        };
        let targets: Vec<crate::Output> = self.outputs.iter().map(|(_, o)| *o).collect();
        let outputs = &self.outputs;
        let rows = self.program.run(batch, &mut self.variables, &targets, |_, values| {
            let columns = outputs
                .iter()
                .map(|(k, o)| {
                    values[o.index()]
                        .clone()
                        .map(|v| (k.clone(), v))
                        .ok_or_else(|| Error::Input { reason: format!("prediction {k:?} was not computed") })
                })
                .collect::<Result<Vec<_>>>()?;
            let n = columns.first().map_or(0, |(_, v)| v.shape().first().copied().unwrap_or(1));
            (0..n)
                .map(|i| columns.iter().map(|(k, v)| Ok((k.clone(), v.row(i)?))).collect::<Result<BTreeMap<_, _>>>())
                .collect::<Result<Vec<_>>>()
        });
        match rows {
            Ok(rows) => {
                self.pending = rows.into_iter();
                self.next()
            }
            Err(e) => Some(Err(e)),
        }
    }
}
