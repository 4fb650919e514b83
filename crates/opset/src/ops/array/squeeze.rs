//! `Squeeze`.

use crate::graph::{Attr, Node};
use crate::ops::kernel::copy;
use crate::ops::{Arity, OpDef, OpError, TensorType, normalize_axis};
use crate::{Assets, Result, Tensor};

/// `x` (any dtype) without the dims `axes`, each of which must be of size 1
/// (every dim of size 1 when `axes` is empty): the elements unchanged.
/// TensorFlow's `Squeeze`.
///
/// Attribute: `axes` (ints in `[-rank, rank)`; empty: every dim of size 1,
/// as far as the declared shape tells at load).
///
/// Gradient: `g` reshaped back to `x`'s shape.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Squeeze {
    /// The dims to drop; empty drops every dim of size 1.
    pub axes: Vec<i64>,
}

impl OpDef for Squeeze {
    const NAME: &'static str = "Squeeze";
    const SINCE: u32 = 1;
    const INPUTS: Arity = Arity::Exactly(1);

    fn parse(node: &Node, _: &Assets) -> Result<Squeeze> {
        Ok(Squeeze { axes: node.attr_ints("axes")?.to_vec() })
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        vec![("axes", Attr::Ints(self.axes.clone()))]
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        let d = inputs[0].dims();
        let axes = self.dropped(d.len(), |i| d[i] == Some(1))?;
        for &a in &axes {
            if let Some(n) = d[a].filter(|&n| n != 1) {
                return Err(OpError::shape(format!("cannot squeeze dim {a} of size {n}")));
            }
        }
        let dims = d.iter().enumerate().filter(|(i, _)| !axes.contains(i)).map(|(_, d)| *d).collect();
        Ok(TensorType::new(inputs[0].dtype, dims))
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        let shape = inputs[0].shape();
        let axes = self.dropped(shape.len(), |i| shape[i] == 1)?;
        if let Some(&a) = axes.iter().find(|&&a| shape[a] != 1) {
            return Err(OpError::shape(format!("cannot squeeze dim {a} of size {} in {shape:?}", shape[a])));
        }
        let squeezed: Vec<usize> =
            shape.iter().enumerate().filter(|(i, _)| !axes.contains(i)).map(|(_, &d)| d).collect();
        copy(inputs[0], &squeezed, out)
    }

    #[cfg(feature = "grad")]
    fn grad(&self, x: &[&Tensor], _y: &Tensor, g: &Tensor) -> crate::ops::grad::Grads {
        Ok(vec![Some(crate::ops::grad::reshape(g.clone(), x[0].shape())?)])
    }
}

impl Squeeze {
    /// The dims dropped from a tensor of `rank` dims, normalised: `axes`, or
    /// those of size 1 (`is_one`) when `axes` is empty.
    fn dropped(&self, rank: usize, is_one: impl Fn(usize) -> bool) -> Result<Vec<usize>, OpError> {
        if self.axes.is_empty() {
            return Ok((0..rank).filter(|&i| is_one(i)).collect());
        }
        self.axes.iter().map(|&a| normalize_axis(a, rank)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DataType;
    use ndarray::array;

    #[test]
    fn drops_dims_of_one() {
        let x = Tensor::from(array![[[1i64]], [[2]]]);
        assert_eq!(Squeeze { axes: vec![] }.run(&[&x]).unwrap(), Tensor::from(array![1i64, 2]));
        assert_eq!(Squeeze { axes: vec![-1] }.run(&[&x]).unwrap(), Tensor::from(array![[1i64], [2]]));
        let ty = Squeeze { axes: vec![1] }.infer(&[TensorType::new(DataType::I64, vec![None, None, Some(3)])]);
        assert_eq!(ty.unwrap(), TensorType::new(DataType::I64, vec![None, Some(3)]));
    }

    #[test]
    fn attributes_round_trip() {
        let s = Squeeze { axes: vec![0, -1] };
        let node = crate::ops::Op::from(s.clone()).to_node("s", vec!["x".into()]);
        assert_eq!(Squeeze::parse(&node, &Assets::new()).unwrap(), s);
    }

    #[test]
    fn a_dim_larger_than_one_is_refused() {
        let x = Tensor::from(array![[1.0f32], [2.0]]);
        let err = Squeeze { axes: vec![0] }.run(&[&x]).unwrap_err();
        assert!(err.to_string().contains("cannot squeeze dim 0 of size 2"), "{err}");
        let ty = TensorType::new(DataType::F32, vec![Some(2), Some(1)]);
        assert!(Squeeze { axes: vec![0] }.infer(&[ty]).is_err());
    }
}

#[cfg(all(test, feature = "grad"))]
mod grad_tests {
    use super::*;

    #[test]
    fn reshapes_the_gradient_back() {
        let x = Tensor::from(ndarray::array![[1.0f32], [2.0]]);
        let g = Tensor::from(ndarray::array![3.0f32, 4.0]);
        let d = Squeeze { axes: vec![] }.grad(&[&x], &g, &g).unwrap();
        assert_eq!(d, vec![Some(Tensor::from(ndarray::array![[3.0f32], [4.0]]))]);
    }
}
