//! `AvgPool`.

use super::Sliding;
use super::window::{dims4, output_shape, parse_pool, pool_attrs, pool_infer};
use crate::graph::{Attr, Node};
use crate::ops::kernel::slice;
use crate::ops::{Arity, OpDef, OpError, TensorType};
use crate::{Assets, Result, Tensor};

/// The mean of each `ksize` window of an f32 image `x` `[n, h, w, c]`, per
/// channel, into `[n, oh, ow, c]` (TensorFlow's `AvgPool`, NHWC): padding is
/// never counted, so a `SAME` window at the edge averages only the elements
/// it covers.
///
/// Attributes: `ksize` and `strides` (2 ints each, height then width, in
/// `1..=MAX_STEP`) and `padding` (`"SAME"` or `"VALID"`, as `Conv2D`).
///
/// Gradient: each window's gradient shared evenly among the elements it
/// covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AvgPool {
    /// The window's height and width.
    pub ksize: [usize; 2],
    /// How the window slides over the image.
    pub sliding: Sliding,
}

impl OpDef for AvgPool {
    const NAME: &'static str = "AvgPool";
    const SINCE: u32 = 3;
    const INPUTS: Arity = Arity::Exactly(1);

    fn parse(node: &Node, _: &Assets) -> Result<AvgPool> {
        let (ksize, sliding) = parse_pool(node)?;
        Ok(AvgPool { ksize, sliding })
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        pool_attrs(self.ksize, &self.sliding)
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        pool_infer(inputs, self.ksize, &self.sliding)
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        let x = inputs[0];
        let ([n, h, w, c], shape) = self.dims(x)?;
        let xs = slice::<f32>(x)?;
        let len = shape.iter().product();
        let dst = out.output_vec::<f32>(&shape);
        dst.resize(len, 0.0);
        if dst.is_empty() {
            return Ok(());
        }
        self.sliding.for_each_tap([n, h, w], self.ksize, |o, _, i| {
            dst[o * c..][..c].iter_mut().zip(&xs[i * c..][..c]).for_each(|(a, &v)| *a += v);
        });
        for (acc, count) in dst.chunks_exact_mut(c).zip(self.counts([n, h, w])) {
            acc.iter_mut().for_each(|a| *a /= count.max(1) as f32);
        }
        Ok(())
    }

    #[cfg(feature = "grad")]
    fn grad(&self, x: &[&Tensor], _y: &Tensor, g: &Tensor) -> crate::ops::grad::Grads {
        let x = x[0];
        let ([n, h, w, c], shape) = self.dims(x)?;
        let gs = super::window::as_output(g, &shape)?;
        let mut dx = vec![0.0f32; x.len()];
        if !gs.is_empty() {
            let counts = self.counts([n, h, w]);
            self.sliding.for_each_tap([n, h, w], self.ksize, |o, _, i| {
                let share = 1.0 / counts[o].max(1) as f32;
                dx[i * c..][..c].iter_mut().zip(&gs[o * c..][..c]).for_each(|(d, &gv)| *d += gv * share);
            });
        }
        Ok(vec![Some(crate::ops::kernel::tensor(x.shape(), dx)?)])
    }
}

impl AvgPool {
    /// The image's dims and the output's shape.
    fn dims(&self, x: &Tensor) -> Result<([usize; 4], Vec<usize>), OpError> {
        let d = dims4(x, "an image")?;
        Ok((d, output_shape(&self.sliding, d, self.ksize, d[3])?))
    }

    /// How many elements each window covers, per output pixel (`[n, oh, ow]`).
    fn counts(&self, [n, h, w]: [usize; 3]) -> Vec<u32> {
        let [oh, ow] = self.sliding.output_dims([h, w], self.ksize);
        let mut counts = vec![0u32; n * oh * ow];
        self.sliding.for_each_tap([n, h, w], self.ksize, |o, _, _| counts[o] += 1);
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(ksize: [usize; 2], same: bool) -> AvgPool {
        AvgPool { ksize, sliding: Sliding { strides: [1, 1], dilations: [1, 1], same } }
    }

    fn f32s(shape: &[usize], v: &[f32]) -> Tensor {
        Tensor::from_vec(shape.to_vec(), v.to_vec()).unwrap()
    }

    #[test]
    fn the_mean_of_what_each_window_covers() {
        let x = f32s(&[1, 3, 3, 1], &[1., 2., 3., 4., 5., 6., 7., 8., 9.]);
        let avg = pool([3, 3], true).run(&[&x]).unwrap();
        // The corner window covers 1, 2, 4, 5; the next 1..6.
        assert_eq!(avg.as_slice::<f32>().unwrap()[..2], [3., 3.5]);
        assert_eq!(pool([3, 3], false).run(&[&x]).unwrap(), f32s(&[1, 1, 1, 1], &[5.]));
    }

    #[test]
    fn attributes_round_trip() {
        let op = AvgPool { ksize: [2, 4], sliding: Sliding { strides: [1, 3], dilations: [1, 1], same: true } };
        let node = crate::ops::Op::from(op).to_node("p", vec!["x".into()]);
        assert_eq!(AvgPool::parse(&node, &Assets::new()).unwrap(), op);
        let bad = node.with("strides", Attr::Ints(vec![0, 1]));
        assert!(AvgPool::parse(&bad, &Assets::new()).unwrap_err().to_string().contains("expected 2 ints"));
    }

    #[test]
    fn a_non_f32_image_is_refused() {
        let x = Tensor::from_vec(vec![1, 1, 1, 1], vec![1i64]).unwrap();
        assert!(matches!(pool([1, 1], true).run(&[&x]).unwrap_err(), OpError::Tensor(_)));
        let t = TensorType::new(crate::DataType::I64, vec![Some(1); 4]);
        assert!(matches!(pool([1, 1], true).infer(&[t]).unwrap_err(), OpError::Dtype { input: 0, .. }));
    }

    #[cfg(feature = "grad")]
    #[test]
    fn gradient_matches_finite_differences() {
        use crate::ops::grad::{check_gradient, sample};
        check_gradient(&pool([2, 2], false), &[sample(&[2, 4, 5, 3], 0)]);
        check_gradient(&pool([3, 2], true), &[sample(&[1, 5, 4, 2], 2)]);
        let strided = AvgPool { ksize: [3, 3], sliding: Sliding { strides: [2, 2], dilations: [1, 1], same: true } };
        check_gradient(&strided, &[sample(&[2, 5, 5, 2], 1)]);
    }
}
