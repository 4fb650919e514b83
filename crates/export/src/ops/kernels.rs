//! Reference forward kernels: the one definition of each op's semantics,
//! used by the estimator (training and naive predict) and the predictor.
//! Each writes into `out`, reusing its allocation.

use ndarray::{ArrayView2, ArrayViewMut2, IxDyn};

use super::broadcast::{Num, broadcast_shape};
use super::infer::reduce_axes;
use super::{BinaryOp, Op, ReduceOp, UnaryOp, normalize_axis};
use crate::tensor::Element;
use crate::{DataType, Tensor};

type KResult = Result<(), String>;

/// Dispatches `$body` with `$t` bound to the Rust type of a numeric `$dtype`.
macro_rules! numeric {
    ($dtype:expr, $t:ident => $body:expr) => {
        match $dtype {
            DataType::F32 => {
                type $t = f32;
                $body
            }
            DataType::I64 => {
                type $t = i64;
                $body
            }
            DataType::I32 => {
                type $t = i32;
                $body
            }
            other => Err(format!("expected a numeric dtype, got {other}")),
        }
    };
}

/// Dispatches `$body` with `$t` bound to the Rust type of any `$dtype`.
macro_rules! any {
    ($dtype:expr, $t:ident => $body:expr) => {
        match $dtype {
            DataType::Bool => {
                type $t = bool;
                $body
            }
            DataType::String => {
                type $t = String;
                $body
            }
            other => numeric!(other, $t => $body),
        }
    };
}

pub(super) fn eval(op: &Op, inputs: &[&Tensor], out: &mut Tensor) -> KResult {
    let x = inputs.first().copied();
    let x = || x.ok_or_else(|| "missing input 0".to_owned());
    match op {
        Op::Placeholder { .. } | Op::Variable { .. } => {
            Err("a source op has no kernel: its value must be supplied".into())
        }
        Op::Const { value } => copy(value, value.shape(), out),
        Op::Identity => copy(x()?, x()?.shape(), out),
        Op::Reshape { shape } => copy(x()?, &reshape_target(x()?.len(), shape)?, out),
        Op::ExpandDims { axis } => {
            let mut shape = x()?.shape().to_vec();
            shape.insert(normalize_axis(*axis, shape.len() + 1)?, 1);
            copy(x()?, &shape, out)
        }
        Op::Squeeze { axes } => copy(x()?, &squeeze_shape(x()?.shape(), axes)?, out),
        Op::StridedSlice(spec) => any!(x()?.dtype(), T => strided_slice::<T>(x()?, spec, out)),
        Op::Transpose { perm } => any!(x()?.dtype(), T => transpose::<T>(x()?, perm, out)),
        Op::Tile { multiples } => any!(x()?.dtype(), T => tile::<T>(x()?, multiples, out)),
        Op::Concat { axis } => any!(x()?.dtype(), T => concat::<T>(inputs, *axis, out)),
        Op::MatMul { transpose_a, transpose_b } => matmul(inputs[0], inputs[1], *transpose_a, *transpose_b, out),
        Op::BiasAdd => numeric!(x()?.dtype(), T => bias_add::<T>(inputs[0], inputs[1], out)),
        Op::Binary(b) => numeric!(x()?.dtype(), T => binary::<T>(*b, inputs[0], inputs[1], out)),
        Op::Unary(u) => unary(*u, x()?, out),
        Op::Equal { negate } => {
            let negate = *negate;
            any!(x()?.dtype(), T => broadcast_zip::<T, bool>(inputs[0], inputs[1], |a, b| (a == b) != negate, out))
        }
        Op::Softmax => softmax(x()?, out),
        Op::ArgMax { axis } => numeric!(x()?.dtype(), T => argmax::<T>(x()?, *axis, out)),
        Op::Reduce { op, axes, keep_dims } => {
            numeric!(x()?.dtype(), T => reduce::<T>(*op, x()?, axes, *keep_dims, out))
        }
        Op::Cast { to } => cast(x()?, *to, out),
        Op::Gather { axis } => any!(x()?.dtype(), T => gather::<T>(inputs[0], inputs[1], *axis, out)),
        Op::VocabLookup { vocab, num_oov_buckets, default_value } => {
            let words = slice::<String>(x()?)?;
            let ids = out.output_vec::<i64>(x()?.shape());
            ids.extend(words.iter().map(|w| vocab.lookup(w, *num_oov_buckets, *default_value)));
            Ok(())
        }
        Op::L2Loss => {
            let sum: f32 = slice::<f32>(x()?)?.iter().map(|v| v * v).sum();
            out.output_vec::<f32>(&[]).push(sum / 2.0);
            Ok(())
        }
        Op::SoftmaxCrossEntropy => softmax_cross_entropy(inputs[0], inputs[1], out),
    }
}

