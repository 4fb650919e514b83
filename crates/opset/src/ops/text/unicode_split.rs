//! `UnicodeSplit`.

use crate::graph::{Attr, Node};
use crate::ops::kernel::{checked_len, slice};
use crate::ops::{Arity, OpDef, OpError, TensorType};
use crate::{Assets, DataType, Result, Tensor};

/// Each string of `x` split into its characters (Unicode scalar values,
/// each a string of its UTF-8 bytes), padded with `""` to the longest:
/// `tf.strings.unicode_split(x, "UTF-8").to_tensor(default_value="")`, how
/// a tagger reads the characters of each word.
///
/// Input: `x` (strings, any shape). The output is `x`'s shape with one more
/// dim, the most characters of any element (0 when `x` is empty or every
/// string is).
///
/// Gradient: none (strings have none).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UnicodeSplit;

impl OpDef for UnicodeSplit {
    const NAME: &'static str = "UnicodeSplit";
    const SINCE: u32 = 6;
    const INPUTS: Arity = Arity::Exactly(1);
    const SHAPE_FROM_VALUES: bool = true;

    fn parse(_: &Node, _: &Assets) -> Result<UnicodeSplit> {
        Ok(UnicodeSplit)
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        Vec::new()
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        if inputs[0].dtype != DataType::String {
            return Err(OpError::Dtype { input: 0, expected: "string", got: inputs[0].dtype });
        }
        let mut dims = inputs[0].dims().to_vec();
        dims.push(None);
        Ok(TensorType::new(DataType::String, dims))
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        let x = inputs[0];
        let strings = slice::<String>(x)?;
        let width = strings.iter().map(|s| s.chars().count()).max().unwrap_or(0);
        let mut shape = x.shape().to_vec();
        shape.push(width);
        checked_len(&shape)?;
        let dst = out.output_vec::<String>(&shape);
        for s in strings {
            let before = dst.len();
            dst.extend(s.chars().map(String::from));
            dst.resize(before + width, String::new());
        }
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

    fn strings(shape: Vec<usize>, v: &[&str]) -> Tensor {
        Tensor::from_vec(shape, v.iter().map(|s| (*s).to_owned()).collect::<Vec<String>>()).unwrap()
    }

    #[test]
    fn splits_into_characters_padded_to_the_longest() {
        let x = strings(vec![2, 2], &["John", "", "Zürich", "→a"]);
        let y = UnicodeSplit.run(&[&x]).unwrap();
        assert_eq!(y.shape(), &[2, 2, 6]);
        let y = y.as_slice::<String>().unwrap();
        assert_eq!(&y[..6], ["J", "o", "h", "n", "", ""]);
        assert!(y[6..12].iter().all(String::is_empty));
        assert_eq!(&y[12..18], ["Z", "ü", "r", "i", "c", "h"]);
        assert_eq!(&y[18..], ["→", "a", "", "", "", ""]);
        let ty = UnicodeSplit.infer(&[TensorType::new(DataType::String, vec![None, Some(2)])]).unwrap();
        assert_eq!(ty, TensorType::new(DataType::String, vec![None, Some(2), None]));
    }

    #[test]
    fn empty_inputs_have_no_characters() {
        let y = UnicodeSplit.run(&[&strings(vec![0, 3], &[])]).unwrap();
        assert_eq!(y.shape(), &[0, 3, 0]);
        let y = UnicodeSplit.run(&[&strings(vec![2], &["", ""])]).unwrap();
        assert_eq!(y.shape(), &[2, 0]);
        assert!(UnicodeSplit.infer(&[TensorType::new(DataType::I32, vec![None])]).is_err());
    }
}
