//! `StridedSlice`.

use super::SliceSpec;
#[cfg(feature = "grad")]
use super::slice_offsets;
use super::slicing::take_slice;
use crate::graph::{Attr, Node};
use crate::ops::kernel::any_dtype;
#[cfg(feature = "grad")]
use crate::ops::kernel::slice;
use crate::ops::{Arity, MAX_ELEMENTS, OpDef, OpError, TensorType};
use crate::{Assets, Result, Tensor};

/// Python's `x[b0:e0:s0, b1:e1:s1, ...]` of `x` (any dtype), with
/// TensorFlow's masks: TensorFlow's `StridedSlice` without the ellipsis and
/// new-axis masks.
///
/// Attributes (see [`SliceSpec`]): `begin`, `end`, `strides` (ints, one per
/// sliced dim; later dims are taken whole; negative bounds count from the
/// end and are clamped to the dim; a stride is non-zero, negative walks
/// backwards), `begin_mask`, `end_mask`, `shrink_axis_mask` (ints,
/// optional, 0 when absent): bit `d` of `begin_mask` / `end_mask` ignores
/// `begin[d]` / `end[d]` (the slice runs from the start / to the end, in
/// the stride's direction); bit `d` of `shrink_axis_mask` takes index
/// `begin[d]` alone (which must be in range) and drops dim `d`.
///
/// Gradient: `g` scattered back to where each element was taken from
/// (zeros elsewhere).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StridedSlice {
    /// The slice.
    pub spec: SliceSpec,
}

impl OpDef for StridedSlice {
    const NAME: &'static str = "StridedSlice";
    const SINCE: u32 = 1;
    const INPUTS: Arity = Arity::Exactly(1);

    fn parse(node: &Node, _: &Assets) -> Result<StridedSlice> {
        let mask = |key: &str| if node.attrs.contains_key(key) { node.attr_int(key) } else { Ok(0) };
        let spec = SliceSpec {
            begin: node.attr_ints("begin")?.to_vec(),
            end: node.attr_ints("end")?.to_vec(),
            strides: node.attr_ints("strides")?.to_vec(),
            begin_mask: mask("begin_mask")?,
            end_mask: mask("end_mask")?,
            shrink_axis_mask: mask("shrink_axis_mask")?,
        };
        Ok(StridedSlice { spec })
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        let s = &self.spec;
        vec![
            ("begin", Attr::Ints(s.begin.clone())),
            ("end", Attr::Ints(s.end.clone())),
            ("strides", Attr::Ints(s.strides.clone())),
            ("begin_mask", Attr::Int(s.begin_mask)),
            ("end_mask", Attr::Int(s.end_mask)),
            ("shrink_axis_mask", Attr::Int(s.shrink_axis_mask)),
        ]
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        // An unknown dim is resolved as the largest a tensor may have, so
        // that only indices no run-time size could hold are refused, and
        // its slice is reported unknown.
        let d = inputs[0].dims();
        let probe: Vec<usize> = d.iter().map(|d| d.unwrap_or(MAX_ELEMENTS)).collect();
        let slices = self.spec.resolve(&probe)?;
        let dims = slices.iter().zip(d).filter(|(s, _)| !s.dropped).map(|(s, dim)| dim.map(|_| s.len)).collect();
        Ok(TensorType::new(inputs[0].dtype, dims))
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        let x = inputs[0];
        let dims = self.spec.resolve(x.shape())?;
        let shape: Vec<usize> = dims.iter().filter(|d| !d.dropped).map(|d| d.len).collect();
        any_dtype!(x.dtype(), T => take_slice::<T>(x, &dims, &shape, out))
    }

