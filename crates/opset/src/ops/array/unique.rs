//! `Unique`.

use std::collections::HashMap;
use std::hash::Hash;

use crate::Bytes;
use crate::graph::{Attr, Node};
use crate::ops::kernel::slice;
use crate::ops::{Arity, OpDef, OpError, TensorType};
use crate::{Assets, DataType, Result, Tensor};

/// The distinct elements of a vector, in the order they first appear, and
/// where each element went: TensorFlow's `Unique` (`tf.unique`, what an
/// embedding lookup over sparse ids does to look each id up once).
/// Elements are equal as TensorFlow compares them: `0.0` equals `-0.0`, a
/// NaN equals nothing (each NaN is its own element).
///
/// Input: `x` (a vector of any dtype). Attributes: `output`, which of
/// TensorFlow's results the node yields: `"y"` (the distinct elements,
/// `x`'s dtype, `[m]`) or `"idx"` (`[n]`: element `i` of `x` is
/// `y[idx[i]]`); and `out_idx` (the dtype of `idx`, i32 or i64; optional,
/// i32 as TensorFlow's default).
///
/// Gradient: none to integer, bool or string `x`; an error for f32, as
/// TensorFlow has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unique {
    /// Which result the node yields.
    pub output: UniqueOutput,
    /// The dtype of `idx`: i32 or i64.
    pub out_idx: DataType,
}

/// The results of [`Unique`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UniqueOutput {
    /// The distinct elements.
    Y,
    /// Where each element of the input is among them.
    Idx,
}

impl UniqueOutput {
    /// The output's name, as TensorFlow's op names it.
    pub fn name(self) -> &'static str {
        match self {
            UniqueOutput::Y => "y",
            UniqueOutput::Idx => "idx",
        }
    }

    /// The output of TensorFlow's op at position `index` (`node:index`).
    pub fn from_index(index: usize) -> Option<UniqueOutput> {
        [UniqueOutput::Y, UniqueOutput::Idx].get(index).copied()
    }
}

impl OpDef for Unique {
    const NAME: &'static str = "Unique";
    const SINCE: u32 = 6;
    const INPUTS: Arity = Arity::Exactly(1);
    const SHAPE_FROM_VALUES: bool = true;

    fn parse(node: &Node, _: &Assets) -> Result<Unique> {
        let output = match node.attr_str("output")? {
            "y" => UniqueOutput::Y,
            "idx" => UniqueOutput::Idx,
            other => return Err(node.error(format!("output {other:?}: expected \"y\" or \"idx\""))),
        };
        let out_idx = if node.attrs.contains_key("out_idx") { node.attr_type("out_idx")? } else { DataType::I32 };
        if !matches!(out_idx, DataType::I32 | DataType::I64) {
            return Err(node.error(format!("out_idx {out_idx}: expected i32 or i64")));
        }
        Ok(Unique { output, out_idx })
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        vec![("output", Attr::Str(self.output.name().to_owned())), ("out_idx", Attr::Type(self.out_idx))]
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        let x = &inputs[0];
        let &[n] = x.dims() else {
            return Err(OpError::shape(format!("x {}: expected a vector", x.shape)));
        };
        Ok(match self.output {
            UniqueOutput::Y => TensorType::new(x.dtype, vec![None]),
            UniqueOutput::Idx => TensorType::new(self.out_idx, vec![n]),
        })
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        let x = inputs[0];
        if x.shape().len() != 1 {
            return Err(OpError::shape(format!("x {:?}: expected a vector", x.shape())));
        }
        let (firsts, idx) = match x.dtype() {
            // 0.0 and -0.0 share a key (adding 0.0 makes -0.0 0.0); a NaN has none.
            DataType::F32 => {
                let v = slice::<f32>(x)?;
                positions(v.len(), |i| (!v[i].is_nan()).then(|| (v[i] + 0.0).to_bits()))
            }
            DataType::I32 => positions(x.len(), |i| slice::<i32>(x).ok().map(|v| v[i])),
            DataType::I64 => positions(x.len(), |i| slice::<i64>(x).ok().map(|v| v[i])),
            DataType::Bool => positions(x.len(), |i| slice::<bool>(x).ok().map(|v| v[i])),
            DataType::String => {
                let v = slice::<Bytes>(x)?;
                positions(v.len(), |i| Some(&v[i]))
            }
        };
        match self.output {
            UniqueOutput::Y => crate::ops::kernel::any_dtype!(x.dtype(), T => {
                let v = slice::<T>(x)?;
                let dst = out.output_vec::<T>(&[firsts.len()]);
                for &i in &firsts {
                    dst.extend_from_slice(&v[i..=i]);
                }
                Ok(())
            }),
            UniqueOutput::Idx => match self.out_idx {
                DataType::I64 => {
                    out.output_vec::<i64>(&[idx.len()]).extend(idx.iter().map(|&p| p as i64));
                    Ok(())
                }
                _ => {
                    let idx =
                        idx.iter().map(|&p| i32::try_from(p)).collect::<Result<Vec<i32>, _>>().map_err(|_| {
                            OpError::Invalid { what: "out_idx", reason: "past i32: use i64".to_owned() }
                        })?;
                    out.output_vec::<i32>(&[idx.len()]).extend_from_slice(&idx);
                    Ok(())
                }
            },
        }
    }

