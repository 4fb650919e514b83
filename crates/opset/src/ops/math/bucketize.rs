//! `Bucketize`.

use crate::graph::{Attr, Node};
use crate::ops::kernel::slice;
use crate::ops::{Arity, OpDef, OpError, TensorType};
use crate::{Assets, DataType, Result, Tensor};

/// The bucket of each element of `x` among sorted `boundaries`:
/// TensorFlow's `Bucketize` (what `bucketized_column` compiles to). The
/// bucket of `v` is the number of boundaries `b` with `b <= v` (C++'s
/// `upper_bound`), so `boundaries = [0, 1, 10]` makes the buckets
/// `(-inf, 0)`, `[0, 1)`, `[1, 10)` and `[10, +inf)`, numbered 0 to 3. An
/// integer `x` is compared as an f32, as TensorFlow's kernel does; a NaN
/// falls in the last bucket.
///
/// Input: `x` (f32, i32 or i64, any shape). Attribute: `boundaries` (an f32
/// vector, sorted ascending, no NaN; may be empty). The output is i32 of
/// `x`'s shape.
///
/// Gradient: none (TensorFlow's `Bucketize` is not differentiable).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bucketize {
    /// The sorted boundaries between buckets.
    pub boundaries: Vec<f32>,
}

impl OpDef for Bucketize {
    const NAME: &'static str = "Bucketize";
    const SINCE: u32 = 6;
    const INPUTS: Arity = Arity::Exactly(1);

    fn parse(node: &Node, _: &Assets) -> Result<Bucketize> {
        let t = node.attr_tensor("boundaries")?;
        if t.shape().len() != 1 {
            return Err(node.error(format!("boundaries of shape {:?}: expected a vector", t.shape())));
        }
        let boundaries =
            t.as_slice::<f32>().map_err(|_| node.error(format!("boundaries of {}: expected f32", t.dtype())))?.to_vec();
        Bucketize::new(boundaries).map_err(|e| node.error(e.to_string()))
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        let boundaries = Tensor::from_vec(vec![self.boundaries.len()], self.boundaries.clone())
            .unwrap_or_else(|_| Tensor::empty(DataType::F32));
        vec![("boundaries", Attr::Tensor(boundaries))]
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        let x = &inputs[0];
        if !matches!(x.dtype, DataType::F32 | DataType::I32 | DataType::I64) {
            return Err(OpError::Dtype { input: 0, expected: "f32, i32 or i64", got: x.dtype });
        }
        Ok(TensorType::new(DataType::I32, x.dims().to_vec()))
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        let x = inputs[0];
        let dst = out.output_vec::<i32>(x.shape());
        match x.dtype() {
            DataType::F32 => dst.extend(slice::<f32>(x)?.iter().map(|&v| self.bucket(v))),
            DataType::I32 => dst.extend(slice::<i32>(x)?.iter().map(|&v| self.bucket(v as f32))),
            DataType::I64 => dst.extend(slice::<i64>(x)?.iter().map(|&v| self.bucket(v as f32))),
            got => return Err(OpError::Dtype { input: 0, expected: "f32, i32 or i64", got }),
        }
        Ok(())
    }

    #[cfg(feature = "grad")]
    fn grad(&self, _: &[&Tensor], _: &Tensor, _: &Tensor) -> crate::ops::grad::Grads {
        Ok(vec![None])
    }
}

impl Bucketize {
    /// The bucket of `v`: how many boundaries are `<= v` (a NaN is past all).
    fn bucket(&self, v: f32) -> i32 {
        let n = self.boundaries.partition_point(|&b| v.is_nan() || b <= v);
        // At most i32::MAX boundaries fit an attribute anyone reads.
        i32::try_from(n).unwrap_or(i32::MAX)
    }

