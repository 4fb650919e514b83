//! `ListSetItem`.

use crate::graph::{Attr, Node};
use crate::ops::array::list_reserve::{scalar_index, scalar_index_type};
use crate::ops::kernel::{any_dtype, checked_len, slice};
use crate::ops::rule::{same_dtype, unify};
use crate::ops::{Arity, OpDef, OpError, TensorType};
use crate::tensor::Element;
use crate::{Assets, Result, Tensor};

/// A tensor list with item `index` replaced by `item`: TensorFlow's
/// `TensorListSetItem`, on a list held as a dense tensor `[n, element
/// dims...]` (see [`super::ListReserve`]).
///
/// Inputs: `list` (`[n, e...]`, any dtype), `index` (an i32 or i64 scalar
/// in `0..n`), `item` (`[e...]`, the list's dtype). The output is the list
/// with row `index` replaced by `item`. A list with no element yet (an
/// element dim still 0: reserved, nothing set) takes the item's shape in
/// those dims, its other rows zero-filled (`""`, false); otherwise the
/// item's shape must be the list's element shape.
///
/// Gradient: to `list`, `g` with row `index` zeroed; to `item`, row `index`
/// of `g`; none to `index` (nor at all when the list is not f32).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListSetItem;

impl OpDef for ListSetItem {
    const NAME: &'static str = "ListSetItem";
    const SINCE: u32 = 5;
    const INPUTS: Arity = Arity::Exactly(3);

    fn parse(_: &Node, _: &Assets) -> Result<ListSetItem> {
        Ok(ListSetItem)
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        Vec::new()
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        let (list, item) = (&inputs[0], &inputs[2]);
        scalar_index_type(inputs, 1, "index")?;
        same_dtype(inputs, 2, 0)?;
        let disagree = || OpError::shape(format!("an item {} for a list {}", item.shape, list.shape));
        let Some((&n, elem)) = list.dims().split_first() else {
            return Err(disagree());
        };
        if elem.len() != item.dims().len() {
            return Err(disagree());
        }
        let elem = elem.iter().zip(item.dims()).map(|(&e, &i)| unify(e, i)).collect::<Option<Vec<_>>>();
        let elem = elem.ok_or_else(disagree)?;
        Ok(TensorType::new(list.dtype, std::iter::once(n).chain(elem).collect()))
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        let (list, item) = (inputs[0], inputs[2]);
        if item.dtype() != list.dtype() {
            return Err(OpError::DtypeMismatch { input: 2, got: item.dtype(), other: 0, expected: list.dtype() });
        }
        let (row, adopt) = locate(list, scalar_index(inputs[1], 1, "index")?, item)?;
        any_dtype!(list.dtype(), T => set_item::<T>(list, row, item, adopt, out))
    }

    #[cfg(feature = "grad")]
    fn grad(&self, x: &[&Tensor], _y: &Tensor, g: &Tensor) -> crate::ops::grad::Grads {
        use crate::ops::grad::zeros;
        use crate::ops::kernel::tensor;
        let (list, item) = (x[0], x[2]);
        if list.dtype() != crate::DataType::F32 {
            return Ok(vec![None, None, None]);
        }
        let (row, adopt) = locate(list, scalar_index(x[1], 1, "index")?, item)?;
        let m = item.len();
        let gs = slice::<f32>(g)?;
        let rows = gs.get(row * m..(row + 1) * m).ok_or_else(|| {
            OpError::shape(format!("a gradient of shape {:?} for items of shape {:?}", g.shape(), item.shape()))
        })?;
        let ditem = tensor(item.shape(), rows.to_vec())?;
        // A list that took the item's shape had no element: nothing flows back to it.
        let dlist = if adopt {
            zeros(list.shape())?
        } else {
            let mut d = gs.to_vec();
            d[row * m..(row + 1) * m].fill(0.0);
            tensor(list.shape(), d)?
        };
        Ok(vec![Some(dlist), None, Some(ditem)])
    }
}

/// The row `index` names in `list`, and whether the list takes `item`'s
/// shape (it has no element yet).
fn locate(list: &Tensor, index: i64, item: &Tensor) -> Result<(usize, bool), OpError> {
    let disagree =
        || OpError::shape(format!("an item of shape {:?} for a list of shape {:?}", item.shape(), list.shape()));
    let Some((&n, elem)) = list.shape().split_first() else {
        return Err(OpError::shape(format!("a list of shape {:?}: a list has a leading dim", list.shape())));
    };
    if elem.len() != item.shape().len() {
        return Err(disagree());
    }
    let adopt = elem != item.shape();
    if adopt && !(elem.contains(&0) && elem.iter().zip(item.shape()).all(|(&e, &i)| e == 0 || e == i)) {
        return Err(disagree());
    }
    let row = usize::try_from(index).ok().filter(|&i| i < n).ok_or_else(|| OpError::Index {
        index,
        len: n,
        shape: list.shape().to_vec(),
    })?;
    Ok((row, adopt))
}

