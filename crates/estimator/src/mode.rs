//! The three modes a `model_fn` is called in.

use std::fmt;

/// What the graph is built for, as TensorFlow's `ModeKeys`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Training: the spec needs a loss and a train op.
    Train,
    /// Evaluation: the spec needs a loss.
    Eval,
    /// Prediction and export: the spec needs predictions.
    Predict,
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Train => "TRAIN",
            Mode::Eval => "EVAL",
            Mode::Predict => "PREDICT",
        })
    }
}
