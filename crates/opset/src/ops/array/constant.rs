//! `Const`.

use crate::graph::{Attr, Node};
use crate::ops::kernel::copy;
use crate::ops::{Arity, OpDef, OpError, TensorType};
use crate::{Assets, Result, Shape, Tensor};

/// A constant: `value`, whatever its dtype and shape. TensorFlow's `Const`.
///
/// No inputs. Attribute: `value` (a tensor).
///
/// Gradient: none (a source has no inputs).
#[derive(Debug, Clone, PartialEq)]
pub struct Const {
    /// The value the op outputs.
    pub value: Tensor,
}

impl OpDef for Const {
    const NAME: &'static str = "Const";
    const SINCE: u32 = 1;
    const INPUTS: Arity = Arity::Exactly(0);

    fn parse(node: &Node, _: &Assets) -> Result<Const> {
        Ok(Const { value: node.attr_tensor("value")?.clone() })
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        vec![("value", Attr::Tensor(self.value.clone()))]
    }

    fn infer(&self, _: &[TensorType]) -> Result<TensorType, OpError> {
        Ok(TensorType { dtype: self.value.dtype(), shape: Shape::known(self.value.shape()) })
    }

    fn eval(&self, _: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        copy(&self.value, self.value.shape(), out)
    }

    #[cfg(feature = "grad")]
    fn grad(&self, _: &[&Tensor], _: &Tensor, _: &Tensor) -> crate::ops::grad::Grads {
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DataType;
    use ndarray::array;

    #[test]
    fn outputs_its_value() {
        let c = Const { value: Tensor::from(array![[1i64, 2, 3]]) };
        assert_eq!(c.run(&[]).unwrap(), c.value);
        assert_eq!(c.infer(&[]).unwrap(), TensorType::new(DataType::I64, vec![Some(1), Some(3)]));
    }

    #[test]
    fn attributes_round_trip() {
        let c = Const { value: Tensor::scalar(crate::Bytes::from("word")) };
        let node = crate::ops::Op::from(c.clone()).to_node("c", Vec::new());
        assert_eq!(Const::parse(&node, &Assets::new()).unwrap(), c);
    }

    #[test]
    fn a_value_must_be_a_tensor() {
        let node = Node::new("c", "Const", &[]).with("value", Attr::Int(3));
        assert!(Const::parse(&node, &Assets::new()).is_err());
    }
}