/// The kernel for elements of `T`: `list` with `row` set to `item`, the
/// list first reshaped to hold items of `item`'s shape when `adopt`.
fn set_item<T: Element>(
    list: &Tensor,
    row: usize,
    item: &Tensor,
    adopt: bool,
    out: &mut Tensor,
) -> Result<(), OpError> {
    let shape: Vec<usize> = std::iter::once(list.shape()[0]).chain(item.shape().iter().copied()).collect();
    let len = checked_len(&shape)?;
    let (src, it) = (slice::<T>(list)?, slice::<T>(item)?);
    let m = it.len();
    let dst = out.output_vec::<T>(&shape);
    if adopt {
        dst.resize(len, T::default());
    } else {
        dst.extend_from_slice(src);
    }
    dst[row * m..(row + 1) * m].clone_from_slice(it);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Op;
    use crate::ops::array::ListReserve;
    use crate::{DataType, Shape};
    use ndarray::array;

    #[test]
    fn sets_one_row() {
        let list = Tensor::from(array![[1.0f32, 2.0], [3.0, 4.0], [5.0, 6.0]]);
        let y = ListSetItem.run(&[&list, &Tensor::scalar(1i32), &Tensor::from(array![7.0f32, 8.0])]).unwrap();
        assert_eq!(y, Tensor::from(array![[1.0f32, 2.0], [7.0, 8.0], [5.0, 6.0]]));
        let words = Tensor::from(array!["a", "b"].mapv(String::from));
        let y = ListSetItem.run(&[&words, &Tensor::scalar(0i64), &Tensor::scalar(crate::Bytes::from("z"))]).unwrap();
        assert_eq!(y, Tensor::from(array!["z", "b"].mapv(String::from)));
    }

    #[test]
    fn a_reserved_list_takes_the_shape_of_its_first_item() {
        let reserve = ListReserve { element_dtype: DataType::I64, element_shape: Shape(vec![None, Some(2)]) };
        let list = reserve.run(&[&Tensor::scalar(3i64)]).unwrap();
        let item = Tensor::from(array![[1i64, 2], [3, 4]]);
        let y = ListSetItem.run(&[&list, &Tensor::scalar(2i64), &item]).unwrap();
        assert_eq!(y.shape(), &[3, 2, 2]);
        assert_eq!(y.as_slice::<i64>().unwrap(), &[0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]);
        // Then items must keep that shape.
        let err = ListSetItem.run(&[&y, &Tensor::scalar(0i64), &Tensor::from(array![[1i64, 2]])]).unwrap_err();
        assert!(err.to_string().contains("an item of shape [1, 2] for a list of shape [3, 2, 2]"), "{err}");
        // The reserved list's known dims hold.
        let err = ListSetItem.run(&[&list, &Tensor::scalar(0i64), &Tensor::from(array![[1i64, 2, 3]])]).unwrap_err();
        assert!(matches!(err, OpError::Shape(_)), "{err}");
        let ty = |dims: Vec<Option<usize>>| TensorType::new(DataType::I64, dims);
        let out = ListSetItem.infer(&[ty(vec![None, None, Some(2)]), ty(vec![]), ty(vec![Some(2), Some(2)])]);
        assert_eq!(out.unwrap(), ty(vec![None, Some(2), Some(2)]));
    }

    #[test]
    fn bad_indices_and_items_are_refused() {
        let list = Tensor::from(array![[1.0f32], [2.0]]);
        let item = Tensor::from(array![0.0f32]);
        for index in [2i64, -1] {
            let err = ListSetItem.run(&[&list, &Tensor::scalar(index), &item]).unwrap_err();
            assert!(matches!(err, OpError::Index { len: 2, .. }), "{err}");
        }
        let err = ListSetItem.run(&[&list, &Tensor::scalar(0i64), &Tensor::from(array![1i64])]).unwrap_err();
        assert!(matches!(err, OpError::DtypeMismatch { input: 2, .. }), "{err}");
        let err = ListSetItem.run(&[&list, &Tensor::scalar(0.0f32), &item]).unwrap_err();
        assert!(matches!(err, OpError::Dtype { input: 1, .. }), "{err}");
        let ty = |dtype, dims: Vec<Option<usize>>| TensorType::new(dtype, dims);
        let (f32, i64) = (DataType::F32, DataType::I64);
        assert!(ListSetItem.infer(&[ty(f32, vec![None, Some(2)]), ty(i64, vec![]), ty(f32, vec![Some(3)])]).is_err());
        assert!(ListSetItem.infer(&[ty(f32, vec![None, Some(2)]), ty(i64, vec![]), ty(i64, vec![Some(2)])]).is_err());
        assert!(ListSetItem.infer(&[ty(f32, vec![]), ty(i64, vec![]), ty(f32, vec![])]).is_err());
    }

    #[test]
    fn attributes_round_trip() {
        let node = Op::from(ListSetItem).to_node("s", vec!["l".into(), "i".into(), "x".into()]);
        assert_eq!(ListSetItem::parse(&node, &Assets::new()).unwrap(), ListSetItem);
    }

    #[cfg(feature = "grad")]
    #[test]
    fn gradient_matches_finite_differences() {
        use crate::ops::grad::{check_gradient, sample};
        check_gradient(&ListSetItem, &[sample(&[4, 2, 3], 0), Tensor::scalar(2i64), sample(&[2, 3], 1)]);
        // A reserved list took the item's shape: the item alone gets a gradient.
        let empty = Tensor::from_vec::<f32>(vec![3, 0], vec![]).unwrap();
        check_gradient(&ListSetItem, &[empty, Tensor::scalar(0i32), sample(&[2], 2)]);
    }
}
