//! Output dtype and shape rules, checked at load on declared shapes (where
//! unknown dims stay unknown) so that a graph whose shapes cannot agree is
//! refused before it runs.

use super::{Op, normalize_axis};
use crate::{DataType, Shape};

/// The dtype and declared shape of a graph tensor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorType {
    /// The element type.
    pub dtype: DataType,
    /// The shape; unknown dims are `None`.
    pub shape: Shape,
}

type Dims = Vec<Option<usize>>;

pub(super) fn infer(op: &Op, inputs: &[TensorType]) -> Result<TensorType, String> {
    let dims = |i: usize| -> &Dims { &inputs[i].shape.0 };
    let ty = |dtype, dims: Dims| Ok(TensorType { dtype, shape: Shape(dims) });
    match op {
        Op::Placeholder { dtype, shape } => ty(*dtype, shape.0.clone()),
        Op::Const { value } => ty(value.dtype(), Shape::known(value.shape()).0),
        Op::Variable { dtype, shape } => ty(*dtype, Shape::known(shape).0),
        Op::Identity => Ok(inputs[0].clone()),
        Op::Reshape { shape } => {
            let out: Dims = shape.iter().map(|&d| usize::try_from(d).ok()).collect();
            let Some(n_in) = known_count(dims(0)) else {
                // Unknown input size: the -1 stays unknown.
                return ty(inputs[0].dtype, out);
            };
            let known = out.iter().flatten().try_fold(1usize, |n, &d| n.checked_mul(d));
            let Some(known) = known else {
                return Err(format!("shape {shape:?} has more elements than memory can address"));
            };
            match out.iter().position(Option::is_none) {
                None if known != n_in => Err(format!("cannot reshape {} elements into {shape:?}", n_in)),
                None => ty(inputs[0].dtype, out),
                Some(_) if known == 0 || n_in % known != 0 => {
                    Err(format!("cannot reshape {} elements into {shape:?}", n_in))
                }
                Some(i) => {
                    let mut out = out;
                    out[i] = Some(n_in / known);
                    ty(inputs[0].dtype, out)
                }
            }
        }
        Op::Tile { multiples } => {
            if multiples.len() != dims(0).len() {
                return Err(format!("{} multiples for an input of rank {}", multiples.len(), dims(0).len()));
            }
            let out = dims(0).iter().zip(multiples).map(|(d, &m)| d.and_then(|d| d.checked_mul(m))).collect();
            ty(inputs[0].dtype, out)
        }
        Op::TileBy => {
            if !matches!(inputs[1].dtype, DataType::I32 | DataType::I64) || dims(1).len() != 1 {
                return Err(format!(
                    "multiples must be an i32 or i64 vector, got {} {}",
                    inputs[1].dtype, inputs[1].shape
                ));
            }
            if dims(1)[0].is_some_and(|r| r != dims(0).len()) {
                return Err(format!("multiples {} for an input of rank {}", inputs[1].shape, dims(0).len()));
            }
            ty(inputs[0].dtype, vec![None; dims(0).len()])
        }
        Op::Pad { paddings, value } => {
            if paddings.len() != dims(0).len() {
                return Err(format!("{} pairs of paddings for an input of rank {}", paddings.len(), dims(0).len()));
            }
            if let Some(v) = value
                && v.dtype() != inputs[0].dtype
            {
                return Err(format!("a {} padding value for a {} input", v.dtype(), inputs[0].dtype));
            }
            let out = dims(0).iter().zip(paddings).map(|(d, [b, a])| d.and_then(|d| d.checked_add(b + a))).collect();
            ty(inputs[0].dtype, out)
        }
        Op::Shape => ty(DataType::I64, vec![Some(dims(0).len())]),
        Op::AsString => {
            if inputs[0].dtype == DataType::String {
                return Err("the input is already a string".into());
            }
            ty(DataType::String, dims(0).clone())
        }
        Op::Concat { axis } => {
            let rank = dims(0).len();
            let axis = normalize_axis(*axis, rank)?;
            let mut out = dims(0).clone();
            for (i, input) in inputs.iter().enumerate().skip(1) {
                if input.dtype != inputs[0].dtype {
                    return Err(format!("input {i} is {}, input 0 is {}", input.dtype, inputs[0].dtype));
                }
                if input.shape.rank() != rank {
                    return Err(format!("input {i} has rank {}, input 0 has rank {rank}", input.shape.rank()));
                }
                for (d, (a, b)) in out.iter_mut().zip(&input.shape.0).enumerate() {
                    *a = if d == axis {
                        a.zip(*b).and_then(|(a, b)| a.checked_add(b))
                    } else {
                        unify(*a, *b).ok_or_else(|| {
                            format!("input {i} has {} where input 0 has {}", input.shape, inputs[0].shape)
                        })?
                    };
                }
            }
            ty(inputs[0].dtype, out)
        }
        Op::ExpandDims { axis } => {
            let axis = normalize_axis(*axis, dims(0).len() + 1)?;
            let mut out = dims(0).clone();
            out.insert(axis, Some(1));
            ty(inputs[0].dtype, out)
        }
        Op::Squeeze { axes } => {
            let d = dims(0);
            let axes: Vec<usize> = if axes.is_empty() {
                (0..d.len()).filter(|&i| d[i] == Some(1)).collect()
            } else {
                axes.iter().map(|&a| normalize_axis(a, d.len())).collect::<Result<_, _>>()?
            };
            for &a in &axes {
                if let Some(n) = d[a].filter(|&n| n != 1) {
                    return Err(format!("cannot squeeze dim {a} of size {n}"));
                }
            }
            let out = d.iter().enumerate().filter(|(i, _)| !axes.contains(i)).map(|(_, d)| *d).collect();
            ty(inputs[0].dtype, out)
        }
        Op::Transpose { perm } => {
            if perm.len() != dims(0).len() {
                return Err(format!("perm {perm:?} for an input of rank {}", dims(0).len()));
            }
            ty(inputs[0].dtype, perm.iter().map(|&p| dims(0)[p]).collect())
        }
        Op::StridedSlice(spec) => {
            // Unknown dims are resolved as size 0 and reported unknown.
            let d = dims(0);
            let probe: Vec<usize> = d.iter().map(|d| d.unwrap_or(0)).collect();
            let slices = spec.resolve(&probe)?;
            let out = slices.iter().zip(d).filter(|(s, _)| !s.dropped).map(|(s, dim)| dim.map(|_| s.len)).collect();
            ty(inputs[0].dtype, out)
        }
        Op::MatMul { transpose_a, transpose_b } => {
            expect_dtype(inputs, 0, DataType::F32)?;
            expect_dtype(inputs, 1, DataType::F32)?;
            let (a, b) = (dims(0), dims(1));
            if a.len() < 2 || a.len() != b.len() {
                return Err(format!(
                    "expected two matrices or two batches of them of one rank, got shapes {} and {}",
                    inputs[0].shape, inputs[1].shape
                ));
            }
            let r = a.len();
            let (m, ka) = if *transpose_a { (a[r - 1], a[r - 2]) } else { (a[r - 2], a[r - 1]) };
            let (kb, n) = if *transpose_b { (b[r - 1], b[r - 2]) } else { (b[r - 2], b[r - 1]) };
            unify(ka, kb)
                .ok_or_else(|| format!("inner dimensions disagree: {} @ {}", inputs[0].shape, inputs[1].shape))?;
            let mut out = a[..r - 2]
                .iter()
                .zip(&b[..r - 2])
                .map(|(&x, &y)| unify(x, y))
                .collect::<Option<Dims>>()
                .ok_or_else(|| format!("batch dimensions disagree: {} @ {}", inputs[0].shape, inputs[1].shape))?;
            out.extend([m, n]);
            ty(DataType::F32, out)
        }
        Op::Einsum(eq) => {
            expect_dtype(inputs, 0, DataType::F32)?;
            expect_dtype(inputs, 1, DataType::F32)?;
            let mut sizes: std::collections::BTreeMap<u8, Option<usize>> = Default::default();
            for (i, labels) in [&eq.a, &eq.b].into_iter().enumerate() {
                if labels.len() != dims(i).len() {
                    return Err(format!(
                        "input {i} is {}, the equation {} gives it {} dims",
                        inputs[i].shape,
                        eq.text(),
                        labels.len()
                    ));
                }
                for (&l, &d) in labels.iter().zip(dims(i)) {
                    let known = sizes.entry(l).or_insert(d);
                    *known = unify(*known, d).ok_or_else(|| {
                        format!(
                            "label {:?} of {} is {} and {}",
                            char::from(l),
                            eq.text(),
                            inputs[0].shape,
                            inputs[1].shape
                        )
                    })?;
                }
            }
            ty(DataType::F32, eq.out.iter().map(|l| sizes.get(l).copied().flatten()).collect())
        }
        Op::BiasAdd => {
            same_numeric(inputs)?;
            let (x, b) = (dims(0), dims(1));
            if x.is_empty() || b.len() != 1 || unify(x[x.len() - 1], b[0]).is_none() {
                return Err(format!("bias {} does not match the last dim of {}", inputs[1].shape, inputs[0].shape));
            }
            ty(inputs[0].dtype, x.clone())
        }
        Op::Binary(_) => {
            same_numeric(inputs)?;
            let out = broadcast_dims(dims(0), dims(1))
                .ok_or_else(|| format!("shapes {} and {} do not broadcast", inputs[0].shape, inputs[1].shape))?;
            ty(inputs[0].dtype, out)
        }
        Op::Compare(_) | Op::Logical { .. } => {
            if matches!(op, Op::Logical { .. }) {
                expect_dtype(inputs, 0, DataType::Bool)?;
                expect_dtype(inputs, 1, DataType::Bool)?;
            } else {
                same_numeric(inputs)?;
            }
            let out = broadcast_dims(dims(0), dims(1))
                .ok_or_else(|| format!("shapes {} and {} do not broadcast", inputs[0].shape, inputs[1].shape))?;
            ty(DataType::Bool, out)
        }
        Op::LogicalNot => {
            expect_dtype(inputs, 0, DataType::Bool)?;
            Ok(inputs[0].clone())
        }
        Op::Equal { .. } => {
            if inputs[1].dtype != inputs[0].dtype {
                return Err(format!("input 1 is {}, input 0 is {}", inputs[1].dtype, inputs[0].dtype));
            }
            let out = broadcast_dims(dims(0), dims(1))
                .ok_or_else(|| format!("shapes {} and {} do not broadcast", inputs[0].shape, inputs[1].shape))?;
            ty(DataType::Bool, out)
        }
        Op::Unary(_) | Op::Softmax => {
            expect_dtype(inputs, 0, DataType::F32)?;
            if matches!(op, Op::Softmax) && dims(0).is_empty() {
                return Err("softmax needs rank >= 1".into());
            }
            Ok(inputs[0].clone())
        }
        Op::ArgMax { axis } => {
            numeric(inputs, 0)?;
            let axis = normalize_axis(*axis, dims(0).len())?;
            let mut out = dims(0).clone();
            out.remove(axis);
            ty(DataType::I64, out)
        }
        Op::Reduce { axes, keep_dims, .. } => {
            numeric(inputs, 0)?;
            let d = dims(0);
            let axes = reduce_axes(axes, d.len())?;
            let out = d
                .iter()
                .enumerate()
                .filter_map(|(i, &n)| match (axes.contains(&i), keep_dims) {
                    (true, true) => Some(Some(1)),
                    (true, false) => None,
                    (false, _) => Some(n),
                })
                .collect();
            ty(inputs[0].dtype, out)
        }
        Op::Cast { to } => {
            if inputs[0].dtype == DataType::String {
                return Err("cannot cast a string tensor".into());
            }
            ty(*to, dims(0).clone())
        }
        Op::Gather { axis } => {
            if !matches!(inputs[1].dtype, DataType::I32 | DataType::I64) {
                return Err(format!("indices must be i32 or i64, got {}", inputs[1].dtype));
            }
            let p = dims(0);
            let axis = normalize_axis(*axis, p.len())?;
            let out = p[..axis].iter().chain(dims(1)).chain(&p[axis + 1..]).copied().collect();
            ty(inputs[0].dtype, out)
        }
        Op::TableLookup { table, .. } => {
            let keys = match **table {
                super::Table::Strings(_) => DataType::String,
                super::Table::Ints(_) => DataType::I64,
            };
            expect_dtype(inputs, 0, keys)?;
            ty(DataType::I64, dims(0).clone())
        }
        Op::VocabLookup { .. } | Op::HashBucket { .. } => {
            expect_dtype(inputs, 0, DataType::String)?;
            ty(DataType::I64, dims(0).clone())
        }
        Op::Select => {
            expect_dtype(inputs, 0, DataType::Bool)?;
            if inputs[2].dtype != inputs[1].dtype {
                return Err(format!("input 2 is {}, input 1 is {}", inputs[2].dtype, inputs[1].dtype));
            }
            let out = broadcast_dims(dims(0), dims(1)).and_then(|d| broadcast_dims(&d, dims(2))).ok_or_else(|| {
                format!("shapes {}, {} and {} do not broadcast", inputs[0].shape, inputs[1].shape, inputs[2].shape)
            })?;
            ty(inputs[1].dtype, out)
        }
        Op::Conv2D(sliding) | Op::DepthwiseConv2D(sliding) => {
            expect_dtype(inputs, 0, DataType::F32)?;
            expect_dtype(inputs, 1, DataType::F32)?;
            let (x, f) = (dims(0), dims(1));
            if x.len() != 4 || f.len() != 4 || unify(x[3], f[2]).is_none() {
                return Err(format!(
                    "expected an image [n, h, w, c] and a filter [kh, kw, c, f], got {} and {}",
                    inputs[0].shape, inputs[1].shape
                ));
            }
            let spatial = |d: usize| Some(sliding.output(d, x[1 + d]?, f[d]?).0);
            let channels = match op {
                Op::DepthwiseConv2D(_) => x[3].zip(f[3]).and_then(|(c, m)| c.checked_mul(m)),
                _ => f[3],
            };
            ty(DataType::F32, vec![x[0], spatial(0), spatial(1), channels])
        }
        Op::Pool { ksize, sliding, .. } => {
            expect_dtype(inputs, 0, DataType::F32)?;
            let x = dims(0);
            if x.len() != 4 {
                return Err(format!("expected an image [n, h, w, c], got {}", inputs[0].shape));
            }
            let spatial = |d: usize| x[1 + d].map(|n| sliding.output(d, n, ksize[d]).0);
            ty(DataType::F32, vec![x[0], spatial(0), spatial(1), x[3]])
        }
        Op::L2Loss => {
            expect_dtype(inputs, 0, DataType::F32)?;
            ty(DataType::F32, Vec::new())
        }
        Op::SoftmaxCrossEntropy => {
            expect_dtype(inputs, 0, DataType::F32)?;
            expect_dtype(inputs, 1, DataType::F32)?;
            let (l, y) = (dims(0), dims(1));
            if l.len() != 2 || !inputs[0].shape.compatible(&inputs[1].shape) {
                return Err(format!(
                    "logits {} and labels {} must be matrices of the same shape",
                    inputs[0].shape, inputs[1].shape
                ));
            }
            ty(DataType::F32, vec![unify(l[0], y[0]).flatten()])
        }
    }
}

