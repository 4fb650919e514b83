//! `Tensor`: a typed, shaped value, owned or borrowed from a memory map.

use std::fmt;
use std::sync::Arc;

pub use bytes::Bytes;
use memmap2::Mmap;
use ndarray::{ArrayD, ArrayViewD, Dimension, IxDyn};

use crate::shape::element_count;
use crate::{DataType, Error, Result};

mod rows;

/// A value of the graph: a dtype, a concrete shape and row-major elements.
///
/// Numeric tensors read from a variables bundle borrow their bytes from the
/// memory-mapped data file (no copy); everything else owns a `Vec`. Convert
/// from ndarray with `From`, and back with [`Tensor::view`],
/// [`Tensor::into_array`] or the typed shorthands such as [`Tensor::as_f32`].
///
/// ```
/// use opset::Tensor;
/// use ndarray::array;
///
/// let t = Tensor::from(array![[1.0f32, 2.0], [3.0, 4.0]]);
/// assert_eq!(t.shape(), &[2, 2]);
/// assert_eq!(t.as_f32()?[[1, 0]], 3.0);
/// # Ok::<(), opset::Error>(())
/// ```
#[derive(Clone)]
pub struct Tensor {
    shape: Vec<usize>,
    data: Data,
}

/// The elements, one variant per dtype.
#[derive(Clone)]
#[doc(hidden)]
pub enum Data {
    F32(Buffer<f32>),
    I64(Buffer<i64>),
    I32(Buffer<i32>),
    Bool(Vec<bool>),
    String(Vec<Bytes>),
}

/// Memory a tensor may read in place, kept alive by the tensors that read
/// it: a memory-mapped file of weights, or a buffer another runtime owns
/// (a numpy array fed from Python).
pub trait SharedBytes: Send + Sync {
    /// The bytes. They must not change while a tensor reads them.
    fn bytes(&self) -> &[u8];
}

impl SharedBytes for Mmap {
    fn bytes(&self) -> &[u8] {
        self
    }
}

/// Numeric elements: owned, or a typed window into shared memory.
#[derive(Clone)]
#[doc(hidden)]
pub enum Buffer<T> {
    Owned(Vec<T>),
    /// Invariant (checked by [`Buffer::mapped`]): `offset` is aligned for `T`
    /// and `len` bytes starting there lie inside `map` and are a whole number
    /// of `T`.
    Mapped {
        map: Arc<dyn SharedBytes>,
        offset: usize,
        len: usize,
    },
}

impl<T: bytemuck::Pod> Buffer<T> {
    #[inline(always)]
    fn as_slice(&self) -> &[T] {
        match self {
            Buffer::Owned(v) => v,
            Buffer::Mapped { map, offset, len } => bytemuck::cast_slice(&map.bytes()[*offset..*offset + *len]),
        }
    }

    /// The owned vector, copying mapped bytes first.
    #[inline(always)]
    fn make_owned(&mut self) -> &mut Vec<T> {
        if let Buffer::Mapped { .. } = self {
            *self = Buffer::Owned(self.as_slice().to_vec());
        }
        match self {
            Buffer::Owned(v) => v,
            Buffer::Mapped { .. } => unreachable!("converted to owned just above"),
        }
    }

    /// A window into `map`, or `None` if the bytes are misaligned or out of
    /// bounds. Public for the artifact readers (`export`, `tf-import`), which
    /// use numeric weights in place from their memory-mapped data files,
    /// and for the Python bindings, which read numpy arrays in place.
    #[doc(hidden)]
    pub fn mapped(map: &Arc<impl SharedBytes + 'static>, offset: usize, len: usize) -> Option<Buffer<T>> {
        Buffer::shared(Arc::clone(map) as Arc<dyn SharedBytes>, offset, len)
    }

    /// [`Buffer::mapped`] over any shared bytes.
    fn shared(map: Arc<dyn SharedBytes>, offset: usize, len: usize) -> Option<Buffer<T>> {
        let bytes = map.bytes().get(offset..offset.checked_add(len)?)?;
        bytemuck::try_cast_slice::<u8, T>(bytes).ok()?;
        Some(Buffer::Mapped { map, offset, len })
    }
}

