//! `HashBucket`.

use crate::Bytes;
use crate::graph::{Attr, Node};
use crate::ops::kernel::slice;
use crate::ops::rule::expect_dtype;
use crate::ops::{Arity, OpDef, OpError, TensorType};
use crate::vocab::hash_bucket;
use crate::{Assets, DataType, Result, Tensor};

/// The i64 bucket of each string of `x` among `num_buckets`:
/// `Fingerprint64(x) % num_buckets`, FarmHash's fingerprint of the bytes,
/// as TensorFlow's `StringToHashBucketFast` (so a string lands in the same
/// bucket when training, when serving, and in TensorFlow).
///
/// Attribute: `num_buckets` (an int >= 1).
///
/// Gradient: none (strings have none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashBucket {
    /// The number of buckets, at least 1 and at most `i64::MAX`.
    pub num_buckets: u64,
}

impl OpDef for HashBucket {
    const NAME: &'static str = "HashBucket";
    const SINCE: u32 = 2;
    const INPUTS: Arity = Arity::Exactly(1);

    fn parse(node: &Node, _: &Assets) -> Result<HashBucket> {
        let n = node.attr_int("num_buckets")?;
        match u64::try_from(n) {
            Ok(num_buckets) if num_buckets >= 1 => Ok(HashBucket { num_buckets }),
            _ => Err(node.error(format!("num_buckets {n} must be >= 1"))),
        }
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        vec![("num_buckets", Attr::Int(i64::try_from(self.num_buckets).unwrap_or(i64::MAX)))]
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        if self.num_buckets == 0 || i64::try_from(self.num_buckets).is_err() {
            let reason = format!("{} must be in 1..={}", self.num_buckets, i64::MAX);
            return Err(OpError::Invalid { what: "num_buckets", reason });
        }
        expect_dtype(inputs, 0, DataType::String)?;
        Ok(TensorType { dtype: DataType::I64, shape: inputs[0].shape.clone() })
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        let words = slice::<Bytes>(inputs[0])?;
        let ids = out.output_vec::<i64>(inputs[0].shape());
        ids.extend(words.iter().map(|w| hash_bucket(w, self.num_buckets)));
        Ok(())
    }

    #[cfg(feature = "grad")]
    fn grad(&self, _: &[&Tensor], _: &Tensor, _: &Tensor) -> crate::ops::grad::Grads {
        Ok(vec![None])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(w: &[&str]) -> Tensor {
        Tensor::from(ndarray::Array1::from(w.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()))
    }

    #[test]
    fn buckets_are_tensorflows() {
        // What TensorFlow 2.15 answers for `tf.strings.to_hash_bucket_fast(words, 4)`.
        let x = words(&["zzz", "", "hello", "héllo wörld", "news", "sport", "weather report, long tag"]);
        let ids = HashBucket { num_buckets: 4 }.run(&[&x]).unwrap();
        assert_eq!(ids.as_slice::<i64>().unwrap(), [0, 3, 0, 3, 1, 1, 2]);
    }

    #[test]
    fn attributes_round_trip() {
        let h = HashBucket { num_buckets: 1 << 62 };
        let node = crate::ops::Op::from(h).to_node("h", vec!["w".into()]);
        assert_eq!(HashBucket::parse(&node, &Assets::new()).unwrap(), h);
    }

    #[test]
    fn no_bucket_is_refused() {
        for bad in [0, -3] {
            let node = Node::new("h", "HashBucket", &["w"]).with("num_buckets", Attr::Int(bad));
            let err = HashBucket::parse(&node, &Assets::new()).unwrap_err();
            assert!(err.to_string().contains(">= 1"), "{err}");
        }
        let numbers = TensorType::new(DataType::I64, vec![Some(1)]);
        assert!(HashBucket { num_buckets: 2 }.infer(&[numbers]).is_err());
    }
}
