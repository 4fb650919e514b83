//! `MatMul`.

use ndarray::{ArrayView2, ArrayViewMut2, Ix2};

use super::Equation;
use crate::graph::{Attr, Node};
use crate::ops::rule::{self, TensorType};
use crate::ops::{Arity, OpDef, OpError};
use crate::{Assets, DataType, Result, Tensor};

/// `a @ b`: the product of two f32 matrices `a` `[m, k]` and `b` `[k, n]`,
/// or of two batches of them, `[..., m, k]` and `[..., k, n]` with the same
/// leading dims, giving `[..., m, n]` (TensorFlow's `MatMul` and
/// `BatchMatMulV2` without broadcasting).
///
/// Attributes: `transpose_a`, `transpose_b` (bool, optional): use the
/// transpose of the last two dims of that input.
///
/// Gradient: to `a`, `g @ bᵀ`, to `b`, `aᵀ @ g` (each computed with the
/// transposes that undo the attributes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MatMul {
    /// Whether `a`'s last two dims are transposed first.
    pub transpose_a: bool,
    /// Whether `b`'s last two dims are transposed first.
    pub transpose_b: bool,
}

impl OpDef for MatMul {
    const NAME: &'static str = "MatMul";
    const SINCE: u32 = 1;
    const INPUTS: Arity = Arity::Exactly(2);

    fn parse(node: &Node, _: &Assets) -> Result<MatMul> {
        Ok(MatMul { transpose_a: node.attr_flag("transpose_a")?, transpose_b: node.attr_flag("transpose_b")? })
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        // Only the flags that are set, as the builder always wrote them.
        [("transpose_a", self.transpose_a), ("transpose_b", self.transpose_b)]
            .into_iter()
            .filter(|&(_, set)| set)
            .map(|(key, set)| (key, Attr::Bool(set)))
            .collect()
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        rule::expect_dtype(inputs, 0, DataType::F32)?;
        rule::expect_dtype(inputs, 1, DataType::F32)?;
        let (a, b) = (inputs[0].dims(), inputs[1].dims());
        if a.len() < 2 || a.len() != b.len() {
            return Err(OpError::shape(format!(
                "expected two matrices or two batches of them of one rank, got shapes {} and {}",
                inputs[0].shape, inputs[1].shape
            )));
        }
        let r = a.len();
        let (m, ka) = if self.transpose_a { (a[r - 1], a[r - 2]) } else { (a[r - 2], a[r - 1]) };
        let (kb, n) = if self.transpose_b { (b[r - 1], b[r - 2]) } else { (b[r - 2], b[r - 1]) };
        rule::unify(ka, kb).ok_or_else(|| {
            OpError::shape(format!("inner dimensions disagree: {} @ {}", inputs[0].shape, inputs[1].shape))
        })?;
        let mut out = a[..r - 2]
            .iter()
            .zip(&b[..r - 2])
            .map(|(&x, &y)| rule::unify(x, y))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                OpError::shape(format!("batch dimensions disagree: {} @ {}", inputs[0].shape, inputs[1].shape))
            })?;
        out.extend([m, n]);
        Ok(TensorType::new(DataType::F32, out))
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        let (a, b) = (inputs[0], inputs[1]);
        let rank = a.shape().len();
        if rank > 2 {
            // A batch of products: the einsum `...mk,...kn->...mn`, the batch
            // dims labelled A, B... (an input of another rank is refused).
            let batch: Vec<u8> = (b'A'..=b'Z').take(rank - 2).collect();
            let term = |t: bool, [i, j]: [u8; 2]| [&batch[..], &(if t { [j, i] } else { [i, j] })].concat();
            let eq = Equation::from_labels(
                term(self.transpose_a, *b"mk"),
                term(self.transpose_b, *b"kn"),
                term(false, *b"mn"),
            );
            return eq.eval(a, b, out);
        }
        let (a, b) = (matrix(a, self.transpose_a)?, matrix(b, self.transpose_b)?);
        let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
        if b.nrows() != k {
            return Err(OpError::shape(format!("inner dimensions disagree: [{m}, {k}] @ [{}, {n}]", b.nrows())));
        }
        crate::ops::kernel::checked_len(&[m, n])?;
        let dst = out.output_slice::<f32>(&[m, n]);
        let mut c = ArrayViewMut2::from_shape((m, n), dst).map_err(|e| OpError::shape(e.to_string()))?;
        ndarray::linalg::general_mat_mul(1.0, &a, &b, 0.0, &mut c);
        Ok(())
    }

    #[cfg(feature = "grad")]
    fn grad(&self, x: &[&Tensor], _y: &Tensor, g: &Tensor) -> crate::ops::grad::Grads {
        let mm = |a: &Tensor, b: &Tensor, transpose_a, transpose_b| MatMul { transpose_a, transpose_b }.run(&[a, b]);
        let (a, b) = (x[0], x[1]);
        let (da, db) = match (self.transpose_a, self.transpose_b) {
            (false, false) => (mm(g, b, false, true)?, mm(a, g, true, false)?),
            (false, true) => (mm(g, b, false, false)?, mm(g, a, true, false)?),
            (true, false) => (mm(b, g, false, true)?, mm(a, g, false, false)?),
            (true, true) => (mm(b, g, true, true)?, mm(g, a, true, true)?),
        };
        Ok(vec![Some(da), Some(db)])
    }
}

