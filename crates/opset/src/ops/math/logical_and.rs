//! `LogicalAnd`.

use super::elementwise::logical_infer;
use crate::graph::{Attr, Node};
use crate::ops::kernel::broadcast_zip;
use crate::ops::{Arity, OpDef, OpError, TensorType};
use crate::{Assets, Result, Tensor};

/// `a && b`, elementwise over two bool tensors, broadcasting (TensorFlow's
/// `LogicalAnd`).
///
/// Gradient: none flows (the inputs are bools).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogicalAnd;

impl OpDef for LogicalAnd {
    const NAME: &'static str = "LogicalAnd";
    const SINCE: u32 = 3;
    const INPUTS: Arity = Arity::Exactly(2);

    fn parse(_: &Node, _: &Assets) -> Result<LogicalAnd> {
        Ok(LogicalAnd)
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        Vec::new()
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        logical_infer(inputs)
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        broadcast_zip::<bool, bool>(inputs[0], inputs[1], |&a, &b| a && b, out)
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
    fn is_true_where_both_are() {
        let y = LogicalAnd.run(&[&Tensor::from(array![[true], [false]]), &Tensor::from(array![true, false])]).unwrap();
        assert_eq!(y.as_slice::<bool>().unwrap(), &[true, false, false, false]);
    }

    #[test]
    fn takes_only_bools() {
        let t = |dtype| TensorType::new(dtype, vec![Some(2)]);
        let err = LogicalAnd.infer(&[t(DataType::Bool), t(DataType::I32)]).unwrap_err();
        assert_eq!(err.to_string(), "input 1: expected bool, got i32");
        assert!(LogicalAnd.run(&[&Tensor::from(array![1i32]), &Tensor::from(array![1i32])]).is_err());
    }
}
