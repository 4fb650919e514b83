//! Array ops: shapes, tiling, padding, slicing, gathering, concatenation,
//! casts and the constants TensorFlow computes from shapes (`Range`,
//! `Fill`, `ZerosLike`...), folded when they can be; one-hot rows.

use opset::ops::MAX_ELEMENTS;
use opset::ops::array::{
    Cast, Concat, Const, ExpandDims, Gather, GatherNd, OneHot, Pad, Range, Reshape, ReshapeTo, Reverse,
    ReverseSequence, Select, ShapeOf, Slice, SliceSpec, Squeeze, StridedSlice, Tile, TileBy, Transpose, Unique,
    UniqueOutput, Where,
};
use opset::{DataType, Shape, Tensor};

use super::{Translate, as_dtype, same_op};
use crate::Result;
use crate::import::shapes::{range_values, sizes};
use crate::import::{AttrV, Importer, attr, node_error};
use crate::pb;

/// The TensorFlow ops of this family, by name.
pub(super) const OPS: &[(&str, Translate)] = &[
    ("Reshape", reshape),
    ("ExpandDims", expand_dims),
    ("Squeeze", squeeze),
    ("Transpose", transpose),
    ("Tile", tile),
    ("Fill", fill),
    ("Pad", pad),
    ("PadV2", pad_v2),
    ("ConcatV2", concat),
    ("Pack", pack),
    ("StridedSlice", strided_slice),
    ("GatherV2", gather),
    ("ResourceGather", resource_gather),
    ("Cast", cast),
    ("SelectV2", same_op::<Select, 3>),
    ("Select", select_v1),
    ("GatherNd", gather_nd),
    ("Shape", shape),
    ("Range", range),
    ("ZerosLike", zeros_like),
    ("OnesLike", ones_like),
    ("ReverseSequence", reverse_sequence),
    ("ReverseV2", reverse),
    ("OneHot", one_hot),
    ("Split", split),
    ("Unpack", unpack),
    ("Unique", unique),
    ("Where", same_op::<Where, 1>),
    ("Slice", same_op::<Slice, 3>),
];

/// `Reshape` to a shape folded to integers, one size known only at run
/// time (the batch) becoming -1; with more sizes known only at run time (a
/// batch and a sequence length), `ReshapeTo` the shape computed then.
fn reshape<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    let x = im.input(scope, node, 0)?;
    let dims = im.dims(scope, node, 1)?;
    if dims.iter().filter(|d| d.is_none()).count() > 1 {
        let declared = Shape(dims.iter().map(|d| d.and_then(|d| usize::try_from(d).ok())).collect());
        let shape = im.input(scope, node, 1)?;
        return im.emit(scope, node, ReshapeTo { shape: declared }, &[x, shape]);
    }
    let shape = dims.iter().map(|d| d.unwrap_or(-1)).collect();
    im.emit(scope, node, Reshape { shape }, &[x])
}

/// `ExpandDims` at a constant axis.
fn expand_dims<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    let x = im.input(scope, node, 0)?;
    let axis = im.int(scope, node, 1)?;
    im.emit(scope, node, ExpandDims { axis }, &[x])
}

/// `Squeeze` of the `squeeze_dims` (all dims of 1 when none is given).
fn squeeze<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    let x = im.input(scope, node, 0)?;
    let axes = match attr::get(node, "squeeze_dims") {
        Some(AttrV::List(l)) => l.i.clone(),
        _ => Vec::new(),
    };
    im.emit(scope, node, Squeeze { axes }, &[x])
}

/// `Transpose` by a constant permutation.
fn transpose<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    let x = im.input(scope, node, 0)?;
    let perm = sizes(node, "perm", &im.ints(scope, node, 1)?, 0..=MAX_ELEMENTS)?;
    im.emit(scope, node, Transpose { perm }, &[x])
}

/// `Tile` by multiples that fold to integers, `TileBy` by run-time ones.
fn tile<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    let x = im.input(scope, node, 0)?;
    tiled(im, scope, node, x, 1)
}

/// `Fill`: the value reshaped to the rank of the dims with dims of 1,
/// tiled by the dims.
fn fill<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    let rank = im.dims(scope, node, 0)?.len();
    let value = im.input(scope, node, 1)?;
    let cell = format!("{}/cell", im.base(scope, node));
    let cell = im.emit_named(node, cell, Reshape { shape: vec![1; rank] }, &[value])?;
    tiled(im, scope, node, cell, 0)
}

