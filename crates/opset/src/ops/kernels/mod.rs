//! Reference forward kernels: the one definition of each op's semantics,
//! used by the estimator (training and naive predict) and the predictor.
//! Each writes into `out`, reusing its allocation.

use super::{Op, normalize_axis};
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

mod conv;
mod einsum;
mod math;
mod shape;

use math::*;
use shape::*;
pub use shape::{indices, pad_offsets};

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
        Op::TileBy => {
            let multiples = shape::indices(inputs.get(1).copied().ok_or("missing input 1")?)?;
            let multiples = multiples.iter().map(|&m| usize::try_from(m)).collect::<Result<Vec<_>, _>>();
            let multiples = multiples.map_err(|_| "multiples must be >= 0".to_owned())?;
            any!(x()?.dtype(), T => tile::<T>(x()?, &multiples, out))
        }
        Op::Pad { paddings, value } => any!(x()?.dtype(), T => pad::<T>(x()?, paddings, value.as_ref(), out)),
        Op::Shape => {
            let dims = out.output_vec::<i64>(&[x()?.shape().len()]);
            dims.extend(x()?.shape().iter().map(|&d| d as i64));
            Ok(())
        }
        Op::AsString => as_string(x()?, out),
        Op::Concat { axis } => any!(x()?.dtype(), T => concat::<T>(inputs, *axis, out)),
        Op::MatMul { transpose_a, transpose_b } if x()?.shape().len() > 2 => {
            // A batch of products: the einsum `...mk,...kn->...mn`.
            let batch: Vec<u8> = (b'A'..=b'Z').take(x()?.shape().len() - 2).collect();
            let term = |t: bool, [i, j]: [u8; 2]| [&batch[..], &(if t { [j, i] } else { [i, j] })].concat();
            let eq = einsum::Equation::from_labels(
                term(*transpose_a, *b"mk"),
                term(*transpose_b, *b"kn"),
                term(false, *b"mn"),
            );
            einsum::einsum(&eq, inputs[0], inputs[1], out)
        }
        Op::MatMul { transpose_a, transpose_b } => matmul(inputs[0], inputs[1], *transpose_a, *transpose_b, out),
        Op::Einsum(eq) => einsum::einsum(eq, x()?, inputs.get(1).copied().ok_or("missing input 1")?, out),
        Op::BiasAdd => numeric!(x()?.dtype(), T => bias_add::<T>(inputs[0], inputs[1], out)),
        Op::Binary(b) => numeric!(x()?.dtype(), T => binary::<T>(*b, inputs[0], inputs[1], out)),
        Op::Unary(u) => unary(*u, x()?, out),
        Op::Compare(c) => {
            let c = *c;
            numeric!(x()?.dtype(), T => broadcast_zip::<T, bool>(inputs[0], inputs[1], |a, b| c.apply(a, b), out))
        }
        Op::Logical { and } => {
            let and = *and;
            broadcast_zip::<bool, bool>(inputs[0], inputs[1], |&a, &b| if and { a && b } else { a || b }, out)
        }
        Op::LogicalNot => {
            let dst = out.output_vec::<bool>(x()?.shape());
            dst.extend(slice::<bool>(x()?)?.iter().map(|b| !b));
            Ok(())
        }
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
        Op::TableLookup { table, default_value } => {
            let x = x()?;
            let ids = out.output_vec::<i64>(x.shape());
            match &**table {
                super::Table::Strings(t) => {
                    ids.extend(slice::<String>(x)?.iter().map(|k| t.get(k).copied().unwrap_or(*default_value)));
                }
                super::Table::Ints(t) => {
                    ids.extend(slice::<i64>(x)?.iter().map(|k| t.get(k).copied().unwrap_or(*default_value)));
                }
            }
            Ok(())
        }
        Op::HashBucket { num_buckets } => {
            let words = slice::<String>(x()?)?;
            let ids = out.output_vec::<i64>(x()?.shape());
            ids.extend(words.iter().map(|w| crate::vocab::hash_bucket(w, *num_buckets)));
            Ok(())
        }
        Op::Select => {
            let a = inputs.get(1).copied().ok_or("missing input 1")?;
            any!(a.dtype(), T => select::<T>(x()?, a, inputs.get(2).copied().ok_or("missing input 2")?, out))
        }
        Op::Conv2D(sliding) => conv::conv2d(x()?, inputs.get(1).copied().ok_or("missing input 1")?, sliding, out),
        Op::DepthwiseConv2D(sliding) => {
            conv::depthwise(x()?, inputs.get(1).copied().ok_or("missing input 1")?, sliding, out)
        }
        Op::Pool { max, ksize, sliding } => conv::pool(x()?, *max, *ksize, sliding, out),
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

/// The element count of an output about to be allocated, refused past
/// [`crate::ops::MAX_ELEMENTS`] (a hostile artifact must not make a kernel
/// allocate without bound).
pub(crate) fn checked_len(shape: &[usize]) -> Result<usize, String> {
    shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d)).filter(|&n| n <= crate::ops::MAX_ELEMENTS).ok_or_else(
        || format!("an output of shape {shape:?} is over the limit of {} elements", crate::ops::MAX_ELEMENTS),
    )
}

/// Splits `shape` around `axis` into (outer, len, inner) element counts.
pub fn around(shape: &[usize], axis: usize) -> (usize, usize, usize) {
    (shape[..axis].iter().product(), shape[axis], shape[axis + 1..].iter().product())
}
