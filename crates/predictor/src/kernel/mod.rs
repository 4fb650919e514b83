//! What a plan step runs: an op's reference kernel from `export`, a fused
//! dense layer (`MatMul` + `BiasAdd` + activation) whose weights were laid
//! out once at load in panels for [`gemm`], or a fused convolution: the
//! image's patches gathered into rows, then the same dense layer over the
//! filter seen as a matrix.

use std::marker::PhantomData;
use std::ops::Range;

use ndarray::{ArrayView2, ArrayViewMut2, ShapeBuilder};
use opset::ops::OpError;
use opset::ops::math::{Relu, Sigmoid, Tanh, UnaryFn};
use opset::ops::nn::Sliding;
use opset::{Op, Tensor};

/// For weights too large to lay out at load ([`PACK_LIMIT`]): row counts
/// below this stream the weights in place, four rows per pass ([`gemv`]);
/// from it on, matrixmultiply's product, whose packing of the weights on
/// every call pays off only over many rows (the two cross near 44 rows for
/// the 784-512-512-10 MLP).
const GEMM_MIN_ROWS: usize = 40;

/// Layers with at most this many weights run as plain scalar loops.
const TINY: usize = 16;

/// From this many multiply-adds (~4 us on one core) a layer is split
/// between threads ([`crate::LoadOptions::threads`]): handing half to a
/// waiting helper costs well under a microsecond. Smaller layers stay on
/// the caller's thread.
const PARALLEL_MIN_MACS: usize = 1 << 17;

/// Column ranges handed to threads are multiples of this (whole vectors
/// and cache lines).
const COLUMN_ALIGN: usize = 16;

pub(crate) mod activation;
pub(crate) mod gemm;
pub(crate) mod gemv;

/// A step's computation.
#[derive(Debug)]
pub(crate) enum Kernel {
    /// An op of the set, run by its reference kernel.
    Op(Op),
    /// `activation(x @ weights + bias)`.
    Dense(Dense),
    /// `activation(conv2d(x, filter) + bias)`.
    Conv(Conv),
    /// A `While` loop, its body compiled (run by the plan, with its state).
    Loop(Box<crate::looping::LoopKernel>),
    /// Another variable of a loop an earlier step ran (run by the plan).
    LoopOutput(crate::looping::LoopOutput),
    /// A `Shape` computed by shape rules from the shapes of its inputs.
    ShapeOf(Box<crate::shapes::ShapeProgram>),
    /// `Softmax` over the last dim, its exponentials vectorized
    /// ([`activation::softmax`]).
    Softmax,
}

/// A thread's spare buffers, kept between calls.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    /// Partial sums of a dense layer split over `k`.
    partial: Vec<f32>,
    /// A convolution's patches, one row per output pixel.
    patches: Vec<f32>,
    /// The shape programs' last answers.
    shapes: crate::shapes::ShapeMemo,
}

/// A fused NHWC convolution: `dense.weights` is the `[kh, kw, c, f]` filter
/// seen as the `[kh * kw * c, f]` matrix it is in memory.
#[derive(Debug)]
pub(crate) struct Conv {
    pub sliding: Sliding,
    pub ksize: [usize; 2],
    pub dense: Dense,
}

/// A fused dense layer. `weights` is `[k, n]` row-major f32 (transposed at
/// load if the graph multiplied by its transpose), possibly memory-mapped;
/// `packed` the same laid out in panels for [`gemm`], unless they are over
/// [`PACK_LIMIT`].
#[derive(Debug)]
pub(crate) struct Dense {
    pub weights: Tensor,
    pub packed: Option<gemm::Packed>,
    pub bias: Option<Tensor>,
    pub activation: Option<Activation>,
    /// The most threads a large call may use (1: never more than the caller's).
    pub threads: usize,
}

/// The most weights a dense layer lays out in panels at load (64 MiB of
/// f32): larger ones, typically memory-mapped, are read in place (loading
/// stays free of copies; their products go through the streamed and
/// matrixmultiply paths).
const PACK_LIMIT: usize = 1 << 24;

