//! `Range`.

use crate::graph::{Attr, Node};
use crate::ops::kernel::{Num, numeric, slice};
use crate::ops::rule::same_dtype;
use crate::ops::{Arity, MAX_ELEMENTS, OpDef, OpError, TensorType};
use crate::{Assets, Result, Tensor};

/// The sequence `start, start + delta, start + 2 * delta, ...` up to
/// `limit` (excluded): TensorFlow's `Range` (`tf.range`) with bounds known
/// only at run time (a sequence length, a batch size).
///
/// Inputs: `start`, `limit`, `delta`: scalars (shape `[]` or `[1]`) of one
/// numeric dtype (f32, i64, i32). The output is the vector `[n]` of that
/// dtype, `n = ceil(|limit - start| / |delta|)` (0 when `start == limit`),
/// its elements accumulated as TensorFlow does (`v = start`, then `v +=
/// delta` for each next one). A `delta` of 0, a `delta` whose sign leads
/// away from `limit` (`start > limit` with `delta > 0`, or `start < limit`
/// with `delta < 0`), a bound that is not finite and an `n` past
/// [`MAX_ELEMENTS`] are errors, as in TensorFlow.
///
/// Gradient: none (the bounds of a range have none in TensorFlow either).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Range;

impl OpDef for Range {
    const NAME: &'static str = "Range";
    const SINCE: u32 = 5;
    const INPUTS: Arity = Arity::Exactly(3);
    const SHAPE_FROM_VALUES: bool = true;

    fn parse(_: &Node, _: &Assets) -> Result<Range> {
        Ok(Range)
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        Vec::new()
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        if !inputs[0].dtype.is_numeric() {
            return Err(OpError::Dtype { input: 0, expected: "a numeric dtype", got: inputs[0].dtype });
        }
        for i in 0..3 {
            same_dtype(inputs, i, 0)?;
            if !matches!(inputs[i].dims(), [] | [Some(1)] | [None]) {
                return Err(OpError::shape(format!(
                    "{} (input {i}) has shape {}, expected a scalar",
                    BOUNDS[i], inputs[i].shape
                )));
            }
        }
        Ok(TensorType::new(inputs[0].dtype, vec![None]))
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        let dtype = inputs[0].dtype();
        for (i, x) in inputs.iter().enumerate().skip(1) {
            if x.dtype() != dtype {
                return Err(OpError::DtypeMismatch { input: i, got: x.dtype(), other: 0, expected: dtype });
            }
        }
        numeric!(dtype, T => range::<T>(inputs, out))
    }

    #[cfg(feature = "grad")]
    fn grad(&self, _: &[&Tensor], _: &Tensor, _: &Tensor) -> crate::ops::grad::Grads {
        Ok(vec![None, None, None])
    }
}

/// The inputs' names, in order.
const BOUNDS: [&str; 3] = ["start", "limit", "delta"];

/// The value of bound `i`, a scalar of `T`.
fn bound<T: Num>(inputs: &[&Tensor], i: usize) -> Result<T, OpError> {
    match slice::<T>(inputs[i])? {
        &[v] if inputs[i].shape().len() <= 1 => Ok(v),
        _ => Err(OpError::shape(format!(
            "{} (input {i}) has shape {:?}, expected a scalar",
            BOUNDS[i],
            inputs[i].shape()
        ))),
    }
}

/// How many elements `range(start, limit, delta)` has.
///
/// # Errors
/// [`OpError::Invalid`] for a zero delta, one leading away from the limit or
/// bounds that are not finite; [`OpError::TooLarge`] past [`MAX_ELEMENTS`].
pub(crate) fn range_len<T: Num>(start: T, limit: T, delta: T) -> Result<usize, OpError> {
    let refuse = |reason: &str| OpError::Invalid {
        what: "range",
        reason: format!("range({}, {}, {}): {reason}", start.to_f64(), limit.to_f64(), delta.to_f64()),
    };
    if delta == T::ZERO {
        return Err(refuse("delta must not be 0"));
    }
    let (s, l, d) = (start.to_f64(), limit.to_f64(), delta.to_f64());
    if !(s.is_finite() && l.is_finite() && d.is_finite()) {
        return Err(refuse("its bounds must be finite"));
    }
    if (d > 0.0 && start > limit) || (d < 0.0 && start < limit) {
        return Err(refuse("delta leads away from limit"));
    }
    let n = if T::IS_FLOAT {
        ((l - s) / d).abs().ceil()
    } else {
        // Exact in i128: |limit - start| and |delta| fit.
        let (span, step) =
            ((i128::from(limit.to_i64()) - i128::from(start.to_i64())).abs(), i128::from(delta.to_i64()).abs());
        ((span + step - 1) / step) as f64
    };
    if n > MAX_ELEMENTS as f64 {
        return Err(OpError::TooLarge { shape: vec![n.min(usize::MAX as f64) as usize], limit: MAX_ELEMENTS });
    }
    Ok(n as usize)
}

