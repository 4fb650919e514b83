//! `Conv2D`.

use super::Sliding;
use super::window::{conv_dims, conv_infer, output_shape};
use crate::graph::{Attr, Node};
use crate::ops::kernel::slice;
use crate::ops::{Arity, OpDef, OpError, TensorType};
use crate::{Assets, Result, Tensor};

/// A 2-D convolution of an f32 image `x` `[n, h, w, c]` by an f32 filter
/// `[kh, kw, c, f]` into `[n, oh, ow, f]` (TensorFlow's NHWC `Conv2D`: a
/// cross-correlation): output channel `j` at a pixel is the sum over the
/// window's taps and the input channels of `x * filter[.., .., .., j]`.
///
/// Attributes: `strides` and `dilations` (2 ints each, height then width,
/// in `1..=MAX_STEP`; `dilations` optional, default 1) and `padding`
/// (`"SAME"` or `"VALID"`). `VALID` keeps windows inside the input; `SAME`
/// gives `ceil(h / stride)` rows, padding with zeros evenly (the odd one
/// after).
///
/// Gradient: to `x`, each output's gradient times the filter taps that
/// read each pixel; to the filter, each output's gradient times the pixels
/// each tap read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv2D {
    /// How the filter slides over the image.
    pub sliding: Sliding,
}

impl OpDef for Conv2D {
    const NAME: &'static str = "Conv2D";
    const SINCE: u32 = 3;
    const INPUTS: Arity = Arity::Exactly(2);

    fn parse(node: &Node, _: &Assets) -> Result<Conv2D> {
        Ok(Conv2D { sliding: Sliding::parse(node, true)? })
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        self.sliding.attrs(true)
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        conv_infer(inputs, &self.sliding, |_, filters| filters)
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        let (x, filter) = (inputs[0], inputs[1]);
        let ([n, h, w, c], [kh, kw, _, f]) = conv_dims(x, filter)?;
        let (xs, fs) = (slice::<f32>(x)?, slice::<f32>(filter)?);
        let shape = output_shape(&self.sliding, [n, h, w, c], [kh, kw], f)?;
        let len = shape.iter().product();
        let dst = out.output_vec::<f32>(&shape);
        dst.resize(len, 0.0);
        if xs.is_empty() || dst.is_empty() {
            // No pixel or no output: zeros, without walking empty windows.
            return Ok(());
        }
        self.sliding.for_each_tap([n, h, w], [kh, kw], |o, t, i| {
            let acc = &mut dst[o * f..][..f];
            for (&v, row) in xs[i * c..][..c].iter().zip(fs[t * c * f..][..c * f].chunks_exact(f)) {
                acc.iter_mut().zip(row).for_each(|(a, &t)| *a += v * t);
            }
        });
        Ok(())
    }

    #[cfg(feature = "grad")]
    fn grad(&self, x: &[&Tensor], _y: &Tensor, g: &Tensor) -> crate::ops::grad::Grads {
        use crate::ops::kernel::tensor;
        let (x, filter) = (x[0], x[1]);
        let ([n, h, w, c], [kh, kw, _, f]) = conv_dims(x, filter)?;
        let shape = output_shape(&self.sliding, [n, h, w, c], [kh, kw], f)?;
        let gs = super::window::as_output(g, &shape)?;
        let (xs, fs) = (slice::<f32>(x)?, slice::<f32>(filter)?);
        let (mut dx, mut df) = (vec![0.0f32; xs.len()], vec![0.0f32; fs.len()]);
        if !xs.is_empty() && !gs.is_empty() {
            self.sliding.for_each_tap([n, h, w], [kh, kw], |o, t, i| {
                let go = &gs[o * f..][..f];
                for ch in 0..c {
                    let row = t * c * f + ch * f;
                    dx[i * c + ch] += go.iter().zip(&fs[row..][..f]).map(|(a, b)| a * b).sum::<f32>();
                    let v = xs[i * c + ch];
                    df[row..][..f].iter_mut().zip(go).for_each(|(d, &gv)| *d += v * gv);
                }
            });
        }
        Ok(vec![Some(tensor(x.shape(), dx)?), Some(tensor(filter.shape(), df)?)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DataType;

    fn conv(same: bool) -> Conv2D {
        Conv2D { sliding: Sliding { strides: [1, 1], dilations: [1, 1], same } }
    }

    fn f32s(shape: &[usize], v: &[f32]) -> Tensor {
        Tensor::from_vec(shape.to_vec(), v.to_vec()).unwrap()
    }

    #[test]
    fn valid_and_same_windows() {
        let x = f32s(&[1, 3, 3, 1], &[1., 2., 3., 4., 5., 6., 7., 8., 9.]);
        // A 2x2 filter summing its window, two output channels (x1, x10).
        let f = f32s(&[2, 2, 1, 2], &[1., 10., 1., 10., 1., 10., 1., 10.]);
        let valid = conv(false).run(&[&x, &f]).unwrap();
        assert_eq!(valid, f32s(&[1, 2, 2, 2], &[12., 120., 16., 160., 24., 240., 28., 280.]));
        // SAME with an even filter pads after: the last row and column see zeros.
        let same = conv(true).run(&[&x, &f]).unwrap();
        assert_eq!(same.shape(), &[1, 3, 3, 2]);
        let firsts: Vec<f32> = same.as_slice::<f32>().unwrap().iter().step_by(2).copied().collect();
        assert_eq!(firsts, [12., 16., 9., 24., 28., 15., 15., 17., 9.]);
    }

    #[test]
    fn attributes_round_trip() {
        let op = Conv2D { sliding: Sliding { strides: [2, 1], dilations: [1, 3], same: true } };
        let node = crate::ops::Op::from(op).to_node("c", vec!["x".into(), "f".into()]);
        assert_eq!(Conv2D::parse(&node, &Assets::new()).unwrap(), op);
        let bad = node.with("padding", Attr::Str("EXPLICIT".into()));
        assert!(Conv2D::parse(&bad, &Assets::new()).unwrap_err().to_string().contains("\"SAME\" or \"VALID\""));
    }

    #[test]
    fn disagreeing_channels_are_refused() {
        let err = conv(false).run(&[&f32s(&[1, 2, 2, 2], &[0.; 8]), &f32s(&[1, 1, 3, 1], &[0.; 3])]).unwrap_err();
        assert!(err.to_string().contains("the filter takes 3 channels, the image has 2"), "{err}");
        let t = |dims: &[usize]| TensorType::new(DataType::F32, dims.iter().map(|&d| Some(d)).collect());
        let err = conv(false).infer(&[t(&[1, 2, 2, 2]), t(&[1, 1, 3, 1])]).unwrap_err();
        assert!(err.to_string().contains("expected an image [n, h, w, c] and a filter"), "{err}");
        assert_eq!(conv(true).infer(&[t(&[4, 5, 5, 2]), t(&[3, 3, 2, 8])]).unwrap().dims(), t(&[4, 5, 5, 8]).dims());
    }

    #[cfg(feature = "grad")]
    #[test]
    fn gradient_matches_finite_differences() {
        use crate::ops::grad::{check_gradient, sample};
        for sliding in [
            Sliding { strides: [1, 1], dilations: [1, 1], same: false },
            Sliding { strides: [2, 1], dilations: [1, 1], same: true },
            Sliding { strides: [1, 2], dilations: [2, 1], same: true },
        ] {
            check_gradient(&Conv2D { sliding }, &[sample(&[2, 5, 4, 3], 0), sample(&[2, 3, 3, 2], 9)]);
        }
    }
}
