//! `Placeholder`.

use crate::graph::{Attr, Node};
use crate::ops::{Arity, OpDef, OpError, TensorType};
use crate::{Assets, DataType, Result, Shape, Tensor};

/// A graph input: the value fed at run time, of dtype `dtype`, which must
/// match `shape` (unknown dims accept any size). TensorFlow's `Placeholder`.
///
/// No inputs. Attributes: `dtype` (a dtype) and `shape` (a shape, unknown
/// dims allowed).
///
/// A source: it has no kernel, the caller supplies its value.
///
/// Gradient: none (a source has no inputs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    /// The dtype of the value fed.
    pub dtype: DataType,
    /// The shape the value fed must match.
    pub shape: Shape,
}

impl OpDef for Placeholder {
    const NAME: &'static str = "Placeholder";
    const SINCE: u32 = 1;
    const INPUTS: Arity = Arity::Exactly(0);

    fn parse(node: &Node, _: &Assets) -> Result<Placeholder> {
        Ok(Placeholder { dtype: node.attr_type("dtype")?, shape: node.attr_shape("shape")?.clone() })
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        vec![("dtype", Attr::Type(self.dtype)), ("shape", Attr::Shape(self.shape.clone()))]
    }

    fn infer(&self, _: &[TensorType]) -> Result<TensorType, OpError> {
        Ok(TensorType { dtype: self.dtype, shape: self.shape.clone() })
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

    fn placeholder() -> Placeholder {
        Placeholder { dtype: DataType::F32, shape: Shape(vec![None, Some(3)]) }
    }

    #[test]
    fn declares_its_type_and_has_no_kernel() {
        assert_eq!(placeholder().infer(&[]).unwrap(), TensorType::new(DataType::F32, vec![None, Some(3)]));
        assert_eq!(placeholder().run(&[]).unwrap_err(), OpError::Source);
    }

    #[test]
    fn attributes_round_trip() {
        let node = crate::ops::Op::from(placeholder()).to_node("x", Vec::new());
        assert_eq!(Placeholder::parse(&node, &Assets::new()).unwrap(), placeholder());
    }

    #[test]
    fn a_missing_dtype_is_refused() {
        let node = Node::new("x", "Placeholder", &[]).with("shape", Attr::Shape(Shape::scalar()));
        let err = Placeholder::parse(&node, &Assets::new()).unwrap_err();
        assert!(err.to_string().contains("missing attribute \"dtype\""), "{err}");
    }
}
