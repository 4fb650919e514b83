//! `ParseExample`.

use std::cell::RefCell;
use std::rc::Rc;

use prost::Message;

use crate::example::{Example, Kind};
use crate::graph::{Attr, Node};
use crate::ops::kernel::{checked_len, slice};
use crate::ops::rule::TensorType;
use crate::ops::{Arity, OpDef, OpError};
use crate::tensor::Element;
use crate::{Assets, Bytes, DataType, Result, Shape, Tensor};

/// One feature of a batch of serialized `tf.Example`s, as TensorFlow's
/// `ParseExampleV2` (and `ParseExample`, `ParseSingleExample`) yields it:
///
/// - **dense** (`tf.io.FixedLenFeature`, a numeric column): `[batch] ++
///   shape` of the feature's values; an example without the feature gets
///   the default (input 1), and without a default the feature is required.
///   A `shape` whose first dim is unknown (`FixedLenSequenceFeature`) takes
///   any multiple of the rest, padded with the default to the longest;
/// - **sparse** (`tf.io.VarLenFeature`, a categorical column): the values
///   of every example in order, their `[example, position]` indices, and
///   the shape `[batch, longest]`.
///
/// Inputs: `serialized` (string `[batch]`, or a scalar for one example:
/// the outputs then have no batch dim) and, for a dense feature, its
/// default (empty: required; one element: broadcast; else `shape`'s
/// count). Attributes: `key`, `dtype` (f32, i64 or string: the feature's
/// float, int64 or bytes list), `output` (`dense`, `sparse_indices`,
/// `sparse_values`, `sparse_shape`) and, for a dense feature, `shape`.
///
/// Errors, with TensorFlow's words and the example's index: a string that
/// is not a `tf.Example`, a feature of another type, a dense feature with
/// the wrong number of values, a required feature missing.
///
/// Gradient: none (parsing reads bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseExample {
    /// The feature's name in the examples.
    pub key: String,
    /// The type of its values.
    pub dtype: DataType,
    /// Which tensor the node yields.
    pub output: ExampleOutput,
}

/// The tensors of a parsed feature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExampleOutput {
    /// A dense feature: each example's values, of this shape.
    Dense(Shape),
    /// A sparse feature's indices, i64 `[n, 2]` (`[n, 1]` for one example).
    SparseIndices,
    /// A sparse feature's values, `[n]`.
    SparseValues,
    /// A sparse feature's dense shape, i64 `[2]` (`[1]` for one example).
    SparseShape,
}

impl ExampleOutput {
    fn name(&self) -> &'static str {
        match self {
            ExampleOutput::Dense(_) => "dense",
            ExampleOutput::SparseIndices => "sparse_indices",
            ExampleOutput::SparseValues => "sparse_values",
            ExampleOutput::SparseShape => "sparse_shape",
        }
    }
}

impl OpDef for ParseExample {
    const NAME: &'static str = "ParseExample";
    const SINCE: u32 = 7;
    const INPUTS: Arity = Arity::AtLeast(1);
    const SHAPE_FROM_VALUES: bool = true;

