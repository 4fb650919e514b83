//! `LogicalOr`.

use super::elementwise::logical_infer;
use crate::graph::{Attr, Node};
use crate::ops::kernel::broadcast_zip;
use crate::ops::{Arity, OpDef, OpError, TensorType};
use crate::{Assets, Result, Tensor};

/// `a || b`, elementwise over two bool tensors, broadcasting (TensorFlow's
/// `LogicalOr`).
///
/// Gradient: none flows (the inputs are bools).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogicalOr;

impl OpDef for LogicalOr {
    const NAME: &'static str = "LogicalOr";
    const SINCE: u32 = 3;
    const INPUTS: Arity = Arity::Exactly(2);

    fn parse(_: &Node, _: &Assets) -> Result<LogicalOr> {
        Ok(LogicalOr)
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        Vec::new()
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        logical_infer(inputs)
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        broadcast_zip::<bool, bool>(inputs[0], inputs[1], |&a, &b| a || b, out)
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
    fn is_true_where_either_is() {
        let y = LogicalOr.run(&[&Tensor::from(array![[true], [false]]), &Tensor::from(array![true, false])]).unwrap();
        assert_eq!(y.as_slice::<bool>().unwrap(), &[true, true, true, false]);
    }

    #[test]
    fn takes_only_bools() {
        let t = |dtype| TensorType::new(dtype, vec![Some(2)]);
        let err = LogicalOr.infer(&[t(DataType::F32), t(DataType::Bool)]).unwrap_err();
        assert_eq!(err.to_string(), "input 0: expected bool, got f32");
    }
}
