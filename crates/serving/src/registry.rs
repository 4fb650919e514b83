//! The set of served models, by name: what both APIs look a request's
//! model up in, and what a config reload replaces without a restart.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};

use crate::config::ModelConfig;
use crate::error::Error;
use crate::model::{Loaded, ServedModel, Wanted};

/// The models served, swapped whole by [`Models::reload`]: a request holds
/// the model it looked up for its whole call.
pub struct Models {
    served: RwLock<Arc<BTreeMap<String, Arc<ServedModel>>>>,
    threads: usize,
    /// One reload at a time (the config file's poll and gRPC's reload).
    reloading: Mutex<()>,
}

impl Models {
    /// The models of `configs`, nothing loaded yet: call [`Models::poll`].
    /// A call may use up to `threads` threads.
    pub fn new(configs: &[ModelConfig], threads: usize) -> Models {
        let threads = threads.max(1);
        let served = configs.iter().map(|c| (c.name.clone(), Arc::new(served(c, threads)))).collect();
        Models { served: RwLock::new(Arc::new(served)), threads, reloading: Mutex::new(()) }
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
    /// `HandleReloadConfigRequest`: a model whose name and base path are
    /// unchanged keeps its loaded version (requests in flight go on); a new
    /// or moved model is loaded before the swap; a model left out is no
    /// longer served. Blocking.
    ///
    /// # Errors
    /// [`Error::NotLoaded`] for a new model of which no version loads (the
    /// config is applied all the same, and the model is polled on).
    pub fn reload(&self, configs: &[ModelConfig]) -> Result<(), Error> {
        let _one_at_a_time = self.reloading.lock().unwrap_or_else(|p| p.into_inner());
        let old = self.all();
        let mut added = Vec::new();
        let next: BTreeMap<String, Arc<ServedModel>> = configs
            .iter()
            .map(|c| {
                let model = match old.get(&c.name) {
                    Some(m) if m.base == c.base_path => Arc::clone(m),
                    _ => {
                        let model = Arc::new(served(c, self.threads));
                        model.poll();
                        added.push(Arc::clone(&model));
                        model
                    }
                };
                (c.name.clone(), model)
            })
            .collect();
        let removed: Vec<&String> = old.keys().filter(|name| !next.contains_key(*name)).collect();
        let names: Vec<&String> = next.keys().collect();
        tracing::info!(models = ?names, removed = ?removed, "model config reloaded");
        *self.served.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(next);
        match added.iter().find_map(|m| m.why_not_loaded().map(|why| (m, why))) {
            Some((model, reason)) => {
                Err(Error::NotLoaded { name: model.name.clone(), base: model.base.display().to_string(), reason })
            }
            None => Ok(()),
        }
    }
}

fn served(config: &ModelConfig, threads: usize) -> ServedModel {
    let mut model = ServedModel::new(config.name.clone(), config.base_path.clone());
    model.threads = threads;
    model
}