#[cfg(target_endian = "big")]
compile_error!(
    "the artifact format is little-endian and tensors are used in place: big-endian hosts are not supported"
);

mod sealed {
    pub trait Sealed {}
}

/// A Rust type that can be the element of a [`Tensor`]: `f32`, `i64`, `i32`,
/// `bool`, or [`Bytes`] for `string` (TensorFlow's strings are bytes: text
/// in UTF-8, or a serialized proto).
pub trait Element: Clone + Default + PartialEq + fmt::Debug + Send + Sync + 'static + sealed::Sealed {
    /// The dtype of tensors of this element.
    const DTYPE: DataType;
    #[doc(hidden)]
    fn slice(data: &Data) -> Option<&[Self]>;
    #[doc(hidden)]
    fn vec_mut(data: &mut Data) -> Option<&mut Vec<Self>>;
    #[doc(hidden)]
    fn wrap(v: Vec<Self>) -> Data;
}

macro_rules! element {
    ($t:ty, $variant:ident, mapped) => {
        impl sealed::Sealed for $t {}
        impl Element for $t {
            const DTYPE: DataType = DataType::$variant;
            #[inline(always)]
            fn slice(data: &Data) -> Option<&[Self]> {
                match data {
                    Data::$variant(b) => Some(b.as_slice()),
                    _ => None,
                }
            }
            #[inline(always)]
            fn vec_mut(data: &mut Data) -> Option<&mut Vec<Self>> {
                match data {
                    Data::$variant(b) => Some(b.make_owned()),
                    _ => None,
                }
            }
            #[inline(always)]
            fn wrap(v: Vec<Self>) -> Data {
                Data::$variant(Buffer::Owned(v))
            }
        }
    };
    ($t:ty, $variant:ident) => {
        impl sealed::Sealed for $t {}
        impl Element for $t {
            const DTYPE: DataType = DataType::$variant;
            #[inline(always)]
            fn slice(data: &Data) -> Option<&[Self]> {
                match data {
                    Data::$variant(v) => Some(v),
                    _ => None,
                }
            }
            #[inline(always)]
            fn vec_mut(data: &mut Data) -> Option<&mut Vec<Self>> {
                match data {
                    Data::$variant(v) => Some(v),
                    _ => None,
                }
            }
            #[inline(always)]
            fn wrap(v: Vec<Self>) -> Data {
                Data::$variant(v)
            }
        }
    };
}

element!(f32, F32, mapped);
element!(i64, I64, mapped);
element!(i32, I32, mapped);
element!(bool, Bool);
element!(Bytes, String);

impl Tensor {
    /// A numeric tensor (f32, i64 or i32) reading its row-major elements in
    /// place from `bytes` (kept alive by the tensor and its clones), not
    /// copied: how a numpy array fed from Python is read.
    ///
    /// # Errors
    /// [`Error::Shape`] if the bytes are not `shape`'s element count of
    /// `dtype`, are misaligned for it, or `dtype` is not numeric.
    pub fn from_shared(dtype: DataType, shape: Vec<usize>, bytes: Arc<dyn SharedBytes>) -> Result<Tensor> {
        let len = bytes.bytes().len();
        let count = crate::shape::volume(&shape).map(|n| if shape.contains(&0) { 0 } else { n });
        let bad = |reason: &str| Error::Shape {
            what: "shared tensor".into(),
            reason: format!("{reason}: {dtype} {shape:?} over {len} bytes"),
        };
        if count.and_then(|n| n.checked_mul(dtype.byte_size()?)) != Some(len) {
            return Err(bad("the bytes are not the shape's elements"));
        }
        let data = match dtype {
            DataType::F32 => Buffer::shared(bytes, 0, len).map(Data::F32),
            DataType::I64 => Buffer::shared(bytes, 0, len).map(Data::I64),
            DataType::I32 => Buffer::shared(bytes, 0, len).map(Data::I32),
            DataType::Bool | DataType::String => return Err(bad("only numeric tensors read shared bytes")),
        };
        let data = data.ok_or_else(|| bad("misaligned"))?;
        Ok(Tensor { shape, data })
    }