/// Axes of a reduction, normalised; empty means all.
///
/// # Errors
/// A message if an axis is out of range.
pub fn reduce_axes(axes: &[i64], rank: usize) -> Result<Vec<usize>, String> {
    if axes.is_empty() {
        return Ok((0..rank).collect());
    }
    axes.iter().map(|&a| normalize_axis(a, rank)).collect()
}

/// NumPy broadcasting of two declared shapes; `None` if they cannot agree.
pub(crate) fn broadcast_dims(a: &[Option<usize>], b: &[Option<usize>]) -> Option<Dims> {
    let rank = a.len().max(b.len());
    let at = |s: &[Option<usize>], i: usize| if i < rank - s.len() { Some(1) } else { s[i - (rank - s.len())] };
    (0..rank)
        .map(|i| match (at(a, i), at(b, i)) {
            (Some(1), d) | (d, Some(1)) => Some(d),
            (Some(x), Some(y)) if x == y => Some(Some(x)),
            (Some(_), Some(_)) => None,
            (Some(x), None) | (None, Some(x)) => Some(Some(x)),
            (None, None) => Some(None),
        })
        .collect()
}

/// The common value of two declared dims, `Some(None)` if both unknown,
/// `None` if they contradict.
fn unify(a: Option<usize>, b: Option<usize>) -> Option<Option<usize>> {
    match (a, b) {
        (Some(x), Some(y)) if x != y => None,
        (Some(x), _) | (_, Some(x)) => Some(Some(x)),
        (None, None) => Some(None),
    }
}

fn known_count(dims: &Dims) -> Option<usize> {
    dims.iter().try_fold(1usize, |n, d| d.and_then(|d| n.checked_mul(d)))
}

fn expect_dtype(inputs: &[TensorType], i: usize, dtype: DataType) -> Result<(), String> {
    if inputs[i].dtype == dtype { Ok(()) } else { Err(format!("input {i}: expected {dtype}, got {}", inputs[i].dtype)) }
}

fn numeric(inputs: &[TensorType], i: usize) -> Result<(), String> {
    if inputs[i].dtype.is_numeric() {
        Ok(())
    } else {
        Err(format!("input {i}: expected a numeric dtype, got {}", inputs[i].dtype))
    }
}

fn same_numeric(inputs: &[TensorType]) -> Result<(), String> {
    numeric(inputs, 0)?;
    if inputs[1].dtype != inputs[0].dtype {
        return Err(format!("input 1 is {}, input 0 is {}", inputs[1].dtype, inputs[0].dtype));
    }
    Ok(())
}
