//! Windows sliding over the height and width of NHWC images: the geometry
//! `Conv2D`, `MaxPool` and `AvgPool` share, with TensorFlow's rules.

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
    /// The output size and the padding before the input along spatial dim
    /// `d` (0: height, 1: width) for a window of `size` taps (>= 1) over
    /// `input` elements.
    #[inline]
    pub fn output(&self, d: usize, input: usize, size: usize) -> (usize, usize) {
        let (stride, dilation) = (self.strides[d].max(1), self.dilations[d].max(1));
        let span = (size.max(1) - 1) * dilation + 1;
        if self.same {
            let out = input.div_ceil(stride);
            let needed = out.saturating_sub(1) * stride + span;
            (out, needed.saturating_sub(input) / 2)
        } else if input >= span {
            ((input - span) / stride + 1, 0)
        } else {
            (0, 0)
        }
    }

    /// The taps of the window at output position `o` along dim `d` that
    /// fall inside the input (`k` such that `o * stride + k * dilation -
    /// pad` is in `0..input`), among `0..size`: computed, not searched, so
    /// that a huge window over a small input costs what it covers.
    #[inline]
    fn taps(&self, d: usize, o: usize, size: usize, pad: usize, input: usize) -> std::ops::Range<usize> {
        let (start, dilation) = (o * self.strides[d], self.dilations[d].max(1));
        // The first k with start + k * dilation >= pad, and the first past input + pad.
        let first = pad.saturating_sub(start).div_ceil(dilation);
        let end = (input + pad).saturating_sub(start).div_ceil(dilation);
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
        for b in 0..n {
            for oy in 0..oh {
                for ox in 0..ow {
                    let out = (b * oh + oy) * ow + ox;
                    for ky in self.taps(0, oy, kh, top, h) {
                        let iy = oy * self.strides[0] + ky * self.dilations[0] - top;
                        for kx in self.taps(1, ox, kw, left, w) {
                            let ix = ox * self.strides[1] + kx * self.dilations[1] - left;
                            visit(out, ky * kw + kx, (b * h + iy) * w + ix);
                        }
                    }
                }
            }
        }
    }
}
