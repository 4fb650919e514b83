//! `OneHot`.

use crate::graph::{Attr, Node};
use crate::ops::kernel::{checked_len, indices, numeric, slice};
use crate::ops::rule::same_dtype;
use crate::ops::{Arity, MAX_ELEMENTS, OpDef, OpError, TensorType, normalize_axis};
use crate::tensor::Element;
use crate::{Assets, DataType, Result, Tensor};

/// What `on_value` and `off_value` may be.
const VALUES: &str = "a numeric or bool dtype";

/// One-hot rows: TensorFlow's `OneHot` (`tf.one_hot`). The output has
/// `indices`' shape with a new dim of `depth` inserted at `axis`; along it,
/// position `d` holds `on_value` where the index is `d` and `off_value`
/// elsewhere (an index out of `[0, depth)` gives a row all `off_value`, as
/// TensorFlow).
///
/// Inputs: `indices` (i32 or i64, any shape), `on_value` and `off_value`
/// (scalars of one dtype, numeric or bool). Attributes: `depth` (an int >=
/// 0) and `axis` (where the new dim goes among the output's dims, negative
/// from the end; optional, -1: last).
///
/// Gradient: none to `indices`; to `on_value` the sum of `g` where hot, to
/// `off_value` the sum of `g` elsewhere (none when the values are not f32).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OneHot {
    /// The size of the new dim.
    pub depth: usize,
    /// Where the new dim goes in the output (negative from the end).
    pub axis: i64,
}

impl Default for OneHot {
    /// No depth, the new dim last.
    fn default() -> OneHot {
        OneHot { depth: 0, axis: -1 }
    }
}

impl OpDef for OneHot {
    const NAME: &'static str = "OneHot";
    const SINCE: u32 = 5;
    const INPUTS: Arity = Arity::Exactly(3);

    fn parse(node: &Node, _: &Assets) -> Result<OneHot> {
        let depth = node.attr_int("depth")?;
        let depth = usize::try_from(depth)
            .ok()
            .filter(|&d| d <= MAX_ELEMENTS)
            .ok_or_else(|| node.error(format!("depth {depth}: expected a size >= 0")))?;
        let axis = if node.attrs.contains_key("axis") { node.attr_int("axis")? } else { -1 };
        Ok(OneHot { depth, axis })
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        vec![("depth", Attr::Int(i64::try_from(self.depth).unwrap_or(i64::MAX))), ("axis", Attr::Int(self.axis))]
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        let (ids, on) = (&inputs[0], &inputs[1]);
        if !matches!(ids.dtype, DataType::I32 | DataType::I64) {
            return Err(OpError::Dtype { input: 0, expected: "i32 or i64", got: ids.dtype });
        }
        if on.dtype == DataType::String {
            return Err(OpError::Dtype { input: 1, expected: VALUES, got: on.dtype });
        }
        same_dtype(inputs, 2, 1)?;
        for i in [1, 2] {
            if !matches!(inputs[i].dims(), [] | [Some(1)] | [None]) {
                return Err(OpError::shape(format!("input {i} has shape {}, expected a scalar", inputs[i].shape)));
            }
        }
        let axis = normalize_axis(self.axis, ids.dims().len() + 1)?;
        let mut dims = ids.dims().to_vec();
        dims.insert(axis, Some(self.depth));
        Ok(TensorType::new(on.dtype, dims))
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        let (on, off) = (inputs[1], inputs[2]);
        if on.dtype() == DataType::String {
            return Err(OpError::Dtype { input: 1, expected: VALUES, got: on.dtype() });
        }
        if off.dtype() != on.dtype() {
            return Err(OpError::DtypeMismatch { input: 2, got: off.dtype(), other: 1, expected: on.dtype() });
        }
        let layout = self.layout(inputs)?;
        match on.dtype() {
            DataType::Bool => fill::<bool>(&layout, on, off, out),
            other => numeric!(other, T => fill::<T>(&layout, on, off, out)),
        }
    }

