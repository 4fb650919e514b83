//! `Pad`.

use crate::graph::{Attr, Node};
use crate::ops::kernel::{any_dtype, checked_len, slice};
use crate::ops::{Arity, MAX_ELEMENTS, OpDef, OpError, TensorType};
use crate::tensor::Element;
use crate::{Assets, Result, Tensor};

/// `x` (any dtype) with `paddings[i][0]` elements before it and
/// `paddings[i][1]` after it along dim `i`, filled with `value` (TensorFlow's
/// `Pad` and `PadV2`).
///
/// Attributes: `paddings` (ints, two per dim: before, after; >= 0) and
/// `value` (a scalar tensor of x's dtype; absent: zero, `""` or false).
///
/// Gradient: each input element gets the output's gradient where it landed.
#[derive(Debug, Clone, PartialEq)]
pub struct Pad {
    /// Elements added before and after, per dim.
    pub paddings: Vec<[usize; 2]>,
    /// The fill value; `None` fills with the dtype's zero.
    pub value: Option<Tensor>,
}

impl OpDef for Pad {
    const NAME: &'static str = "Pad";
    const SINCE: u32 = 3;
    const INPUTS: Arity = Arity::Exactly(1);

    fn parse(node: &Node, _: &Assets) -> Result<Pad> {
        let ints = node.attr_ints("paddings")?;
        let sizes = ints.iter().map(|&p| usize::try_from(p).ok().filter(|&p| p <= MAX_ELEMENTS));
        let sizes = sizes.collect::<Option<Vec<usize>>>().filter(|s| s.len() % 2 == 0);
        let sizes = sizes.ok_or_else(|| node.error(format!("paddings {ints:?}: expected pairs of sizes >= 0")))?;
        let value = match node.attrs.get("value") {
            Some(_) => Some(node.attr_tensor("value")?.clone()).filter(|v| v.len() == 1),
            None => None,
        };
        if node.attrs.contains_key("value") && value.is_none() {
            return Err(node.error("value: expected a scalar"));
        }
        Ok(Pad { paddings: sizes.chunks_exact(2).map(|p| [p[0], p[1]]).collect(), value })
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        let ints = self.paddings.iter().flatten().map(|&p| i64::try_from(p).unwrap_or(i64::MAX)).collect();
        let mut attrs = vec![("paddings", Attr::Ints(ints))];
        if let Some(value) = &self.value {
            attrs.push(("value", Attr::Tensor(value.clone())));
        }
        attrs
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        let x = &inputs[0];
        if self.paddings.len() != x.dims().len() {
            return Err(OpError::shape(format!(
                "{} pairs of paddings for an input of rank {}",
                self.paddings.len(),
                x.dims().len()
            )));
        }
        if let Some(v) = &self.value
            && v.dtype() != x.dtype
        {
            return Err(OpError::shape(format!("a {} padding value for a {} input", v.dtype(), x.dtype)));
        }
        let dims =
            x.dims().iter().zip(&self.paddings).map(|(d, [b, a])| d.and_then(|d| d.checked_add(b.checked_add(*a)?)));
        Ok(TensorType::new(x.dtype, dims.collect()))
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        let x = inputs[0];
        any_dtype!(x.dtype(), T => self.pad::<T>(x, out))
    }

    #[cfg(feature = "grad")]
    fn grad(&self, x: &[&Tensor], _y: &Tensor, g: &Tensor) -> crate::ops::grad::Grads {
        let (padded, offsets) = pad_offsets(x[0].shape(), &self.paddings)?;
        if g.shape() != padded.as_slice() {
            return Err(OpError::shape(format!("a gradient of shape {:?} for a padded {padded:?}", g.shape())));
        }
        let gs = slice::<f32>(g)?;
        let d = offsets.iter().map(|&o| gs[o]).collect();
        Ok(vec![Some(crate::ops::kernel::tensor(x[0].shape(), d)?)])
    }
}

impl Pad {
    /// The kernel for elements of `T`.
    fn pad<T: Element>(&self, x: &Tensor, out: &mut Tensor) -> Result<(), OpError> {
        let (shape, offsets) = pad_offsets(x.shape(), &self.paddings)?;
        let len = checked_len(&shape)?;
        let fill = match &self.value {
            Some(v) => slice::<T>(v)?.first().cloned().unwrap_or_default(),
            None => T::default(),
        };
        let dst = out.output_vec::<T>(&shape);
        dst.resize(len, fill);
        for (v, &o) in slice::<T>(x)?.iter().zip(&offsets) {
            dst[o] = v.clone();
        }
        Ok(())
    }
}

/// The shape of `shape` padded by `paddings`, and where each element of the
/// input lands in the padded output (row-major offsets): the one map the
/// kernel and the gradient share.
fn pad_offsets(shape: &[usize], paddings: &[[usize; 2]]) -> Result<(Vec<usize>, Vec<usize>), OpError> {
    if paddings.len() != shape.len() {
        return Err(OpError::shape(format!("{} pairs of paddings for a tensor of shape {shape:?}", paddings.len())));
    }
    let padded: Vec<usize> = shape
        .iter()
        .zip(paddings)
        .map(|(&d, [b, a])| d.checked_add(*b).and_then(|d| d.checked_add(*a)))
        .collect::<Option<_>>()
        .ok_or_else(|| OpError::shape(format!("padding {shape:?} by {paddings:?} overflows")))?;
    checked_len(&padded)?;
    let n: usize = shape.iter().product();
    let mut offsets = Vec::with_capacity(n);
    for flat in 0..n {
        let (mut rest, mut offset, mut stride) = (flat, 0, 1);
        for d in (0..shape.len()).rev() {
            offset += (rest % shape[d] + paddings[d][0]) * stride;
            rest /= shape[d];
            stride *= padded[d];
        }
        offsets.push(offset);
    }
    Ok((padded, offsets))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn pads_with_the_value_around() {
        let pad = Pad { paddings: vec![[1, 0], [0, 2]], value: Some(Tensor::scalar(9i64)) };
        let y = pad.run(&[&Tensor::from(array![[1i64, 2]])]).unwrap();
        assert_eq!(y.shape(), &[2, 4]);
        assert_eq!(y.as_slice::<i64>().unwrap(), &[9, 9, 9, 9, 1, 2, 9, 9]);
    }

    #[test]
    fn attributes_round_trip() {
        let pad = Pad { paddings: vec![[1, 2]], value: Some(Tensor::scalar(0.5f32)) };
        let node = crate::ops::Op::from(pad.clone()).to_node("p", vec!["x".into()]);
        assert_eq!(Pad::parse(&node, &Assets::new()).unwrap(), pad);
    }

    #[test]
    fn an_absurd_padding_is_refused_before_allocating() {
        let pad = Pad { paddings: vec![[MAX_ELEMENTS, MAX_ELEMENTS]], value: None };
        let err = pad.run(&[&Tensor::from(array![1.0f32])]).unwrap_err();
        assert!(matches!(err, OpError::TooLarge { .. }), "{err}");
    }
}
