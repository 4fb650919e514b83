//! `SparseSegmentSum`.

use super::segment::{self, Scale};
use crate::graph::{Attr, Node};
use crate::ops::{Arity, OpDef, OpError, TensorType};
use crate::{Assets, Result, Tensor};

/// The sum of the rows of `data` that `indices` picks, by segment: TensorFlow's
/// `SparseSegmentSum` (`tf.sparse.segment_sum`, what an `embedding_column`
/// with the `"sum"` combiner compiles to). Output row `s` is the sum of
/// `data[indices[k]]` over the `k` with `segment_ids[k] == s`; a row no
/// segment id names is 0.
///
/// Inputs: `data` (f32, i32 or i64, `[rows, ...]`), `indices` (i32 or i64
/// `[k]`, each in `[0, rows)`), `segment_ids` (i32 or i64 `[k]`, sorted
/// ascending, >= 0). The output is `[last segment id + 1, ...]` of
/// `data`'s dtype (`[0, ...]` for no index). An index out of range, a
/// negative or unsorted segment id, or an output past
/// [`crate::ops::MAX_ELEMENTS`] is an error.
///
/// Gradient: to `data`, TensorFlow's `SparseSegmentSumGrad`: row `indices[k]` gets
/// the gradient of its segment's row, summed over its
/// picks; none to `indices` and `segment_ids`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SparseSegmentSum;

impl OpDef for SparseSegmentSum {
    const NAME: &'static str = "SparseSegmentSum";
    const SINCE: u32 = 6;
    const INPUTS: Arity = Arity::Exactly(3);
    const SHAPE_FROM_VALUES: bool = true;

    fn parse(_: &Node, _: &Assets) -> Result<SparseSegmentSum> {
        Ok(SparseSegmentSum)
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        Vec::new()
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        segment::infer(Scale::Sum, inputs)
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        segment::eval(Scale::Sum, inputs, out)
    }

    #[cfg(feature = "grad")]
    fn grad(&self, x: &[&Tensor], _: &Tensor, g: &Tensor) -> crate::ops::grad::Grads {
        segment::grad(Scale::Sum, x, g)
    }
}

#[cfg(test)]
#[allow(clippy::excessive_precision)] // TensorFlow's values, as it printed them
mod tests {
    use super::*;
    use crate::DataType;
    use crate::ops::Op;
    use ndarray::array;

    fn data() -> Tensor {
        Tensor::from(array![[1.0f32, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]])
    }

    #[test]
    fn sums_the_picked_rows_of_each_segment() {
        // tf.sparse.segment_sum(data, tf.constant([0, 2, 3, 1, 1], tf.int32), tf.constant([0, 0, 2, 2, 2], tf.int64))
        let (ids, segs) = (Tensor::from(array![0i32, 2, 3, 1, 1]), Tensor::from(array![0i64, 0, 2, 2, 2]));
        let y = SparseSegmentSum.run(&[&data(), &ids, &segs]).unwrap();
        assert_eq!(y, Tensor::from(array![[6.0f32, 8.0], [0.0, 0.0], [13.0, 16.0]]));
        let ints = Tensor::from(array![[1i64], [2], [3]]);
        let y = SparseSegmentSum.run(&[&ints, &Tensor::from(array![2i64, 2, 0]), &Tensor::from(array![1i32, 1, 1])]);
        assert_eq!(y.unwrap(), Tensor::from(array![[0i64], [7]]));
        // tf.sparse.segment_sum(data, tf.constant([], tf.int32), tf.constant([], tf.int32)).shape == (0, 2)
        let none = Tensor::from_vec(vec![0], Vec::<i32>::new()).unwrap();
        assert_eq!(SparseSegmentSum.run(&[&data(), &none, &none]).unwrap().shape(), &[0, 2]);
    }

    #[test]
    fn sums_eleven_rows_in_tensorflows_order() {
        // d = tf.constant(np.arange(1, 12, dtype=np.float32).reshape(11, 1) / 7.0)
        // tf.sparse.segment_sum(d, tf.range(11), tf.zeros([11], tf.int32)) == 9.428571701049805
        let d = Tensor::from_vec(vec![11, 1], (1..12).map(|v| v as f32 / 7.0).collect()).unwrap();
        let ids = Tensor::from_vec(vec![11], (0..11i32).collect()).unwrap();
        let segs = Tensor::from_vec(vec![11], vec![0i32; 11]).unwrap();
        let y = SparseSegmentSum.run(&[&d, &ids, &segs]).unwrap();
        assert_eq!(y.as_slice::<f32>().unwrap(), [9.428571701049805f32]);
    }