    /// A tensor from a shape and its row-major elements.
    ///
    /// # Errors
    /// [`Error::Shape`] if the element count of `shape` is not `data.len()`.
    pub fn from_vec<T: Element>(shape: Vec<usize>, data: Vec<T>) -> Result<Tensor> {
        let n = element_count(&shape, "tensor")?;
        if n != data.len() {
            return Err(Error::Shape {
                what: "tensor".into(),
                reason: format!("shape {shape:?} holds {n} elements, got {}", data.len()),
            });
        }
        Ok(Tensor { shape, data: T::wrap(data) })
    }

    /// A rank-0 tensor.
    pub fn scalar<T: Element>(value: T) -> Tensor {
        Tensor { shape: Vec::new(), data: T::wrap(vec![value]) }
    }

    /// An empty tensor of `dtype` (shape `[0]`), a starting point for kernels
    /// that write into a reused output.
    pub fn empty(dtype: DataType) -> Tensor {
        let data = match dtype {
            DataType::F32 => f32::wrap(Vec::new()),
            DataType::I64 => i64::wrap(Vec::new()),
            DataType::I32 => i32::wrap(Vec::new()),
            DataType::Bool => bool::wrap(Vec::new()),
            DataType::String => Bytes::wrap(Vec::new()),
        };
        Tensor { shape: vec![0], data }
    }

    /// A tensor of `shape` over `data`, which must hold the shape's element
    /// count. Public for the artifact readers (`export`, `tf-import`); use
    /// [`Tensor::from_vec`] instead.
    #[doc(hidden)]
    pub fn from_data(shape: Vec<usize>, data: Data) -> Tensor {
        Tensor { shape, data }
    }

    /// The element type.
    #[inline(always)]
    pub fn dtype(&self) -> DataType {
        match self.data {
            Data::F32(_) => DataType::F32,
            Data::I64(_) => DataType::I64,
            Data::I32(_) => DataType::I32,
            Data::Bool(_) => DataType::Bool,
            Data::String(_) => DataType::String,
        }
    }

    /// The concrete shape.
    #[inline(always)]
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The number of elements.
    #[inline(always)]
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether the tensor has no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the elements are borrowed from a memory-mapped file.
    pub fn is_mapped(&self) -> bool {
        matches!(
            self.data,
            Data::F32(Buffer::Mapped { .. }) | Data::I64(Buffer::Mapped { .. }) | Data::I32(Buffer::Mapped { .. })
        )
    }

    /// The row-major elements.
    ///
    /// # Errors
    /// [`Error::DType`] if `T` is not the tensor's element type.
    #[inline(always)]
    pub fn as_slice<T: Element>(&self) -> Result<&[T]> {
        T::slice(&self.data).ok_or_else(|| self.dtype_error::<T>())
    }