    #[cfg(feature = "grad")]
    fn grad(&self, x: &[&Tensor], _: &Tensor, _: &Tensor) -> crate::ops::grad::Grads {
        if x[0].dtype() == DataType::F32 {
            return Err(OpError::NoGradient("TensorFlow's Unique has none".to_owned()));
        }
        Ok(vec![None])
    }
}

/// The first position of each distinct key among `n` elements, in order,
/// and the rank of each element's key among them; `key(i)` is `None` for
/// an element equal to nothing.
fn positions<K: Hash + Eq>(n: usize, key: impl Fn(usize) -> Option<K>) -> (Vec<usize>, Vec<usize>) {
    let mut seen: HashMap<K, usize> = HashMap::new();
    let (mut firsts, mut idx) = (Vec::new(), Vec::with_capacity(n));
    for i in 0..n {
        let next = firsts.len();
        let at = match key(i) {
            Some(k) => *seen.entry(k).or_insert(next),
            None => next,
        };
        if at == next {
            firsts.push(i);
        }
        idx.push(at);
    }
    (firsts, idx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Op;
    use ndarray::array;

    fn unique(output: UniqueOutput, out_idx: DataType, x: &Tensor) -> Tensor {
        Unique { output, out_idx }.run(&[x]).unwrap()
    }

    #[test]
    fn keeps_the_first_of_each_element_in_order() {
        // y, idx = tf.unique(tf.constant([4, 1, 4, 7, 1, 1], tf.int64)): [4, 1, 7], [0, 1, 0, 2, 1, 1] (int32)
        let x = Tensor::from(array![4i64, 1, 4, 7, 1, 1]);
        assert_eq!(unique(UniqueOutput::Y, DataType::I32, &x), Tensor::from(array![4i64, 1, 7]));
        assert_eq!(unique(UniqueOutput::Idx, DataType::I32, &x), Tensor::from(array![0i32, 1, 0, 2, 1, 1]));
        // tf.unique(tf.constant(["b", "a", "b"]), out_idx=tf.int64): [b"b", b"a"], [0, 1, 0]
        let words = |w: &[&str]| Tensor::strings(vec![w.len()], w).unwrap();
        let x = words(&["b", "a", "b"]);
        assert_eq!(unique(UniqueOutput::Y, DataType::I64, &x), words(&["b", "a"]));
        assert_eq!(unique(UniqueOutput::Idx, DataType::I64, &x), Tensor::from(array![0i64, 1, 0]));
        // tf.unique(tf.constant([0.0, -0.0, nan, nan, 1.5])): [0.0, nan, nan, 1.5], [0, 0, 1, 2, 3]
        let x = Tensor::from(array![0.0f32, -0.0, f32::NAN, f32::NAN, 1.5]);
        let y = unique(UniqueOutput::Y, DataType::I32, &x);
        let y = y.as_slice::<f32>().unwrap();
        assert!(y.len() == 4 && y[0] == 0.0 && y[1].is_nan() && y[2].is_nan() && y[3] == 1.5, "{y:?}");
        assert_eq!(unique(UniqueOutput::Idx, DataType::I32, &x), Tensor::from(array![0i32, 0, 1, 2, 3]));
        let none = Tensor::from_vec(vec![0], Vec::<i32>::new()).unwrap();
        assert_eq!(unique(UniqueOutput::Y, DataType::I32, &none).shape(), &[0]);
    }

    #[test]
    fn a_matrix_is_refused_and_attributes_round_trip() {
        // TensorFlow: "unique expects a 1D vector."
        let op = Unique { output: UniqueOutput::Y, out_idx: DataType::I32 };
        assert!(op.run(&[&Tensor::from(array![[1i32, 2]])]).is_err());
        let ty = TensorType::new(DataType::I64, vec![Some(5)]);
        assert_eq!(op.infer(std::slice::from_ref(&ty)).unwrap(), TensorType::new(DataType::I64, vec![None]));
        let idx = Unique { output: UniqueOutput::Idx, out_idx: DataType::I64 };
        assert_eq!(idx.infer(&[ty]).unwrap(), TensorType::new(DataType::I64, vec![Some(5)]));
        for op in [op, idx] {
            let node = Op::from(op).to_node("u", vec!["x".into()]);
            assert_eq!(Unique::parse(&node, &Assets::new()).unwrap(), op);
        }
        let node = Node::new("u", "Unique", &["x"]).with("output", Attr::Str("y".into()));
        assert_eq!(Unique::parse(&node, &Assets::new()).unwrap().out_idx, DataType::I32);
        let bad = node.clone().with("out_idx", Attr::Type(DataType::F32));
        assert!(Unique::parse(&bad, &Assets::new()).is_err());
        assert_eq!(UniqueOutput::from_index(1), Some(UniqueOutput::Idx));
    }
}
