//! `dropout`: `tf.layers.dropout`, in training only.

use opset::DataType;
use opset::ops::array::ShapeOf;
use opset::ops::random::RandomUniform;

use crate::builder::{GraphBuilder, Output};
use crate::{Error, Mode, Result};

/// `tf.layers.dropout(x, rate, training=mode == TRAIN)`: in training, each
/// element of `x` is zeroed with probability `rate` and the others scaled
/// by `1 / (1 - rate)` (a mask drawn anew at every step by
/// `RandomUniform`, as `tf.nn.dropout`: kept where the draw is `>= rate`);
/// in evaluation and prediction, `x` itself (the serving graph has no
/// random op).
///
/// ```
/// use estimator::{layers, GraphBuilder, Mode};
/// use opset::{DataType, Shape};
///
/// let mut g = GraphBuilder::new();
/// let x = g.placeholder("x", DataType::F32, Shape(vec![None, Some(8)]))?;
/// assert_eq!(layers::dropout(&mut g, x, 0.5, Mode::Predict)?, x);
/// let dropped = layers::dropout(&mut g, x, 0.5, Mode::Train)?;
/// assert_eq!(g.ty(dropped).shape, Shape(vec![None, Some(8)]));
/// # Ok::<(), estimator::Error>(())
/// ```
///
/// # Errors
/// [`Error::Build`] for a rate outside `[0, 1)` or an `x` that is not f32.
pub fn dropout(g: &mut GraphBuilder, x: Output, rate: f32, mode: Mode) -> Result<Output> {
    if !(0.0..1.0).contains(&rate) {
        return Err(Error::Build {
            node: g.name(x).to_owned(),
            reason: format!("dropout rate {rate}: expected [0, 1)"),
        });
    }
    if g.ty(x).dtype != DataType::F32 {
        return Err(Error::Build {
            node: g.name(x).to_owned(),
            reason: format!("dropout needs f32 values, got {}", g.ty(x).dtype),
        });
    }
    if mode != Mode::Train || rate == 0.0 {
        return Ok(x);
    }
    g.scoped("dropout", |g| {
        let shape = g.op(ShapeOf, &[x])?;
        // A seed per dropout of the graph, as TensorFlow's op-level seeds.
        let seed2 = g.graph_len() as i64;
        let draw = g.op(RandomUniform { seed: 0, seed2 }, &[shape])?;
        let rate_t = g.scalar(rate)?;
        let kept = g.greater_equal(draw, rate_t)?;
        let kept = g.cast(kept, DataType::F32)?;
        let scale = g.scalar(1.0 / (1.0 - rate))?;
        let scaled = g.mul(x, scale)?;
        g.mul(scaled, kept)
    })
}
