//! `IndexToString`.

use std::path::Path;
use std::sync::Arc;

use crate::Bytes;
use crate::graph::{Attr, Node};
use crate::ops::kernel::indices;
use crate::ops::{Arity, OpDef, OpError, TensorType};
use crate::vocab::Vocabulary;
use crate::{Assets, DataType, Result, Tensor};

/// The string of each id of `x` (i32 or i64) in a vocabulary file: the
/// token on that 0-based line of the asset file (one token per line), or
/// `default_value` for an id that is no line (negative, or past the end).
/// TensorFlow's `index_to_string_table_from_file(vocabulary_file,
/// default_value)` (a `HashTable` from line numbers to lines), how a tagger
/// or a classifier names its predicted ids.
///
/// Attributes: `asset` (the file name under the artifact's `assets/`, read
/// at load), `default_value` (a string; TensorFlow's default is `"UNK"`).
///
/// Gradient: none (ids have none).
#[derive(Debug, Clone, PartialEq)]
pub struct IndexToString {
    /// The vocabulary's file name under `assets/`.
    pub asset: String,
    /// The vocabulary read from the asset.
    pub vocab: Arc<Vocabulary>,
    /// The string of an id that is no line.
    pub default_value: String,
}

impl IndexToString {
    /// The lookup in the vocabulary at `path`, to be stored as the asset
    /// named `asset`.
    ///
    /// # Errors
    /// As [`Vocabulary::from_file`]: the file is unreadable, empty, not
    /// UTF-8, or repeats a token.
    pub fn from_file(asset: impl Into<String>, path: &Path, default_value: impl Into<String>) -> Result<IndexToString> {
        let vocab = Arc::new(Vocabulary::from_file(path)?);
        Ok(IndexToString { asset: asset.into(), vocab, default_value: default_value.into() })
    }
}

impl OpDef for IndexToString {
    const NAME: &'static str = "IndexToString";
    const SINCE: u32 = 6;
    const INPUTS: Arity = Arity::Exactly(1);

    fn parse(node: &Node, assets: &Assets) -> Result<IndexToString> {
        let asset = node.attr_str("asset")?;
        let default_value = node.attr_str("default_value")?;
        let path = assets.path(asset).map_err(|e| node.error(e.to_string()))?;
        IndexToString::from_file(asset, path, default_value).map_err(|e| node.error(e.to_string()))
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        vec![("asset", Attr::Str(self.asset.clone())), ("default_value", Attr::Str(self.default_value.clone()))]
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        if !matches!(inputs[0].dtype, DataType::I32 | DataType::I64) {
            return Err(OpError::Dtype { input: 0, expected: "i32 or i64", got: inputs[0].dtype });
        }
        Ok(TensorType { dtype: DataType::String, shape: inputs[0].shape.clone() })
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        let ids = indices(inputs[0], 0)?;
        let strings = out.output_vec::<Bytes>(inputs[0].shape());
        strings.extend(
            ids.iter()
                .map(|&id| Bytes::copy_from_slice(self.vocab.token(id).unwrap_or(&self.default_value).as_bytes())),
        );
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

    #[test]
    fn names_ids_by_their_line_and_others_by_the_default() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tags.txt"), "O\nB-PER\r\nI-PER\n").unwrap();
        let mut assets = Assets::new();
        assets.insert("tags.txt", dir.path().join("tags.txt")).unwrap();
        let node = Node::new("names", "IndexToString", &["ids"])
            .with("asset", Attr::Str("tags.txt".into()))
            .with("default_value", Attr::Str("UNK".into()));
        let op = IndexToString::parse(&node, &assets).unwrap();
        let names = op.run(&[&Tensor::from(ndarray::array![[1i32, 0], [2, 3]])]).unwrap();
        assert_eq!(names.shape(), &[2, 2]);
        assert_eq!(names.as_slice::<Bytes>().unwrap(), ["B-PER", "O", "I-PER", "UNK"]);
        let names = op.run(&[&Tensor::from(ndarray::array![-1i64])]).unwrap();
        assert_eq!(names.as_slice::<Bytes>().unwrap(), ["UNK"]);
        assert_eq!(op.attrs().len(), 2);
        assert!(op.infer(&[TensorType::new(DataType::String, vec![None])]).is_err());
        let missing = Node::new("names", "IndexToString", &["ids"])
            .with("asset", Attr::Str("nope.txt".into()))
            .with("default_value", Attr::Str("UNK".into()));
        assert!(IndexToString::parse(&missing, &assets).is_err());
    }
}
