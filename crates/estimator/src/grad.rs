//! Reverse-mode gradients over a forward pass of a [`TypedGraph`]: each op's
//! own rule ([`opset::ops::OpDef::grad`], in the op's file), chained from the
//! loss back to the variables by [`opset::ops::grad::backprop`].

use opset::ops::grad::backprop;
use opset::{Tensor, TypedGraph};

use crate::Result;

/// The gradient of the scalar `loss` with respect to each node of `wrt`,
/// given `values` from a forward pass that computed `loss`. A node the loss
/// does not depend on gets zeros.
///
/// # Errors
/// [`crate::Error::Opset`] naming the node whose rule failed (e.g. a missing value).
pub fn gradients(graph: &TypedGraph, values: &[Option<Tensor>], loss: usize, wrt: &[usize]) -> Result<Vec<Tensor>> {
    let value = |i: usize| {
        values
            .get(i)
            .and_then(Option::as_ref)
            .ok_or_else(|| graph.nodes()[i].error("the forward pass did not compute this node"))
    };
    let seed = value(loss)?;
    let seed = Tensor::from_vec(seed.shape().to_vec(), vec![1.0f32; seed.len()])?;
    let grads = backprop(graph, values, vec![(loss, seed)], wrt)?;
    wrt.iter()
        .zip(grads)
        .map(|(&i, g)| match g {
            Some(g) => Ok(g),
            None => {
                let v = value(i)?;
                Ok(Tensor::from_vec(v.shape().to_vec(), vec![0.0f32; v.len()])?)
            }
        })
        .collect()
}
