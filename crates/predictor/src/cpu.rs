//! Which instruction set the kernels run with, chosen once per process at
//! run time: the widest the CPU has (AVX-512, else AVX2 with FMA, else
//! portable code), capped by the `PREDICTOR_ISA` environment variable
//! (`avx512`, `avx2` or `portable`) so that tests and benches can force a
//! narrower path on any host. Hosts of one kind differ (some have AVX-512,
//! some do not), so nothing here is decided at compile time.

use std::sync::OnceLock;

/// An instruction set the kernels are compiled for, narrowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Isa {
    /// Plain Rust, no target features: any CPU.
    Portable,
    /// x86-64 with AVX2 and FMA: 8 lanes of f32.
    Avx2,
    /// x86-64 with AVX-512 (F, BW, DQ, VL) besides AVX2 and FMA: 16 lanes.
    Avx512,
}

impl Isa {
    /// Every instruction set, narrowest first.
    pub const ALL: [Isa; 3] = [Isa::Portable, Isa::Avx2, Isa::Avx512];

    /// Whether this CPU can run code compiled for `self`.
    pub fn supported(self) -> bool {
        match self {
            Isa::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma"),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => {
                Isa::Avx2.supported()
                    && std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512bw")
                    && std::arch::is_x86_feature_detected!("avx512dq")
                    && std::arch::is_x86_feature_detected!("avx512vl")
            }
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// The name `PREDICTOR_ISA` takes for it.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Portable => "portable",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
        }
    }

    /// The widest instruction set this CPU supports.
    pub fn detected() -> Isa {
        Isa::ALL.into_iter().rev().find(|isa| isa.supported()).unwrap_or(Isa::Portable)
    }
}

impl std::fmt::Display for Isa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The instruction set the kernels use in this process: [`Isa::detected`],
/// capped by `PREDICTOR_ISA` when it names a narrower one (an unknown name
/// is ignored, with a warning on stderr, rather than failing a server).
pub fn isa() -> Isa {
    static ISA: OnceLock<Isa> = OnceLock::new();
    *ISA.get_or_init(|| {
        let detected = Isa::detected();
        let Ok(wanted) = std::env::var("PREDICTOR_ISA") else { return detected };
        match Isa::ALL.into_iter().find(|isa| isa.name() == wanted.trim().to_ascii_lowercase()) {
            Some(cap) => cap.min(detected),
            None => {
                eprintln!("predictor: PREDICTOR_ISA={wanted:?} is not one of avx512, avx2, portable; using {detected}");
                detected
            }
        }
    })
}

/// Defines `fn $name(isa: Isa, args..)`, which runs
/// `$body::<FUSED, WIDE>(args..)` compiled for `isa`: `FUSED` says that
/// `mul_add` is one instruction (AVX2 and AVX-512), `WIDE` that vectors
/// have 16 lanes of f32 (AVX-512), so a body can size its register tiles.
/// The body is written once, as portable code the compiler vectorizes, and
/// each instruction set gets its own copy. An `isa` the CPU lacks runs the
/// portable copy, so the function is safe to call with any.
macro_rules! multiversion {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? = $body:ident;) => {
        $(#[$meta])*
        $vis fn $name(isa: $crate::cpu::Isa, $($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
                fn avx512($($arg: $ty),*) $(-> $ret)? {
                    $body::<true, true>($($arg),*)
                }
                #[target_feature(enable = "avx2,fma")]
                fn avx2($($arg: $ty),*) $(-> $ret)? {
                    $body::<true, false>($($arg),*)
                }
                match isa {
                    // SAFETY (both): the CPU supports the features the copy is compiled for.
                    $crate::cpu::Isa::Avx512 if isa.supported() => return unsafe { avx512($($arg),*) },
                    $crate::cpu::Isa::Avx2 | $crate::cpu::Isa::Avx512 if $crate::cpu::Isa::Avx2.supported() => {
                        return unsafe { avx2($($arg),*) };
                    }
                    _ => {}
                }
            }
            let _ = isa;
            $body::<false, false>($($arg),*)
        }
    };
}
pub(crate) use multiversion;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_detected_set_is_supported_and_the_cap_only_narrows() {
        assert!(Isa::detected().supported());
        assert!(isa() <= Isa::detected());
        assert!(Isa::Portable.supported());
        assert_eq!(Isa::ALL.map(|isa| isa.name()), ["portable", "avx2", "avx512"]);
    }
}
