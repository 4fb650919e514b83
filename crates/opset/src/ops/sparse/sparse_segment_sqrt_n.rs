//! `SparseSegmentSqrtN`.

use super::segment::{self, Scale};
use crate::graph::{Attr, Node};
use crate::ops::{Arity, OpDef, OpError, TensorType};
use crate::{Assets, Result, Tensor};

/// The sum of the rows of `data` that `indices` picks, by segment, divided
/// by the square root of the segment's size: TensorFlow's
/// `SparseSegmentSqrtN` (`tf.sparse.segment_sqrt_n`, what an
/// `embedding_column` with the `"sqrtn"` combiner compiles to), with
/// TensorFlow's order of additions and scaling; a row no segment id names
/// is 0.
///
/// Inputs: `data` (f32, `[rows, ...]`), `indices` (i32 or i64
/// `[k]`, each in `[0, rows)`), `segment_ids` (i32 or i64 `[k]`, sorted
/// ascending, >= 0). The output is `[last segment id + 1, ...]` of
/// `data`'s dtype (`[0, ...]` for no index). An index out of range, a
/// negative or unsorted segment id, or an output past
/// [`crate::ops::MAX_ELEMENTS`] is an error.
///
/// Gradient: to `data`, TensorFlow's `SparseSegmentSqrtNGrad`: row `indices[k]` gets
/// the gradient of its segment's row, scaled as the segment was, summed over its
/// picks; none to `indices` and `segment_ids`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SparseSegmentSqrtN;

impl OpDef for SparseSegmentSqrtN {
    const NAME: &'static str = "SparseSegmentSqrtN";
    const SINCE: u32 = 6;
    const INPUTS: Arity = Arity::Exactly(3);
    const SHAPE_FROM_VALUES: bool = true;

    fn parse(_: &Node, _: &Assets) -> Result<SparseSegmentSqrtN> {
        Ok(SparseSegmentSqrtN)
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        Vec::new()
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        segment::infer(Scale::SqrtN, inputs)
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        segment::eval(Scale::SqrtN, inputs, out)
    }

    #[cfg(feature = "grad")]
    fn grad(&self, x: &[&Tensor], _: &Tensor, g: &Tensor) -> crate::ops::grad::Grads {
        segment::grad(Scale::SqrtN, x, g)
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
    fn scales_each_segments_sum_by_its_square_root() {
        // tf.sparse.segment_sqrt_n(data, tf.constant([0, 2, 3, 1, 1], tf.int32), tf.constant([0, 0, 2, 2, 2], tf.int64))
        let [d, i, s] = inputs();
        let y = SparseSegmentSqrtN.run(&[&d, &i, &s]).unwrap();
        let want =
            array![[4.242640495300293f32, 5.656854152679443], [0.0, 0.0], [7.505553245544434, 9.237604141235352]];
        assert_eq!(y, Tensor::from(want));
        // d = tf.constant(np.arange(1, 12, dtype=np.float32).reshape(11, 1) / 7.0)
        // tf.sparse.segment_sqrt_n(d, tf.range(11), tf.zeros([11], tf.int32)) == 2.8428213596343994
        let d = Tensor::from_vec(vec![11, 1], (1..12).map(|v| v as f32 / 7.0).collect()).unwrap();
        let ids = Tensor::from_vec(vec![11], (0..11i32).collect()).unwrap();
        let segs = Tensor::from_vec(vec![11], vec![0i32; 11]).unwrap();
        let y = SparseSegmentSqrtN.run(&[&d, &ids, &segs]).unwrap();
        assert_eq!(y.as_slice::<f32>().unwrap(), [2.8428213596343994f32]);
    }

    #[cfg(feature = "grad")]
    #[test]
    fn the_gradient_is_tensorflows() {
        // w = tf.constant([[1.0, -2.0], [0.5, 0.25], [3.0, -1.0]])
        // with tf.GradientTape() as t: t.watch(data); loss = tf.reduce_sum(w * tf.sparse.segment_sqrt_n(data, ids, segs))
        let [d, i, s] = inputs();
        let w = Tensor::from(array![[1.0f32, -2.0], [0.5, 0.25], [3.0, -1.0]]);
        let grads = SparseSegmentSqrtN.grad(&[&d, &i, &s], &w, &w).unwrap();
        let want = array![
            [0.7071067690849304f32, -1.4142135381698608],
            [3.464101552963257, -1.154700517654419],
            [0.7071067690849304, -1.4142135381698608],
            [1.7320507764816284, -0.5773502588272095]
        ];
        assert_eq!(grads, vec![Some(Tensor::from(want)), None, None]);
        crate::ops::grad::check_gradient(&SparseSegmentSqrtN, &[crate::ops::grad::sample(&[4, 2], 2), i, s]);
    }
}