    #[cfg(feature = "grad")]
    fn grad(&self, x: &[&Tensor], _y: &Tensor, g: &Tensor) -> crate::ops::grad::Grads {
        use crate::ops::kernel::tensor;
        if x[1].dtype() != DataType::F32 {
            return Ok(vec![None, None, None]);
        }
        let layout = self.layout(x)?;
        let gs = slice::<f32>(g)?;
        if gs.len() != layout.len {
            return Err(OpError::shape(format!(
                "a gradient of shape {:?} for an output of {:?}",
                g.shape(),
                layout.shape
            )));
        }
        let (mut on, mut off) = (0.0f32, 0.0f32);
        for (&g, hot) in gs.iter().zip(layout.hot()) {
            *(if hot { &mut on } else { &mut off }) += g;
        }
        Ok(vec![None, Some(tensor(x[1].shape(), vec![on])?), Some(tensor(x[2].shape(), vec![off])?)])
    }
}

/// The kernel for values of `T`: `on` where hot, `off` elsewhere.
fn fill<T: Element + Copy>(layout: &Layout, on: &Tensor, off: &Tensor, out: &mut Tensor) -> Result<(), OpError> {
    let (on, off) = (slice::<T>(on)?[0], slice::<T>(off)?[0]);
    out.output_vec::<T>(&layout.shape).extend(layout.hot().map(|hot| if hot { on } else { off }));
    Ok(())
}

/// Where the hot elements of an output are: the indices, and the output
/// seen as `[outer, depth, inner]` (the indices as `[outer, inner]`).
struct Layout {
    ids: Vec<i64>,
    shape: Vec<usize>,
    len: usize,
    depth: usize,
    inner: usize,
}

impl Layout {
    /// Whether each output element, in order, is hot.
    fn hot(&self) -> impl Iterator<Item = bool> + '_ {
        let per_outer = self.depth * self.inner;
        (0..self.len).map(move |o| {
            let (outer, rest) = (o / per_outer, o % per_outer);
            let (d, r) = (rest / self.inner, rest % self.inner);
            self.ids[outer * self.inner + r] == d as i64
        })
    }
}

