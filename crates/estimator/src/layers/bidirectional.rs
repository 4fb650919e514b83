//! `Bidirectional`: TensorFlow 1's `tf.nn.bidirectional_dynamic_rnn`.

use opset::ops::array::ReverseSequence;

use crate::Result;
use crate::builder::{GraphBuilder, Output};
use crate::layers::recurrent::{RecurrentCell, RnnOutput, dynamic_rnn};

/// Two recurrent layers over the same sequences, one reading each sequence
/// forwards, the other backwards within its own length (the padding stays
/// at the end, as `tf.reverse_sequence` leaves it): TensorFlow 1's
/// `bidirectional_dynamic_rnn(cell_fw, cell_bw, x, sequence_length)`, its
/// variables under `bidirectional_rnn/fw/` and `bidirectional_rnn/bw/`.
#[derive(Debug, Clone, PartialEq)]
pub struct Bidirectional<C> {
    /// The layer reading forwards.
    pub forward: C,
    /// The layer reading backwards.
    pub backward: C,
}

/// What a [`Bidirectional`] layer computes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BidirectionalOutput {
    /// `[batch, time, 2 units]`: the forward and backward outputs at each
    /// step, side by side (zeros past each sequence's length).
    pub outputs: Output,
    /// The forward layer's outputs and final state.
    pub forward: RnnOutput,
    /// The backward layer's outputs (put back in reading order) and final
    /// state (after the sequence's first element).
    pub backward: RnnOutput,
}

impl<C: RecurrentCell + Clone> Bidirectional<C> {
    /// A forward and a backward copy of `cell`.
    pub fn new(cell: C) -> Bidirectional<C> {
        Bidirectional { forward: cell.clone(), backward: cell }
    }
}

impl<C: RecurrentCell> Bidirectional<C> {
    /// Runs both layers over `x` (`[batch, time, features]`) within each
    /// sequence's length (`lengths`, `[batch]`), in a scope
    /// `bidirectional_rnn` (`bidirectional_rnn_1`...).
    ///
    /// ```
    /// use estimator::layers::{Bidirectional, Lstm};
    /// use estimator::GraphBuilder;
    /// use opset::{DataType, Shape};
    ///
    /// let mut g = GraphBuilder::new();
    /// let x = g.placeholder("x", DataType::F32, Shape(vec![None, None, Some(8)]))?;
    /// let lengths = g.placeholder("lengths", DataType::I32, Shape(vec![None]))?;
    /// let birnn = Bidirectional::new(Lstm::new(16)).apply(&mut g, x, lengths)?;
    /// assert_eq!(g.ty(birnn.outputs).shape, Shape(vec![None, None, Some(32)]));
    /// assert_eq!(g.variables()[2].name, "bidirectional_rnn/bw/lstm_cell/kernel");
    /// # Ok::<(), estimator::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`dynamic_rnn`].
    pub fn apply(&self, g: &mut GraphBuilder, x: Output, lengths: Output) -> Result<BidirectionalOutput> {
        g.scoped("bidirectional_rnn", |g| {
            let forward = g.scoped("fw", |g| dynamic_rnn(g, &self.forward, x, lengths))?;
            let reverse = ReverseSequence { seq_axis: 1, batch_axis: 0 };
            let reversed = g.op(reverse, &[x, lengths])?;
            let mut backward = g.scoped("bw", |g| dynamic_rnn(g, &self.backward, reversed, lengths))?;
            backward.outputs = g.op(reverse, &[backward.outputs, lengths])?;
            let outputs = g.concat(&[forward.outputs, backward.outputs], -1)?;
            Ok(BidirectionalOutput { outputs, forward, backward })
        })
    }
}