    /// A view of the tensor as an ndarray, without copying.
    ///
    /// # Errors
    /// [`Error::DType`] if `T` is not the tensor's element type.
    pub fn view<T: Element>(&self) -> Result<ArrayViewD<'_, T>> {
        let slice = self.as_slice::<T>()?;
        ArrayViewD::from_shape(IxDyn(&self.shape), slice)
            .map_err(|e| Error::Shape { what: "tensor".into(), reason: e.to_string() })
    }

    /// The tensor as an owned ndarray (copies mapped bytes).
    ///
    /// # Errors
    /// [`Error::DType`] if `T` is not the tensor's element type.
    pub fn into_array<T: Element>(mut self) -> Result<ArrayD<T>> {
        if self.dtype() != T::DTYPE {
            return Err(self.dtype_error::<T>());
        }
        let dtype = self.dtype();
        let data = T::vec_mut(&mut self.data).ok_or_else(|| Error::DType {
            what: "tensor".into(),
            expected: T::DTYPE,
            got: dtype,
        })?;
        let data = std::mem::take(data);
        ArrayD::from_shape_vec(IxDyn(&self.shape), data)
            .map_err(|e| Error::Shape { what: "tensor".into(), reason: e.to_string() })
    }

    /// A view of an `f32` tensor.
    ///
    /// # Errors
    /// [`Error::DType`] if the tensor is not `f32`.
    pub fn as_f32(&self) -> Result<ArrayViewD<'_, f32>> {
        self.view()
    }

    /// A view of an `i64` tensor.
    ///
    /// # Errors
    /// [`Error::DType`] if the tensor is not `i64`.
    pub fn as_i64(&self) -> Result<ArrayViewD<'_, i64>> {
        self.view()
    }

    /// A view of an `i32` tensor.
    ///
    /// # Errors
    /// [`Error::DType`] if the tensor is not `i32`.
    pub fn as_i32(&self) -> Result<ArrayViewD<'_, i32>> {
        self.view()
    }

    /// A view of a `bool` tensor.
    ///
    /// # Errors
    /// [`Error::DType`] if the tensor is not `bool`.
    pub fn as_bool(&self) -> Result<ArrayViewD<'_, bool>> {
        self.view()
    }

    /// A view of a `string` tensor: each element its bytes, as
    /// TensorFlow's strings are (UTF-8 text, or any bytes such as a
    /// serialized proto).
    ///
    /// # Errors
    /// [`Error::DType`] if the tensor is not `string`.
    pub fn as_string(&self) -> Result<ArrayViewD<'_, Bytes>> {
        self.view()
    }

    /// A `string` tensor of `shape` from anything holding bytes (`&str`,
    /// `String`, `&[u8]`, `Vec<u8>`...), copied.
    ///
    /// ```
    /// let words = opset::Tensor::strings(vec![2], ["caf\u{e9}", "tea"])?;
    /// assert_eq!(words.as_slice::<opset::Bytes>()?, ["caf\u{e9}", "tea"]);
    /// # Ok::<(), opset::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Shape`] if the count is not `shape`'s element count.
    pub fn strings<S: AsRef<[u8]>>(shape: Vec<usize>, items: impl IntoIterator<Item = S>) -> Result<Tensor> {
        let items: Vec<Bytes> = items.into_iter().map(|s| Bytes::copy_from_slice(s.as_ref())).collect();
        Tensor::from_vec(shape, items)
    }

    /// Mutable access to the row-major elements (copies mapped bytes first).
    ///
    /// # Errors
    /// [`Error::DType`] if `T` is not the tensor's element type.
    pub fn as_slice_mut<T: Element>(&mut self) -> Result<&mut [T]> {
        // The error (a message) only when there is one: this is on every
        // kernel's path.
        if self.dtype() != T::DTYPE {
            return Err(self.dtype_error::<T>());
        }
        let dtype = self.dtype();
        T::vec_mut(&mut self.data).map(Vec::as_mut_slice).ok_or_else(|| Error::DType {
            what: "tensor".into(),
            expected: T::DTYPE,
            got: dtype,
        })
    }

    /// The same elements with another shape of the same element count.
    ///
    /// # Errors
    /// [`Error::Shape`] if the element counts differ.
    pub fn reshape(mut self, shape: &[usize]) -> Result<Tensor> {
        if element_count(shape, "reshape")? != self.len() {
            return Err(Error::Shape {
                what: "tensor".into(),
                reason: format!("cannot reshape {:?} into {shape:?}", self.shape),
            });
        }
        self.shape = shape.to_vec();
        Ok(self)
    }

    /// Prepares this tensor to receive `shape` elements of type `T`, reusing
    /// its allocation when it already holds `T`, and returns the cleared
    /// vector the caller must fill with exactly `shape`'s element count
    /// (kernels write their results this way).
    pub fn output_vec<T: Element>(&mut self, shape: &[usize]) -> &mut Vec<T> {
        self.shape.clear();
        self.shape.extend_from_slice(shape);
        if T::vec_mut(&mut self.data).is_none() {
            self.data = T::wrap(Vec::new());
        }
        match T::vec_mut(&mut self.data) {
            Some(v) => {
                v.clear();
                v
            }
            None => unreachable!("data was just replaced by a Vec<T>"),
        }
    }

    /// Like [`Tensor::output_vec`], but sized to the element count, for
    /// kernels that write every element by index. The elements' values on
    /// return are unspecified (a kernel overwrites them all); when the tensor
    /// already has this dtype and shape, nothing is reallocated or cleared.
    #[inline(always)]
    pub fn output_slice<T: Element>(&mut self, shape: &[usize]) -> &mut [T] {
        let n: usize = shape.iter().product();
        // An element-wise loop, not `!=`: for these few dims a library call
        // to compare memory costs more than the comparison.
        let same = self.shape.len() == shape.len() && self.shape.iter().zip(shape).all(|(a, b)| a == b);
        if !same {
            self.shape.clear();
            self.shape.extend_from_slice(shape);
        }
        if T::vec_mut(&mut self.data).is_none() {
            self.data = T::wrap(Vec::new());
        }
        match T::vec_mut(&mut self.data) {
            Some(v) => {
                if v.len() != n {
                    v.resize(n, T::default());
                }
                v
            }
            None => unreachable!("data was just replaced by a Vec<T>"),
        }
    }

    /// The elements. Public for the artifact writers (`export`); use
    /// [`Tensor::as_slice`] instead.
    #[doc(hidden)]
    pub fn data(&self) -> &Data {
        &self.data
    }

    fn dtype_error<T: Element>(&self) -> Error {
        Error::DType { what: "tensor".into(), expected: T::DTYPE, got: self.dtype() }
    }
}