/// `t` as an f32 matrix, transposed if `transpose`.
fn matrix(t: &Tensor, transpose: bool) -> Result<ArrayView2<'_, f32>, OpError> {
    let m = t
        .as_f32()?
        .into_dimensionality::<Ix2>()
        .map_err(|_| OpError::shape(format!("expected a matrix, got shape {:?}", t.shape())))?;
    Ok(if transpose { m.reversed_axes() } else { m })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn multiplies_matrices_and_batches() {
        let a = Tensor::from(array![[1.0f32, 2.0], [3.0, 4.0]]);
        let b = Tensor::from(array![[1.0f32, 0.0], [1.0, 1.0]]);
        assert_eq!(MatMul::default().run(&[&a, &b]).unwrap(), Tensor::from(array![[3.0f32, 2.0], [7.0, 4.0]]));
        let ta = MatMul { transpose_a: true, transpose_b: false }.run(&[&a, &b]).unwrap();
        assert_eq!(ta, Tensor::from(array![[4.0f32, 3.0], [6.0, 4.0]]));
        // Two batches: the identity, then twice it; the second input transposed.
        let a = Tensor::from(array![[[1.0f32, 0.0], [0.0, 1.0]], [[2.0, 0.0], [0.0, 2.0]]]);
        let b = Tensor::from(array![[[1.0f32, 2.0], [3.0, 4.0], [5.0, 6.0]], [[1.0, 1.0], [1.0, 1.0], [1.0, 1.0]]]);
        let y = MatMul { transpose_a: false, transpose_b: true }.run(&[&a, &b]).unwrap();
        let want = array![[[1.0f32, 3.0, 5.0], [2.0, 4.0, 6.0]], [[2.0, 2.0, 2.0], [2.0, 2.0, 2.0]]];
        assert_eq!(y, Tensor::from(want));
    }

    #[test]
    fn attributes_round_trip() {
        for (transpose_a, transpose_b) in [(false, false), (true, false), (false, true), (true, true)] {
            let op = MatMul { transpose_a, transpose_b };
            let node = crate::ops::Op::from(op).to_node("m", vec!["a".into(), "b".into()]);
            assert_eq!(MatMul::parse(&node, &Assets::new()).unwrap(), op);
        }
    }

    #[test]
    fn disagreeing_dims_are_refused() {
        let b = Tensor::from(array![[1.0f32, 2.0, 3.0]]);
        let err = MatMul::default().run(&[&b, &b]).unwrap_err();
        assert!(err.to_string().contains("inner dimensions disagree: [1, 3] @ [1, 3]"), "{err}");
        let batches =
            [Tensor::from_vec(vec![2, 2, 2], vec![0.0f32; 8]), Tensor::from_vec(vec![3, 2, 2], vec![0.0; 12])];
        let [a, b] = batches.map(|t| t.unwrap());
        assert!(MatMul::default().run(&[&a, &b]).unwrap_err().to_string().contains("label 'A'"));
        let f = TensorType::new(DataType::F32, vec![Some(2), Some(3)]);
        let err = MatMul::default().infer(&[f.clone(), f]).unwrap_err();
        assert!(err.to_string().contains("inner dimensions disagree"), "{err}");
    }

    #[cfg(feature = "grad")]
    #[test]
    fn gradient_matches_finite_differences_for_every_transpose() {
        use crate::ops::grad::{check_gradient, sample};
        for (transpose_a, transpose_b) in [(false, false), (true, false), (false, true), (true, true)] {
            let a = if transpose_a { [3, 2] } else { [2, 3] };
            let b = if transpose_b { [4, 3] } else { [3, 4] };
            check_gradient(&MatMul { transpose_a, transpose_b }, &[sample(&a, 0), sample(&b, 7)]);
            // And a batch of two.
            let (a, b) = ([&[2][..], &a[..]].concat(), [&[2][..], &b[..]].concat());
            check_gradient(&MatMul { transpose_a, transpose_b }, &[sample(&a, 1), sample(&b, 3)]);
        }
    }
}
