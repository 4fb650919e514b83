//! `from_saved_model` and `from_export_base`, with `tf.contrib.predictor`'s
//! argument names.

use std::path::PathBuf;
use std::sync::Arc;

use predictor::{LoadOptions, Predictor};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::errors::to_py;
use crate::predictor::PyPredictor;

/// Loads the SavedModel in `export_dir` (ours, or one TensorFlow wrote) and
/// compiles one signature: `signature_def_key` (default
/// `serving_default`, or the export's first), from the meta graph of
/// `tags` (a tag or a list, default `"serve"`). `config` is a dict of load
/// options: `threads` (the most threads one call may use, default 1),
/// `fused_cells` (recurrent cells as fused steps, default True),
/// `verify_checksums` (default True).
///
/// Raises PredictorError naming the file or node for a missing, truncated
/// or corrupted export, or an op this build cannot run.
#[pyfunction]
#[pyo3(signature = (export_dir, signature_def_key=None, tags=None, config=None))]
pub fn from_saved_model(
    py: Python<'_>,
    export_dir: PathBuf,
    signature_def_key: Option<String>,
    tags: Option<&Bound<'_, PyAny>>,
    config: Option<&Bound<'_, PyDict>>,
) -> PyResult<PyPredictor> {
    let options = options(signature_def_key, tags, config)?;
    let inner = py.detach(|| Predictor::load(&export_dir, &options)).map_err(to_py)?;
    Ok(PyPredictor { inner: Arc::new(inner) })
}

/// [`from_saved_model`] on the newest numeric version under the export
/// base `export_base` (exports in progress, `temp-*`, are skipped).
#[pyfunction]
#[pyo3(signature = (export_base, signature_def_key=None, tags=None, config=None))]
pub fn from_export_base(
    py: Python<'_>,
    export_base: PathBuf,
    signature_def_key: Option<String>,
    tags: Option<&Bound<'_, PyAny>>,
    config: Option<&Bound<'_, PyDict>>,
) -> PyResult<PyPredictor> {
    let dir = predictor::latest_version(&export_base).map_err(to_py)?;
    from_saved_model(py, dir, signature_def_key, tags, config)
}

/// The load options the arguments ask for.
fn options(
    signature_def_key: Option<String>,
    tags: Option<&Bound<'_, PyAny>>,
    config: Option<&Bound<'_, PyDict>>,
) -> PyResult<LoadOptions> {
    let mut options = LoadOptions::default();
    if let Some(key) = signature_def_key {
        options.signature = key;
    }
    if let Some(tags) = tags {
        options.tags = match tags.cast::<PyString>() {
            Ok(one) => one.to_str()?.split(',').map(|t| t.trim().to_owned()).collect(),
            Err(_) => tags.extract::<Vec<String>>().map_err(|_| {
                PyTypeError::new_err("tags: a tag (str, or tags separated by commas) or a list of tags")
            })?,
        };
    }
    if let Some(config) = config {
        for (key, value) in config.iter() {
            let key: String = key.extract()?;
            match key.as_str() {
                "threads" => options.threads = value.extract::<usize>()?.max(1),
                "fused_cells" => options.fused_cells = value.extract()?,
                "verify_checksums" => options.verify_checksums = value.extract()?,
                other => {
                    return Err(PyValueError::new_err(format!(
                        "config: unknown option {other:?}; the options are \"threads\", \"fused_cells\" and \
                         \"verify_checksums\""
                    )));
                }
            }
        }
    }
    Ok(options)
}
