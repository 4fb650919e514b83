//! `ListScatter`.

use crate::graph::{Attr, Node};
use crate::ops::kernel::{any_dtype, checked_len, indices, slice};
use crate::ops::rule::{same_dtype, unify};
use crate::ops::{Arity, OpDef, OpError, TensorType};
use crate::tensor::Element;
use crate::{Assets, DataType, Result, Tensor};

/// A tensor list with row `indices[i]` replaced by `value[i]` for each `i`:
/// TensorFlow's `TensorArrayScatterV3` (`TensorArray.scatter`, and
/// `TensorArray.unstack`, which scatters to `0..k`), on a list held as a
/// dense tensor `[n, element dims...]` (see [`super::ListReserve`]).
///
/// Inputs: `list` (`[n, e...]`, any dtype), `indices` (i32 or i64 `[k]`,
/// each in `0..n`, none twice: a TensorArray refuses a row written twice),
/// `value` (`[k, e...]`, the list's dtype). The output is the list with
/// those rows replaced. A list with no element yet (an element dim still 0:
/// reserved, nothing set) takes the value's element shape in those dims,
/// its other rows zero-filled (`""`, false), as [`super::ListSetItem`]
/// does; otherwise each row of `value` must have the list's element shape.
///
/// Gradient: to `list`, `g` with the rows scattered to zeroed (all zeros
/// when the list took the value's shape); to `value`, the rows of `g` at
/// `indices`; none to `indices` (nor at all when the list is not f32).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListScatter;

impl OpDef for ListScatter {
    const NAME: &'static str = "ListScatter";
    const SINCE: u32 = 5;
    const INPUTS: Arity = Arity::Exactly(3);

    fn parse(_: &Node, _: &Assets) -> Result<ListScatter> {
        Ok(ListScatter)
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        Vec::new()
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        let (list, ids, value) = (&inputs[0], &inputs[1], &inputs[2]);
        if !matches!(ids.dtype, DataType::I32 | DataType::I64) {
            return Err(OpError::Dtype { input: 1, expected: "i32 or i64", got: ids.dtype });
        }
        same_dtype(inputs, 2, 0)?;
        let disagree =
            || OpError::shape(format!("indices {} and a value {} for a list {}", ids.shape, value.shape, list.shape));
        let (Some((&n, elem)), [k], Some((&rows, items))) =
            (list.dims().split_first(), ids.dims(), value.dims().split_first())
        else {
            return Err(disagree());
        };
        if elem.len() != items.len() || unify(*k, rows).is_none() {
            return Err(disagree());
        }
        let elem = elem.iter().zip(items).map(|(&e, &i)| unify(e, i)).collect::<Option<Vec<_>>>();
        let elem = elem.ok_or_else(disagree)?;
        Ok(TensorType::new(list.dtype, std::iter::once(n).chain(elem).collect()))
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        let (list, value) = (inputs[0], inputs[2]);
        if value.dtype() != list.dtype() {
            return Err(OpError::DtypeMismatch { input: 2, got: value.dtype(), other: 0, expected: list.dtype() });
        }
        let (rows, adopt) = locate(list, inputs[1], value)?;
        any_dtype!(list.dtype(), T => scatter::<T>(list, &rows, value, adopt, out))
    }

    #[cfg(feature = "grad")]
    fn grad(&self, x: &[&Tensor], _y: &Tensor, g: &Tensor) -> crate::ops::grad::Grads {
        use crate::ops::grad::zeros;
        use crate::ops::kernel::tensor;
        let (list, value) = (x[0], x[2]);
        if list.dtype() != DataType::F32 {
            return Ok(vec![None, None, None]);
        }
        let (rows, adopt) = locate(list, x[1], value)?;
        let m = value.shape()[1..].iter().product::<usize>();
        let gs = slice::<f32>(g)?;
        let n = list.shape()[0];
        if gs.len() != n * m {
            return Err(OpError::shape(format!(
                "a gradient of shape {:?} for a list of {n} items of shape {:?}",
                g.shape(),
                &value.shape()[1..]
            )));
        }
        let mut dvalue = Vec::with_capacity(rows.len() * m);
        for &r in &rows {
            dvalue.extend_from_slice(&gs[r * m..(r + 1) * m]);
        }
        // A list that took the value's shape had no element: nothing flows back to it.
        let dlist = if adopt {
            zeros(list.shape())?
        } else {
            let mut d = gs.to_vec();
            for &r in &rows {
                d[r * m..(r + 1) * m].fill(0.0);
            }
            tensor(list.shape(), d)?
        };
        Ok(vec![Some(dlist), None, Some(tensor(value.shape(), dvalue)?)])
    }
}