impl<T: Element, D: Dimension> From<ndarray::Array<T, D>> for Tensor {
    fn from(array: ndarray::Array<T, D>) -> Tensor {
        let shape = array.shape().to_vec();
        let data = if array.is_standard_layout() {
            let (vec, _offset) = array.into_raw_vec_and_offset();
            vec
        } else {
            array.iter().cloned().collect()
        };
        Tensor { shape, data: T::wrap(data) }
    }
}

/// A `string` tensor from text: each `String` its UTF-8 bytes.
impl<D: Dimension> From<ndarray::Array<String, D>> for Tensor {
    fn from(array: ndarray::Array<String, D>) -> Tensor {
        Tensor::from(array.mapv(Bytes::from))
    }
}

/// A `string` tensor from text: each `&str` its UTF-8 bytes, copied.
impl<D: Dimension> From<ndarray::Array<&str, D>> for Tensor {
    fn from(array: ndarray::Array<&str, D>) -> Tensor {
        Tensor::from(array.mapv(|s| Bytes::copy_from_slice(s.as_bytes())))
    }
}

impl PartialEq for Tensor {
    fn eq(&self, other: &Tensor) -> bool {
        if self.shape != other.shape {
            return false;
        }
        match (&self.data, &other.data) {
            (Data::F32(a), Data::F32(b)) => a.as_slice() == b.as_slice(),
            (Data::I64(a), Data::I64(b)) => a.as_slice() == b.as_slice(),
            (Data::I32(a), Data::I32(b)) => a.as_slice() == b.as_slice(),
            (Data::Bool(a), Data::Bool(b)) => a == b,
            (Data::String(a), Data::String(b)) => a == b,
            _ => false,
        }
    }
}

impl fmt::Debug for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 8;
        write!(f, "Tensor<{}>{:?} ", self.dtype(), self.shape)?;
        fn list<T: fmt::Debug>(f: &mut fmt::Formatter<'_>, v: &[T]) -> fmt::Result {
            f.debug_list().entries(v.iter().take(SHOWN)).finish()?;
            if v.len() > SHOWN { write!(f, " (+{} more)", v.len() - SHOWN) } else { Ok(()) }
        }
        match &self.data {
            Data::F32(b) => list(f, b.as_slice()),
            Data::I64(b) => list(f, b.as_slice()),
            Data::I32(b) => list(f, b.as_slice()),
            Data::Bool(v) => list(f, v),
            Data::String(v) => list(f, v),
        }
    }
}
