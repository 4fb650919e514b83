//! `VocabLookup`.

use std::path::Path;
use std::sync::Arc;

use crate::Bytes;
use crate::graph::{Attr, Node};
use crate::ops::kernel::slice;
use crate::ops::rule::expect_dtype;
use crate::ops::{Arity, OpDef, OpError, TensorType};
use crate::vocab::Vocabulary;
use crate::{Assets, DataType, Result, Tensor};

/// The i64 id of each string of `x` in a vocabulary file: its 0-based line
/// number in the asset file (one token per line); a token not in the file
/// gets `vocab_size + HashBucket(token)` over `num_oov_buckets` buckets, or
/// `default_value` when there are no buckets. TensorFlow's
/// `StaticVocabularyTable` (`index_table_from_file`).
///
/// Attributes: `asset` (the file name under the artifact's `assets/`, read
/// at load), `num_oov_buckets` (an int >= 0), `default_value` (an int).
///
/// Gradient: none (strings have none).
#[derive(Debug, Clone, PartialEq)]
pub struct VocabLookup {
    /// The vocabulary's file name under `assets/`.
    pub asset: String,
    /// The vocabulary read from the asset.
    pub vocab: Arc<Vocabulary>,
    /// How many hash buckets share the tokens not in the vocabulary.
    pub num_oov_buckets: u64,
    /// The id of a token not in the vocabulary when there is no bucket.
    pub default_value: i64,
}

impl VocabLookup {
    /// Every id, up to `len + num_oov_buckets - 1`, must be an i64.
    fn check_ids(&self) -> Result<(), OpError> {
        let ids = u64::try_from(self.vocab.len()).ok().and_then(|n| n.checked_add(self.num_oov_buckets));
        if ids.is_none_or(|n| i64::try_from(n).is_err()) {
            let reason = format!("{} buckets past {} tokens overflow i64 ids", self.num_oov_buckets, self.vocab.len());
            return Err(OpError::Invalid { what: "num_oov_buckets", reason });
        }
        Ok(())
    }

    /// The lookup in the vocabulary at `path`, to be stored as the asset
    /// named `asset`.
    ///
    /// # Errors
    /// As [`Vocabulary::from_file`]: the file is unreadable, empty, not
    /// UTF-8, or repeats a token.
    pub fn from_file(
        asset: impl Into<String>,
        path: &Path,
        num_oov_buckets: u64,
        default_value: i64,
    ) -> Result<VocabLookup> {
        let vocab = Arc::new(Vocabulary::from_file(path)?);
        Ok(VocabLookup { asset: asset.into(), vocab, num_oov_buckets, default_value })
    }
}

impl OpDef for VocabLookup {
    const NAME: &'static str = "VocabLookup";
    const SINCE: u32 = 2;
    const INPUTS: Arity = Arity::Exactly(1);

    fn parse(node: &Node, assets: &Assets) -> Result<VocabLookup> {
        let asset = node.attr_str("asset")?;
        let buckets = node.attr_int("num_oov_buckets")?;
        let num_oov_buckets =
            u64::try_from(buckets).map_err(|_| node.error(format!("num_oov_buckets {buckets} must be >= 0")))?;
        let default_value = node.attr_int("default_value")?;
        let path = assets.path(asset).map_err(|e| node.error(e.to_string()))?;
        VocabLookup::from_file(asset, path, num_oov_buckets, default_value).map_err(|e| node.error(e.to_string()))
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        vec![
            ("asset", Attr::Str(self.asset.clone())),
            ("num_oov_buckets", Attr::Int(i64::try_from(self.num_oov_buckets).unwrap_or(i64::MAX))),
            ("default_value", Attr::Int(self.default_value)),
        ]
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        self.check_ids()?;
        expect_dtype(inputs, 0, DataType::String)?;
        Ok(TensorType { dtype: DataType::I64, shape: inputs[0].shape.clone() })
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        // Again here: a producer may run the op without its shape rule.
        self.check_ids()?;
        let words = slice::<Bytes>(inputs[0])?;
        let ids = out.output_vec::<i64>(inputs[0].shape());
        ids.extend(words.iter().map(|w| self.vocab.lookup(w, self.num_oov_buckets, self.default_value)));
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

    /// A vocabulary file `vocab.txt` in a new directory, and its assets.
    fn vocabulary(text: &str) -> (tempfile::TempDir, Assets) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("vocab.txt"), text).unwrap();
        let mut assets = Assets::new();
        assets.insert("vocab.txt", dir.path().join("vocab.txt")).unwrap();
        (dir, assets)
    }

    fn node(buckets: i64) -> Node {
        Node::new("lookup", "VocabLookup", &["words"])
            .with("asset", Attr::Str("vocab.txt".into()))
            .with("num_oov_buckets", Attr::Int(buckets))
            .with("default_value", Attr::Int(-1))
    }

    #[test]
    fn looks_up_lines_then_buckets() {
        let (_dir, assets) = vocabulary("good\nbad\nmovie\n");
        let words = Tensor::from(ndarray::array![["movie".to_owned(), "good".into(), "zzz".into()]]);
        // "zzz" hashes to bucket 0 of 4 in TensorFlow 2.15
        // (`tf.strings.to_hash_bucket_fast(["zzz"], 4)`).
        let ids = VocabLookup::parse(&node(4), &assets).unwrap().run(&[&words]).unwrap();
        assert_eq!(ids, Tensor::from(ndarray::array![[2i64, 0, 3]]));
        let ids = VocabLookup::parse(&node(0), &assets).unwrap().run(&[&words]).unwrap();
        assert_eq!(ids.as_slice::<i64>().unwrap(), [2, 0, -1]);
    }

    #[test]
    fn attributes_round_trip() {
        let (dir, assets) = vocabulary("a\nb\n");
        let lookup = VocabLookup::from_file("vocab.txt", &dir.path().join("vocab.txt"), 3, -7).unwrap();
        let node = crate::ops::Op::from(lookup.clone()).to_node("v", vec!["w".into()]);
        assert_eq!(VocabLookup::parse(&node, &assets).unwrap(), lookup);
    }

    #[test]
    fn bad_vocabularies_and_buckets_are_refused() {
        let (dir, assets) = vocabulary("a\nb\na\n");
        let err = VocabLookup::parse(&node(1), &assets).unwrap_err().to_string();
        assert!(err.contains("lookup") && err.contains("line 1 and again on line 3"), "{err}");
        std::fs::remove_file(dir.path().join("vocab.txt")).unwrap();
        let err = VocabLookup::parse(&node(1), &assets).unwrap_err().to_string();
        assert!(err.contains("lookup") && err.contains("vocab.txt"), "missing file: {err}");
        let err = VocabLookup::parse(&node(-1), &assets).unwrap_err().to_string();
        assert!(err.contains("must be >= 0"), "{err}");
        let vocab = Arc::new(Vocabulary::from_lines(["a"]).unwrap());
        let huge = VocabLookup { asset: "v".into(), vocab, num_oov_buckets: i64::MAX as u64, default_value: 0 };
        assert!(huge.infer(&[TensorType::new(DataType::String, vec![])]).is_err());
    }
}
