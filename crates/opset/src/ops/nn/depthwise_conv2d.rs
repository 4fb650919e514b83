//! `DepthwiseConv2D`.

use super::Sliding;
use super::window::{conv_dims, conv_infer, output_shape};
use crate::graph::{Attr, Node};
use crate::ops::kernel::slice;
use crate::ops::{Arity, OpDef, OpError, TensorType};
use crate::{Assets, Result, Tensor};

/// A depthwise 2-D convolution of an f32 image `x` `[n, h, w, c]` by an f32
/// filter `[kh, kw, c, m]` into `[n, oh, ow, c * m]`: each input channel
/// convolved alone by its `m` filters, output channel `ch * m + j`
/// (TensorFlow's `DepthwiseConv2dNative`).
///
/// Attributes: as [`Conv2D`](super::Conv2D): `strides`, `dilations`
/// (optional) and `padding`.
///
/// Gradient: to `x`, each output's gradient times the taps that read each
/// pixel of its channel; to the filter, each output's gradient times the
/// pixels each tap read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepthwiseConv2D {
    /// How the filter slides over the image.
    pub sliding: Sliding,
}

impl OpDef for DepthwiseConv2D {
    const NAME: &'static str = "DepthwiseConv2D";
    const SINCE: u32 = 3;
    const INPUTS: Arity = Arity::Exactly(2);

    fn parse(node: &Node, _: &Assets) -> Result<DepthwiseConv2D> {
        Ok(DepthwiseConv2D { sliding: Sliding::parse(node, true)? })
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        self.sliding.attrs(true)
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        conv_infer(inputs, &self.sliding, |c, m| c.zip(m).and_then(|(c, m)| c.checked_mul(m)))
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        let (x, filter) = (inputs[0], inputs[1]);
        let (image, taps) = conv_dims(x, filter)?;
        let shape = output(&self.sliding, image, taps)?;
        let ([n, h, w, c], [kh, kw, _, m]) = (image, taps);
        let (xs, fs) = (slice::<f32>(x)?, slice::<f32>(filter)?);
        let len = shape.iter().product();
        let dst = out.output_vec::<f32>(&shape);
        dst.resize(len, 0.0);
        if xs.is_empty() || dst.is_empty() {
            // No pixel or no output: zeros, without walking empty windows.
            return Ok(());
        }
        let cm = c * m;
        self.sliding.for_each_tap([n, h, w], [kh, kw], |o, t, i| {
            let acc = &mut dst[o * cm..][..cm];
            let taps = &fs[t * cm..][..cm];
            for (ch, &v) in xs[i * c..][..c].iter().enumerate() {
                acc[ch * m..][..m].iter_mut().zip(&taps[ch * m..][..m]).for_each(|(a, &f)| *a += v * f);
            }
        });
        Ok(())
    }

    #[cfg(feature = "grad")]
    fn grad(&self, x: &[&Tensor], _y: &Tensor, g: &Tensor) -> crate::ops::grad::Grads {
        use crate::ops::kernel::tensor;
        let (x, filter) = (x[0], x[1]);
        let (image, taps) = conv_dims(x, filter)?;
        let shape = output(&self.sliding, image, taps)?;
        let ([n, h, w, c], [kh, kw, _, m]) = (image, taps);
        let gs = super::window::as_output(g, &shape)?;
        let (xs, fs) = (slice::<f32>(x)?, slice::<f32>(filter)?);
        let (mut dx, mut df) = (vec![0.0f32; xs.len()], vec![0.0f32; fs.len()]);
        let cm = c * m;
        if !xs.is_empty() && !gs.is_empty() {
            self.sliding.for_each_tap([n, h, w], [kh, kw], |o, t, i| {
                for ch in 0..c {
                    let (go, taps) = (&gs[o * cm + ch * m..][..m], t * cm + ch * m);
                    dx[i * c + ch] += go.iter().zip(&fs[taps..][..m]).map(|(a, b)| a * b).sum::<f32>();
                    let v = xs[i * c + ch];
                    df[taps..][..m].iter_mut().zip(go).for_each(|(d, &gv)| *d += v * gv);
                }
            });
        }
        Ok(vec![Some(tensor(x.shape(), dx)?), Some(tensor(filter.shape(), df)?)])
    }
}

/// The output shape `[n, oh, ow, c * m]` for an image and a filter of
/// these dims: what the kernel and the gradient both check.
fn output(sliding: &Sliding, [n, h, w, c]: [usize; 4], [kh, kw, _, m]: [usize; 4]) -> Result<Vec<usize>, OpError> {
    let cm = c.checked_mul(m).ok_or_else(|| OpError::shape("too many output channels"))?;
    output_shape(sliding, [n, h, w, c], [kh, kw], cm)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DataType;

    fn f32s(shape: &[usize], v: &[f32]) -> Tensor {
        Tensor::from_vec(shape.to_vec(), v.to_vec()).unwrap()
    }

    fn depthwise(same: bool) -> DepthwiseConv2D {
        DepthwiseConv2D { sliding: Sliding { strides: [1, 1], dilations: [1, 1], same } }
    }

    #[test]
    fn each_channel_alone() {
        // Two channels (1..4 and 10..40), a 2x2 window, two filters per channel.
        let x = f32s(&[1, 2, 2, 2], &[1., 10., 2., 20., 3., 30., 4., 40.]);
        let f = f32s(&[2, 2, 2, 2], &[1., 0., 1., 1., 1., 0., 1., 1., 1., 0., 1., 1., 1., 0., 1., 1.]);
        let y = depthwise(false).run(&[&x, &f]).unwrap();
        // Channel 0: sum 10 and 0; channel 1: sum 100 twice.
        assert_eq!(y, f32s(&[1, 1, 1, 4], &[10., 0., 100., 100.]));
    }

    #[test]
    fn attributes_round_trip() {
        let op = DepthwiseConv2D { sliding: Sliding { strides: [1, 2], dilations: [2, 2], same: false } };
        let node = crate::ops::Op::from(op).to_node("d", vec!["x".into(), "f".into()]);
        assert_eq!(DepthwiseConv2D::parse(&node, &Assets::new()).unwrap(), op);
    }

    #[test]
    fn shapes_of_the_output_and_refusals() {
        let t = |dims: &[usize]| TensorType::new(DataType::F32, dims.iter().map(|&d| Some(d)).collect());
        let y = depthwise(true).infer(&[t(&[2, 7, 7, 3]), t(&[3, 3, 3, 2])]).unwrap();
        assert_eq!(y.dims(), t(&[2, 7, 7, 6]).dims());
        let err = depthwise(true).run(&[&f32s(&[1, 1, 1, 2], &[0.; 2]), &f32s(&[1, 1, 1, 1], &[0.])]).unwrap_err();
        assert!(err.to_string().contains("the filter takes 1 channels, the image has 2"), "{err}");
    }

    #[cfg(feature = "grad")]
    #[test]
    fn gradient_matches_finite_differences() {
        use crate::ops::grad::{check_gradient, sample};
        for sliding in [
            Sliding { strides: [1, 1], dilations: [1, 1], same: false },
            Sliding { strides: [2, 2], dilations: [1, 1], same: true },
            Sliding { strides: [1, 1], dilations: [1, 2], same: true },
        ] {
            check_gradient(&DepthwiseConv2D { sliding }, &[sample(&[2, 5, 4, 3], 0), sample(&[3, 2, 3, 2], 4)]);
        }
    }
}