/// The kernel for bounds of `T`.
fn range<T: Num>(inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
    let (start, limit, delta) = (bound::<T>(inputs, 0)?, bound::<T>(inputs, 1)?, bound::<T>(inputs, 2)?);
    let n = range_len(start, limit, delta)?;
    let dst = out.output_vec::<T>(&[n]);
    let mut v = start;
    for _ in 0..n {
        dst.push(v);
        v = Num::add(v, delta);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DataType;
    use crate::ops::Op;
    use ndarray::array;

    fn run<T: crate::tensor::Element + Copy>(start: T, limit: T, delta: T) -> Result<Tensor, OpError> {
        let [s, l, d] = [start, limit, delta].map(Tensor::scalar);
        Range.run(&[&s, &l, &d])
    }

    #[test]
    fn counts_from_start_to_limit() {
        assert_eq!(run(0i32, 5, 1).unwrap(), Tensor::from(array![0i32, 1, 2, 3, 4]));
        assert_eq!(run(2i64, 9, 3).unwrap(), Tensor::from(array![2i64, 5, 8]));
        assert_eq!(run(5i32, -1, -2).unwrap(), Tensor::from(array![5i32, 3, 1]));
        assert_eq!(run(0.0f32, 1.0, 0.25).unwrap(), Tensor::from(array![0.0f32, 0.25, 0.5, 0.75]));
        assert_eq!(run(3i64, 3, 1).unwrap().shape(), &[0]);
        // Bounds of shape [1] are scalars too.
        let one = |v: i32| Tensor::from(array![v]);
        assert_eq!(Range.run(&[&one(1), &one(3), &one(1)]).unwrap(), Tensor::from(array![1i32, 2]));
    }

    #[test]
    fn bad_bounds_are_refused() {
        let err = run(0i32, 5, 0).unwrap_err().to_string();
        assert!(err.contains("delta must not be 0"), "{err}");
        let err = run(5i64, 0, 1).unwrap_err().to_string();
        assert!(err.contains("range(5, 0, 1): delta leads away from limit"), "{err}");
        let err = run(0.0f32, f32::INFINITY, 1.0).unwrap_err().to_string();
        assert!(err.contains("finite"), "{err}");
        let err = run(0.0f32, 1.0, f32::NAN).unwrap_err().to_string();
        assert!(err.contains("finite"), "{err}");
        // A hostile span is refused before anything is allocated, without overflow.
        assert!(matches!(run(i64::MIN, i64::MAX, 1), Err(OpError::TooLarge { .. })));
        assert!(matches!(run(0i64, 1 << 40, 1), Err(OpError::TooLarge { .. })));
        let (s, l, d) = (Tensor::scalar(0i32), Tensor::scalar(3i64), Tensor::scalar(1i32));
        assert!(matches!(Range.run(&[&s, &l, &d]), Err(OpError::DtypeMismatch { input: 1, .. })));
        let v = Tensor::from(array![1i32, 2]);
        assert!(matches!(Range.run(&[&s, &v, &d]), Err(OpError::Shape(_))));
    }

    #[test]
    fn the_output_is_a_vector_of_the_bounds_dtype() {
        let ty = |dtype, dims: Vec<Option<usize>>| TensorType::new(dtype, dims);
        let scalars = [ty(DataType::I32, vec![]), ty(DataType::I32, vec![Some(1)]), ty(DataType::I32, vec![])];
        assert_eq!(Range.infer(&scalars).unwrap(), ty(DataType::I32, vec![None]));
        let mixed = [ty(DataType::I32, vec![]), ty(DataType::F32, vec![]), ty(DataType::I32, vec![])];
        assert!(matches!(Range.infer(&mixed), Err(OpError::DtypeMismatch { input: 1, .. })));
        let words = [ty(DataType::String, vec![]), ty(DataType::String, vec![]), ty(DataType::String, vec![])];
        assert!(matches!(Range.infer(&words), Err(OpError::Dtype { input: 0, .. })));
        let vector = [ty(DataType::I64, vec![]), ty(DataType::I64, vec![Some(2)]), ty(DataType::I64, vec![])];
        assert!(Range.infer(&vector).unwrap_err().to_string().contains("limit (input 1)"));
    }

    #[test]
    fn attributes_round_trip() {
        let node = Op::from(Range).to_node("r", vec!["s".into(), "l".into(), "d".into()]);
        assert_eq!(Range::parse(&node, &Assets::new()).unwrap(), Range);
    }

    #[cfg(feature = "grad")]
    #[test]
    fn a_range_has_no_gradient() {
        let (s, l, d) = (Tensor::scalar(0.0f32), Tensor::scalar(2.0f32), Tensor::scalar(0.5f32));
        let y = Range.run(&[&s, &l, &d]).unwrap();
        assert_eq!(Range.grad(&[&s, &l, &d], &y, &y).unwrap(), vec![None, None, None]);
    }
}
