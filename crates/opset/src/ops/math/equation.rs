//! The two-operand einsum equation (`abc,cde->abde`, each letter a dim),
//! parsed and checked once, and its kernel: a batched matrix product after
//! sums and transposes, which `Einsum` and batched `MatMul` both run.

use ndarray::{ArrayView2, ArrayViewMut2};

use super::reduce::{Reduction, reduce};
use crate::ops::array::Transpose;
use crate::ops::kernel::{checked_len, slice};
use crate::ops::{OpDef, OpError};
use crate::{DataType, Tensor};

/// A parsed two-operand equation: the labels of each input and of the output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Equation {
    /// The labels of input 0, one per dim.
    pub a: Vec<u8>,
    /// The labels of input 1.
    pub b: Vec<u8>,
    /// The labels of the output.
    pub out: Vec<u8>,
}

impl Equation {
    /// Parses `lhs0,lhs1->out` (ASCII letters; no `...`, no label twice in
    /// one term, every output label in an input).
    ///
    /// # Errors
    /// [`OpError::Invalid`] saying what is not supported or malformed.
    pub fn parse(equation: &str) -> Result<Equation, OpError> {
        let bad = |why: &str| OpError::Invalid { what: "equation", reason: format!("{equation:?}: {why}") };
        let (inputs, out) = equation.split_once("->").ok_or_else(|| bad("no \"->\""))?;
        let (a, b) = inputs.split_once(',').ok_or_else(|| bad("expected two operands"))?;
        if equation.contains("...") {
            return Err(bad("broadcasting with \"...\" is not supported"));
        }
        let term = |t: &str| -> Result<Vec<u8>, OpError> {
            let labels: Vec<u8> = t.trim().bytes().collect();
            if labels.iter().any(|l| !l.is_ascii_alphabetic()) {
                return Err(bad("labels must be letters"));
            }
            if labels.iter().enumerate().any(|(i, l)| labels[..i].contains(l)) {
                return Err(bad("a label repeated within one term (a diagonal) is not supported"));
            }
            Ok(labels)
        };
        let (a, b, out) = (term(a)?, term(b)?, term(out)?);
        if out.iter().any(|l| !a.contains(l) && !b.contains(l)) {
            return Err(bad("an output label appears in no input"));
        }
        Ok(Equation { a, b, out })
    }

    /// An equation from its terms' labels (checked by the kernel that runs it).
    pub fn from_labels(a: Vec<u8>, b: Vec<u8>, out: Vec<u8>) -> Equation {
        Equation { a, b, out }
    }

    /// The equation as written.
    pub fn text(&self) -> String {
        let s = |l: &[u8]| String::from_utf8_lossy(l).into_owned();
        format!("{},{}->{}", s(&self.a), s(&self.b), s(&self.out))
    }

    /// The equation of the gradient with respect to input 0 (`out,b->a`),
    /// or `None` if input 0 has a label summed away alone (then the
    /// gradient is a broadcast, not an einsum).
    pub fn gradient_a(&self) -> Option<Equation> {
        self.a.iter().all(|l| self.out.contains(l) || self.b.contains(l)).then(|| Equation {
            a: self.out.clone(),
            b: self.b.clone(),
            out: self.a.clone(),
        })
    }

    /// The equation of the gradient with respect to input 1 (`a,out->b`),
    /// or `None` if input 1 has a label summed away alone.
    pub fn gradient_b(&self) -> Option<Equation> {
        self.b.iter().all(|l| self.out.contains(l) || self.a.contains(l)).then(|| Equation {
            a: self.a.clone(),
            b: self.out.clone(),
            out: self.b.clone(),
        })
    }

