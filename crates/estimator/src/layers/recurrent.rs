//! Recurrent layers over padded batches of variable-length sequences, as
//! TensorFlow 1's `tf.nn.dynamic_rnn(cell, inputs, sequence_length)`
//! builds them: one `While` loop over the time steps, each step the cell.

use opset::ops::array::{ListSetItem, SliceSpec, StridedSlice};
use opset::{DataType, Shape, Tensor};

use crate::builder::{GraphBuilder, Output};
use crate::{Error, Result};

/// One step of a recurrent layer: what [`dynamic_rnn`] runs at every time
/// step. [`super::Lstm`] and [`super::Gru`] are cells; a cell of your own
/// runs in the same loop.
pub trait RecurrentCell {
    /// The scope of the cell's variables (`lstm_cell`, `gru_cell`).
    fn scope(&self) -> &'static str;

    /// The size of the output (and of each part of the state).
    fn units(&self) -> usize;

    /// How many `[batch, units]` tensors the state holds (LSTM: `c` and
    /// `h`; GRU: `h`); the last is the output.
    fn state_size(&self) -> usize;

    /// Declares the cell's variables (in the current scope) for inputs of
    /// `features` per step; returns them in the order [`RecurrentCell::step`] reads them.
    ///
    /// # Errors
    /// [`Error::Build`] if a name is taken.
    fn variables(&self, g: &mut GraphBuilder, features: usize) -> Result<Vec<Output>>;

    /// One step on `x` (`[batch, features]`) from `state`: the next state
    /// (the output is its last part).
    ///
    /// # Errors
    /// [`Error::Build`] if an op does not fit its inputs.
    fn step(&self, b: &mut GraphBuilder, x: Output, state: &[Output], weights: &[Output]) -> Result<Vec<Output>>;
}

/// What a recurrent layer computes over a batch of sequences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RnnOutput {
    /// `[batch, time, units]`: each step's output, zeros past each
    /// sequence's length.
    pub outputs: Output,
    /// The state after each sequence's last step (its parts, each `[batch,
    /// units]`; the initial zeros for an empty sequence).
    pub state: Vec<Output>,
}

impl RnnOutput {
    /// The output at each sequence's last step (`[batch, units]`): the
    /// last part of the state.
    pub fn last(&self) -> Option<Output> {
        self.state.last().copied()
    }
}

