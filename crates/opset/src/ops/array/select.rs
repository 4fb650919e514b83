//! `Select`.

use crate::graph::{Attr, Node};
use crate::ops::kernel::{any_dtype, broadcast_shape, for_each_broadcast_row, slice};
use crate::ops::rule::{self, broadcast_types, expect_dtype};
use crate::ops::{Arity, OpDef, OpError, TensorType};
use crate::tensor::Element;
use crate::{Assets, DataType, Result, Tensor};

/// `cond ? a : b` elementwise, `cond` (bool), `a` and `b` (one dtype, any)
/// broadcasting together (NumPy rules). TensorFlow's `SelectV2`.
///
/// Inputs: `cond`, `a`, `b`.
///
/// Gradient: to `a`, `g` where `cond` holds (0 elsewhere), to `b` the rest,
/// each summed over the dims it was broadcast along; none to `cond`, and
/// none at all when `a` and `b` are not f32.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Select;

impl OpDef for Select {
    const NAME: &'static str = "Select";
    const SINCE: u32 = 2;
    const INPUTS: Arity = Arity::Exactly(3);

    fn parse(_: &Node, _: &Assets) -> Result<Select> {
        Ok(Select)
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        Vec::new()
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        expect_dtype(inputs, 0, DataType::Bool)?;
        rule::same_dtype(inputs, 2, 1)?;
        Ok(TensorType::new(inputs[1].dtype, broadcast_types(inputs)?))
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        let (cond, a, b) = (inputs[0], inputs[1], inputs[2]);
        any_dtype!(a.dtype(), T => select::<T>(cond, a, b, out))
    }

    #[cfg(feature = "grad")]
    fn grad(&self, x: &[&Tensor], _y: &Tensor, g: &Tensor) -> crate::ops::grad::Grads {
        use crate::ops::grad::unbroadcast;
        if x[1].dtype() != DataType::F32 {
            return Ok(vec![None, None, None]);
        }
        // The gradient goes to the input each element was taken from.
        let zero = Tensor::scalar(0.0f32);
        let da = Select.run(&[x[0], g, &zero])?;
        let db = Select.run(&[x[0], &zero, g])?;
        Ok(vec![None, Some(unbroadcast(da, x[1].shape())?), Some(unbroadcast(db, x[2].shape())?)])
    }
}

/// `cond ? a : b` elementwise, the three broadcast together, into `out`.
fn select<T: Element>(cond: &Tensor, a: &Tensor, b: &Tensor, out: &mut Tensor) -> Result<(), OpError> {
    let (cv, av, bv) = (slice::<bool>(cond)?, slice::<T>(a)?, slice::<T>(b)?);
    let shape = broadcast_shape(&broadcast_shape(cond.shape(), a.shape())?, b.shape())?;
    let pick = |(&c, (x, y)): (&bool, (&T, &T))| if c { x.clone() } else { y.clone() };
    crate::ops::kernel::checked_len(&shape)?;
    let dst = out.output_vec::<T>(&shape);
    if cond.shape() == a.shape() && a.shape() == b.shape() {
        dst.extend(cv.iter().zip(av.iter().zip(bv)).map(pick));
    } else {
        for_each_broadcast_row(&shape, [cond.shape(), a.shape(), b.shape()], |[oc, oa, ob], [sc, sa, sb], n| {
            dst.extend((0..n).map(|j| pick((&cv[oc + j * sc], (&av[oa + j * sa], &bv[ob + j * sb])))));
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn broadcasts_all_three() {
        let cond = Tensor::from(array![true, false, true]);
        let out = Select.run(&[&cond, &Tensor::from(array![[1.0f32], [2.0]]), &Tensor::scalar(-1.0f32)]).unwrap();
        assert_eq!(out, Tensor::from(array![[1.0f32, -1.0, 1.0], [2.0, -1.0, 2.0]]));
        let words = |w: [&str; 3]| Tensor::from(ndarray::Array1::from(w.map(str::to_owned).to_vec()));
        let picked = Select.run(&[&cond, &words(["a", "b", "c"]), &words(["x", "y", "z"])]).unwrap();
        assert_eq!(picked, words(["a", "y", "c"]));
    }

    #[test]
    fn shapes_and_dtypes_must_agree() {
        let cond = Tensor::from(array![true, false, true]);
        let err = Select.run(&[&cond, &Tensor::from(array![1.0f32, 2.0]), &Tensor::scalar(0.0f32)]).unwrap_err();
        assert!(err.to_string().contains("broadcast"), "{err}");
        let ty = |dtype| TensorType::new(dtype, vec![Some(3)]);
        let err = Select.infer(&[ty(DataType::Bool), ty(DataType::F32), ty(DataType::I64)]).unwrap_err();
        assert!(matches!(err, OpError::DtypeMismatch { input: 2, other: 1, .. }), "{err}");
        assert!(Select.infer(&[ty(DataType::I64), ty(DataType::F32), ty(DataType::F32)]).is_err());
    }
}

#[cfg(all(test, feature = "grad"))]
mod grad_tests {
    use super::*;
    use crate::ops::grad::{check_gradient, sample};
    use ndarray::array;

    #[test]
    fn routes_the_gradient_to_the_input_taken() {
        let cond = Tensor::from(array![[true, false], [false, false]]);
        let (a, b) = (Tensor::from(array![1.0f32, 2.0]), Tensor::scalar(0.0f32));
        let g = Tensor::from(array![[1.0f32, 2.0], [3.0, 4.0]]);
        let d = Select.grad(&[&cond, &a, &b], &g, &g).unwrap();
        assert_eq!(d, vec![None, Some(Tensor::from(array![1.0f32, 0.0])), Some(Tensor::scalar(9.0f32))]);
    }

    #[test]
    fn agrees_with_finite_differences() {
        let cond = Tensor::from(array![[true, false, true], [false, false, true]]);
        check_gradient(&Select, &[cond, sample(&[3], 0), sample(&[2, 1], 1)]);
    }
}
