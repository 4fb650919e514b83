//! `Lstm`: TensorFlow 1's `tf.nn.rnn_cell.LSTMCell` in a dynamic RNN.

use crate::Result;
use crate::builder::{GraphBuilder, Output};
use crate::init::Initializer;
use crate::layers::recurrent::{RecurrentCell, RnnOutput, dynamic_rnn};

/// A long short-term memory layer, as TensorFlow 1's `LSTMCell(units)` run
/// by `tf.nn.dynamic_rnn` (no peepholes, no projection):
///
/// ```text
/// i, j, f, o = split([x, h] @ kernel + bias, 4)     # gate order i, j, f, o
/// c' = c * sigmoid(f + forget_bias) + sigmoid(i) * tanh(j)
/// h' = tanh(c') * sigmoid(o)
/// ```
///
/// Variables, in the layer's scope: `lstm_cell/kernel` `[features + units,
/// 4 units]` (Glorot-uniform, TensorFlow's default) and `lstm_cell/bias`
/// `[4 units]` (zeros); `forget_bias` (1.0) is added to the forget gate
/// in the graph, not to the variable, as `LSTMCell` does. The state is `(c, h)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Lstm {
    /// Output size.
    pub units: usize,
    /// Added to the forget gate before its sigmoid (1.0).
    pub forget_bias: f32,
    /// The kernel's initializer.
    pub kernel_initializer: Initializer,
    /// The bias's initializer.
    pub bias_initializer: Initializer,
}

impl Lstm {
    /// An LSTM of `units` outputs with TensorFlow's defaults.
    pub fn new(units: usize) -> Lstm {
        Lstm {
            units,
            forget_bias: 1.0,
            kernel_initializer: Initializer::GlorotUniform,
            bias_initializer: Initializer::Zeros,
        }
    }

    /// Runs the layer over `x` (`[batch, time, features]`) within each
    /// sequence's length (`lengths`, `[batch]`), in a scope `rnn` (`rnn_1`...).
    ///
    /// ```
    /// use estimator::layers::Lstm;
    /// use estimator::GraphBuilder;
    /// use opset::{DataType, Shape};
    ///
    /// let mut g = GraphBuilder::new();
    /// let x = g.placeholder("x", DataType::F32, Shape(vec![None, None, Some(8)]))?;
    /// let lengths = g.placeholder("lengths", DataType::I32, Shape(vec![None]))?;
    /// let rnn = Lstm::new(16).apply(&mut g, x, lengths)?;
    /// assert_eq!(g.ty(rnn.outputs).shape, Shape(vec![None, None, Some(16)]));
    /// assert_eq!(g.variables()[0].name, "rnn/lstm_cell/kernel");
    /// # Ok::<(), estimator::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`dynamic_rnn`].
    pub fn apply(&self, g: &mut GraphBuilder, x: Output, lengths: Output) -> Result<RnnOutput> {
        g.scoped("rnn", |g| dynamic_rnn(g, self, x, lengths))
    }
}

impl RecurrentCell for Lstm {
    fn scope(&self) -> &'static str {
        "lstm_cell"
    }

    fn units(&self) -> usize {
        self.units
    }

    fn state_size(&self) -> usize {
        2
    }

    fn variables(&self, g: &mut GraphBuilder, features: usize) -> Result<Vec<Output>> {
        let u = self.units;
        let kernel = g.variable("kernel", &[features + u, 4 * u], self.kernel_initializer.clone())?;
        let bias = g.variable("bias", &[4 * u], self.bias_initializer.clone())?;
        Ok(vec![kernel, bias])
    }

    fn step(&self, b: &mut GraphBuilder, x: Output, state: &[Output], weights: &[Output]) -> Result<Vec<Output>> {
        let (&[c, h], &[kernel, bias]) = (state, weights) else {
            return Err(super::recurrent::arity("LSTM", state.len(), weights.len()));
        };
        let xh = b.concat(&[x, h], 1)?;
        let z = b.matmul(xh, kernel)?;
        let z = b.bias_add(z, bias)?;
        let [i, j, f, o] = super::recurrent::split_columns(b, z, self.units)?;
        let forget_bias = b.scalar(self.forget_bias)?;
        let f = b.add(f, forget_bias)?;
        let (f, i, j, o) = (b.sigmoid(f)?, b.sigmoid(i)?, b.tanh(j)?, b.sigmoid(o)?);
        let (kept, added) = (b.mul(c, f)?, b.mul(i, j)?);
        let c = b.add(kept, added)?;
        let squashed = b.tanh(c)?;
        let h = b.mul(squashed, o)?;
        Ok(vec![c, h])
    }
}