    #[cfg(feature = "grad")]
    fn grad(&self, x: &[&Tensor], _y: &Tensor, g: &Tensor) -> crate::ops::grad::Grads {
        let shape = x[0].shape();
        let dims = self.spec.resolve(shape)?;
        let mut d = vec![0.0f32; x[0].len()];
        for (o, gv) in slice_offsets(shape, &dims).into_iter().zip(slice::<f32>(g)?) {
            d[o] += gv;
        }
        Ok(vec![Some(crate::ops::kernel::tensor(shape, d)?)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DataType;

    fn slice(begin: &[i64], end: &[i64], strides: &[i64], masks: [i64; 3]) -> StridedSlice {
        StridedSlice {
            spec: SliceSpec {
                begin: begin.to_vec(),
                end: end.to_vec(),
                strides: strides.to_vec(),
                begin_mask: masks[0],
                end_mask: masks[1],
                shrink_axis_mask: masks[2],
            },
        }
    }

    fn matrix() -> Tensor {
        Tensor::from(ndarray::Array2::from_shape_fn((3, 4), |(i, j)| (i * 10 + j) as f32))
    }

    fn values(t: Tensor) -> Vec<f32> {
        t.as_slice::<f32>().unwrap().to_vec()
    }

    #[test]
    fn follows_python_and_tensorflow_masks() {
        // x[:, :1], x[1], x[::-1, -1], x[0:3:2, 1:100:2]
        let first_column = slice(&[0, 0], &[0, 1], &[1, 1], [3, 1, 0]).run(&[&matrix()]).unwrap();
        assert_eq!((first_column.shape().to_vec(), values(first_column)), (vec![3, 1], vec![0., 10., 20.]));
        assert_eq!(values(slice(&[1], &[2], &[1], [0, 0, 1]).run(&[&matrix()]).unwrap()), [10., 11., 12., 13.]);
        assert_eq!(values(slice(&[0, -1], &[0, 0], &[-1, 1], [1, 1, 2]).run(&[&matrix()]).unwrap()), [23., 13., 3.]);
        assert_eq!(
            values(slice(&[0, 1], &[3, 100], &[2, 2], [0, 0, 0]).run(&[&matrix()]).unwrap()),
            [1., 3., 21., 23.]
        );
    }

    #[test]
    fn an_unknown_dim_may_be_indexed() {
        // x[0] and x[-1] of a batch of unknown size: valid for any batch.
        let ty = TensorType::new(DataType::F32, vec![None, Some(4)]);
        for begin in [0, -1] {
            let out = slice(&[begin], &[begin + 1], &[1], [0, 0, 1]).infer(std::slice::from_ref(&ty)).unwrap();
            assert_eq!(out, TensorType::new(DataType::F32, vec![Some(4)]));
        }
        let out = slice(&[1], &[3], &[1], [0, 0, 0]).infer(&[ty]).unwrap();
        assert_eq!(out, TensorType::new(DataType::F32, vec![None, Some(4)]));
    }

    #[test]
    fn attributes_round_trip() {
        let s = slice(&[0, -1], &[0, 0], &[-1, 1], [1, 1, 2]);
        let node = crate::ops::Op::from(s.clone()).to_node("s", vec!["x".into()]);
        assert_eq!(StridedSlice::parse(&node, &Assets::new()).unwrap(), s);
    }

    #[test]
    fn bad_slices_are_refused() {
        let err = slice(&[5], &[6], &[1], [0, 0, 1]).run(&[&matrix()]).unwrap_err();
        assert!(err.to_string().contains("out of range"), "{err}");
        let err = slice(&[0], &[1], &[0], [0, 0, 0]).run(&[&matrix()]).unwrap_err();
        assert!(err.to_string().contains("stride 0"), "{err}");
    }
}

#[cfg(all(test, feature = "grad"))]
mod grad_tests {
    use super::*;
    use crate::ops::grad::{check_gradient, sample};
    use ndarray::array;

    #[test]
    fn scatters_the_gradient_back() {
        // x[::2] of [a, b, c]: the gradient reaches a and c.
        let s =
            StridedSlice { spec: SliceSpec { begin: vec![0], end: vec![3], strides: vec![2], ..SliceSpec::default() } };
        let x = Tensor::from(array![1.0f32, 2.0, 3.0]);
        let g = Tensor::from(array![10.0f32, 20.0]);
        assert_eq!(s.grad(&[&x], &g, &g).unwrap(), vec![Some(Tensor::from(array![10.0f32, 0.0, 20.0]))]);
    }

    #[test]
    fn agrees_with_finite_differences() {
        // x[::-2, 1] of a 5 x 3 matrix.
        let spec = SliceSpec {
            begin: vec![0, 1],
            end: vec![0, 2],
            strides: vec![-2, 1],
            begin_mask: 1,
            end_mask: 1,
            shrink_axis_mask: 2,
        };
        check_gradient(&StridedSlice { spec }, &[sample(&[5, 3], 0)]);
    }
}
