//! The matrix product of dense layers, convolutions (as patches) and
//! recurrent steps: `out += x @ w` for row-major `x` (`[m, k]`) and
//! constant weights `w` (`[k, n]`) laid out once, at load, in panels.
//!
//! A panel is `NR` columns of the weights (zero-padded past `n`), stored
//! row after row, so that a product streams each panel in order. The
//! output is computed in tiles of `R` rows by `P` panels, the `R x P x NR`
//! sums held in vector registers over a block of [`KC`] rows of the depth:
//! per row of the depth, `P x NR / lanes` loads of weights and `R`
//! broadcasts of inputs feed `R x P x NR / lanes` fused multiply-adds. The
//! tiles keep 8 to 24 sums in flight, enough to cover the latency of the
//! multiply-adds on every instruction set ([`crate::cpu`] picks the copy):
//! AVX-512 panels are 32 columns (two 16-lane registers), AVX2 and portable
//! ones 16.

use std::ops::Range;

use crate::cpu::Isa;

/// Depth per block: 256 rows of two 32-column panels are 64 KiB, which
/// stay in L2 while every row block passes over them.
const KC: usize = 256;

/// Weights `[k, n]` in panels of [`Packed::width`] columns, for the
/// instruction set they were laid out for.
#[derive(Debug)]
pub(crate) struct Packed {
    isa: Isa,
    k: usize,
    n: usize,
    data: Vec<f32>,
}

impl Packed {
    /// `w` (`[k, n]`, row-major) in panels for `isa`; `None` if `w` does
    /// not hold `k * n` values.
    pub fn new(isa: Isa, w: &[f32], k: usize, n: usize) -> Option<Packed> {
        if w.len() != k.checked_mul(n)? {
            return None;
        }
        // At most 16 columns (a tag set, a few classes): AVX2's 16-wide
        // panels, half of AVX-512's 32 of which most would be padding.
        let isa = match isa {
            Isa::Avx512 if n <= 16 => Isa::Avx2,
            isa if isa.supported() => isa,
            _ => Isa::Portable,
        };
        let nr = width(isa);
        let panels = n.div_ceil(nr);
        let mut data = vec![0.0f32; panels.checked_mul(k)?.checked_mul(nr)?];
        for (p, panel) in data.chunks_exact_mut((k * nr).max(1)).enumerate().take(panels) {
            let cols = p * nr..n.min((p + 1) * nr);
            for (row, dst) in w.chunks_exact(n.max(1)).zip(panel.chunks_exact_mut(nr)) {
                dst[..cols.len()].copy_from_slice(&row[cols.clone()]);
            }
        }
        Some(Packed { isa, k, n, data })
    }

    /// The weights' `[k, n]`.
    pub fn dims(&self) -> [usize; 2] {
        [self.k, self.n]
    }

    /// How many columns a panel holds.
    pub fn width(&self) -> usize {
        width(self.isa)
    }

    /// How many panels there are.
    pub fn panels(&self) -> usize {
        self.n.div_ceil(self.width())
    }

    /// `out[r] = init[r] + x[r] @ w` for the `m` rows of the row-major
    /// `[m, n]` `out`, row `r` of `x` being `x[r * lda..][..k]`. Operands
    /// that do not fit the dims leave `out` as it was.
    pub fn product(&self, x: &[f32], lda: usize, m: usize, init: Init<'_>, out: &mut [f32]) {
        if out.len() < m * self.n {
            return;
        }
        // SAFETY: `out` holds the `m` rows of `n` the product writes, and
        // this call is its only user.
        unsafe { self.product_panels(x, lda, m, 0..self.panels(), init, out.as_mut_ptr()) }
    }

    /// As [`Packed::product`], for the columns of panels `panels` only,
    /// into the `m` rows of `n` at `out`.
    ///
    /// # Safety
    /// `out` points to `m * n` writable floats whose columns of `panels`
    /// nothing else reads or writes meanwhile.
    pub unsafe fn product_panels(
        &self,
        x: &[f32],
        lda: usize,
        m: usize,
        panels: Range<usize>,
        init: Init<'_>,
        out: *mut f32,
    ) {
        let fits = |len: usize, stride: usize, width: usize| {
            m == 0
                || (stride >= width
                    && (m - 1).checked_mul(stride).and_then(|l| l.checked_add(width)).is_some_and(|l| l <= len))
        };
        let init_fits = match init {
            Init::Out | Init::Zero => true,
            Init::Row(row) => row.len() >= self.n,
            Init::Rows { values, stride } => fits(values.len(), stride, self.n),
        };
        if !fits(x.len(), lda, self.k) || !init_fits || panels.end > self.panels() || panels.is_empty() {
            return;
        }
        let product = Product { w: self, x, lda, m, panels, init, out };
        #[cfg(target_arch = "x86_64")]
        match self.isa {
            // SAFETY (both): the CPU has the instruction set the weights
            // were laid out for (`new` checked); the operands fit.
            Isa::Avx512 => return unsafe { x86::avx512(&product) },
            Isa::Avx2 => return unsafe { x86::avx2(&product) },
            Isa::Portable => {}
        }
        portable(&product);
    }
}

