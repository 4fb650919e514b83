//! Tensors as batches of rows along their leading axis: stacked,
//! concatenated, split into ranges and padded, as a server merging requests
//! into one batch and splitting the answers back needs.

use std::borrow::Borrow;
use std::ops::Range;

use super::{Bytes, Data, Element, Tensor};
use crate::{DataType, Error, Result};

/// Calls `$f::<T>($args)` with `T` the element type of `$dtype`.
macro_rules! by_dtype {
    ($dtype:expr, $f:ident($($arg:expr),*)) => {
        match $dtype {
            DataType::F32 => $f::<f32>($($arg),*),
            DataType::I64 => $f::<i64>($($arg),*),
            DataType::I32 => $f::<i32>($($arg),*),
            DataType::Bool => $f::<bool>($($arg),*),
            DataType::String => $f::<Bytes>($($arg),*),
        }
    };
}

/// The elements of every tensor, one after the other (all of `T`).
fn joined<T: Element>(tensors: &[&Tensor]) -> Data {
    let len = tensors.iter().map(|t| t.len()).sum();
    let mut all = Vec::with_capacity(len);
    for t in tensors {
        all.extend_from_slice(T::slice(&t.data).unwrap_or_default());
    }
    T::wrap(all)
}

/// Elements `range` of `data` (of `T`).
fn part<T: Element>(data: &Data, range: Range<usize>) -> Data {
    T::wrap(T::slice(data).and_then(|s| s.get(range)).unwrap_or_default().to_vec())
}

/// `tensors` all of the first one's dtype, or an error naming the first
/// that is not.
fn same_dtype(tensors: &[&Tensor], what: &str) -> Result<DataType> {
    let first = tensors.first().ok_or_else(|| Error::Shape { what: what.into(), reason: "no tensor given".into() })?;
    match tensors.iter().position(|t| t.dtype() != first.dtype()) {
        Some(i) => {
            Err(Error::DType { what: format!("{what}: tensor {i}"), expected: first.dtype(), got: tensors[i].dtype() })
        }
        None => Ok(first.dtype()),
    }
}

impl Tensor {
    /// Stacks tensors of one dtype and shape along a new leading axis:
    /// `n` tensors of shape `s` give one of shape `[n] ++ s` (a batch).
    ///
    /// # Errors
    /// [`Error::Shape`] or [`Error::DType`] naming the first tensor that
    /// differs from the first one; [`Error::Shape`] for an empty list.
    pub fn stack(tensors: &[Tensor]) -> Result<Tensor> {
        let tensors: Vec<&Tensor> = tensors.iter().collect();
        let tensors = tensors.as_slice();
        let dtype = same_dtype(tensors, "stack")?;
        let first = &tensors[0].shape;
        if let Some(i) = tensors.iter().position(|t| t.shape != *first) {
            return Err(Error::Shape {
                what: format!("stack: tensor {i}"),
                reason: format!("expected shape {first:?} like tensor 0, got {:?}", tensors[i].shape),
            });
        }
        let mut shape = vec![tensors.len()];
        shape.extend_from_slice(first);
        Ok(Tensor { shape, data: by_dtype!(dtype, joined(tensors)) })
    }

