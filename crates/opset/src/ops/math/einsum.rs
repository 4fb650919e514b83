//! `Einsum`.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::Equation;
use crate::graph::{Attr, Node};
use crate::ops::rule::{self, TensorType};
use crate::ops::{Arity, OpDef, OpError};
use crate::{Assets, DataType, Result, Tensor};

/// `np.einsum(equation, a, b)` of two f32 tensors (TensorFlow's `Einsum`
/// with two operands): the sum, over the labels not in the output, of the
/// products of the elements the labels pick.
///
/// Attributes: `equation` (string, `"abc,cde->abde"`: one letter per dim of
/// each input, `->`, the output's; no `...`, no letter twice in a term,
/// every output letter in an input). A letter's dims must agree.
///
/// Gradient: to `a`, the einsum `out,b->a` of `g` and `b`; to `b`, the
/// einsum `a,out->b` of `a` and `g`. None (an error) when an input has a
/// letter that neither the other input nor the output has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Einsum {
    /// The parsed equation.
    pub equation: Arc<Equation>,
}

impl OpDef for Einsum {
    const NAME: &'static str = "Einsum";
    const SINCE: u32 = 3;
    const INPUTS: Arity = Arity::Exactly(2);

    fn parse(node: &Node, _: &Assets) -> Result<Einsum> {
        let equation = Equation::parse(node.attr_str("equation")?).map_err(|e| node.error(e.to_string()))?;
        Ok(Einsum { equation: Arc::new(equation) })
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        vec![("equation", Attr::Str(self.equation.text()))]
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        rule::expect_dtype(inputs, 0, DataType::F32)?;
        rule::expect_dtype(inputs, 1, DataType::F32)?;
        let eq = &self.equation;
        let mut sizes: BTreeMap<u8, Option<usize>> = BTreeMap::new();
        for (i, labels) in [&eq.a, &eq.b].into_iter().enumerate() {
            let dims = inputs[i].dims();
            if labels.len() != dims.len() {
                return Err(OpError::shape(format!(
                    "input {i} is {}, the equation {} gives it {} dims",
                    inputs[i].shape,
                    eq.text(),
                    labels.len()
                )));
            }
            for (&l, &d) in labels.iter().zip(dims) {
                let known = sizes.entry(l).or_insert(d);
                *known = rule::unify(*known, d).ok_or_else(|| {
                    OpError::shape(format!(
                        "label {:?} of {} is {} and {}",
                        char::from(l),
                        eq.text(),
                        inputs[0].shape,
                        inputs[1].shape
                    ))
                })?;
            }
        }
        Ok(TensorType::new(DataType::F32, eq.out.iter().map(|l| sizes.get(l).copied().flatten()).collect()))
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        self.equation.eval(inputs[0], inputs[1], out)
    }

    #[cfg(feature = "grad")]
    fn grad(&self, x: &[&Tensor], _y: &Tensor, g: &Tensor) -> crate::ops::grad::Grads {
        // d/da = einsum(out, b -> a), d/db = einsum(a, out -> b).
        let eq = &self.equation;
        let (Some(ga), Some(gb)) = (eq.gradient_a(), eq.gradient_b()) else {
            return Err(OpError::NoGradient(format!("{}: an input has a label summed away alone", eq.text())));
        };
        let da = Einsum { equation: Arc::new(ga) }.run(&[g, x[1]])?;
        let db = Einsum { equation: Arc::new(gb) }.run(&[x[0], g])?;
        Ok(vec![Some(da), Some(db)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn einsum(equation: &str) -> Einsum {
        Einsum { equation: Arc::new(Equation::parse(equation).unwrap()) }
    }

    #[test]
    fn as_numpy_does() {
        let a = Tensor::from(array![[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]]);
        let b = Tensor::from(array![[1.0f32, 0.0], [0.0, 1.0], [1.0, 1.0]]);
        let product = einsum("ij,jk->ik").run(&[&a, &b]).unwrap();
        assert_eq!(product, Tensor::from(array![[4.0f32, 5.0], [10.0, 11.0]]));
        assert_eq!(einsum("ij,jk->ki").run(&[&a, &b]).unwrap(), Tensor::from(array![[4.0f32, 10.0], [5.0, 11.0]]));
        // Labels one input has alone are summed; a batch label shared by all three.
        assert_eq!(einsum("ij,kl->i").run(&[&a, &b]).unwrap(), Tensor::from(array![24.0f32, 60.0]));
        assert_eq!(einsum("bi,bi->b").run(&[&a, &a]).unwrap(), Tensor::from(array![14.0f32, 77.0]));
    }

    #[test]
    fn attributes_round_trip() {
        let op = einsum("abc,cde->abde");
        let node = crate::ops::Op::from(op.clone()).to_node("e", vec!["a".into(), "b".into()]);
        assert_eq!(Einsum::parse(&node, &Assets::new()).unwrap(), op);
        let bad = node.with("equation", Attr::Str("ij->i".into()));
        assert!(Einsum::parse(&bad, &Assets::new()).unwrap_err().to_string().contains("two operands"));
    }

    #[test]
    fn disagreeing_labels_are_refused() {
        let a = Tensor::from(array![[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]]);
        let err = einsum("ij,jk->ik").run(&[&a, &a]).unwrap_err();
        assert!(err.to_string().contains("label 'j' is 3") && err.to_string().contains("and 2"), "{err}");
        let t = |dims: &[usize]| TensorType::new(DataType::F32, dims.iter().map(|&d| Some(d)).collect());
        let err = einsum("ij,jk->ik").infer(&[t(&[2, 3]), t(&[2, 3])]).unwrap_err();
        assert!(err.to_string().contains("label 'j' of ij,jk->ik"), "{err}");
        assert_eq!(einsum("ij,jk->ki").infer(&[t(&[2, 3]), t(&[3, 4])]).unwrap().dims(), &[Some(4), Some(2)]);
    }

    #[cfg(feature = "grad")]
    #[test]
    fn gradient_matches_finite_differences() {
        use crate::ops::grad::{check_gradient, sample};
        for (equation, a, b) in [
            ("abc,cde->abde", &[2, 3, 4][..], &[4, 2, 3][..]),
            ("aecd,abcd->acbe", &[2, 5, 2, 3], &[2, 4, 2, 3]),
            ("abcd,cde->abe", &[2, 3, 2, 3], &[2, 3, 4]),
            ("ij,jk->ki", &[3, 4], &[4, 2]),
        ] {
            check_gradient(&einsum(equation), &[sample(a, 0), sample(b, 11)]);
        }
        let err =
            einsum("ij,kl->i").grad(&[&sample(&[2, 2], 0), &sample(&[2, 2], 1)], &sample(&[2], 2), &sample(&[2], 3));
        assert!(matches!(err, Err(OpError::NoGradient(_))), "{err:?}");
    }
}
