//! `UnicodeSplit`.

use crate::Bytes;
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
        let strings = slice::<Bytes>(x)?;
        let chars: Vec<Vec<Bytes>> = strings.iter().map(characters).collect();
        let width = chars.iter().map(Vec::len).max().unwrap_or(0);
        let mut shape = x.shape().to_vec();
        shape.push(width);
        checked_len(&shape)?;
        let dst = out.output_vec::<Bytes>(&shape);
        for row in chars {
            let padding = width - row.len();
            dst.extend(row);
            dst.extend(std::iter::repeat_n(Bytes::new(), padding));
        }
        Ok(())
    }

    #[cfg(feature = "grad")]
    fn grad(&self, _: &[&Tensor], _: &Tensor, _: &Tensor) -> crate::ops::grad::Grads {
        Ok(vec![None])
    }
}

/// The characters of `s`, each its own string: slices of `s` when it is
/// UTF-8; otherwise each ill-formed sequence becomes U+FFFD, as
/// TensorFlow's `unicode_split` with `errors="replace"`.
fn characters(s: &Bytes) -> Vec<Bytes> {
    match std::str::from_utf8(s) {
        Ok(text) => text.char_indices().map(|(at, c)| s.slice(at..at + c.len_utf8())).collect(),
        Err(_) => String::from_utf8_lossy(s)
            .chars()
            .map(|c| Bytes::copy_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(shape: Vec<usize>, v: &[&str]) -> Tensor {
        Tensor::strings(shape, v.iter().map(|s| (*s).to_owned()).collect::<Vec<String>>()).unwrap()
    }

    #[test]
    fn ill_formed_utf8_becomes_replacement_characters() {
        // tf.strings.unicode_split(b"a\xffb", "UTF-8", errors="replace"): [b"a", b"\xef\xbf\xbd", b"b"]
        let x = Tensor::strings(vec![1], [b"a\xffb".as_slice()]).unwrap();
        let y = UnicodeSplit.run(&[&x]).unwrap();
        assert_eq!(y.as_slice::<Bytes>().unwrap(), ["a", "\u{fffd}", "b"]);
    }

    #[test]
    fn splits_into_characters_padded_to_the_longest() {
        let x = strings(vec![2, 2], &["John", "", "Zürich", "→a"]);
        let y = UnicodeSplit.run(&[&x]).unwrap();
        assert_eq!(y.shape(), &[2, 2, 6]);
        let y = y.as_slice::<Bytes>().unwrap();
        assert_eq!(&y[..6], ["J", "o", "h", "n", "", ""]);
        assert!(y[6..12].iter().all(Bytes::is_empty));
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
