//! `AsString`.

use crate::Bytes;
use crate::graph::{Attr, Node};
use crate::ops::kernel::slice;
use crate::ops::{Arity, OpDef, OpError, TensorType};
use crate::{Assets, DataType, Result, Tensor};

/// Each element of `x` (numeric or bool) as a string, as TensorFlow's
/// `AsString` writes it with its default attributes (C's `%d` and `%f`):
/// integers in decimal, floats with 6 decimals (`1.500000`, `nan`, `inf`,
/// `-inf`), bools `true` / `false`.
///
/// Gradient: none (strings have none).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AsString;

/// What `AsString` reads: any dtype but string.
const FORMATTABLE: &str = "a numeric or bool dtype";

impl OpDef for AsString {
    const NAME: &'static str = "AsString";
    const SINCE: u32 = 3;
    const INPUTS: Arity = Arity::Exactly(1);

    fn parse(_: &Node, _: &Assets) -> Result<AsString> {
        Ok(AsString)
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        Vec::new()
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        if inputs[0].dtype == DataType::String {
            return Err(OpError::Dtype { input: 0, expected: FORMATTABLE, got: DataType::String });
        }
        Ok(TensorType { dtype: DataType::String, shape: inputs[0].shape.clone() })
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        fn float(v: f32) -> String {
            if v.is_nan() { "nan".to_owned() } else { format!("{v:.6}") }
        }
        let x = inputs[0];
        let strings: Vec<String> = match x.dtype() {
            DataType::F32 => slice::<f32>(x)?.iter().map(|&v| float(v)).collect(),
            DataType::I64 => slice::<i64>(x)?.iter().map(i64::to_string).collect(),
            DataType::I32 => slice::<i32>(x)?.iter().map(i32::to_string).collect(),
            DataType::Bool => slice::<bool>(x)?.iter().map(bool::to_string).collect(),
            DataType::String => return Err(OpError::Dtype { input: 0, expected: FORMATTABLE, got: DataType::String }),
        };
        out.output_vec::<Bytes>(x.shape()).extend(strings.into_iter().map(Bytes::from));
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
    use ndarray::array;

    fn text(x: Tensor) -> Vec<Bytes> {
        AsString.run(&[&x]).unwrap().as_slice::<Bytes>().unwrap().to_vec()
    }

    #[test]
    fn writes_as_tensorflow_does() {
        assert_eq!(text(Tensor::from(array![1i64, -2, 3])), ["1", "-2", "3"]);
        assert_eq!(
            text(Tensor::from(array![1.5f32, -0.25, 1e10, f32::NAN, f32::NEG_INFINITY])),
            ["1.500000", "-0.250000", "10000000000.000000", "nan", "-inf"]
        );
        assert_eq!(text(Tensor::from(array![true, false])), ["true", "false"]);
    }

    #[test]
    fn a_string_is_refused() {
        let err = AsString.infer(&[TensorType::new(DataType::String, vec![])]).unwrap_err();
        assert!(matches!(err, OpError::Dtype { input: 0, .. }), "{err}");
        assert!(AsString.run(&[&Tensor::scalar(crate::Bytes::from("a"))]).is_err());
    }
}
