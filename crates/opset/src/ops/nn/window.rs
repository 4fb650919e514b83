//! Windows sliding over the height and width of NHWC images: the geometry
//! the convolutions and pools share, with TensorFlow's rules, and what their
//! files would otherwise repeat (reading and writing the window attributes,
//! the image checks of their output rules and kernels).

use crate::graph::{Attr, Node};
use crate::ops::OpError;
use crate::ops::kernel::checked_len;
use crate::ops::rule::{self, TensorType};
use crate::{DataType, Result, Tensor};

/// How a window moves over the two spatial dims (height, then width).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sliding {
    /// Steps between window positions, >= 1.
    pub strides: [usize; 2],
    /// Spacing between the window's taps, >= 1 (1: contiguous).
    pub dilations: [usize; 2],
    /// `SAME` padding (as many outputs as `ceil(input / stride)`, the input
    /// padded evenly, the extra row or column after) rather than `VALID`
    /// (windows entirely inside the input).
    pub same: bool,
}

/// The largest stride, dilation or window size accepted: far past any
/// model, and small enough that their products cannot overflow.
pub const MAX_STEP: usize = 1 << 16;

impl Sliding {
    /// Reads `strides`, `padding` (`"SAME"` or `"VALID"`) and, when
    /// `dilated` (a convolution), the optional `dilations` of `node`.
    ///
    /// # Errors
    /// [`crate::Error::Node`] for a missing attribute, an unknown padding,
    /// or a pair that is not 2 ints in `1..=MAX_STEP`.
    pub(crate) fn parse(node: &Node, dilated: bool) -> Result<Sliding> {
        let same = match node.attr_str("padding")? {
            "SAME" => true,
            "VALID" => false,
            other => return Err(node.error(format!("padding {other:?}: expected \"SAME\" or \"VALID\""))),
        };
        let dilations = if dilated && node.attrs.contains_key("dilations") { pair(node, "dilations")? } else { [1, 1] };
        Ok(Sliding { strides: pair(node, "strides")?, dilations, same })
    }

    /// The attributes [`Sliding::parse`] reads back (with `dilations` when
    /// `dilated`).
    pub(crate) fn attrs(&self, dilated: bool) -> Vec<(&'static str, Attr)> {
        let padding = if self.same { "SAME" } else { "VALID" };
        let mut attrs = vec![("strides", pair_attr(self.strides)), ("padding", Attr::Str(padding.into()))];
        if dilated {
            attrs.push(("dilations", pair_attr(self.dilations)));
        }
        attrs
    }

    /// The output size and the padding before the input along spatial dim
    /// `d` (0: height, 1: width) for a window of `size` taps (>= 1) over
    /// `input` elements.
    #[inline]
    pub fn output(&self, d: usize, input: usize, size: usize) -> (usize, usize) {
        let (stride, dilation) = self.steps(d);
        let span = (size.max(1) - 1).saturating_mul(dilation).saturating_add(1);
        if self.same {
            let out = input.div_ceil(stride);
            let needed = out.saturating_sub(1).saturating_mul(stride).saturating_add(span);
            (out, needed.saturating_sub(input) / 2)
        } else if input >= span {
            ((input - span) / stride + 1, 0)
        } else {
            (0, 0)
        }
    }

    /// The stride and dilation along dim `d`, at least 1.
    #[inline]
    fn steps(&self, d: usize) -> (usize, usize) {
        (self.strides[d].max(1), self.dilations[d].max(1))
    }

    /// The taps of the window at output position `o` along dim `d` that
    /// fall inside the input (`k` such that `o * stride + k * dilation -
    /// pad` is in `0..input`), among `0..size`: computed, not searched, so
    /// that a huge window over a small input costs what it covers.
    #[inline]
    fn taps(&self, d: usize, o: usize, size: usize, pad: usize, input: usize) -> std::ops::Range<usize> {
        let (stride, dilation) = self.steps(d);
        let start = o.saturating_mul(stride);
        // The first k with start + k * dilation >= pad, and the first past input + pad.
        let first = pad.saturating_sub(start).div_ceil(dilation);
        let end = input.saturating_add(pad).saturating_sub(start).div_ceil(dilation);
        first.min(size)..end.min(size)
    }

    /// The output's `[oh, ow]` for an `[h, w]` input and a `[kh, kw]` window.
    pub fn output_dims(&self, [h, w]: [usize; 2], [kh, kw]: [usize; 2]) -> [usize; 2] {
        [self.output(0, h, kh).0, self.output(1, w, kw).0]
    }

