//! `Concat`.

use crate::graph::{Attr, Node};
use crate::ops::kernel::{any_dtype, slice};
use crate::ops::rule::unify;
use crate::ops::{Arity, OpDef, OpError, TensorType, normalize_axis};
use crate::{Assets, Result, Tensor};

/// The inputs `x0, x1, ...` (at least one, of one dtype, any, and one rank)
/// joined along `axis`: the output's `axis` dim is the sum of the inputs',
/// every other dim must be equal across them. TensorFlow's `ConcatV2` (the
/// name op sets 1 and 2 used; it still reads as `Concat`).
///
/// Attribute: `axis` (an int in `[-rank, rank)`).
///
/// Gradient: to each input, its own part of `g` along `axis`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Concat {
    /// The axis the inputs are joined along.
    pub axis: i64,
}

impl OpDef for Concat {
    const NAME: &'static str = "Concat";
    const SINCE: u32 = 3;
    const INPUTS: Arity = Arity::AtLeast(1);

    fn parse(node: &Node, _: &Assets) -> Result<Concat> {
        Ok(Concat { axis: node.attr_int("axis")? })
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        vec![("axis", Attr::Int(self.axis))]
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        let first = &inputs[0];
        let rank = first.dims().len();
        let axis = normalize_axis(self.axis, rank)?;
        let mut out = first.dims().to_vec();
        for (i, input) in inputs.iter().enumerate().skip(1) {
            if input.dtype != first.dtype {
                return Err(OpError::DtypeMismatch { input: i, got: input.dtype, other: 0, expected: first.dtype });
            }
            if input.dims().len() != rank {
                return Err(OpError::shape(format!(
                    "input {i} has rank {}, input 0 has rank {rank}",
                    input.dims().len()
                )));
            }
            for (d, (a, &b)) in out.iter_mut().zip(input.dims()).enumerate() {
                *a = if d == axis {
                    a.zip(b).and_then(|(a, b)| a.checked_add(b))
                } else {
                    unify(*a, b).ok_or_else(|| {
                        OpError::shape(format!("input {i} has {} where input 0 has {}", input.shape, first.shape))
                    })?
                };
            }
        }
        Ok(TensorType::new(first.dtype, out))
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        let (axis, shape) = self.joined_shape(inputs.iter().map(|t| t.shape()))?;
        any_dtype!(inputs[0].dtype(), T => {
            if shape.contains(&0) {
                // Nothing to copy (and the dims next to a 0 may multiply past usize).
                out.output_vec::<T>(&shape);
                return Ok(());
            }
            let outer: usize = shape[..axis].iter().product();
            let parts = inputs
                .iter()
                .map(|t| Ok((slice::<T>(t)?, t.shape()[axis..].iter().product())))
                .collect::<Result<Vec<(&[T], usize)>, OpError>>()?;
            crate::ops::kernel::checked_len(&shape)?;
            let dst = out.output_vec::<T>(&shape);
            for o in 0..outer {
                for &(src, chunk) in &parts {
                    dst.extend_from_slice(&src[o * chunk..(o + 1) * chunk]);
                }
            }
            Ok(())
        })
    }

    #[cfg(feature = "grad")]
    fn grad(&self, x: &[&Tensor], _y: &Tensor, g: &Tensor) -> crate::ops::grad::Grads {
        let (axis, shape) = self.joined_shape(x.iter().map(|t| t.shape()))?;
        crate::ops::grad::expect_output_shape(g, &shape)?;
        if shape.contains(&0) {
            return x.iter().map(|xi| Ok(Some(crate::ops::grad::zeros(xi.shape())?))).collect();
        }
        let outer: usize = shape[..axis].iter().product();
        let row: usize = shape[axis..].iter().product();
        let gs = slice::<f32>(g)?;
        let mut start = 0;
        let mut grads = Vec::with_capacity(x.len());
        for xi in x {
            let chunk: usize = xi.shape()[axis..].iter().product();
            let part = (0..outer).flat_map(|o| &gs[o * row + start..o * row + start + chunk]).copied().collect();
            grads.push(Some(crate::ops::kernel::tensor(xi.shape(), part)?));
            start += chunk;
        }
        Ok(grads)
    }
}

