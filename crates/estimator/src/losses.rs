//! Losses, as `tf.nn` / `tf.losses` define them.

use opset::{DataType, Tensor};

use crate::builder::{GraphBuilder, Output};
use crate::{Error, Result};

/// `sum(x^2) / 2`, as `tf.nn.l2_loss` (the write-up's loss on `predictions - labels`).
///
/// # Errors
/// [`Error::Build`] if `x` is not f32.
pub fn l2_loss(g: &mut GraphBuilder, x: Output) -> Result<Output> {
    g.l2_loss(x)
}

/// `mean((labels - predictions)^2)`, as `tf.losses.mean_squared_error`.
///
/// # Errors
/// [`Error::Build`] if the shapes do not broadcast.
pub fn mean_squared_error(g: &mut GraphBuilder, labels: Output, predictions: Output) -> Result<Output> {
    let diff = g.sub(labels, predictions)?;
    let sq = g.square(diff)?;
    g.reduce_mean(sq, &[], false)
}

/// Mean over the batch of `-sum(onehot_labels * log_softmax(logits))`, as
/// `tf.losses.softmax_cross_entropy`.
///
/// # Errors
/// [`Error::Build`] if the shapes differ.
pub fn softmax_cross_entropy(g: &mut GraphBuilder, onehot_labels: Output, logits: Output) -> Result<Output> {
    let per_example = g.softmax_cross_entropy_with_logits(logits, onehot_labels)?;
    g.reduce_mean(per_example, &[], false)
}

/// Softmax cross-entropy with integer class ids `labels` (`[batch]`, i32 or
/// i64), as `tf.losses.sparse_softmax_cross_entropy`.
///
/// # Errors
/// [`Error::Build`] if `logits` has no known class count.
pub fn sparse_softmax_cross_entropy(g: &mut GraphBuilder, labels: Output, logits: Output) -> Result<Output> {
    let onehot = one_hot(g, labels, logits)?;
    softmax_cross_entropy(g, onehot, logits)
}

/// One-hot rows for class ids, as wide as `logits`' last dim: a lookup in
/// an identity matrix.
fn one_hot(g: &mut GraphBuilder, labels: Output, logits: Output) -> Result<Output> {
    let classes = match g.ty(logits).shape.0.last() {
        Some(Some(k)) => *k,
        _ => {
            return Err(Error::Build {
                node: g.name(logits).to_owned(),
                reason: "logits need a known class count (last dim)".into(),
            });
        }
    };
    let mut eye = vec![0.0f32; classes * classes];
    eye.iter_mut().step_by(classes + 1).for_each(|v| *v = 1.0);
    let eye = g.constant(Tensor::from_vec(vec![classes, classes], eye)?)?;
    let labels = match g.ty(labels).dtype {
        DataType::I32 | DataType::I64 => labels,
        _ => g.cast(labels, DataType::I64)?,
    };
    g.gather(eye, labels)
}