    /// Calls `visit(out_pixel, tap, in_pixel)` for every tap of every window
    /// that falls inside the input (padding is skipped), grouped by output
    /// pixel in order: `out_pixel` indexes `[n, oh, ow]`, `tap` `[kh, kw]`
    /// and `in_pixel` `[n, h, w]`, row-major. The one walk that the kernels
    /// and their gradients share.
    #[inline]
    pub fn for_each_tap(
        &self,
        [n, h, w]: [usize; 3],
        [kh, kw]: [usize; 2],
        mut visit: impl FnMut(usize, usize, usize),
    ) {
        let ((oh, top), (ow, left)) = (self.output(0, h, kh), self.output(1, w, kw));
        let ((sy, dy), (sx, dx)) = (self.steps(0), self.steps(1));
        for b in 0..n {
            for oy in 0..oh {
                for ox in 0..ow {
                    let out = (b * oh + oy) * ow + ox;
                    for ky in self.taps(0, oy, kh, top, h) {
                        let iy = oy * sy + ky * dy - top;
                        for kx in self.taps(1, ox, kw, left, w) {
                            let ix = ox * sx + kx * dx - left;
                            visit(out, ky * kw + kx, (b * h + iy) * w + ix);
                        }
                    }
                }
            }
        }
    }
}

/// Two positive ints (height, width) of attribute `key`, each at most
/// [`MAX_STEP`].
///
/// # Errors
/// [`crate::Error::Node`] naming the attribute and the expected range.
pub(crate) fn pair(node: &Node, key: &str) -> Result<[usize; 2]> {
    match node.attr_ints(key)? {
        &[a, b] if [a, b].iter().all(|&v| (1..=MAX_STEP as i64).contains(&v)) => Ok([a as usize, b as usize]),
        other => Err(node.error(format!("{key} {other:?}: expected 2 ints in 1..={MAX_STEP}"))),
    }
}

/// A (height, width) pair as the ints attribute [`pair`] reads.
pub(crate) fn pair_attr(v: [usize; 2]) -> Attr {
    Attr::Ints(v.iter().map(|&k| i64::try_from(k).unwrap_or(i64::MAX)).collect())
}

/// A pool's window and sliding, as `MaxPool` and `AvgPool` read them:
/// `ksize`, `strides` and `padding` (no dilations).
///
/// # Errors
/// As [`Sliding::parse`].
pub(super) fn parse_pool(node: &Node) -> Result<([usize; 2], Sliding)> {
    Ok((pair(node, "ksize")?, Sliding::parse(node, false)?))
}

/// The attributes [`parse_pool`] reads back.
pub(super) fn pool_attrs(ksize: [usize; 2], sliding: &Sliding) -> Vec<(&'static str, Attr)> {
    let mut attrs = sliding.attrs(false);
    attrs.push(("ksize", pair_attr(ksize)));
    attrs
}

/// The four dims of an NHWC tensor (or an HWIO filter).
///
/// # Errors
/// [`OpError::Shape`] for another rank.
pub(super) fn dims4(t: &Tensor, what: &str) -> std::result::Result<[usize; 4], OpError> {
    <[usize; 4]>::try_from(t.shape())
        .map_err(|_| OpError::shape(format!("expected {what} of rank 4, got shape {:?}", t.shape())))
}

/// The dims of a convolution's image `[n, h, w, c]` and filter
/// `[kh, kw, c, f]`, whose channels must agree.
///
/// # Errors
/// [`OpError::Shape`] for another rank or disagreeing channels.
pub(super) fn conv_dims(x: &Tensor, filter: &Tensor) -> std::result::Result<([usize; 4], [usize; 4]), OpError> {
    let (xd, fd) = (dims4(x, "an image")?, dims4(filter, "a filter")?);
    if fd[2] != xd[3] {
        return Err(OpError::shape(format!("the filter takes {} channels, the image has {}", fd[2], xd[3])));
    }
    Ok((xd, fd))
}

/// The output shape `[n, oh, ow, channels]` of windows of `window` over the
/// image of dims `[n, h, w, _]`, refused past the element limit (the pixel
/// count alone too, as the walk visits every output pixel).
///
/// # Errors
/// [`OpError::TooLarge`].
pub(super) fn output_shape(
    sliding: &Sliding,
    [n, h, w, _]: [usize; 4],
    window: [usize; 2],
    channels: usize,
) -> std::result::Result<Vec<usize>, OpError> {
    let [oh, ow] = sliding.output_dims([h, w], window);
    let shape = vec![n, oh, ow, channels];
    checked_len(&shape)?;
    checked_len(&shape[..3])?;
    Ok(shape)
}

