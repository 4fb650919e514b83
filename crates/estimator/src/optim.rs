//! Optimizers: plain configs with documented defaults, and explicit state
//! (slots) that round-trips through checkpoints under TensorFlow's names.

use std::collections::BTreeMap;

use opset::Tensor;

use crate::builder::Output;
use crate::{Error, Result};

/// Adam, with TensorFlow 1.x's `AdamOptimizer` semantics exactly:
///
/// ```text
/// alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
/// m    += (g - m) * (1 - beta1)
/// v    += (g^2 - v) * (1 - beta2)
/// var  -= alpha * m / (sqrt(v) + epsilon)
/// ```
///
/// where `beta1^t`, `beta2^t` are kept as the accumulators `beta1_power`,
/// `beta2_power` (multiplied in f32 after each step, as TensorFlow does),
/// and `m`, `v` are the slots `<var>/Adam`, `<var>/Adam_1`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Adam {
    /// Step size (default 0.001).
    pub learning_rate: f32,
    /// Decay of the first moment (default 0.9).
    pub beta1: f32,
    /// Decay of the second moment (default 0.999).
    pub beta2: f32,
    /// Added to the denominator (default 1e-8).
    pub epsilon: f32,
}

impl Default for Adam {
    fn default() -> Adam {
        Adam { learning_rate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }
    }
}

impl Adam {
    /// Adam with the paper's constants and this learning rate.
    pub fn new(learning_rate: f32) -> Adam {
        Adam { learning_rate, ..Adam::default() }
    }

    /// The train op minimising `loss`, as `optimizer.minimize(loss)`.
    pub fn minimize(self, loss: Output) -> TrainOp {
        TrainOp { loss, optimizer: Optimizer::Adam(self) }
    }
}

/// Plain gradient descent: `var -= lr * g`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sgd {
    /// Step size.
    pub learning_rate: f32,
}

impl Sgd {
    /// Gradient descent with this learning rate.
    pub fn new(learning_rate: f32) -> Sgd {
        Sgd { learning_rate }
    }

    /// The train op minimising `loss`.
    pub fn minimize(self, loss: Output) -> TrainOp {
        TrainOp { loss, optimizer: Optimizer::Sgd(self) }
    }
}

/// An optimizer configuration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Optimizer {
    /// Adam.
    Adam(Adam),
    /// Gradient descent.
    Sgd(Sgd),
}

/// What a TRAIN spec carries: which loss to minimise, and how.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainOp {
    /// The scalar loss.
    pub loss: Output,
    /// The optimizer.
    pub optimizer: Optimizer,
}

/// The optimizer's state: named tensors, saved in checkpoints beside the
/// variables (`beta1_power`, `beta2_power`, `<var>/Adam`, `<var>/Adam_1`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OptimizerState {
    /// The slots and accumulators by checkpoint name.
    pub tensors: BTreeMap<String, Tensor>,
}

impl Optimizer {
    /// The checkpoint names of the state this optimizer keeps for the
    /// trainable variables `vars`.
    pub fn state_names<'a>(&self, vars: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        match self {
            Optimizer::Sgd(_) => Vec::new(),
            Optimizer::Adam(_) => {
                let mut names = vec!["beta1_power".to_owned(), "beta2_power".to_owned()];
                for v in vars {
                    names.push(format!("{v}/Adam"));
                    names.push(format!("{v}/Adam_1"));
                }
                names
            }
        }
    }

    /// One update of every variable of `grads` (by name) in `vars`.
    ///
    /// # Errors
    /// [`Error::Opset`] if a gradient or variable is not f32;
    /// [`Error::Input`] if a gradient names no variable or its size differs
    /// from its variable's, or a restored slot does not fit its variable.
    pub fn apply(
        &self,
        state: &mut OptimizerState,
        vars: &mut BTreeMap<String, Tensor>,
        grads: &BTreeMap<String, Tensor>,
    ) -> Result<()> {
        match self {
            Optimizer::Sgd(sgd) => {
                for (name, g) in grads {
                    let (var, g) = pair(vars, name, g)?;
                    var.iter_mut().zip(g).for_each(|(w, g)| *w -= sgd.learning_rate * g);
                }
            }
            Optimizer::Adam(adam) => {
                let b1p = accumulator(state, "beta1_power", adam.beta1)?;
                let b2p = accumulator(state, "beta2_power", adam.beta2)?;
                let alpha = adam.learning_rate * (1.0 - b2p).sqrt() / (1.0 - b1p);
                for (name, g) in grads {
                    let shape = vars.get(name).map(|t| t.shape().to_vec()).unwrap_or_default();
                    let mut m = slot(state, &format!("{name}/Adam"), &shape)?;
                    let mut v = slot(state, &format!("{name}/Adam_1"), &shape)?;
                    let (var, g) = pair(vars, name, g)?;
                    let (ms, vs) = (m.as_slice_mut::<f32>()?, v.as_slice_mut::<f32>()?);
                    for (((w, &g), m), v) in var.iter_mut().zip(g).zip(ms.iter_mut()).zip(vs.iter_mut()) {
                        *m += (g - *m) * (1.0 - adam.beta1);
                        *v += (g * g - *v) * (1.0 - adam.beta2);
                        *w -= *m * alpha / (v.sqrt() + adam.epsilon);
                    }
                    state.tensors.insert(format!("{name}/Adam"), m);
                    state.tensors.insert(format!("{name}/Adam_1"), v);
                }
                state.tensors.insert("beta1_power".into(), Tensor::scalar(b1p * adam.beta1));
                state.tensors.insert("beta2_power".into(), Tensor::scalar(b2p * adam.beta2));
            }
        }
        Ok(())
    }
}

/// The variable `name` as a mutable slice, with its gradient checked to fit.
fn pair<'a>(vars: &'a mut BTreeMap<String, Tensor>, name: &str, g: &'a Tensor) -> Result<(&'a mut [f32], &'a [f32])> {
    let var =
        vars.get_mut(name).ok_or_else(|| Error::Input { reason: format!("gradient for unknown variable {name:?}") })?;
    let g = g.as_slice::<f32>()?;
    let var = var.as_slice_mut::<f32>()?;
    if var.len() != g.len() {
        return Err(Error::Input {
            reason: format!("gradient of {name:?} has {} elements, the variable {}", g.len(), var.len()),
        });
    }
    Ok((var, g))
}

fn accumulator(state: &OptimizerState, name: &str, initial: f32) -> Result<f32> {
    match state.tensors.get(name) {
        None => Ok(initial),
        Some(t) => Ok(t.as_slice::<f32>()?.first().copied().unwrap_or(initial)),
    }
}

/// A slot, taken out of the state (zeros of the variable's shape if new).
fn slot(state: &mut OptimizerState, name: &str, shape: &[usize]) -> Result<Tensor> {
    match state.tensors.remove(name) {
        Some(t) if t.shape() == shape => Ok(t),
        Some(t) => {
            Err(Error::Input { reason: format!("slot {name:?} has shape {:?}, its variable {shape:?}", t.shape()) })
        }
        None => Ok(Tensor::from_vec(shape.to_vec(), vec![0.0f32; shape.iter().product()])?),
    }
}