/// The panel width for `isa`.
fn width(isa: Isa) -> usize {
    match isa {
        Isa::Avx512 => 32,
        Isa::Avx2 | Isa::Portable => 16,
    }
}

/// What a product's sums start from, before the first row of the depth.
/// Starting from a buffer other than the output (rather than copying it
/// there first) also keeps a tile's first loads from waiting on stores
/// just made to the same place.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Init<'a> {
    /// Zeros.
    Zero,
    /// The output's own values (`out += x @ w`).
    Out,
    /// The same row for every output row (a bias), at least `n` long.
    Row(&'a [f32]),
    /// Row `r` at `values[r * stride..][..n]`.
    Rows { values: &'a [f32], stride: usize },
}

/// One product's operands, checked to fit.
struct Product<'a> {
    w: &'a Packed,
    x: &'a [f32],
    lda: usize,
    m: usize,
    init: Init<'a>,
    panels: Range<usize>,
    out: *mut f32,
}

/// One tile's place: depth block `[k0, k0 + depth)`, panels from `p0`,
/// rows from `r0`.
#[derive(Clone, Copy)]
struct At {
    k0: usize,
    depth: usize,
    p0: usize,
    r0: usize,
}

impl Product<'_> {
    /// Calls `tile(at, panels)` for every tile of rows `rows` in blocks
    /// of `R` (a multiple of them) and of the product's panels in groups of
    /// at most `P`, depth block by depth block.
    #[inline(always)]
    fn tiles<const R: usize, const P: usize>(&self, rows: Range<usize>, mut tile: impl FnMut(At, usize)) {
        for k0 in (0..self.w.k).step_by(KC) {
            let depth = KC.min(self.w.k - k0);
            for p0 in self.panels.clone().step_by(P) {
                let panels = P.min(self.panels.end - p0);
                for r0 in rows.clone().step_by(R) {
                    tile(At { k0, depth, p0, r0 }, panels);
                }
            }
        }
    }

    /// Where row `r` (of the tile at `at`) column `c` starts from: `init`
    /// at the first depth block, the output after.
    ///
    /// # Safety
    /// The row and column are within the product.
    #[inline(always)]
    unsafe fn start_ptr(&self, at: At, r: usize, c: usize) -> Option<*const f32> {
        let row = at.r0 + r;
        // SAFETY: within `out` and `init` (checked against the dims).
        unsafe {
            match (at.k0, self.init) {
                (0, Init::Zero) => None,
                (0, Init::Row(values)) => Some(values.as_ptr().add(c)),
                (0, Init::Rows { values, stride }) => Some(values.as_ptr().add(row * stride + c)),
                _ => Some(self.out.add(row * self.w.n + c).cast_const()),
            }
        }
    }

    /// The value row `r` column `c` of the tile at `at` starts from.
    ///
    /// # Safety
    /// As for [`Product::start_ptr`].
    #[inline(always)]
    unsafe fn start(&self, at: At, r: usize, c: usize) -> f32 {
        // SAFETY: as the caller promises.
        unsafe { self.start_ptr(at, r, c).map_or(0.0, |p| *p) }
    }

    /// The columns a tile at panel `p0` of `panels` panels writes.
    fn columns(&self, p0: usize, panels: usize) -> Range<usize> {
        let nr = self.w.width();
        p0 * nr..self.w.n.min((p0 + panels) * nr)
    }
}