    /// The op with `boundaries`, checked as [`OpDef::parse`] checks them.
    ///
    /// # Errors
    /// [`OpError::Invalid`] for unsorted boundaries or a NaN among them.
    pub fn new(boundaries: Vec<f32>) -> Result<Bucketize, OpError> {
        if boundaries.iter().any(|b| b.is_nan()) || boundaries.windows(2).any(|w| w[1] < w[0]) {
            return Err(OpError::Invalid {
                what: "boundaries",
                reason: format!("{boundaries:?}: expected sorted boundaries"),
            });
        }
        Ok(Bucketize { boundaries })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Op;
    use ndarray::array;

    fn bucketize(boundaries: &[f32], x: &Tensor) -> Tensor {
        Bucketize::new(boundaries.to_vec()).unwrap().run(&[x]).unwrap()
    }

    #[test]
    fn counts_the_boundaries_at_or_below_each_value() {
        // gen_math_ops.bucketize(tf.constant([[-5.0, 0.0, 0.5], [1.0, 9.9, 10.0]]), boundaries=[0.0, 1.0, 10.0])
        let x = Tensor::from(array![[-5.0f32, 0.0, 0.5], [1.0, 9.9, 10.0]]);
        assert_eq!(bucketize(&[0.0, 1.0, 10.0], &x), Tensor::from(array![[0i32, 1, 1], [2, 2, 3]]));
        // gen_math_ops.bucketize(tf.constant([-1, 0, 1, 2, 10, 11], tf.int64), boundaries=[0.0, 1.5, 10.0])
        let ints = Tensor::from(array![-1i64, 0, 1, 2, 10, 11]);
        assert_eq!(bucketize(&[0.0, 1.5, 10.0], &ints), Tensor::from(array![0i32, 1, 1, 2, 3, 3]));
        // gen_math_ops.bucketize(tf.constant([3, -7], tf.int32), boundaries=[])
        assert_eq!(bucketize(&[], &Tensor::from(array![3i32, -7])), Tensor::from(array![0i32, 0]));
        // gen_math_ops.bucketize(tf.constant([nan, inf, -inf]), boundaries=[0.0, 1.0])
        let odd = Tensor::from(array![f32::NAN, f32::INFINITY, f32::NEG_INFINITY]);
        assert_eq!(bucketize(&[0.0, 1.0], &odd), Tensor::from(array![2i32, 2, 0]));
        // gen_math_ops.bucketize(tf.constant([1.0, 2.0]), boundaries=[1.0, 1.0, 2.0])
        assert_eq!(bucketize(&[1.0, 1.0, 2.0], &Tensor::from(array![1.0f32, 2.0])), Tensor::from(array![2i32, 3]));
    }

    #[test]
    fn attributes_round_trip_and_unsorted_boundaries_are_refused() {
        let op = Bucketize::new(vec![-1.0, 0.5, 2.0]).unwrap();
        let node = Op::from(op.clone()).to_node("b", vec!["x".into()]);
        assert_eq!(Bucketize::parse(&node, &Assets::new()).unwrap(), op);
        // TensorFlow: "Expected sorted boundaries".
        for bad in [array![2.0f32, 1.0], array![0.0f32, f32::NAN]] {
            let node = Node::new("b", "Bucketize", &["x"]).with("boundaries", Attr::Tensor(Tensor::from(bad)));
            let err = Bucketize::parse(&node, &Assets::new()).unwrap_err().to_string();
            assert!(err.contains("sorted"), "{err}");
        }
        let matrix =
            Node::new("b", "Bucketize", &["x"]).with("boundaries", Attr::Tensor(Tensor::from(array![[1.0f32]])));
        assert!(Bucketize::parse(&matrix, &Assets::new()).is_err());
        let ints = Node::new("b", "Bucketize", &["x"]).with("boundaries", Attr::Tensor(Tensor::from(array![1i64])));
        assert!(Bucketize::parse(&ints, &Assets::new()).is_err());
        assert!(Bucketize::new(vec![1.0, 0.0]).is_err());
    }

    #[test]
    fn the_output_is_i32_of_the_input_shape() {
        let op = Bucketize::new(vec![0.0]).unwrap();
        let x = TensorType::new(DataType::I64, vec![None, Some(3)]);
        assert_eq!(op.infer(&[x]).unwrap(), TensorType::new(DataType::I32, vec![None, Some(3)]));
        let words = TensorType::new(DataType::String, vec![Some(2)]);
        assert!(matches!(op.infer(&[words]), Err(OpError::Dtype { input: 0, .. })));
        assert!(op.run(&[&Tensor::from(array![true])]).is_err());
    }
}
