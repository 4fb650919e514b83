//! `Transpose`.

use super::DimSlice;
use smallvec::SmallVec;

use super::slicing::{Dims, row_major_strides, take_strided};
use crate::graph::{Attr, Node};
use crate::ops::kernel::any_dtype;
use crate::ops::{Arity, OpDef, OpError, TensorType};
use crate::{Assets, Result, Tensor};

/// `x` (any dtype) with its dims permuted: output dim `i` is input dim
/// `perm[i]`. TensorFlow's `Transpose` with a constant permutation.
///
/// Attribute: `perm` (ints, a permutation of `0..rank`).
///
/// Gradient: `g` transposed by the inverse permutation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transpose {
    /// Which input dim each output dim is.
    pub perm: Vec<usize>,
}

impl OpDef for Transpose {
    const NAME: &'static str = "Transpose";
    const SINCE: u32 = 1;
    const INPUTS: Arity = Arity::Exactly(1);

    fn parse(node: &Node, _: &Assets) -> Result<Transpose> {
        let perm = node.attr_ints("perm")?;
        let mut sorted: Vec<i64> = perm.to_vec();
        sorted.sort_unstable();
        if sorted.iter().enumerate().any(|(i, &p)| usize::try_from(p) != Ok(i)) {
            return Err(node.error(format!("perm {perm:?} is not a permutation of 0..{}", perm.len())));
        }
        Ok(Transpose { perm: perm.iter().map(|&p| p as usize).collect() })
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        vec![("perm", Attr::Ints(self.perm.iter().map(|&p| i64::try_from(p).unwrap_or(i64::MAX)).collect()))]
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        let dims = inputs[0].dims();
        self.check(dims.len())?;
        Ok(TensorType::new(inputs[0].dtype, self.perm.iter().map(|&p| dims[p]).collect()))
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        let x = inputs[0];
        let shape = x.shape();
        self.check(shape.len())?;
        // The output, read in order, walks the input with permuted strides
        // (trailing dims the permutation keeps in place are copied as
        // contiguous blocks).
        let strides = row_major_strides(shape);
        let permuted: Dims = self.perm.iter().map(|&p| strides[p]).collect();
        let walk: SmallVec<[DimSlice; 6]> = self.perm.iter().map(|&p| DimSlice::whole(shape[p])).collect();
        let out_shape: Dims = self.perm.iter().map(|&p| shape[p]).collect();
        any_dtype!(x.dtype(), T => take_strided::<T>(x, &permuted, &walk, &out_shape, out))
    }

    #[cfg(feature = "grad")]
    fn grad(&self, _x: &[&Tensor], _y: &Tensor, g: &Tensor) -> crate::ops::grad::Grads {
        let mut inverse = vec![0; self.perm.len()];
        for (i, &p) in self.perm.iter().enumerate() {
            if let Some(slot) = inverse.get_mut(p) {
                *slot = i;
            }
        }
        Ok(vec![Some(Transpose { perm: inverse }.run(&[g])?)])
    }
}

impl Transpose {
    /// Checks that `perm` is a permutation of the `rank` dims of the input.
    ///
    /// # Errors
    /// [`OpError::Shape`] if it is not.
    fn check(&self, rank: usize) -> Result<(), OpError> {
        let mut seen: SmallVec<[bool; 8]> = smallvec::smallvec![false; rank];
        let permutes = self.perm.len() == rank
            && self.perm.iter().all(|&p| seen.get_mut(p).is_some_and(|s| !std::mem::replace(s, true)));
        if permutes { Ok(()) } else { Err(OpError::shape(format!("perm {:?} for an input of rank {rank}", self.perm))) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DataType;

    #[test]
    fn permutes_the_dims() {
        let x = Tensor::from(ndarray::Array3::from_shape_fn((2, 3, 4), |(i, j, k)| (i * 100 + j * 10 + k) as f32));
        let t = Transpose { perm: vec![2, 0, 1] }.run(&[&x]).unwrap();
        assert_eq!(t.shape(), &[4, 2, 3]);
        assert_eq!(t.as_f32().unwrap()[[3, 1, 2]], 123.);
        let ty = Transpose { perm: vec![1, 0] }.infer(&[TensorType::new(DataType::F32, vec![None, Some(2)])]);
        assert_eq!(ty.unwrap(), TensorType::new(DataType::F32, vec![Some(2), None]));
    }

    #[test]
    fn every_permutation_matches_ndarray() {
        // Kept trailing dims (runs), moved ones (single elements) and dims of 1.
        let x = ndarray::ArrayD::from_shape_fn(vec![2, 3, 1, 4], |i| (i[0] * 1000 + i[1] * 100 + i[3]) as f32);
        let t = Tensor::from(x.clone());
        let mut perm = vec![0, 1, 2, 3];
        for _ in 0..24 {
            let got = Transpose { perm: perm.clone() }.run(&[&t]).unwrap();
            let want = x.clone().permuted_axes(perm.clone());
            assert_eq!(got.shape(), want.shape());
            assert_eq!(got.as_slice::<f32>().unwrap(), want.iter().copied().collect::<Vec<_>>(), "perm {perm:?}");
            next_permutation(&mut perm);
        }
    }

    fn next_permutation(p: &mut [usize]) {
        let Some(i) = (1..p.len()).rev().find(|&i| p[i - 1] < p[i]) else { return p.reverse() };
        let j = (i..p.len()).rev().find(|&j| p[j] > p[i - 1]).unwrap();
        p.swap(i - 1, j);
        p[i..].reverse();
    }

    #[test]
    fn attributes_round_trip() {
        let t = Transpose { perm: vec![2, 0, 1] };
        let node = crate::ops::Op::from(t.clone()).to_node("t", vec!["x".into()]);
        assert_eq!(Transpose::parse(&node, &Assets::new()).unwrap(), t);
    }

    #[test]
    fn a_non_permutation_is_refused() {
        let node = Node::new("t", "Transpose", &["x"]).with("perm", Attr::Ints(vec![0, 0, 1]));
        let err = Transpose::parse(&node, &Assets::new()).unwrap_err();
        assert!(err.to_string().contains("is not a permutation of 0..3"), "{err}");
        let x = Tensor::from(ndarray::array![[1.0f32]]);
        assert!(Transpose { perm: vec![0, 0] }.run(&[&x]).is_err());
        assert!(Transpose { perm: vec![0, 5] }.run(&[&x]).is_err());
        assert!(Transpose { perm: vec![0] }.run(&[&x]).is_err());
    }
}

#[cfg(all(test, feature = "grad"))]
mod grad_tests {
    use super::*;
    use crate::ops::grad::{check_gradient, sample};

    #[test]
    fn transposes_the_gradient_back() {
        let x = Tensor::from(ndarray::Array3::from_shape_fn((2, 3, 4), |(i, j, k)| (i * 12 + j * 4 + k) as f32));
        let t = Transpose { perm: vec![2, 0, 1] };
        let y = t.run(&[&x]).unwrap();
        // g = y: the inverse permutation takes it back to x.
        assert_eq!(t.grad(&[&x], &y, &y).unwrap(), vec![Some(x)]);
    }

    #[test]
    fn agrees_with_finite_differences() {
        check_gradient(&Transpose { perm: vec![1, 2, 0] }, &[sample(&[2, 3, 4], 0)]);
    }
}
