//! Kernels that compute: products, elementwise arithmetic and functions,
//! softmax, losses, reductions, argmax, casts.

use ndarray::{ArrayView2, ArrayViewMut2, IxDyn};

use super::{KResult, around, slice};
use crate::ops::broadcast::{Num, broadcast_shape};
use crate::ops::infer::reduce_axes;
use crate::ops::{BinaryOp, ReduceOp, UnaryOp, normalize_axis};
use crate::tensor::Element;
use crate::{DataType, Tensor};

pub(super) fn matrix<'a>(t: &'a Tensor, transpose: bool) -> Result<ArrayView2<'a, f32>, String> {
    let view = t.as_f32().map_err(|e| e.to_string())?;
    let m = view
        .into_dimensionality::<ndarray::Ix2>()
        .map_err(|_| format!("expected a matrix, got shape {:?}", t.shape()))?;
    Ok(if transpose { m.reversed_axes() } else { m })
}

pub(super) fn matmul(a: &Tensor, b: &Tensor, ta: bool, tb: bool, out: &mut Tensor) -> KResult {
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

pub(super) fn bias_add<T: Num>(x: &Tensor, bias: &Tensor, out: &mut Tensor) -> KResult {
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

pub(super) fn binary<T: Num>(op: BinaryOp, a: &Tensor, b: &Tensor, out: &mut Tensor) -> KResult {
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
pub(super) fn broadcast_zip<T: Element, U: Element>(
    a: &Tensor,
    b: &Tensor,
    f: impl Fn(&T, &T) -> U,
    out: &mut Tensor,
) -> KResult {
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

/// `cond ? a : b` elementwise, the three broadcast together, into `out`.
pub(super) fn select<T: Element>(cond: &Tensor, a: &Tensor, b: &Tensor, out: &mut Tensor) -> KResult {
    let (cv, av, bv) = (slice::<bool>(cond)?, slice::<T>(a)?, slice::<T>(b)?);
    let shape = broadcast_shape(&broadcast_shape(cond.shape(), a.shape())?, b.shape())?;
    let pick = |(&c, (x, y)): (&bool, (&T, &T))| if c { x.clone() } else { y.clone() };
    let dst = out.output_vec::<T>(&shape);
    if cond.shape() == a.shape() && a.shape() == b.shape() {
        dst.extend(cv.iter().zip(av.iter().zip(bv)).map(pick));
    } else {
        let (vc, va, vb) = (
            cond.view::<bool>().map_err(|e| e.to_string())?,
            a.view::<T>().map_err(|e| e.to_string())?,
            b.view::<T>().map_err(|e| e.to_string())?,
        );
        let at = IxDyn(&shape);
        let (vc, va, vb) = (
            vc.broadcast(at.clone()).ok_or("broadcast failed")?,
            va.broadcast(at.clone()).ok_or("broadcast failed")?,
            vb.broadcast(at).ok_or("broadcast failed")?,
        );
        dst.extend(vc.iter().zip(va.iter().zip(vb.iter())).map(pick));
    }
    Ok(())
}

/// Each element as TensorFlow's `AsString` writes it with its default
/// attributes (C's `%d`, `%f`, and `true`/`false`).
pub(super) fn as_string(x: &Tensor, out: &mut Tensor) -> KResult {
    fn float(v: f32) -> String {
        if v.is_nan() { "nan".to_owned() } else { format!("{v:.6}") }
    }
    let shape = x.shape().to_vec();
    let strings: Vec<String> = match x.dtype() {
        DataType::F32 => slice::<f32>(x)?.iter().map(|&v| float(v)).collect(),
        DataType::I64 => slice::<i64>(x)?.iter().map(i64::to_string).collect(),
        DataType::I32 => slice::<i32>(x)?.iter().map(i32::to_string).collect(),
        DataType::Bool => slice::<bool>(x)?.iter().map(bool::to_string).collect(),
        DataType::String => return Err("the input is already a string".into()),
    };
    out.output_vec::<String>(&shape).extend(strings);
    Ok(())
}

pub(super) fn unary(op: UnaryOp, x: &Tensor, out: &mut Tensor) -> KResult {
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

pub(super) fn softmax(x: &Tensor, out: &mut Tensor) -> KResult {
    let c = *x.shape().last().ok_or("softmax needs rank >= 1")?;
    let src = slice::<f32>(x)?;
    softmax_rows(src, c, out.output_vec::<f32>(x.shape()));
    Ok(())
}

pub(super) fn softmax_cross_entropy(logits: &Tensor, labels: &Tensor, out: &mut Tensor) -> KResult {
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

pub(super) fn argmax<T: Num>(x: &Tensor, axis: i64, out: &mut Tensor) -> KResult {
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

pub(super) fn reduce<T: Num>(op: ReduceOp, x: &Tensor, axes: &[i64], keep_dims: bool, out: &mut Tensor) -> KResult {
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

pub(super) fn cast(x: &Tensor, to: DataType, out: &mut Tensor) -> KResult {
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
