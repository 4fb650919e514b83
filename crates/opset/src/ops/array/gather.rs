//! `Gather`.

use crate::graph::{Attr, Node};
use crate::ops::kernel::{any_dtype, around, checked_len, indices, slice};
use crate::ops::{Arity, OpDef, OpError, TensorType, normalize_axis};
use crate::{Assets, DataType, Result, Tensor};

/// The slices of `params` (any dtype) along `axis` picked by `indices` (i32
/// or i64, any shape): output shape `params.shape[..axis] ++ indices.shape
/// ++ params.shape[axis+1..]`, as TensorFlow's `GatherV2` (with
/// `batch_dims` 0), e.g. the rows of an embedding table. An index outside
/// `[0, params.shape[axis])` is an error.
///
/// Inputs: `params`, `indices`. Attribute: `axis` (an int in `[-rank,
/// rank)` of `params`; optional, 0 when absent).
///
/// Gradient: to `params`, `g` scattered back to the slices picked (summed
/// where an index repeats, zeros where none picked); none to `indices`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Gather {
    /// The axis of `params` the indices pick along.
    pub axis: i64,
}

impl OpDef for Gather {
    const NAME: &'static str = "Gather";
    const SINCE: u32 = 1;
    const INPUTS: Arity = Arity::Exactly(2);

    fn parse(node: &Node, _: &Assets) -> Result<Gather> {
        Ok(Gather { axis: if node.attrs.contains_key("axis") { node.attr_int("axis")? } else { 0 } })
    }

    /// `axis` is written only when it is not the default 0.
    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        if self.axis == 0 { Vec::new() } else { vec![("axis", Attr::Int(self.axis))] }
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        let (params, ids) = (&inputs[0], &inputs[1]);
        if !matches!(ids.dtype, DataType::I32 | DataType::I64) {
            return Err(OpError::Dtype { input: 1, expected: "i32 or i64", got: ids.dtype });
        }
        let p = params.dims();
        let axis = normalize_axis(self.axis, p.len())?;
        let dims = p[..axis].iter().chain(ids.dims()).chain(&p[axis + 1..]).copied().collect();
        Ok(TensorType::new(params.dtype, dims))
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        let (params, picks) = (inputs[0], self.picks(inputs[0].shape(), inputs[1])?);
        any_dtype!(params.dtype(), T => {
            let src = slice::<T>(params)?;
            let dst = out.output_vec::<T>(&picks.shape);
            for o in 0..picks.outer {
                for &i in &picks.ids {
                    let start = (o * picks.n + i) * picks.inner;
                    dst.extend_from_slice(&src[start..start + picks.inner]);
                }
            }
            Ok(())
        })
    }

    #[cfg(feature = "grad")]
    fn grad(&self, x: &[&Tensor], _y: &Tensor, g: &Tensor) -> crate::ops::grad::Grads {
        let p = x[0].shape();
        let picks = self.picks(p, x[1])?;
        crate::ops::grad::expect_output_shape(g, &picks.shape)?;
        let gs = slice::<f32>(g)?;
        let mut d = vec![0.0f32; x[0].len()];
        let inner = picks.inner;
        for o in 0..picks.outer {
            for (k, &i) in picks.ids.iter().enumerate() {
                let (src, dst) = ((o * picks.ids.len() + k) * inner, (o * picks.n + i) * inner);
                d[dst..dst + inner].iter_mut().zip(&gs[src..src + inner]).for_each(|(d, g)| *d += g);
            }
        }
        Ok(vec![Some(crate::ops::kernel::tensor(p, d)?), None])
    }
}

/// What a gather of `params` takes: its output's shape, and the layout of
/// `params` around the axis (`outer` blocks of `n` slices of `inner`
/// elements) with the slices picked, checked.
struct Picks {
    shape: Vec<usize>,
    outer: usize,
    n: usize,
    inner: usize,
    ids: Vec<usize>,
}

