//! Vocabulary tables read from asset files, for the `VocabLookup` op.

use std::collections::HashMap;
use std::path::Path;

use crate::{Error, Result};

/// A string -> id table: the id of a token is its 0-based line number in the
/// file, as in TensorFlow's `index_table_from_file`; and back
/// ([`Vocabulary::token`]), as `index_to_string_table_from_file`.
#[derive(Debug, Clone, PartialEq)]
pub struct Vocabulary {
    ids: HashMap<Vec<u8>, i64>,
    tokens: Vec<String>,
}

impl Vocabulary {
    /// Reads one token per line (`\n`-separated, a trailing `\r` dropped, a
    /// final newline optional).
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be read; [`Error::Malformed`] if it is
    /// empty, not UTF-8, or repeats a token (naming it and both lines).
    pub fn from_file(path: &Path) -> Result<Vocabulary> {
        let bytes = std::fs::read(path).map_err(Error::io("reading vocabulary", path))?;
        let text =
            std::str::from_utf8(&bytes).map_err(|e| Error::malformed(path, format!("vocabulary is not UTF-8: {e}")))?;
        Vocabulary::from_lines(text.strip_suffix('\n').unwrap_or(text).split('\n'))
            .map_err(|reason| Error::malformed(path, reason))
    }

    /// Builds a table from tokens in id order.
    ///
    /// # Errors
    /// A message if there is no token or a token repeats.
    pub fn from_lines<'a>(tokens: impl IntoIterator<Item = &'a str>) -> Result<Vocabulary, String> {
        let mut ids = HashMap::new();
        let mut in_order = Vec::new();
        for (line, token) in tokens.into_iter().enumerate() {
            let token = token.strip_suffix('\r').unwrap_or(token);
            if let Some(first) = ids.insert(token.as_bytes().to_vec(), line as i64) {
                return Err(format!("token {token:?} appears on line {} and again on line {}", first + 1, line + 1));
            }
            in_order.push(token.to_owned());
        }
        if ids.is_empty() || (ids.len() == 1 && ids.contains_key(&b""[..])) {
            return Err("vocabulary is empty".into());
        }
        Ok(Vocabulary { ids, tokens: in_order })
    }

    /// The number of tokens.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// The token of `id` (its line), if there is one.
    pub fn token(&self, id: i64) -> Option<&str> {
        usize::try_from(id).ok().and_then(|i| self.tokens.get(i)).map(String::as_str)
    }

    /// Whether the table is empty (never true for a loaded table).
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The id of `token` (its bytes, as TensorFlow compares strings): its
    /// line, else an out-of-vocabulary bucket `len + hash_bucket(token,
    /// num_oov_buckets)` (as TensorFlow's `StaticVocabularyTable`), else
    /// `default_value`.
    pub fn lookup(&self, token: &[u8], num_oov_buckets: u64, default_value: i64) -> i64 {
        match self.ids.get(token) {
            Some(&id) => id,
            None if num_oov_buckets > 0 => self.ids.len() as i64 + hash_bucket(token, num_oov_buckets),
            None => default_value,
        }
    }
}

/// TensorFlow's `StringToHashBucketFast`: FarmHash's `Fingerprint64` of the
/// bytes, modulo `buckets` (which must not be 0). Stable across platforms
/// and releases, and equal to TensorFlow's, so a token lands in the same
/// bucket when training, when serving, and in TensorFlow.
pub fn hash_bucket(token: &[u8], buckets: u64) -> i64 {
    // The remainder is below `buckets` <= i64::MAX (checked when parsed).
    (farmhash::fingerprint64(token) % buckets.max(1)) as i64
}

/// The 64-bit FNV-1a hash: stable across platforms and releases (a cheap
/// seed mixer; vocabulary buckets use [`hash_bucket`], as TensorFlow does).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}
