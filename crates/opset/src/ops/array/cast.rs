//! `Cast`.

use crate::graph::{Attr, Node};
use crate::ops::kernel::{Num, numeric, slice};
use crate::ops::{Arity, OpDef, OpError, TensorType};
use crate::{Assets, DataType, Result, Tensor};

/// `x` (numeric or bool) converted elementwise to the dtype `to` (numeric or
/// bool): float to int truncates toward zero (saturating at the int's
/// range, NaN to 0), int to float rounds to nearest, i64 to i32 keeps the
/// low 32 bits, to bool is `x != 0`, bool to a number is 0 or 1.
/// TensorFlow's `Cast`.
///
/// Attribute: `to` (a dtype, not string).
///
/// Gradient: `g` for an f32 to f32 cast; none otherwise (an integer or bool
/// has no gradient, and none flows back through one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cast {
    /// The dtype converted to.
    pub to: DataType,
}

/// What a cast reads: any dtype but string.
const CASTABLE: &str = "a numeric or bool dtype";

impl OpDef for Cast {
    const NAME: &'static str = "Cast";
    const SINCE: u32 = 1;
    const INPUTS: Arity = Arity::Exactly(1);

    fn parse(node: &Node, _: &Assets) -> Result<Cast> {
        let to = node.attr_type("to")?;
        if to == DataType::String {
            return Err(node.error("cannot cast to string"));
        }
        Ok(Cast { to })
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        vec![("to", Attr::Type(self.to))]
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        self.check_to()?;
        if inputs[0].dtype == DataType::String {
            return Err(OpError::Dtype { input: 0, expected: CASTABLE, got: DataType::String });
        }
        Ok(TensorType { dtype: self.to, shape: inputs[0].shape.clone() })
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        self.check_to()?;
        let x = inputs[0];
        match x.dtype() {
            DataType::Bool => {
                let ints: Vec<i32> = slice::<bool>(x)?.iter().map(|&b| i32::from(b)).collect();
                cast_from::<i32>(&ints, self.to, x.shape(), out)
            }
            DataType::String => Err(OpError::Dtype { input: 0, expected: CASTABLE, got: DataType::String }),
            dtype => numeric!(dtype, S => cast_from::<S>(slice::<S>(x)?, self.to, x.shape(), out)),
        }
    }

    #[cfg(feature = "grad")]
    fn grad(&self, x: &[&Tensor], _y: &Tensor, g: &Tensor) -> crate::ops::grad::Grads {
        let passes = self.to == DataType::F32 && x[0].dtype() == DataType::F32;
        Ok(vec![passes.then(|| g.clone())])
    }
}

impl Cast {
    /// Refuses a cast to string (which [`OpDef::parse`] never gives).
    fn check_to(&self) -> Result<(), OpError> {
        if self.to == DataType::String {
            return Err(OpError::Invalid { what: "to", reason: "cannot cast to string".into() });
        }
        Ok(())
    }
}

/// `src` (of `shape`) converted to `to` into `out`.
fn cast_from<S: Num>(src: &[S], to: DataType, shape: &[usize], out: &mut Tensor) -> Result<(), OpError> {
    if to == DataType::Bool {
        out.output_vec::<bool>(shape).extend(src.iter().map(|&v| v != S::ZERO));
        return Ok(());
    }
    numeric!(to, T => {
        let dst = out.output_vec::<T>(shape);
        if S::IS_FLOAT {
            dst.extend(src.iter().map(|&v| T::from_f64(v.to_f64())));
        } else {
            dst.extend(src.iter().map(|&v| T::from_i64(v.to_i64())));
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn converts_between_numbers_and_bools() {
        let to = |to| Cast { to };
        let floats = Tensor::from(array![-1.7f32, 0.2, 2.9]);
        assert_eq!(to(DataType::I32).run(&[&floats]).unwrap(), Tensor::from(array![-1i32, 0, 2]));
        let bools = to(DataType::Bool).run(&[&Tensor::from(array![0.0f32, 3.0])]).unwrap();
        assert_eq!(bools, Tensor::from(array![false, true]));
        let back = to(DataType::F32).run(&[&Tensor::from(array![true, false])]).unwrap();
        assert_eq!(back, Tensor::from(array![1.0f32, 0.0]));
        let wide = to(DataType::I64).run(&[&Tensor::from(array![-3i32])]).unwrap();
        assert_eq!(wide, Tensor::from(array![-3i64]));
    }

    #[test]
    fn attributes_round_trip() {
        let c = Cast { to: DataType::I64 };
        let node = crate::ops::Op::from(c).to_node("c", vec!["x".into()]);
        assert_eq!(Cast::parse(&node, &Assets::new()).unwrap(), c);
    }

    #[test]
    fn strings_are_refused() {
        let node = Node::new("c", "Cast", &["x"]).with("to", Attr::Type(DataType::String));
        assert!(Cast::parse(&node, &Assets::new()).unwrap_err().to_string().contains("cannot cast to string"));
        let words = TensorType::new(DataType::String, vec![Some(2)]);
        let err = Cast { to: DataType::F32 }.infer(&[words]).unwrap_err();
        assert!(matches!(err, OpError::Dtype { input: 0, got: DataType::String, .. }), "{err}");
    }
}

#[cfg(all(test, feature = "grad"))]
mod grad_tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn only_a_float_to_float_cast_passes_the_gradient() {
        let (x, g) = (Tensor::from(array![1.5f32]), Tensor::from(array![2.0f32]));
        assert_eq!(Cast { to: DataType::F32 }.grad(&[&x], &x, &g).unwrap(), vec![Some(g.clone())]);
        assert_eq!(Cast { to: DataType::I64 }.grad(&[&x], &x, &g).unwrap(), vec![None]);
        let ints = Tensor::from(array![1i64]);
        assert_eq!(Cast { to: DataType::F32 }.grad(&[&ints], &x, &g).unwrap(), vec![None]);
    }
}
