//! What a plan step runs: an op's reference kernel from `export`, or a fused
//! dense layer (`MatMul` + `BiasAdd` + activation) whose weights were laid
//! out once at load.

use export::ops::UnaryOp;
use export::{Op, Tensor};
use std::marker::PhantomData;
use std::ops::Range;

use ndarray::{ArrayView2, ArrayViewMut2, ShapeBuilder};

/// Row counts below this use a streaming matrix-vector loop per row; above,
/// a packed matrix product (whose packing pays off only over many rows).
const GEMM_MIN_ROWS: usize = 16;

/// Layers with at most this many weights run as plain scalar loops.
const TINY: usize = 16;

/// From this many multiply-adds (~4 us on one core) a layer splits its
/// columns between threads ([`crate::LoadOptions::threads`]): handing half
/// to a waiting helper costs well under a microsecond. Smaller layers stay
/// on the caller's thread.
const PARALLEL_MIN_MACS: usize = 1 << 17;

/// Column ranges handed to threads are multiples of this (whole vectors
/// and cache lines).
const COLUMN_ALIGN: usize = 16;

/// The matrix-vector product `row += x @ w`, the batch-1 workhorse: `w`
/// holds `x.len()` rows of `row.len()` weights, `stride` apart (a block of
/// columns of a row-major matrix). Bound by reading `w` once, so it reads
/// four weight rows per pass over `row` and uses AVX2 + FMA when the CPU
/// has them (detected at run time; the portable loop otherwise).
mod gemv {
    /// `row += x @ w`.
    pub fn accumulate(x: &[f32], w: &[f32], stride: usize, row: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports the features the function is compiled for.
            unsafe { accumulate_avx2_fma(x, w, stride, row) };
            return;
        }
        rows::<false>(x, w, stride, row);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn accumulate_avx2_fma(x: &[f32], w: &[f32], stride: usize, row: &mut [f32]) {
        rows::<true>(x, w, stride, row);
    }

