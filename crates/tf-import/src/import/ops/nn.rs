//! Neural-network ops: convolutions and pools over NHWC images (their
//! window attributes read into our [`Sliding`]), and batch normalisation.

use opset::Tensor;
use opset::ops::OpDef;
use opset::ops::array::{Const, Reshape};
use opset::ops::math::{Add, Mul, ReduceMean, Rsqrt, Square, Sub};
use opset::ops::nn::{AvgPool, Conv2D, DepthwiseConv2D, MAX_STEP, MaxPool, Sliding};

use super::Translate;
use crate::Result;
use crate::import::shapes::sizes;
use crate::import::{AttrV, Importer, attr, node_error};
use crate::pb;

/// The TensorFlow ops of this family, by name.
pub(super) const OPS: &[(&str, Translate)] = &[
    ("Conv2D", convolution::<Conv2D>),
    ("DepthwiseConv2dNative", convolution::<DepthwiseConv2D>),
    ("MaxPool", pool::<MaxPool>),
    ("AvgPool", pool::<AvgPool>),
    ("FusedBatchNorm", batch_norm),
    ("FusedBatchNormV2", batch_norm),
    ("FusedBatchNormV3", batch_norm),
];

/// Our convolutions, built from how the filter slides.
trait Convolution: OpDef {
    /// The convolution sliding as `sliding` says.
    fn sliding(sliding: Sliding) -> Self;
}

impl Convolution for Conv2D {
    fn sliding(sliding: Sliding) -> Conv2D {
        Conv2D { sliding }
    }
}

impl Convolution for DepthwiseConv2D {
    fn sliding(sliding: Sliding) -> DepthwiseConv2D {
        DepthwiseConv2D { sliding }
    }
}

/// Our pools, built from their window and how it slides.
trait Pool: OpDef {
    /// The pool over `ksize` windows sliding as `sliding` says.
    fn window(ksize: [usize; 2], sliding: Sliding) -> Self;
}

impl Pool for MaxPool {
    fn window(ksize: [usize; 2], sliding: Sliding) -> MaxPool {
        MaxPool { ksize, sliding }
    }
}

impl Pool for AvgPool {
    fn window(ksize: [usize; 2], sliding: Sliding) -> AvgPool {
        AvgPool { ksize, sliding }
    }
}

/// `Conv2D` or `DepthwiseConv2dNative` of an image (input 0) by a filter (input 1).
fn convolution<'a, O: Convolution>(
    im: &mut Importer<'a>,
    scope: usize,
    node: &'a pb::NodeDef,
    _: usize,
) -> Result<String> {
    attr::nhwc(node)?;
    let strides = window_pair(node, "strides")?;
    let dilations = window_pair(node, "dilations")?;
    let sliding = Sliding { strides, dilations, same: same_padding(node)? };
    let x_filter = im.inputs(scope, node, 0..2)?;
    im.emit(scope, node, O::sliding(sliding), &x_filter)
}

/// `MaxPool` or `AvgPool` of an image.
fn pool<'a, O: Pool>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    attr::nhwc(node)?;
    let ksize = window_pair(node, "ksize")?;
    let strides = window_pair(node, "strides")?;
    let sliding = Sliding { strides, dilations: [1, 1], same: same_padding(node)? };
    let x = im.input(scope, node, 0)?;
    im.emit(scope, node, O::window(ksize, sliding), &[x])
}

/// The (height, width) entries of the NHWC window attribute `key`
/// (`[1, h, w, 1]`), each in `1..=MAX_STEP`; `dilations` may be absent (1).
fn window_pair(node: &pb::NodeDef, key: &str) -> Result<[usize; 2]> {
    let values = match attr::get(node, key) {
        Some(AttrV::List(l)) => l.i.clone(),
        None if key == "dilations" => vec![1, 1, 1, 1],
        _ => return Err(node_error(node, format!("no {key} list"))),
    };
    let &[1, h, w, 1] = values.as_slice() else {
        return Err(node_error(node, format!("{key} {values:?}: expected [1, height, width, 1]")));
    };
    let hw = sizes(node, key, &[h, w], 1..=MAX_STEP)?;
    Ok([hw[0], hw[1]])
}

