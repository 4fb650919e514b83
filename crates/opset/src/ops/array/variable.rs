//! `Variable`.

use crate::graph::{Attr, Node};
use crate::ops::{Arity, OpDef, OpError, TensorType};
use crate::{Assets, DataType, Result, Shape, Tensor};

/// A trained variable: the tensor of the variables bundle named like the
/// node, of dtype `dtype` and the fully known `shape` (TensorFlow's
/// `VarHandleOp` read by `ReadVariableOp`).
///
/// No inputs. Attributes: `dtype` (a dtype) and `shape` (a shape, every dim
/// known).
///
/// A source: it has no kernel, the caller supplies its value.
///
/// Gradient: none (a source has no inputs; training differentiates with
/// respect to the variable itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    /// The variable's dtype.
    pub dtype: DataType,
    /// The variable's shape.
    pub shape: Vec<usize>,
}

impl OpDef for Variable {
    const NAME: &'static str = "Variable";
    const SINCE: u32 = 1;
    const INPUTS: Arity = Arity::Exactly(0);

    fn parse(node: &Node, _: &Assets) -> Result<Variable> {
        let shape = node.attr_shape("shape")?;
        let shape = shape.as_known().ok_or_else(|| node.error(format!("shape {shape} must be fully known")))?;
        Ok(Variable { dtype: node.attr_type("dtype")?, shape })
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        vec![("dtype", Attr::Type(self.dtype)), ("shape", Attr::Shape(Shape::known(&self.shape)))]
    }

    fn infer(&self, _: &[TensorType]) -> Result<TensorType, OpError> {
        Ok(TensorType { dtype: self.dtype, shape: Shape::known(&self.shape) })
    }

    fn eval(&self, _: &[&Tensor], _: &mut Tensor) -> Result<(), OpError> {
        Err(OpError::Source)
    }

    #[cfg(feature = "grad")]
    fn grad(&self, _: &[&Tensor], _: &Tensor, _: &Tensor) -> crate::ops::grad::Grads {
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declares_its_type_and_has_no_kernel() {
        let v = Variable { dtype: DataType::F32, shape: vec![3, 1] };
        assert_eq!(v.infer(&[]).unwrap(), TensorType::new(DataType::F32, vec![Some(3), Some(1)]));
        assert_eq!(v.run(&[]).unwrap_err(), OpError::Source);
    }

    #[test]
    fn attributes_round_trip() {
        let v = Variable { dtype: DataType::I64, shape: vec![2, 5] };
        let node = crate::ops::Op::from(v.clone()).to_node("v", Vec::new());
        assert_eq!(Variable::parse(&node, &Assets::new()).unwrap(), v);
    }

    #[test]
    fn an_unknown_dim_is_refused() {
        let node = Node::new("v", "Variable", &[])
            .with("dtype", Attr::Type(DataType::F32))
            .with("shape", Attr::Shape(Shape(vec![None, Some(2)])));
        let err = Variable::parse(&node, &Assets::new()).unwrap_err();
        assert!(err.to_string().contains("must be fully known"), "{err}");
    }
}
