//! `GatherNd`.

use crate::graph::{Attr, Node};
use crate::ops::kernel::{any_dtype, checked_len, indices, slice};
use crate::ops::{Arity, OpDef, OpError, TensorType};
use crate::{Assets, DataType, Result, Tensor};

/// The slices of `params` (any dtype) picked by index tuples: TensorFlow's
/// `GatherNd` (`tf.gather_nd`, `batch_dims` 0). `indices` (i32 or i64) has
/// shape `[..., k]`, each of its last-dim rows `(i_0, ..., i_{k-1})`
/// picking the slice `params[i_0, ..., i_{k-1}]` (of shape
/// `params.shape[k..]`); the output's shape is `indices.shape[..-1] ++
/// params.shape[k..]`. E.g. `indices = [[0, 2], [1, 0]]` on a matrix picks
/// the elements `params[0, 2]` and `params[1, 0]`; `indices = [[1]]` picks
/// row 1 as `[1, cols]`.
///
/// Inputs: `params` (rank >= `k`), `indices` (rank >= 1, its last dim `k`
/// known and at most `params`' rank). An index outside its dim (negative
/// included) is an error, as on TensorFlow's CPU.
///
/// Gradient: to `params`, `g` scattered back to the slices picked (summed
/// where a tuple repeats, zeros where none picked); none to `indices`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GatherNd;

impl OpDef for GatherNd {
    const NAME: &'static str = "GatherNd";
    const SINCE: u32 = 5;
    const INPUTS: Arity = Arity::Exactly(2);

    fn parse(_: &Node, _: &Assets) -> Result<GatherNd> {
        Ok(GatherNd)
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        Vec::new()
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        let (params, ids) = (&inputs[0], &inputs[1]);
        if !matches!(ids.dtype, DataType::I32 | DataType::I64) {
            return Err(OpError::Dtype { input: 1, expected: "i32 or i64", got: ids.dtype });
        }
        let Some((&k, batch)) = ids.dims().split_last() else {
            return Err(OpError::shape("indices is a scalar: expected rank >= 1 ([..., k])"));
        };
        let k = k.ok_or_else(|| OpError::shape(format!("indices {}: its last dim must be known", ids.shape)))?;
        let p = params.dims();
        if k > p.len() {
            return Err(OpError::shape(format!("indices {} index {k} dims of params {}", ids.shape, params.shape)));
        }
        Ok(TensorType::new(params.dtype, batch.iter().chain(&p[k..]).copied().collect()))
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        let (params, picks) = (inputs[0], picks(inputs[0].shape(), inputs[1])?);
        any_dtype!(params.dtype(), T => {
            let src = slice::<T>(params)?;
            let dst = out.output_vec::<T>(&picks.shape);
            for &start in &picks.starts {
                dst.extend_from_slice(&src[start..start + picks.inner]);
            }
            Ok(())
        })
    }

    #[cfg(feature = "grad")]
    fn grad(&self, x: &[&Tensor], _y: &Tensor, g: &Tensor) -> crate::ops::grad::Grads {
        let p = x[0].shape();
        let picks = picks(p, x[1])?;
        crate::ops::grad::expect_output_shape(g, &picks.shape)?;
        let gs = slice::<f32>(g)?;
        let mut d = vec![0.0f32; x[0].len()];
        let inner = picks.inner;
        for (k, &start) in picks.starts.iter().enumerate() {
            let src = &gs[k * inner..(k + 1) * inner];
            d[start..start + inner].iter_mut().zip(src).for_each(|(d, g)| *d += g);
        }
        Ok(vec![Some(crate::ops::kernel::tensor(p, d)?), None])
    }
}

/// What a gather of params of shape `p` by `indices` takes: the output's
/// shape, the size of each slice picked and where each starts in params.
struct Picks {
    shape: Vec<usize>,
    inner: usize,
    starts: Vec<usize>,
}