fn slice<T: Element>(t: &Tensor) -> Result<&[T], String> {
    t.as_slice::<T>().map_err(|e| e.to_string())
}

/// Copies `x`'s elements into `out` with a new shape of the same size.
fn copy(x: &Tensor, shape: &[usize], out: &mut Tensor) -> KResult {
    if shape.iter().product::<usize>() != x.len() {
        return Err(format!("cannot give {} elements the shape {shape:?}", x.len()));
    }
    any!(x.dtype(), T => {
        out.output_vec::<T>(shape).extend_from_slice(slice::<T>(x)?);
        Ok(())
    })
}

/// The concrete shape of a `Reshape` of `len` elements, resolving one `-1`.
pub(crate) fn reshape_target(len: usize, shape: &[i64]) -> Result<Vec<usize>, String> {
    let known: usize = shape.iter().filter(|&&d| d >= 0).map(|&d| d as usize).product();
    shape
        .iter()
        .map(|&d| match d {
            -1 if known > 0 && len.is_multiple_of(known) => Ok(len / known),
            -1 => Err(format!("cannot reshape {len} elements into {shape:?}")),
            d => Ok(d as usize),
        })
        .collect::<Result<Vec<_>, _>>()
        .and_then(|s| {
            if s.iter().product::<usize>() == len {
                Ok(s)
            } else {
                Err(format!("cannot reshape {len} elements into {shape:?}"))
            }
        })
}

fn squeeze_shape(shape: &[usize], axes: &[i64]) -> Result<Vec<usize>, String> {
    let axes: Vec<usize> = if axes.is_empty() {
        (0..shape.len()).filter(|&i| shape[i] == 1).collect()
    } else {
        axes.iter().map(|&a| normalize_axis(a, shape.len())).collect::<Result<_, _>>()?
    };
    if let Some(&a) = axes.iter().find(|&&a| shape[a] != 1) {
        return Err(format!("cannot squeeze dim {a} of size {} in {shape:?}", shape[a]));
    }
    Ok(shape.iter().enumerate().filter(|(i, _)| !axes.contains(i)).map(|(_, &d)| d).collect())
}

fn strided_slice<T: Element>(x: &Tensor, spec: &super::SliceSpec, out: &mut Tensor) -> KResult {
    let dims = spec.resolve(x.shape())?;
    let shape: Vec<usize> = dims.iter().filter(|d| !d.dropped).map(|d| d.len).collect();
    let src = slice::<T>(x)?;
    let dst = out.output_vec::<T>(&shape);
    dst.extend(super::slice_offsets(x.shape(), &dims).into_iter().map(|o| src[o].clone()));
    Ok(())
}

fn transpose<T: Element>(x: &Tensor, perm: &[usize], out: &mut Tensor) -> KResult {
    let shape = x.shape();
    if perm.len() != shape.len() {
        return Err(format!("perm {perm:?} for a tensor of rank {}", shape.len()));
    }
    // The output, read in order, walks the input with permuted strides.
    let mut strides = vec![1usize; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        strides[d] = strides[d + 1] * shape[d + 1];
    }
    let out_shape: Vec<usize> = perm.iter().map(|&p| shape[p]).collect();
    let dims: Vec<super::DimSlice> =
        perm.iter().map(|&p| super::DimSlice { start: 0, step: 1, len: shape[p], dropped: false }).collect();
    let permuted: Vec<usize> = perm.iter().map(|&p| strides[p]).collect();
    let src = slice::<T>(x)?;
    let dst = out.output_vec::<T>(&out_shape);
    dst.extend(super::slice::strided_offsets(&permuted, &dims).into_iter().map(|o| src[o].clone()));
    Ok(())
}

fn tile<T: Element>(x: &Tensor, multiples: &[usize], out: &mut Tensor) -> KResult {
    if multiples.len() != x.shape().len() {
        return Err(format!("{} multiples for a tensor of shape {:?}", multiples.len(), x.shape()));
    }
    let shape: Vec<usize> = x.shape().iter().zip(multiples).map(|(d, m)| d * m).collect();
    let src = slice::<T>(x)?;
    let dst = out.output_vec::<T>(&shape);
    tile_into(src, x.shape(), multiples, dst);
    Ok(())
}

