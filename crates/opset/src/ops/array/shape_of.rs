//! `Shape` (the struct `ShapeOf`, so as not to shadow [`crate::Shape`]).

use crate::graph::{Attr, Node};
use crate::ops::{Arity, OpDef, OpError, TensorType};
use crate::{Assets, DataType, Result, Tensor};

/// `x`'s dims at run time (`x` of any dtype), as an i64 vector `[rank]`.
/// TensorFlow's `Shape` with `out_type` int64.
///
/// Gradient: none (the output does not depend on `x`'s values).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShapeOf;

impl OpDef for ShapeOf {
    const NAME: &'static str = "Shape";
    const SINCE: u32 = 3;
    const INPUTS: Arity = Arity::Exactly(1);

    fn parse(_: &Node, _: &Assets) -> Result<ShapeOf> {
        Ok(ShapeOf)
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        Vec::new()
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        Ok(TensorType::new(DataType::I64, vec![Some(inputs[0].dims().len())]))
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        let shape = inputs[0].shape();
        let dims = out.output_vec::<i64>(&[shape.len()]);
        dims.extend(shape.iter().map(|&d| i64::try_from(d).unwrap_or(i64::MAX)));
        Ok(())
    }

    #[cfg(feature = "grad")]
    fn grad(&self, _: &[&Tensor], _: &Tensor, _: &Tensor) -> crate::ops::grad::Grads {
        Ok(vec![None])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn gives_the_run_time_dims() {
        let x = Tensor::from(array![["a".to_owned(), "b".into(), "c".into()]]);
        assert_eq!(ShapeOf.run(&[&x]).unwrap(), Tensor::from(array![1i64, 3]));
        assert_eq!(ShapeOf.run(&[&Tensor::scalar(1.0f32)]).unwrap().shape(), &[0]);
        let ty = ShapeOf.infer(&[TensorType::new(DataType::F32, vec![None, Some(2)])]).unwrap();
        assert_eq!(ty, TensorType::new(DataType::I64, vec![Some(2)]));
    }
}
