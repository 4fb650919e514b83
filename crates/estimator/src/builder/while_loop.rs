//! `tf.while_loop` in a `model_fn`: a body built by a closure on its own
//! [`GraphBuilder`], held by [`While`] nodes, one per loop variable read.

use std::sync::Arc;

use opset::Shape;
use opset::ops::control::{LoopBody, While};

use super::{GraphBuilder, Output};
use crate::{Error, Result};

/// A loop built by [`GraphBuilder::while_loop`]: its variables' final
/// values are read with [`GraphBuilder::loop_output`].
#[derive(Debug, Clone)]
pub struct Loop {
    body: Arc<LoopBody>,
    inputs: Vec<Output>,
    scope: String,
    outputs: Vec<Option<Output>>,
}

impl Loop {
    /// How many loop variables the loop carries.
    pub fn var_count(&self) -> usize {
        self.inputs.len()
    }
}

/// What a loop body returns: its condition (a bool scalar) and the loop
/// variables' next values, in order.
pub type LoopStep = (Output, Vec<Output>);

impl GraphBuilder {
    /// `tf.while_loop(cond, body, vars)`: while the condition holds, the
    /// loop variables (initially `vars`) become their next values. `body`
    /// builds, on a builder of its own whose placeholders are the variables
    /// (each keeping its initial value's dtype and shape, `None` dims free
    /// to change), the condition and the next values; as in TensorFlow, it
    /// computes the condition on the variables first and the next values
    /// only when it holds. The body reads nothing but the variables and
    /// constants: a weight it uses is passed in as a variable that it
    /// returns unchanged (the gradient of a training loss then flows to it,
    /// summed over the iterations).
    ///
    /// ```
    /// use estimator::GraphBuilder;
    /// use opset::{DataType, Shape, Tensor};
    ///
    /// // while i < 3: i, x = i + 1, x * 2
    /// let mut g = GraphBuilder::new();
    /// let x = g.placeholder("x", DataType::F32, Shape(vec![None]))?;
    /// let i = g.constant(Tensor::scalar(0i32))?;
    /// let mut l = g.while_loop("doubling", &[i, x], |b, v| {
    ///     let (three, one, two) =
    ///         (b.constant(Tensor::scalar(3i32))?, b.constant(Tensor::scalar(1i32))?, b.scalar(2.0)?);
    ///     Ok((b.less(v[0], three)?, vec![b.add(v[0], one)?, b.mul(v[1], two)?]))
    /// })?;
    /// let y = g.loop_output(&mut l, 1)?;
    /// assert_eq!(g.ty(y).shape, Shape(vec![None]));
    /// # Ok::<(), estimator::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Build`] naming the loop if the body fails to build, returns
    /// a next value per variable that does not fit it, a condition that is
    /// not a bool scalar, or reads a variable of the model or a placeholder.
    pub fn while_loop(
        &mut self,
        name: &str,
        vars: &[Output],
        body: impl FnOnce(&mut GraphBuilder, &[Output]) -> Result<LoopStep>,
    ) -> Result<Loop> {
        self.while_loop_with_invariants(name, vars, &[], body)
    }

    /// [`GraphBuilder::while_loop`] with `tf.while_loop`'s
    /// `shape_invariants`: `invariants[i]`, when given, is the shape loop
    /// variable `i` keeps (it may know dims its initial value's type does
    /// not, or free dims that change); variables past the list keep their
    /// initial value's shape.
    ///
    /// # Errors
    /// As [`GraphBuilder::while_loop`], and [`Error::Build`] for an
    /// invariant its variable's initial value does not fit.
    pub fn while_loop_with_invariants(
        &mut self,
        name: &str,
        vars: &[Output],
        invariants: &[Option<Shape>],
        body: impl FnOnce(&mut GraphBuilder, &[Output]) -> Result<LoopStep>,
    ) -> Result<Loop> {
        let scope = self.unique_name(name);
        self.scopes.insert(scope.clone());
        let failed = |reason: String| Error::Build { node: scope.clone(), reason };
        let mut b = GraphBuilder::new();
        let args = vars
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                let ty = self.ty(v);
                let shape = match invariants.get(i).cloned().flatten() {
                    Some(s) if !s.compatible(&ty.shape) => {
                        return Err(failed(format!(
                            "loop variable {i} is {} {}, its shape invariant {s} does not fit it",
                            ty.dtype, ty.shape
                        )));
                    }
                    Some(s) => s,
                    None => ty.shape.clone(),
                };
                b.placeholder(&format!("arg_{i}"), ty.dtype, shape)
            })
            .collect::<Result<Vec<Output>>>()?;
        let (cond, next) = body(&mut b, &args)?;
        if next.len() != vars.len() {
            return Err(failed(format!(
                "the body returns {} next value(s) for {} loop variable(s)",
                next.len(),
                vars.len()
            )));
        }
        if let Some(v) = b.variables().first() {
            return Err(failed(format!(
                "the body declares variable {:?}: a loop's weights are declared outside and passed in as loop variables",
                v.name
            )));
        }
        b.identity(cond, "cond")?;
        for (i, &n) in next.iter().enumerate() {
            b.identity(n, &format!("out_{i}"))?;
        }
        let body = LoopBody::new(b.graph(), b.assets()).map_err(|e| failed(e.to_string()))?;
        Ok(Loop { body: Arc::new(body), inputs: vars.to_vec(), scope, outputs: vec![None; vars.len()] })
    }

    /// The final value of loop variable `k` of `l` (its `Exit_k` node,
    /// added the first time it is asked for).
    ///
    /// # Errors
    /// [`Error::Build`] if `k` is not one of the loop's variables.
    pub fn loop_output(&mut self, l: &mut Loop, k: usize) -> Result<Output> {
        let n = l.var_count();
        let slot = l.outputs.get_mut(k).ok_or_else(|| Error::Build {
            node: l.scope.clone(),
            reason: format!("loop variable {k} asked for, the loop has {n} (0 .. {})", n.saturating_sub(1)),
        })?;
        if let Some(o) = *slot {
            return Ok(o);
        }
        let op = While { body: Arc::clone(&l.body), output: k, max_iterations: None };
        let o = self.add_named(format!("{}/Exit_{k}", l.scope), op.into(), &l.inputs)?;
        *slot = Some(o);
        Ok(o)
    }
}
