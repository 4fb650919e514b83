//! `RandomUniform`.

use std::cell::RefCell;
use std::collections::HashMap;

use crate::graph::{Attr, Node};
use crate::ops::kernel::{checked_len, indices};
use crate::ops::{Arity, OpDef, OpError, TensorType};
use crate::{Assets, DataType, Result, Tensor};

/// Uniform random floats in `[0, 1)` of a shape computed at run time:
/// TensorFlow's `RandomUniform` (`tf.random.uniform(shape)`, f32), what
/// dropout draws its mask from in training.
///
/// Input: `shape` (an i32 or i64 vector, each dim >= 0). Attributes: `seed`
/// and `seed2` (ints, optional, 0 when absent), as TensorFlow's graph-level
/// and op-level seeds.
///
/// Every run draws new values. The stream is a counter-based generator
/// (SplitMix64) keyed by the seeds and by how many times an op of these
/// seeds ran before on the thread: a single-threaded training run is
/// reproducible, though its values are not TensorFlow's (Philox) values.
///
/// Gradient: none (the values do not depend on an input's values).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RandomUniform {
    /// The graph-level seed.
    pub seed: i64,
    /// The op-level seed.
    pub seed2: i64,
}

impl OpDef for RandomUniform {
    const NAME: &'static str = "RandomUniform";
    const SINCE: u32 = 6;
    const INPUTS: Arity = Arity::Exactly(1);
    const SHAPE_FROM_VALUES: bool = true;

    fn parse(node: &Node, _: &Assets) -> Result<RandomUniform> {
        let int = |key: &str| if node.attrs.contains_key(key) { node.attr_int(key) } else { Ok(0) };
        Ok(RandomUniform { seed: int("seed")?, seed2: int("seed2")? })
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        vec![("seed", Attr::Int(self.seed)), ("seed2", Attr::Int(self.seed2))]
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        let shape = &inputs[0];
        match (shape.dtype, shape.dims()) {
            (DataType::I32 | DataType::I64, [Some(rank)]) => Ok(TensorType::new(DataType::F32, vec![None; *rank])),
            (DataType::I32 | DataType::I64, _) => {
                Err(OpError::shape(format!("shape must be a vector of known length, got {}", shape.shape)))
            }
            (got, _) => Err(OpError::Dtype { input: 0, expected: "i32 or i64", got }),
        }
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        let dims = indices(inputs[0], 0)?;
        let shape: Vec<usize> = dims
            .iter()
            .map(|&d| usize::try_from(d))
            .collect::<Result<_, _>>()
            .map_err(|_| OpError::Invalid { what: "shape", reason: format!("{dims:?} must all be >= 0") })?;
        let n = checked_len(&shape)?;
        let mut state = self.stream();
        out.output_vec::<f32>(&shape).extend((0..n).map(|_| {
            // The top 24 bits of a 64-bit draw: every f32 in [0, 1) on a grid of 2^-24.
            (splitmix64(&mut state) >> 40) as f32 * (1.0 / (1u64 << 24) as f32)
        }));
        Ok(())
    }

    #[cfg(feature = "grad")]
    fn grad(&self, _: &[&Tensor], _: &Tensor, _: &Tensor) -> crate::ops::grad::Grads {
        Ok(vec![None])
    }
}

thread_local! {
    /// How many times an op of each pair of seeds ran on this thread.
    static RUNS: RefCell<HashMap<(i64, i64), u64>> = RefCell::new(HashMap::new());
}

impl RandomUniform {
    /// The generator's state for this run: the seeds and the run's number.
    fn stream(&self) -> u64 {
        let run = RUNS.with(|runs| {
            let mut runs = runs.borrow_mut();
            let count = runs.entry((self.seed, self.seed2)).or_insert(0);
            *count += 1;
            *count
        });
        let mut state = self.seed as u64;
        let a = splitmix64(&mut state);
        let mut state = a ^ (self.seed2 as u64).rotate_left(32);
        let b = splitmix64(&mut state);
        b ^ run.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
}

/// SplitMix64: the next 64 random bits, advancing `state`.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn draws_new_uniform_values_each_run() {
        let op = RandomUniform { seed: 1, seed2: 2 };
        let shape = Tensor::from(array![100i64, 50]);
        let (a, b) = (op.run(&[&shape]).unwrap(), op.run(&[&shape]).unwrap());
        assert_eq!(a.shape(), &[100, 50]);
        assert_ne!(a, b, "each run draws anew");
        let values = a.as_slice::<f32>().unwrap();
        assert!(values.iter().all(|v| (0.0..1.0).contains(v)));
        let mean = values.iter().sum::<f32>() / values.len() as f32;
        assert!((mean - 0.5).abs() < 0.02, "mean {mean}");
        let below_tenth = values.iter().filter(|&&v| v < 0.1).count() as f32 / values.len() as f32;
        assert!((below_tenth - 0.1).abs() < 0.02, "{below_tenth}");
    }

    #[test]
    fn a_thread_replays_its_seeds_stream() {
        let draw = || {
            std::thread::spawn(|| {
                let op = RandomUniform { seed: 7, seed2: 0 };
                let shape = Tensor::from(array![4i32]);
                (op.run(&[&shape]).unwrap(), op.run(&[&shape]).unwrap())
            })
            .join()
            .unwrap()
        };
        assert_eq!(draw(), draw());
        let other = RandomUniform { seed: 8, seed2: 0 }.run(&[&Tensor::from(array![4i32])]).unwrap();
        assert_ne!(draw().0, other);
    }

    #[test]
    fn bad_shapes_are_refused() {
        let op = RandomUniform::default();
        assert!(matches!(op.run(&[&Tensor::from(array![2i64, -1])]), Err(OpError::Invalid { .. })));
        assert!(matches!(op.run(&[&Tensor::from(array![1i64 << 40, 1 << 40])]), Err(OpError::TooLarge { .. })));
        assert!(op.infer(&[TensorType::new(DataType::F32, vec![Some(2)])]).is_err());
    }
}
