//! A served model: the versions under its base path, the one loaded, and
//! the swap to a newer one without dropping a request in flight.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use predictor::{Outputs, Predictor, Tensor};

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

/// Runs `predictor` on `inputs` by key: the call both APIs make once they
/// have decoded their request.
///
/// # Errors
/// The predictor's, naming the input concerned.
pub(crate) fn run(predictor: &Predictor, inputs: Vec<(String, Tensor)>) -> Result<Outputs, Error> {
    let (keys, values): (Vec<String>, Vec<Tensor>) = inputs.into_iter().unzip();
    let named: Vec<(&str, Tensor)> = keys.iter().map(String::as_str).zip(values).collect();
    Ok(predictor.predict(&named)?)
}

/// Which version of a model a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted<'a> {
    /// The newest served (no version given).
    Newest,
    /// A version by number.
    Number(i64),
    /// A version as written in a URL that is not a number (never served).
    Text(&'a str),
    /// A version by label (`version_label` of gRPC's `ModelSpec`).
    Label(&'a str),
}

impl Wanted<'_> {
    /// The version as the error messages write it, `None` for the newest.
    pub(crate) fn describe(&self) -> Option<String> {
        match self {
            Wanted::Newest => None,
            Wanted::Number(v) => Some(v.to_string()),
            Wanted::Text(v) | Wanted::Label(v) => Some((*v).to_owned()),
        }
    }
}

/// Where a version is in its life, as TensorFlow Serving's
/// `ModelVersionStatus.State` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionState {
    /// Being read and compiled.
    Loading,
    /// Answering requests.
    Available,
    /// Done: it failed to load (see the status's error).
    End,
}

impl VersionState {
    /// TensorFlow Serving's name: `LOADING`, `AVAILABLE`, `END`.
    pub fn tf_name(self) -> &'static str {
        match self {
            VersionState::Loading => "LOADING",
            VersionState::Available => "AVAILABLE",
            VersionState::End => "END",
        }
    }
}

