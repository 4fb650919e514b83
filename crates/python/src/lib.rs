//! Python bindings of the predictor (`estimator_rs._native`, re-exported by
//! the `estimator_rs` package): `tf.contrib.predictor` without TensorFlow.
//!
//! ```python
//! from estimator_rs import predictor
//!
//! predict_fn = predictor.from_saved_model(export_dir)
//! predict_fn({"number": [[nb]]})["output"]
//! ```
//!
//! A loaded `Predictor` answers a dict of array-likes with a dict of numpy
//! arrays; the call releases the GIL, and one predictor serves any number
//! of threads. Errors are Python exceptions carrying the predictor's
//! messages: `KeyError` for a key, `TypeError` for a dtype, `ValueError`
//! for a shape, `PredictorError` for a bad export or a failed kernel.

mod convert;
mod errors;
mod load;
mod predictor;
mod tensor_info;

use pyo3::prelude::*;

/// The extension module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("PredictorError", m.py().get_type::<errors::PredictorError>())?;
    m.add_class::<predictor::PyPredictor>()?;
    m.add_class::<predictor::PySession>()?;
    m.add_class::<tensor_info::PyTensorInfo>()?;
    m.add_function(wrap_pyfunction!(load::from_saved_model, m)?)?;
    m.add_function(wrap_pyfunction!(load::from_export_base, m)?)?;
    Ok(())
}