/// Whether the padding is `SAME` rather than `VALID` (explicit paddings
/// are not supported).
fn same_padding(node: &pb::NodeDef) -> Result<bool> {
    match attr::bytes(node, "padding") {
        Some(b"SAME") => Ok(true),
        Some(b"VALID") => Ok(false),
        Some(p) => Err(node_error(node, format!("padding {:?} is not supported", String::from_utf8_lossy(p)))),
        None => Err(node_error(node, "no padding")),
    }
}

/// Batch normalisation of a 4-D input, `x * inv + (offset - mean * inv)`
/// with `inv = scale / sqrt(variance + epsilon)` per channel (the last
/// dim in NHWC, dim 1 in NCHW). In inference the statistics are inputs
/// and everything but the two ops on `x` folds at load; in training mode
/// (`is_training`, TensorFlow's default) they are the batch's own, over
/// every other dim: that is how Keras's `LayerNormalization` runs, with
/// scale and offset filled with ones and zeros.
fn batch_norm<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    let training = !matches!(attr::get(node, "is_training"), Some(AttrV::B(false)));
    let nchw = match attr::bytes(node, "data_format") {
        Some(b"NCHW") => true,
        Some(f) if f != b"NHWC" => {
            return Err(node_error(node, "only the NHWC and NCHW data formats are supported"));
        }
        _ => false,
    };
    let epsilon = attr::float_or(node, "epsilon", 1e-4);
    let base = im.base(scope, node);
    let x = im.input(scope, node, 0)?;
    // A per-channel vector, laid along the channel dim.
    let channels = |im: &mut Importer<'a>, i: usize, name: &str| -> Result<String> {
        let t = im.input(scope, node, i)?;
        if nchw {
            im.emit_named(node, format!("{base}/{name}_nchw"), Reshape { shape: vec![1, -1, 1, 1] }, &[t])
        } else {
            Ok(t)
        }
    };
    let (mean, variance) = if training {
        let over_all_but_channels =
            || ReduceMean { axes: if nchw { vec![0, 2, 3] } else { vec![0, 1, 2] }, keep_dims: true };
        let mean = im.emit_named(node, format!("{base}/mean"), over_all_but_channels(), std::slice::from_ref(&x))?;
        let centered = im.emit_named(node, format!("{base}/centered"), Sub, &[x.clone(), mean.clone()])?;
        let squares = im.emit_named(node, format!("{base}/squares"), Square, &[centered])?;
        let variance = im.emit_named(node, format!("{base}/variance"), over_all_but_channels(), &[squares])?;
        (mean, variance)
    } else {
        (channels(im, 3, "mean")?, channels(im, 4, "variance")?)
    };
    // Keras fills scale and offset to the channel count at run time:
    // their one value broadcasts the same.
    let scale = match filled_value(im, scope, node, 1)? {
        Some(v) => v,
        None => channels(im, 1, "scale")?,
    };
    let offset = match filled_value(im, scope, node, 2)? {
        Some(v) => v,
        None => channels(im, 2, "offset")?,
    };
    let eps = im.emit_named(node, format!("{base}/epsilon"), Const { value: Tensor::scalar(epsilon) }, &[])?;
    let var_eps = im.emit_named(node, format!("{base}/variance_epsilon"), Add, &[variance, eps])?;
    let rsqrt = im.emit_named(node, format!("{base}/rsqrt"), Rsqrt, &[var_eps])?;
    let inv = im.emit_named(node, format!("{base}/inv"), Mul, &[rsqrt, scale])?;
    let shift = im.emit_named(node, format!("{base}/mean_inv"), Mul, &[mean, inv.clone()])?;
    let bias = im.emit_named(node, format!("{base}/bias"), Sub, &[offset, shift])?;
    let scaled = im.emit_named(node, format!("{base}/scaled"), Mul, &[x, inv])?;
    im.emit(scope, node, Add, &[scaled, bias])
}

/// If input `i` of `node` is a `Fill`, the value it fills with (translated).
fn filled_value<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, i: usize) -> Result<Option<String>> {
    let reference =
        Importer::data_inputs(node).get(i).copied().ok_or_else(|| node_error(node, format!("no input {i}")))?;
    let (at, reference) = im.outer(scope, reference);
    let producer = im.node(at, reference)?;
    if producer.op != "Fill" {
        return Ok(None);
    }
    Ok(Some(im.input(at, producer, 1)?))
}