    /// Concatenates tensors along their leading axis, as `tf.concat(axis=0)`:
    /// shapes `[a] ++ s`, `[b] ++ s`... give `[a + b + ...] ++ s`.
    ///
    /// ```
    /// use opset::Tensor;
    ///
    /// let a = Tensor::from_vec(vec![1, 2], vec![1.0f32, 2.0])?;
    /// let b = Tensor::from_vec(vec![2, 2], vec![3.0f32, 4.0, 5.0, 6.0])?;
    /// let ab = Tensor::concat_rows(&[a, b])?;
    /// assert_eq!(ab.shape(), &[3, 2]);
    /// assert_eq!(ab.rows(1..3)?.as_slice::<f32>()?, &[3.0, 4.0, 5.0, 6.0]);
    /// # Ok::<(), opset::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::DType`] or [`Error::Shape`] naming the first tensor whose
    /// dtype or dims after the first differ from the first tensor's, or
    /// that is a scalar; [`Error::Shape`] for an empty list.
    pub fn concat_rows<T: Borrow<Tensor>>(tensors: &[T]) -> Result<Tensor> {
        let tensors: Vec<&Tensor> = tensors.iter().map(Borrow::borrow).collect();
        let tensors = tensors.as_slice();
        let dtype = same_dtype(tensors, "concat")?;
        let inner = |t: &Tensor| t.shape.get(1..).map(<[usize]>::to_vec);
        let first = inner(tensors[0]);
        let mut rows = 0;
        for (i, t) in tensors.iter().enumerate() {
            if inner(t).is_none() || inner(t) != first {
                return Err(Error::Shape {
                    what: format!("concat: tensor {i}"),
                    reason: format!(
                        "expected rows of shape {:?} like tensor 0's, got a tensor of shape {:?}",
                        first.unwrap_or_default(),
                        t.shape
                    ),
                });
            }
            rows += t.shape[0];
        }
        let mut shape = tensors[0].shape.clone();
        shape[0] = rows;
        Ok(Tensor { shape, data: by_dtype!(dtype, joined(tensors)) })
    }

    /// Rows `range` along the leading axis, as `tf.slice` on axis 0: shape
    /// `[range.len()] ++ s[1..]`.
    ///
    /// # Errors
    /// [`Error::Shape`] for a scalar or a range past the rows.
    pub fn rows(&self, range: Range<usize>) -> Result<Tensor> {
        let (&rows, inner) = self.split_rows("rows")?;
        if range.start > range.end || range.end > rows {
            return Err(Error::Shape {
                what: "rows".into(),
                reason: format!("rows {range:?} of a tensor of shape {:?}", self.shape),
            });
        }
        let width: usize = inner.iter().product();
        let mut shape = self.shape.clone();
        shape[0] = range.len();
        let elements = range.start * width..range.end * width;
        Ok(Tensor { shape, data: by_dtype!(self.dtype(), part(&self.data, elements)) })
    }

    /// Row `i` along the leading axis: shape `s[1..]` (one example of a batch).
    ///
    /// # Errors
    /// [`Error::Shape`] for a scalar or an `i` out of range.
    pub fn row(&self, i: usize) -> Result<Tensor> {
        let (_, inner) = self.split_rows("row")?;
        let inner = inner.to_vec();
        let mut one = self.rows(i..i + 1)?;
        one.shape = inner;
        Ok(one)
    }

    /// This tensor grown to `dims` in every dim after the first (the rows
    /// are kept), the new elements all equal to its first element: as
    /// TensorFlow Serving's batching pads requests of different lengths
    /// (`pad_variable_length_inputs`, `batching_util.h`'s `AddPadding`).
    ///
    /// # Errors
    /// [`Error::Shape`] for a scalar, an empty tensor, `dims` of another
    /// rank, or a dim smaller than this tensor's.
    pub fn pad_rows_to(&self, dims: &[usize]) -> Result<Tensor> {
        let (_, inner) = self.split_rows("pad")?;
        let refuse = |reason: String| Err(Error::Shape { what: "pad".into(), reason });
        if dims.len() != inner.len() || dims.iter().zip(inner).any(|(d, i)| d < i) {
            return refuse(format!("cannot pad rows of shape {inner:?} to {dims:?}"));
        }
        if self.is_empty() {
            return refuse(format!("a tensor of shape {:?} has no element to pad with", self.shape));
        }
        let mut shape = vec![self.shape[0]];
        shape.extend_from_slice(dims);
        fn padded<T: Element>(t: &Tensor, shape: &[usize]) -> Data {
            let from = T::slice(&t.data).unwrap_or_default();
            let Some(fill) = from.first() else { return T::wrap(Vec::new()) };
            let mut out = vec![fill.clone(); shape.iter().product()];
            // Each run along the last dim is copied to where its index lands
            // in the larger shape.
            let last = t.shape.last().copied().unwrap_or(1).max(1);
            for (run, chunk) in from.chunks(last).enumerate() {
                let (mut rest, mut at, mut stride) = (run, 0, *shape.last().unwrap_or(&1));
                for d in (0..t.shape.len() - 1).rev() {
                    at += (rest % t.shape[d]) * stride;
                    rest /= t.shape[d];
                    stride *= shape[d];
                }
                out[at..at + chunk.len()].clone_from_slice(chunk);
            }
            T::wrap(out)
        }
        Ok(Tensor { data: by_dtype!(self.dtype(), padded(self, &shape)), shape })
    }

