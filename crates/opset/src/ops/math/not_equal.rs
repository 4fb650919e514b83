//! `NotEqual`.

use super::Equal;
use super::elementwise::equality_eval;
use crate::graph::{Attr, Node};
use crate::ops::{Arity, OpDef, OpError, TensorType};
use crate::{Assets, Result, Tensor};

/// `a != b` as bools, elementwise over two tensors of one dtype (any: f32,
/// i64, i32, bool or string), broadcasting; strings compare bytewise, and
/// NaN is unequal to everything, itself included (TensorFlow's `NotEqual`).
///
/// Gradient: none flows (the output is bools).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NotEqual;

impl OpDef for NotEqual {
    const NAME: &'static str = "NotEqual";
    const SINCE: u32 = 1;
    const INPUTS: Arity = Arity::Exactly(2);

    fn parse(_: &Node, _: &Assets) -> Result<NotEqual> {
        Ok(NotEqual)
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        Vec::new()
    }

    /// [`Equal`]'s rule.
    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        Equal.infer(inputs)
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        equality_eval(inputs[0], inputs[1], false, out)
    }

    #[cfg(feature = "grad")]
    fn grad(&self, _: &[&Tensor], _: &Tensor, _: &Tensor) -> crate::ops::grad::Grads {
        Ok(vec![None, None])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DataType;
    use ndarray::array;

    #[test]
    fn masks_padding_and_nan() {
        let words = Tensor::from(array![["good".to_owned(), String::new()], ["bad".to_owned(), String::new()]]);
        let y = NotEqual.run(&[&words, &Tensor::scalar(crate::Bytes::new())]).unwrap();
        assert_eq!(y.shape(), &[2, 2]);
        assert_eq!(y.as_slice::<bool>().unwrap(), &[true, false, true, false]);
        let y = NotEqual.run(&[&Tensor::from(array![f32::NAN, 1.0]), &Tensor::from(array![f32::NAN, 1.0])]).unwrap();
        assert_eq!(y.as_slice::<bool>().unwrap(), &[true, false]);
    }

    #[test]
    fn mixed_dtypes_are_refused() {
        let t = |dtype| TensorType::new(dtype, vec![None]);
        let err = NotEqual.infer(&[t(DataType::Bool), t(DataType::F32)]).unwrap_err();
        assert_eq!(err.to_string(), "input 1 is f32, input 0 is bool");
    }
}
