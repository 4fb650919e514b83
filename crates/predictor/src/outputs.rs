//! `Outputs`: a call's results by signature key.

use std::ops::Index;
use std::sync::Arc;

use opset::Tensor;

/// The outputs of one call, by the signature's output keys. Reusable: give
/// it back to [`crate::Predictor::predict_into`] and its buffers are
/// overwritten in place.
#[derive(Debug, Clone, PartialEq)]
pub struct Outputs {
    pub(crate) keys: Arc<[String]>,
    pub(crate) tensors: Vec<Tensor>,
}

impl Outputs {
    /// The output `key`, if the signature has it.
    pub fn get(&self, key: &str) -> Option<&Tensor> {
        self.keys.iter().position(|k| crate::predictor::same_key(k, key)).map(|i| &self.tensors[i])
    }

    /// The keys, sorted.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(String::as_str)
    }

    /// Every output with its key, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Tensor)> {
        self.keys.iter().map(String::as_str).zip(&self.tensors)
    }

    /// The number of outputs.
    pub fn len(&self) -> usize {
        self.tensors.len()
    }

    /// Whether there is no output (never, for a valid signature).
    pub fn is_empty(&self) -> bool {
        self.tensors.is_empty()
    }

    /// The outputs as (key, tensor) pairs.
    pub fn into_vec(self) -> Vec<(String, Tensor)> {
        self.keys.iter().cloned().zip(self.tensors).collect()
    }
}

impl Index<&str> for Outputs {
    type Output = Tensor;

    /// The output `key`.
    ///
    /// # Panics
    /// If the signature has no output `key`, as indexing a map does; use
    /// [`Outputs::get`] to handle that case.
    fn index(&self, key: &str) -> &Tensor {
        match self.get(key) {
            Some(t) => t,
            None => panic!("no output {key:?}; the outputs are {:?}", self.keys),
        }
    }
}