    fn parse(node: &Node, _: &Assets) -> Result<ParseExample> {
        let dtype = node.attr_type("dtype")?;
        if !matches!(dtype, DataType::F32 | DataType::I64 | DataType::String) {
            return Err(node.error(format!("dtype {dtype}: a tf.Example holds float, int64 or string values")));
        }
        let output = match node.attr_str("output")? {
            "dense" => ExampleOutput::Dense(node.attr_shape("shape")?.clone()),
            "sparse_indices" => ExampleOutput::SparseIndices,
            "sparse_values" => ExampleOutput::SparseValues,
            "sparse_shape" => ExampleOutput::SparseShape,
            other => {
                return Err(node.error(format!(
                    "output {other:?}: expected dense, sparse_indices, sparse_values or sparse_shape"
                )));
            }
        };
        if let ExampleOutput::Dense(shape) = &output
            && shape.0.iter().skip(1).any(Option::is_none)
        {
            return Err(node.error(format!("shape {shape}: only the first dim of a dense feature may be unknown")));
        }
        Ok(ParseExample { key: node.attr_str("key")?.to_owned(), dtype, output })
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        let mut attrs = vec![
            ("key", Attr::Str(self.key.clone())),
            ("dtype", Attr::Type(self.dtype)),
            ("output", Attr::Str(self.output.name().to_owned())),
        ];
        if let ExampleOutput::Dense(shape) = &self.output {
            attrs.push(("shape", Attr::Shape(shape.clone())));
        }
        attrs
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        let serialized = &inputs[0];
        if serialized.dtype != DataType::String || serialized.shape.rank() > 1 {
            return Err(OpError::shape(format!(
                "serialized {} of {}: expected strings, a vector or a scalar",
                serialized.shape, serialized.dtype
            )));
        }
        let batch: Vec<Option<usize>> = serialized.dims().to_vec();
        let dense = matches!(self.output, ExampleOutput::Dense(_));
        if inputs.len() != 1 + usize::from(dense) {
            return Err(OpError::Invalid {
                what: "inputs",
                reason: format!(
                    "{}: a dense feature takes serialized and a default, a sparse one serialized",
                    inputs.len()
                ),
            });
        }
        let rank = batch.len() + 1;
        Ok(match &self.output {
            ExampleOutput::Dense(shape) => {
                if inputs[1].dtype != self.dtype {
                    return Err(OpError::Dtype { input: 1, expected: "the feature's dtype", got: inputs[1].dtype });
                }
                TensorType::new(self.dtype, batch.into_iter().chain(shape.0.iter().copied()).collect())
            }
            ExampleOutput::SparseIndices => TensorType::new(DataType::I64, vec![None, Some(rank)]),
            ExampleOutput::SparseValues => TensorType::new(self.dtype, vec![None]),
            ExampleOutput::SparseShape => TensorType::new(DataType::I64, vec![Some(rank)]),
        })
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        let serialized = inputs[0];
        let batch = match serialized.shape() {
            [] => None,
            &[n] => Some(n),
            other => return Err(OpError::shape(format!("serialized {other:?}: expected a vector or a scalar"))),
        };
        let examples = decoded(slice::<Bytes>(serialized)?)?;
        match self.dtype {
            DataType::F32 => self.fill::<f32>(&examples, batch, inputs.get(1).copied(), out),
            DataType::I64 => self.fill::<i64>(&examples, batch, inputs.get(1).copied(), out),
            _ => self.fill::<Bytes>(&examples, batch, inputs.get(1).copied(), out),
        }
    }

    #[cfg(feature = "grad")]
    fn grad(&self, inputs: &[&Tensor], _: &Tensor, _: &Tensor) -> crate::ops::grad::Grads {
        Ok(vec![None; inputs.len()])
    }
}

/// A batch's serialized bytes and its decoded examples.
type Decoded = (Vec<Bytes>, Rc<Vec<Example>>);

thread_local! {
    /// The last batch this thread decoded, and its examples: the nodes of
    /// one `ParseExampleV2` (one per feature and part) all read the same
    /// `serialized`, which is then decoded once.
    static DECODED: RefCell<Option<Decoded>> = const { RefCell::new(None) };
}

/// The examples of `serialized`: those this thread decoded last if the
/// bytes are the same (compared whole, so never stale), else decoded now.
fn decoded(serialized: &[Bytes]) -> Result<Rc<Vec<Example>>, OpError> {
    let cached = DECODED.with(|cell| match &*cell.borrow() {
        Some((bytes, examples)) if bytes.as_slice() == serialized => Some(Rc::clone(examples)),
        _ => None,
    });
    if let Some(examples) = cached {
        return Ok(examples);
    }
    let examples = serialized
        .iter()
        .enumerate()
        .map(|(i, bytes)| {
            Example::decode(bytes.as_ref()).map_err(|e| OpError::Invalid {
                what: "serialized",
                reason: format!("Could not parse example input {i}: {e}"),
            })
        })
        .collect::<Result<Vec<_>, OpError>>()?;
    let examples = Rc::new(examples);
    DECODED.with(|cell| *cell.borrow_mut() = Some((serialized.to_vec(), Rc::clone(&examples))));
    Ok(examples)
}

