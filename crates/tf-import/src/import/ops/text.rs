//! Text ops: formatting numbers, hashing strings into buckets, and lookups
//! in tables filled from a vocabulary file or from constant keys and values
//! (what fills a table is found by [`crate::import::lookup_tables`]).

use std::sync::Arc;

use opset::ops::array::Const;
use opset::ops::text::{AsString, HashBucket, KeyValueMap, TableLookup, VocabLookup};
use opset::{Tensor, Vocabulary};

use super::{Translate, same_op};
use crate::Result;
use crate::import::lookup_tables::TableSource;
use crate::import::{Importer, attr, node_error};
use crate::pb;

/// The TensorFlow ops of this family, by name.
pub(super) const OPS: &[(&str, Translate)] = &[
    ("AsString", as_string),
    ("StringToHashBucketFast", hash_bucket),
    ("LookupTableFindV2", lookup),
    ("LookupTableFind", lookup),
    ("LookupTableSizeV2", table_size),
    ("LookupTableSize", table_size),
];

/// `AsString` with its default formatting (the only one supported).
fn as_string<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, index: usize) -> Result<String> {
    let fill = attr::bytes(node, "fill").is_some_and(|f| !f.is_empty());
    if attr::int_or(node, "precision", -1) != -1
        || attr::int_or(node, "width", -1) != -1
        || fill
        || attr::flag(node, "scientific")
        || attr::flag(node, "shortest")
    {
        return Err(node_error(node, "only AsString's default formatting is supported"));
    }
    same_op::<AsString, 1>(im, scope, node, index)
}

/// `StringToHashBucketFast`: our `HashBucket` over `num_buckets`.
fn hash_bucket<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    let n = attr::int(node, "num_buckets").ok_or_else(|| node_error(node, "no num_buckets"))?;
    let num_buckets = u64::try_from(n)
        .ok()
        .filter(|&n| n >= 1)
        .ok_or_else(|| node_error(node, format!("num_buckets {n} must be >= 1")))?;
    let x = im.input(scope, node, 0)?;
    im.emit(scope, node, HashBucket { num_buckets }, &[x])
}

/// A lookup in a table: our `VocabLookup` on the asset a vocabulary file
/// fills it from, or our `TableLookup` of its constant keys and values.
/// Keys missing from it get the lookup's default value
/// (`StaticVocabularyTable`'s out-of-vocabulary buckets are ops around
/// the lookup, translated one by one).
fn lookup<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    let source = im.table_source(scope, node)?;
    let words = im.input(scope, node, 1)?;
    let default_value = im.int(scope, node, 2)?;
    match source {
        TableSource::File { asset, path } => {
            let op =
                VocabLookup::from_file(asset, &path, 0, default_value).map_err(|e| node_error(node, e.to_string()))?;
            im.emit(scope, node, op, &[words])
        }
        TableSource::Inline { keys, values } => {
            let table = Arc::new(KeyValueMap::new(&keys, &values).map_err(|e| node_error(node, e.to_string()))?);
            im.emit(scope, node, TableLookup { table, default_value }, &[words])
        }
    }
}

/// The size of a table, fixed once it is initialised: the number of
/// tokens of its vocabulary, or of its keys.
fn table_size<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    let size = match im.table_source(scope, node)? {
        TableSource::File { path, .. } => {
            Vocabulary::from_file(&path).map_err(|e| node_error(node, e.to_string()))?.len()
        }
        TableSource::Inline { keys, .. } => keys.len(),
    };
    let value = Tensor::scalar(i64::try_from(size).unwrap_or(i64::MAX));
    im.emit(scope, node, Const { value }, &[])
}