impl Gather {
    /// The picks of `indices` in params of shape `p`: the one index map the
    /// kernel (gather) and its gradient (scatter) share.
    ///
    /// # Errors
    /// [`OpError::Axis`], [`OpError::Dtype`] for indices not of i32 or i64,
    /// [`OpError::Index`] for one out of range, or [`OpError::TooLarge`].
    fn picks(&self, p: &[usize], indices_t: &Tensor) -> Result<Picks, OpError> {
        let axis = normalize_axis(self.axis, p.len())?;
        let n = p[axis];
        let ids = indices(indices_t, 1)?
            .into_iter()
            .map(|i| usize::try_from(i).ok().filter(|&i| i < n).ok_or(i))
            .collect::<Result<Vec<usize>, i64>>()
            .map_err(|index| OpError::Index { index, len: n, shape: p.to_vec() })?;
        let shape: Vec<usize> = p[..axis].iter().chain(indices_t.shape()).chain(&p[axis + 1..]).copied().collect();
        checked_len(&shape)?;
        // With a dim of 0 nothing is picked (and the dims past it may
        // multiply past usize); otherwise the blocks multiply to p's count.
        let (outer, _, inner) = if p.contains(&0) { (0, n, 0) } else { around(p, axis) };
        Ok(Picks { shape, outer, n, inner, ids })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn table() -> Tensor {
        Tensor::from(array![[0.0f32, 0.5], [1.0, 1.5], [2.0, 2.5]])
    }

    #[test]
    fn picks_rows_and_columns() {
        let out = Gather::default().run(&[&table(), &Tensor::from(array![[2i64, 0], [1, 1]])]).unwrap();
        assert_eq!(out.shape(), &[2, 2, 2]);
        assert_eq!(out.as_slice::<f32>().unwrap(), [2., 2.5, 0., 0.5, 1., 1.5, 1., 1.5]);
        let column = Gather { axis: 1 }.run(&[&table(), &Tensor::from(array![1i32])]).unwrap();
        assert_eq!(column, Tensor::from(array![[0.5f32], [1.5], [2.5]]));
    }

    #[test]
    fn attributes_round_trip() {
        for g in [Gather { axis: 0 }, Gather { axis: -1 }] {
            let node = crate::ops::Op::from(g).to_node("g", vec!["p".into(), "i".into()]);
            assert_eq!(Gather::parse(&node, &Assets::new()).unwrap(), g);
        }
    }

    #[test]
    fn bad_indices_are_refused() {
        for bad in [3i64, -1] {
            let err = Gather::default().run(&[&table(), &Tensor::from(array![bad])]).unwrap_err();
            assert!(err.to_string().contains(&format!("index {bad} is out of range")), "{err}");
        }
        let floats = Gather::default().run(&[&table(), &Tensor::from(array![0.0f32])]).unwrap_err();
        assert!(matches!(floats, OpError::Dtype { input: 1, .. }), "{floats}");
    }
}

#[cfg(all(test, feature = "grad"))]
mod grad_tests {
    use super::*;
    use crate::ops::grad::{check_gradient, sample};
    use ndarray::array;

    #[test]
    fn scatters_and_sums_repeated_picks() {
        let params = Tensor::from(array![[0.0f32, 0.0], [0.0, 0.0], [0.0, 0.0]]);
        let ids = Tensor::from(array![2i64, 0, 2]);
        let g = Tensor::from(array![[1.0f32, 2.0], [3.0, 4.0], [5.0, 6.0]]);
        let d = Gather::default().grad(&[&params, &ids], &g, &g).unwrap();
        assert_eq!(d, vec![Some(Tensor::from(array![[3.0f32, 4.0], [0.0, 0.0], [6.0, 8.0]])), None]);
    }

    #[test]
    fn agrees_with_finite_differences() {
        let ids = Tensor::from(array![[1i32, 0], [1, 2]]);
        check_gradient(&Gather { axis: 1 }, &[sample(&[2, 3, 2], 0), ids]);
    }
}
