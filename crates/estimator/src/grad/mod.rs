//! Reverse-mode gradients over a forward pass of a [`TypedGraph`]: one rule
//! per differentiable op, computed with the ops' own reference kernels
//! wherever a rule is itself an op (so forward and backward share semantics).

use opset::ops::{BinaryOp, ReduceOp, UnaryOp};
use opset::{DataType, Op, Tensor, TypedGraph};

use crate::Result;

mod conv;

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
        let input_grads = backward(&node.op, &inputs, value(i)?, &g).map_err(|reason| node.error(reason))?;
        for (&j, dj) in node.inputs.iter().zip(input_grads) {
            let Some(dj) = dj.filter(|_| reaches[j]) else { continue };
            grads[j] = Some(match grads[j].take() {
                None => dj,
                Some(acc) => kernel(&Op::Binary(BinaryOp::Add), &[&acc, &dj]).map_err(|reason| node.error(reason))?,
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

type Grads = std::result::Result<Vec<Option<Tensor>>, String>;

/// Runs a reference kernel.
fn kernel(op: &Op, inputs: &[&Tensor]) -> std::result::Result<Tensor, String> {
    let mut out = Tensor::empty(opset::DataType::F32);
    op.eval(inputs, &mut out)?;
    Ok(out)
}

fn reshape(t: Tensor, shape: &[usize]) -> std::result::Result<Tensor, String> {
    t.reshape(shape).map_err(|e| e.to_string())
}

/// Elementwise `f(g, a, b)` over three tensors of one shape.
fn zip3(g: &Tensor, a: &Tensor, b: &Tensor, f: impl Fn(f32, f32, f32) -> f32) -> std::result::Result<Tensor, String> {
    let s = |t: &Tensor| t.as_slice::<f32>().map(<[f32]>::to_vec).map_err(|e| e.to_string());
    let (gs, a, b) = (s(g)?, s(a)?, s(b)?);
    let v = gs.iter().zip(&a).zip(&b).map(|((&g, &a), &b)| f(g, a, b)).collect();
    Tensor::from_vec(g.shape().to_vec(), v).map_err(|e| e.to_string())
}

/// Sums `g` down to `shape`, undoing NumPy broadcasting.
fn unbroadcast(g: Tensor, shape: &[usize]) -> std::result::Result<Tensor, String> {
    if g.shape() == shape {
        return Ok(g);
    }
    let lead = g.shape().len() - shape.len();
    let axes: Vec<i64> = (0..g.shape().len())
        .filter(|&d| d < lead || (shape[d - lead] == 1 && g.shape()[d] != 1))
        .map(|d| d as i64)
        .collect();
    let summed = kernel(&Op::Reduce { op: ReduceOp::Sum, axes, keep_dims: false }, &[&g])?;
    reshape(summed, shape)
}

/// Sums the gradient of a tile back onto the tiled input of shape `s`:
/// output dim d is (t, i) with t < m_d, i < s_d, so reshape to
/// [m0, s0, m1, s1, ...] and sum the m axes.
fn untile(s: &[usize], multiples: &[usize], g: &Tensor) -> std::result::Result<Tensor, String> {
    let interleaved: Vec<usize> = s.iter().zip(multiples).flat_map(|(&s, &m)| [m, s]).collect();
    let axes = (0..s.len()).map(|d| 2 * d as i64).collect();
    let g = reshape(g.clone(), &interleaved)?;
    kernel(&Op::Reduce { op: ReduceOp::Sum, axes, keep_dims: false }, &[&g])
}

fn backward(op: &Op, x: &[&Tensor], y: &Tensor, g: &Tensor) -> Grads {
    Ok(match op {
        Op::Placeholder { .. } | Op::Const { .. } | Op::Variable { .. } => vec![],
        Op::Identity | Op::Reshape { .. } | Op::ExpandDims { .. } | Op::Squeeze { .. } => {
            vec![Some(reshape(g.clone(), x[0].shape())?)]
        }
        Op::Cast { to: opset::DataType::F32 } if x[0].dtype() == opset::DataType::F32 => vec![Some(g.clone())],
        Op::Cast { .. }
        | Op::ArgMax { .. }
        | Op::VocabLookup { .. }
        | Op::HashBucket { .. }
        | Op::TableLookup { .. } => {
            vec![None]
        }
        Op::Equal { .. } | Op::Compare(_) | Op::Logical { .. } => vec![None, None],
        Op::LogicalNot => vec![None],
        Op::Select if x[1].dtype() == DataType::F32 => {
            // The gradient goes to the input each element was taken from.
            let zero = Tensor::scalar(0.0f32);
            let da = kernel(&Op::Select, &[x[0], g, &zero])?;
            let db = kernel(&Op::Select, &[x[0], &zero, g])?;
            vec![None, Some(unbroadcast(da, x[1].shape())?), Some(unbroadcast(db, x[2].shape())?)]
        }
        Op::Select => vec![None, None, None],
        Op::StridedSlice(spec) => {
            // Scatter the gradient back through the slice's index map.
            let shape = x[0].shape();
            let dims = spec.resolve(shape)?;
            let gs = g.as_slice::<f32>().map_err(|e| e.to_string())?;
            let mut d = vec![0.0f32; x[0].len()];
            for (o, gv) in opset::ops::slice_offsets(shape, &dims).into_iter().zip(gs) {
                d[o] += gv;
            }
            vec![Some(Tensor::from_vec(shape.to_vec(), d).map_err(|e| e.to_string())?)]
        }
        Op::Transpose { perm } => {
            let mut inverse = vec![0; perm.len()];
            for (i, &p) in perm.iter().enumerate() {
                inverse[p] = i;
            }
            vec![Some(kernel(&Op::Transpose { perm: inverse }, &[g])?)]
        }
        Op::Tile { multiples } => vec![Some(untile(x[0].shape(), multiples, g)?)],
        Op::TileBy => {
            let multiples: Vec<usize> = opset::ops::indices(x[1])?.iter().map(|&m| m.max(0) as usize).collect();
            vec![Some(untile(x[0].shape(), &multiples, g)?), None]
        }
        Op::Shape | Op::AsString => vec![None],
        Op::Pad { paddings, .. } => {
            // Each input element's gradient is the output's where it landed.
            let (_, offsets) = opset::ops::pad_offsets(x[0].shape(), paddings)?;
            let gs = g.as_slice::<f32>().map_err(|e| e.to_string())?;
            let d = offsets.iter().map(|&o| gs[o]).collect();
            vec![Some(Tensor::from_vec(x[0].shape().to_vec(), d).map_err(|e| e.to_string())?)]
        }
        Op::Concat { axis } => {
            let axis_n = opset::ops::normalize_axis(*axis, g.shape().len())?;
            let mut start = 0i64;
            x.iter()
                .map(|xi| {
                    let n = xi.shape()[axis_n] as i64;
                    let idx = Tensor::from_vec(vec![n as usize], (start..start + n).collect::<Vec<i64>>())
                        .map_err(|e| e.to_string())?;
                    start += n;
                    kernel(&Op::Gather { axis: *axis }, &[g, &idx]).map(Some)
                })
                .collect::<std::result::Result<_, _>>()?
        }
        Op::MatMul { transpose_a: ta, transpose_b: tb } => {
            let mm = |a: &Tensor, b: &Tensor, transpose_a, transpose_b| {
                kernel(&Op::MatMul { transpose_a, transpose_b }, &[a, b])
            };
            let (a, b) = (x[0], x[1]);
            let (da, db) = match (ta, tb) {
                (false, false) => (mm(g, b, false, true)?, mm(a, g, true, false)?),
                (false, true) => (mm(g, b, false, false)?, mm(g, a, true, false)?),
                (true, false) => (mm(b, g, false, true)?, mm(a, g, false, false)?),
                (true, true) => (mm(b, g, true, true)?, mm(g, a, true, true)?),
            };
            vec![Some(da), Some(db)]
        }
        Op::BiasAdd => {
            let rank = g.shape().len() as i64;
            let axes = (0..rank - 1).collect();
            vec![Some(g.clone()), Some(kernel(&Op::Reduce { op: ReduceOp::Sum, axes, keep_dims: false }, &[g])?)]
        }
        Op::Binary(b) => {
            let (a, bb) = (x[0], x[1]);
            let bin = |op, p: &Tensor, q: &Tensor| kernel(&Op::Binary(op), &[p, q]);
            let (da, db) = match b {
                BinaryOp::Add => (g.clone(), g.clone()),
                BinaryOp::Sub => (g.clone(), kernel(&Op::Unary(UnaryOp::Neg), &[g])?),
                BinaryOp::Mul => (bin(BinaryOp::Mul, g, bb)?, bin(BinaryOp::Mul, g, a)?),
                BinaryOp::Div => {
                    let bsq = bin(BinaryOp::Mul, bb, bb)?;
                    let ratio = bin(BinaryOp::Div, a, &bsq)?;
                    let db = kernel(&Op::Unary(UnaryOp::Neg), &[&bin(BinaryOp::Mul, g, &ratio)?])?;
                    (bin(BinaryOp::Div, g, bb)?, db)
                }
                BinaryOp::Maximum | BinaryOp::Minimum => {
                    // The gradient goes to the input that was chosen (`a` on ties).
                    let chose_a =
                        kernel(&Op::Cast { to: DataType::F32 }, &[&kernel(&Op::Equal { negate: false }, &[y, a])?])?;
                    let da = bin(BinaryOp::Mul, g, &chose_a)?;
                    let db = bin(BinaryOp::Sub, g, &da)?;
                    (da, db)
                }
            };
            vec![Some(unbroadcast(da, a.shape())?), Some(unbroadcast(db, bb.shape())?)]
        }
        Op::Unary(u) => {
            let d = match u {
                UnaryOp::Relu => zip3(g, x[0], y, |g, x, _| if x > 0.0 { g } else { 0.0 })?,
                UnaryOp::Tanh => zip3(g, x[0], y, |g, _, y| g * (1.0 - y * y))?,
                UnaryOp::Sigmoid => zip3(g, x[0], y, |g, _, y| g * y * (1.0 - y))?,
                UnaryOp::Square => zip3(g, x[0], y, |g, x, _| 2.0 * g * x)?,
                UnaryOp::Neg => zip3(g, x[0], y, |g, _, _| -g)?,
                UnaryOp::Abs => zip3(g, x[0], y, |g, x, _| {
                    if x > 0.0 {
                        g
                    } else if x < 0.0 {
                        -g
                    } else {
                        0.0
                    }
                })?,
                UnaryOp::Exp => zip3(g, x[0], y, |g, _, y| g * y)?,
                UnaryOp::Log => zip3(g, x[0], y, |g, x, _| g / x)?,
                UnaryOp::Sqrt => zip3(g, x[0], y, |g, _, y| g / (2.0 * y))?,
                UnaryOp::Rsqrt => zip3(g, x[0], y, |g, _, y| -0.5 * g * y * y * y)?,
                UnaryOp::Softplus => zip3(g, x[0], y, |g, x, _| g * UnaryOp::Sigmoid.apply(x))?,
                UnaryOp::Elu => zip3(g, x[0], y, |g, x, y| if x > 0.0 { g } else { g * (y + 1.0) })?,
                UnaryOp::Selu => zip3(g, x[0], y, |g, x, y| {
                    if x > 0.0 {
                        g * opset::ops::SELU_SCALE
                    } else {
                        g * (y + opset::ops::SELU_SCALE * opset::ops::SELU_ALPHA)
                    }
                })?,
                UnaryOp::Erf => zip3(g, x[0], y, |g, x, _| g * std::f32::consts::FRAC_2_SQRT_PI * (-x * x).exp())?,
            };
            vec![Some(d)]
        }
        Op::Softmax => {
            let c = *y.shape().last().ok_or("softmax of a scalar")?;
            let (ys, gs) =
                (y.as_slice::<f32>().map_err(|e| e.to_string())?, g.as_slice::<f32>().map_err(|e| e.to_string())?);
            let mut d = Vec::with_capacity(ys.len());
            for (yr, gr) in ys.chunks_exact(c.max(1)).zip(gs.chunks_exact(c.max(1))) {
                let dot: f32 = yr.iter().zip(gr).map(|(y, g)| y * g).sum();
                d.extend(yr.iter().zip(gr).map(|(y, g)| y * (g - dot)));
            }
            vec![Some(Tensor::from_vec(y.shape().to_vec(), d).map_err(|e| e.to_string())?)]
        }
        Op::Reduce { op, axes, .. } => {
            let s = x[0].shape();
            let axes = opset::ops::reduce_axes(axes, s.len())?;
            let kept: Vec<usize> = s.iter().enumerate().map(|(i, &d)| if axes.contains(&i) { 1 } else { d }).collect();
            let g = reshape(g.clone(), &kept)?;
            let zeros = Tensor::from_vec(s.to_vec(), vec![0.0f32; x[0].len()]).map_err(|e| e.to_string())?;
            let spread = kernel(&Op::Binary(BinaryOp::Add), &[&zeros, &g])?;
            let d = match op {
                ReduceOp::Sum => spread,
                ReduceOp::Mean => {
                    let count: usize = axes.iter().map(|&a| s[a]).product();
                    kernel(&Op::Binary(BinaryOp::Div), &[&spread, &Tensor::scalar(count as f32)])?
                }
                ReduceOp::Max | ReduceOp::Min => {
                    // To every element equal to the extreme of its group.
                    let extreme = reshape(y.clone(), &kept)?;
                    let hit = kernel(&Op::Equal { negate: false }, &[x[0], &extreme])?;
                    let hit = kernel(&Op::Cast { to: DataType::F32 }, &[&hit])?;
                    kernel(&Op::Binary(BinaryOp::Mul), &[&spread, &hit])?
                }
            };
            vec![Some(d)]
        }
        Op::L2Loss => vec![Some(kernel(&Op::Binary(BinaryOp::Mul), &[x[0], g])?)],
        Op::Einsum(eq) => {
            // d/da = einsum(out, b -> a), d/db = einsum(a, out -> b).
            let (ga, gb) = (eq.gradient_a(), eq.gradient_b());
            let (Some(ga), Some(gb)) = (ga, gb) else {
                return Err(format!("no gradient for {}: an input has a label summed away alone", eq.text()));
            };
            let da = kernel(&Op::Einsum(std::sync::Arc::new(ga)), &[g, x[1]])?;
            let db = kernel(&Op::Einsum(std::sync::Arc::new(gb)), &[x[0], g])?;
            vec![Some(da), Some(db)]
        }
        Op::Conv2D(sliding) => conv::conv2d(x[0], x[1], g, sliding)?.map(Some).to_vec(),
        Op::DepthwiseConv2D(sliding) => conv::depthwise(x[0], x[1], g, sliding)?.map(Some).to_vec(),
        Op::Pool { max, ksize, sliding } => vec![Some(conv::pool(x[0], y, g, *max, *ksize, sliding)?)],
        Op::SoftmaxCrossEntropy => {
            let (logits, labels) = (x[0], x[1]);
            let p = kernel(&Op::Softmax, &[logits])?;
            let diff = kernel(&Op::Binary(BinaryOp::Sub), &[&p, labels])?;
            let g_col = reshape(g.clone(), &[g.len(), 1])?;
            vec![Some(kernel(&Op::Binary(BinaryOp::Mul), &[&diff, &g_col])?), None]
        }
        Op::Gather { axis } => {
            let p = x[0].shape();
            let axis = opset::ops::normalize_axis(*axis, p.len())?;
            let (outer, n, inner) = opset::ops::around(p, axis);
            let ids = x[1].len();
            let gs = g.as_slice::<f32>().map_err(|e| e.to_string())?;
            let idx = opset::ops::indices(x[1])?;
            let mut d = vec![0.0f32; x[0].len()];
            for o in 0..outer {
                for (k, &i) in idx.iter().enumerate() {
                    let src = (o * ids + k) * inner;
                    let dst = (o * n + i as usize) * inner;
                    d[dst..dst + inner].iter_mut().zip(&gs[src..src + inner]).for_each(|(d, g)| *d += g);
                }
            }
            vec![Some(Tensor::from_vec(p.to_vec(), d).map_err(|e| e.to_string())?), None]
        }
    })
}