/// Appends `src` (of `shape`) tiled by `multiples` to `dst`, row-major.
fn tile_into<T: Clone>(src: &[T], shape: &[usize], multiples: &[usize], dst: &mut Vec<T>) {
    let Some((&rows, inner_shape)) = shape.split_first() else {
        dst.extend_from_slice(src);
        return;
    };
    let inner: usize = inner_shape.iter().product();
    let start = dst.len();
    for row in 0..rows {
        tile_into(&src[row * inner..(row + 1) * inner], inner_shape, &multiples[1..], dst);
    }
    let block = dst.len() - start;
    match multiples[0] {
        0 => dst.truncate(start),
        m => (1..m).for_each(|_| dst.extend_from_within(start..start + block)),
    }
}

fn concat<T: Element>(inputs: &[&Tensor], axis: i64, out: &mut Tensor) -> KResult {
    let first = inputs[0].shape();
    let axis = normalize_axis(axis, first.len())?;
    let mut shape = first.to_vec();
    shape[axis] = 0;
    for (i, t) in inputs.iter().enumerate() {
        let s = t.shape();
        if s.len() != first.len() || s.iter().zip(first).enumerate().any(|(d, (a, b))| d != axis && a != b) {
            return Err(format!("input {i} has shape {s:?}, input 0 has {first:?} (axis {axis})"));
        }
        shape[axis] += s[axis];
    }
    let outer: usize = first[..axis].iter().product();
    let parts = inputs
        .iter()
        .map(|t| Ok((slice::<T>(t)?, t.shape()[axis..].iter().product())))
        .collect::<Result<Vec<(&[T], usize)>, String>>()?;
    let dst = out.output_vec::<T>(&shape);
    for o in 0..outer {
        for &(src, chunk) in &parts {
            dst.extend_from_slice(&src[o * chunk..(o + 1) * chunk]);
        }
    }
    Ok(())
}

fn matrix<'a>(t: &'a Tensor, transpose: bool) -> Result<ArrayView2<'a, f32>, String> {
    let view = t.as_f32().map_err(|e| e.to_string())?;
    let m = view
        .into_dimensionality::<ndarray::Ix2>()
        .map_err(|_| format!("expected a matrix, got shape {:?}", t.shape()))?;
    Ok(if transpose { m.reversed_axes() } else { m })
}

fn matmul(a: &Tensor, b: &Tensor, ta: bool, tb: bool, out: &mut Tensor) -> KResult {
    let (a, b) = (matrix(a, ta)?, matrix(b, tb)?);
    let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
    if b.nrows() != k {
        return Err(format!("inner dimensions disagree: [{m}, {k}] @ [{}, {n}]", b.nrows()));
    }
    let dst = out.output_slice::<f32>(&[m, n]);
    let mut c = ArrayViewMut2::from_shape((m, n), dst).map_err(|e| e.to_string())?;
    ndarray::linalg::general_mat_mul(1.0, &a, &b, 0.0, &mut c);
    Ok(())
}

fn bias_add<T: Num>(x: &Tensor, bias: &Tensor, out: &mut Tensor) -> KResult {
    let (xs, bs) = (slice::<T>(x)?, slice::<T>(bias)?);
    let c = x.shape().last().copied().unwrap_or(0);
    if bias.shape() != [c] || x.shape().is_empty() {
        return Err(format!("bias of shape {:?} does not match the last dim of {:?}", bias.shape(), x.shape()));
    }
    let dst = out.output_vec::<T>(x.shape());
    if c > 0 {
        for row in xs.chunks_exact(c) {
            dst.extend(row.iter().zip(bs).map(|(&v, &b)| v + b));
        }
    }
    Ok(())
}

fn binary<T: Num>(op: BinaryOp, a: &Tensor, b: &Tensor, out: &mut Tensor) -> KResult {
    if op == BinaryOp::Div && !T::IS_FLOAT && slice::<T>(b)?.contains(&T::ZERO) {
        return Err("integer division by zero".into());
    }
    let f: fn(&T, &T) -> T = match op {
        BinaryOp::Add => |&x, &y| x + y,
        BinaryOp::Sub => |&x, &y| x - y,
        BinaryOp::Mul => |&x, &y| x * y,
        BinaryOp::Div => |&x, &y| x / y,
        // `x != x` only for NaN: a NaN on either side wins, as in TensorFlow.
        #[allow(clippy::eq_op)]
        BinaryOp::Maximum => |&x, &y| if x >= y || x != x { x } else { y },
        #[allow(clippy::eq_op)]
        BinaryOp::Minimum => |&x, &y| if x <= y || x != x { x } else { y },
    };
    broadcast_zip(a, b, f, out)
}

