//! `Einsum` of two f32 operands as a batched matrix product: labels only
//! one input has (and the output lacks) are summed first, then both inputs
//! are transposed to `[batch, kept, contracted]` and `[batch, contracted,
//! kept]`, multiplied batch by batch, and the product transposed to the
//! output's order.

use ndarray::{ArrayView2, ArrayViewMut2};

use super::math::reduce;
use super::shape::transpose;
use super::{KResult, checked_len, slice};
use crate::Tensor;
use crate::ops::ReduceOp;
pub(super) use crate::ops::einsum::Equation;

pub(super) fn einsum(eq: &Equation, a: &Tensor, b: &Tensor, out: &mut Tensor) -> KResult {
    let mut sizes = [None::<usize>; 128];
    for (labels, t, i) in [(&eq.a, a, 0), (&eq.b, b, 1)] {
        if labels.len() != t.shape().len() {
            return Err(format!("input {i} has shape {:?}, the equation {} labels", t.shape(), labels.len()));
        }
        for (&l, &d) in labels.iter().zip(t.shape()) {
            match sizes[usize::from(l)] {
                Some(e) if e != d => {
                    return Err(format!("label {:?} is {e} in one input and {d} in input {i}", char::from(l)));
                }
                _ => sizes[usize::from(l)] = Some(d),
            }
        }
    }
    let size = |l: &u8| sizes[usize::from(*l)].unwrap_or(1);
    let in_out = |l: &u8| eq.out.contains(l);
    let batch: Vec<u8> = eq.out.iter().filter(|l| eq.a.contains(l) && eq.b.contains(l)).copied().collect();
    let contracted: Vec<u8> = eq.a.iter().filter(|l| eq.b.contains(l) && !in_out(l)).copied().collect();
    let a_kept: Vec<u8> = eq.out.iter().filter(|l| eq.a.contains(l) && !eq.b.contains(l)).copied().collect();
    let b_kept: Vec<u8> = eq.out.iter().filter(|l| eq.b.contains(l) && !eq.a.contains(l)).copied().collect();
    let lhs = arrange(a, &eq.a, &eq.b, &eq.out, [&batch, &a_kept, &contracted])?;
    let rhs = arrange(b, &eq.b, &eq.a, &eq.out, [&batch, &contracted, &b_kept])?;
    let count = |labels: &[u8]| labels.iter().map(size).product::<usize>();
    let (nb, m, k, n) = (count(&batch), count(&a_kept), count(&contracted), count(&b_kept));
    let (ls, rs) = (slice::<f32>(&lhs)?, slice::<f32>(&rhs)?);
    // The product, labelled batch ++ a_kept ++ b_kept.
    let product_labels: Vec<u8> = [&batch[..], &a_kept, &b_kept].concat();
    let product_shape: Vec<usize> = product_labels.iter().map(size).collect();
    let mut product = Tensor::empty(crate::DataType::F32);
    let dst = product.output_slice::<f32>(&product_shape);
    if dst.len() != checked_len(&[nb, m, n])? || ls.len() != nb * m * k || rs.len() != nb * k * n {
        return Err("einsum: buffers do not match the labels' sizes".into());
    }
    for i in 0..nb {
        let l = ArrayView2::from_shape((m, k), &ls[i * m * k..(i + 1) * m * k]).map_err(|e| e.to_string())?;
        let r = ArrayView2::from_shape((k, n), &rs[i * k * n..(i + 1) * k * n]).map_err(|e| e.to_string())?;
        let mut o =
            ArrayViewMut2::from_shape((m, n), &mut dst[i * m * n..(i + 1) * m * n]).map_err(|e| e.to_string())?;
        ndarray::linalg::general_mat_mul(1.0, &l, &r, 0.0, &mut o);
    }
    let perm: Vec<usize> = eq.out.iter().filter_map(|l| product_labels.iter().position(|p| p == l)).collect();
    transpose::<f32>(&product, &perm, out)
}

/// `t` (labelled `own`) with the labels neither `other` nor `out` has
/// summed away, then transposed to the order of `groups`.
fn arrange(t: &Tensor, own: &[u8], other: &[u8], out: &[u8], groups: [&[u8]; 3]) -> Result<Tensor, String> {
    let alone: Vec<i64> =
        (0..own.len()).filter(|&i| !other.contains(&own[i]) && !out.contains(&own[i])).map(|i| i as i64).collect();
    let (summed, labels) = if alone.is_empty() {
        (t.clone(), own.to_vec())
    } else {
        let mut summed = Tensor::empty(crate::DataType::F32);
        reduce::<f32>(ReduceOp::Sum, t, &alone, false, &mut summed)?;
        (summed, own.iter().enumerate().filter(|(i, _)| !alone.contains(&(*i as i64))).map(|(_, &l)| l).collect())
    };
    let perm: Vec<usize> = groups.concat().iter().filter_map(|l| labels.iter().position(|p| p == l)).collect();
    if perm.len() != labels.len() {
        return Err("einsum: a label has no place in the product".into());
    }
    let mut arranged = Tensor::empty(crate::DataType::F32);
    transpose::<f32>(&summed, &perm, &mut arranged)?;
    Ok(arranged)
}
