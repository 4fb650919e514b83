//! Lookup tables: what fills the table a `LookupTableFindV2` reads, a
//! vocabulary file (our `VocabLookup` on the asset) or constant keys and
//! values (our `TableLookup`); the translators are in [`super::ops`]'s text
//! family.

use std::path::PathBuf;

use opset::Tensor;

use super::{Importer, attr, node_error};
use crate::Result;
use crate::pb;

/// What fills a lookup table.
pub(super) enum TableSource {
    /// A vocabulary file in `assets/` (id = line number): its name there,
    /// and where it is now.
    File {
        /// The file name under `assets/`.
        asset: String,
        /// Its path.
        path: PathBuf,
    },
    /// Keys and values given in the graph.
    Inline {
        /// The keys (strings or i64).
        keys: Tensor,
        /// The value of each key (i64).
        values: Tensor,
    },
}

impl<'a> Importer<'a> {
    /// What fills the table `node` reads (input 0): a vocabulary file
    /// ([`Importer::table_vocabulary`]), or keys and values given as
    /// constants (`LookupTableImportV2`, as `KeyValueTensorInitializer` and
    /// Keras's `StringLookup` build it). The import sits beside the table
    /// (TF1), or in an initializer function that the graph calls on the
    /// table (TF2), or, failing that, that the object graph binds to
    /// top-level constants (then it must be the only one).
    pub(super) fn table_source(&mut self, scope: usize, node: &'a pb::NodeDef) -> Result<TableSource> {
        let from_file = self.table_vocabulary(scope, node);
        let from_file_error = match from_file {
            Ok(asset) => return Ok(TableSource::File { path: self.assets_dir.join(&asset), asset }),
            Err(e) => e,
        };
        let inputs = Self::data_inputs(node);
        let (table_scope, table_ref) = self.outer(scope, inputs.first().copied().unwrap_or_default());
        let table = self.node(table_scope, table_ref)?;
        let on_table = |n: &pb::NodeDef| {
            n.input.iter().find(|i| !i.starts_with('^')).map(|r| super::node_name(r)) == Some(table.name.as_str())
        };
        let mut found = None;
        for &n in self.scopes[table_scope].nodes.values().filter(|n| on_table(n)) {
            let d = Self::data_inputs(n);
            if is_key_value_import(n) && d.len() >= 3 {
                found = Some((d[1], d[2], n));
                break;
            }
            let callee = super::function_of(n).and_then(|f| self.functions.get(f)).copied();
            let Some((f, init)) = callee.and_then(|f| Some((f, f.node_def.iter().find(|x| is_key_value_import(x))?)))
            else {
                continue;
            };
            if let (Some(k), Some(v)) = (argument(f, init, 1), argument(f, init, 2))
                && let (Some(&k), Some(&v)) = (d.get(k), d.get(v))
            {
                found = Some((k, v, init));
                break;
            }
        }
        let (keys, values, init) = match found {
            Some((k, v, init)) => {
                let keys = self.constant_node(self.node(table_scope, k)?)?;
                // Values are constants, or ids computed from constants (a
                // vocabulary list's `Cast(Range(size))`), folded.
                let values = match self.constant_node(self.node(table_scope, v)?) {
                    Ok(values) => values,
                    Err(_) => {
                        let ids: Option<Vec<i64>> = self.shape_value(table_scope, v, 0)?.into_iter().collect();
                        let ids =
                            ids.ok_or_else(|| node_error(init, "the table's values are known only at run time"))?;
                        opset::Tensor::from_vec(vec![ids.len()], ids).map_err(|e| node_error(init, e.to_string()))?
                    }
                };
                (keys, values, init)
            }
            None => self.bound_table(node)?.ok_or(from_file_error)?,
        };
        if !matches!(keys.dtype(), opset::DataType::String | opset::DataType::I64)
            || values.dtype() != opset::DataType::I64
        {
            return Err(node_error(
                init,
                format!("a table from {} to {} is not supported", keys.dtype(), values.dtype()),
            ));
        }
        Ok(TableSource::Inline { keys, values })
    }

    /// The keys and values of the one key-value initializer of the library,
    /// through the constants the object graph binds to its arguments
    /// (`None` if the library has no such initializer).
    fn bound_table(&self, node: &'a pb::NodeDef) -> Result<Option<(Tensor, Tensor, &'a pb::NodeDef)>> {
        let imports: Vec<(&str, &pb::FunctionDef, &pb::NodeDef)> = self
            .functions
            .iter()
            .flat_map(|(&name, &f)| f.node_def.iter().filter(|n| is_key_value_import(n)).map(move |n| (name, f, n)))
            .collect();
        let (name, function, init) = match imports.as_slice() {
            [] => return Ok(None),
            &[one] => one,
            _ => {
                let reason = format!("{} key-value initializers, and none called on this table", imports.len());
                return Err(node_error(node, reason));
            }
        };
        let bound = self.bound_constants.get(name).cloned().unwrap_or_default();
        let constant = |i: usize| -> Result<Tensor> {
            let op = argument(function, init, i)
                .and_then(|a| bound.get(a).copied().flatten())
                .ok_or_else(|| node_error(init, format!("input {i} is not bound to a constant of the object graph")))?;
            self.constant_node(self.node(0, op)?)
        };
        Ok(Some((constant(1)?, constant(2)?, init)))
    }

