//! `TableLookup`, and the [`KeyValueMap`] it looks up.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use crate::Bytes;
use crate::graph::{Attr, Node};
use crate::ops::kernel::slice;
use crate::ops::rule::expect_dtype;
use crate::ops::{Arity, OpDef, OpError, TensorType};
use crate::tensor::Element;
use crate::{Assets, DataType, Result, Tensor};

/// The i64 value of each element of `x` (string or i64, as the table's
/// keys) in a key-value table, `default_value` for any other key.
/// TensorFlow's `StaticHashTable` with a `KeyValueTensorInitializer`, as
/// Keras's `StringLookup` and `IntegerLookup` build it.
///
/// Attributes: `keys` (a string or i64 tensor, distinct), `values` (an i64
/// tensor, one per key), `default_value` (an int).
///
/// Gradient: none (keys are strings or integers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableLookup {
    /// The table.
    pub table: Arc<KeyValueMap>,
    /// The value of a key not in the table.
    pub default_value: i64,
}

/// The entries of a [`TableLookup`], by the dtype of their keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyValueMap {
    /// String keys.
    Strings(HashMap<Bytes, i64>),
    /// i64 keys.
    Ints(HashMap<i64, i64>),
}

impl KeyValueMap {
    /// The table of `keys` (a string or i64 tensor, distinct) to `values`
    /// (an i64 tensor, one per key).
    ///
    /// # Errors
    /// [`OpError::Invalid`] for keys of another dtype, a repeated key, or
    /// counts that differ; [`OpError::Tensor`] for values that are not i64.
    pub fn new(keys: &Tensor, values: &Tensor) -> Result<KeyValueMap, OpError> {
        let values = values.as_slice::<i64>()?;
        Ok(match keys.dtype() {
            DataType::String => KeyValueMap::Strings(entries(keys.as_slice::<Bytes>()?, values)?),
            DataType::I64 => KeyValueMap::Ints(entries(keys.as_slice::<i64>()?, values)?),
            other => {
                return Err(OpError::Invalid { what: "keys", reason: format!("of {other}: expected strings or i64") });
            }
        })
    }

    /// The dtype of the keys (of the input looked up).
    pub fn key_dtype(&self) -> DataType {
        match self {
            KeyValueMap::Strings(_) => DataType::String,
            KeyValueMap::Ints(_) => DataType::I64,
        }
    }
}

impl OpDef for TableLookup {
    const NAME: &'static str = "TableLookup";
    const SINCE: u32 = 3;
    const INPUTS: Arity = Arity::Exactly(1);

    fn parse(node: &Node, _: &Assets) -> Result<TableLookup> {
        let table = KeyValueMap::new(node.attr_tensor("keys")?, node.attr_tensor("values")?)
            .map_err(|e| node.error(e.to_string()))?;
        Ok(TableLookup { table: Arc::new(table), default_value: node.attr_int("default_value")? })
    }

    /// `keys` and `values` in the order of the keys, so that a table is
    /// always written with the same bytes.
    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        let (keys, values) = match &*self.table {
            KeyValueMap::Strings(map) => sorted(map),
            KeyValueMap::Ints(map) => sorted(map),
        };
        vec![
            ("keys", Attr::Tensor(keys)),
            ("values", Attr::Tensor(values)),
            ("default_value", Attr::Int(self.default_value)),
        ]
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        expect_dtype(inputs, 0, self.table.key_dtype())?;
        Ok(TensorType { dtype: DataType::I64, shape: inputs[0].shape.clone() })
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        let x = inputs[0];
        match &*self.table {
            KeyValueMap::Strings(map) => lookup(map, slice::<Bytes>(x)?, x.shape(), self.default_value, out),
            KeyValueMap::Ints(map) => lookup(map, slice::<i64>(x)?, x.shape(), self.default_value, out),
        }
        Ok(())
    }

    #[cfg(feature = "grad")]
    fn grad(&self, _: &[&Tensor], _: &Tensor, _: &Tensor) -> crate::ops::grad::Grads {
        Ok(vec![None])
    }
}

