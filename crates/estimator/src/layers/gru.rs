//! `Gru`: TensorFlow 1's `tf.nn.rnn_cell.GRUCell` in a dynamic RNN.

use crate::Result;
use crate::builder::{GraphBuilder, Output};
use crate::init::Initializer;
use crate::layers::recurrent::{RecurrentCell, RnnOutput, dynamic_rnn};

/// A gated recurrent unit layer, as TensorFlow 1's `GRUCell(units)` run by
/// `tf.nn.dynamic_rnn` (the reset applied before the candidate's product):
///
/// ```text
/// r, u = split(sigmoid([x, h] @ gates/kernel + gates/bias), 2)
/// c = tanh([x, r * h] @ candidate/kernel + candidate/bias)
/// h' = u * h + (1 - u) * c
/// ```
///
/// Variables, in the layer's scope: `gru_cell/gates/kernel` `[features +
/// units, 2 units]`, `gru_cell/gates/bias` `[2 units]` (ones, as
/// TensorFlow's, so that the cell starts by keeping its state),
/// `gru_cell/candidate/kernel` `[features + units, units]` and
/// `gru_cell/candidate/bias` `[units]` (zeros); kernels Glorot-uniform.
#[derive(Debug, Clone, PartialEq)]
pub struct Gru {
    /// Output size.
    pub units: usize,
    /// The kernels' initializer.
    pub kernel_initializer: Initializer,
}

impl Gru {
    /// A GRU of `units` outputs with TensorFlow's defaults.
    pub fn new(units: usize) -> Gru {
        Gru { units, kernel_initializer: Initializer::GlorotUniform }
    }

    /// Runs the layer over `x` (`[batch, time, features]`) within each
    /// sequence's length (`lengths`, `[batch]`), in a scope `rnn` (`rnn_1`...).
    ///
    /// # Errors
    /// As [`dynamic_rnn`].
    pub fn apply(&self, g: &mut GraphBuilder, x: Output, lengths: Output) -> Result<RnnOutput> {
        g.scoped("rnn", |g| dynamic_rnn(g, self, x, lengths))
    }
}

impl RecurrentCell for Gru {
    fn scope(&self) -> &'static str {
        "gru_cell"
    }

    fn units(&self) -> usize {
        self.units
    }

    fn state_size(&self) -> usize {
        1
    }

    fn variables(&self, g: &mut GraphBuilder, features: usize) -> Result<Vec<Output>> {
        let u = self.units;
        let k = self.kernel_initializer.clone();
        let (gates_kernel, gates_bias) = g.scoped("gates", |g| {
            Ok((
                g.variable("kernel", &[features + u, 2 * u], k.clone())?,
                g.variable("bias", &[2 * u], Initializer::Constant(1.0))?,
            ))
        })?;
        let (candidate_kernel, candidate_bias) = g.scoped("candidate", |g| {
            Ok((g.variable("kernel", &[features + u, u], k.clone())?, g.variable("bias", &[u], Initializer::Zeros)?))
        })?;
        Ok(vec![gates_kernel, gates_bias, candidate_kernel, candidate_bias])
    }

    fn step(&self, b: &mut GraphBuilder, x: Output, state: &[Output], weights: &[Output]) -> Result<Vec<Output>> {
        let (&[h], &[gates_kernel, gates_bias, candidate_kernel, candidate_bias]) = (state, weights) else {
            return Err(super::recurrent::arity("GRU", state.len(), weights.len()));
        };
        let xh = b.concat(&[x, h], 1)?;
        let z = b.matmul(xh, gates_kernel)?;
        let z = b.bias_add(z, gates_bias)?;
        let gates = b.sigmoid(z)?;
        let [r, u] = super::recurrent::split_columns(b, gates, self.units)?;
        let reset = b.mul(r, h)?;
        let xr = b.concat(&[x, reset], 1)?;
        let c = b.matmul(xr, candidate_kernel)?;
        let c = b.bias_add(c, candidate_bias)?;
        let c = b.tanh(c)?;
        // u h + (1 - u) c
        let one = b.scalar(1.0)?;
        let (kept, rest) = (b.mul(u, h)?, b.sub(one, u)?);
        let added = b.mul(rest, c)?;
        Ok(vec![b.add(kept, added)?])
    }
}