/// Our tensor `x` tiled by input `i` of `node`: by fixed multiples when
/// they fold to integers, else by the multiples computed at run time (a
/// batch size).
fn tiled<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, x: String, i: usize) -> Result<String> {
    match im.ints(scope, node, i) {
        Ok(multiples) => {
            let multiples = sizes(node, "multiples", &multiples, 0..=MAX_ELEMENTS)?;
            im.emit(scope, node, Tile { multiples }, &[x])
        }
        Err(_) => {
            let multiples = im.input(scope, node, i)?;
            im.emit(scope, node, TileBy, &[x, multiples])
        }
    }
}

/// `Pad` with zeros.
fn pad<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    padded(im, scope, node, false)
}

/// `PadV2`: `Pad` with the constant value of input 2.
fn pad_v2<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    padded(im, scope, node, true)
}

/// Our `Pad` of input 0 by the constant paddings of input 1 (`[rank, 2]`:
/// before and after each dim), with the constant value of input 2 when
/// `with_value` (else zeros).
fn padded<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, with_value: bool) -> Result<String> {
    let x = im.input(scope, node, 0)?;
    let ints = im.ints(scope, node, 1)?;
    let flat = sizes(node, "paddings", &ints, 0..=MAX_ELEMENTS)?;
    if flat.len() % 2 != 0 {
        return Err(node_error(node, format!("paddings {ints:?}: expected pairs (before, after)")));
    }
    let paddings = flat.chunks_exact(2).map(|p| [p[0], p[1]]).collect();
    let value = if with_value {
        let reference = Importer::data_inputs(node).get(2).copied().unwrap_or_default();
        let (at, reference) = im.outer(scope, reference);
        let value = im.constant_node(im.node(at, reference)?)?;
        if value.len() != 1 {
            return Err(node_error(node, format!("the padding value has shape {:?}, not a scalar", value.shape())));
        }
        Some(value)
    } else {
        None
    };
    im.emit(scope, node, Pad { paddings, value }, &[x])
}

/// `ConcatV2`: the inputs but the last, along the constant axis the last gives.
fn concat<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    let n = Importer::data_inputs(node).len().saturating_sub(1);
    let axis = im.int(scope, node, n)?;
    let xs = im.inputs(scope, node, 0..n)?;
    im.emit(scope, node, Concat { axis }, &xs)
}

/// `Pack` (`tf.stack`): each input expanded at the axis, concatenated along it.
fn pack<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    let axis = attr::int_or(node, "axis", 0);
    let n = Importer::data_inputs(node).len();
    let mut parts = Vec::with_capacity(n);
    for i in 0..n {
        let x = im.input(scope, node, i)?;
        let base = format!("{}/expand_{i}", im.base(scope, node));
        parts.push(im.emit_named(node, base, ExpandDims { axis }, &[x])?);
    }
    im.emit(scope, node, Concat { axis }, &parts)
}

/// `StridedSlice` with constant bounds.
fn strided_slice<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    let x = im.input(scope, node, 0)?;
    let spec = im.slice_spec(scope, node)?;
    im.emit(scope, node, StridedSlice { spec }, &[x])
}

/// `GatherV2` along a constant axis.
fn gather<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    no_batch_dims(node)?;
    let params = im.input(scope, node, 0)?;
    let indices = im.input(scope, node, 1)?;
    let axis = im.int(scope, node, 2)?;
    im.emit(scope, node, Gather { axis }, &[params, indices])
}

/// `ResourceGather`: rows of a variable (an embedding lookup).
fn resource_gather<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    no_batch_dims(node)?;
    let params = im.variable(scope, Importer::resource_input(node)?)?;
    let indices = im.input(scope, node, 1)?;
    im.emit(scope, node, Gather { axis: 0 }, &[params, indices])
}

/// Refuses a gather with batch dims (ours has none).
fn no_batch_dims(node: &pb::NodeDef) -> Result<()> {
    if attr::int(node, "batch_dims").is_some_and(|b| b != 0) {
        return Err(node_error(node, "batch_dims other than 0 is not supported"));
    }
    Ok(())
}

/// `Cast` to the `DstT` dtype.
fn cast<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    let to = attr::dtype(node, "DstT")?;
    let x = im.input(scope, node, 0)?;
    im.emit(scope, node, Cast { to }, &[x])
}

/// `Shape` computed at run time (reached only when a shape is needed then:
/// folded otherwise), cast to its `out_type`.
fn shape<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    let x = im.input(scope, node, 0)?;
    let shape = im.emit(scope, node, ShapeOf, &[x])?;
    as_dtype(im, node, shape, attr::dtype(node, "out_type").unwrap_or(DataType::I32))
}