impl Kernel {
    /// Computes the step into `out`, with the calling thread's `scratch`.
    pub fn run(&self, inputs: &[&Tensor], out: &mut Tensor, scratch: &mut Scratch) -> Result<(), OpError> {
        match self {
            Kernel::Op(op) => op.eval(inputs, out),
            Kernel::Dense(dense) => {
                // Rows of any rank (a sequence's steps): the leading dims
                // are the rows, the last the features.
                let shape = inputs[0].shape();
                let (Some((&k, leading)), true) = (shape.split_last(), shape.len() >= 2) else {
                    return Err(OpError::shape(format!("expected a matrix input, got shape {shape:?}")));
                };
                let m = opset::ops::kernel::checked_len(leading)?;
                let xs = inputs[0].as_slice::<f32>()?;
                let n = dense.weights.shape().get(1).copied().unwrap_or(0);
                dense.apply(xs, [m, k], out, &[m, n], &mut scratch.partial).map_err(OpError::Shape)
            }
            Kernel::Conv(conv) => conv.run(inputs[0], out, scratch).map_err(OpError::Shape),
            Kernel::ShapeOf(program) => program.run(inputs, out, &mut scratch.shapes),
            Kernel::Softmax => {
                let x = inputs[0];
                let c = *x.shape().last().ok_or_else(|| OpError::shape("softmax needs rank >= 1"))?;
                activation::softmax(crate::cpu::isa(), x.as_slice::<f32>()?, c, out.output_slice::<f32>(x.shape()));
                Ok(())
            }
            Kernel::Loop(_) | Kernel::LoopOutput(_) => {
                Err(OpError::Invalid { what: "loop", reason: "a loop runs with its state".into() })
            }
        }
    }
}

/// An activation the dense kernel fuses after its product and bias.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Activation {
    /// [`Relu`].
    Relu,
    /// [`Tanh`].
    Tanh,
    /// [`Sigmoid`].
    Sigmoid,
}

impl Activation {
    /// The activation `op` computes, if the dense kernel fuses it.
    pub fn of(op: &Op) -> Option<Activation> {
        match op {
            Op::Relu(_) => Some(Activation::Relu),
            Op::Tanh(_) => Some(Activation::Tanh),
            Op::Sigmoid(_) => Some(Activation::Sigmoid),
            _ => None,
        }
    }

    /// The activation of one element, as its op computes it.
    #[inline]
    fn apply(self, v: f32) -> f32 {
        match self {
            Activation::Relu => Relu::apply(v),
            Activation::Tanh => Tanh::apply(v),
            Activation::Sigmoid => Sigmoid::apply(v),
        }
    }
}

impl Conv {
    fn run(&self, x: &Tensor, out: &mut Tensor, scratch: &mut Scratch) -> Result<(), String> {
        let &[n, h, w, c] = x.shape() else {
            return Err(format!("expected an image [n, h, w, c], got shape {:?}", x.shape()));
        };
        let [kh, kw] = self.ksize;
        let [oh, ow] = self.sliding.output_dims([h, w], self.ksize);
        let f = self.dense.weights.shape().get(1).copied().unwrap_or(0);
        let (m, k) = (n * oh * ow, kh * kw * c);
        let len = m.checked_mul(k).filter(|&l| l <= opset::ops::MAX_ELEMENTS);
        let len = len.ok_or_else(|| format!("the patches of a {:?} image are over the element limit", x.shape()))?;
        let xs = x.as_slice::<f32>().map_err(|e| e.to_string())?;
        // One row of `k` per output pixel, zeros where a tap falls in the padding.
        let patches = &mut scratch.patches;
        patches.clear();
        patches.resize(len, 0.0);
        self.sliding.for_each_tap([n, h, w], self.ksize, |o, t, i| {
            patches[o * k + t * c..][..c].copy_from_slice(&xs[i * c..][..c]);
        });
        self.dense.apply(patches, [m, k], out, &[n, oh, ow, f], &mut scratch.partial)
    }
}