    /// The loop, compiled once per instruction set. `FUSED` uses
    /// `mul_add`, which is one instruction only where FMA is enabled.
    #[inline(always)]
    fn rows<const FUSED: bool>(x: &[f32], w: &[f32], stride: usize, row: &mut [f32]) {
        let n = row.len();
        let at = |i: usize| &w[i * stride..i * stride + n];
        let madd = |acc: f32, a: f32, b: f32| if FUSED { a.mul_add(b, acc) } else { acc + a * b };
        let mut i = 0;
        while i + 4 <= x.len() {
            let (x0, x1, x2, x3) = (x[i], x[i + 1], x[i + 2], x[i + 3]);
            let (w0, w1, w2, w3) = (at(i), at(i + 1), at(i + 2), at(i + 3));
            for j in 0..n {
                let acc = madd(madd(row[j], x0, w0[j]), x1, w1[j]);
                row[j] = madd(madd(acc, x2, w2[j]), x3, w3[j]);
            }
            i += 4;
        }
        while i < x.len() {
            let (xi, wi) = (x[i], at(i));
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
        let out = Columns::new(dst, n);
        let chunks = if self.threads > 1 && m * k * n >= PARALLEL_MIN_MACS {
            n.div_ceil(n.div_ceil(self.threads).next_multiple_of(COLUMN_ALIGN))
        } else {
            1
        };
        if chunks == 1 {
            // SAFETY: the only writer, of every column.
            return unsafe { self.columns(xs, w, [m, k, n], 0..n, bias, &out) };
        }
        // Each thread computes a block of columns: the weights it reads are
        // its own, so two cores stream half the weights each.
        let width = n.div_ceil(chunks);
        let failed = std::sync::OnceLock::new();
        crate::pool::for_each_chunk(chunks, &|c| {
            let cols = c * width..n.min((c + 1) * width);
            // SAFETY: chunks are disjoint blocks of columns.
            if let Err(e) = unsafe { self.columns(xs, w, [m, k, n], cols, bias, &out) } {
                let _ = failed.set(e);
            }
        })
        .map_err(|e| e.to_string())?;
        failed.into_inner().map_or(Ok(()), Err)
    }

    /// `out[.., cols] = activation(xs @ w[.., cols] + bias[cols])` on this
    /// thread (`[m, k, n]` passed in: no division on the hot path).
    ///
    /// # Safety
    /// No other thread accesses columns `cols` of `out` meanwhile.
    unsafe fn columns(
        &self,
        xs: &[f32],
        w: &[f32],
        [m, k, n]: [usize; 3],
        cols: Range<usize>,
        bias: Option<&[f32]>,
        out: &Columns<'_>,
    ) -> Result<(), String> {
        let bias = bias.map(|b| &b[cols.clone()]);
        // SAFETY (every `out` access below): columns `cols` are ours.
        if k * n <= TINY {
            // A few weights (a linear model): plain loops beat any dispatch.
            for r in 0..m {
                let row = unsafe { out.row(r, &cols) };
                for (o, j) in row.iter_mut().zip(cols.clone()) {
                    let mut acc = 0.0;
                    for i in 0..k {
                        acc += xs[r * k + i] * w[i * n + j];
                    }
                    *o = acc;
                }
                self.finish(row, bias);
            }
        } else if m < GEMM_MIN_ROWS {
            // Matrix-vector per row, streaming the weights once; index
            // arithmetic rather than `chunks_exact` (no division per call).
            for r in 0..m {
                let row = unsafe { out.row(r, &cols) };
                match bias {
                    Some(b) => row.copy_from_slice(b),
                    None => row.fill(0.0),
                }
                gemv::accumulate(&xs[r * k..(r + 1) * k], &w[cols.start..], n, row);
                self.finish(row, None);
            }
        } else {
            // Packed GEMM overwriting the output (beta 0), then the bias
            // and the activation in one pass per row.
            let a = ArrayView2::from_shape((m, k), xs).map_err(|e| e.to_string())?;
            let b = ArrayView2::from_shape((k, n), w).map_err(|e| e.to_string())?;
            let b = b.slice(ndarray::s![.., cols.clone()]);
            ndarray::linalg::general_mat_mul(1.0, &a, &b, 0.0, &mut unsafe { out.view(m, &cols) });
            for r in 0..m {
                self.finish(unsafe { out.row(r, &cols) }, bias);
            }
        }
        Ok(())
    }

    /// `row = activation(row + bias)`, one loop per activation so each vectorizes.
    fn finish(&self, row: &mut [f32], bias: Option<&[f32]>) {
        match (bias, self.activation) {
            (None, None) => {}
            (None, Some(UnaryOp::Relu)) => row.iter_mut().for_each(|v| *v = v.max(0.0)),
            (None, Some(act)) => row.iter_mut().for_each(|v| *v = act.apply(*v)),
            (Some(b), None) => row.iter_mut().zip(b).for_each(|(v, &b)| *v += b),
            (Some(b), Some(UnaryOp::Relu)) => row.iter_mut().zip(b).for_each(|(v, &b)| *v = (*v + b).max(0.0)),
            (Some(b), Some(act)) => row.iter_mut().zip(b).for_each(|(v, &b)| *v = act.apply(*v + b)),
        }
    }
}

/// A row-major `[_, n]` output whose blocks of columns threads write
/// side by side; it holds the exclusive borrow of the whole buffer.
struct Columns<'a> {
    ptr: *mut f32,
    n: usize,
    _borrow: PhantomData<&'a mut [f32]>,
}

// SAFETY: a shared `Columns` hands out only the columns each caller of its
// unsafe methods promises are its own.
unsafe impl Sync for Columns<'_> {}

impl<'a> Columns<'a> {
    fn new(dst: &'a mut [f32], n: usize) -> Columns<'a> {
        Columns { ptr: dst.as_mut_ptr(), n, _borrow: PhantomData }
    }

    /// Columns `cols` of row `r`.
    ///
    /// # Safety
    /// Row `r` exists, `cols` lies within `0..n`, and no other live
    /// reference covers these elements.
    #[allow(clippy::mut_from_ref)] // the contract above is what makes it sound
    unsafe fn row(&self, r: usize, cols: &Range<usize>) -> &mut [f32] {
        unsafe { std::slice::from_raw_parts_mut(self.ptr.add(r * self.n + cols.start), cols.len()) }
    }

    /// Columns `cols` of the first `m` rows, as a strided matrix view.
    ///
    /// # Safety
    /// As for [`Columns::row`], for every row below `m`.
    unsafe fn view(&self, m: usize, cols: &Range<usize>) -> ArrayViewMut2<'_, f32> {
        let shape = (m, cols.len()).strides((self.n, 1));
        unsafe { ArrayViewMut2::from_shape_ptr(shape, self.ptr.add(cols.start)) }
    }
}
