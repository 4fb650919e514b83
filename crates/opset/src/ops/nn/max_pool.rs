//! `MaxPool`.

use super::Sliding;
use super::window::{dims4, output_shape, parse_pool, pool_attrs, pool_infer};
use crate::graph::{Attr, Node};
use crate::ops::kernel::slice;
use crate::ops::{Arity, OpDef, OpError, TensorType};
use crate::{Assets, Result, Tensor};

/// The largest element of each `ksize` window of an f32 image `x`
/// `[n, h, w, c]`, per channel, into `[n, oh, ow, c]` (TensorFlow's
/// `MaxPool`, NHWC); padding is never counted, and a NaN in a window wins.
///
/// Attributes: `ksize` and `strides` (2 ints each, height then width, in
/// `1..=MAX_STEP`) and `padding` (`"SAME"` or `"VALID"`, as `Conv2D`).
///
/// Gradient: each window's gradient to the first element (in row-major
/// order) that was its max.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxPool {
    /// The window's height and width.
    pub ksize: [usize; 2],
    /// How the window slides over the image.
    pub sliding: Sliding,
}

impl OpDef for MaxPool {
    const NAME: &'static str = "MaxPool";
    const SINCE: u32 = 3;
    const INPUTS: Arity = Arity::Exactly(1);

    fn parse(node: &Node, _: &Assets) -> Result<MaxPool> {
        let (ksize, sliding) = parse_pool(node)?;
        Ok(MaxPool { ksize, sliding })
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        pool_attrs(self.ksize, &self.sliding)
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        pool_infer(inputs, self.ksize, &self.sliding)
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        let x = inputs[0];
        let [n, h, w, c] = dims4(x, "an image")?;
        let xs = slice::<f32>(x)?;
        let shape = output_shape(&self.sliding, [n, h, w, c], self.ksize, c)?;
        let len = shape.iter().product();
        let dst = out.output_vec::<f32>(&shape);
        dst.resize(len, f32::NEG_INFINITY);
        if dst.is_empty() {
            return Ok(());
        }
        self.sliding.for_each_tap([n, h, w], self.ksize, |o, _, i| {
            let (acc, pixel) = (&mut dst[o * c..][..c], &xs[i * c..][..c]);
            // NaN wins, as in TensorFlow.
            acc.iter_mut().zip(pixel).for_each(|(a, &v)| *a = if v > *a || v.is_nan() { v } else { *a });
        });
        Ok(())
    }

    #[cfg(feature = "grad")]
    fn grad(&self, x: &[&Tensor], y: &Tensor, g: &Tensor) -> crate::ops::grad::Grads {
        let x = x[0];
        let [n, h, w, c] = dims4(x, "an image")?;
        let shape = output_shape(&self.sliding, [n, h, w, c], self.ksize, c)?;
        let gs = super::window::as_output(g, &shape)?;
        let (xs, ys) = (slice::<f32>(x)?, super::window::as_output(y, &shape)?);
        let mut dx = vec![0.0f32; xs.len()];
        let mut routed = vec![false; gs.len()];
        if !gs.is_empty() {
            self.sliding.for_each_tap([n, h, w], self.ksize, |o, _, i| {
                for ch in 0..c {
                    let (out, at) = (o * c + ch, i * c + ch);
                    if !routed[out] && xs[at].to_bits() == ys[out].to_bits() {
                        routed[out] = true;
                        dx[at] += gs[out];
                    }
                }
            });
        }
        Ok(vec![Some(crate::ops::kernel::tensor(x.shape(), dx)?)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(ksize: usize, same: bool) -> MaxPool {
        MaxPool { ksize: [ksize; 2], sliding: Sliding { strides: [1, 1], dilations: [1, 1], same } }
    }

    fn f32s(shape: &[usize], v: &[f32]) -> Tensor {
        Tensor::from_vec(shape.to_vec(), v.to_vec()).unwrap()
    }

    #[test]
    fn the_largest_of_each_window() {
        let x = f32s(&[1, 3, 3, 1], &[1., 2., 3., 4., 5., 6., 7., 8., 9.]);
        let max = pool(2, true).run(&[&x]).unwrap();
        assert_eq!(max, f32s(&[1, 3, 3, 1], &[5., 6., 6., 8., 9., 9., 8., 9., 9.]));
        assert_eq!(pool(2, false).run(&[&x]).unwrap(), f32s(&[1, 2, 2, 1], &[5., 6., 8., 9.]));
        // A hostile window (65536 x 65536 over 3 x 3) costs what it covers.
        assert_eq!(pool(65536, true).run(&[&x]).unwrap(), f32s(&[1, 3, 3, 1], &[9.; 9]));
    }

    #[test]
    fn attributes_round_trip() {
        let op = MaxPool { ksize: [3, 2], sliding: Sliding { strides: [2, 2], dilations: [1, 1], same: false } };
        let node = crate::ops::Op::from(op).to_node("p", vec!["x".into()]);
        assert_eq!(MaxPool::parse(&node, &Assets::new()).unwrap(), op);
        let bad = node.with("ksize", Attr::Ints(vec![1, 1, 1, 1]));
        assert!(MaxPool::parse(&bad, &Assets::new()).unwrap_err().to_string().contains("ksize [1, 1, 1, 1]"));
    }

    #[test]
    fn an_image_of_another_rank_is_refused() {
        let err = pool(2, true).run(&[&f32s(&[3, 3], &[0.; 9])]).unwrap_err();
        assert!(err.to_string().contains("expected an image of rank 4"), "{err}");
        let x = TensorType::new(crate::DataType::F32, vec![None, Some(3)]);
        assert!(pool(2, true).infer(&[x]).unwrap_err().to_string().contains("expected an image [n, h, w, c]"));
    }

    #[cfg(feature = "grad")]
    #[test]
    fn gradient_matches_finite_differences() {
        use crate::ops::grad::{check_gradient, sample};
        check_gradient(&pool(2, false), &[sample(&[2, 4, 5, 3], 0)]);
        check_gradient(&pool(3, true), &[sample(&[1, 5, 4, 2], 6)]);
        let strided = MaxPool { ksize: [2, 3], sliding: Sliding { strides: [2, 1], dilations: [1, 1], same: true } };
        check_gradient(&strided, &[sample(&[2, 5, 5, 2], 1)]);
    }
}
