//! Linear-chain conditional random fields over padded batches of tag
//! sequences, as `tf.contrib.crf` (TensorFlow Addons' `tfa.text.crf_*`)
//! builds them: the training loss ([`log_likelihood`], the forward
//! algorithm in log space, a `While` loop over the time steps) and the
//! prediction ([`decode`], Viterbi).
//!
//! Shapes: `unary` scores `[batch, time, tags]` (f32, tags known),
//! `lengths` `[batch]` (i32 or i64), `transitions` `[tags, tags]` (the
//! score of tag `i` followed by tag `j` at `[i, j]`).

use opset::ops::array::{OneHot, Range, SliceSpec, StridedSlice};
use opset::ops::nn::{CrfDecode, CrfOutput};
use opset::{DataType, Shape, Tensor};

use crate::builder::{GraphBuilder, Output};
use crate::init::Initializer;
use crate::{Error, Result};

/// The transition scores, a trainable variable `transitions` `[tags,
/// tags]` in the current scope, Glorot-uniform as `tf.get_variable`'s
/// default (what `crf_log_likelihood` creates when given none).
///
/// # Errors
/// [`Error::Build`] if the name is taken.
pub fn transitions(g: &mut GraphBuilder, tags: usize) -> Result<Output> {
    g.variable("transitions", &[tags, tags], Initializer::GlorotUniform)
}

/// The log-likelihood of each sequence's `tags` (`[batch, time]`, i32 or
/// i64; ignored past each length) under the CRF: its score (the unary
/// scores of its tags plus the transitions between them) minus the log of
/// the sum of the exponentiated scores of every tag sequence of its length.
/// `[batch]`; 0 for an empty sequence. The training loss is its negated mean.
///
/// ```
/// use estimator::{crf, GraphBuilder};
/// use opset::{DataType, Shape};
///
/// let mut g = GraphBuilder::new();
/// let unary = g.placeholder("scores", DataType::F32, Shape(vec![None, None, Some(5)]))?;
/// let tags = g.placeholder("tags", DataType::I32, Shape(vec![None, None]))?;
/// let lengths = g.placeholder("lengths", DataType::I32, Shape(vec![None]))?;
/// let transitions = crf::transitions(&mut g, 5)?;
/// let ll = crf::log_likelihood(&mut g, unary, tags, lengths, transitions)?;
/// let loss = g.reduce_mean(ll, &[], false)?;
/// let loss = g.neg(loss)?;
/// # Ok::<(), estimator::Error>(())
/// ```
///
/// # Errors
/// [`Error::Build`] naming the input whose dtype or shape does not fit.
pub fn log_likelihood(
    g: &mut GraphBuilder,
    unary: Output,
    tags: Output,
    lengths: Output,
    transitions: Output,
) -> Result<Output> {
    g.scoped("crf_log_likelihood", |g| {
        let score = sequence_score(g, unary, tags, lengths, transitions)?;
        let norm = log_norm(g, unary, lengths, transitions)?;
        g.sub(score, norm)
    })
}

/// The score of each sequence's `tags` (`[batch, time]`): the unary scores
/// of its tags within its length plus the transitions between consecutive
/// ones (`tf.contrib.crf.crf_sequence_score`). `[batch]`.
///
/// # Errors
/// As [`log_likelihood`].
pub fn sequence_score(
    g: &mut GraphBuilder,
    unary: Output,
    tags: Output,
    lengths: Output,
    transitions: Output,
) -> Result<Output> {
    let n = check(g, unary, lengths, transitions)?;
    if !matches!((g.ty(tags).dtype, g.ty(tags).dims().len()), (DataType::I32 | DataType::I64, 2)) {
        return Err(Error::Build {
            node: g.name(tags).to_owned(),
            reason: format!("tags must be integers [batch, time], got {} {}", g.ty(tags).dtype, g.ty(tags).shape),
        });
    }
    let (on, off) = (g.scalar(1.0)?, g.scalar(0.0)?);
    let hot = g.op(OneHot { depth: n, axis: -1 }, &[tags, on, off])?;
    let within = sequence_mask(g, unary, lengths)?;
    let within = g.cast(within, DataType::F32)?;
    // Unary: each step's score of its tag.
    let picked = g.mul(unary, hot)?;
    let picked = g.reduce_sum(picked, &[2], false)?;
    let picked = g.mul(picked, within)?;
    let unary_score = g.reduce_sum(picked, &[1], false)?;
    // Binary: transitions[tag[t - 1], tag[t]] for 1 <= t < length.
    let (from, to) = (time_slice(g, hot, None, Some(-1))?, time_slice(g, hot, Some(1), None)?);
    let from = g.einsum("btn,nm->btm", from, transitions)?;
    let pairs = g.mul(from, to)?;
    let pairs = g.reduce_sum(pairs, &[2], false)?;
    let later = time_slice(g, within, Some(1), None)?;
    let pairs = g.mul(pairs, later)?;
    let binary_score = g.reduce_sum(pairs, &[1], false)?;
    g.add(unary_score, binary_score)
}

