//! What a plan step runs: an op's reference kernel from `export`, or a fused
//! dense layer (`MatMul` + `BiasAdd` + activation) whose weights were laid
//! out once at load.

use export::ops::UnaryOp;
use export::{Op, Tensor};
use ndarray::{ArrayView2, ArrayViewMut2};

/// Row counts below this use a streaming matrix-vector loop per row; above,
/// a packed matrix product (whose packing pays off only over many rows).
const GEMM_MIN_ROWS: usize = 16;

/// A step's computation.
#[derive(Debug)]
pub(crate) enum Kernel {
    /// An op of the set, run by its reference kernel.
    Op(Op),
    /// `activation(x @ weights + bias)`.
    Dense(Dense),
}

/// A fused dense layer. `weights` is `[k, n]` row-major f32 (transposed at
/// load if the graph multiplied by its transpose), possibly memory-mapped.
#[derive(Debug)]
pub(crate) struct Dense {
    pub weights: Tensor,
    pub bias: Option<Tensor>,
    pub activation: Option<UnaryOp>,
}

impl Kernel {
    pub fn run(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), String> {
        match self {
            Kernel::Op(op) => op.eval(inputs, out),
            Kernel::Dense(dense) => dense.run(inputs[0], out),
        }
    }
}

impl Dense {
    fn run(&self, x: &Tensor, out: &mut Tensor) -> Result<(), String> {
        let (&[m, k], &[wk, n]) = (x.shape(), self.weights.shape()) else {
            return Err(format!("expected a matrix input, got shape {:?}", x.shape()));
        };
        if k != wk {
            return Err(format!("input has {k} columns, the weights {wk} rows"));
        }
        let xs = x.as_slice::<f32>().map_err(|e| e.to_string())?;
        let w = self.weights.as_slice::<f32>().map_err(|e| e.to_string())?;
        let bias = self.bias.as_ref().map(|b| b.as_slice::<f32>()).transpose().map_err(|e| e.to_string())?;
        let dst = out.output_slice::<f32>(&[m, n]);
        for row in dst.chunks_exact_mut(n.max(1)) {
            match bias {
                Some(b) => row.copy_from_slice(b),
                None => row.fill(0.0),
            }
        }
        if m < GEMM_MIN_ROWS {
            for (xr, row) in xs.chunks_exact(k.max(1)).zip(dst.chunks_exact_mut(n.max(1))) {
                for (&xi, wr) in xr.iter().zip(w.chunks_exact(n.max(1))) {
                    row.iter_mut().zip(wr).for_each(|(o, &wv)| *o += xi * wv);
                }
            }
        } else {
            let a = ArrayView2::from_shape((m, k), xs).map_err(|e| e.to_string())?;
            let b = ArrayView2::from_shape((k, n), w).map_err(|e| e.to_string())?;
            let mut c = ArrayViewMut2::from_shape((m, n), &mut *dst).map_err(|e| e.to_string())?;
            ndarray::linalg::general_mat_mul(1.0, &a, &b, 1.0, &mut c);
        }
        if let Some(activation) = self.activation {
            dst.iter_mut().for_each(|v| *v = activation.apply(*v));
        }
        Ok(())
    }
}