/// The state of one version of a model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionStatus {
    /// The version number.
    pub version: u64,
    /// Its state.
    pub state: VersionState,
    /// Why it failed to load, for [`VersionState::End`].
    pub error: Option<String>,
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
    /// The version being loaded now, if any.
    loading: Mutex<Option<u64>>,
    /// Versions that failed to load and are still on disk, with the error.
    refused: Mutex<BTreeMap<u64, String>>,
    /// Why the base path could not be listed or holds no version, if so.
    problem: Mutex<Option<String>>,
    /// One poll at a time (the poller and a config reload may both ask).
    polling: Mutex<()>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl ServedModel {
    /// A model with nothing loaded yet; call [`ServedModel::poll`].
    pub fn new(name: impl Into<String>, base: impl Into<PathBuf>) -> ServedModel {
        ServedModel {
            name: name.into(),
            base: base.into(),
            threads: 1,
            current: RwLock::new(None),
            loading: Mutex::new(None),
            refused: Mutex::new(BTreeMap::new()),
            problem: Mutex::new(None),
            polling: Mutex::new(()),
        }
    }

    /// The version serving now. Requests hold this `Arc` for their whole
    /// call, so a swap never pulls a model from under one.
    pub fn current(&self) -> Option<Arc<Loaded>> {
        self.current.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// The version that answers a request for `wanted`.
    ///
    /// # Errors
    /// [`Error::NotReady`] before any version has loaded,
    /// [`Error::UnknownVersion`] for a version not served,
    /// [`Error::UnknownLabel`] for a label.
    pub fn serving(&self, wanted: Wanted<'_>) -> Result<Arc<Loaded>, Error> {
        let loaded = self
            .current()
            .ok_or_else(|| Error::NotReady { name: self.name.clone(), base: self.base.display().to_string() })?;
        match wanted {
            Wanted::Newest => Ok(loaded),
            Wanted::Number(v) if u64::try_from(v).ok() == Some(loaded.version) => Ok(loaded),
            Wanted::Label(label) => Err(Error::UnknownLabel { name: self.name.clone(), label: label.to_owned() }),
            Wanted::Number(_) | Wanted::Text(_) => Err(Error::UnknownVersion {
                name: self.name.clone(),
                version: wanted.describe().unwrap_or_default(),
                loaded: loaded.version.to_string(),
            }),
        }
    }

    /// Every version the server knows of, newest first: the one loading,
    /// the one available, and newer ones that failed to load.
    pub fn statuses(&self) -> Vec<VersionStatus> {
        let mut all = Vec::new();
        let current = self.current().map(|c| c.version);
        if let Some(v) = current {
            all.push(VersionStatus { version: v, state: VersionState::Available, error: None });
        }
        if let Some(v) = *lock(&self.loading) {
            all.push(VersionStatus { version: v, state: VersionState::Loading, error: None });
        }
        for (&version, error) in lock(&self.refused).iter() {
            if current.is_none_or(|c| version > c) {
                all.push(VersionStatus { version, state: VersionState::End, error: Some(error.clone()) });
            }
        }
        all.sort_by_key(|s| std::cmp::Reverse(s.version));
        all
    }

    /// The statuses a status request for `wanted` answers with.
    ///
    /// # Errors
    /// [`Error::UnknownVersion`] when no version, or not the one asked
    /// for, is known; [`Error::UnknownLabel`] for a label.
    pub fn status(&self, wanted: Wanted<'_>) -> Result<Vec<VersionStatus>, Error> {
        let all = self.statuses();
        let chosen: Vec<VersionStatus> = match wanted {
            Wanted::Newest => all.clone(),
            Wanted::Number(v) => all.iter().filter(|s| u64::try_from(v).ok() == Some(s.version)).cloned().collect(),
            Wanted::Text(_) => Vec::new(),
            Wanted::Label(label) => {
                return Err(Error::UnknownLabel { name: self.name.clone(), label: label.to_owned() });
            }
        };
        if chosen.is_empty() && wanted == Wanted::Newest {
            return Err(Error::NotReady { name: self.name.clone(), base: self.base.display().to_string() });
        }
        if chosen.is_empty() {
            let versions: Vec<String> = all.iter().map(|s| s.version.to_string()).collect();
            let loaded = if versions.is_empty() {
                lock(&self.problem).clone().unwrap_or_else(|| "none".into())
            } else {
                versions.join(", ")
            };
            return Err(Error::UnknownVersion {
                name: self.name.clone(),
                version: wanted.describe().unwrap_or_default(),
                loaded,
            });
        }
        Ok(chosen)
    }

    /// Why nothing is served, when nothing is: the listing's problem or the
    /// newest version's load error.
    pub fn why_not_loaded(&self) -> Option<String> {
        if self.current().is_some() {
            return None;
        }
        let refused = lock(&self.refused).iter().next_back().map(|(v, e)| format!("version {v}: {e}"));
        Some(refused.or_else(|| lock(&self.problem).clone()).unwrap_or_else(|| "nothing loaded yet".into()))
    }

    /// Loads the newest version under the base path if it is not the one
    /// serving; a version that fails to load is refused once, with a log
    /// line, and the current one keeps serving. Returns the version
    /// swapped in, if any. Blocking: run it off the async executor.
    pub fn poll(&self) -> Option<u64> {
        let _one_at_a_time = lock(&self.polling);
        let versions = match predictor::list_versions(&self.base) {
            Ok(v) => v,
            Err(e) => {
                let first = lock(&self.problem).replace(e.to_string()).is_none();
                if first {
                    tracing::warn!(model = %self.name, "cannot list versions: {e}");
                }
                return None;
            }
        };
        // A refused version removed from disk is forgotten.
        lock(&self.refused).retain(|v, _| versions.iter().any(|(on_disk, _)| on_disk == v));
        let Some((newest, dir)) = versions.last().cloned() else {
            *lock(&self.problem) = Some(format!("no version under {}", self.base.display()));
            return None;
        };
        *lock(&self.problem) = None;
        if self.current().is_some_and(|c| c.version == newest) || lock(&self.refused).contains_key(&newest) {
            return None;
        }
        *lock(&self.loading) = Some(newest);
        let loaded = Loaded::load(newest, &dir, self.threads);
        let swapped = match loaded {
            Ok(loaded) => {
                let previous = self.current.write().unwrap_or_else(|p| p.into_inner()).replace(Arc::new(loaded));
                tracing::info!(model = %self.name, version = newest, previous = ?previous.map(|p| p.version), "serving new version");
                Some(newest)
            }
            Err(e) => {
                tracing::warn!(model = %self.name, version = newest, "refusing version that does not load: {e}");
                lock(&self.refused).insert(newest, e.to_string());
                None
            }
        };
        *lock(&self.loading) = None;
        swapped
    }
}