/// The element types a feature list holds.
trait ListElement: Element {
    /// The values of `kind`, if it is this type's list.
    fn values(kind: &Kind) -> Option<Vec<Self>>;
}

impl ListElement for f32 {
    fn values(kind: &Kind) -> Option<Vec<f32>> {
        if let Kind::FloatList(l) = kind { Some(l.value.clone()) } else { None }
    }
}

impl ListElement for i64 {
    fn values(kind: &Kind) -> Option<Vec<i64>> {
        if let Kind::Int64List(l) = kind { Some(l.value.clone()) } else { None }
    }
}

impl ListElement for Bytes {
    fn values(kind: &Kind) -> Option<Vec<Bytes>> {
        if let Kind::BytesList(l) = kind {
            Some(l.value.iter().map(|v| Bytes::copy_from_slice(v)).collect())
        } else {
            None
        }
    }
}

impl ParseExample {
    /// The values of this feature in example `i`, `None` when absent.
    fn values<T: ListElement>(&self, example: &Example, i: usize) -> Result<Option<Vec<T>>, OpError> {
        let Some(kind) = example.features.as_ref().and_then(|f| f.feature.get(&self.key)).and_then(|f| f.kind.as_ref())
        else {
            return Ok(None);
        };
        T::values(kind).map(Some).ok_or_else(|| OpError::Invalid {
            what: "serialized",
            reason: format!(
                "Name: <unknown>, Key: {}, Index: {i}.  Data types don't match. Data type: {} but expected type: {}",
                self.key,
                kind.type_name(),
                type_name(self.dtype)
            ),
        })
    }

    fn fill<T: ListElement>(
        &self,
        examples: &[Example],
        batch: Option<usize>,
        default: Option<&Tensor>,
        out: &mut Tensor,
    ) -> Result<(), OpError> {
        let lead: Vec<usize> = batch.into_iter().collect();
        let batch_rank = lead.len();
        match &self.output {
            ExampleOutput::Dense(shape) => self.dense::<T>(examples, &lead, shape, default, out),
            ExampleOutput::SparseShape => {
                let mut longest = 0usize;
                for (i, e) in examples.iter().enumerate() {
                    longest = longest.max(self.values::<T>(e, i)?.map_or(0, |v| v.len()));
                }
                let dims: Vec<i64> = lead.iter().chain([&longest]).map(|&d| d as i64).collect();
                out.output_vec::<i64>(&[dims.len()]).extend(dims);
                Ok(())
            }
            ExampleOutput::SparseIndices | ExampleOutput::SparseValues => {
                let mut indices = Vec::new();
                let mut values = Vec::new();
                for (i, e) in examples.iter().enumerate() {
                    let v = self.values::<T>(e, i)?.unwrap_or_default();
                    for j in 0..v.len() {
                        if batch_rank == 1 {
                            indices.push(i as i64);
                        }
                        indices.push(j as i64);
                    }
                    values.extend(v);
                }
                let n = values.len();
                if self.output == ExampleOutput::SparseValues {
                    out.output_vec::<T>(&[n]).extend(values);
                } else {
                    out.output_vec::<i64>(&[n, batch_rank + 1]).extend(indices);
                }
                Ok(())
            }
        }
    }

