//! Convolution and pooling over NHWC images: direct loops over the taps of
//! each window ([`Sliding::for_each_tap`]), each adding a row of the filter
//! (the reference, not a fast path).

use super::{KResult, checked_len, slice};
use crate::Tensor;
use crate::ops::Sliding;

/// The four dims of an NHWC tensor (or an HWIO filter).
fn image(t: &Tensor, what: &str) -> Result<[usize; 4], String> {
    <[usize; 4]>::try_from(t.shape()).map_err(|_| format!("expected {what} of rank 4, got shape {:?}", t.shape()))
}

pub(super) fn conv2d(x: &Tensor, filter: &Tensor, sliding: &Sliding, out: &mut Tensor) -> KResult {
    let ([n, h, w, c], [kh, kw, fc, f]) = (image(x, "an image")?, image(filter, "a filter")?);
    if fc != c {
        return Err(format!("the filter takes {fc} channels, the image has {c}"));
    }
    let (xs, fs) = (slice::<f32>(x)?, slice::<f32>(filter)?);
    let [oh, ow] = sliding.output_dims([h, w], [kh, kw]);
    let len = checked_len(&[n, oh, ow, f])?;
    let dst = out.output_vec::<f32>(&[n, oh, ow, f]);
    dst.resize(len, 0.0);
    sliding.for_each_tap([n, h, w], [kh, kw], |o, t, i| {
        let acc = &mut dst[o * f..][..f];
        for (&v, row) in xs[i * c..][..c].iter().zip(fs[t * c * f..][..c * f].chunks_exact(f.max(1))) {
            acc.iter_mut().zip(row).for_each(|(a, &t)| *a += v * t);
        }
    });
    Ok(())
}

pub(super) fn depthwise(x: &Tensor, filter: &Tensor, sliding: &Sliding, out: &mut Tensor) -> KResult {
    let ([n, h, w, c], [kh, kw, fc, m]) = (image(x, "an image")?, image(filter, "a filter")?);
    if fc != c {
        return Err(format!("the filter takes {fc} channels, the image has {c}"));
    }
    let (xs, fs) = (slice::<f32>(x)?, slice::<f32>(filter)?);
    let [oh, ow] = sliding.output_dims([h, w], [kh, kw]);
    let cm = c.checked_mul(m).ok_or("too many output channels")?;
    let len = checked_len(&[n, oh, ow, cm])?;
    let dst = out.output_vec::<f32>(&[n, oh, ow, cm]);
    dst.resize(len, 0.0);
    sliding.for_each_tap([n, h, w], [kh, kw], |o, t, i| {
        let acc = &mut dst[o * cm..][..cm];
        let taps = &fs[t * cm..][..cm];
        for (ch, &v) in xs[i * c..][..c].iter().enumerate() {
            acc[ch * m..][..m].iter_mut().zip(&taps[ch * m..][..m]).for_each(|(a, &f)| *a += v * f);
        }
    });
    Ok(())
}

pub(super) fn pool(x: &Tensor, max: bool, ksize: [usize; 2], sliding: &Sliding, out: &mut Tensor) -> KResult {
    let [n, h, w, c] = image(x, "an image")?;
    let xs = slice::<f32>(x)?;
    let [oh, ow] = sliding.output_dims([h, w], ksize);
    let len = checked_len(&[n, oh, ow, c])?;
    let dst = out.output_vec::<f32>(&[n, oh, ow, c]);
    dst.resize(len, if max { f32::NEG_INFINITY } else { 0.0 });
    let mut counts = vec![0u32; if max { 0 } else { n * oh * ow }];
    sliding.for_each_tap([n, h, w], ksize, |o, _, i| {
        let (acc, pixel) = (&mut dst[o * c..][..c], &xs[i * c..][..c]);
        if max {
            // NaN wins, as in TensorFlow.
            acc.iter_mut().zip(pixel).for_each(|(a, &v)| *a = if v > *a || v.is_nan() { v } else { *a });
        } else {
            acc.iter_mut().zip(pixel).for_each(|(a, &v)| *a += v);
            counts[o] += 1;
        }
    });
    for (acc, &count) in dst.chunks_exact_mut(c.max(1)).zip(&counts) {
        acc.iter_mut().for_each(|a| *a /= count.max(1) as f32);
    }
    Ok(())
}
