//! `TileBy`.

use crate::graph::{Attr, Node};
use crate::ops::kernel::indices;
use crate::ops::{Arity, OpDef, OpError, TensorType};
use crate::{Assets, DataType, Result, Tensor};

/// `x` (any dtype) tiled by `multiples` computed at run time: [`super::Tile`]
/// with its multiples as an input, so the output's dims are unknown until
/// then. TensorFlow's `Tile` with a computed multiples tensor.
///
/// Inputs: `x`, and `multiples` (i32 or i64 `[rank of x]`, each >= 0).
///
/// Gradient: to `x`, the sum of `g` over the copies of each element; none
/// to `multiples`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TileBy;

impl OpDef for TileBy {
    const NAME: &'static str = "TileBy";
    const SINCE: u32 = 3;
    const INPUTS: Arity = Arity::Exactly(2);
    const SHAPE_FROM_VALUES: bool = true;

    fn parse(_: &Node, _: &Assets) -> Result<TileBy> {
        Ok(TileBy)
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        Vec::new()
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        let (x, multiples) = (&inputs[0], &inputs[1]);
        if !matches!(multiples.dtype, DataType::I32 | DataType::I64) {
            return Err(OpError::Dtype { input: 1, expected: "i32 or i64", got: multiples.dtype });
        }
        let rank = x.dims().len();
        match multiples.dims() {
            [n] if n.is_none_or(|n| n == rank) => Ok(TensorType::new(x.dtype, vec![None; rank])),
            [_] => Err(OpError::shape(format!("multiples {} for an input of rank {rank}", multiples.shape))),
            _ => Err(OpError::shape(format!(
                "multiples must be an i32 or i64 vector, got {} {}",
                multiples.dtype, multiples.shape
            ))),
        }
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        super::tile::tile(inputs[0], &multiples(inputs[1])?, out)
    }

    #[cfg(feature = "grad")]
    fn grad(&self, x: &[&Tensor], _y: &Tensor, g: &Tensor) -> crate::ops::grad::Grads {
        Ok(vec![Some(crate::ops::grad::untile(x[0].shape(), &multiples(x[1])?, g)?), None])
    }
}

/// The multiples of a run-time tile.
///
/// # Errors
/// [`OpError::Dtype`] for a tensor not of i32 or i64, [`OpError::Invalid`]
/// for a negative multiple.
fn multiples(t: &Tensor) -> Result<Vec<usize>, OpError> {
    let ints = indices(t, 1)?;
    ints.iter()
        .map(|&m| usize::try_from(m))
        .collect::<Result<_, _>>()
        .map_err(|_| OpError::Invalid { what: "multiples", reason: format!("{ints:?} must all be >= 0") })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn tiles_by_run_time_multiples() {
        let x = Tensor::from(array![[1i64, -2, 3]]);
        let y = TileBy.run(&[&x, &Tensor::from(array![2i32, 1])]).unwrap();
        assert_eq!(y, Tensor::from(array![[1i64, -2, 3], [1, -2, 3]]));
        let ty = TileBy.infer(&[
            TensorType::new(DataType::I64, vec![Some(1), Some(3)]),
            TensorType::new(DataType::I32, vec![Some(2)]),
        ]);
        assert_eq!(ty.unwrap(), TensorType::new(DataType::I64, vec![None, None]));
    }

    #[test]
    fn bad_multiples_are_refused() {
        let x = Tensor::from(array![[1i64, -2, 3]]);
        let err = TileBy.run(&[&x, &Tensor::from(array![-1i64, 1])]).unwrap_err();
        assert!(err.to_string().contains(">= 0"), "{err}");
        let x_ty = TensorType::new(DataType::I64, vec![Some(1), Some(3)]);
        let wrong_rank = TileBy.infer(&[x_ty.clone(), TensorType::new(DataType::I64, vec![Some(3)])]);
        assert!(wrong_rank.is_err());
        let floats = TileBy.infer(&[x_ty, TensorType::new(DataType::F32, vec![Some(2)])]);
        assert!(matches!(floats, Err(OpError::Dtype { input: 1, .. })), "{floats:?}");
    }
}

#[cfg(all(test, feature = "grad"))]
mod grad_tests {
    use super::*;
    use crate::ops::grad::{check_gradient, sample};
    use ndarray::array;

    #[test]
    fn sums_the_copies_and_nothing_flows_to_the_multiples() {
        let x = Tensor::from(array![1.0f32, 2.0]);
        let m = Tensor::from(array![3i64]);
        let g = Tensor::from(array![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let d = TileBy.grad(&[&x, &m], &g, &g).unwrap();
        assert_eq!(d, vec![Some(Tensor::from(array![9.0f32, 12.0])), None]);
    }

    #[test]
    fn agrees_with_finite_differences() {
        check_gradient(&TileBy, &[sample(&[3, 2], 0), Tensor::from(array![2i32, 3])]);
    }
}