/// The map of `keys` to `values`, refusing a repeated key.
fn entries<K: Hash + Eq + Clone + std::fmt::Debug>(keys: &[K], values: &[i64]) -> Result<HashMap<K, i64>, OpError> {
    let invalid = |reason: String| OpError::Invalid { what: "keys", reason };
    if keys.len() != values.len() {
        return Err(invalid(format!("{} keys but {} values", keys.len(), values.len())));
    }
    let mut map = HashMap::with_capacity(keys.len());
    for (k, &v) in keys.iter().zip(values) {
        if map.insert(k.clone(), v).is_some() {
            return Err(invalid(format!("key {k:?} appears twice")));
        }
    }
    Ok(map)
}

/// The keys and values of `map` as two vectors, in the order of the keys.
fn sorted<K: Element + Ord>(map: &HashMap<K, i64>) -> (Tensor, Tensor) {
    let mut pairs: Vec<(&K, i64)> = map.iter().map(|(k, &v)| (k, v)).collect();
    pairs.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let keys: Vec<K> = pairs.iter().map(|(k, _)| (*k).clone()).collect();
    let values: Vec<i64> = pairs.iter().map(|&(_, v)| v).collect();
    (Tensor::from(ndarray::Array1::from(keys)), Tensor::from(ndarray::Array1::from(values)))
}

/// The value of each of `keys` (of `shape`) in `map`, `default` for a key
/// not in it, into `out`.
fn lookup<K: Hash + Eq>(map: &HashMap<K, i64>, keys: &[K], shape: &[usize], default: i64, out: &mut Tensor) {
    out.output_vec::<i64>(shape).extend(keys.iter().map(|k| map.get(k).copied().unwrap_or(default)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn strings(w: &[&str]) -> Tensor {
        Tensor::from(ndarray::Array1::from(w.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()))
    }

    fn node(keys: Tensor, values: Tensor) -> Node {
        Node::new("t", "TableLookup", &["w"])
            .with("keys", Attr::Tensor(keys))
            .with("values", Attr::Tensor(values))
            .with("default_value", Attr::Int(0))
    }

    #[test]
    fn looks_up_string_and_int_keys() {
        let words = TableLookup::parse(&node(strings(&["the", "cat"]), Tensor::from(array![1i64, 2])), &Assets::new());
        let ids = words.unwrap().run(&[&strings(&["cat", "dog", "the"])]).unwrap();
        assert_eq!(ids.as_slice::<i64>().unwrap(), [2, 0, 1]);
        let ints =
            TableLookup::parse(&node(Tensor::from(array![10i64, 20]), Tensor::from(array![1i64, 2])), &Assets::new());
        let ids = ints.unwrap().run(&[&Tensor::from(array![20i64, 99])]).unwrap();
        assert_eq!(ids.as_slice::<i64>().unwrap(), [2, 0]);
    }

    #[test]
    fn attributes_round_trip_in_key_order() {
        let map = HashMap::from([(Bytes::from("b"), 2), (Bytes::from("a"), 1), (Bytes::from("c"), 3)]);
        let table = TableLookup { table: Arc::new(KeyValueMap::Strings(map)), default_value: -1 };
        let node = crate::ops::Op::from(table.clone()).to_node("t", vec!["w".into()]);
        assert_eq!(node.attrs["keys"], Attr::Tensor(strings(&["a", "b", "c"])));
        assert_eq!(node.attrs["values"], Attr::Tensor(Tensor::from(array![1i64, 2, 3])));
        assert_eq!(TableLookup::parse(&node, &Assets::new()).unwrap(), table);
    }

    #[test]
    fn bad_tables_are_refused() {
        let parse = |keys, values| TableLookup::parse(&node(keys, values), &Assets::new()).unwrap_err().to_string();
        let err = parse(strings(&["a", "a"]), Tensor::from(array![1i64, 2]));
        assert!(err.contains("\"a\" appears twice"), "{err}");
        let err = parse(strings(&["a"]), Tensor::from(array![1i64, 2]));
        assert!(err.contains("1 keys but 2 values"), "{err}");
        let err = parse(Tensor::from(array![1.0f32]), Tensor::from(array![1i64]));
        assert!(err.contains("expected strings or i64"), "{err}");
        let table = TableLookup { table: Arc::new(KeyValueMap::Ints(HashMap::new())), default_value: 0 };
        assert!(table.infer(&[TensorType::new(DataType::String, vec![])]).is_err());
    }
}
