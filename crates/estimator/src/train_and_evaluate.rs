//! `tf.estimator.train_and_evaluate`, as it runs on one machine: training
//! evaluates after the first checkpoint it writes, after a later one once
//! `throttle_secs` have passed since the last evaluation, and always once
//! at the end (TensorFlow's `start_delay_secs` delays a separate evaluator
//! process, which one machine does not have: it is not used here either); after each
//! evaluation every exporter is called, and its exports land under
//! `<model_dir>/export/<name>/<ts>` as TensorFlow's do.
//!
//! ```
//! use estimator::prelude::*;
//! use estimator::{EvalSpec, LatestExporter, TrainSpec, train_and_evaluate};
//! use ndarray::array;
//! # fn model_fn(g: &mut GraphBuilder, features: Features<Output>, labels: Option<Output>, mode: Mode, _: &()) -> Result<EstimatorSpec> {
//! #     let x = *features.single_or("feature")?;
//! #     let predictions = layers::dense(g, x, 1)?;
//! #     if mode == Mode::Predict {
//! #         return Ok(EstimatorSpec::predict(predictions));
//! #     }
//! #     let labels = labels.ok_or(Error::ModelFn { mode, reason: "no labels".into() })?;
//! #     let diff = g.sub(predictions, labels)?;
//! #     let loss = losses::l2_loss(g, diff)?;
//! #     Ok(match mode {
//! #         Mode::Eval => EstimatorSpec::eval(loss),
//! #         _ => EstimatorSpec::train(loss, Adam::new(0.5).minimize(loss)),
//! #     })
//! # }
//! # fn receiver(g: &mut GraphBuilder) -> Result<ServingInputReceiver> {
//! #     let number = g.placeholder("number", DataType::F32, Shape(vec![None, Some(1)]))?;
//! #     let features = g.tile(number, &[1, 2])?;
//! #     Ok(ServingInputReceiver::new(features, [("number".to_owned(), number)].into()))
//! # }
//! # let dir = tempfile::tempdir()?;
//! let data = || {
//!     Dataset::from_generator(|| (0..100).map(|n| Example::new(array![n as f32, n as f32], array![2.0 * n as f32])))
//!         .batch(20)
//!         .repeat(200)
//! };
//! let config = RunConfig { save_checkpoints_steps: 250, ..RunConfig::default() };
//! let estimator = Estimator::new(model_fn, dir.path().join("model"), ())?.with_config(config);
//! let train_spec = TrainSpec { input_fn: data, max_steps: 1000 };
//! let eval_spec = EvalSpec::new(|| data().take(5)).throttle_secs(0.0).exporter(LatestExporter::new("latest", receiver, 2));
//! let (metrics, exports) = train_and_evaluate(&estimator, train_spec, eval_spec)?;
//! assert_eq!(metrics.global_step, 1000);
//! assert_eq!(exports.len(), 4, "after the evaluations at 250, 500, 750 and 1000");
//! assert_eq!(export::list_versions(dir.path().join("model/export/latest"))?.len(), 2, "the newest 2 kept");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::{Dataset, Estimator, Example, GraphBuilder, Metrics, ModelFn, Result, ServingInputReceiver, Steps};

/// What trains: the input and the global step to stop at (TensorFlow's
/// `TrainSpec`).
pub struct TrainSpec<I> {
    /// The training batches.
    pub input_fn: I,
    /// Train until this global step.
    pub max_steps: u64,
}

/// What evaluates and exports (TensorFlow's `EvalSpec`).
pub struct EvalSpec<I> {
    /// The evaluation batches, made anew for each evaluation.
    pub input_fn: I,
    /// The fewest seconds between two evaluations (TensorFlow's default 600).
    pub throttle_secs: f64,
    /// Called after each evaluation, in order.
    pub exporters: Vec<Box<dyn Exporter>>,
}