    fn dense<T: ListElement>(
        &self,
        examples: &[Example],
        lead: &[usize],
        shape: &Shape,
        default: Option<&Tensor>,
        out: &mut Tensor,
    ) -> Result<(), OpError> {
        let default = match default {
            Some(d) => slice::<T>(d)?,
            None => &[],
        };
        let inner: usize = shape.0.iter().skip(1).map(|d| d.unwrap_or(1)).product();
        let fixed = shape.as_known();
        let per = fixed.as_ref().map(|dims| dims.iter().product::<usize>());
        let mut rows: Vec<Vec<T>> = Vec::with_capacity(examples.len());
        for (i, e) in examples.iter().enumerate() {
            let values = match self.values::<T>(e, i)? {
                Some(v) => v,
                None if default.is_empty() => {
                    return Err(OpError::Invalid {
                        what: "serialized",
                        reason: format!(
                            "Name: <unknown>, Feature: {} (data type: {}) is required but could not be found (example {i}).",
                            self.key,
                            type_name(self.dtype)
                        ),
                    });
                }
                None => match per {
                    Some(per) if default.len() == per => default.to_vec(),
                    Some(per) if default.len() == 1 => vec![default[0].clone(); per],
                    Some(per) => {
                        return Err(OpError::Invalid {
                            what: "default",
                            reason: format!("{} values for feature {}: expected {per} or 1", default.len(), self.key),
                        });
                    }
                    None => Vec::new(),
                },
            };
            let fits = match per {
                Some(per) => values.len() == per,
                None => inner > 0 && values.len() % inner == 0,
            };
            if !fits {
                return Err(OpError::Invalid {
                    what: "serialized",
                    reason: format!(
                        "Name: <unknown>, Key: {}, Index: {i}.  Number of {} values != expected.  Values size: {} but output shape: {shape}",
                        self.key,
                        type_name(self.dtype),
                        values.len()
                    ),
                });
            }
            rows.push(values);
        }
        let dims: Vec<usize> = match fixed {
            Some(dims) => dims,
            None => {
                let longest = rows.iter().map(|r| r.len() / inner.max(1)).max().unwrap_or(0);
                std::iter::once(longest).chain(shape.0.iter().skip(1).map(|d| d.unwrap_or(1))).collect()
            }
        };
        let per_row: usize = dims.iter().product();
        let out_dims: Vec<usize> = lead.iter().chain(&dims).copied().collect();
        checked_len(&out_dims)?;
        let pad = default.first().cloned().unwrap_or_default();
        let dst = out.output_vec::<T>(&out_dims);
        for row in rows {
            let padding = per_row - row.len();
            dst.extend(row);
            dst.extend(std::iter::repeat_n(pad.clone(), padding));
        }
        Ok(())
    }
}

