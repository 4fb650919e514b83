//! Gradients of the image ops, walking the same windows as their kernels
//! ([`Sliding::for_each_tap`]).

use opset::Tensor;
use opset::ops::Sliding;

type Result<T> = std::result::Result<T, String>;

fn dims4(t: &Tensor) -> Result<[usize; 4]> {
    <[usize; 4]>::try_from(t.shape()).map_err(|_| format!("expected rank 4, got shape {:?}", t.shape()))
}

fn f32s(t: &Tensor) -> Result<&[f32]> {
    t.as_slice::<f32>().map_err(|e| e.to_string())
}

fn tensor(like: &Tensor, values: Vec<f32>) -> Result<Tensor> {
    Tensor::from_vec(like.shape().to_vec(), values).map_err(|e| e.to_string())
}

/// d/dx and d/dfilter of `Conv2D(x, filter)` given the output's gradient `g`.
pub(super) fn conv2d(x: &Tensor, filter: &Tensor, g: &Tensor, sliding: &Sliding) -> Result<[Tensor; 2]> {
    let ([n, h, w, c], [kh, kw, _, f]) = (dims4(x)?, dims4(filter)?);
    let (xs, fs, gs) = (f32s(x)?, f32s(filter)?, f32s(g)?);
    let (mut dx, mut df) = (vec![0.0f32; xs.len()], vec![0.0f32; fs.len()]);
    sliding.for_each_tap([n, h, w], [kh, kw], |o, t, i| {
        let go = &gs[o * f..][..f];
        for ch in 0..c {
            let row = t * c * f + ch * f;
            dx[i * c + ch] += go.iter().zip(&fs[row..][..f]).map(|(a, b)| a * b).sum::<f32>();
            let v = xs[i * c + ch];
            df[row..][..f].iter_mut().zip(go).for_each(|(d, &gv)| *d += v * gv);
        }
    });
    Ok([tensor(x, dx)?, tensor(filter, df)?])
}

/// d/dx and d/dfilter of `DepthwiseConv2D(x, filter)` given `g`.
pub(super) fn depthwise(x: &Tensor, filter: &Tensor, g: &Tensor, sliding: &Sliding) -> Result<[Tensor; 2]> {
    let ([n, h, w, c], [kh, kw, _, m]) = (dims4(x)?, dims4(filter)?);
    let (xs, fs, gs) = (f32s(x)?, f32s(filter)?, f32s(g)?);
    let (mut dx, mut df) = (vec![0.0f32; xs.len()], vec![0.0f32; fs.len()]);
    let cm = c * m;
    sliding.for_each_tap([n, h, w], [kh, kw], |o, t, i| {
        for ch in 0..c {
            let (go, taps) = (&gs[o * cm + ch * m..][..m], t * cm + ch * m);
            dx[i * c + ch] += go.iter().zip(&fs[taps..][..m]).map(|(a, b)| a * b).sum::<f32>();
            let v = xs[i * c + ch];
            df[taps..][..m].iter_mut().zip(go).for_each(|(d, &gv)| *d += v * gv);
        }
    });
    Ok([tensor(x, dx)?, tensor(filter, df)?])
}

/// d/dx of `MaxPool` (to the first element that was the window's max) or
/// `AvgPool` (shared evenly among the elements the window covered).
pub(super) fn pool(
    x: &Tensor,
    y: &Tensor,
    g: &Tensor,
    max: bool,
    ksize: [usize; 2],
    sliding: &Sliding,
) -> Result<Tensor> {
    let [n, h, w, c] = dims4(x)?;
    let (xs, ys, gs) = (f32s(x)?, f32s(y)?, f32s(g)?);
    let mut dx = vec![0.0f32; xs.len()];
    if max {
        let mut routed = vec![false; gs.len()];
        sliding.for_each_tap([n, h, w], ksize, |o, _, i| {
            for ch in 0..c {
                let (out, at) = (o * c + ch, i * c + ch);
                if !routed[out] && xs[at].to_bits() == ys[out].to_bits() {
                    routed[out] = true;
                    dx[at] += gs[out];
                }
            }
        });
    } else {
        let mut counts = vec![0u32; gs.len() / c.max(1)];
        sliding.for_each_tap([n, h, w], ksize, |o, _, _| counts[o] += 1);
        sliding.for_each_tap([n, h, w], ksize, |o, _, i| {
            let share = 1.0 / counts[o].max(1) as f32;
            dx[i * c..][..c].iter_mut().zip(&gs[o * c..][..c]).for_each(|(d, &gv)| *d += gv * share);
        });
    }
    tensor(x, dx)
}
