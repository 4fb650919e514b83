//! What the reductions (`ReduceSum`, `ReduceMean`, `ReduceMax`,
//! `ReduceMin`, `ReduceProd`) share: their attributes, output rule, kernel and gradient,
//! each op file naming only its [`Reduction`] (`reduction_op!`).

use crate::graph::{Attr, Node};
use crate::ops::OpError;
use crate::ops::kernel::{Num, numeric, slice};
use crate::ops::rule::{self, TensorType};
use crate::{Result, Tensor};

/// Which reduction an op computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reduction {
    /// Sum of the elements.
    Sum,
    /// Arithmetic mean of the elements (integers truncate).
    Mean,
    /// The largest element (NaN if any is).
    Max,
    /// The smallest element (NaN if any is).
    Min,
    /// The product of the elements (integers wrap around).
    Prod,
}

/// Reads `axes` (ints; empty: all) and the optional `keep_dims` flag.
///
/// # Errors
/// [`crate::Error::Node`] for a missing or ill-typed attribute.
pub(crate) fn parse(node: &Node) -> Result<(Vec<i64>, bool)> {
    Ok((node.attr_ints("axes")?.to_vec(), node.attr_flag("keep_dims")?))
}

/// The attributes [`parse`] reads back.
pub(crate) fn attrs(axes: &[i64], keep_dims: bool) -> Vec<(&'static str, Attr)> {
    vec![("axes", Attr::Ints(axes.to_vec())), ("keep_dims", Attr::Bool(keep_dims))]
}

/// The output rule: a numeric input, without the reduced dims (or with
/// them as 1 when `keep_dims`).
///
/// # Errors
/// [`OpError::Dtype`], or [`OpError::Axis`] for an axis out of range.
pub(crate) fn infer(inputs: &[TensorType], axes: &[i64], keep_dims: bool) -> Result<TensorType, OpError> {
    rule::numeric(inputs, 0)?;
    let dims = inputs[0].dims();
    let axes = rule::reduce_axes(axes, dims.len())?;
    let out = dims
        .iter()
        .enumerate()
        .filter_map(|(i, &n)| match (axes.contains(&i), keep_dims) {
            (true, true) => Some(Some(1)),
            (true, false) => None,
            (false, _) => Some(n),
        })
        .collect();
    Ok(TensorType::new(inputs[0].dtype, out))
}

/// The kernel on a numeric tensor of any dtype.
///
/// # Errors
/// As [`reduce`].
pub(crate) fn eval(
    kind: Reduction,
    x: &Tensor,
    axes: &[i64],
    keep_dims: bool,
    out: &mut Tensor,
) -> Result<(), OpError> {
    numeric!(x.dtype(), T => reduce::<T>(kind, x, axes, keep_dims, out))
}

/// The reduction of `x` over `axes` (empty: all) into `out`; max and min of
/// an empty axis are the dtype's lowest and highest value.
///
/// # Errors
/// [`OpError::Axis`] for an axis out of range, [`OpError::DivisionByZero`]
/// for an integer mean over no element.
pub(crate) fn reduce<T: Num>(
    kind: Reduction,
    x: &Tensor,
    axes: &[i64],
    keep_dims: bool,
    out: &mut Tensor,
) -> Result<(), OpError> {
    let shape = x.shape();
    let axes = rule::reduce_axes(axes, shape.len())?;
    let kept = kept_shape(shape, &axes);
    // Row-major strides of the kept shape, zero along reduced axes.
    let mut strides = vec![0usize; shape.len()];
    let mut s = 1;
    for i in (0..shape.len()).rev() {
        strides[i] = if axes.contains(&i) { 0 } else { s };
        s *= kept[i];
    }
    let (start, combine): (T, fn(T, T) -> T) = match kind {
        Reduction::Sum | Reduction::Mean => (T::ZERO, |a, v| Num::add(a, v)),
        // `v != v` only for NaN: a NaN wins, as in TensorFlow.
        #[allow(clippy::eq_op)]
        Reduction::Max => (T::LOWEST, |a, v| if v > a || v != v { v } else { a }),
        #[allow(clippy::eq_op)]
        Reduction::Min => (T::HIGHEST, |a, v| if v < a || v != v { v } else { a }),
        Reduction::Prod => (T::from_i64(1), |a, v| Num::mul(a, v)),
    };
    let mut acc = vec![start; kept.iter().product()];
    let mut index = vec![0usize; shape.len()];
    let mut o = 0usize;
    for &v in slice::<T>(x)? {
        acc[o] = combine(acc[o], v);
        for d in (0..shape.len()).rev() {
            index[d] += 1;
            o += strides[d];
            if index[d] < shape[d] {
                break;
            }
            o -= strides[d] * shape[d];
            index[d] = 0;
        }
    }
    if kind == Reduction::Mean {
        let count = T::from_i64(axes.iter().map(|&a| shape[a]).product::<usize>() as i64);
        if !T::IS_FLOAT && count == T::ZERO && !acc.is_empty() {
            return Err(OpError::DivisionByZero);
        }
        acc.iter_mut().for_each(|v| *v = *v / count);
    }
    let out_shape: Vec<usize> = if keep_dims {
        kept
    } else {
        shape.iter().enumerate().filter(|(i, _)| !axes.contains(i)).map(|(_, &d)| d).collect()
    };
    out.output_vec::<T>(&out_shape).extend_from_slice(&acc);
    Ok(())
}

