//! A served model: the versions under its base path, the one loaded, and
//! the swap to a newer one without dropping a request in flight.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use predictor::Predictor;

use crate::error::Error;

/// One loaded version: a predictor per signature, sharing one model.
pub struct Loaded {
    /// The version number.
    pub version: u64,
    /// The signature used when a request names none.
    pub default_signature: String,
    /// A predictor per signature key.
    pub predictors: BTreeMap<String, Predictor>,
}

impl Loaded {
    /// Loads version directory `dir`, compiling every signature; a call may
    /// use up to `threads` threads ([`predictor::LoadOptions::threads`]).
    ///
    /// # Errors
    /// Whatever the predictor reports for the directory or a signature.
    pub fn load(version: u64, dir: &Path, threads: usize) -> Result<Loaded, predictor::Error> {
        // Read and checked once; each signature compiles its own plan.
        let options = predictor::LoadOptions { threads, ..Default::default() };
        let model = Arc::new(predictor::Model::load(dir, &options)?);
        let default_signature = model.default_signature().unwrap_or_default().to_owned();
        let predictors = model
            .signatures()
            .keys()
            .map(|key| Ok((key.clone(), Predictor::from_model(Arc::clone(&model), key)?)))
            .collect::<Result<_, predictor::Error>>()?;
        Ok(Loaded { version, default_signature, predictors })
    }

    /// The predictor for `signature` (the default one when empty).
    ///
    /// # Errors
    /// [`Error::BadRequest`] naming the signatures served.
    pub fn predictor(&self, signature: &str) -> Result<&Predictor, Error> {
        let key = if signature.is_empty() { self.default_signature.as_str() } else { signature };
        self.predictors.get(key).ok_or_else(|| {
            Error::BadRequest(format!(
                "Serving signature name: {key:?} not found in signature def; the model has {:?}",
                self.predictors.keys().collect::<Vec<_>>()
            ))
        })
    }
}

/// A model served by name from a base path, newest version first.
pub struct ServedModel {
    /// The name clients use in URLs.
    pub name: String,
    /// The export base holding the versions.
    pub base: PathBuf,
    /// The most threads one call may use (1: the request's own).
    pub threads: usize,
    current: RwLock<Option<Arc<Loaded>>>,
    refused: Mutex<HashSet<u64>>,
}

impl ServedModel {
    /// A model with nothing loaded yet; call [`ServedModel::poll`].
    pub fn new(name: impl Into<String>, base: impl Into<PathBuf>) -> ServedModel {
        ServedModel {
            name: name.into(),
            base: base.into(),
            threads: 1,
            current: RwLock::new(None),
            refused: Mutex::new(HashSet::new()),
        }
    }

    /// The version serving now. Requests hold this `Arc` for their whole
    /// call, so a swap never pulls a model from under one.
    pub fn current(&self) -> Option<Arc<Loaded>> {
        self.current.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// Loads the newest version under the base path if it is not the one
    /// serving; a version that fails to load is refused once, with a log
    /// line, and the current one keeps serving. Returns the version
    /// swapped in, if any. Blocking: run it off the async executor.
    pub fn poll(&self) -> Option<u64> {
        let versions = match predictor::list_versions(&self.base) {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(model = %self.name, "cannot list versions: {e}");
                return None;
            }
        };
        let (newest, dir) = versions.last()?.clone();
        if self.current().is_some_and(|c| c.version == newest) {
            return None;
        }
        let mut refused = self.refused.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if refused.contains(&newest) {
            return None;
        }
        match Loaded::load(newest, &dir, self.threads) {
            Ok(loaded) => {
                let previous = self.current.write().unwrap_or_else(|p| p.into_inner()).replace(Arc::new(loaded));
                tracing::info!(model = %self.name, version = newest, previous = ?previous.map(|p| p.version), "serving new version");
                Some(newest)
            }
            Err(e) => {
                tracing::warn!(model = %self.name, version = newest, "refusing version that does not load: {e}");
                refused.insert(newest);
                None
            }
        }
    }
}
