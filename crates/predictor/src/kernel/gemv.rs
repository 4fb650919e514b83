//! Matrix-vector products for small batches: `out += x @ w` for a few rows
//! of `x`, streaming the row-major weights once, in order. At batch 1 this
//! is bound by reading the weights; with four rows per pass each weight
//! read serves four multiply-adds, and arithmetic becomes the bound. One
//! copy per instruction set ([`crate::cpu`]).

/// Rows of `x` computed per pass over the weights.
const ROWS: usize = 4;

/// Weight rows read per pass over the outputs.
const DEPTH: usize = 4;

crate::cpu::multiversion! {
    /// `out[r] += x[r] @ w` for each row `r` of the row-major `[m, n]` `out`,
    /// where row `r` of `x` is `x[r * x_stride..][..depth]` and `w` holds
    /// `depth` rows of `n` weights.
    pub fn accumulate(x: &[f32], x_stride: usize, depth: usize, w: &[f32], out: &mut [f32], n: usize) = blocks;
}

/// The rows in blocks of [`ROWS`], compiled once per instruction set.
/// `FUSED` uses `mul_add`, which is one instruction only where FMA is enabled.
#[inline(always)]
fn blocks<const FUSED: bool, const WIDE: bool>(
    x: &[f32],
    x_stride: usize,
    depth: usize,
    w: &[f32],
    out: &mut [f32],
    n: usize,
) {
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

#[cfg(test)]
mod tests {
    use crate::cpu::Isa;

    /// Every instruction set's copy (those this CPU has) against plain sums,
    /// for every block of rows and a depth that is not a multiple of four.
    #[test]
    fn every_instruction_set_computes_the_product() {
        let (depth, n) = (11, 37);
        let w: Vec<f32> = (0..depth * n).map(|i| ((i * 7 % 23) as f32 - 11.0) / 10.0).collect();
        for m in 1..=9 {
            let x: Vec<f32> = (0..m * depth).map(|i| ((i * 5 % 17) as f32 - 8.0) / 7.0).collect();
            let want: Vec<f32> = (0..m * n)
                .map(|o| {
                    (0..depth).map(|i| f64::from(x[o / n * depth + i]) * f64::from(w[i * n + o % n])).sum::<f64>()
                        as f32
                })
                .collect();
            for isa in Isa::ALL.into_iter().filter(|isa| isa.supported()) {
                let mut out = vec![0.0f32; m * n];
                super::accumulate(isa, &x, depth, depth, &w, &mut out, n);
                for (k, (a, b)) in out.iter().zip(&want).enumerate() {
                    assert!((a - b).abs() <= 1e-5, "{isa}, {m} rows, [{k}]: {a} vs {b}");
                }
            }
        }
    }
}
