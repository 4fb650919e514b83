//! `LogicalNot`.

use crate::graph::{Attr, Node};
use crate::ops::kernel::slice;
use crate::ops::{Arity, OpDef, OpError, TensorType, rule};
use crate::{Assets, DataType, Result, Tensor};

/// `!x`, elementwise over a bool tensor (TensorFlow's `LogicalNot`).
///
/// Gradient: none flows (the input is bools).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogicalNot;

impl OpDef for LogicalNot {
    const NAME: &'static str = "LogicalNot";
    const SINCE: u32 = 3;
    const INPUTS: Arity = Arity::Exactly(1);

    fn parse(_: &Node, _: &Assets) -> Result<LogicalNot> {
        Ok(LogicalNot)
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        Vec::new()
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        rule::expect_dtype(inputs, 0, DataType::Bool)?;
        Ok(inputs[0].clone())
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        let x = inputs[0];
        let src = slice::<bool>(x)?;
        out.output_vec::<bool>(x.shape()).extend(src.iter().map(|b| !b));
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

    #[test]
    fn negates() {
        let y = LogicalNot.run(&[&Tensor::from(array![[true, false], [false, false]])]).unwrap();
        assert_eq!(y.shape(), &[2, 2]);
        assert_eq!(y.as_slice::<bool>().unwrap(), &[false, true, true, true]);
    }

    #[test]
    fn takes_only_bools() {
        let err = LogicalNot.infer(&[TensorType::new(DataType::I64, vec![Some(3)])]).unwrap_err();
        assert_eq!(err.to_string(), "input 0: expected bool, got i64");
        assert!(LogicalNot.run(&[&Tensor::from(array![1i64])]).is_err());
    }
}
