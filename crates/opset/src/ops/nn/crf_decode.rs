//! `CrfDecode`.

use crate::graph::{Attr, Node};
use crate::ops::kernel::{indices, slice};
use crate::ops::rule::{TensorType, expect_dtype, unify};
use crate::ops::{Arity, OpDef, OpError};
use crate::{Assets, DataType, Result, Tensor};

/// The best tag sequence of a linear-chain CRF by the Viterbi algorithm,
/// with `tf.contrib.crf.crf_decode`'s semantics (TensorFlow builds it from
/// two loops; here it is one kernel): the highest-scoring tags of each
/// sequence within its length, the first maximum on ties, tag 0 past the
/// length, a length of 0 decoded as a length of 1.
///
/// Inputs: `potentials` (f32 `[batch, time, tags]`, the unary scores; at
/// least one step), `lengths` (i32 or i64 `[batch]`, each in `0..=time`),
/// `transitions` (f32 `[tags, tags]`: tag `i` followed by tag `j` scores
/// `[i, j]`). Attribute: `output`, which of `crf_decode`'s results the node
/// yields: `"tags"` (i32 `[batch, time]`) or `"score"` (f32 `[batch]`, the
/// best sequence's score).
///
/// Gradient: none (a maximum's choice has none; the training loss is the
/// likelihood).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrfDecode {
    /// Which result the node yields.
    pub output: CrfOutput,
}

/// The results of [`CrfDecode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrfOutput {
    /// The best tags, i32 `[batch, time]`.
    Tags,
    /// Their score, f32 `[batch]`.
    Score,
}

impl CrfOutput {
    fn name(self) -> &'static str {
        match self {
            CrfOutput::Tags => "tags",
            CrfOutput::Score => "score",
        }
    }
}

impl OpDef for CrfDecode {
    const NAME: &'static str = "CrfDecode";
    const SINCE: u32 = 6;
    const INPUTS: Arity = Arity::Exactly(3);

    fn parse(node: &Node, _: &Assets) -> Result<CrfDecode> {
        let output = match node.attr_str("output")? {
            "tags" => CrfOutput::Tags,
            "score" => CrfOutput::Score,
            other => return Err(node.error(format!("output {other:?}: expected \"tags\" or \"score\""))),
        };
        Ok(CrfDecode { output })
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        vec![("output", Attr::Str(self.output.name().to_owned()))]
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        let (potentials, lengths, transitions) = (&inputs[0], &inputs[1], &inputs[2]);
        expect_dtype(inputs, 0, DataType::F32)?;
        expect_dtype(inputs, 2, DataType::F32)?;
        if !matches!(lengths.dtype, DataType::I32 | DataType::I64) {
            return Err(OpError::Dtype { input: 1, expected: "i32 or i64", got: lengths.dtype });
        }
        let &[batch, time, tags] = potentials.dims() else {
            return Err(OpError::shape(format!("potentials {}: expected [batch, time, tags]", potentials.shape)));
        };
        let fits = match (lengths.dims(), transitions.dims()) {
            (&[n], &[from, to]) => {
                unify(n, batch).is_some() && unify(from, tags).is_some() && unify(to, tags).is_some()
            }
            _ => false,
        };
        if !fits {
            return Err(OpError::shape(format!(
                "lengths {} and transitions {} for potentials {}: expected [batch] and [tags, tags]",
                lengths.shape, transitions.shape, potentials.shape
            )));
        }
        Ok(match self.output {
            CrfOutput::Tags => TensorType::new(DataType::I32, vec![batch, time]),
            CrfOutput::Score => TensorType::new(DataType::F32, vec![batch]),
        })
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        let (potentials, transitions) = (slice::<f32>(inputs[0])?, slice::<f32>(inputs[2])?);
        let lengths = indices(inputs[1], 1)?;
        let &[batch, time, n] = inputs[0].shape() else {
            return Err(OpError::shape(format!("potentials {:?}: expected [batch, time, tags]", inputs[0].shape())));
        };
        if lengths.len() != batch || inputs[2].shape() != [n, n] {
            return Err(OpError::shape(format!(
                "lengths {:?} and transitions {:?} for potentials {:?}",
                inputs[1].shape(),
                inputs[2].shape(),
                inputs[0].shape()
            )));
        }
        if time == 0 && batch > 0 {
            return Err(OpError::shape("potentials have no time step: a sequence decodes at least one"));
        }
        let mut viterbi = Viterbi::new(time, n);
        match self.output {
            CrfOutput::Tags => {
                let tags = out.output_vec::<i32>(&[batch, time]);
                for (b, &len) in lengths.iter().enumerate() {
                    let len = valid_length(len, time)?;
                    let row = &potentials[b * time * n..(b + 1) * time * n];
                    viterbi.run(row, transitions, len);
                    let start = tags.len();
                    tags.resize(start + time, 0);
                    viterbi.backtrack(&mut tags[start..start + len]);
                }
            }
            CrfOutput::Score => {
                let scores = out.output_vec::<f32>(&[batch]);
                for (b, &len) in lengths.iter().enumerate() {
                    let len = valid_length(len, time)?;
                    scores.push(viterbi.run(&potentials[b * time * n..(b + 1) * time * n], transitions, len));
                }
            }
        }
        Ok(())
    }