    #[test]
    fn twenty_one_rows_add_in_tensorflows_groups() {
        // d = np.float32(1.0) / np.arange(21, 0, -1, dtype=np.float32); t = tf.reshape(tf.constant(d), [21, 1])
        // f(t, tf.range(21), tf.zeros([21], tf.int32)) for f in segment_sum, segment_mean, segment_sqrt_n:
        // 3.6453585624694824, 0.17358849942684174, 0.7954824566841125 (adding left to right gives 3.6453588).
        let d = Tensor::from_vec(vec![21, 1], (0..21).map(|k| 1.0f32 / (21 - k) as f32).collect()).unwrap();
        let ids = Tensor::from_vec(vec![21], (0..21i32).collect()).unwrap();
        let segs = Tensor::from_vec(vec![21], vec![0i32; 21]).unwrap();
        let x = [&d, &ids, &segs];
        let one = |y: Tensor| y.as_slice::<f32>().unwrap()[0];
        assert_eq!(one(SparseSegmentSum.run(&x).unwrap()), 3.6453585624694824);
        assert_eq!(one(super::super::SparseSegmentMean.run(&x).unwrap()), 0.17358849942684174);
        assert_eq!(one(super::super::SparseSegmentSqrtN.run(&x).unwrap()), 0.7954824566841125);
    }

    #[test]
    fn hostile_indices_and_segment_ids_are_refused() {
        let run = |ids: Vec<i64>, segs: Vec<i64>| {
            let (n, m) = (ids.len(), segs.len());
            let (ids, segs) = (Tensor::from_vec(vec![n], ids).unwrap(), Tensor::from_vec(vec![m], segs).unwrap());
            SparseSegmentSum.run(&[&data(), &ids, &segs])
        };
        // TensorFlow: "Bad: indices[1] == 4 out of range [0, 4)".
        assert!(matches!(run(vec![0, 4], vec![0, 0]), Err(OpError::Index { index: 4, len: 4, .. })));
        assert!(matches!(run(vec![-1], vec![0]), Err(OpError::Index { index: -1, .. })));
        // TensorFlow: "segment ids are not increasing".
        let err = run(vec![0, 1], vec![1, 0]).unwrap_err().to_string();
        assert!(err.contains("not sorted") || err.contains("not increasing"), "{err}");
        let err = run(vec![0, 1, 2], vec![0, 1, 0, 1][..3].to_vec()).unwrap_err().to_string();
        assert!(err.contains("segment"), "{err}");
        // TensorFlow: "Segment id -1 out of range [0, 1), possibly because 'segment_ids' input is not sorted."
        assert!(run(vec![0, 1], vec![-1, 0]).unwrap_err().to_string().contains("out of range"));
        assert!(run(vec![0], vec![-1]).unwrap_err().to_string().contains(">= 0"));
        assert!(run(vec![0], vec![i64::MAX]).is_err(), "no overflow on the last id");
        assert!(matches!(run(vec![0], vec![1 << 40]), Err(OpError::TooLarge { .. })));
        assert!(matches!(run(vec![0, 1], vec![0]), Err(OpError::Shape(_))));
        let scalar = Tensor::scalar(1.0f32);
        let one = Tensor::from(array![0i32]);
        assert!(SparseSegmentSum.run(&[&scalar, &one, &one]).is_err());
        assert!(SparseSegmentSum.run(&[&Tensor::from(array![true]), &one, &one]).is_err());
    }

    #[test]
    fn the_output_has_unknown_rows() {
        let ty = |dtype, dims: Vec<Option<usize>>| TensorType::new(dtype, dims);
        let inputs = [
            ty(DataType::F32, vec![Some(4), Some(3)]),
            ty(DataType::I32, vec![None]),
            ty(DataType::I64, vec![Some(5)]),
        ];
        assert_eq!(SparseSegmentSum.infer(&inputs).unwrap(), ty(DataType::F32, vec![None, Some(3)]));
        let mismatch = [inputs[0].clone(), ty(DataType::I32, vec![Some(2)]), inputs[2].clone()];
        assert!(SparseSegmentSum.infer(&mismatch).is_err());
        let floats = [inputs[0].clone(), ty(DataType::F32, vec![Some(5)]), inputs[2].clone()];
        assert!(matches!(SparseSegmentSum.infer(&floats), Err(OpError::Dtype { input: 1, .. })));
        let node = Op::from(SparseSegmentSum).to_node("s", vec!["d".into(), "i".into(), "s".into()]);
        assert_eq!(SparseSegmentSum::parse(&node, &Assets::new()).unwrap(), SparseSegmentSum);
    }

    #[cfg(feature = "grad")]
    #[test]
    fn the_gradient_is_tensorflows() {
        // w = tf.constant([[1.0, -2.0], [0.5, 0.25], [3.0, -1.0]])
        // with tf.GradientTape() as t: t.watch(data); loss = tf.reduce_sum(w * tf.sparse.segment_sum(data, ids, segs))
        let (ids, segs) = (Tensor::from(array![0i32, 2, 3, 1, 1]), Tensor::from(array![0i64, 0, 2, 2, 2]));
        let w = Tensor::from(array![[1.0f32, -2.0], [0.5, 0.25], [3.0, -1.0]]);
        let x = [&data(), &ids, &segs];
        let d = SparseSegmentSum.grad(&x, &w, &w).unwrap();
        let want = Tensor::from(array![[1.0f32, -2.0], [6.0, -2.0], [1.0, -2.0], [3.0, -1.0]]);
        assert_eq!(d, vec![Some(want), None, None]);
        crate::ops::grad::check_gradient(&SparseSegmentSum, &[crate::ops::grad::sample(&[4, 2], 0), ids, segs]);
    }
}
