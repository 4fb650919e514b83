//! `Reshape`.

use crate::graph::{Attr, Node};
use crate::ops::kernel::copy;
use crate::ops::rule::known_count;
use crate::ops::{Arity, OpDef, OpError, TensorType};
use crate::{Assets, Result, Tensor};

/// `x`'s elements (any dtype), row-major, in the shape `shape`, where one
/// dim may be `-1`: the size that makes the element counts agree.
/// TensorFlow's `Reshape` with a constant shape.
///
/// Attribute: `shape` (ints: sizes >= 0, at most one `-1`). The element
/// count of `shape` must be `x`'s.
///
/// Gradient: `g` reshaped back to `x`'s shape.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reshape {
    /// The target shape; one dim may be `-1` (inferred).
    pub shape: Vec<i64>,
}

impl OpDef for Reshape {
    const NAME: &'static str = "Reshape";
    const SINCE: u32 = 1;
    const INPUTS: Arity = Arity::Exactly(1);

    fn parse(node: &Node, _: &Assets) -> Result<Reshape> {
        let shape = node.attr_ints("shape")?.to_vec();
        if shape.iter().any(|&d| d < -1) || shape.iter().filter(|&&d| d == -1).count() > 1 {
            return Err(node.error(format!("shape {shape:?}: dims must be sizes, with at most one -1")));
        }
        Ok(Reshape { shape })
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        vec![("shape", Attr::Ints(self.shape.clone()))]
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        let shape = &self.shape;
        let dtype = inputs[0].dtype;
        let mut out: Vec<Option<usize>> = shape.iter().map(|&d| usize::try_from(d).ok()).collect();
        let Some(n_in) = known_count(inputs[0].dims()) else {
            // Unknown input size: the -1 stays unknown.
            return Ok(TensorType::new(dtype, out));
        };
        let known = out.iter().flatten().try_fold(1usize, |n, &d| n.checked_mul(d));
        let Some(known) = known else {
            return Err(OpError::shape(format!("shape {shape:?} has more elements than memory can address")));
        };
        let refused = || OpError::shape(format!("cannot reshape {n_in} elements into {shape:?}"));
        match out.iter().position(Option::is_none) {
            None if known != n_in => Err(refused()),
            None => Ok(TensorType::new(dtype, out)),
            Some(_) if known == 0 || n_in % known != 0 => Err(refused()),
            Some(i) => {
                out[i] = Some(n_in / known);
                Ok(TensorType::new(dtype, out))
            }
        }
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        copy(inputs[0], &self.target(inputs[0].len())?, out)
    }

    #[cfg(feature = "grad")]
    fn grad(&self, x: &[&Tensor], _y: &Tensor, g: &Tensor) -> crate::ops::grad::Grads {
        Ok(vec![Some(crate::ops::grad::reshape(g.clone(), x[0].shape())?)])
    }
}

impl Reshape {
    /// The concrete shape of `len` elements reshaped, resolving the `-1`.
    ///
    /// # Errors
    /// [`OpError::Shape`] if the element counts cannot agree.
    pub fn target(&self, len: usize) -> Result<Vec<usize>, OpError> {
        let shape = &self.shape;
        let refused = || OpError::shape(format!("cannot reshape {len} elements into {shape:?}"));
        let mut sizes = shape.iter().filter_map(|&d| usize::try_from(d).ok());
        let known = sizes.try_fold(1usize, |n, d| n.checked_mul(d)).ok_or_else(refused)?;
        let dims = shape
            .iter()
            .map(|&d| match usize::try_from(d) {
                Ok(d) => Ok(d),
                Err(_) if d == -1 && known > 0 && len.is_multiple_of(known) => Ok(len / known),
                Err(_) => Err(refused()),
            })
            .collect::<Result<Vec<usize>, OpError>>()?;
        let count = dims.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
        if count == Some(len) { Ok(dims) } else { Err(refused()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DataType;
    use ndarray::array;

    #[test]
    fn infers_the_minus_one() {
        let y = Reshape { shape: vec![-1, 2] }.run(&[&Tensor::from(array![1i32, 2, 3, 4])]).unwrap();
        assert_eq!(y, Tensor::from(array![[1i32, 2], [3, 4]]));
        let ty = Reshape { shape: vec![3, -1] }.infer(&[TensorType::new(DataType::F32, vec![Some(2), Some(3)])]);
        assert_eq!(ty.unwrap(), TensorType::new(DataType::F32, vec![Some(3), Some(2)]));
    }

    #[test]
    fn attributes_round_trip() {
        let r = Reshape { shape: vec![-1, 4, 0] };
        let node = crate::ops::Op::from(r.clone()).to_node("r", vec!["x".into()]);
        assert_eq!(Reshape::parse(&node, &Assets::new()).unwrap(), r);
    }

    #[test]
    fn counts_that_cannot_agree_are_refused() {
        let x = Tensor::from(array![1.0f32, 2.0]);
        let err = Reshape { shape: vec![3, -1] }.run(&[&x]).unwrap_err();
        assert!(err.to_string().contains("cannot reshape 2 elements"), "{err}");
        let huge = Reshape { shape: vec![1 << 40, 1 << 40, 1 << 40, -1] };
        assert!(huge.run(&[&x]).is_err(), "an overflowing product is refused, not wrapped");
        assert!(huge.infer(&[TensorType::new(DataType::F32, vec![Some(2)])]).is_err());
        let node = Node::new("r", "Reshape", &["x"]).with("shape", Attr::Ints(vec![-1, -1]));
        assert!(Reshape::parse(&node, &Assets::new()).is_err());
    }
}

#[cfg(all(test, feature = "grad"))]
mod grad_tests {
    use super::*;

    #[test]
    fn reshapes_the_gradient_back() {
        let x = Tensor::from(ndarray::array![[1.0f32, 2.0], [3.0, 4.0]]);
        let g = Tensor::from(ndarray::array![1.0f32, 2.0, 3.0, 4.0]);
        let d = Reshape { shape: vec![-1] }.grad(&[&x], &g, &g).unwrap();
        assert_eq!(d, vec![Some(Tensor::from(ndarray::array![[1.0f32, 2.0], [3.0, 4.0]]))]);
    }
}