impl Dense {
    /// The layer, its weights laid out for the instruction set in use when
    /// they are at most [`PACK_LIMIT`].
    pub fn new(weights: Tensor, bias: Option<Tensor>, activation: Option<Activation>, threads: usize) -> Dense {
        let packed = match (weights.shape(), weights.as_slice::<f32>()) {
            (&[k, n], Ok(w)) if w.len() <= PACK_LIMIT => gemm::Packed::new(crate::cpu::isa(), w, k, n),
            _ => None,
        };
        Dense { weights, packed, bias, activation, threads }
    }

    /// `out = activation(xs @ weights + bias)` for the `[m, k]` rows of
    /// `xs`, `out` taking `shape` (`m * n` elements).
    fn apply(
        &self,
        xs: &[f32],
        [m, k]: [usize; 2],
        out: &mut Tensor,
        shape: &[usize],
        scratch: &mut Vec<f32>,
    ) -> Result<(), String> {
        let &[wk, n] = self.weights.shape() else {
            return Err(format!("expected matrix weights, got shape {:?}", self.weights.shape()));
        };
        if k != wk {
            return Err(format!("input has {k} columns, the weights {wk} rows"));
        }
        let w = self.weights.as_slice::<f32>().map_err(|e| e.to_string())?;
        let bias = self.bias.as_ref().map(|b| b.as_slice::<f32>()).transpose().map_err(|e| e.to_string())?;
        let dst = out.output_slice::<f32>(shape);
        if xs.len() != m * k || w.len() != k * n || dst.len() != m * n || bias.is_some_and(|b| b.len() != n) {
            return Err(format!("buffers do not match [{m}, {k}] @ [{k}, {n}]"));
        }
        let threads = if self.threads > 1 && m * k * n >= PARALLEL_MIN_MACS { self.threads } else { 1 };
        if k * n <= TINY {
            self.tiny(xs, w, [m, k, n], bias, dst);
            Ok(())
        } else if let Some(packed) = &self.packed {
            self.panels(packed, xs, [m, k, n], bias, dst, threads)
        } else if m < GEMM_MIN_ROWS {
            self.streamed(xs, w, [m, k, n], bias, dst, scratch, threads)
        } else {
            self.packed(xs, w, [m, k, n], bias, dst, threads)
        }
    }

    /// A few weights (a linear model): plain loops beat any dispatch.
    fn tiny(&self, xs: &[f32], w: &[f32], [m, k, n]: [usize; 3], bias: Option<&[f32]>, dst: &mut [f32]) {
        for (r, row) in dst.chunks_exact_mut(n.max(1)).enumerate().take(m) {
            for (j, o) in row.iter_mut().enumerate() {
                *o = (0..k).map(|i| xs[r * k + i] * w[i * n + j]).sum();
            }
            self.finish(row, bias);
        }
    }

    /// A few rows, the weights streamed in place ([`gemv`]). On several
    /// threads each takes a contiguous block of the weights' rows (a slice
    /// of the sum over `k`): the first block's sums land in `dst`, the
    /// others' in `scratch`, all added up at the end. Two cores thus read
    /// half the weights each, in order, which is what batch 1 is bound by.
    #[allow(clippy::too_many_arguments)] // the shapes and buffers of one call
    fn streamed(
        &self,
        xs: &[f32],
        w: &[f32],
        [m, k, n]: [usize; 3],
        bias: Option<&[f32]>,
        dst: &mut [f32],
        scratch: &mut Vec<f32>,
        threads: usize,
    ) -> Result<(), String> {
        let depth = k.div_ceil(threads).next_multiple_of(4).max(1);
        let chunks = k.div_ceil(depth);
        let size = m * n;
        scratch.clear();
        scratch.resize(chunks.saturating_sub(1) * size, 0.0);
        for row in dst.chunks_exact_mut(n.max(1)) {
            match bias {
                Some(b) => row.copy_from_slice(b),
                None => row.fill(0.0),
            }
        }
        let (first, rest) = (Disjoint::new(dst), Disjoint::new(scratch));
        let isa = crate::cpu::isa();
        crate::pool::for_each_chunk(chunks, &|c| {
            let rows = c * depth..k.min((c + 1) * depth);
            // SAFETY: chunk 0 alone writes `dst`, chunk c > 0 alone block c - 1 of `scratch`.
            let sums = unsafe { if c == 0 { first.slice(0..size) } else { rest.slice((c - 1) * size..c * size) } };
            gemv::accumulate(isa, &xs[rows.start..], k, rows.len(), &w[rows.start * n..], sums, n);
        })
        .map_err(|e| e.to_string())?;
        for part in scratch.chunks_exact(size.max(1)) {
            dst.iter_mut().zip(part).for_each(|(d, p)| *d += p);
        }
        dst.chunks_exact_mut(n.max(1)).for_each(|row| self.finish(row, None));
        Ok(())
    }

