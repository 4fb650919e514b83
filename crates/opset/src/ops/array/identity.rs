//! `Identity`.

use crate::graph::{Attr, Node};
use crate::ops::kernel::copy;
use crate::ops::{Arity, OpDef, OpError, TensorType};
use crate::{Assets, Result, Tensor};

/// `x` unchanged (any dtype and shape). TensorFlow's `Identity`.
///
/// Gradient: `g`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Identity;

impl OpDef for Identity {
    const NAME: &'static str = "Identity";
    const SINCE: u32 = 1;
    const INPUTS: Arity = Arity::Exactly(1);

    fn parse(_: &Node, _: &Assets) -> Result<Identity> {
        Ok(Identity)
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        Vec::new()
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        Ok(inputs[0].clone())
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        copy(inputs[0], inputs[0].shape(), out)
    }

    #[cfg(feature = "grad")]
    fn grad(&self, x: &[&Tensor], _y: &Tensor, g: &Tensor) -> crate::ops::grad::Grads {
        Ok(vec![Some(crate::ops::grad::reshape(g.clone(), x[0].shape())?)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn copies_its_input() {
        let x = Tensor::from(array![[true, false]]);
        assert_eq!(Identity.run(&[&x]).unwrap(), x);
    }
}

#[cfg(all(test, feature = "grad"))]
mod grad_tests {
    use super::*;

    #[test]
    fn passes_the_gradient_through() {
        let x = Tensor::from(ndarray::array![1.0f32, 2.0]);
        let g = Tensor::from(ndarray::array![0.5f32, -1.0]);
        assert_eq!(Identity.grad(&[&x], &x, &g).unwrap(), vec![Some(g)]);
    }
}
