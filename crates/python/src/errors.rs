//! The predictor's errors as Python exceptions: `KeyError` for an input
//! key, `TypeError` for a dtype, `ValueError` for a shape or a value, and
//! [`PredictorError`] (a subclass of `Exception`) for what a bad artifact
//! or a failed call raises. Each carries the predictor's message.

use predictor::Error;
use pyo3::PyErr;
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyKeyError, PyTypeError, PyValueError};

create_exception!(
    estimator_rs,
    PredictorError,
    PyException,
    "A model that cannot be loaded (missing, truncated or corrupted files, an unsupported op) or a call that fails \
     in a kernel; the message names the file, node or key."
);

/// The exception for a predictor error.
pub fn to_py(e: Error) -> PyErr {
    let message = e.to_string();
    match e {
        Error::MissingInput { .. } | Error::UnknownInput { .. } | Error::DuplicateInput { .. } => {
            PyKeyError::new_err(message)
        }
        Error::InputDType { .. } => PyTypeError::new_err(message),
        Error::InputShape { .. } | Error::InputValue { .. } => PyValueError::new_err(message),
        _ => PredictorError::new_err(message),
    }
}