/// `f` applied elementwise to `a` and `b` broadcast together, into `out`:
/// the one broadcasting loop of arithmetic and comparisons.
fn broadcast_zip<T: Element, U: Element>(a: &Tensor, b: &Tensor, f: impl Fn(&T, &T) -> U, out: &mut Tensor) -> KResult {
    let (av, bv) = (slice::<T>(a)?, slice::<T>(b)?);
    let shape = broadcast_shape(a.shape(), b.shape())?;
    let n: usize = shape.iter().product();
    let dst = out.output_vec::<U>(&shape);
    if a.shape() == b.shape() {
        dst.extend(av.iter().zip(bv).map(|(x, y)| f(x, y)));
    } else if bv.len() == 1 && av.len() == n {
        dst.extend(av.iter().map(|x| f(x, &bv[0])));
    } else if av.len() == 1 && bv.len() == n {
        dst.extend(bv.iter().map(|y| f(&av[0], y)));
    } else {
        let (va, vb) = (a.view::<T>().map_err(|e| e.to_string())?, b.view::<T>().map_err(|e| e.to_string())?);
        let (va, vb) = (
            va.broadcast(IxDyn(&shape)).ok_or("broadcast failed")?,
            vb.broadcast(IxDyn(&shape)).ok_or("broadcast failed")?,
        );
        dst.extend(va.iter().zip(vb.iter()).map(|(x, y)| f(x, y)));
    }
    Ok(())
}

fn unary(op: UnaryOp, x: &Tensor, out: &mut Tensor) -> KResult {
    let src = slice::<f32>(x)?;
    out.output_vec::<f32>(x.shape()).extend(src.iter().map(|&v| op.apply(v)));
    Ok(())
}

/// Softmax of each row of length `c` of `src`, appended to `dst`.
pub(crate) fn softmax_rows(src: &[f32], c: usize, dst: &mut Vec<f32>) {
    if c == 0 {
        return;
    }
    for row in src.chunks_exact(c) {
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let start = dst.len();
        dst.extend(row.iter().map(|&v| (v - max).exp()));
        let sum: f32 = dst[start..].iter().sum();
        dst[start..].iter_mut().for_each(|v| *v /= sum);
    }
}

fn softmax(x: &Tensor, out: &mut Tensor) -> KResult {
    let c = *x.shape().last().ok_or("softmax needs rank >= 1")?;
    let src = slice::<f32>(x)?;
    softmax_rows(src, c, out.output_vec::<f32>(x.shape()));
    Ok(())
}

fn softmax_cross_entropy(logits: &Tensor, labels: &Tensor, out: &mut Tensor) -> KResult {
    if logits.shape().len() != 2 || logits.shape() != labels.shape() {
        return Err(format!(
            "logits {:?} and labels {:?} must be matrices of one shape",
            logits.shape(),
            labels.shape()
        ));
    }
    let (l, y) = (slice::<f32>(logits)?, slice::<f32>(labels)?);
    let (n, c) = (logits.shape()[0], logits.shape()[1]);
    let dst = out.output_vec::<f32>(&[n]);
    if c == 0 {
        dst.resize(n, 0.0);
        return Ok(());
    }
    for (row, lab) in l.chunks_exact(c).zip(y.chunks_exact(c)) {
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let log_sum = row.iter().map(|&v| (v - max).exp()).sum::<f32>().ln() + max;
        dst.push(row.iter().zip(lab).map(|(&v, &t)| -t * (v - log_sum)).sum());
    }
    Ok(())
}

/// Splits `shape` around `axis` into (outer, len, inner) element counts.
fn around(shape: &[usize], axis: usize) -> (usize, usize, usize) {
    (shape[..axis].iter().product(), shape[axis], shape[axis + 1..].iter().product())
}

fn argmax<T: Num>(x: &Tensor, axis: i64, out: &mut Tensor) -> KResult {
    let axis = normalize_axis(axis, x.shape().len())?;
    let (outer, n, inner) = around(x.shape(), axis);
    if n == 0 {
        return Err(format!("argmax over an empty axis {axis} of {:?}", x.shape()));
    }
    let src = slice::<T>(x)?;
    let mut shape = x.shape().to_vec();
    shape.remove(axis);
    let dst = out.output_vec::<i64>(&shape);
    for o in 0..outer {
        for i in 0..inner {
            let at = |k: usize| src[(o * n + k) * inner + i];
            let best = (1..n).fold(0, |best, k| if at(k) > at(best) { k } else { best });
            dst.push(best as i64);
        }
    }
    Ok(())
}

