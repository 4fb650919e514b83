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
    /// Computes the step into `out`; `scratch` is the calling thread's
    /// spare buffer (for partial sums), kept between calls.
    pub fn run(&self, inputs: &[&Tensor], out: &mut Tensor, scratch: &mut Vec<f32>) -> Result<(), String> {
        match self {
            Kernel::Op(op) => op.eval(inputs, out),
            Kernel::Dense(dense) => dense.run(inputs[0], out, scratch),
        }
    }
}

impl Dense {
    fn run(&self, x: &Tensor, out: &mut Tensor, scratch: &mut Vec<f32>) -> Result<(), String> {
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
        let threads = if self.threads > 1 && m * k * n >= PARALLEL_MIN_MACS { self.threads } else { 1 };
        if threads > 1 && m < GEMM_MIN_ROWS {
            return self.split_depth(xs, w, [m, k, n], bias, dst, scratch, threads);
        }
        let chunks = n.div_ceil(n.div_ceil(threads).next_multiple_of(COLUMN_ALIGN));
        let width = n.div_ceil(chunks.max(1));
        let out = Disjoint::new(dst);
        if chunks <= 1 {
            // SAFETY: the only writer, of every column.
            return unsafe { self.columns(xs, w, [m, k, n], 0..n, bias, &out) };
        }
        // A matrix product: each thread computes a block of columns (packing
        // its block of the weights itself).
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

    /// A few rows (matrix-vector products) on `threads` threads: each
    /// streams its own contiguous block of the weights' rows (a slice of
    /// the sum over `k`), the sums of the first block landing in `dst` and
    /// the others' in `scratch`, all added up at the end. Two cores read
    /// half the weights each, in order, which is what batch 1 is bound by.
    #[allow(clippy::too_many_arguments)] // the shapes and buffers of one call
    fn split_depth(
        &self,
        xs: &[f32],
        w: &[f32],
        [m, k, n]: [usize; 3],
        bias: Option<&[f32]>,
        dst: &mut [f32],
        scratch: &mut Vec<f32>,
        threads: usize,
    ) -> Result<(), String> {
        let depth = k.div_ceil(threads).next_multiple_of(4);
        let chunks = k.div_ceil(depth);
        let size = m * n;
        scratch.clear();
        scratch.resize(chunks.saturating_sub(1) * size, 0.0);
        for row in dst.chunks_exact_mut(n) {
            match bias {
                Some(b) => row.copy_from_slice(b),
                None => row.fill(0.0),
            }
        }
        let (first, rest) = (Disjoint::new(dst), Disjoint::new(scratch));
        crate::pool::for_each_chunk(chunks, &|c| {
            let rows = c * depth..k.min((c + 1) * depth);
            // SAFETY: chunk 0 alone writes `dst`, chunk c > 0 alone block c - 1 of `scratch`.
            let sums = unsafe { if c == 0 { first.slice(0..size) } else { rest.slice((c - 1) * size..c * size) } };
            for (r, sum) in sums.chunks_exact_mut(n).enumerate() {
                gemv::accumulate(&xs[r * k + rows.start..r * k + rows.end], &w[rows.start * n..], n, sum);
            }
        })
        .map_err(|e| e.to_string())?;
        for part in scratch.chunks_exact(size) {
            dst.iter_mut().zip(part).for_each(|(d, p)| *d += p);
        }
        dst.chunks_exact_mut(n).for_each(|row| self.finish(row, None));
        Ok(())
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
        out: &Disjoint<'_>,
    ) -> Result<(), String> {
        let bias = bias.map(|b| &b[cols.clone()]);
        // SAFETY (every `out` access below): columns `cols` are ours.
        if k * n <= TINY {
            // A few weights (a linear model): plain loops beat any dispatch.
            for r in 0..m {
                let row = unsafe { out.slice(r * n + cols.start..r * n + cols.end) };
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
                let row = unsafe { out.slice(r * n + cols.start..r * n + cols.end) };
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
            ndarray::linalg::general_mat_mul(1.0, &a, &b, 0.0, &mut unsafe { out.columns(m, n, &cols) });
            for r in 0..m {
                self.finish(unsafe { out.slice(r * n + cols.start..r * n + cols.end) }, bias);
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

/// A buffer that threads write side by side, each in a part no other
/// touches; it holds the exclusive borrow of the whole.
struct Disjoint<'a> {
    ptr: *mut f32,
    len: usize,
    _borrow: PhantomData<&'a mut [f32]>,
}

// SAFETY: a shared `Disjoint` hands out only the parts each caller of its
// unsafe methods promises are its own.
unsafe impl Sync for Disjoint<'_> {}

impl<'a> Disjoint<'a> {
    fn new(buffer: &'a mut [f32]) -> Disjoint<'a> {
        Disjoint { ptr: buffer.as_mut_ptr(), len: buffer.len(), _borrow: PhantomData }
    }

    /// The elements in `range`.
    ///
    /// # Safety
    /// No other live reference covers them.
    #[allow(clippy::mut_from_ref)] // the contract above is what makes it sound
    unsafe fn slice(&self, range: Range<usize>) -> &mut [f32] {
        debug_assert!(range.start <= range.end && range.end <= self.len);
        unsafe { std::slice::from_raw_parts_mut(self.ptr.add(range.start), range.len()) }
    }

    /// Columns `cols` of the buffer seen as a row-major `[m, n]` matrix, as
    /// a strided view.
    ///
    /// # Safety
    /// As for [`Disjoint::slice`], for each row's `cols`; `m * n` is at
    /// most the length.
    unsafe fn columns(&self, m: usize, n: usize, cols: &Range<usize>) -> ArrayViewMut2<'_, f32> {
        debug_assert!(m * n <= self.len && cols.end <= n);
        let shape = (m, cols.len()).strides((n, 1));
        unsafe { ArrayViewMut2::from_shape_ptr(shape, self.ptr.add(cols.start)) }
    }
}