/// `shape` with the reduced `axes` set to 1.
fn kept_shape(shape: &[usize], axes: &[usize]) -> Vec<usize> {
    shape.iter().enumerate().map(|(i, &d)| if axes.contains(&i) { 1 } else { d }).collect()
}

/// The gradient: `g` spread back over the reduced dims; for a mean divided
/// by the count, for max and min only to the elements equal to the result.
///
/// # Errors
/// [`OpError`] if `g` or `y` does not have the output's size.
#[cfg(feature = "grad")]
pub(crate) fn grad(kind: Reduction, x: &Tensor, y: &Tensor, g: &Tensor, axes: &[i64]) -> crate::ops::grad::Grads {
    use super::{Add, Div};
    use crate::ops::OpDef;
    use crate::ops::grad::{pointwise, reshape, zeros};

    let s = x.shape();
    let axes = rule::reduce_axes(axes, s.len())?;
    let kept = kept_shape(s, &axes);
    // Broadcasting onto zeros of x's shape: the one spreading of every rule.
    let spread = |t: &Tensor| Add.run(&[&zeros(s)?, &reshape(t.clone(), &kept)?]);
    let d = match kind {
        Reduction::Sum => spread(g)?,
        Reduction::Mean => {
            let count: usize = axes.iter().map(|&a| s[a]).product();
            Div.run(&[&spread(g)?, &Tensor::scalar(count as f32)])?
        }
        Reduction::Max | Reduction::Min => {
            // To every element equal to the extreme of its group.
            pointwise(&spread(g)?, x, &spread(y)?, |g, x, extreme| if x == extreme { g } else { 0.0 })?
        }
        Reduction::Prod => {
            return Err(OpError::Invalid {
                what: "gradient",
                reason: "ReduceProd has no gradient yet (it computes shapes in the graphs that use it)".into(),
            });
        }
    };
    Ok(vec![Some(d)])
}

/// Makes a reduction struct (`axes: Vec<i64>`, `keep_dims: bool`) an op of
/// `$name` computing `$kind`, entered in op set `$since` (1 if not given).
macro_rules! reduction_op {
    ($t:ident, $name:literal, $kind:expr) => {
        $crate::ops::math::reduce::reduction_op!($t, $name, $kind, 1);
    };
    ($t:ident, $name:literal, $kind:expr, $since:literal) => {
        impl $crate::ops::OpDef for $t {
            const NAME: &'static str = $name;
            const SINCE: u32 = $since;
            const INPUTS: $crate::ops::Arity = $crate::ops::Arity::Exactly(1);

            fn parse(node: &$crate::Node, _: &$crate::Assets) -> $crate::Result<$t> {
                let (axes, keep_dims) = super::reduce::parse(node)?;
                Ok($t { axes, keep_dims })
            }

            fn attrs(&self) -> Vec<(&'static str, $crate::Attr)> {
                super::reduce::attrs(&self.axes, self.keep_dims)
            }

            fn infer(
                &self,
                inputs: &[$crate::ops::TensorType],
            ) -> Result<$crate::ops::TensorType, $crate::ops::OpError> {
                super::reduce::infer(inputs, &self.axes, self.keep_dims)
            }

            fn eval(&self, inputs: &[&$crate::Tensor], out: &mut $crate::Tensor) -> Result<(), $crate::ops::OpError> {
                super::reduce::eval($kind, inputs[0], &self.axes, self.keep_dims, out)
            }

            #[cfg(feature = "grad")]
            fn grad(&self, x: &[&$crate::Tensor], y: &$crate::Tensor, g: &$crate::Tensor) -> $crate::ops::grad::Grads {
                super::reduce::grad($kind, x[0], y, g, &self.axes)
            }
        }
    };
}
pub(crate) use reduction_op;
