//! Python values to tensors and tensors to numpy arrays, with TensorFlow's
//! feeding rules: a numpy array of the input's dtype is taken as it is;
//! anything else goes through `numpy.asarray` and is cast to the input's
//! dtype when numpy calls that cast `same_kind` (float64 to float32, int64
//! to int32, ints to floats), and refused with a `TypeError` otherwise
//! (floats to ints, strings to numbers). String inputs take `str` or UTF-8
//! `bytes`, nested or in arrays; string outputs come back as numpy object
//! arrays of `bytes`, as TensorFlow returns them. A C-contiguous numpy
//! array of a numeric input's dtype is read in place, not copied.

use numpy::{IntoPyArray, PyArrayDyn, PyArrayMethods, PyUntypedArrayMethods};
use std::sync::Arc;

use predictor::{Bytes, DataType, SharedBytes, Tensor};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString};

/// `value`, fed to input `key`, as a tensor of `dtype`.
pub fn to_tensor(py: Python<'_>, key: &str, value: &Bound<'_, PyAny>, dtype: DataType) -> PyResult<Tensor> {
    match dtype {
        DataType::F32 => numeric::<f32>(py, key, value, "float32"),
        DataType::I32 => numeric::<i32>(py, key, value, "int32"),
        DataType::I64 => numeric::<i64>(py, key, value, "int64"),
        DataType::Bool => numeric::<bool>(py, key, value, "bool"),
        DataType::String => strings(py, key, value),
    }
}

/// A numeric (or bool) input.
fn numeric<T>(py: Python<'_>, key: &str, value: &Bound<'_, PyAny>, dtype: &str) -> PyResult<Tensor>
where
    T: numpy::Element + predictor::Element + Copy + Scalar,
{
    // An array of the input's dtype, as it is.
    if let Ok(array) = value.cast::<PyArrayDyn<T>>() {
        return copy_out(key, array);
    }
    // Nested lists of Python numbers, read directly.
    if let Some((shape, values)) = Nested::<T>::read(value) {
        return Tensor::from_vec(shape, values).map_err(|e| PyValueError::new_err(format!("input {key:?}: {e}")));
    }
    let numpy = py.import("numpy")?;
    let array = numpy.call_method1("asarray", (value,))?;
    let from = array.getattr("dtype")?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("casting", "same_kind")?;
    if !numpy.call_method("can_cast", (&from, dtype), Some(&kwargs))?.is_truthy()? {
        return Err(PyTypeError::new_err(format!(
            "input {key:?}: cannot feed {} values to a {dtype} input (only a same-kind cast is made, as TensorFlow \
             does; convert them first)",
            from.str()?
        )));
    }
    let kwargs = PyDict::new(py);
    kwargs.set_item("dtype", dtype)?;
    let array = numpy.call_method("ascontiguousarray", (array,), Some(&kwargs))?;
    copy_out(key, array.cast::<PyArrayDyn<T>>()?)
}

/// A Python number an input of this dtype takes as it is (a cast numpy
/// would also call `same_kind`); `None` sends the value through numpy.
trait Scalar: Sized {
    fn from_py(item: &Bound<'_, PyAny>) -> Option<Self>;
}

impl Scalar for f32 {
    fn from_py(item: &Bound<'_, PyAny>) -> Option<f32> {
        match item.cast::<PyFloat>() {
            Ok(f) => Some(f.value() as f32),
            Err(_) => item.cast::<PyInt>().ok()?.extract::<i64>().ok().map(|v| v as f32),
        }
    }
}

impl Scalar for i64 {
    fn from_py(item: &Bound<'_, PyAny>) -> Option<i64> {
        item.cast::<PyInt>().ok()?.extract().ok()
    }
}

impl Scalar for i32 {
    fn from_py(item: &Bound<'_, PyAny>) -> Option<i32> {
        item.cast::<PyInt>().ok()?.extract().ok()
    }
}

impl Scalar for bool {
    fn from_py(item: &Bound<'_, PyAny>) -> Option<bool> {
        item.cast::<PyBool>().ok().map(|b| b.is_true())
    }
}

/// A value of nested lists of numbers, rectangular: its shape and its
/// elements in row-major order.
struct Nested<T> {
    shape: Vec<usize>,
    values: Vec<T>,
    /// The depth of the numbers, once one is seen.
    leaf: Option<usize>,
}

impl<T: Scalar> Nested<T> {
    /// `None` for anything but rectangular nested lists of numbers `T` takes.
    fn read(value: &Bound<'_, PyAny>) -> Option<(Vec<usize>, Vec<T>)> {
        let mut nested = Nested { shape: Vec::new(), values: Vec::new(), leaf: None };
        nested.walk(value, 0).then_some((nested.shape, nested.values))
    }