/// `Range`: with bounds fixed in the graph (a class count), folded to a
/// constant; with bounds known only at run time (a batch size, a sequence
/// length), our `Range`.
fn range<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    let [start, limit, delta] = [0, 1, 2].map(|i| im.int(scope, node, i));
    let (Ok(start), Ok(limit), Ok(delta)) = (start, limit, delta) else {
        let bounds = im.inputs(scope, node, 0..3)?;
        return im.emit(scope, node, Range, &bounds);
    };
    let values = range_values(node, start, limit, delta)?;
    let value = match attr::dtype(node, "Tidx").unwrap_or(DataType::I32) {
        DataType::I64 => Tensor::from_vec(vec![values.len()], values)?,
        DataType::I32 => {
            let values: Vec<i32> = values.iter().map(|&v| v as i32).collect();
            Tensor::from_vec(vec![values.len()], values)?
        }
        other => return Err(node_error(node, format!("a range of {other} is not supported"))),
    };
    im.emit(scope, node, Const { value }, &[])
}

/// TensorFlow 1's `Select(cond, x, y)`: where `cond` is a vector and `x` of
/// a higher rank, `cond` picks whole rows (`cond[i]` for `x[i, ...]`), so it
/// is reshaped to `[n, 1, ..., 1]` for our broadcasting `Select`; otherwise
/// (same shapes, a scalar) it is `SelectV2`'s.
fn select_v1<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    let [cond, x, y] = <[String; 3]>::try_from(im.inputs(scope, node, 0..3)?)
        .map_err(|_| node_error(node, "expected three inputs"))?;
    let (cond_rank, rank) = (im.type_of(node, &cond)?.dims().len(), im.type_of(node, &x)?.dims().len());
    let cond = if cond_rank == 1 && rank > 1 {
        let shape = std::iter::once(-1).chain(std::iter::repeat_n(1, rank - 1)).collect();
        im.emit_named(node, format!("{}/rows", im.base(scope, node)), Reshape { shape }, &[cond])?
    } else {
        cond
    };
    im.emit(scope, node, Select, &[cond, x, y])
}

/// `GatherNd(params, indices)`.
fn gather_nd<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    let inputs = im.inputs(scope, node, 0..2)?;
    im.emit(scope, node, GatherNd, &inputs)
}

/// `ZerosLike`.
fn zeros_like<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    constant_like(im, scope, node, false)
}

/// `OnesLike`.
fn ones_like<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    constant_like(im, scope, node, true)
}

/// Zeros (ones if `one`) of input 0's dtype and shape: a cell of the
/// constant tiled by the input's shape, which the predictor computes from
/// shapes alone (the input's own value is never needed).
fn constant_like<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, one: bool) -> Result<String> {
    let x = im.input(scope, node, 0)?;
    let value = match attr::dtype(node, "T")? {
        DataType::F32 => Tensor::scalar(if one { 1.0f32 } else { 0.0 }),
        DataType::I64 => Tensor::scalar(i64::from(one)),
        DataType::I32 => Tensor::scalar(i32::from(one)),
        DataType::Bool => Tensor::scalar(one),
        other => return Err(node_error(node, format!("{} of {other} is not supported", node.op))),
    };
    let dims = im.type_of(node, &x)?.dims().to_vec();
    let base = im.base(scope, node);
    let cell = value.reshape(&vec![1; dims.len()]).map_err(|e| node_error(node, e.to_string()))?;
    let cell = im.emit_named(node, format!("{base}/cell"), Const { value: cell }, &[])?;
    if let Some(multiples) = dims.iter().copied().collect::<Option<Vec<usize>>>() {
        return im.emit(scope, node, Tile { multiples }, &[cell]);
    }
    let shape = im.emit_named(node, format!("{base}/shape"), ShapeOf, &[x])?;
    im.emit(scope, node, TileBy, &[cell, shape])
}

/// `ReverseSequence` along `seq_dim`, the sequences indexed by `batch_dim`
/// (default 0), each reversed within its length.
fn reverse_sequence<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    let seq_axis = attr::int(node, "seq_dim").ok_or_else(|| node_error(node, "no seq_dim"))?;
    let op = ReverseSequence { seq_axis, batch_axis: attr::int_or(node, "batch_dim", 0) };
    let (x, lengths) = (im.input(scope, node, 0)?, im.input(scope, node, 1)?);
    im.emit(scope, node, op, &[x, lengths])
}