/// The slices `indices_t` picks in params of shape `p`, checked: the one
/// index map the kernel (gather) and its gradient (scatter) share.
///
/// # Errors
/// [`OpError::Dtype`] for indices not of i32 or i64, [`OpError::Shape`] for
/// an index depth past params' rank, [`OpError::Index`] for an index out of
/// its dim, or [`OpError::TooLarge`].
fn picks(p: &[usize], indices_t: &Tensor) -> Result<Picks, OpError> {
    let ids = indices(indices_t, 1)?;
    let Some((&k, batch)) = indices_t.shape().split_last() else {
        return Err(OpError::shape("indices is a scalar: expected rank >= 1 ([..., k])"));
    };
    if k > p.len() {
        return Err(OpError::shape(format!(
            "indices of shape {:?} index {k} dims of params of shape {p:?}",
            indices_t.shape()
        )));
    }
    let shape: Vec<usize> = batch.iter().chain(&p[k..]).copied().collect();
    checked_len(&shape)?;
    let inner = if p.contains(&0) { 0 } else { p[k..].iter().product() };
    // Strides of the indexed dims, in elements.
    let mut strides = vec![inner; k];
    for d in (0..k.saturating_sub(1)).rev() {
        strides[d] = strides[d + 1].saturating_mul(p[d + 1]);
    }
    let count = match ids.len().checked_div(k) {
        Some(count) => count,
        None => checked_len(batch)?,
    };
    if checked_len(&shape)? == 0 {
        // Nothing to gather (however many index tuples an empty slice has).
        return Ok(Picks { shape, inner, starts: Vec::new() });
    }
    let mut starts = Vec::with_capacity(count);
    for t in 0..count {
        let tuple = &ids[t * k..(t + 1) * k];
        let mut start = 0usize;
        for (d, &i) in tuple.iter().enumerate() {
            let i = usize::try_from(i).ok().filter(|&i| i < p[d]).ok_or(OpError::Index {
                index: i,
                len: p[d],
                shape: p.to_vec(),
            })?;
            start += i * strides[d];
        }
        starts.push(start);
    }
    Ok(Picks { shape, inner, starts })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Op;
    use ndarray::array;

    fn matrix() -> Tensor {
        Tensor::from(array![[0i32, 1, 2], [10, 11, 12]])
    }

    #[test]
    fn picks_elements_rows_and_batches() {
        // tf.gather_nd([[0, 1, 2], [10, 11, 12]], [[0, 2], [1, 0]]) == [2, 10]
        let y = GatherNd.run(&[&matrix(), &Tensor::from(array![[0i64, 2], [1, 0]])]).unwrap();
        assert_eq!(y, Tensor::from(array![2i32, 10]));
        // Whole rows, batched: [[[1]], [[0]]] -> [2, 1, 3].
        let y = GatherNd.run(&[&matrix(), &Tensor::from(array![[[1i32]], [[0]]])]).unwrap();
        assert_eq!(y, Tensor::from(array![[[10i32, 11, 12]], [[0, 1, 2]]]));
        // A depth of 0 picks params whole, once per tuple.
        let none = Tensor::from_vec::<i64>(vec![2, 0], vec![]).unwrap();
        let y = GatherNd.run(&[&matrix(), &none]).unwrap();
        assert_eq!(y.shape(), &[2, 2, 3]);
        // What the CRF backtrack does: each sequence's tag in its row.
        let back = Tensor::from(array![[4.0f32, 3.0], [2.0, 1.0]]);
        let y = GatherNd.run(&[&back, &Tensor::from(array![[0i32, 1], [1, 0]])]).unwrap();
        assert_eq!(y, Tensor::from(array![3.0f32, 2.0]));
    }

    #[test]
    fn bad_indices_are_refused() {
        for (bad, len) in [([0i64, 3], 3), ([2, 0], 2), ([0, -1], 3)] {
            let err = GatherNd.run(&[&matrix(), &Tensor::from(ndarray::Array2::from(vec![bad]))]).unwrap_err();
            assert_eq!(err, OpError::Index { index: if bad[0] == 2 { 2 } else { bad[1] }, len, shape: vec![2, 3] });
        }
        let deep = GatherNd.run(&[&matrix(), &Tensor::from(array![[0i64, 0, 0]])]).unwrap_err();
        assert!(deep.to_string().contains("index 3 dims"), "{deep}");
        let scalar = GatherNd.run(&[&matrix(), &Tensor::scalar(0i64)]).unwrap_err();
        assert!(matches!(scalar, OpError::Shape(_)), "{scalar}");
        let floats = GatherNd.run(&[&matrix(), &Tensor::from(array![[0.0f32]])]).unwrap_err();
        assert!(matches!(floats, OpError::Dtype { input: 1, .. }), "{floats}");
    }

    #[test]
    fn the_output_type_follows_the_index_depth() {
        let ty = |dtype, dims: Vec<Option<usize>>| TensorType::new(dtype, dims);
        let params = ty(DataType::F32, vec![None, Some(5), Some(7)]);
        let out = GatherNd.infer(&[params.clone(), ty(DataType::I32, vec![None, Some(2)])]).unwrap();
        assert_eq!(out, ty(DataType::F32, vec![None, Some(7)]));
        let unknown_depth = GatherNd.infer(&[params.clone(), ty(DataType::I32, vec![Some(4), None])]);
        assert!(unknown_depth.unwrap_err().to_string().contains("last dim must be known"));
        let one = GatherNd.infer(&[params.clone(), ty(DataType::I64, vec![Some(2)])]).unwrap();
        assert_eq!(one, ty(DataType::F32, vec![Some(7)]));
        assert!(GatherNd.infer(&[params, ty(DataType::I64, vec![Some(4)])]).is_err());
        let too_deep = GatherNd.infer(&[ty(DataType::F32, vec![Some(2)]), ty(DataType::I64, vec![Some(1), Some(2)])]);
        assert!(matches!(too_deep, Err(OpError::Shape(_))));
    }

    #[test]
    fn attributes_round_trip() {
        let node = Op::from(GatherNd).to_node("g", vec!["p".into(), "i".into()]);
        assert_eq!(GatherNd::parse(&node, &Assets::new()).unwrap(), GatherNd);
    }

    #[cfg(feature = "grad")]
    #[test]
    fn gradient_matches_finite_differences() {
        use crate::ops::grad::{check_gradient, sample};
        // Element picks, one repeated.
        check_gradient(&GatherNd, &[sample(&[3, 4], 0), Tensor::from(array![[2i64, 1], [0, 3], [2, 1]])]);
        // Row picks.
        check_gradient(&GatherNd, &[sample(&[3, 2, 2], 1), Tensor::from(array![[[1i32], [2]], [[1], [1]]])]);
        let params = Tensor::from(array![[0.0f32, 0.0], [0.0, 0.0]]);
        let ids = Tensor::from(array![[1i64, 0], [1, 0]]);
        let g = Tensor::from(array![1.0f32, 2.0]);
        let d = GatherNd.grad(&[&params, &ids], &g, &g).unwrap();
        assert_eq!(d, vec![Some(Tensor::from(array![[0.0f32, 0.0], [3.0, 0.0]])), None]);
    }
}
