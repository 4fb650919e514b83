//! `Predictor`: a loaded signature answering dicts of arrays, and its
//! `Session` for hot loops.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use predictor::{Outputs, Predictor, Tensor};
use pyo3::exceptions::{PyKeyError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::convert::{to_numpy, to_tensor};
use crate::errors::to_py;
use crate::tensor_info::PyTensorInfo;

/// A SavedModel's signature, loaded once: call it with a dict of inputs
/// (numpy arrays, nested lists, scalars; str or bytes for strings) to get a
/// dict of numpy arrays, as `tf.contrib.predictor`'s predictors. The call
/// releases the GIL; one predictor may be shared by any number of threads.
///
/// >>> from estimator_rs import predictor
/// >>> predict_fn = predictor.from_saved_model(export_dir)
/// >>> predict_fn({"number": [[101.0]]})["output"]
/// array([[202.]], dtype=float32)
#[pyclass(name = "Predictor", module = "estimator_rs", frozen)]
pub struct PyPredictor {
    pub(crate) inner: Arc<Predictor>,
}

#[pymethods]
impl PyPredictor {
    /// Runs the signature on `feed` (input key -> array-like); returns
    /// output key -> numpy array. Raises KeyError for a missing or unknown
    /// key, TypeError for values of a dtype that cannot become the input's,
    /// ValueError for a wrong shape, PredictorError for a failed kernel.
    fn __call__(&self, py: Python<'_>, feed: &Bound<'_, PyDict>) -> PyResult<Py<PyDict>> {
        let inputs = bind(py, &self.inner, feed)?;
        let predictor = &self.inner;
        let outputs = py.detach(|| predictor.predict(&inputs)).map_err(to_py)?;
        let answer = PyDict::new(py);
        for (key, tensor) in outputs.into_vec() {
            let array = to_numpy(py, &key, tensor)?;
            answer.set_item(key, array)?;
        }
        Ok(answer.unbind())
    }

    /// The inputs, by key: the graph tensor each feeds, its dtype, its shape.
    #[getter]
    fn feed_tensors(&self) -> BTreeMap<String, PyTensorInfo> {
        self.inner.signature().inputs.iter().map(|(k, info)| (k.clone(), PyTensorInfo::new(info))).collect()
    }

    /// The outputs, by key.
    #[getter]
    fn fetch_tensors(&self) -> BTreeMap<String, PyTensorInfo> {
        self.inner.signature().outputs.iter().map(|(k, info)| (k.clone(), PyTensorInfo::new(info))).collect()
    }

    /// The signature served (`serving_default` unless asked otherwise).
    #[getter]
    fn signature_def_key(&self) -> &str {
        self.inner.signature_name()
    }

    /// Every signature of the export, by key: its method name, inputs and outputs.
    #[getter]
    fn signatures<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let all = PyDict::new(py);
        for (key, signature) in self.inner.signatures() {
            let one = PyDict::new(py);
            one.set_item("method_name", &signature.method_name)?;
            let infos = |map: &BTreeMap<String, predictor::TensorInfo>| -> BTreeMap<String, PyTensorInfo> {
                map.iter().map(|(k, info)| (k.clone(), PyTensorInfo::new(info))).collect()
            };
            one.set_item("inputs", infos(&signature.inputs))?;
            one.set_item("outputs", infos(&signature.outputs))?;
            all.set_item(key, one)?;
        }
        Ok(all)
    }

    /// The version number of the export loaded (`None` if its directory is
    /// not numeric).
    #[getter]
    fn version(&self) -> Option<u64> {
        self.inner.version()
    }

    /// A session for a hot loop on one thread: its calls reuse the output
    /// buffers of the last (the arrays returned are copies), and can ask
    /// for some outputs only (`fetches`).
    fn session(&self) -> PySession {
        PySession { predictor: Arc::clone(&self.inner), outputs: Mutex::new(self.inner.new_outputs()) }
    }

    fn __repr__(&self) -> String {
        let keys: Vec<&str> = self.inner.inputs().iter().map(|s| s.key.as_str()).collect();
        format!(
            "Predictor(signature_def_key={:?}, version={:?}, feed_keys={keys:?})",
            self.inner.signature_name(),
            self.inner.version()
        )
    }
}

/// A predictor with output buffers of its own, reused by each call.
#[pyclass(name = "Session", module = "estimator_rs", frozen)]
pub struct PySession {
    predictor: Arc<Predictor>,
    outputs: Mutex<Outputs>,
}

#[pymethods]
impl PySession {
    /// Runs the signature on `feed`; returns the outputs named by `fetches`
    /// (all when `None`) as numpy arrays.
    #[pyo3(signature = (feed, fetches=None))]
    fn run(&self, py: Python<'_>, feed: &Bound<'_, PyDict>, fetches: Option<Vec<String>>) -> PyResult<Py<PyDict>> {
        let inputs = bind(py, &self.predictor, feed)?;
        let outputs = &self.predictor.signature().outputs;
        let wanted: Vec<String> = match fetches {
            Some(keys) => keys,
            None => outputs.keys().cloned().collect(),
        };
        if let Some(key) = wanted.iter().find(|k| !outputs.contains_key(*k)) {
            let keys: Vec<&String> = outputs.keys().collect();
            return Err(PyKeyError::new_err(format!("no output {key:?}; the signature has {keys:?}")));
        }
        let (predictor, buffers) = (&self.predictor, &self.outputs);
        let fetched = py
            .detach(|| {
                let mut buffers = buffers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                predictor.predict_into(&inputs, &mut buffers)?;
                Ok(wanted.iter().filter_map(|k| Some((k.clone(), buffers.get(k)?.clone()))).collect::<Vec<_>>())
            })
            .map_err(to_py)?;
        let answer = PyDict::new(py);
        for (key, tensor) in fetched {
            let array = to_numpy(py, &key, tensor)?;
            answer.set_item(key, array)?;
        }
        Ok(answer.unbind())
    }

    fn __call__(&self, py: Python<'_>, feed: &Bound<'_, PyDict>) -> PyResult<Py<PyDict>> {
        self.run(py, feed, None)
    }
}

/// The feed as the predictor's inputs, each converted to its input's dtype.
fn bind<'p>(py: Python<'_>, predictor: &'p Predictor, feed: &Bound<'_, PyDict>) -> PyResult<Vec<(&'p str, Tensor)>> {
    let specs = predictor.inputs();
    let mut inputs = Vec::with_capacity(feed.len());
    for (key, value) in feed.iter() {
        let key = key.cast::<PyString>().map_err(|_| {
            PyTypeError::new_err(format!(
                "feed keys are the inputs' names (str), got {}",
                key.get_type().name().map(|n| n.to_string()).unwrap_or_default()
            ))
        })?;
        let key = key.to_str()?;
        let Some(spec) = specs.iter().find(|s| s.key == key) else {
            let expected = specs.iter().map(|s| s.key.clone()).collect();
            return Err(to_py(predictor::Error::UnknownInput { key: key.to_owned(), expected }));
        };
        inputs.push((spec.key.as_str(), to_tensor(py, key, &value, spec.dtype)?));
    }
    Ok(inputs)
}