/// `ReverseV2` along constant axes.
fn reverse<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    let x = im.input(scope, node, 0)?;
    let axes = im.ints(scope, node, 1)?;
    im.emit(scope, node, Reverse { axes }, &[x])
}

/// `OneHot(indices, depth, on_value, off_value)` (`tf.one_hot`): our
/// `OneHot`, its `depth` folded to a constant, the new dim at attribute
/// `axis` (-1, the default: last).
fn one_hot<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    let depth = im.int(scope, node, 1)?;
    let depth = sizes(node, "depth", &[depth], 0..=MAX_ELEMENTS)?[0];
    let axis = attr::int_or(node, "axis", -1);
    let [indices, on, off] = [0, 2, 3].map(|i| im.input(scope, node, i));
    im.emit(scope, node, OneHot { depth, axis }, &[indices?, on?, off?])
}

/// Output `index` of `Split(axis, value)` into `num_split` equal parts:
/// the slice of part `index` along the axis (whose size must be known).
fn split<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, index: usize) -> Result<String> {
    let parts = attr::int(node, "num_split").filter(|&n| n >= 1).ok_or_else(|| node_error(node, "no num_split"))?;
    let x = im.input(scope, node, 1)?;
    let axis = im.int(scope, node, 0)?;
    let (rank, size) = axis_size(im, node, &x, axis)?;
    if size % parts != 0 || index as i64 >= parts {
        return Err(node_error(node, format!("output {index} of {size} elements split {parts} ways")));
    }
    let part = size / parts;
    let spec = axis_slice(rank, axis, index as i64 * part, (index as i64 + 1) * part, false);
    im.emit_named(node, format!("{}/output_{index}", im.base(scope, node)), StridedSlice { spec }, &[x])
}

/// Output `index` of `Unpack` (`tf.unstack`) along `axis`: the slice at
/// `index`, that dim dropped.
fn unpack<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, index: usize) -> Result<String> {
    let x = im.input(scope, node, 0)?;
    let axis = attr::int_or(node, "axis", 0);
    let (rank, size) = axis_size(im, node, &x, axis)?;
    if index as i64 >= size {
        return Err(node_error(node, format!("output {index} of an unstack of {size}")));
    }
    let spec = axis_slice(rank, axis, index as i64, index as i64 + 1, true);
    im.emit_named(node, format!("{}/output_{index}", im.base(scope, node)), StridedSlice { spec }, &[x])
}

/// The rank of our tensor `x` and the (known) size of its dim `axis`.
fn axis_size(im: &Importer<'_>, node: &pb::NodeDef, x: &str, axis: i64) -> Result<(usize, i64)> {
    let dims = im.type_of(node, x)?.dims().to_vec();
    if dims.len() > 32 {
        return Err(node_error(node, format!("{x:?} has rank {}: at most 32 can be sliced", dims.len())));
    }
    let d = opset::ops::normalize_axis(axis, dims.len()).map_err(|e| node_error(node, e.to_string()))?;
    let size = dims[d].ok_or_else(|| node_error(node, format!("dim {d} of {x:?} is known only at run time")))?;
    Ok((dims.len(), i64::try_from(size).map_err(|_| node_error(node, "dim too large"))?))
}

/// The slice `begin..end` along `axis` of a tensor of `rank` dims (the
/// other dims whole); `shrink` drops the axis (one index).
fn axis_slice(rank: usize, axis: i64, begin: i64, end: i64, shrink: bool) -> SliceSpec {
    let d = if axis < 0 { axis + rank as i64 } else { axis } as usize;
    let whole = ((1i64 << rank) - 1) & !(1 << d);
    let mut spec = SliceSpec {
        begin: vec![0; rank],
        end: vec![0; rank],
        strides: vec![1; rank],
        begin_mask: whole,
        end_mask: whole,
        shrink_axis_mask: if shrink { 1 << d } else { 0 },
    };
    spec.begin[d] = begin;
    spec.end[d] = end;
    spec
}

/// Output `index` of `Unique` (y, idx): our op yielding that output, its
/// `out_idx` dtype (i32 when absent, as TensorFlow's default).
fn unique<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, index: usize) -> Result<String> {
    let output =
        UniqueOutput::from_index(index).ok_or_else(|| node_error(node, format!("output {index} of Unique's 2")))?;
    let out_idx = if attr::get(node, "out_idx").is_some() { attr::dtype(node, "out_idx")? } else { DataType::I32 };
    let x = im.input(scope, node, 0)?;
    let base = format!("{}/{}", im.base(scope, node), output.name());
    im.emit_named(node, base, Unique { output, out_idx }, &[x])
}