impl Concat {
    /// The normalised axis and the joined shape of inputs of `shapes`.
    ///
    /// # Errors
    /// [`OpError`] for an axis out of range, or inputs whose shapes cannot join.
    fn joined_shape<'a>(&self, mut shapes: impl Iterator<Item = &'a [usize]>) -> Result<(usize, Vec<usize>), OpError> {
        let first = shapes.next().ok_or(OpError::Arity { expected: Concat::INPUTS, got: 0 })?;
        let axis = normalize_axis(self.axis, first.len())?;
        let mut shape = first.to_vec();
        for (i, s) in shapes.enumerate() {
            let i = i + 1;
            if s.len() != first.len() || s.iter().zip(first).enumerate().any(|(d, (a, b))| d != axis && a != b) {
                return Err(OpError::shape(format!("input {i} has shape {s:?}, input 0 has {first:?} (axis {axis})")));
            }
            shape[axis] = shape[axis]
                .checked_add(s[axis])
                .ok_or_else(|| OpError::shape(format!("joining input {i} of shape {s:?} overflows")))?;
        }
        Ok((axis, shape))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DataType;
    use ndarray::array;

    #[test]
    fn joins_along_the_axis() {
        let x = Tensor::from(array![[1.0f32], [2.0]]);
        let y = Tensor::from(array![[3.0f32, 4.0], [5.0, 6.0]]);
        let out = Concat { axis: -1 }.run(&[&x, &y]).unwrap();
        assert_eq!(out, Tensor::from(array![[1.0f32, 3.0, 4.0], [2.0, 5.0, 6.0]]));
        let ty = Concat { axis: 1 }.infer(&[
            TensorType::new(DataType::F32, vec![None, Some(1)]),
            TensorType::new(DataType::F32, vec![Some(2), Some(2)]),
        ]);
        assert_eq!(ty.unwrap(), TensorType::new(DataType::F32, vec![Some(2), Some(3)]));
    }

    #[test]
    fn attributes_round_trip() {
        let c = Concat { axis: -2 };
        let node = crate::ops::Op::from(c).to_node("c", vec!["a".into(), "b".into()]);
        assert_eq!(Concat::parse(&node, &Assets::new()).unwrap(), c);
    }

    #[test]
    fn other_dims_must_agree() {
        let x = Tensor::from(array![[1.0f32], [2.0]]);
        let y = Tensor::from(array![[3.0f32, 4.0], [5.0, 6.0]]);
        assert!(Concat { axis: 0 }.run(&[&x, &y]).is_err());
        let mixed = Concat { axis: 0 }
            .infer(&[TensorType::new(DataType::F32, vec![Some(1)]), TensorType::new(DataType::I64, vec![Some(1)])]);
        assert!(matches!(mixed, Err(OpError::DtypeMismatch { input: 1, .. })), "{mixed:?}");
    }
}

#[cfg(all(test, feature = "grad"))]
mod grad_tests {
    use super::*;
    use crate::ops::grad::{check_gradient, sample};
    use ndarray::array;

    #[test]
    fn splits_the_gradient() {
        let x = Tensor::from(array![[1.0f32], [2.0]]);
        let y = Tensor::from(array![[3.0f32, 4.0], [5.0, 6.0]]);
        let g = Tensor::from(array![[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]]);
        let d = Concat { axis: 1 }.grad(&[&x, &y], &g, &g).unwrap();
        let want = [Tensor::from(array![[1.0f32], [4.0]]), Tensor::from(array![[2.0f32, 3.0], [5.0, 6.0]])];
        assert_eq!(d, want.map(Some).to_vec());
    }

    #[test]
    fn agrees_with_finite_differences() {
        let inputs = [sample(&[2, 1, 3], 0), sample(&[2, 4, 3], 1), sample(&[2, 2, 3], 2)];
        check_gradient(&Concat { axis: -2 }, &inputs);
    }
}
