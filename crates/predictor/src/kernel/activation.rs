//! The fused kernels' activations, from one exponential each, written as
//! plain arithmetic so that a loop over a buffer vectorizes: they are most
//! of a recurrent step's time, and libm's `tanhf` and `expf` are scalar
//! calls. Within 3e-7 of libm's (the fused-versus-general tests check
//! 1e-6). `FUSED` computes `a * b + c` as one FMA, which is one
//! instruction only in the copies compiled with FMA
//! ([`crate::cpu::multiversion`]).

crate::cpu::multiversion! {
    /// Softmax of each row of `c` values of `x` into `out` (as long), as
    /// TensorFlow's: `e^(x - max) / sum`. The exponentials run as one pass
    /// over the whole buffer, so rows as short as a tag set's vectorize.
    pub fn softmax(x: &[f32], c: usize, out: &mut [f32]) = softmax_rows;
}

/// The softmax's passes, inlined into each instruction set's copy.
#[inline(always)]
fn softmax_rows<const FUSED: bool, const WIDE: bool>(x: &[f32], c: usize, out: &mut [f32]) {
    if c == 0 || out.len() != x.len() {
        return;
    }
    for (row, o) in x.chunks_exact(c).zip(out.chunks_exact_mut(c)) {
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        o.iter_mut().zip(row).for_each(|(o, &v)| *o = v - max);
    }
    out.iter_mut().for_each(|v| *v = exp::<FUSED>(*v));
    for o in out.chunks_exact_mut(c) {
        let scale = 1.0 / o.iter().sum::<f32>();
        o.iter_mut().for_each(|v| *v *= scale);
    }
}

/// `1 / (1 + e^-x)`.
#[inline(always)]
pub fn sigmoid<const FUSED: bool>(x: f32) -> f32 {
    1.0 / (1.0 + exp::<FUSED>(-x))
}

/// `tanh x = 2 sigmoid(2x) - 1`.
#[inline(always)]
pub fn tanh<const FUSED: bool>(x: f32) -> f32 {
    2.0 * sigmoid::<FUSED>(2.0 * x) - 1.0
}

/// `e^x`: `2^n * e^r` with `r = x - n ln 2` in `[-ln2/2, ln2/2]` and Cephes'
/// polynomial for `e^r` (relative error about 2e-7), clamped to the normal
/// floats.
#[inline(always)]
pub fn exp<const FUSED: bool>(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    const P: [f32; 6] = [1.987_569_1e-4, 1.398_2e-3, 8.333_452e-3, 4.166_579_6e-2, 1.666_666_5e-1, 0.5];
    let madd = |a: f32, b: f32, c: f32| if FUSED { a.mul_add(b, c) } else { a * b + c };
    let x = x.clamp(-87.0, 88.0);
    // Round to nearest by adding 1.5 * 2^23: the sum's low mantissa bits
    // then hold `n` as an integer (no `floor` or float-to-int conversion,
    // which would keep the loop from vectorizing).
    const ROUND: f32 = 12_582_912.0;
    let shifted = madd(x, LOG2E, ROUND);
    let n = shifted - ROUND;
    let r = madd(-n, LN2_LO, madd(-n, LN2_HI, x));
    let p = P[1..].iter().fold(P[0], |p, &c| madd(p, r, c));
    let e_r = madd(p, r * r, r + 1.0);
    let n_bits = shifted.to_bits().wrapping_sub(ROUND.to_bits());
    e_r * f32::from_bits(n_bits.wrapping_add(127) << 23)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_is_tensorflows_on_every_instruction_set() {
        let x: Vec<f32> = (0..35).map(|i| ((i * 7 % 11) as f32 - 5.0) * 1.7).collect();
        let t = opset::Tensor::from_vec(vec![7, 5], x.clone()).unwrap();
        let want = opset::ops::OpDef::run(&opset::ops::math::Softmax, &[&t]).unwrap();
        let want = want.as_slice::<f32>().unwrap();
        for isa in crate::cpu::Isa::ALL.into_iter().filter(|isa| isa.supported()) {
            let mut out = vec![0.0f32; 35];
            softmax(isa, &x, 5, &mut out);
            for (a, b) in out.iter().zip(want) {
                assert!((a - b).abs() <= 1e-6, "{isa}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn agree_with_libm() {
        for i in -2000..=2000 {
            let x = i as f32 / 100.0;
            let near = |a: f32, b: f32| (a - b).abs() <= 4e-7 * b.abs().max(1.0);
            for (fast, fused) in [(exp::<false>(x), exp::<true>(x)), (sigmoid::<false>(x), sigmoid::<true>(x))] {
                assert!(near(fast, fused), "{x}: {fast} vs {fused}");
            }
            assert!(near(exp::<true>(x), x.exp()), "exp {x}: {} vs {}", exp::<true>(x), x.exp());
            assert!(near(sigmoid::<true>(x), 1.0 / (1.0 + (-x).exp())), "sigmoid {x}");
            assert!(near(tanh::<true>(x), x.tanh()), "tanh {x}: {} vs {}", tanh::<true>(x), x.tanh());
        }
        assert_eq!(exp::<true>(-1000.0), exp::<true>(-87.0));
        assert!(exp::<true>(1000.0).is_finite());
    }
}