/// TensorFlow's name of a feature's dtype in its messages.
fn type_name(dtype: DataType) -> &'static str {
    match dtype {
        DataType::F32 => "float",
        DataType::I64 => "int64",
        _ => "string",
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::example::{BytesList, Feature, Features, FloatList, Int64List};

    fn example(features: &[(&str, Kind)]) -> Bytes {
        let feature: HashMap<String, Feature> =
            features.iter().map(|(k, v)| ((*k).to_owned(), Feature { kind: Some(v.clone()) })).collect();
        Bytes::from(Example { features: Some(Features { feature }) }.encode_to_vec())
    }

    fn floats(v: &[f32]) -> Kind {
        Kind::FloatList(FloatList { value: v.to_vec() })
    }

    fn words(v: &[&str]) -> Kind {
        Kind::BytesList(BytesList { value: v.iter().map(|w| w.as_bytes().to_vec()).collect() })
    }

    fn batch(examples: Vec<Bytes>) -> Tensor {
        Tensor::from_vec(vec![examples.len()], examples).unwrap()
    }

    fn dense(key: &str, dtype: DataType, shape: Shape) -> ParseExample {
        ParseExample { key: key.into(), dtype, output: ExampleOutput::Dense(shape) }
    }

    #[test]
    fn dense_features_take_the_default_when_missing_and_are_required_without_one() {
        let x = batch(vec![example(&[("x", floats(&[1.5]))]), example(&[]), example(&[("x", floats(&[-2.0]))])]);
        let op = dense("x", DataType::F32, Shape::known(&[1]));
        let y = op.run(&[&x, &Tensor::from_vec(vec![1], vec![9.0f32]).unwrap()]).unwrap();
        assert_eq!(y, Tensor::from_vec(vec![3, 1], vec![1.5f32, 9.0, -2.0]).unwrap());
        let err = op.run(&[&x, &Tensor::from_vec(vec![0], Vec::<f32>::new()).unwrap()]).unwrap_err().to_string();
        assert!(err.contains("Feature: x (data type: float) is required but could not be found (example 1)"), "{err}");
    }

    #[test]
    fn wrong_types_counts_and_protos_are_refused_naming_the_example() {
        let two = batch(vec![example(&[("x", floats(&[1.0, 2.0]))])]);
        let op = dense("x", DataType::F32, Shape::known(&[1]));
        let empty = Tensor::from_vec(vec![0], Vec::<f32>::new()).unwrap();
        let err = op.run(&[&two, &empty]).unwrap_err().to_string();
        assert!(err.contains("Key: x, Index: 0.  Number of float values != expected.  Values size: 2"), "{err}");
        let ints = batch(vec![example(&[]), example(&[("x", Kind::Int64List(Int64List { value: vec![1] }))])]);
        let err = op.run(&[&ints, &Tensor::scalar(0.0f32).reshape(&[1]).unwrap()]).unwrap_err().to_string();
        assert!(err.contains("Index: 1.  Data types don't match. Data type: int64 but expected type: float"), "{err}");
        let garbage = Tensor::strings(vec![1], [b"\xff\xff".as_slice()]).unwrap();
        let err = op.run(&[&garbage, &empty]).unwrap_err().to_string();
        assert!(err.contains("Could not parse example input 0"), "{err}");
    }

    #[test]
    fn sparse_features_give_indices_values_and_shape() {
        let x = batch(vec![example(&[("w", words(&["a", "b"]))]), example(&[]), example(&[("w", words(&["c"]))])]);
        let part = |output| ParseExample { key: "w".into(), dtype: DataType::String, output }.run(&[&x]).unwrap();
        assert_eq!(
            part(ExampleOutput::SparseIndices),
            Tensor::from_vec(vec![3, 2], vec![0i64, 0, 0, 1, 2, 0]).unwrap()
        );
        assert_eq!(part(ExampleOutput::SparseValues).as_slice::<Bytes>().unwrap(), ["a", "b", "c"]);
        assert_eq!(part(ExampleOutput::SparseShape), Tensor::from_vec(vec![2], vec![3i64, 2]).unwrap());
        // One example (a scalar): no batch dim.
        let one = Tensor::scalar(example(&[("w", words(&["a", "b"]))]));
        let op = ParseExample { key: "w".into(), dtype: DataType::String, output: ExampleOutput::SparseIndices };
        assert_eq!(op.run(&[&one]).unwrap(), Tensor::from_vec(vec![2, 1], vec![0i64, 1]).unwrap());
    }

    #[test]
    fn a_batch_decoded_for_one_node_is_reused_only_for_the_same_bytes() {
        let op = dense("x", DataType::F32, Shape::known(&[1]));
        let default = Tensor::from_vec(vec![0], Vec::<f32>::new()).unwrap();
        let a = batch(vec![example(&[("x", floats(&[1.0]))])]);
        let b = batch(vec![example(&[("x", floats(&[2.0]))])]);
        for (x, want) in [(&a, 1.0f32), (&a, 1.0), (&b, 2.0), (&a, 1.0)] {
            assert_eq!(op.run(&[x, &default]).unwrap().as_slice::<f32>().unwrap(), [want]);
        }
    }

    #[test]
    fn variable_length_dense_features_are_padded_with_the_default() {
        let x = batch(vec![example(&[("x", floats(&[1.0, 2.0, 3.0, 4.0]))]), example(&[("x", floats(&[5.0, 6.0]))])]);
        let op = dense("x", DataType::F32, Shape(vec![None, Some(2)]));
        let y = op.run(&[&x, &Tensor::from_vec(vec![1], vec![0.0f32]).unwrap()]).unwrap();
        assert_eq!(y, Tensor::from_vec(vec![2, 2, 2], vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0, 0.0, 0.0]).unwrap());
    }

    #[test]
    fn attributes_round_trip() {
        for op in [
            dense("x", DataType::F32, Shape(vec![None, Some(3)])),
            ParseExample { key: "w".into(), dtype: DataType::String, output: ExampleOutput::SparseValues },
        ] {
            let node = crate::ops::Op::from(op.clone()).to_node("p", vec!["s".into()]);
            assert_eq!(ParseExample::parse(&node, &Assets::new()).unwrap(), op);
        }
    }
}