impl OneHot {
    /// The output's layout for `inputs`, checked: scalar values, the size.
    fn layout(&self, inputs: &[&Tensor]) -> Result<Layout, OpError> {
        let ids = indices(inputs[0], 0)?;
        for i in [1, 2] {
            if inputs[i].len() != 1 || inputs[i].shape().len() > 1 {
                return Err(OpError::shape(format!("input {i} has shape {:?}, expected a scalar", inputs[i].shape())));
            }
        }
        let id_shape = inputs[0].shape();
        let axis = normalize_axis(self.axis, id_shape.len() + 1)?;
        let mut shape = id_shape.to_vec();
        shape.insert(axis, self.depth);
        let len = checked_len(&shape)?;
        let inner = id_shape[axis..].iter().product();
        Ok(Layout { ids, shape, len, depth: self.depth, inner })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Op;
    use ndarray::array;

    #[test]
    fn one_hot_rows_at_any_axis() {
        let ids = Tensor::from(array![0i64, 2, -1, 5]);
        let (on, off) = (Tensor::scalar(1.0f32), Tensor::scalar(0.0f32));
        let y = OneHot { depth: 3, axis: -1 }.run(&[&ids, &on, &off]).unwrap();
        let expected = array![[1.0f32, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]];
        assert_eq!(y, Tensor::from(expected.clone()));
        let y = OneHot { depth: 3, axis: 0 }.run(&[&ids, &on, &off]).unwrap();
        assert_eq!(y, Tensor::from(expected.reversed_axes()));
        // tf.one_hot([[0, 2], [1, 1]], 3, True, False, axis=1)
        let ids = Tensor::from(array![[0i32, 2], [1, 1]]);
        let y = OneHot { depth: 3, axis: 1 }.run(&[&ids, &Tensor::scalar(true), &Tensor::scalar(false)]).unwrap();
        let expected =
            array![[[true, false], [false, false], [false, true]], [[false, false], [true, true], [false, false]]];
        assert_eq!(y, Tensor::from(expected));
        let y = OneHot { depth: 2, axis: -1 }
            .run(&[&Tensor::scalar(1i64), &Tensor::scalar(5i64), &Tensor::scalar(-5i64)])
            .unwrap();
        assert_eq!(y, Tensor::from(array![-5i64, 5]));
    }

    #[test]
    fn the_output_type_inserts_the_depth() {
        let ty = |dtype, dims: Vec<Option<usize>>| TensorType::new(dtype, dims);
        let inputs = [ty(DataType::I64, vec![None, Some(2)]), ty(DataType::F32, vec![]), ty(DataType::F32, vec![])];
        let out = OneHot { depth: 4, axis: -1 }.infer(&inputs).unwrap();
        assert_eq!(out, ty(DataType::F32, vec![None, Some(2), Some(4)]));
        let out = OneHot { depth: 4, axis: 1 }.infer(&inputs).unwrap();
        assert_eq!(out, ty(DataType::F32, vec![None, Some(4), Some(2)]));
        let mut bad = inputs.clone();
        bad[2] = ty(DataType::I64, vec![]);
        assert!(matches!(OneHot::default().infer(&bad), Err(OpError::DtypeMismatch { input: 2, .. })));
        bad = inputs.clone();
        bad[0] = ty(DataType::F32, vec![]);
        assert!(matches!(OneHot::default().infer(&bad), Err(OpError::Dtype { input: 0, .. })));
        bad = inputs.clone();
        bad[1] = ty(DataType::F32, vec![Some(2)]);
        assert!(OneHot::default().infer(&bad).is_err());
        let strings = [inputs[0].clone(), ty(DataType::String, vec![]), ty(DataType::String, vec![])];
        assert!(matches!(OneHot::default().infer(&strings), Err(OpError::Dtype { input: 1, .. })));
        assert!(matches!(OneHot { depth: 4, axis: 3 }.infer(&inputs), Err(OpError::Axis { .. })));
    }

    #[test]
    fn attributes_round_trip() {
        let op = OneHot { depth: 10, axis: 0 };
        let node = Op::from(op).to_node("h", vec!["i".into(), "on".into(), "off".into()]);
        assert_eq!(OneHot::parse(&node, &Assets::new()).unwrap(), op);
        let node = Node::new("h", "OneHot", &["i", "on", "off"]).with("depth", Attr::Int(3));
        assert_eq!(OneHot::parse(&node, &Assets::new()).unwrap(), OneHot { depth: 3, axis: -1 });
        let node = node.with("depth", Attr::Int(-3));
        let err = OneHot::parse(&node, &Assets::new()).unwrap_err().to_string();
        assert!(err.contains("depth -3"), "{err}");
    }

    #[test]
    fn an_absurd_depth_is_refused_before_allocating() {
        let ids = Tensor::from(array![0i64, 1, 2, 3, 4, 5, 6, 7]);
        let op = OneHot { depth: MAX_ELEMENTS, axis: -1 };
        let err = op.run(&[&ids, &Tensor::scalar(1.0f32), &Tensor::scalar(0.0f32)]).unwrap_err();
        assert!(matches!(err, OpError::TooLarge { .. }), "{err}");
    }

    #[cfg(feature = "grad")]
    #[test]
    fn gradient_matches_finite_differences() {
        use crate::ops::grad::check_gradient;
        let ids = Tensor::from(array![[0i64, 3], [1, -1], [2, 2]]);
        check_gradient(&OneHot { depth: 3, axis: 1 }, &[ids, Tensor::scalar(0.7f32), Tensor::scalar(-0.2f32)]);
    }
}