/// `tf.nn.dynamic_rnn(cell, x, sequence_length=lengths)` from a zero
/// state, `x` batch-major (`[batch, time, features]`, f32, features known),
/// `lengths` (`[batch]`, i32 or i64): one loop over the time steps; a step
/// at or past a sequence's length leaves its state as it was and writes
/// zeros to its output. The cell's variables go in the current scope under
/// [`RecurrentCell::scope`] (as `rnn/lstm_cell/kernel` when called in scope `rnn`).
///
/// The loop is the one TensorFlow builds (the input's row at the step
/// index, the cell, `Select` on `time >= lengths`, the output written to a
/// list at the step index), so that the predictor runs an exported LSTM or
/// GRU as its fused step.
///
/// # Errors
/// [`Error::Build`] naming the input if it is not `[batch, time, features]`
/// f32 with known features, or `lengths` is not an integer vector.
pub fn dynamic_rnn(g: &mut GraphBuilder, cell: &dyn RecurrentCell, x: Output, lengths: Output) -> Result<RnnOutput> {
    let features = match (g.ty(x).dtype, g.ty(x).dims()) {
        (DataType::F32, [_, _, Some(f)]) => *f,
        _ => {
            return Err(Error::Build {
                node: g.name(x).to_owned(),
                reason: format!(
                    "a recurrent layer needs f32 [batch, time, features] with known features, got {} {}",
                    g.ty(x).dtype,
                    g.ty(x).shape
                ),
            });
        }
    };
    if !matches!((g.ty(lengths).dtype, g.ty(lengths).dims()), (DataType::I32 | DataType::I64, [_])) {
        return Err(Error::Build {
            node: g.name(lengths).to_owned(),
            reason: format!(
                "sequence lengths must be an integer vector [batch], got {} {}",
                g.ty(lengths).dtype,
                g.ty(lengths).shape
            ),
        });
    }
    let units = cell.units();
    let weights = g.scoped(cell.scope(), |g| cell.variables(g, features))?;
    let xs = g.transpose(x, &[1, 0, 2])?;
    let lengths = g.cast(lengths, DataType::I64)?;
    // The run-time sizes: steps T, batch B.
    let steps = g.shape_dim(xs, 0)?;
    let (time_batch, batch) = (g.shape_slice(xs, 0, 2)?, g.shape_slice(xs, 1, 2)?);
    let units_dim = g.constant(Tensor::from_vec(vec![1], vec![units as i64])?)?;
    let zeros = |g: &mut GraphBuilder, lead: Output| -> Result<Output> {
        let dims = g.concat(&[lead, units_dim], 0)?;
        g.fill(dims, Tensor::scalar(0.0f32))
    };
    let (zero_output, list) = (zeros(g, batch)?, zeros(g, time_batch)?);
    let t0 = g.constant(Tensor::scalar(0i64))?;
    // Loop variables: t, xs, the output list, zeros, lengths, T, the
    // weights, the state.
    const FIXED: usize = 6;
    let n_weights = weights.len();
    let mut vars = vec![t0, xs, list, zero_output, lengths, steps];
    vars.extend(&weights);
    vars.extend(std::iter::repeat_n(zero_output, cell.state_size()));
    let rows = Shape(vec![None, Some(units)]);
    let mut invariants = vec![None, None, Some(Shape(vec![None, None, Some(units)])), Some(rows.clone())];
    invariants.resize(FIXED + n_weights, None);
    invariants.resize(vars.len(), Some(rows));
    let mut l = g.while_loop_with_invariants("while", &vars, &invariants, |b, v| {
        let [t, xs, list, zero_output, lengths, steps] = [v[0], v[1], v[2], v[3], v[4], v[5]];
        let (weights, state) = v[FIXED..].split_at(n_weights);
        let cond = b.less(t, steps)?;
        let x_t = b.gather(xs, t)?;
        let next = cell.step(b, x_t, state, weights)?;
        let past = b.greater_equal(t, lengths)?;
        let past = b.expand_dims(past, 1)?;
        let one = b.constant(Tensor::scalar(1i64))?;
        let mut outs = vec![b.add(t, one)?, xs];
        let output = next
            .last()
            .copied()
            .ok_or_else(|| Error::Build { node: "while".into(), reason: "the cell's step returned no state".into() })?;
        let written = b.select(past, zero_output, output)?;
        outs.push(b.op(ListSetItem, &[list, t, written])?);
        outs.extend([zero_output, lengths, steps]);
        outs.extend(weights);
        for (&s, n) in state.iter().zip(next) {
            outs.push(b.select(past, s, n)?);
        }
        Ok((cond, outs))
    })?;
    let list = g.loop_output(&mut l, 2)?;
    let outputs = g.transpose(list, &[1, 0, 2])?;
    let state = (0..cell.state_size())
        .map(|k| g.loop_output(&mut l, FIXED + n_weights + k))
        .collect::<Result<Vec<Output>>>()?;
    Ok(RnnOutput { outputs, state })
}

/// `x`'s columns (`[batch, N * units]`) in `N` blocks of `units`, as
/// `tf.split(x, N, axis=1)`.
pub(super) fn split_columns<const N: usize>(b: &mut GraphBuilder, x: Output, units: usize) -> Result<[Output; N]> {
    let mut parts = [x; N];
    for (k, part) in parts.iter_mut().enumerate() {
        let (begin, end) = ((k * units) as i64, ((k + 1) * units) as i64);
        let spec = SliceSpec {
            begin: vec![0, begin],
            end: vec![0, end],
            strides: vec![1, 1],
            begin_mask: 1,
            end_mask: 1,
            ..SliceSpec::default()
        };
        *part = b.op(StridedSlice { spec }, &[x])?;
    }
    Ok(parts)
}

/// A cell's step called with the wrong number of state parts or weights.
pub(super) fn arity(cell: &str, state: usize, weights: usize) -> Error {
    Error::Build {
        node: cell.into(),
        reason: format!("a {cell} step called with {state} state part(s) and {weights} weight(s)"),
    }
}
