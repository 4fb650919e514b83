//! A served model: the versions under its base path, those its version
//! policy selects (each loaded), its version labels, and the swaps to new
//! versions without dropping a request in flight.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use predictor::{Outputs, Predictor, Tensor};

use crate::error::Error;
use crate::metrics::Metrics;
use crate::policy::VersionPolicy;
use crate::version::{VersionState, VersionStatus, Wanted};

/// One loaded version: a predictor per signature, sharing one model.
pub struct Loaded {
    /// The version number.
    pub version: u64,
    /// The signature used when a request names none.
    pub default_signature: String,
    /// A predictor per signature key.
    pub predictors: BTreeMap<String, Predictor>,
    /// The signatures whose requests are not batched: an output is not
    /// per row.
    unbatchable: Mutex<BTreeSet<String>>,
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
        Ok(Loaded { version, default_signature, predictors, unbatchable: Mutex::new(BTreeSet::new()) })
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

impl Loaded {
    /// Whether requests to `signature` run one at a time even with batching.
    pub(crate) fn unbatchable(&self, signature: &str) -> bool {
        lock(&self.unbatchable).contains(signature)
    }

    /// Runs requests to `signature` one at a time from now on; true the
    /// first time.
    pub(crate) fn mark_unbatchable(&self, signature: &str) -> bool {
        lock(&self.unbatchable).insert(signature.to_owned())
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

/// A model served by name from a base path: the versions its policy
/// selects, each loaded, the newest answering requests that name none.
pub struct ServedModel {
    /// The name clients use in URLs.
    pub name: String,
    /// The export base holding the versions.
    pub base: PathBuf,
    /// The most threads one call may use (1: the request's own).
    pub threads: usize,
    /// Replay each version's warmup requests this many times before it
    /// serves (`None`: no warmup).
    pub warmup: Option<usize>,
    /// Where loads and unloads are recorded.
    pub(crate) metrics: Arc<Metrics>,
    /// Which versions to serve.
    policy: RwLock<VersionPolicy>,
    /// Label to version.
    labels: RwLock<Arc<BTreeMap<String, u64>>>,
    /// The versions serving now, by number.
    served: RwLock<Arc<BTreeMap<u64, Arc<Loaded>>>>,
    /// The versions the policy selected at the last poll.
    selected: Mutex<Vec<u64>>,
    /// The versions a `specific` policy names that were not on disk at the
    /// last poll (warned about once).
    missing: Mutex<Vec<u64>>,
    /// The versions being loaded now.
    loading: Mutex<BTreeSet<u64>>,
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

fn read<T: Clone>(m: &RwLock<T>) -> T {
    m.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
}

fn write<T>(m: &RwLock<T>, value: T) -> T {
    std::mem::replace(&mut *m.write().unwrap_or_else(|poisoned| poisoned.into_inner()), value)
}

fn list(versions: impl IntoIterator<Item = u64>) -> String {
    let all: Vec<String> = versions.into_iter().map(|v| v.to_string()).collect();
    if all.is_empty() { "none".into() } else { all.join(", ") }
}

impl ServedModel {
    /// A model with nothing loaded yet, its newest version to serve and no
    /// labels; call [`ServedModel::poll`].
    pub fn new(name: impl Into<String>, base: impl Into<PathBuf>) -> ServedModel {
        ServedModel {
            name: name.into(),
            base: base.into(),
            threads: 1,
            warmup: None,
            metrics: Arc::new(Metrics::default()),
            policy: RwLock::new(VersionPolicy::default()),
            labels: RwLock::new(Arc::new(BTreeMap::new())),
            served: RwLock::new(Arc::new(BTreeMap::new())),
            selected: Mutex::new(Vec::new()),
            missing: Mutex::new(Vec::new()),
            loading: Mutex::new(BTreeSet::new()),
            refused: Mutex::new(BTreeMap::new()),
            problem: Mutex::new(None),
            polling: Mutex::new(()),
        }
    }

    /// The versions serving now, by number. Requests hold their version's
    /// `Arc` for their whole call, so a swap never pulls a model from
    /// under one.
    pub fn versions(&self) -> Arc<BTreeMap<u64, Arc<Loaded>>> {
        read(&self.served)
    }

    /// The newest version serving now: the one a request naming no version gets.
    pub fn current(&self) -> Option<Arc<Loaded>> {
        self.versions().values().next_back().cloned()
    }

    /// The version policy applied at the next [`ServedModel::poll`].
    pub fn policy(&self) -> VersionPolicy {
        read(&self.policy)
    }

    /// Serves the versions `policy` selects from the next poll on.
    pub fn set_policy(&self, policy: VersionPolicy) {
        write(&self.policy, policy);
    }

    /// The version labels: label to version.
    pub fn labels(&self) -> Arc<BTreeMap<String, u64>> {
        read(&self.labels)
    }

    /// Replaces the version labels. As TensorFlow Serving's
    /// `ServerCore::UpdateModelVersionLabelMap`, each label must point to a
    /// version available now, unless `allow_unavailable`
    /// (`--allow_version_labels_for_unavailable_models`) and the label is
    /// new or keeps its version; otherwise no label changes.
    ///
    /// # Errors
    /// [`Error::LabelUnavailable`] naming the first label refused.
    pub fn set_labels(&self, labels: BTreeMap<String, u64>, allow_unavailable: bool) -> Result<(), Error> {
        let served = self.versions();
        let old = self.labels();
        for (label, &version) in &labels {
            let moved = old.get(label).is_some_and(|&v| v != version);
            let allowed = allow_unavailable && !moved;
            if !served.contains_key(&version) && !allowed {
                return Err(Error::LabelUnavailable {
                    name: self.name.clone(),
                    label: label.clone(),
                    version,
                    served: list(served.keys().copied()),
                });
            }
        }
        if *old != labels {
            tracing::info!(model = %self.name, labels = ?labels, "version labels set");
        }
        write(&self.labels, Arc::new(labels));
        Ok(())
    }

    /// The version number `wanted` names, `None` for the newest.
    ///
    /// # Errors
    /// [`Error::UnknownLabel`] for a label the model does not have,
    /// [`Error::UnknownVersion`] for a version that is not a number.
    fn number(&self, wanted: Wanted<'_>) -> Result<Option<u64>, Error> {
        match wanted {
            Wanted::Newest => Ok(None),
            Wanted::Number(v) => u64::try_from(v).map(Some).map_err(|_| self.unknown(wanted)),
            Wanted::Text(_) => Err(self.unknown(wanted)),
            Wanted::Label(label) => {
                let labels = self.labels();
                labels.get(label).copied().map(Some).ok_or_else(|| Error::UnknownLabel {
                    name: self.name.clone(),
                    label: label.to_owned(),
                    labels: labels.keys().cloned().collect::<Vec<_>>().join(", "),
                })
            }
        }
    }

    fn unknown(&self, wanted: Wanted<'_>) -> Error {
        let versions = self.versions();
        let loaded = if versions.is_empty() {
            lock(&self.problem).clone().unwrap_or_else(|| "none".into())
        } else {
            list(versions.keys().copied())
        };
        let version = match wanted {
            Wanted::Label(label) => match self.labels().get(label) {
                Some(v) => format!("{v} (label {label})"),
                None => label.to_owned(),
            },
            _ => wanted.describe().unwrap_or_default(),
        };
        Error::UnknownVersion { name: self.name.clone(), version, loaded }
    }

    /// The version that answers a request for `wanted`.
    ///
    /// # Errors
    /// [`Error::NotReady`] before any version has loaded,
    /// [`Error::UnknownVersion`] for a version not served,
    /// [`Error::UnknownLabel`] for a label the model does not have.
    pub fn serving(&self, wanted: Wanted<'_>) -> Result<Arc<Loaded>, Error> {
        let versions = self.versions();
        let newest = versions
            .values()
            .next_back()
            .ok_or_else(|| Error::NotReady { name: self.name.clone(), base: self.base.display().to_string() })?;
        match self.number(wanted)? {
            None => Ok(Arc::clone(newest)),
            Some(v) => versions.get(&v).cloned().ok_or_else(|| self.unknown(wanted)),
        }
    }

    /// Every version the server knows of, newest first: those available,
    /// those loading, and those the policy selects that failed to load.
    pub fn statuses(&self) -> Vec<VersionStatus> {
        let served = self.versions();
        let mut all: Vec<VersionStatus> = served
            .keys()
            .map(|&version| VersionStatus { version, state: VersionState::Available, error: None })
            .collect();
        for &version in lock(&self.loading).iter() {
            all.push(VersionStatus { version, state: VersionState::Loading, error: None });
        }
        let selected = lock(&self.selected).clone();
        for (&version, error) in lock(&self.refused).iter() {
            if selected.contains(&version) && !served.contains_key(&version) {
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
    /// for, is known; [`Error::UnknownLabel`] for a label the model does
    /// not have.
    pub fn status(&self, wanted: Wanted<'_>) -> Result<Vec<VersionStatus>, Error> {
        let all = self.statuses();
        let chosen: Vec<VersionStatus> = match self.number(wanted)? {
            None if all.is_empty() => {
                return Err(Error::NotReady { name: self.name.clone(), base: self.base.display().to_string() });
            }
            None => all,
            Some(v) => all.into_iter().filter(|s| s.version == v).collect(),
        };
        if chosen.is_empty() {
            return Err(self.unknown(wanted));
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

    /// Serves the versions on disk that the policy selects: loads those
    /// not loaded yet, then swaps the set whole, unloading the versions no
    /// longer selected (a request in flight keeps its own). A version that
    /// fails to load is refused once, with a log line and its error in the
    /// status, and an older version keeps serving in its stead. Returns
    /// whether the set served changed. Blocking: run it off the async
    /// executor.
    pub fn poll(&self) -> bool {
        let _one_at_a_time = lock(&self.polling);
        let on_disk = match predictor::list_versions(&self.base) {
            Ok(v) => v,
            Err(e) => {
                let first = lock(&self.problem).replace(e.to_string()).is_none();
                if first {
                    tracing::warn!(model = %self.name, "cannot list versions: {e}");
                }
                return false;
            }
        };
        // A refused version removed from disk is forgotten.
        lock(&self.refused).retain(|v, _| on_disk.iter().any(|(d, _)| d == v));
        if on_disk.is_empty() {
            *lock(&self.problem) = Some(format!("no version under {}", self.base.display()));
            return false;
        }
        *lock(&self.problem) = None;
        let numbers: Vec<u64> = on_disk.iter().map(|(v, _)| *v).collect();
        let selected = self.policy().select(&numbers);
        if selected.is_empty() {
            tracing::warn!(model = %self.name, policy = ?self.policy(), on_disk = %list(numbers.iter().copied()), "the version policy selects no version on disk");
        }
        *lock(&self.selected) = selected.clone();
        let missing = self.policy().missing(&numbers);
        let mut warned = lock(&self.missing);
        if *warned != missing {
            // TensorFlow Serving's warning, once per change.
            for version in missing.iter().filter(|v| !warned.contains(v)) {
                tracing::warn!(
                    model = %self.name,
                    version,
                    "version {version} of model {:?}, which was requested to be served as a 'specific' version in the model's version policy, was not found in {}",
                    self.name,
                    self.base.display()
                );
            }
            *warned = missing;
        }
        drop(warned);
        let old = self.versions();
        let mut next: BTreeMap<u64, Arc<Loaded>> = BTreeMap::new();
        let mut failed = 0;
        for &version in &selected {
            if let Some(loaded) = old.get(&version) {
                next.insert(version, Arc::clone(loaded));
                continue;
            }
            if lock(&self.refused).contains_key(&version) {
                failed += 1;
                continue;
            }
            let Some((_, dir)) = on_disk.iter().find(|(v, _)| *v == version) else { continue };
            lock(&self.loading).insert(version);
            let started = std::time::Instant::now();
            let loaded = Loaded::load(version, dir, self.threads).map_err(|e| e.to_string()).and_then(|loaded| {
                if let Some(iterations) = self.warmup {
                    let replayed = crate::warmup::warm_up(&loaded, dir, iterations, &self.metrics)?;
                    if replayed > 0 {
                        tracing::info!(model = %self.name, version, records = replayed, "warmed up");
                    }
                }
                Ok(loaded)
            });
            self.metrics.load(&dir.display().to_string(), loaded.is_ok(), started.elapsed());
            match loaded {
                Ok(loaded) => {
                    tracing::info!(model = %self.name, version, "version loaded");
                    next.insert(version, Arc::new(loaded));
                }
                Err(e) => {
                    tracing::warn!(model = %self.name, version, "refusing version that does not load: {e}");
                    lock(&self.refused).insert(version, e);
                    failed += 1;
                }
            }
            lock(&self.loading).remove(&version);
        }
        // Availability first: as many older versions as failed stay on.
        let stand_ins: Vec<u64> = old.keys().rev().filter(|v| !next.contains_key(v)).take(failed).copied().collect();
        for version in stand_ins {
            if let Some(loaded) = old.get(&version) {
                next.insert(version, Arc::clone(loaded));
            }
        }
        if next.keys().eq(old.keys()) {
            return false;
        }
        let unloaded: Vec<u64> = old.keys().filter(|v| !next.contains_key(v)).copied().collect();
        tracing::info!(model = %self.name, serving = %list(next.keys().copied()), unloaded = ?unloaded, "serving new versions");
        self.metrics.unload(&self.name, unloaded.len());
        write(&self.served, Arc::new(next));
        true
    }
}