    fn walk(&mut self, value: &Bound<'_, PyAny>, depth: usize) -> bool {
        if let Ok(list) = value.cast::<PyList>() {
            if self.leaf.is_some_and(|leaf| depth >= leaf) {
                return false;
            }
            let n = list.len();
            if depth == self.shape.len() {
                self.shape.push(n);
            } else if self.shape[depth] != n {
                return false;
            }
            return list.iter().all(|item| self.walk(&item, depth + 1));
        }
        if self.leaf.is_some_and(|leaf| leaf != depth) || depth != self.shape.len() {
            return false;
        }
        self.leaf = Some(depth);
        match T::from_py(value) {
            Some(v) => {
                self.values.push(v);
                true
            }
            None => false,
        }
    }
}

/// A numpy array's buffer, read in place by a tensor: the array is held
/// (and so its buffer kept) as long as the tensor or a clone of it lives.
struct NumpyBytes {
    _array: Py<PyAny>,
    data: *const u8,
    len: usize,
}

// SAFETY: `_array` keeps the numpy array, and so its buffer, alive and in
// place for as long as this value lives (numpy never moves or frees the data
// of an array still referenced, and refuses to resize it); `data` and `len`
// are that buffer's. The bytes are only read. A Python thread writing the
// same array during a call races with the read, as it does when feeding
// TensorFlow.
unsafe impl Send for NumpyBytes {}
// SAFETY: as above; shared references only read.
unsafe impl Sync for NumpyBytes {}

impl SharedBytes for NumpyBytes {
    fn bytes(&self) -> &[u8] {
        // SAFETY: `data` points at `len` bytes of the array's buffer,
        // alive while `_array` is (see the `Send` impl).
        unsafe { std::slice::from_raw_parts(self.data, self.len) }
    }
}

/// The elements of a numpy array, in row-major order, as a tensor: read in
/// place when the array is C-contiguous and numeric (f32, i32, i64),
/// copied otherwise.
fn copy_out<T>(key: &str, array: &Bound<'_, PyArrayDyn<T>>) -> PyResult<Tensor>
where
    T: numpy::Element + predictor::Element + Copy,
{
    let shape = array.shape().to_vec();
    let data = array.data().cast_const().cast::<u8>();
    if matches!(T::DTYPE, DataType::F32 | DataType::I32 | DataType::I64) && array.is_c_contiguous() && !data.is_null() {
        let len = array.len() * std::mem::size_of::<T>();
        let bytes = Arc::new(NumpyBytes { _array: array.clone().into_any().unbind(), data, len });
        if let Ok(tensor) = Tensor::from_shared(T::DTYPE, shape.clone(), bytes) {
            return Ok(tensor);
        }
    }
    let readonly = array.try_readonly().map_err(|e| PyValueError::new_err(format!("input {key:?}: {e}")))?;
    let values = match readonly.as_slice() {
        Ok(contiguous) => contiguous.to_vec(),
        Err(_) => readonly.as_array().iter().copied().collect(),
    };
    Tensor::from_vec(shape, values).map_err(|e| PyValueError::new_err(format!("input {key:?}: {e}")))
}

/// A string input: `str` or UTF-8 `bytes` elements, any nesting.
fn strings(py: Python<'_>, key: &str, value: &Bound<'_, PyAny>) -> PyResult<Tensor> {
    let numpy = py.import("numpy")?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("dtype", "object")?;
    let array = numpy.call_method("array", (value,), Some(&kwargs))?;
    let shape: Vec<usize> = array.getattr("shape")?.extract()?;
    let flat = array.call_method0("ravel")?;
    let mut out = Vec::with_capacity(flat.len()?);
    for item in flat.try_iter()? {
        let item = item?;
        if let Ok(s) = item.cast::<PyString>() {
            out.push(Bytes::copy_from_slice(s.to_str()?.as_bytes()));
        } else if let Ok(b) = item.cast::<PyBytes>() {
            // Any bytes, as TensorFlow's strings (a serialized tf.Example...).
            out.push(Bytes::copy_from_slice(b.as_bytes()));
        } else {
            return Err(PyTypeError::new_err(format!(
                "input {key:?}: a string input takes str or bytes, got {}",
                item.get_type().name()?
            )));
        }
    }
    Tensor::from_vec(shape, out).map_err(|e| PyValueError::new_err(format!("input {key:?}: {e}")))
}

/// A tensor as a numpy array: its own buffer, not copied, for numbers; an
/// object array of `bytes` for strings.
pub fn to_numpy(py: Python<'_>, key: &str, tensor: Tensor) -> PyResult<Py<PyAny>> {
    let failed = |e: predictor::OpsetError| PyValueError::new_err(format!("output {key:?}: {e}"));
    Ok(match tensor.dtype() {
        DataType::F32 => tensor.into_array::<f32>().map_err(failed)?.into_pyarray(py).into_any().unbind(),
        DataType::I32 => tensor.into_array::<i32>().map_err(failed)?.into_pyarray(py).into_any().unbind(),
        DataType::I64 => tensor.into_array::<i64>().map_err(failed)?.into_pyarray(py).into_any().unbind(),
        DataType::Bool => tensor.into_array::<bool>().map_err(failed)?.into_pyarray(py).into_any().unbind(),
        DataType::String => {
            let values = tensor.as_slice::<Bytes>().map_err(failed)?;
            let list = PyList::new(py, values.iter().map(|s| PyBytes::new(py, s)))?;
            let numpy = py.import("numpy")?;
            let kwargs = PyDict::new(py);
            kwargs.set_item("dtype", "object")?;
            let flat = numpy.call_method("array", (list,), Some(&kwargs))?;
            flat.call_method1("reshape", (tensor.shape().to_vec(),))?.unbind()
        }
    })
}
