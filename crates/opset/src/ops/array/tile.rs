//! `Tile`.

use crate::graph::{Attr, Node};
use crate::ops::kernel::{any_dtype, checked_len, slice};
use crate::ops::{Arity, OpDef, OpError, TensorType};
use crate::{Assets, Result, Tensor};

/// `x` (any dtype) repeated `multiples[i]` times along each dim `i`: output
/// dim `i` is `x.shape[i] * multiples[i]`. TensorFlow's `Tile` with constant
/// multiples ([`super::TileBy`] takes them at run time).
///
/// Attribute: `multiples` (ints, one per dim of `x`, >= 0).
///
/// Gradient: the sum of `g` over the copies of each element.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tile {
    /// The repeat count of each dim.
    pub multiples: Vec<usize>,
}

impl OpDef for Tile {
    const NAME: &'static str = "Tile";
    const SINCE: u32 = 1;
    const INPUTS: Arity = Arity::Exactly(1);

    fn parse(node: &Node, _: &Assets) -> Result<Tile> {
        let multiples = node.attr_ints("multiples")?;
        let multiples = multiples
            .iter()
            .map(|&m| usize::try_from(m))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| node.error(format!("multiples {multiples:?} must be >= 0")))?;
        Ok(Tile { multiples })
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        let ints = self.multiples.iter().map(|&m| i64::try_from(m).unwrap_or(i64::MAX)).collect();
        vec![("multiples", Attr::Ints(ints))]
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        let x = &inputs[0];
        if self.multiples.len() != x.dims().len() {
            return Err(OpError::shape(format!(
                "{} multiples for an input of rank {}",
                self.multiples.len(),
                x.dims().len()
            )));
        }
        let dims = x.dims().iter().zip(&self.multiples).map(|(d, &m)| d.and_then(|d| d.checked_mul(m)));
        Ok(TensorType::new(x.dtype, dims.collect()))
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        tile(inputs[0], &self.multiples, out)
    }

    #[cfg(feature = "grad")]
    fn grad(&self, x: &[&Tensor], _y: &Tensor, g: &Tensor) -> crate::ops::grad::Grads {
        Ok(vec![Some(crate::ops::grad::untile(x[0].shape(), &self.multiples, g)?)])
    }
}

/// `x` tiled by `multiples` into `out`: the kernel of `Tile` and `TileBy`.
///
/// # Errors
/// [`OpError::Shape`] for a multiple count other than `x`'s rank, or
/// [`OpError::TooLarge`] for an output past the limit.
pub(super) fn tile(x: &Tensor, multiples: &[usize], out: &mut Tensor) -> Result<(), OpError> {
    if multiples.len() != x.shape().len() {
        return Err(OpError::shape(format!("{} multiples for a tensor of shape {:?}", multiples.len(), x.shape())));
    }
    let shape: Vec<usize> = x
        .shape()
        .iter()
        .zip(multiples)
        .map(|(d, m)| d.checked_mul(*m))
        .collect::<Option<_>>()
        .ok_or_else(|| OpError::shape(format!("tiling {:?} by {multiples:?} overflows", x.shape())))?;
    let len = checked_len(&shape)?;
    any_dtype!(x.dtype(), T => {
        let dst = out.output_vec::<T>(&shape);
        // An empty output has nothing to copy (and its dims past a 0 may
        // multiply past usize); otherwise every dim is at least 1.
        if len > 0 {
            tile_into(slice::<T>(x)?, x.shape(), multiples, dst);
        }
        Ok(())
    })
}

/// Appends `src` (of `shape`) tiled by `multiples` (one per dim) to `dst`,
/// row-major.
fn tile_into<T: Clone>(src: &[T], shape: &[usize], multiples: &[usize], dst: &mut Vec<T>) {
    let (Some((&rows, inner_shape)), Some((&m, inner_multiples))) = (shape.split_first(), multiples.split_first())
    else {
        dst.extend_from_slice(src);
        return;
    };
    let inner: usize = inner_shape.iter().product();
    let start = dst.len();
    for row in src.chunks_exact(inner.max(1)).take(rows) {
        tile_into(row, inner_shape, inner_multiples, dst);
    }
    let block = dst.len() - start;
    match m {
        0 => dst.truncate(start),
        m => (1..m).for_each(|_| dst.extend_from_within(start..start + block)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn repeats_along_each_dim() {
        let x = Tensor::from(array![[1i64, 2]]);
        let y = Tile { multiples: vec![2, 2] }.run(&[&x]).unwrap();
        assert_eq!(y, Tensor::from(array![[1i64, 2, 1, 2], [1, 2, 1, 2]]));
        let empty = Tile { multiples: vec![0, 3] }.run(&[&x]).unwrap();
        assert_eq!(empty.shape(), &[0, 6]);
    }

    #[test]
    fn attributes_round_trip() {
        let t = Tile { multiples: vec![1, 0, 7] };
        let node = crate::ops::Op::from(t.clone()).to_node("t", vec!["x".into()]);
        assert_eq!(Tile::parse(&node, &Assets::new()).unwrap(), t);
    }

    #[test]
    fn bad_multiples_are_refused() {
        let node = Node::new("t", "Tile", &["x"]).with("multiples", Attr::Ints(vec![-1]));
        assert!(Tile::parse(&node, &Assets::new()).unwrap_err().to_string().contains(">= 0"));
        let x = Tensor::from(array![[1.0f32, 2.0], [3.0, 4.0]]);
        let err = Tile { multiples: vec![1 << 31, 1] }.run(&[&x]).unwrap_err();
        assert!(matches!(err, OpError::TooLarge { .. }), "{err}");
        assert!(Tile { multiples: vec![2] }.run(&[&x]).is_err());
    }
}

#[cfg(all(test, feature = "grad"))]
mod grad_tests {
    use super::*;
    use crate::ops::grad::{check_gradient, sample};
    use ndarray::array;

    #[test]
    fn sums_the_copies() {
        let x = Tensor::from(array![[1.0f32, 2.0]]);
        let g = Tensor::from(array![[1.0f32, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]);
        let d = Tile { multiples: vec![2, 2] }.grad(&[&x], &g, &g).unwrap();
        assert_eq!(d, vec![Some(Tensor::from(array![[1.0f32 + 3.0 + 5.0 + 7.0, 2.0 + 4.0 + 6.0 + 8.0]]))]);
    }

    #[test]
    fn agrees_with_finite_differences() {
        check_gradient(&Tile { multiples: vec![2, 1, 3] }, &[sample(&[2, 3, 2], 0)]);
    }
}