/// The log of the sum, over every tag sequence of each sequence's length,
/// of its exponentiated score: the forward algorithm in log space
/// (`tf.contrib.crf.crf_log_norm`). `[batch]`; 0 for an empty sequence.
///
/// # Errors
/// As [`log_likelihood`].
pub fn log_norm(g: &mut GraphBuilder, unary: Output, lengths: Output, transitions: Output) -> Result<Output> {
    let n = check(g, unary, lengths, transitions)?;
    let steps = Steps::of(g, unary, lengths)?;
    let first = g.gather(steps.unary, steps.zero)?;
    let one = g.constant(Tensor::scalar(1i64))?;
    // t, unary [T, B, N], alpha [B, N], lengths, T, transitions.
    let vars = [one, steps.unary, first, steps.lengths, steps.count, transitions];
    let invariants = [None, None, Some(Shape(vec![None, Some(n)]))];
    let mut l = g.while_loop_with_invariants("forward", &vars, &invariants, |b, v| {
        let [t, unary, alpha, lengths, count, transitions] = [v[0], v[1], v[2], v[3], v[4], v[5]];
        let cond = b.less(t, count)?;
        let scores = b.expand_dims(alpha, 2)?;
        let scores = b.add(scores, transitions)?;
        let reached = b.reduce_logsumexp(scores, 1)?;
        let x = b.gather(unary, t)?;
        let next = b.add(reached, x)?;
        let within = b.less(t, lengths)?;
        let within = b.expand_dims(within, 1)?;
        let alpha = b.select(within, next, alpha)?;
        let one = b.constant(Tensor::scalar(1i64))?;
        Ok((cond, vec![b.add(t, one)?, unary, alpha, lengths, count, transitions]))
    })?;
    let alpha = g.loop_output(&mut l, 2)?;
    let norm = g.reduce_logsumexp(alpha, 1)?;
    let zero = g.constant(Tensor::scalar(0i64))?;
    let empty = g.less_equal(steps.lengths, zero)?;
    let nothing = g.scalar(0.0)?;
    g.select(empty, nothing, norm)
}

/// The best tag sequences found by [`decode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decoded {
    /// `[batch, time]` i32: the highest-scoring tags within each length,
    /// 0 past it.
    pub tags: Output,
    /// `[batch]` f32: their scores.
    pub score: Output,
}

/// The highest-scoring tag sequence of each sequence by the Viterbi
/// algorithm, with `tf.contrib.crf.crf_decode`'s semantics: the first
/// maximum on ties, 0 past each length, a length of 0 decoded as a length
/// of 1. One [`CrfDecode`] op per result (where TensorFlow builds two
/// loops), which the predictor runs as one kernel.
///
/// # Errors
/// As [`log_likelihood`].
pub fn decode(g: &mut GraphBuilder, unary: Output, lengths: Output, transitions: Output) -> Result<Decoded> {
    check(g, unary, lengths, transitions)?;
    g.scoped("crf_decode", |g| {
        let inputs = [unary, lengths, transitions];
        let tags = g.op(CrfDecode { output: CrfOutput::Tags }, &inputs)?;
        let score = g.op(CrfDecode { output: CrfOutput::Score }, &inputs)?;
        Ok(Decoded { tags, score })
    })
}

/// The number of tags, after checking the inputs' dtypes and shapes.
fn check(g: &GraphBuilder, unary: Output, lengths: Output, transitions: Output) -> Result<usize> {
    let wrong = |x: Output, expected: &str| Error::Build {
        node: g.name(x).to_owned(),
        reason: format!("expected {expected}, got {} {}", g.ty(x).dtype, g.ty(x).shape),
    };
    let n = match (g.ty(unary).dtype, g.ty(unary).dims()) {
        (DataType::F32, [_, _, Some(n)]) if *n > 0 => *n,
        _ => return Err(wrong(unary, "unary scores f32 [batch, time, tags] with the tags known")),
    };
    if !matches!((g.ty(lengths).dtype, g.ty(lengths).dims().len()), (DataType::I32 | DataType::I64, 1)) {
        return Err(wrong(lengths, "sequence lengths as an integer vector [batch]"));
    }
    if g.ty(transitions).dtype != DataType::F32 || !g.ty(transitions).shape.compatible(&Shape::known(&[n, n])) {
        return Err(wrong(transitions, &format!("transitions f32 [{n}, {n}]")));
    }
    Ok(n)
}

/// What the loops over time steps share.
struct Steps {
    /// `[time, batch, tags]`.
    unary: Output,
    /// `[batch]`, i64.
    lengths: Output,
    /// The number of steps, an i64 scalar.
    count: Output,
    /// 0, i64.
    zero: Output,
}

impl Steps {
    fn of(g: &mut GraphBuilder, unary: Output, lengths: Output) -> Result<Steps> {
        let unary = g.transpose(unary, &[1, 0, 2])?;
        let lengths = g.cast(lengths, DataType::I64)?;
        let count = g.shape_dim(unary, 0)?;
        let zero = g.constant(Tensor::scalar(0i64))?;
        Ok(Steps { unary, lengths, count, zero })
    }
}

/// `x[:, begin:end]` along the time dim (dim 1); `None` bounds run to the
/// start or the end.
fn time_slice(g: &mut GraphBuilder, x: Output, begin: Option<i64>, end: Option<i64>) -> Result<Output> {
    let spec = SliceSpec {
        begin: vec![0, begin.unwrap_or(0)],
        end: vec![0, end.unwrap_or(0)],
        strides: vec![1, 1],
        begin_mask: 1 | if begin.is_none() { 2 } else { 0 },
        end_mask: 1 | if end.is_none() { 2 } else { 0 },
        shrink_axis_mask: 0,
    };
    g.op(StridedSlice { spec }, &[x])
}

/// `[batch, time]` bool: whether each step is within its sequence's length
/// (`tf.sequence_mask`).
fn sequence_mask(g: &mut GraphBuilder, unary: Output, lengths: Output) -> Result<Output> {
    let time = g.shape_dim(unary, 1)?;
    let (zero, one) = (g.constant(Tensor::scalar(0i64))?, g.constant(Tensor::scalar(1i64))?);
    let steps = g.op(Range, &[zero, time, one])?;
    let steps = g.expand_dims(steps, 0)?;
    let lengths = g.cast(lengths, DataType::I64)?;
    let lengths = g.expand_dims(lengths, 1)?;
    g.less(steps, lengths)
}
