//! What gradient rules share (feature `grad`): each rule is computed with
//! the ops' own reference kernels wherever it is itself an op, so forward
//! and backward share semantics.

use super::kernel::{slice, tensor};
use super::math::{Add, ReduceSum};
use super::{OpDef, OpError};
use crate::{Tensor, TypedGraph};

/// What [`OpDef::grad`] returns: one gradient per input, `None` where none flows.
pub type Grads = Result<Vec<Option<Tensor>>, OpError>;

/// `t` with another shape of the same size.
///
/// # Errors
/// [`OpError::Tensor`] if the sizes differ.
pub fn reshape(t: Tensor, shape: &[usize]) -> Result<Tensor, OpError> {
    Ok(t.reshape(shape)?)
}

/// f32 zeros of `shape`.
///
/// # Errors
/// [`OpError::Tensor`] never in practice (the count matches the shape).
pub fn zeros(shape: &[usize]) -> Result<Tensor, OpError> {
    tensor(shape, vec![0.0f32; shape.iter().product()])
}

/// Elementwise `f(g, x, y)` over three f32 tensors of one shape: the
/// gradient of an elementwise function from its input `x` and output `y`.
///
/// # Errors
/// [`OpError::Tensor`] if a tensor is not f32.
pub fn pointwise(g: &Tensor, x: &Tensor, y: &Tensor, f: impl Fn(f32, f32, f32) -> f32) -> Result<Tensor, OpError> {
    let (gs, xs, ys) = (slice::<f32>(g)?, slice::<f32>(x)?, slice::<f32>(y)?);
    let v = gs.iter().zip(xs).zip(ys).map(|((&g, &x), &y)| f(g, x, y)).collect();
    tensor(g.shape(), v)
}

/// Checks that the gradient `g` has the shape of the op's output.
///
/// # Errors
/// [`OpError::Shape`] naming both shapes.
pub fn expect_output_shape(g: &Tensor, output: &[usize]) -> Result<(), OpError> {
    if g.shape() == output {
        return Ok(());
    }
    Err(OpError::shape(format!("a gradient of shape {:?} for an output of {output:?}", g.shape())))
}

/// Sums `g` down to `shape`, undoing NumPy broadcasting.
///
/// # Errors
/// [`OpError::Shape`] if `g` does not broadcast from `shape`.
pub fn unbroadcast(g: Tensor, shape: &[usize]) -> Result<Tensor, OpError> {
    if g.shape() == shape {
        return Ok(g);
    }
    let lead = g.shape().len().checked_sub(shape.len()).ok_or_else(|| {
        OpError::shape(format!("a gradient of shape {:?} for an input of shape {shape:?}", g.shape()))
    })?;
    let axes: Vec<i64> = (0..g.shape().len())
        .filter(|&d| d < lead || (shape[d - lead] == 1 && g.shape()[d] != 1))
        .map(|d| d as i64)
        .collect();
    let summed = ReduceSum { axes, keep_dims: false }.run(&[&g])?;
    reshape(summed, shape)
}

/// Sums the gradient of a tile back onto the tiled input of shape `s`:
/// output dim d is (t, i) with t < m_d, i < s_d, so reshape to
/// [m0, s0, m1, s1, ...] and sum the m axes.
///
/// # Errors
/// [`OpError::Tensor`] if `g` is not `s` tiled by `multiples`.
pub fn untile(s: &[usize], multiples: &[usize], g: &Tensor) -> Result<Tensor, OpError> {
    let interleaved: Vec<usize> = s.iter().zip(multiples).flat_map(|(&s, &m)| [m, s]).collect();
    let axes = (0..s.len()).map(|d| 2 * d as i64).collect();
    let g = reshape(g.clone(), &interleaved)?;
    ReduceSum { axes, keep_dims: false }.run(&[&g])
}