impl<I: Fn() -> Dataset<Example>> EvalSpec<I> {
    /// An evaluation of `input_fn()`, at most every 600 seconds, no exporter.
    pub fn new(input_fn: I) -> EvalSpec<I> {
        EvalSpec { input_fn, throttle_secs: 600.0, exporters: Vec::new() }
    }

    /// Evaluates at most every `secs` seconds (0: after every checkpoint).
    pub fn throttle_secs(mut self, secs: f64) -> EvalSpec<I> {
        self.throttle_secs = secs;
        self
    }

    /// Adds an exporter.
    pub fn exporter(mut self, exporter: impl Exporter + 'static) -> EvalSpec<I> {
        self.exporters.push(Box::new(exporter));
        self
    }
}

/// A serving input receiver an exporter keeps.
pub type ReceiverFn = Box<dyn Fn(&mut GraphBuilder) -> Result<ServingInputReceiver>>;

/// What an exporter can ask of the estimator: an export of its latest
/// checkpoint under a base directory.
pub trait Exporting {
    /// Exports the latest checkpoint through `receiver` as a new version
    /// under `base`.
    ///
    /// # Errors
    /// The export's errors.
    fn export_to(&self, base: &Path, receiver: &ReceiverFn) -> Result<PathBuf>;
    /// `<model_dir>/export`, where exporters put their bases.
    fn export_root(&self) -> PathBuf;
}

impl<F: ModelFn<P>, P> Exporting for Estimator<F, P> {
    fn export_to(&self, base: &Path, receiver: &ReceiverFn) -> Result<PathBuf> {
        self.export_saved_model(base, |g| receiver(g))
    }

    fn export_root(&self) -> PathBuf {
        self.model_dir().join("export")
    }
}

/// Called after each evaluation (TensorFlow's `Exporter`).
pub trait Exporter {
    /// The name: exports go under `<model_dir>/export/<name>/`.
    fn name(&self) -> &str;
    /// Exports, or not, after an evaluation with `metrics`; `is_final` for
    /// the one at the end of training. Returns the version written, if any.
    ///
    /// # Errors
    /// The export's errors, or removing an old export.
    fn export(&mut self, estimator: &dyn Exporting, metrics: &Metrics, is_final: bool) -> Result<Option<PathBuf>>;
}

/// Exports after every evaluation, keeping the newest `exports_to_keep`
/// (TensorFlow's `LatestExporter`; 0 keeps them all).
pub struct LatestExporter {
    name: String,
    receiver: ReceiverFn,
    exports_to_keep: usize,
}

impl LatestExporter {
    /// An exporter named `name` exporting through `receiver`.
    pub fn new(
        name: &str,
        receiver: impl Fn(&mut GraphBuilder) -> Result<ServingInputReceiver> + 'static,
        exports_to_keep: usize,
    ) -> LatestExporter {
        LatestExporter { name: name.to_owned(), receiver: Box::new(receiver), exports_to_keep }
    }
}

impl Exporter for LatestExporter {
    fn name(&self) -> &str {
        &self.name
    }

    fn export(&mut self, estimator: &dyn Exporting, _: &Metrics, _: bool) -> Result<Option<PathBuf>> {
        let base = estimator.export_root().join(&self.name);
        let written = estimator.export_to(&base, &self.receiver)?;
        if self.exports_to_keep > 0 {
            let versions = export::list_versions(&base)?;
            for (_, old) in versions.iter().rev().skip(self.exports_to_keep) {
                std::fs::remove_dir_all(old).map_err(|source| export::Error::Io {
                    action: "removing old export",
                    path: old.clone(),
                    source,
                })?;
            }
        }
        Ok(Some(written))
    }
}

/// `compare_fn(best_so_far, current)`: whether `current` is better.
pub type CompareFn = Box<dyn Fn(&Metrics, &Metrics) -> bool>;

/// Exports when an evaluation is the best so far by `compare` (TensorFlow's
/// `BestExporter`; by default a smaller loss is better), keeping the
/// newest `exports_to_keep`.
pub struct BestExporter {
    latest: LatestExporter,
    compare: CompareFn,
    best: Option<Metrics>,
}