    /// Weights laid out in panels ([`gemm`]): each thread computes the bias
    /// plus the product for a block of panels (of columns) and finishes its
    /// columns.
    fn panels(
        &self,
        packed: &gemm::Packed,
        xs: &[f32],
        [m, k, n]: [usize; 3],
        bias: Option<&[f32]>,
        dst: &mut [f32],
        threads: usize,
    ) -> Result<(), String> {
        if packed.dims() != [k, n] {
            return Err(format!("input has {k} columns, the weights {:?}", packed.dims()));
        }
        let init = bias.map_or(gemm::Init::Zero, gemm::Init::Row);
        let panels = packed.panels();
        let per = panels.div_ceil(threads.max(1)).max(1);
        let out = Disjoint::new(dst);
        crate::pool::for_each_chunk(panels.div_ceil(per), &|c| {
            let range = c * per..panels.min((c + 1) * per);
            let cols = range.start * packed.width()..n.min(range.end * packed.width());
            // SAFETY: chunks are disjoint blocks of panels, so of columns;
            // `out` holds the `m` rows of `n`.
            unsafe {
                packed.product_panels(xs, k, m, range, init, out.ptr);
                for r in 0..m {
                    self.finish(out.slice(r * n + cols.start..r * n + cols.end), None);
                }
            }
        })
        .map_err(|e| e.to_string())
    }

    /// Many rows: matrixmultiply's packed GEMM. On several threads each
    /// computes a block of columns, packing its block of the weights itself.
    fn packed(
        &self,
        xs: &[f32],
        w: &[f32],
        [m, k, n]: [usize; 3],
        bias: Option<&[f32]>,
        dst: &mut [f32],
        threads: usize,
    ) -> Result<(), String> {
        let chunks = n.div_ceil(n.div_ceil(threads).next_multiple_of(COLUMN_ALIGN).max(1));
        let width = n.div_ceil(chunks.max(1));
        let out = Disjoint::new(dst);
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

    /// `out[.., cols] = activation(xs @ w[.., cols] + bias[cols])`: the
    /// packed GEMM overwriting the output (beta 0), then the bias and the
    /// activation in one pass per row.
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
        let a = ArrayView2::from_shape((m, k), xs).map_err(|e| e.to_string())?;
        let b = ArrayView2::from_shape((k, n), w).map_err(|e| e.to_string())?;
        let b = b.slice(ndarray::s![.., cols.clone()]);
        // SAFETY (both `out` accesses): columns `cols` are ours.
        ndarray::linalg::general_mat_mul(1.0, &a, &b, 0.0, &mut unsafe { out.columns(m, n, &cols) });
        let bias = bias.map(|b| &b[cols.clone()]);
        for r in 0..m {
            self.finish(unsafe { out.slice(r * n + cols.start..r * n + cols.end) }, bias);
        }
        Ok(())
    }

    /// `row = activation(row + bias)`, one loop per activation so each vectorizes.
    fn finish(&self, row: &mut [f32], bias: Option<&[f32]>) {
        match (bias, self.activation) {
            (None, None) => {}
            (None, Some(Activation::Relu)) => row.iter_mut().for_each(|v| *v = v.max(0.0)),
            (None, Some(act)) => row.iter_mut().for_each(|v| *v = act.apply(*v)),
            (Some(b), None) => row.iter_mut().zip(b).for_each(|(v, &b)| *v += b),
            (Some(b), Some(Activation::Relu)) => row.iter_mut().zip(b).for_each(|(v, &b)| *v = (*v + b).max(0.0)),
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
