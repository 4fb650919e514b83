//! What a plan step runs: an op's reference kernel from `export`, or a fused
//! dense layer (`MatMul` + `BiasAdd` + activation) whose weights were laid
//! out once at load.

use export::ops::UnaryOp;
use export::{Op, Tensor};
use ndarray::{ArrayView2, ArrayViewMut2};

/// Row counts below this use a streaming matrix-vector loop per row; above,
/// a packed matrix product (whose packing pays off only over many rows).
const GEMM_MIN_ROWS: usize = 16;

/// Layers with at most this many weights run as plain scalar loops.
const TINY: usize = 16;

/// Below this many multiply-adds a call stays on one thread, whatever
/// [`crate::LoadOptions::threads`] allows: spawning costs ~10 us.
const PARALLEL_MIN_MACS: usize = 1 << 24;

/// The matrix-vector product `row += x @ w` (`w` is `[x.len(), row.len()]`,
/// row-major), the batch-1 workhorse: bound by reading `w` once, so it
/// reads four weight rows per pass over `row` and uses AVX2 + FMA when the
/// CPU has them (detected at run time; the portable loop otherwise).
mod gemv {
    /// `row += x @ w`.
    pub fn accumulate(x: &[f32], w: &[f32], row: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports the features the function is compiled for.
            unsafe { accumulate_avx2_fma(x, w, row) };
            return;
        }
        rows::<false>(x, w, row);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn accumulate_avx2_fma(x: &[f32], w: &[f32], row: &mut [f32]) {
        rows::<true>(x, w, row);
    }

    /// The loop, compiled once per instruction set. `FUSED` uses
    /// `mul_add`, which is one instruction only where FMA is enabled.
    #[inline(always)]
    fn rows<const FUSED: bool>(x: &[f32], w: &[f32], row: &mut [f32]) {
        let n = row.len();
        let madd = |acc: f32, a: f32, b: f32| if FUSED { a.mul_add(b, acc) } else { acc + a * b };
        let mut i = 0;
        while i + 4 <= x.len() {
            let (x0, x1, x2, x3) = (x[i], x[i + 1], x[i + 2], x[i + 3]);
            let w0 = &w[i * n..(i + 1) * n];
            let w1 = &w[(i + 1) * n..(i + 2) * n];
            let w2 = &w[(i + 2) * n..(i + 3) * n];
            let w3 = &w[(i + 3) * n..(i + 4) * n];
            for j in 0..n {
                let acc = madd(madd(row[j], x0, w0[j]), x1, w1[j]);
                row[j] = madd(madd(acc, x2, w2[j]), x3, w3[j]);
            }
            i += 4;
        }
        while i < x.len() {
            let (xi, wi) = (x[i], &w[i * n..(i + 1) * n]);
            for j in 0..n {
                row[j] = madd(row[j], xi, wi[j]);
            }
            i += 1;
        }
    }
}

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
    /// The most threads a large call may use (1: never more than the caller's).
    pub threads: usize,
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
        let threads = if self.threads > 1 && m * k * n >= PARALLEL_MIN_MACS { self.threads.min(m) } else { 1 };
        if threads <= 1 {
            return self.rows(xs, w, [m, k, n], bias, dst);
        }
        // Rows split between scoped threads: worth its ~10 us of spawning
        // only for calls of several milliseconds.
        let per = m.div_ceil(threads);
        std::thread::scope(|scope| {
            let jobs: Vec<_> = xs
                .chunks(per * k)
                .zip(dst.chunks_mut(per * n))
                .map(|(x, d)| scope.spawn(move || self.rows(x, w, [d.len() / n.max(1), k, n], bias, d)))
                .collect();
            jobs.into_iter().try_for_each(|j| j.join().unwrap_or_else(|_| Err("a worker thread panicked".into())))
        })
    }

    /// `dst = activation(xs @ w + bias)` for the `m` rows of `xs`, on this
    /// thread (`[m, k, n]` passed in: no division on the hot path).
    fn rows(
        &self,
        xs: &[f32],
        w: &[f32],
        [m, k, n]: [usize; 3],
        bias: Option<&[f32]>,
        dst: &mut [f32],
    ) -> Result<(), String> {
        if k * n <= TINY {
            // A few weights (a linear model): plain loops beat any dispatch.
            for r in 0..m {
                for j in 0..n {
                    let mut acc = 0.0;
                    for i in 0..k {
                        acc += xs[r * k + i] * w[i * n + j];
                    }
                    dst[r * n + j] = bias.map_or(acc, |b| acc + b[j]);
                }
            }
        } else if m < GEMM_MIN_ROWS {
            // Matrix-vector per row, streaming the weights once; index
            // arithmetic rather than `chunks_exact` (no division per call).
            for r in 0..m {
                let row = &mut dst[r * n..(r + 1) * n];
                match bias {
                    Some(b) => row.iter_mut().zip(b).for_each(|(o, &b)| *o = b),
                    None => row.fill(0.0),
                }
                gemv::accumulate(&xs[r * k..(r + 1) * k], w, row);
            }
        } else {
            // Packed GEMM overwriting the output (beta 0), then the bias
            // and the activation in one pass.
            let a = ArrayView2::from_shape((m, k), xs).map_err(|e| e.to_string())?;
            let b = ArrayView2::from_shape((k, n), w).map_err(|e| e.to_string())?;
            let mut c = ArrayViewMut2::from_shape((m, n), &mut *dst).map_err(|e| e.to_string())?;
            ndarray::linalg::general_mat_mul(1.0, &a, &b, 0.0, &mut c);
            if let Some(b) = bias {
                // One loop per activation, so each vectorizes.
                for row in dst.chunks_exact_mut(n.max(1)) {
                    let pairs = row.iter_mut().zip(b);
                    match self.activation {
                        None => pairs.for_each(|(v, &b)| *v += b),
                        Some(UnaryOp::Relu) => pairs.for_each(|(v, &b)| *v = (*v + b).max(0.0)),
                        Some(act) => pairs.for_each(|(v, &b)| *v = act.apply(*v + b)),
                    }
                }
                return Ok(());
            }
        }
        match self.activation {
            None => {}
            Some(UnaryOp::Relu) => dst.iter_mut().for_each(|v| *v = v.max(0.0)),
            Some(act) => dst.iter_mut().for_each(|v| *v = act.apply(*v)),
        }
        Ok(())
    }
}
