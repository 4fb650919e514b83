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

    /// The same keys, each tensor replaced by what `f` makes of it (a
    /// batch's outputs cut into each request's rows).
    ///
    /// # Errors
    /// The first error `f` returns.
    pub fn try_map<E>(&self, mut f: impl FnMut(&str, &Tensor) -> Result<Tensor, E>) -> Result<Outputs, E> {
        let tensors = self.iter().map(|(key, t)| f(key, t)).collect::<Result<_, E>>()?;
        Ok(Outputs { keys: Arc::clone(&self.keys), tensors })
    }

    /// Outputs of `(key, tensor)` pairs, sorted by key as a call's are: the
    /// inverse of [`Outputs::into_vec`], for results built elsewhere.
    pub fn from_vec(mut pairs: Vec<(String, Tensor)>) -> Outputs {
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        let (keys, tensors): (Vec<String>, Vec<Tensor>) = pairs.into_iter().unzip();
        Outputs { keys: keys.into(), tensors }
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
