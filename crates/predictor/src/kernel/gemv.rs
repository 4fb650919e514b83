//! Matrix-vector products for small batches: `out += x @ w` for a few rows
//! of `x`, streaming the row-major weights once, in order. At batch 1 this
//! is bound by reading the weights; with four rows per pass each weight
//! read serves four multiply-adds, and arithmetic becomes the bound. AVX2 +
//! FMA are used when the CPU has them (detected at run time; the portable
//! loop otherwise).

/// Rows of `x` computed per pass over the weights.
const ROWS: usize = 4;

/// Weight rows read per pass over the outputs.
const DEPTH: usize = 4;

/// `out[r] += x[r] @ w` for each row `r` of the row-major `[m, n]` `out`,
/// where row `r` of `x` is `x[r * x_stride..][..depth]` and `w` holds
/// `depth` rows of `n` weights.
pub fn accumulate(x: &[f32], x_stride: usize, depth: usize, w: &[f32], out: &mut [f32], n: usize) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU supports the features the function is compiled for.
        unsafe { accumulate_avx2_fma(x, x_stride, depth, w, out, n) };
        return;
    }
    blocks::<false>(x, x_stride, depth, w, out, n);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn accumulate_avx2_fma(x: &[f32], x_stride: usize, depth: usize, w: &[f32], out: &mut [f32], n: usize) {
    blocks::<true>(x, x_stride, depth, w, out, n);
}

/// The rows in blocks of [`ROWS`], compiled once per instruction set.
/// `FUSED` uses `mul_add`, which is one instruction only where FMA is enabled.
#[inline(always)]
fn blocks<const FUSED: bool>(x: &[f32], x_stride: usize, depth: usize, w: &[f32], out: &mut [f32], n: usize) {
    if n == 0 {
        return;
    }
    for (b, rows) in out.chunks_mut(ROWS * n).enumerate() {
        let x = &x[b * ROWS * x_stride..];
        match rows.len() / n {
            4 => block::<FUSED, 4>(x, x_stride, depth, w, rows, n),
            3 => block::<FUSED, 3>(x, x_stride, depth, w, rows, n),
            2 => block::<FUSED, 2>(x, x_stride, depth, w, rows, n),
            _ => block::<FUSED, 1>(x, x_stride, depth, w, rows, n),
        }
    }
}

/// `R` rows at once: each pass reads [`DEPTH`] weight rows and updates the
/// `R` output rows (which stay in L1) with them, in the order of the sum.
#[inline(always)]
fn block<const FUSED: bool, const R: usize>(
    x: &[f32],
    x_stride: usize,
    depth: usize,
    w: &[f32],
    out: &mut [f32],
    n: usize,
) {
    let madd = |acc: f32, a: f32, b: f32| if FUSED { a.mul_add(b, acc) } else { acc + a * b };
    let rows: [&mut [f32]; R] = {
        let mut rows = out.chunks_exact_mut(n);
        std::array::from_fn(|_| rows.next().unwrap_or_default())
    };
    // Re-sliced to `n` (which they are) so that the loops below know it.
    let rows = rows.map(|row| &mut row[..n]);
    let weights = |i: usize| &w[i * n..(i + 1) * n];
    let mut i = 0;
    while i + DEPTH <= depth {
        let ws: [&[f32]; DEPTH] = std::array::from_fn(|q| weights(i + q));
        let xs: [[f32; DEPTH]; R] = std::array::from_fn(|r| std::array::from_fn(|q| x[r * x_stride + i + q]));
        for j in 0..n {
            for r in 0..R {
                let mut acc = rows[r][j];
                for q in 0..DEPTH {
                    acc = madd(acc, xs[r][q], ws[q][j]);
                }
                rows[r][j] = acc;
            }
        }
        i += DEPTH;
    }
    while i < depth {
        let wi = weights(i);
        for r in 0..R {
            let xi = x[r * x_stride + i];
            rows[r].iter_mut().zip(wi).for_each(|(o, &wv)| *o = madd(*o, xi, wv));
        }
        i += 1;
    }
}