    /// The asset file that initialises the table `node` reads (input 0): a
    /// `HashTableV2` filled by `InitializeTableFromTextFileV2` with one
    /// token per line, id = line number (`TextFileInitializer` with
    /// WHOLE_LINE keys and LINE_NUMBER values). The initialiser sits next
    /// to the table in a TF1 graph, with the file name as a constant; in
    /// TF2 it is a function of the object graph that receives the asset,
    /// and the file is the asset the table's `shared_name` names
    /// (`hash_table_<path>_<key index>_<value index>`).
    pub(super) fn table_vocabulary(&mut self, scope: usize, node: &'a pb::NodeDef) -> Result<String> {
        let inputs = Self::data_inputs(node);
        let (table_scope, table_ref) = self.outer(scope, inputs.first().copied().unwrap_or_default());
        let table = self.node(table_scope, table_ref)?;
        if !matches!(table.op.as_str(), "HashTableV2" | "HashTable") {
            return Err(node_error(node, format!("lookups in a {} table are not supported", table.op)));
        }
        let is_init =
            |n: &pb::NodeDef| matches!(n.op.as_str(), "InitializeTableFromTextFileV2" | "InitializeTableFromTextFile");
        let beside = self.scopes[table_scope]
            .nodes
            .values()
            .find(|n| is_init(n) && n.input.first().map(|i| super::node_name(i)) == Some(table.name.as_str()))
            .copied();
        let in_function = || self.functions.values().flat_map(|f| &f.node_def).find(|n| is_init(n));
        let init =
            beside.or_else(in_function).ok_or_else(|| node_error(table, "the table has no text-file initializer"))?;
        // An attribute left out takes the op's default (vocab_size -1: the whole file).
        let int = |key: &str, default: i64| attr::int_or(init, key, default);
        if int("key_index", 0) != -2
            || int("value_index", 0) != -1
            || int("vocab_size", -1) != -1
            || int("offset", 0) != 0
        {
            return Err(node_error(
                init,
                "only whole-line keys with line-number values over the whole file are supported",
            ));
        }
        let asset = match beside {
            Some(init) => {
                let path_ref =
                    Self::data_inputs(init).get(1).copied().ok_or_else(|| node_error(init, "no file name input"))?;
                let path = self.constant_node(self.node(table_scope, path_ref)?)?;
                let path = path
                    .as_slice::<opset::Bytes>()?
                    .first()
                    .map(|p| String::from_utf8_lossy(p).into_owned())
                    .unwrap_or_default();
                // The file travels in the SavedModel's assets/, under its base name.
                std::path::Path::new(&path)
                    .file_name()
                    .and_then(|f| f.to_str())
                    .ok_or_else(|| node_error(init, format!("asset path {path:?} has no file name")))?
                    .to_owned()
            }
            None => self.asset_named_by(table)?,
        };
        self.assets.insert(asset.clone());
        Ok(asset)
    }

    /// The one file of `assets/` that the TF2 table's `shared_name` names:
    /// `hash_table_<path>_-2_-1` for whole-line keys and line-number values
    /// over the whole file (a vocabulary size would sit before the indices).
    fn asset_named_by(&self, table: &pb::NodeDef) -> Result<String> {
        let shared = attr::bytes(table, "shared_name").map(String::from_utf8_lossy).unwrap_or_default().into_owned();
        let path = shared.strip_prefix("hash_table_").and_then(|s| s.strip_suffix("_-2_-1")).ok_or_else(|| {
            node_error(
                table,
                format!(
                    "table {shared:?}: only whole-line keys with line-number values over a whole file are supported"
                ),
            )
        })?;
        let entries = std::fs::read_dir(&self.assets_dir)
            .map_err(|e| node_error(table, format!("reading {}: {e}", self.assets_dir.display())))?;
        let names: Vec<String> = entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|name| path == name || path.ends_with(&format!("/{name}")) || path.ends_with(&format!("\\{name}")))
            .collect();
        match names.as_slice() {
            [one] => Ok(one.clone()),
            _ => Err(node_error(
                table,
                format!("table {shared:?}: {} files of assets/ match its file, expected one", names.len()),
            )),
        }
    }
}

/// Whether `n` fills a table with keys and values given as tensors.
fn is_key_value_import(n: &pb::NodeDef) -> bool {
    matches!(n.op.as_str(), "LookupTableImportV2" | "InitializeTableV2")
}

/// Which argument of `function` input `i` of its node `init` is.
fn argument(function: &pb::FunctionDef, init: &pb::NodeDef, i: usize) -> Option<usize> {
    let reference = init.input.iter().filter(|r| !r.starts_with('^')).nth(i)?;
    function.signature.as_ref()?.input_arg.iter().position(|a| a.name == super::node_name(reference))
}