/// The rows `indices` names in `list` (checked: each in range, none twice,
/// one per row of `value`), and whether the list takes the shape of
/// `value`'s rows (it has no element yet).
fn locate(list: &Tensor, indices_t: &Tensor, value: &Tensor) -> Result<(Vec<usize>, bool), OpError> {
    let disagree = || {
        OpError::shape(format!(
            "indices of shape {:?} and a value of shape {:?} for a list of shape {:?}",
            indices_t.shape(),
            value.shape(),
            list.shape()
        ))
    };
    let (Some((&n, elem)), Some((&k, item))) = (list.shape().split_first(), value.shape().split_first()) else {
        return Err(disagree());
    };
    let ids = indices(indices_t, 1)?;
    if indices_t.shape().len() != 1 || ids.len() != k || elem.len() != item.len() {
        return Err(disagree());
    }
    let adopt = elem != item;
    if adopt && !(elem.contains(&0) && elem.iter().zip(item).all(|(&e, &i)| e == 0 || e == i)) {
        return Err(disagree());
    }
    // Repeated rows found by sorting the rows (not a flag per list row: a
    // list may be long and hold no element yet).
    let mut rows = Vec::with_capacity(k);
    for index in ids {
        let row = usize::try_from(index).ok().filter(|&i| i < n).ok_or_else(|| OpError::Index {
            index,
            len: n,
            shape: list.shape().to_vec(),
        })?;
        rows.push(row);
    }
    let mut sorted = rows.clone();
    sorted.sort_unstable();
    if let Some(pair) = sorted.windows(2).find(|pair| pair[0] == pair[1]) {
        return Err(OpError::Invalid { what: "indices", reason: format!("row {} is scattered to twice", pair[0]) });
    }
    Ok((rows, adopt))
}