    /// The kernel: the einsum of two f32 tensors into `out`. Labels only one
    /// input has (and the output lacks) are summed first, then both inputs
    /// are transposed to `[batch, kept, contracted]` and `[batch,
    /// contracted, kept]`, multiplied batch by batch, and the product
    /// transposed to the output's order.
    ///
    /// # Errors
    /// [`OpError::Shape`] if an input's rank or a label's sizes disagree
    /// with the equation, [`OpError::TooLarge`] for a product past the
    /// element limit.
    pub(crate) fn eval(&self, a: &Tensor, b: &Tensor, out: &mut Tensor) -> Result<(), OpError> {
        let mut sizes = [None::<usize>; 256];
        for (labels, t, i) in [(&self.a, a, 0), (&self.b, b, 1)] {
            if labels.len() != t.shape().len() {
                return Err(OpError::shape(format!(
                    "input {i} has shape {:?}, the equation {} labels",
                    t.shape(),
                    labels.len()
                )));
            }
            for (&l, &d) in labels.iter().zip(t.shape()) {
                match sizes[usize::from(l)] {
                    Some(e) if e != d => {
                        return Err(OpError::shape(format!(
                            "label {:?} is {e} in one input and {d} in input {i}",
                            char::from(l)
                        )));
                    }
                    _ => sizes[usize::from(l)] = Some(d),
                }
            }
        }
        let size = |l: &u8| sizes[usize::from(*l)].unwrap_or(1);
        let (ea, eb, eo) = (&self.a, &self.b, &self.out);
        let batch: Vec<u8> = eo.iter().filter(|l| ea.contains(l) && eb.contains(l)).copied().collect();
        let contracted: Vec<u8> = ea.iter().filter(|l| eb.contains(l) && !eo.contains(l)).copied().collect();
        let a_kept: Vec<u8> = eo.iter().filter(|l| ea.contains(l) && !eb.contains(l)).copied().collect();
        let b_kept: Vec<u8> = eo.iter().filter(|l| eb.contains(l) && !ea.contains(l)).copied().collect();
        let lhs = arrange(a, ea, eb, eo, [&batch, &a_kept, &contracted])?;
        let rhs = arrange(b, eb, ea, eo, [&batch, &contracted, &b_kept])?;
        let dims = |labels: &[u8]| labels.iter().map(size).collect::<Vec<_>>();
        let count = |labels: &[u8]| checked_len(&dims(labels));
        let (nb, m, k, n) = (count(&batch)?, count(&a_kept)?, count(&contracted)?, count(&b_kept)?);
        let (ls, rs) = (slice::<f32>(&lhs)?, slice::<f32>(&rhs)?);
        // The product, labelled batch ++ a_kept ++ b_kept.
        let product_labels: Vec<u8> = [&batch[..], &a_kept, &b_kept].concat();
        let product_shape = dims(&product_labels);
        let len = checked_len(&product_shape)?;
        if len != checked_len(&[nb, m, n])?
            || ls.len() != checked_len(&[nb, m, k])?
            || rs.len() != checked_len(&[nb, k, n])?
        {
            return Err(OpError::shape("einsum: buffers do not match the labels' sizes"));
        }
        let mut product = Tensor::empty(DataType::F32);
        let dst = product.output_slice::<f32>(&product_shape);
        let shape_error = |e: ndarray::ShapeError| OpError::shape(format!("einsum: {e}"));
        for i in 0..nb {
            let l = ArrayView2::from_shape((m, k), &ls[i * m * k..][..m * k]).map_err(shape_error)?;
            let r = ArrayView2::from_shape((k, n), &rs[i * k * n..][..k * n]).map_err(shape_error)?;
            let mut o = ArrayViewMut2::from_shape((m, n), &mut dst[i * m * n..][..m * n]).map_err(shape_error)?;
            ndarray::linalg::general_mat_mul(1.0, &l, &r, 0.0, &mut o);
        }
        let perm: Vec<usize> = eo.iter().filter_map(|l| product_labels.iter().position(|p| p == l)).collect();
        Transpose { perm }.eval(&[&product], out)
    }
}

/// `t` (labelled `own`) with the labels neither `other` nor `out` has
/// summed away, then transposed to the order of `groups`.
fn arrange(t: &Tensor, own: &[u8], other: &[u8], out: &[u8], groups: [&[u8]; 3]) -> Result<Tensor, OpError> {
    let alone = |l: &u8| !other.contains(l) && !out.contains(l);
    let summed = if own.iter().any(alone) {
        let axes: Vec<i64> = (0..own.len()).filter(|&i| alone(&own[i])).map(|i| i as i64).collect();
        let mut summed = Tensor::empty(DataType::F32);
        reduce::<f32>(Reduction::Sum, t, &axes, false, &mut summed)?;
        summed
    } else {
        t.clone()
    };
    let labels: Vec<u8> = own.iter().filter(|&l| !alone(l)).copied().collect();
    let perm: Vec<usize> = groups.concat().iter().filter_map(|l| labels.iter().position(|p| p == l)).collect();
    if perm.len() != labels.len() {
        return Err(OpError::shape("einsum: a label has no place in the product"));
    }
    Transpose { perm }.run(&[&summed])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_writes_back() {
        let eq = Equation::parse("abc,cde->abde").unwrap();
        assert_eq!((eq.a.as_slice(), eq.b.as_slice(), eq.out.as_slice()), (&b"abc"[..], &b"cde"[..], &b"abde"[..]));
        assert_eq!(eq.text(), "abc,cde->abde");
        assert_eq!(eq.gradient_a().unwrap().text(), "abde,cde->abc");
        assert_eq!(eq.gradient_b().unwrap().text(), "abc,abde->cde");
        // Label d of input 1 is summed away alone: no einsum gradient to input 1.
        assert_eq!(Equation::parse("ab,cd->a").unwrap().gradient_b(), None);
    }

    #[test]
    fn malformed_equations_say_why() {
        for (eq, says) in [
            ("...ij,jk->ik", "\"...\""),
            ("ii,jk->ik", "repeated"),
            ("ij,jk->iz", "no input"),
            ("ij->i", "two operands"),
            ("i1,jk->i", "letters"),
        ] {
            let err = Equation::parse(eq).unwrap_err();
            assert!(matches!(err, OpError::Invalid { what: "equation", .. }), "{err}");
            assert!(err.to_string().contains(says), "{eq}: {err}");
        }
    }

    #[test]
    fn labels_past_ascii_are_refused_not_indexed() {
        let eq = Equation::from_labels(vec![200], vec![200], vec![]);
        let x = Tensor::from(ndarray::array![1.0f32, 2.0]);
        let mut out = Tensor::empty(DataType::F32);
        eq.eval(&x, &x, &mut out).unwrap();
        assert_eq!(out, Tensor::scalar(5.0f32));
        let err = eq.eval(&x, &Tensor::from(ndarray::array![1.0f32]), &mut out).unwrap_err();
        assert!(err.to_string().contains("is 2 in one input and 1 in input 1"), "{err}");
    }
}
