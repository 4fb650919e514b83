//! `SparseSegmentMean`.

use super::segment::{self, Scale};
use crate::graph::{Attr, Node};
use crate::ops::{Arity, OpDef, OpError, TensorType};
use crate::{Assets, Result, Tensor};

/// The mean of the rows of `data` that `indices` picks, by segment:
/// TensorFlow's `SparseSegmentMean` (`tf.sparse.segment_mean`, what an
/// `embedding_column` with the `"mean"` combiner, the default, compiles
/// to). Output row `s` is the sum of `data[indices[k]]` over the `n` picks
/// `k` with `segment_ids[k] == s`, divided by `n`, with TensorFlow's order
/// of additions and scaling; a row no segment id names is 0.
///
/// Inputs: `data` (f32, `[rows, ...]`), `indices` (i32 or i64
/// `[k]`, each in `[0, rows)`), `segment_ids` (i32 or i64 `[k]`, sorted
/// ascending, >= 0). The output is `[last segment id + 1, ...]` of
/// `data`'s dtype (`[0, ...]` for no index). An index out of range, a
/// negative or unsorted segment id, or an output past
/// [`crate::ops::MAX_ELEMENTS`] is an error.
///
/// Gradient: to `data`, TensorFlow's `SparseSegmentMeanGrad`: row `indices[k]` gets
/// the gradient of its segment's row, scaled as the segment was, summed over its
/// picks; none to `indices` and `segment_ids`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SparseSegmentMean;

impl OpDef for SparseSegmentMean {
    const NAME: &'static str = "SparseSegmentMean";
    const SINCE: u32 = 6;
    const INPUTS: Arity = Arity::Exactly(3);
    const SHAPE_FROM_VALUES: bool = true;

    fn parse(_: &Node, _: &Assets) -> Result<SparseSegmentMean> {
        Ok(SparseSegmentMean)
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        Vec::new()
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        segment::infer(Scale::Mean, inputs)
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        segment::eval(Scale::Mean, inputs, out)
    }

    #[cfg(feature = "grad")]
    fn grad(&self, x: &[&Tensor], _: &Tensor, g: &Tensor) -> crate::ops::grad::Grads {
        segment::grad(Scale::Mean, x, g)
    }
}

#[cfg(test)]
#[allow(clippy::excessive_precision)] // TensorFlow's values, as it printed them
mod tests {
    use super::*;
    use ndarray::array;

    fn inputs() -> [Tensor; 3] {
        [
            Tensor::from(array![[1.0f32, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]),
            Tensor::from(array![0i32, 2, 3, 1, 1]),
            Tensor::from(array![0i64, 0, 2, 2, 2]),
        ]
    }

    #[test]
    fn averages_the_picked_rows_of_each_segment() {
        // tf.sparse.segment_mean(data, tf.constant([0, 2, 3, 1, 1], tf.int32), tf.constant([0, 0, 2, 2, 2], tf.int64))
        let [d, i, s] = inputs();
        let y = SparseSegmentMean.run(&[&d, &i, &s]).unwrap();
        assert_eq!(y, Tensor::from(array![[3.0f32, 4.0], [0.0, 0.0], [4.333333492279053, 5.333333492279053]]));
        // d = tf.constant(np.arange(1, 12, dtype=np.float32).reshape(11, 1) / 7.0)
        // tf.sparse.segment_mean(d, tf.range(11), tf.zeros([11], tf.int32)) == 0.8571428656578064
        let d = Tensor::from_vec(vec![11, 1], (1..12).map(|v| v as f32 / 7.0).collect()).unwrap();
        let ids = Tensor::from_vec(vec![11], (0..11i64).collect()).unwrap();
        let segs = Tensor::from_vec(vec![11], vec![0i64; 11]).unwrap();
        let y = SparseSegmentMean.run(&[&d, &ids, &segs]).unwrap();
        assert_eq!(y.as_slice::<f32>().unwrap(), [0.8571428656578064f32]);
        let ints = Tensor::from(array![[1i32]]);
        assert!(matches!(SparseSegmentMean.run(&[&ints, &i, &s]), Err(OpError::Dtype { input: 0, .. })));
    }

    #[cfg(feature = "grad")]
    #[test]
    fn the_gradient_is_tensorflows() {
        // w = tf.constant([[1.0, -2.0], [0.5, 0.25], [3.0, -1.0]])
        // with tf.GradientTape() as t: t.watch(data); loss = tf.reduce_sum(w * tf.sparse.segment_mean(data, ids, segs))
        let [d, i, s] = inputs();
        let w = Tensor::from(array![[1.0f32, -2.0], [0.5, 0.25], [3.0, -1.0]]);
        let grads = SparseSegmentMean.grad(&[&d, &i, &s], &w, &w).unwrap();
        let want = array![[0.5f32, -1.0], [2.0, -0.6666666865348816], [0.5, -1.0], [1.0, -0.3333333432674408]];
        assert_eq!(grads, vec![Some(Tensor::from(want)), None, None]);
        crate::ops::grad::check_gradient(&SparseSegmentMean, &[crate::ops::grad::sample(&[4, 2], 1), i, s]);
    }
}