/// Reverse-mode gradients through a graph: from `seeds` (a node and the
/// gradient of the loss with respect to its value; seeds on one node add
/// up) back to each node of `wrt`, each op's own rule ([`OpDef::grad`])
/// chained over `values`, a forward pass that computed the seeds. `None`
/// for a node of `wrt` no gradient reaches. Nodes are in the graph's order
/// (inputs first), as [`TypedGraph`] keeps them.
///
/// # Errors
/// [`crate::Error::Node`] naming the node whose value is missing or whose
/// rule failed.
pub fn backprop(
    graph: &TypedGraph,
    values: &[Option<Tensor>],
    seeds: Vec<(usize, Tensor)>,
    wrt: &[usize],
) -> crate::Result<Vec<Option<Tensor>>> {
    let nodes = graph.nodes();
    let Some(last) = seeds.iter().map(|&(i, _)| i).max() else { return Ok(vec![None; wrt.len()]) };
    // Which nodes depend on something in `wrt`: only those carry gradients.
    let mut reaches = vec![false; last + 1];
    for (i, node) in nodes.iter().enumerate().take(last + 1) {
        reaches[i] = wrt.contains(&i) || node.inputs.iter().any(|&j| reaches[j]);
    }
    let value = |i: usize| {
        values
            .get(i)
            .and_then(Option::as_ref)
            .ok_or_else(|| nodes[i].error("the forward pass did not compute this node"))
    };
    let mut grads: Vec<Option<Tensor>> = vec![None; last + 1];
    let accumulate = |slot: &mut Option<Tensor>, d: Tensor| -> Result<(), OpError> {
        *slot = Some(match slot.take() {
            None => d,
            Some(acc) => Add.run(&[&acc, &d])?,
        });
        Ok(())
    };
    for (i, d) in seeds {
        accumulate(&mut grads[i], d).map_err(|e| nodes[i].op_error(e))?;
    }
    for i in (0..=last).rev() {
        let node = &nodes[i];
        if !reaches[i] || node.inputs.iter().all(|&j| !reaches[j]) {
            continue;
        }
        let Some(g) = grads[i].take() else { continue };
        let inputs = node.inputs.iter().map(|&j| value(j)).collect::<crate::Result<Vec<&Tensor>>>()?;
        let input_grads = node.op.grad(&inputs, value(i)?, &g).map_err(|e| node.op_error(e))?;
        for (&j, dj) in node.inputs.iter().zip(input_grads) {
            if let Some(dj) = dj.filter(|_| reaches[j]) {
                accumulate(&mut grads[j], dj).map_err(|e| node.op_error(e))?;
            }
        }
        grads[i] = Some(g);
    }
    Ok(wrt.iter().map(|&i| grads.get_mut(i).and_then(Option::take)).collect())
}

/// A test tensor of `shape` (at most 1009 elements) whose values, varied by
/// `seed`, are distinct in `[-1, 1)` and at least 0.0019 apart: a
/// finite-difference step of 1e-3 never reorders two of them, so that max,
/// min and their gradients stay away from ties.
#[cfg(all(test, feature = "grad"))]
#[allow(clippy::unwrap_used)]
pub(crate) fn sample(shape: &[usize], seed: usize) -> Tensor {
    const P: usize = 1009;
    let n: usize = shape.iter().product();
    assert!(n <= P, "a sample of {n} elements: at most {P}");
    let v = (0..n).map(|k| ((k + seed) * 7919 % P) as f32 * (2.0 / P as f32) - 1.0).collect();
    tensor(shape, v).unwrap()
}

/// Checks `op`'s gradient at `inputs` against central finite differences:
/// for the loss `sum(w * op(inputs))` with fixed, varied weights `w`, every
/// element of every input that gets a gradient, within 1e-3 (relative past
/// 1; the differences themselves are within 1e-4). Panics (in a test)
/// naming the first element whose gradients disagree.
#[cfg(all(test, feature = "grad"))]
#[allow(clippy::unwrap_used)]
pub(crate) fn check_gradient(op: &impl OpDef, inputs: &[Tensor]) {
    const EPS: f32 = 1e-3;
    let weights = |n: usize| -> Vec<f32> { (0..n).map(|k| (k * 7 + 3) % 11).map(|w| w as f32 / 11.0 - 0.4).collect() };
    let loss = |xs: &[Tensor]| -> f64 {
        let y = op.run(&xs.iter().collect::<Vec<_>>()).unwrap();
        let ys = slice::<f32>(&y).unwrap();
        ys.iter().zip(weights(ys.len())).map(|(&y, w)| f64::from(y) * f64::from(w)).sum()
    };
    let x: Vec<&Tensor> = inputs.iter().collect();
    let y = op.run(&x).unwrap();
    let g = tensor(y.shape(), weights(y.len())).unwrap();
    let grads = op.grad(&x, &y, &g).unwrap();
    assert_eq!(grads.len(), inputs.len(), "one gradient per input");
    assert!(grads.iter().any(Option::is_some), "no gradient to check");
    for (i, d) in grads.iter().enumerate() {
        let Some(d) = d else { continue };
        assert_eq!(d.shape(), inputs[i].shape(), "the gradient of input {i} has the input's shape");
        let analytic = slice::<f32>(d).unwrap();
        for (j, &a) in analytic.iter().enumerate() {
            let at = |delta: f32| {
                let mut xs = inputs.to_vec();
                let v = &mut xs[i].as_slice_mut::<f32>().unwrap()[j];
                *v += delta;
                let moved = *v;
                (loss(&xs), f64::from(moved))
            };
            let ((up, right), (down, left)) = (at(EPS), at(-EPS));
            let numeric = ((up - down) / (right - left)) as f32;
            let tolerance = 1e-3 * (1.0 + numeric.abs());
            assert!(
                (a - numeric).abs() <= tolerance,
                "input {i}, element {j}: gradient {a}, finite difference {numeric}"
            );
        }
    }
}