/// The kernel for elements of `T`: `list` with `rows` set to the rows of
/// `value`, the list first reshaped to hold items of their shape when `adopt`.
fn scatter<T: Element>(
    list: &Tensor,
    rows: &[usize],
    value: &Tensor,
    adopt: bool,
    out: &mut Tensor,
) -> Result<(), OpError> {
    let shape: Vec<usize> = std::iter::once(list.shape()[0]).chain(value.shape()[1..].iter().copied()).collect();
    let len = checked_len(&shape)?;
    let (src, v) = (slice::<T>(list)?, slice::<T>(value)?);
    let m = value.shape()[1..].iter().product::<usize>();
    let dst = out.output_vec::<T>(&shape);
    if adopt {
        dst.resize(len, T::default());
    } else {
        dst.extend_from_slice(src);
    }
    for (k, &row) in rows.iter().enumerate() {
        dst[row * m..(row + 1) * m].clone_from_slice(&v[k * m..(k + 1) * m]);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Shape;
    use crate::ops::Op;
    use crate::ops::array::ListReserve;
    use ndarray::array;

    #[test]
    fn sets_the_rows_named() {
        let list = Tensor::from(array![[1.0f32, 2.0], [3.0, 4.0], [5.0, 6.0]]);
        let value = Tensor::from(array![[7.0f32, 8.0], [9.0, 10.0]]);
        let y = ListScatter.run(&[&list, &Tensor::from(array![2i32, 0]), &value]).unwrap();
        assert_eq!(y, Tensor::from(array![[9.0f32, 10.0], [3.0, 4.0], [7.0, 8.0]]));
        let words = Tensor::from(array!["a", "b"].mapv(String::from));
        let y = ListScatter.run(&[&words, &Tensor::from(array![1i64]), &Tensor::from(array!["z"].mapv(String::from))]);
        assert_eq!(y.unwrap(), Tensor::from(array!["a", "z"].mapv(String::from)));
    }

    #[test]
    fn a_reserved_list_takes_the_shape_of_the_rows_scattered() {
        // TensorArray.unstack of a [time, batch, features] tensor.
        let reserve = ListReserve { element_dtype: DataType::F32, element_shape: Shape(vec![None, Some(2)]) };
        let list = reserve.run(&[&Tensor::scalar(3i32)]).unwrap();
        assert_eq!(list.shape(), &[3, 0, 2]);
        let value = Tensor::from(array![[[1.0f32, 2.0]], [[3.0, 4.0]]]);
        let y = ListScatter.run(&[&list, &Tensor::from(array![0i32, 1]), &value]).unwrap();
        assert_eq!(y, Tensor::from(array![[[1.0f32, 2.0]], [[3.0, 4.0]], [[0.0, 0.0]]]));
        // The reserved list's known dims hold.
        let wide = Tensor::from(array![[[1.0f32, 2.0, 3.0]]]);
        let err = ListScatter.run(&[&list, &Tensor::from(array![0i32]), &wide]).unwrap_err();
        assert!(matches!(err, OpError::Shape(_)), "{err}");
        let ty = |dtype, dims: Vec<Option<usize>>| TensorType::new(dtype, dims);
        let out = ListScatter.infer(&[
            ty(DataType::F32, vec![None, None, Some(2)]),
            ty(DataType::I32, vec![None]),
            ty(DataType::F32, vec![None, Some(4), Some(2)]),
        ]);
        assert_eq!(out.unwrap(), ty(DataType::F32, vec![None, Some(4), Some(2)]));
    }

    #[test]
    fn bad_indices_and_values_are_refused() {
        let list = Tensor::from(array![[1.0f32], [2.0]]);
        let one = Tensor::from(array![[0.0f32]]);
        for index in [2i64, -1] {
            let err = ListScatter.run(&[&list, &Tensor::from(array![index]), &one]).unwrap_err();
            assert!(matches!(err, OpError::Index { len: 2, .. }), "{err}");
        }
        let two = Tensor::from(array![[0.0f32], [1.0]]);
        let err = ListScatter.run(&[&list, &Tensor::from(array![1i64, 1]), &two]).unwrap_err().to_string();
        assert!(err.contains("row 1 is scattered to twice"), "{err}");
        let err = ListScatter.run(&[&list, &Tensor::from(array![0i64]), &two]).unwrap_err();
        assert!(matches!(err, OpError::Shape(_)), "{err}");
        let err = ListScatter.run(&[&list, &Tensor::from(array![0i64]), &Tensor::from(array![[1i64]])]).unwrap_err();
        assert!(matches!(err, OpError::DtypeMismatch { input: 2, .. }), "{err}");
        let err = ListScatter.run(&[&list, &Tensor::from(array![0.0f32]), &one]).unwrap_err();
        assert!(matches!(err, OpError::Dtype { input: 1, .. }), "{err}");
        let ty = |dtype, dims: Vec<Option<usize>>| TensorType::new(dtype, dims);
        let (f32, i64) = (DataType::F32, DataType::I64);
        let infer = |list, ids, value| ListScatter.infer(&[ty(f32, list), ty(i64, ids), ty(f32, value)]);
        assert!(infer(vec![None, Some(2)], vec![Some(3)], vec![Some(2), Some(2)]).is_err());
        assert!(infer(vec![None, Some(2)], vec![None], vec![Some(2), Some(3)]).is_err());
        assert!(infer(vec![None, Some(2)], vec![], vec![Some(2)]).is_err());
        assert!(infer(vec![], vec![Some(1)], vec![Some(1)]).is_err());
    }

    #[test]
    fn attributes_round_trip() {
        let node = Op::from(ListScatter).to_node("s", vec!["l".into(), "i".into(), "v".into()]);
        assert_eq!(ListScatter::parse(&node, &Assets::new()).unwrap(), ListScatter);
    }

    #[cfg(feature = "grad")]
    #[test]
    fn gradient_matches_finite_differences() {
        use crate::ops::grad::{check_gradient, sample};
        check_gradient(&ListScatter, &[sample(&[4, 2, 3], 0), Tensor::from(array![3i64, 0]), sample(&[2, 2, 3], 1)]);
        // A reserved list took the value's shape: the value alone gets a gradient.
        let empty = Tensor::from_vec::<f32>(vec![3, 0], vec![]).unwrap();
        check_gradient(&ListScatter, &[empty, Tensor::from(array![2i32, 1]), sample(&[2, 2], 2)]);
    }
}
