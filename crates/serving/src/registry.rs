//! The set of served models, by name: what both APIs look a request's
//! model up in, and what a config reload replaces without a restart.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};

use predictor::{Outputs, Tensor};

use crate::batching::{Batcher, BatchingParameters};
use crate::config::ModelConfig;
use crate::error::Error;
use crate::metrics::Metrics;
use crate::model::{Loaded, ServedModel, run};
use crate::version::Wanted;

/// The models served, swapped whole by [`Models::reload`]: a request holds
/// the model it looked up for its whole call.
pub struct Models {
    served: RwLock<Arc<BTreeMap<String, Arc<ServedModel>>>>,
    threads: usize,
    /// `--allow_version_labels_for_unavailable_models`.
    allow_unavailable_labels: bool,
    metrics: Arc<Metrics>,
    /// One reload at a time (the config file's poll and gRPC's reload).
    reloading: Mutex<()>,
    /// Merges concurrent requests into batches (`--enable_batching`).
    batcher: Option<Batcher>,
    /// How many times each warmup request is replayed at a load (`None`:
    /// no warmup).
    warmup: Option<usize>,
}

impl Models {
    /// No model yet: [`Models::reload`] gives the list. A call may use up
    /// to `threads` threads; `allow_unavailable_labels` lets a label point
    /// to a version not loaded (yet), as TensorFlow Serving's
    /// `--allow_version_labels_for_unavailable_models`.
    pub fn new(threads: usize, allow_unavailable_labels: bool) -> Models {
        Models {
            served: RwLock::new(Arc::new(BTreeMap::new())),
            threads: threads.max(1),
            allow_unavailable_labels,
            metrics: Arc::new(Metrics::default()),
            reloading: Mutex::new(()),
            batcher: None,
            warmup: None,
        }
    }

    /// Replays each version's warmup requests
    /// (`assets.extra/tf_serving_warmup_requests`) `iterations` times
    /// before it serves, from the next load on (`--enable_model_warmup`).
    pub fn enable_warmup(&mut self, iterations: usize) {
        self.warmup = Some(iterations.max(1));
    }

    /// Batches concurrent predictions from now on, as `params` say
    /// (`--enable_batching`), starting the batch threads.
    ///
    /// # Errors
    /// When the system refuses a thread.
    pub fn enable_batching(&mut self, params: BatchingParameters) -> std::io::Result<()> {
        self.batcher = Some(Batcher::start(params, Arc::clone(&self.metrics))?);
        Ok(())
    }

    /// Runs `inputs` on `signature` (empty: the default) of `loaded`: in a
    /// batch with concurrent requests when batching is on, on the calling
    /// thread otherwise. The prediction both APIs make once they have
    /// decoded their request.
    ///
    /// # Errors
    /// The predictor's, naming the input concerned; with batching, also
    /// [`Error::QueueFull`] and [`Error::BadRequest`] for more rows than a
    /// batch holds.
    pub async fn predict(
        &self,
        loaded: &Arc<Loaded>,
        signature: &str,
        inputs: Vec<(String, Tensor)>,
    ) -> Result<Outputs, Error> {
        match &self.batcher {
            Some(batcher) => batcher.predict(loaded, signature, inputs).await,
            None => run(loaded.predictor(signature)?, inputs),
        }
    }

    /// What the server records: requests of both APIs, loads, unloads.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The models served now, by name.
    pub fn all(&self) -> Arc<BTreeMap<String, Arc<ServedModel>>> {
        Arc::clone(&self.served.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// The model `name`, for a request that asks for `wanted` of it.
    ///
    /// # Errors
    /// [`Error::UnknownModel`] naming the models served.
    pub fn get(&self, name: &str, wanted: Wanted<'_>) -> Result<Arc<ServedModel>, Error> {
        let all = self.all();
        all.get(name).cloned().ok_or_else(|| Error::UnknownModel {
            name: name.to_owned(),
            version: wanted.describe(),
            served: all.keys().cloned().collect::<Vec<_>>().join(", "),
        })
    }

    /// The model `name` and the version of it that answers `wanted`: the
    /// lookup of every predict and metadata request, REST or gRPC.
    ///
    /// # Errors
    /// As [`Models::get`] and [`ServedModel::serving`].
    pub fn serving(&self, name: &str, wanted: Wanted<'_>) -> Result<(Arc<ServedModel>, Arc<Loaded>), Error> {
        let model = self.get(name, wanted)?;
        let loaded = model.serving(wanted)?;
        Ok((model, loaded))
    }

    /// Looks for a new version of every model. Blocking: loading reads and
    /// compiles, so run it off the async executor.
    pub fn poll(&self) {
        for model in self.all().values() {
            model.poll();
        }
    }

    /// Serves `configs` from now on, as TensorFlow Serving's
    /// `HandleReloadConfigRequest` (and the server's start): a model whose
    /// name and base path are unchanged keeps its loaded versions, re-pinned
    /// to its new version policy (requests in flight go on with the version
    /// they hold); a new or moved model is loaded before the swap; a model
    /// left out is no longer served. Then each model's labels are set, as
    /// [`ServedModel::set_labels`] says. Blocking.
    ///
    /// # Errors
    /// [`Error::LabelUnavailable`] for a label on a version not available
    /// (that model keeps its former labels; the rest of the config is
    /// applied); [`Error::NotLoaded`] for a new model of which no version
    /// loads (the config is applied all the same, and the model is polled
    /// on).
    pub fn reload(&self, configs: &[ModelConfig]) -> Result<(), Error> {
        let _one_at_a_time = self.reloading.lock().unwrap_or_else(|p| p.into_inner());
        let old = self.all();
        let mut added = Vec::new();
        let next: BTreeMap<String, Arc<ServedModel>> = configs
            .iter()
            .map(|c| {
                let model = match old.get(&c.name) {
                    Some(m) if m.base == c.base_path => {
                        m.set_policy(c.version_policy.clone());
                        m.poll();
                        Arc::clone(m)
                    }
                    _ => {
                        let model = Arc::new(self.served(c));
                        model.poll();
                        added.push(Arc::clone(&model));
                        model
                    }
                };
                (c.name.clone(), model)
            })
            .collect();
        let mut refused = None;
        for c in configs {
            if let Some(model) = next.get(&c.name)
                && let Err(e) = model.set_labels(c.version_labels.clone(), self.allow_unavailable_labels)
            {
                refused.get_or_insert(e);
            }
        }
        let removed: Vec<&String> = old.keys().filter(|name| !next.contains_key(*name)).collect();
        for (name, model) in old.iter() {
            if next.get(name).is_none_or(|m| !Arc::ptr_eq(m, model)) {
                self.metrics.unload(name, model.versions().len());
            }
        }
        let names: Vec<&String> = next.keys().collect();
        tracing::info!(models = ?names, removed = ?removed, "model config reloaded");
        *self.served.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(next);
        if let Some(e) = refused {
            return Err(e);
        }
        match added.iter().find_map(|m| m.why_not_loaded().map(|why| (m, why))) {
            Some((model, reason)) => {
                Err(Error::NotLoaded { name: model.name.clone(), base: model.base.display().to_string(), reason })
            }
            None => Ok(()),
        }
    }
}

impl Models {
    /// A new model of `config`, not polled yet.
    fn served(&self, config: &ModelConfig) -> ServedModel {
        let mut model = ServedModel::new(config.name.clone(), config.base_path.clone());
        model.threads = self.threads;
        model.warmup = self.warmup;
        model.metrics = Arc::clone(&self.metrics);
        model.set_policy(config.version_policy.clone());
        model
    }
}
