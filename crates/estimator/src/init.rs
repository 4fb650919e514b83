//! Variable initializers, seeded and reproducible.

use opset::{DataType, Tensor};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

/// How a variable gets its first value.
#[derive(Debug, Clone, PartialEq)]
pub enum Initializer {
    /// All zeros (TensorFlow's default for biases).
    Zeros,
    /// Every element `value`.
    Constant(f32),
    /// Uniform in `[-limit, limit]` with `limit = sqrt(6 / (fan_in + fan_out))`
    /// (TensorFlow's default for kernels, `glorot_uniform`). For a shape
    /// `[.., fan_in, fan_out]`, as TensorFlow computes the fans.
    GlorotUniform,
    /// These values, row-major (as `tf.constant_initializer(list)`); a
    /// list of the wrong length fills with zeros.
    Values(Vec<f32>),
    /// Uniform in `[min, max)`.
    Uniform {
        /// Lower bound.
        min: f32,
        /// Upper bound.
        max: f32,
    },
}

impl Initializer {
    /// The initial value of a variable named `name` of `dtype` and `shape`.
    /// The same `seed` and name always give the same value.
    pub fn value(&self, name: &str, dtype: DataType, shape: &[usize], seed: u64) -> Tensor {
        let n: usize = shape.iter().product();
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ opset::fnv1a64(name.as_bytes()));
        let mut uniform = |min: f32, max: f32| {
            // 24 random bits: every f32 in [0, 1) with that spacing.
            let unit = (rng.next_u32() >> 8) as f32 / (1u32 << 24) as f32;
            min + (max - min) * unit
        };
        let values: Vec<f32> = match self {
            Initializer::Zeros => vec![0.0; n],
            Initializer::Constant(v) => vec![*v; n],
            Initializer::GlorotUniform => {
                let (fan_in, fan_out) = fans(shape);
                let limit = (6.0 / (fan_in + fan_out).max(1.0)).sqrt();
                (0..n).map(|_| uniform(-limit, limit)).collect()
            }
            Initializer::Uniform { min, max } => (0..n).map(|_| uniform(*min, *max)).collect(),
            Initializer::Values(v) if v.len() == n => v.clone(),
            Initializer::Values(_) => vec![0.0; n],
        };
        let as_f32 = Tensor::from_vec(shape.to_vec(), values).unwrap_or_else(|_| Tensor::scalar(0.0f32));
        match dtype {
            DataType::F32 => as_f32,
            other => {
                // Non-float variables (a step counter...) start from the same values, cast.
                use opset::ops::OpDef;
                opset::ops::array::Cast { to: other }.run(&[&as_f32]).unwrap_or_else(|_| Tensor::empty(other))
            }
        }
    }
}

/// TensorFlow's fan computation: the last two dims, scaled by the receptive field.
fn fans(shape: &[usize]) -> (f32, f32) {
    match shape {
        [] => (1.0, 1.0),
        [n] => (*n as f32, *n as f32),
        [rest @ .., fan_in, fan_out] => {
            let field: usize = rest.iter().product();
            ((fan_in * field) as f32, (fan_out * field) as f32)
        }
    }
}