/// The output rule the convolutions share: an f32 image `[n, h, w, c]` and
/// an f32 filter `[kh, kw, c, m]` to `[n, oh, ow, channels(c, m)]`.
///
/// # Errors
/// [`OpError::Dtype`], or [`OpError::Shape`] for other ranks or
/// disagreeing channels.
pub(super) fn conv_infer(
    inputs: &[TensorType],
    sliding: &Sliding,
    channels: impl Fn(Option<usize>, Option<usize>) -> Option<usize>,
) -> std::result::Result<TensorType, OpError> {
    rule::expect_dtype(inputs, 0, DataType::F32)?;
    rule::expect_dtype(inputs, 1, DataType::F32)?;
    let (x, f) = (inputs[0].dims(), inputs[1].dims());
    let c = if x.len() == 4 && f.len() == 4 { rule::unify(x[3], f[2]) } else { None };
    let c = c.ok_or_else(|| {
        OpError::shape(format!(
            "expected an image [n, h, w, c] and a filter [kh, kw, c, f], got {} and {}",
            inputs[0].shape, inputs[1].shape
        ))
    })?;
    let spatial = |d: usize| Some(sliding.output(d, x[1 + d]?, f[d]?).0);
    Ok(TensorType::new(DataType::F32, vec![x[0], spatial(0), spatial(1), channels(c, f[3])]))
}

/// The output rule the pools share: an f32 image `[n, h, w, c]` to
/// `[n, oh, ow, c]`.
///
/// # Errors
/// [`OpError::Dtype`], or [`OpError::Shape`] for another rank.
pub(super) fn pool_infer(
    inputs: &[TensorType],
    ksize: [usize; 2],
    sliding: &Sliding,
) -> std::result::Result<TensorType, OpError> {
    rule::expect_dtype(inputs, 0, DataType::F32)?;
    let x = inputs[0].dims();
    if x.len() != 4 {
        return Err(OpError::shape(format!("expected an image [n, h, w, c], got {}", inputs[0].shape)));
    }
    let spatial = |d: usize| x[1 + d].map(|n| sliding.output(d, n, ksize[d]).0);
    Ok(TensorType::new(DataType::F32, vec![x[0], spatial(0), spatial(1), x[3]]))
}

/// The elements of `t`, an f32 tensor of the output's `shape` (the output
/// or its gradient, as a gradient rule receives them).
///
/// # Errors
/// [`OpError::Shape`] for another shape, [`OpError::Tensor`] if not f32.
#[cfg(feature = "grad")]
pub(super) fn as_output<'a>(t: &'a Tensor, shape: &[usize]) -> std::result::Result<&'a [f32], OpError> {
    if t.shape() != shape {
        return Err(OpError::shape(format!("expected the output's shape {shape:?}, got {:?}", t.shape())));
    }
    crate::ops::kernel::slice::<f32>(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Op;
    use crate::ops::nn::{Conv2D, MaxPool};

    #[test]
    fn same_pads_evenly_with_the_extra_after() {
        let s = Sliding { strides: [2, 1], dilations: [1, 1], same: true };
        // 5 rows, a 4-row window, stride 2: 3 outputs spanning 8 rows, 1 padded before.
        assert_eq!(s.output(0, 5, 4), (3, 1));
        let valid = Sliding { same: false, ..s };
        assert_eq!(valid.output(0, 5, 4), (1, 0));
        assert_eq!(valid.output(0, 3, 4), (0, 0));
    }

    #[test]
    fn the_walk_skips_padding() {
        let s = Sliding { strides: [1, 1], dilations: [1, 1], same: true };
        let mut taps = Vec::new();
        s.for_each_tap([1, 1, 2], [1, 3], |o, t, i| taps.push((o, t, i)));
        // Two outputs; the 3-wide window centred on each covers both pixels, one tap padded.
        assert_eq!(taps, [(0, 1, 0), (0, 2, 1), (1, 0, 0), (1, 1, 1)]);
    }

    #[test]
    fn window_attributes_are_read_once() {
        let conv = Conv2D { sliding: Sliding { strides: [2, 3], dilations: [1, 2], same: false } };
        let node = Op::from(conv).to_node("c", vec!["x".into(), "f".into()]);
        assert_eq!(Sliding::parse(&node, true).unwrap(), conv.sliding);
        let node = Op::from(MaxPool { ksize: [2, 2], sliding: conv.sliding }).to_node("p", vec!["x".into()]);
        assert!(!node.attrs.contains_key("dilations"));
        let err = Sliding::parse(&node.with("strides", Attr::Ints(vec![0, 1])), false).unwrap_err();
        assert!(err.to_string().contains("expected 2 ints in 1..=65536"), "{err}");
    }
}