    fn split_rows(&self, what: &str) -> Result<(&usize, &[usize])> {
        self.shape
            .split_first()
            .ok_or_else(|| Error::Shape { what: what.into(), reason: "a scalar has no rows".into() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(shape: &[usize], v: &[i32]) -> Tensor {
        Tensor::from_vec(shape.to_vec(), v.to_vec()).unwrap()
    }

    #[test]
    fn concatenated_rows_split_back_into_the_same_tensors() {
        let a = t(&[1, 3], &[1, 2, 3]);
        let b = t(&[2, 3], &[4, 5, 6, 7, 8, 9]);
        let ab = Tensor::concat_rows(&[a.clone(), b.clone()]).unwrap();
        assert_eq!(ab.shape(), &[3, 3]);
        assert_eq!(ab.rows(0..1).unwrap(), a);
        assert_eq!(ab.rows(1..3).unwrap(), b);
        assert_eq!(ab.row(2).unwrap(), t(&[3], &[7, 8, 9]));
        let words = Tensor::strings(vec![1], vec!["a".to_owned()]).unwrap();
        let more = Tensor::strings(vec![2], vec!["b".to_owned(), "c".to_owned()]).unwrap();
        assert_eq!(Tensor::concat_rows(&[words, more]).unwrap().as_slice::<Bytes>().unwrap(), ["a", "b", "c"]);
    }

    #[test]
    fn rows_of_another_shape_or_dtype_are_refused_naming_the_tensor() {
        let a = t(&[1, 3], &[1, 2, 3]);
        let e = Tensor::concat_rows(&[a.clone(), t(&[1, 2], &[1, 2])]).unwrap_err().to_string();
        assert!(e.contains("tensor 1") && e.contains("[1, 2]"), "{e}");
        let f = Tensor::from_vec(vec![1, 3], vec![0.0f32; 3]).unwrap();
        assert!(matches!(Tensor::concat_rows(&[a.clone(), f]), Err(Error::DType { .. })));
        assert!(Tensor::concat_rows(&[Tensor::scalar(1i32), Tensor::scalar(2i32)]).is_err());
        assert!(Tensor::concat_rows::<Tensor>(&[]).is_err());
        assert!(a.rows(1..2).is_err());
        assert!(a.rows(0..0).unwrap().shape() == [0, 3]);
    }

    #[test]
    fn padding_repeats_the_first_element_and_keeps_each_element_at_its_index() {
        let a = t(&[2, 2], &[1, 2, 3, 4]);
        let padded = a.pad_rows_to(&[3]).unwrap();
        assert_eq!(padded, t(&[2, 3], &[1, 2, 1, 3, 4, 1]));
        let cube = t(&[1, 2, 2], &[5, 6, 7, 8]);
        assert_eq!(cube.pad_rows_to(&[3, 3]).unwrap(), t(&[1, 3, 3], &[5, 6, 5, 7, 8, 5, 5, 5, 5]));
        assert_eq!(a.pad_rows_to(&[2]).unwrap(), a);
        assert!(a.pad_rows_to(&[1]).is_err());
        assert!(a.pad_rows_to(&[3, 3]).is_err());
        assert!(t(&[0, 2], &[]).pad_rows_to(&[3]).is_err());
    }
}