impl BestExporter {
    /// An exporter of the evaluations with the smallest loss so far.
    pub fn new(
        name: &str,
        receiver: impl Fn(&mut GraphBuilder) -> Result<ServingInputReceiver> + 'static,
        exports_to_keep: usize,
    ) -> BestExporter {
        BestExporter {
            latest: LatestExporter::new(name, receiver, exports_to_keep),
            compare: Box::new(|best, current| current.loss < best.loss),
            best: None,
        }
    }

    /// Judges by `compare(best_so_far, current)` (TensorFlow's `compare_fn`):
    /// true when `current` is better.
    pub fn compare_fn(mut self, compare: impl Fn(&Metrics, &Metrics) -> bool + 'static) -> BestExporter {
        self.compare = Box::new(compare);
        self
    }
}

impl Exporter for BestExporter {
    fn name(&self) -> &str {
        self.latest.name()
    }

    fn export(&mut self, estimator: &dyn Exporting, metrics: &Metrics, is_final: bool) -> Result<Option<PathBuf>> {
        if self.best.as_ref().is_some_and(|best| !(self.compare)(best, metrics)) {
            return Ok(None);
        }
        self.best = Some(metrics.clone());
        self.latest.export(estimator, metrics, is_final)
    }
}

/// Exports once, after the final evaluation (TensorFlow's `FinalExporter`).
pub struct FinalExporter {
    latest: LatestExporter,
}

impl FinalExporter {
    /// An exporter named `name` exporting through `receiver` at the end.
    pub fn new(
        name: &str,
        receiver: impl Fn(&mut GraphBuilder) -> Result<ServingInputReceiver> + 'static,
    ) -> FinalExporter {
        FinalExporter { latest: LatestExporter::new(name, receiver, 0) }
    }
}

impl Exporter for FinalExporter {
    fn name(&self) -> &str {
        self.latest.name()
    }

    fn export(&mut self, estimator: &dyn Exporting, metrics: &Metrics, is_final: bool) -> Result<Option<PathBuf>> {
        if !is_final {
            return Ok(None);
        }
        self.latest.export(estimator, metrics, is_final)
    }
}

/// Trains to `train_spec.max_steps`, evaluating (and exporting) as it goes
/// and at the end (see the module's page). Returns the final evaluation and
/// every version the exporters wrote, in order.
///
/// # Errors
/// The errors of training, evaluation and the exports.
pub fn train_and_evaluate<F: ModelFn<P>, P, T, E>(
    estimator: &Estimator<F, P>,
    train_spec: TrainSpec<T>,
    mut eval_spec: EvalSpec<E>,
) -> Result<(Metrics, Vec<PathBuf>)>
where
    T: FnOnce() -> Dataset<Example>,
    E: Fn() -> Dataset<Example>,
{
    let mut exports = Vec::new();
    // As TensorFlow's timer: the first checkpoint evaluates, the later ones
    // once the throttle has passed since the last evaluation.
    let mut last = None::<Instant>;
    let mut evaluate = |is_final: bool, exports: &mut Vec<PathBuf>| -> Result<Metrics> {
        let metrics = estimator.evaluate(&eval_spec.input_fn)?;
        tracing::info!("Saving dict for global step {}: loss = {}", metrics.global_step, metrics.loss);
        for exporter in &mut eval_spec.exporters {
            if let Some(version) = exporter.export(estimator, &metrics, is_final)? {
                exports.push(version);
            }
        }
        Ok(metrics)
    };
    let throttle = eval_spec.throttle_secs;
    let mut during = |_step: i64| -> Result<()> {
        if last.is_some_and(|t: Instant| t.elapsed().as_secs_f64() < throttle) {
            return Ok(());
        }
        evaluate(false, &mut exports)?;
        last = Some(Instant::now());
        Ok(())
    };
    estimator.train_with(train_spec.input_fn, Steps::Max(train_spec.max_steps), &mut during)?;
    let metrics = evaluate(true, &mut exports)?;
    Ok((metrics, exports))
}