fn reduce<T: Num>(op: ReduceOp, x: &Tensor, axes: &[i64], keep_dims: bool, out: &mut Tensor) -> KResult {
    let shape = x.shape();
    let axes = reduce_axes(axes, shape.len())?;
    let kept: Vec<usize> = shape.iter().enumerate().map(|(i, &d)| if axes.contains(&i) { 1 } else { d }).collect();
    // Row-major strides of the kept shape, zero along reduced axes.
    let mut strides = vec![0usize; shape.len()];
    let mut s = 1;
    for i in (0..shape.len()).rev() {
        strides[i] = if axes.contains(&i) { 0 } else { s };
        s *= kept[i];
    }
    let (start, combine): (T, fn(T, T) -> T) = match op {
        ReduceOp::Sum | ReduceOp::Mean => (T::ZERO, |a, v| a + v),
        #[allow(clippy::eq_op)]
        ReduceOp::Max => (T::LOWEST, |a, v| if v > a || v != v { v } else { a }),
        #[allow(clippy::eq_op)]
        ReduceOp::Min => (T::HIGHEST, |a, v| if v < a || v != v { v } else { a }),
    };
    let mut acc = vec![start; kept.iter().product()];
    let mut index = vec![0usize; shape.len()];
    let mut o = 0usize;
    for &v in slice::<T>(x)? {
        acc[o] = combine(acc[o], v);
        for d in (0..shape.len()).rev() {
            index[d] += 1;
            o += strides[d];
            if index[d] < shape[d] {
                break;
            }
            o -= strides[d] * shape[d];
            index[d] = 0;
        }
    }
    if op == ReduceOp::Mean {
        let count: usize = axes.iter().map(|&a| shape[a]).product();
        let count = T::from_i64(count as i64);
        acc.iter_mut().for_each(|v| *v = *v / count);
    }
    let out_shape: Vec<usize> = if keep_dims {
        kept
    } else {
        shape.iter().enumerate().filter(|(i, _)| !axes.contains(i)).map(|(_, &d)| d).collect()
    };
    out.output_vec::<T>(&out_shape).extend_from_slice(&acc);
    Ok(())
}

fn cast(x: &Tensor, to: DataType, out: &mut Tensor) -> KResult {
    fn from_num<S: Num>(src: &[S], to: DataType, shape: &[usize], out: &mut Tensor) -> KResult {
        if to == DataType::Bool {
            out.output_vec::<bool>(shape).extend(src.iter().map(|&v| v != S::ZERO));
            return Ok(());
        }
        numeric!(to, T => {
            let dst = out.output_vec::<T>(shape);
            if S::IS_FLOAT {
                dst.extend(src.iter().map(|&v| T::from_f64(v.to_f64())));
            } else {
                dst.extend(src.iter().map(|&v| T::from_i64(v.to_i64())));
            }
            Ok(())
        })
    }
    match x.dtype() {
        DataType::Bool => {
            let ints: Vec<i32> = slice::<bool>(x)?.iter().map(|&b| i32::from(b)).collect();
            from_num::<i32>(&ints, to, x.shape(), out)
        }
        DataType::String => Err("cannot cast a string tensor".into()),
        dtype => numeric!(dtype, S => from_num::<S>(slice::<S>(x)?, to, x.shape(), out)),
    }
}

/// Reads i32 or i64 indices as i64.
pub(crate) fn indices(t: &Tensor) -> Result<Vec<i64>, String> {
    match t.dtype() {
        DataType::I64 => Ok(slice::<i64>(t)?.to_vec()),
        DataType::I32 => Ok(slice::<i32>(t)?.iter().map(|&i| i64::from(i)).collect()),
        other => Err(format!("indices must be i32 or i64, got {other}")),
    }
}

fn gather<T: Element>(params: &Tensor, idx: &Tensor, axis: i64, out: &mut Tensor) -> KResult {
    let p = params.shape();
    let axis = normalize_axis(axis, p.len())?;
    let (outer, n, inner) = around(p, axis);
    let ids = indices(idx)?;
    if let Some(bad) = ids.iter().find(|&&i| i < 0 || i as usize >= n) {
        return Err(format!("index {bad} is out of range [0, {n}) for params of shape {p:?}"));
    }
    let shape: Vec<usize> = p[..axis].iter().chain(idx.shape()).chain(&p[axis + 1..]).copied().collect();
    let src = slice::<T>(params)?;
    let dst = out.output_vec::<T>(&shape);
    for o in 0..outer {
        for &i in &ids {
            let start = (o * n + i as usize) * inner;
            dst.extend_from_slice(&src[start..start + inner]);
        }
    }
    Ok(())
}
