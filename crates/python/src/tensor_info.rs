//! `TensorInfo`: what `feed_tensors` and `fetch_tensors` describe.

use predictor::{DataType, Shape};
use pyo3::prelude::*;

/// A signature's input or output: the graph tensor it binds to, its numpy
/// dtype name and its shape (`None` where a dim varies per call), as
/// `tf.contrib.predictor`'s `feed_tensors` and `fetch_tensors` showed them.
#[pyclass(name = "TensorInfo", module = "estimator_rs", frozen, get_all)]
pub struct PyTensorInfo {
    /// The graph tensor (`serving_default_x:0`).
    pub name: String,
    /// The numpy dtype's name (`float32`, `int64`, `bool`, `object` for strings).
    pub dtype: &'static str,
    /// The dims; `None` varies per call.
    pub shape: Vec<Option<usize>>,
}

#[pymethods]
impl PyTensorInfo {
    fn __repr__(&self) -> String {
        let dims: Vec<String> = self.shape.iter().map(|d| d.map_or("None".to_owned(), |d| d.to_string())).collect();
        let comma = if dims.len() == 1 { "," } else { "" };
        format!("TensorInfo(name={:?}, dtype={:?}, shape=({}{comma}))", self.name, self.dtype, dims.join(", "))
    }
}

impl PyTensorInfo {
    /// The description of a signature's tensor.
    pub fn new(info: &predictor::TensorInfo) -> PyTensorInfo {
        PyTensorInfo { name: info.name.clone(), dtype: numpy_name(info.dtype), shape: dims(&info.shape) }
    }
}

/// The numpy dtype a tensor of `dtype` is given and returned as.
pub fn numpy_name(dtype: DataType) -> &'static str {
    match dtype {
        DataType::F32 => "float32",
        DataType::I32 => "int32",
        DataType::I64 => "int64",
        DataType::Bool => "bool",
        DataType::String => "object",
    }
}

fn dims(shape: &Shape) -> Vec<Option<usize>> {
    shape.0.clone()
}