/// The portable copy: tiles of 4 rows by one panel, sums in arrays.
fn portable(pr: &Product<'_>) {
    let (nr, k, n) = (width(Isa::Portable), pr.w.k, pr.w.n);
    pr.tiles::<1, 1>(0..pr.m, |at, _| {
        let cols = pr.columns(at.p0, 1);
        let mut sums = [0.0f32; 16];
        for (s, c) in sums.iter_mut().zip(cols.clone()) {
            // SAFETY: row `r0` and the product's columns are within `out` (and `init`, checked).
            *s = unsafe { pr.start(at, 0, c) };
        }
        let panel = &pr.w.data[at.p0 * k * nr..];
        let x = &pr.x[at.r0 * pr.lda + at.k0..][..at.depth];
        for (i, &a) in x.iter().enumerate() {
            let w = &panel[(at.k0 + i) * nr..][..nr];
            sums.iter_mut().zip(w).for_each(|(s, &w)| *s += a * w);
        }
        for (c, s) in cols.zip(sums) {
            // SAFETY: row `r0` and columns of the product's panels are within `out`.
            unsafe { *pr.out.add(at.r0 * n + c) = s };
        }
    });
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    //! The AVX-512 and AVX2 tiles, with intrinsics: the sums stay in
    //! registers for a whole depth block.

    use std::arch::x86_64::*;

    use super::{At, Product};

    /// Dispatches each tile shape to its copy: `$tile::<R, P>` for the
    /// `main` block of rows and each remainder, `P` reduced for the last
    /// group of panels.
    macro_rules! shapes {
        // A group of `P` panels, or the last group's fewer.
        (@last $tile:ident, $pr:expr, $at:expr, $panels:expr, $r:literal, $p:literal) => {{
            #[allow(unreachable_patterns)] // when `P` is itself 2 or 3
            match $panels {
                $p => $tile::<$r, $p>($pr, $at),
                3 => $tile::<$r, 3>($pr, $at),
                2 => $tile::<$r, 2>($pr, $at),
                _ => $tile::<$r, 1>($pr, $at),
            }
        }};
        ($pr:expr, $tile:ident, main: ($r:literal, $p:literal), rest: [$(($rr:literal, $rp:literal)),*]) => {{
            let pr = $pr;
            let main = pr.m - pr.m % $r;
            pr.tiles::<$r, $p>(0..main, |at, panels| shapes!(@last $tile, pr, at, panels, $r, $p));
            match pr.m - main {
                $($rr => pr.tiles::<$rr, $rp>(main..pr.m, |at, panels| shapes!(@last $tile, pr, at, panels, $rr, $rp)),)*
                _ => {}
            }
        }};
    }

    /// 6 rows by 2 panels of 32 (24 sums), 1 to 5 rows left with 2 to 4
    /// panels (8 to 20 sums).
    ///
    /// # Safety
    /// The CPU has AVX-512 (F); the weights are laid out for it; `pr` fits.
    #[target_feature(enable = "avx512f,avx2,fma")]
    pub(super) unsafe fn avx512(pr: &Product<'_>) {
        shapes!(pr, tile_avx512, main: (6, 2), rest: [(5, 2), (4, 2), (3, 2), (2, 3), (1, 4)]);
    }

    /// 6 rows by 1 panel of 16 (12 sums), 1 to 5 rows left with 1 to 4
    /// panels (8 to 12 sums).
    ///
    /// # Safety
    /// The CPU has AVX2 and FMA; the weights are laid out for it; `pr` fits.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn avx2(pr: &Product<'_>) {
        shapes!(pr, tile_avx2, main: (6, 1), rest: [(5, 1), (4, 1), (3, 2), (2, 2), (1, 4)]);
    }

    #[inline(always)]
    fn tile_avx512<const R: usize, const P: usize>(pr: &Product<'_>, at: At) {
        // SAFETY: only called from `avx512`, on a CPU with AVX-512.
        unsafe { tile::<__m512, R, P>(pr, at) }
    }

    #[inline(always)]
    fn tile_avx2<const R: usize, const P: usize>(pr: &Product<'_>, at: At) {
        // SAFETY: only called from `avx2`, on a CPU with AVX2 and FMA.
        unsafe { tile::<__m256, R, P>(pr, at) }
    }

    /// A vector register of f32 lanes: what a tile needs of one.
    ///
    /// # Safety
    /// Every method needs the CPU to have the register's instruction set;
    /// pointers must cover the lanes read or written.
    trait Lanes: Copy {
        /// f32 lanes per register.
        const LANES: usize;
        unsafe fn zero() -> Self;
        unsafe fn splat(x: f32) -> Self;
        unsafe fn load(p: *const f32) -> Self;
        /// The first `lanes` from `p`, zeros after.
        unsafe fn load_first(p: *const f32, lanes: usize) -> Self;
        /// `a * b + c`, one instruction.
        unsafe fn fmadd(a: Self, b: Self, c: Self) -> Self;
        /// The first `lanes` to `p`, nothing written after.
        unsafe fn store_first(self, p: *mut f32, lanes: usize);
    }

    impl Lanes for __m512 {
        const LANES: usize = 16;
        #[inline(always)]
        unsafe fn zero() -> Self {
            unsafe { _mm512_setzero_ps() }
        }
        #[inline(always)]
        unsafe fn splat(x: f32) -> Self {
            unsafe { _mm512_set1_ps(x) }
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            unsafe { _mm512_loadu_ps(p) }
        }
        #[inline(always)]
        unsafe fn load_first(p: *const f32, lanes: usize) -> Self {
            unsafe { _mm512_maskz_loadu_ps(mask16(lanes), p) }
        }
        #[inline(always)]
        unsafe fn fmadd(a: Self, b: Self, c: Self) -> Self {
            unsafe { _mm512_fmadd_ps(a, b, c) }
        }
        #[inline(always)]
        unsafe fn store_first(self, p: *mut f32, lanes: usize) {
            unsafe { _mm512_mask_storeu_ps(p, mask16(lanes), self) }
        }
    }

    /// The mask of the first `lanes` of 16.
    #[inline(always)]
    fn mask16(lanes: usize) -> __mmask16 {
        ((1u32 << lanes.min(16)) - 1) as __mmask16
    }

    impl Lanes for __m256 {
        const LANES: usize = 8;
        #[inline(always)]
        unsafe fn zero() -> Self {
            unsafe { _mm256_setzero_ps() }
        }
        #[inline(always)]
        unsafe fn splat(x: f32) -> Self {
            unsafe { _mm256_set1_ps(x) }
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            unsafe { _mm256_loadu_ps(p) }
        }
        #[inline(always)]
        unsafe fn load_first(p: *const f32, lanes: usize) -> Self {
            unsafe {
                let first = _mm256_cmpgt_epi32(
                    _mm256_set1_epi32(lanes.min(8) as i32),
                    _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
                );
                _mm256_maskload_ps(p, first)
            }
        }
        #[inline(always)]
        unsafe fn fmadd(a: Self, b: Self, c: Self) -> Self {
            unsafe { _mm256_fmadd_ps(a, b, c) }
        }
        /// Whole registers stored plainly, a partial one through a buffer:
        /// AMD cores microcode `vmaskmovps` stores (tens of cycles each).
        #[inline(always)]
        unsafe fn store_first(self, p: *mut f32, lanes: usize) {
            unsafe {
                match lanes {
                    8.. => _mm256_storeu_ps(p, self),
                    0 => {}
                    lanes => {
                        let mut spill = [0.0f32; 8];
                        _mm256_storeu_ps(spill.as_mut_ptr(), self);
                        std::ptr::copy_nonoverlapping(spill.as_ptr(), p, lanes);
                    }
                }
            }
        }
    }

    /// `R` rows by `P` panels of two registers' width each: the sums start
    /// from `init` (so that the stores at the end depend on nothing but the
    /// sums), run over the depth block in registers, and are stored masked
    /// to the tile's columns.
    ///
    /// # Safety
    /// The CPU has `V`'s instruction set; the weights are laid out in
    /// panels of `2 * V::LANES`, zero-padded; `at` lies within `pr`.
    #[inline(always)]
    #[allow(clippy::needless_range_loop)] // index loops keep the sums in registers
    unsafe fn tile<V: Lanes, const R: usize, const P: usize>(pr: &Product<'_>, at: At) {
        let (k, n, lanes) = (pr.w.k, pr.w.n, V::LANES);
        let nr = 2 * lanes;
        let cols = pr.columns(at.p0, P);
        // Register `v` of a row: where it starts, how many of its lanes are columns.
        let column =
            |v: usize| ((cols.start + lanes * v).min(cols.end), cols.end.saturating_sub(cols.start + lanes * v));
        // SAFETY (all): as the caller promises; loads and stores keep to
        // the tile's rows and columns (`column`), weights to whole panels.
        unsafe {
            let panels: [*const f32; P] =
                std::array::from_fn(|p| pr.w.data.as_ptr().add(((at.p0 + p) * k + at.k0) * nr));
            let x = pr.x.as_ptr().add(at.r0 * pr.lda + at.k0);
            // Index loops over constant bounds: fully unrolled, the sums
            // become registers (iterators over the array kept a copy of it
            // in memory, stored on every step).
            let mut acc = [[[V::zero(); 2]; P]; R];
            for r in 0..R {
                for pv in 0..2 * P {
                    let (c, width) = column(pv);
                    if let Some(from) = pr.start_ptr(at, r, c) {
                        acc[r][pv / 2][pv % 2] = V::load_first(from, width);
                    }
                }
            }
            for i in 0..at.depth {
                let mut ws = [[V::zero(); 2]; P];
                for p in 0..P {
                    for v in 0..2 {
                        ws[p][v] = V::load(panels[p].add(i * nr + lanes * v));
                    }
                }
                for r in 0..R {
                    let a = V::splat(*x.add(r * pr.lda + i));
                    for p in 0..P {
                        for v in 0..2 {
                            acc[r][p][v] = V::fmadd(a, ws[p][v], acc[r][p][v]);
                        }
                    }
                }
            }
            for r in 0..R {
                for pv in 0..2 * P {
                    let (c, width) = column(pv);
                    acc[r][pv / 2][pv % 2].store_first(pr.out.add((at.r0 + r) * n + c), width);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every instruction set's copy (those this CPU has) against plain
    /// sums: every row remainder of a tile, partial last panels and panel
    /// groups, several depth blocks, an input stride wider than the rows.
    #[test]
    fn every_instruction_set_computes_the_product() {
        for (m, k, n) in [(1, 3, 5), (7, 11, 37), (13, 300, 40), (6, 600, 64), (2, 1, 1), (17, 9, 129)] {
            let lda = k + 3;
            let x: Vec<f32> = (0..m * lda).map(|i| ((i * 5 % 17) as f32 - 8.0) / 7.0).collect();
            let w: Vec<f32> = (0..k * n).map(|i| ((i * 7 % 23) as f32 - 11.0) / 10.0).collect();
            let want: Vec<f64> = (0..m * n)
                .map(|o| {
                    let (r, c) = (o / n, o % n);
                    1.0 + (0..k).map(|i| f64::from(x[r * lda + i]) * f64::from(w[i * n + c])).sum::<f64>()
                })
                .collect();
            for isa in Isa::ALL.into_iter().filter(|isa| isa.supported()) {
                let packed = Packed::new(isa, &w, k, n).unwrap();
                let mut out = vec![1.0f32; m * n];
                packed.product(&x, lda, m, Init::Out, &mut out);
                for (o, (a, b)) in out.iter().zip(&want).enumerate() {
                    assert!(
                        (f64::from(*a) - b).abs() <= 1e-4 * b.abs().max(1.0),
                        "{isa} {m}x{k}x{n} [{o}]: {a} vs {b}"
                    );
                }
            }
        }
    }

    /// The sums start from zeros, a bias row, or rows of another buffer
    /// with its own stride, across depth blocks.
    #[test]
    fn products_start_from_what_they_are_given() {
        let (m, k, n) = (7, 300, 20);
        let x: Vec<f32> = (0..m * k).map(|i| ((i * 5 % 17) as f32 - 8.0) / 70.0).collect();
        let w: Vec<f32> = (0..k * n).map(|i| ((i * 7 % 23) as f32 - 11.0) / 10.0).collect();
        let bias: Vec<f32> = (0..n).map(|c| c as f32).collect();
        let rows: Vec<f32> = (0..m * (n + 3)).map(|i| i as f32 / 3.0).collect();
        let dot = |r: usize, c: usize| (0..k).map(|i| x[r * k + i] * w[i * n + c]).sum::<f32>();
        for isa in Isa::ALL.into_iter().filter(|isa| isa.supported()) {
            let packed = Packed::new(isa, &w, k, n).unwrap();
            type Start<'a> = &'a dyn Fn(usize, usize) -> f32;
            let cases: [(Init<'_>, Start<'_>); 3] = [
                (Init::Zero, &|_, _| 0.0),
                (Init::Row(&bias), &|_, c| bias[c]),
                (Init::Rows { values: &rows, stride: n + 3 }, &|r, c| rows[r * (n + 3) + c]),
            ];
            for (init, start) in cases {
                let mut out = vec![f32::NAN; m * n];
                packed.product(&x, k, m, init, &mut out);
                for (o, got) in out.iter().enumerate() {
                    let want = start(o / n, o % n) + dot(o / n, o % n);
                    assert!((got - want).abs() <= 1e-3 * want.abs().max(1.0), "{isa} {init:?} [{o}]: {got} vs {want}");
                }
            }
        }
    }

    #[test]
    fn operands_that_do_not_fit_are_left_alone() {
        assert!(Packed::new(Isa::Portable, &[1.0; 5], 2, 3).is_none());
        let packed = Packed::new(Isa::detected(), &[1.0; 6], 2, 3).unwrap();
        let mut out = vec![0.0f32; 6];
        packed.product(&[1.0; 3], 2, 2, Init::Out, &mut out);
        assert_eq!(out, [0.0; 6], "x holds 3 values, two rows of 2 need 4");
    }
}
