//! `ListReserve`.

use crate::graph::{Attr, Node};
use crate::ops::kernel::{any_dtype, checked_len, indices};
use crate::ops::{Arity, OpDef, OpError, TensorType};
use crate::{Assets, DataType, Result, Shape, Tensor};

/// A tensor list of `n` elements, each of `element_shape`, all zero:
/// TensorFlow's `TensorListReserve`. A list is a dense tensor `[n] ++
/// element dims` (reading item `i` is `Gather` at axis 0, stacking the list
/// is `Identity`; [`super::ListSetItem`] writes an item).
///
/// Input: `num_elements` (an i32 or i64 scalar, >= 0). Attributes:
/// `element_dtype` (a dtype) and `element_shape` (a shape, unknown dims
/// allowed).
///
/// The output is `[n] ++ element_shape` of `element_dtype`, zero-filled
/// (`""`, false), where an unknown element dim is 0 until the first item is
/// set (which gives the list its size); its declared shape is `[?] ++
/// element_shape`.
///
/// Gradient: none (`num_elements` is an integer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListReserve {
    /// The dtype of the list's elements.
    pub element_dtype: DataType,
    /// The shape of each element; unknown dims are 0 until an item is set.
    pub element_shape: Shape,
}

impl OpDef for ListReserve {
    const NAME: &'static str = "ListReserve";
    const SINCE: u32 = 5;
    const INPUTS: Arity = Arity::Exactly(1);
    const SHAPE_FROM_VALUES: bool = true;

    fn parse(node: &Node, _: &Assets) -> Result<ListReserve> {
        Ok(ListReserve {
            element_dtype: node.attr_type("element_dtype")?,
            element_shape: node.attr_shape("element_shape")?.clone(),
        })
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        vec![
            ("element_dtype", Attr::Type(self.element_dtype)),
            ("element_shape", Attr::Shape(self.element_shape.clone())),
        ]
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        scalar_index_type(inputs, 0, "num_elements")?;
        let dims = std::iter::once(None).chain(self.element_shape.0.iter().copied()).collect();
        Ok(TensorType::new(self.element_dtype, dims))
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        let n = scalar_index(inputs[0], 0, "num_elements")?;
        let n = usize::try_from(n)
            .map_err(|_| OpError::Invalid { what: "num_elements", reason: format!("{n}: a list's length is >= 0") })?;
        let shape: Vec<usize> = std::iter::once(n).chain(self.element_shape.0.iter().map(|d| d.unwrap_or(0))).collect();
        let len = checked_len(&shape)?;
        any_dtype!(self.element_dtype, T => {
            out.output_vec::<T>(&shape).resize(len, T::default());
            Ok(())
        })
    }

    #[cfg(feature = "grad")]
    fn grad(&self, _: &[&Tensor], _: &Tensor, _: &Tensor) -> crate::ops::grad::Grads {
        Ok(vec![None])
    }
}

/// Input `i` (`what`) must be an i32 or i64 scalar (shape `[]` or `[1]`).
///
/// # Errors
/// [`OpError::Dtype`] or [`OpError::Shape`].
pub(super) fn scalar_index_type(inputs: &[TensorType], i: usize, what: &str) -> Result<(), OpError> {
    let t = &inputs[i];
    if !matches!(t.dtype, DataType::I32 | DataType::I64) {
        return Err(OpError::Dtype { input: i, expected: "i32 or i64", got: t.dtype });
    }
    if !matches!(t.dims(), [] | [Some(1)] | [None]) {
        return Err(OpError::shape(format!("{what} (input {i}) has shape {}, expected a scalar", t.shape)));
    }
    Ok(())
}

/// The value of an i32 or i64 scalar (input `input`, `what`).
///
/// # Errors
/// [`OpError::Dtype`], or [`OpError::Shape`] for more or fewer than one element.
pub(super) fn scalar_index(t: &Tensor, input: usize, what: &str) -> Result<i64, OpError> {
    match indices(t, input)?.as_slice() {
        &[i] if t.shape().len() <= 1 => Ok(i),
        _ => Err(OpError::shape(format!("{what} (input {input}) has shape {:?}, expected a scalar", t.shape()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Op;
    use ndarray::array;

    #[test]
    fn reserves_a_zero_filled_list() {
        let op = ListReserve { element_dtype: DataType::F32, element_shape: Shape(vec![Some(2)]) };
        assert_eq!(
            op.run(&[&Tensor::scalar(3i32)]).unwrap(),
            Tensor::from(array![[0.0f32, 0.0], [0.0, 0.0], [0.0, 0.0]])
        );
        let strings = ListReserve { element_dtype: DataType::String, element_shape: Shape::scalar() };
        assert_eq!(strings.run(&[&Tensor::scalar(2i64)]).unwrap(), Tensor::from(array![String::new(), String::new()]));
    }

    #[test]
    fn unknown_element_dims_are_zero_until_an_item_is_set() {
        let op = ListReserve { element_dtype: DataType::I64, element_shape: Shape(vec![None, Some(4)]) };
        let list = op.run(&[&Tensor::scalar(5i64)]).unwrap();
        assert_eq!(list.shape(), &[5, 0, 4]);
        let ty = op.infer(&[TensorType::new(DataType::I64, vec![])]).unwrap();
        assert_eq!(ty, TensorType::new(DataType::I64, vec![None, None, Some(4)]));
        assert_eq!(op.run(&[&Tensor::scalar(0i64)]).unwrap().shape(), &[0, 0, 4]);
    }

    #[test]
    fn attributes_round_trip() {
        let op = ListReserve { element_dtype: DataType::Bool, element_shape: Shape(vec![None, Some(3)]) };
        let node = Op::from(op.clone()).to_node("l", vec!["n".into()]);
        assert_eq!(ListReserve::parse(&node, &Assets::new()).unwrap(), op);
    }

    #[test]
    fn bad_lengths_are_refused_before_allocating() {
        let op = ListReserve { element_dtype: DataType::F32, element_shape: Shape(vec![Some(1 << 20)]) };
        let err = op.run(&[&Tensor::scalar(i64::MAX)]).unwrap_err();
        assert!(matches!(err, OpError::TooLarge { .. }), "{err}");
        let err = op.run(&[&Tensor::scalar(-1i32)]).unwrap_err().to_string();
        assert!(err.contains("-1: a list's length is >= 0"), "{err}");
        let err = op.run(&[&Tensor::from(array![1i64, 2])]).unwrap_err().to_string();
        assert!(err.contains("expected a scalar"), "{err}");
        let err = op.infer(&[TensorType::new(DataType::F32, vec![])]).unwrap_err();
        assert!(matches!(err, OpError::Dtype { input: 0, .. }), "{err}");
        assert!(op.infer(&[TensorType::new(DataType::I32, vec![Some(2)])]).is_err());
    }
}