    #[cfg(feature = "grad")]
    fn grad(&self, _: &[&Tensor], _: &Tensor, _: &Tensor) -> crate::ops::grad::Grads {
        Ok(vec![None, None, None])
    }
}

/// A length as the decoder reads it: at least 1, at most `time`.
fn valid_length(len: i64, time: usize) -> Result<usize, OpError> {
    usize::try_from(len).ok().filter(|&l| l <= time).map(|l| l.max(1)).ok_or_else(|| OpError::Invalid {
        what: "lengths",
        reason: format!("a length of {len} for sequences of {time} steps"),
    })
}

/// One sequence's Viterbi pass, its buffers reused across sequences.
struct Viterbi {
    n: usize,
    /// The best score ending in each tag at the current step.
    alpha: Vec<f32>,
    next: Vec<f32>,
    /// `[time, tags]`: the best previous tag of each tag at each step.
    pointers: Vec<u32>,
    /// The best last tag of the last run.
    last: usize,
}

impl Viterbi {
    fn new(time: usize, n: usize) -> Viterbi {
        Viterbi { n, alpha: vec![0.0; n], next: vec![0.0; n], pointers: vec![0; time * n], last: 0 }
    }

    /// The forward pass over the first `len` steps of `potentials` (`[time,
    /// tags]`); returns the best score.
    fn run(&mut self, potentials: &[f32], transitions: &[f32], len: usize) -> f32 {
        let n = self.n;
        self.alpha.copy_from_slice(&potentials[..n]);
        for t in 1..len {
            for j in 0..n {
                let (mut best, mut from) = (f32::NEG_INFINITY, 0);
                for i in 0..n {
                    let s = self.alpha[i] + transitions[i * n + j];
                    if s > best || i == 0 {
                        (best, from) = (s, i);
                    }
                }
                self.next[j] = best + potentials[t * n + j];
                self.pointers[t * n + j] = from as u32;
            }
            std::mem::swap(&mut self.alpha, &mut self.next);
        }
        let (mut best, mut last) = (f32::NEG_INFINITY, 0);
        for (j, &a) in self.alpha.iter().enumerate() {
            if a > best || j == 0 {
                (best, last) = (a, j);
            }
        }
        self.last = last;
        best
    }

    /// The best tags of the last run, into `tags` (its length).
    fn backtrack(&self, tags: &mut [i32]) {
        let mut tag = self.last;
        for t in (0..tags.len()).rev() {
            tags[t] = tag as i32;
            if t > 0 {
                tag = self.pointers[t * self.n + tag] as usize;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn decode(output: CrfOutput, potentials: &Tensor, lengths: &Tensor, transitions: &Tensor) -> Tensor {
        CrfDecode { output }.run(&[potentials, lengths, transitions]).unwrap()
    }

    #[test]
    fn finds_the_best_path_within_each_length() {
        // Two tags; staying costs nothing, switching costs 1.
        let transitions = Tensor::from(array![[0.0f32, -1.0], [-1.0, 0.0]]);
        let potentials = Tensor::from(array![
            [[1.0f32, 0.0], [0.0, 0.5], [0.0, 3.0]],
            [[0.0, 1.0], [9.0, 0.0], [9.0, 9.0]],
            [[0.0, 2.0], [5.0, 5.0], [5.0, 5.0]]
        ]);
        let lengths = Tensor::from(array![3i32, 2, 0]);
        let tags = decode(CrfOutput::Tags, &potentials, &lengths, &transitions);
        // Row 0: 0,1,1 scores 1 - 1 + 0.5 + 3 = 3.5 (best: 1,1,1 scores 3.5 too, 0,0,1 = 1 + 0 - 1 + 3 = 3).
        assert_eq!(tags, Tensor::from(array![[0i32, 1, 1], [0, 0, 0], [1, 0, 0]]));
        let scores = decode(CrfOutput::Score, &potentials, &lengths, &transitions);
        assert_eq!(scores, Tensor::from(array![3.5f32, 9.0, 2.0]));
    }

    #[test]
    fn bad_inputs_are_refused() {
        let transitions = Tensor::from(array![[0.0f32]]);
        let potentials = Tensor::from(array![[[1.0f32], [2.0]]]);
        let run = |lengths: Tensor| CrfDecode { output: CrfOutput::Tags }.run(&[&potentials, &lengths, &transitions]);
        assert!(run(Tensor::from(array![3i32])).is_err(), "a length past the steps");
        assert!(run(Tensor::from(array![-1i64])).is_err(), "a negative length");
        assert!(run(Tensor::from(array![1i32, 1])).is_err(), "a length per sequence");
        let empty = Tensor::from_vec(vec![1, 0, 1], Vec::<f32>::new()).unwrap();
        let op = CrfDecode { output: CrfOutput::Score };
        assert!(op.run(&[&empty, &Tensor::from(array![0i32]), &transitions]).is_err());
        let node = Node::new("d", "CrfDecode", &["p", "l", "t"]).with("output", Attr::Str("best".into()));
        assert!(CrfDecode::parse(&node, &Assets::new()).is_err());
    }
}
