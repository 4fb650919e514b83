//! Reverse-mode gradients over a forward pass of a [`TypedGraph`]: each op's
//! own rule ([`opset::ops::OpDef::grad`], in the op's file), chained from the
//! loss back to the variables.

use opset::ops::OpDef;
use opset::ops::math::Add;
use opset::{Tensor, TypedGraph};

use crate::Result;

/// The gradient of the scalar `loss` with respect to each node of `wrt`,
/// given `values` from a forward pass that computed `loss`. A node the loss
/// does not depend on gets zeros.
///
/// # Errors
/// [`crate::Error::Opset`] naming the node whose rule failed (e.g. a missing value).
pub fn gradients(graph: &TypedGraph, values: &[Option<Tensor>], loss: usize, wrt: &[usize]) -> Result<Vec<Tensor>> {
    let nodes = graph.nodes();
    // Which nodes depend on something in `wrt`: only those carry gradients.
    let mut reaches = vec![false; nodes.len()];
    for (i, node) in nodes.iter().enumerate() {
        reaches[i] = wrt.contains(&i) || node.inputs.iter().any(|&j| reaches[j]);
    }
    let value =
        |i: usize| values[i].as_ref().ok_or_else(|| nodes[i].error("the forward pass did not compute this node"));
    let mut grads: Vec<Option<Tensor>> = vec![None; nodes.len()];
    let seed = value(loss)?;
    grads[loss] = Some(Tensor::from_vec(seed.shape().to_vec(), vec![1.0f32; seed.len()])?);
    for i in (0..=loss).rev() {
        let Some(g) = grads[i].take() else { continue };
        let node = &nodes[i];
        if node.inputs.iter().all(|&j| !reaches[j]) {
            grads[i] = Some(g);
            continue;
        }
        let inputs = node.inputs.iter().map(|&j| value(j)).collect::<opset::Result<Vec<&Tensor>>>()?;
        let input_grads = node.op.grad(&inputs, value(i)?, &g).map_err(|e| node.op_error(e))?;
        for (&j, dj) in node.inputs.iter().zip(input_grads) {
            let Some(dj) = dj.filter(|_| reaches[j]) else { continue };
            grads[j] = Some(match grads[j].take() {
                None => dj,
                Some(acc) => Add.run(&[&acc, &dj]).map_err(|e| node.op_error(e))?,
            });
        }
        grads[i] = Some(g);
    }
    wrt.iter()
        .map(|&i| match grads[i].take() {
            Some(g) => Ok(g),
            None => {
                let v = value(i)?;
                Ok(Tensor::from_vec(v.shape().to_vec(), vec![0.0f32; v.len()])?)
            }
        })
        .collect()
}
