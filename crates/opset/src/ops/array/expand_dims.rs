//! `ExpandDims`.

use crate::graph::{Attr, Node};
use crate::ops::kernel::copy;
use crate::ops::{Arity, OpDef, OpError, TensorType, normalize_axis};
use crate::{Assets, Result, Tensor};

/// `x` (any dtype) with a dim of size 1 inserted at `axis`: the elements
/// unchanged. TensorFlow's `ExpandDims` with a constant axis.
///
/// Attribute: `axis` (an int in `[-rank-1, rank]`; `-1` appends the new dim).
///
/// Gradient: `g` reshaped back to `x`'s shape.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExpandDims {
    /// Where the new dim goes, in the output.
    pub axis: i64,
}

impl OpDef for ExpandDims {
    const NAME: &'static str = "ExpandDims";
    const SINCE: u32 = 1;
    const INPUTS: Arity = Arity::Exactly(1);

    fn parse(node: &Node, _: &Assets) -> Result<ExpandDims> {
        Ok(ExpandDims { axis: node.attr_int("axis")? })
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        vec![("axis", Attr::Int(self.axis))]
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        let mut dims = inputs[0].dims().to_vec();
        dims.insert(normalize_axis(self.axis, dims.len() + 1)?, Some(1));
        Ok(TensorType::new(inputs[0].dtype, dims))
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        let mut shape = inputs[0].shape().to_vec();
        shape.insert(normalize_axis(self.axis, shape.len() + 1)?, 1);
        copy(inputs[0], &shape, out)
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
    fn inserts_a_dim_of_one() {
        let x = Tensor::from(array![[1.0f32], [2.0]]);
        assert_eq!(ExpandDims { axis: -1 }.run(&[&x]).unwrap().shape(), &[2, 1, 1]);
        assert_eq!(ExpandDims { axis: 0 }.run(&[&x]).unwrap(), Tensor::from(array![[[1.0f32], [2.0]]]));
    }

    #[test]
    fn attributes_round_trip() {
        let e = ExpandDims { axis: -3 };
        let node = crate::ops::Op::from(e).to_node("e", vec!["x".into()]);
        assert_eq!(ExpandDims::parse(&node, &Assets::new()).unwrap(), e);
    }

    #[test]
    fn an_axis_out_of_range_is_refused() {
        let x = Tensor::from(array![1.0f32, 2.0]);
        assert_eq!(ExpandDims { axis: 2 }.run(&[&x]).unwrap_err(), OpError::Axis { axis: 2, rank: 2 });
    }
}

#[cfg(all(test, feature = "grad"))]
mod grad_tests {
    use super::*;

    #[test]
    fn reshapes_the_gradient_back() {
        let x = Tensor::from(ndarray::array![1.0f32, 2.0]);
        let g = Tensor::from(ndarray::array![[3.0f32, 4.0]]);
        let d = ExpandDims { axis: 0 }.grad(&[&x], &g, &g).unwrap();
        assert_eq!(d, vec![Some(Tensor::from(ndarray::array![3.0f32, 4.0]))]);
    }
}
