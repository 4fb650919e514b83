//! `StringLength`.

use crate::Bytes;
use crate::graph::{Attr, Node};
use crate::ops::kernel::slice;
use crate::ops::rule::expect_dtype;
use crate::ops::{Arity, OpDef, OpError, TensorType};
use crate::{Assets, DataType, Result, Tensor};

/// The length of each string of `x`, as i32: TensorFlow's `StringLength`
/// (`tf.strings.length(x, unit)`), in bytes (`unit` `"BYTE"`, the default)
/// or in Unicode characters (`"UTF8_CHAR"`: how many characters
/// [`super::UnicodeSplit`] splits it into).
///
/// Gradient: none (strings have none).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StringLength {
    /// Count characters (`UTF8_CHAR`) rather than bytes.
    pub chars: bool,
}

impl OpDef for StringLength {
    const NAME: &'static str = "StringLength";
    const SINCE: u32 = 6;
    const INPUTS: Arity = Arity::Exactly(1);

    fn parse(node: &Node, _: &Assets) -> Result<StringLength> {
        let unit = if node.attrs.contains_key("unit") { node.attr_str("unit")? } else { "BYTE" };
        match unit {
            "BYTE" => Ok(StringLength { chars: false }),
            "UTF8_CHAR" => Ok(StringLength { chars: true }),
            other => Err(node.error(format!("unit {other:?}: expected \"BYTE\" or \"UTF8_CHAR\""))),
        }
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        vec![("unit", Attr::Str(if self.chars { "UTF8_CHAR" } else { "BYTE" }.to_owned()))]
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        expect_dtype(inputs, 0, DataType::String)?;
        Ok(TensorType { dtype: DataType::I32, shape: inputs[0].shape.clone() })
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        let strings = slice::<Bytes>(inputs[0])?;
        let lengths = out.output_vec::<i32>(inputs[0].shape());
        for s in strings {
            // TensorFlow's count of UTF-8 characters: the bytes that do not
            // continue a character.
            let n = if self.chars { s.iter().filter(|&&b| b & 0xC0 != 0x80).count() } else { s.len() };
            lengths.push(i32::try_from(n).map_err(|_| OpError::Invalid {
                what: "string",
                reason: format!("a string of {n} units: its length does not fit an i32"),
            })?);
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

    #[test]
    fn counts_bytes_or_characters() {
        let x = Tensor::strings(vec![3], vec!["Zürich".to_owned(), String::new(), "ab".into()]).unwrap();
        assert_eq!(StringLength { chars: false }.run(&[&x]).unwrap().as_slice::<i32>().unwrap(), [7, 0, 2]);
        assert_eq!(StringLength { chars: true }.run(&[&x]).unwrap().as_slice::<i32>().unwrap(), [6, 0, 2]);
        // Bytes that are not UTF-8: TensorFlow counts those that do not continue a character.
        let raw = Tensor::strings(vec![1], [b"a\xff\xc3\xa9".as_slice()]).unwrap();
        assert_eq!(StringLength { chars: false }.run(&[&raw]).unwrap().as_slice::<i32>().unwrap(), [4]);
        assert_eq!(StringLength { chars: true }.run(&[&raw]).unwrap().as_slice::<i32>().unwrap(), [3]);
        let bytes = Node::new("n", "StringLength", &["x"]);
        assert_eq!(StringLength::parse(&bytes, &Assets::new()).unwrap(), StringLength { chars: false });
        let bad = Node::new("n", "StringLength", &["x"]).with("unit", Attr::Str("UTF16_CHAR".into()));
        assert!(StringLength::parse(&bad, &Assets::new()).is_err());
    }
}
