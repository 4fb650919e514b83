//! `Equal`.

use super::elementwise::equality_eval;
use crate::graph::{Attr, Node};
use crate::ops::{Arity, OpDef, OpError, TensorType, rule};
use crate::{Assets, DataType, Result, Tensor};

/// `a == b` as bools, elementwise over two tensors of one dtype (any: f32,
/// i64, i32, bool or string), broadcasting; strings compare bytewise, and
/// NaN is unequal to everything, itself included (TensorFlow's `Equal`).
///
/// Gradient: none flows (the output is bools).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Equal;

impl OpDef for Equal {
    const NAME: &'static str = "Equal";
    const SINCE: u32 = 1;
    const INPUTS: Arity = Arity::Exactly(2);

    fn parse(_: &Node, _: &Assets) -> Result<Equal> {
        Ok(Equal)
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        Vec::new()
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        rule::same_dtype(inputs, 1, 0)?;
        Ok(TensorType::new(DataType::Bool, rule::broadcast_types(inputs)?))
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        equality_eval(inputs[0], inputs[1], true, out)
    }

    #[cfg(feature = "grad")]
    fn grad(&self, _: &[&Tensor], _: &Tensor, _: &Tensor) -> crate::ops::grad::Grads {
        Ok(vec![None, None])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn compares_strings_and_floats_broadcasting() {
        let words = Tensor::from(array![["a".to_owned(), String::new()], ["".to_owned(), "b".to_owned()]]);
        let y = Equal.run(&[&words, &Tensor::scalar(crate::Bytes::new())]).unwrap();
        assert_eq!(y.as_slice::<bool>().unwrap(), &[false, true, true, false]);
        let y = Equal.run(&[&Tensor::from(array![f32::NAN, 1.0, 2.0]), &Tensor::from(array![f32::NAN, 1.0, 1.0])]);
        assert_eq!(y.unwrap().as_slice::<bool>().unwrap(), &[false, true, false]);
        let y = Equal.run(&[&Tensor::from(array![true, false]), &Tensor::from(array![[true], [false]])]).unwrap();
        assert_eq!(y.as_slice::<bool>().unwrap(), &[true, false, false, true]);
    }

    #[test]
    fn mixed_dtypes_are_refused() {
        let t = |dtype| TensorType::new(dtype, vec![Some(2)]);
        let err = Equal.infer(&[t(DataType::String), t(DataType::I64)]).unwrap_err();
        assert_eq!(err.to_string(), "input 1 is i64, input 0 is string");
        assert!(Equal.run(&[&Tensor::from(array![1i64]), &Tensor::from(array![1i32])]).is_err());
    }
}
