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
        if xs.len() != m * k || w.len() != k * n || dst.len() != m * n || bias.is_some_and(|b| b.len() != n) {
            return Err(format!("buffers do not match [{m}, {k}] @ [{k}, {n}]"));
        }
        if m < GEMM_MIN_ROWS {
            // Matrix-vector per row, streaming the weights once; index
            // arithmetic rather than `chunks_exact` (no division per call).
            for r in 0..m {
                let row = &mut dst[r * n..(r + 1) * n];
                match bias {
                    Some(b) => row.iter_mut().zip(b).for_each(|(o, &b)| *o = b),
                    None => row.fill(0.0),
                }
                for (i, &xi) in xs[r * k..(r + 1) * k].iter().enumerate() {
                    let wr = &w[i * n..(i + 1) * n];
                    for (o, &wv) in row.iter_mut().zip(wr) {
                        *o += xi * wv;
                    }
                }
            }
        } else {
            for r in 0..m {
                let row = &mut dst[r * n..(r + 1) * n];
                match bias {
                    Some(b) => row.copy_from_slice(b),
                    None => row.fill(0.0),
                }
            }
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
