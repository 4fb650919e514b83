//! `Session`: one thread's own scratch buffers for a predictor, with the
//! outputs read in place.

use opset::Tensor;
use opset::ops::OpDef;
use opset::ops::array::Identity;
use smallvec::SmallVec;

use crate::Result;
use crate::plan::{Plan, State, Value};
use crate::predictor::{Predictor, same_key};

/// A [`Predictor`] with its own scratch buffers, for calls in a loop on
/// one thread (see [`Predictor::session`]).
pub struct Session<'p> {
    predictor: &'p Predictor,
    state: State,
    /// Outputs that are inputs passed through, copied (they are not the
    /// session's to lend out past the call).
    passed_through: Vec<Tensor>,
}

impl<'p> Session<'p> {
    pub(crate) fn new(predictor: &'p Predictor, state: State, passed_through: Vec<Tensor>) -> Session<'p> {
        Session { predictor, state, passed_through }
    }

    /// Answers one call, as [`Predictor::predict`], the outputs read in
    /// place from the session's buffers (valid until the next call).
    ///
    /// # Errors
    /// As [`Predictor::predict`].
    pub fn run(&mut self, inputs: &[(&str, Tensor)]) -> Result<SessionOutputs<'_>> {
        let mut bound = SmallVec::new();
        self.predictor.bind(inputs, &mut bound)?;
        let plan = &self.predictor.plan;
        plan.run(self.predictor.model.graph(), &mut self.state, &bound)?;
        for (k, &v) in plan.outputs.iter().enumerate() {
            if let Value::Input(i) = v {
                Identity.eval(&[bound[i]], &mut self.passed_through[k]).map_err(|source| opset::Error::Op {
                    node: plan.output_keys[k].clone(),
                    op: Identity::NAME.into(),
                    source,
                })?;
            }
        }
        Ok(SessionOutputs { plan, slots: &self.state.slots, passed_through: &self.passed_through })
    }
}

/// The outputs of a [`Session::run`], by signature key, borrowed from the
/// session's buffers.
pub struct SessionOutputs<'s> {
    plan: &'s Plan,
    slots: &'s [Tensor],
    passed_through: &'s [Tensor],
}

impl SessionOutputs<'_> {
    /// The output `key`, if the signature has it.
    pub fn get(&self, key: &str) -> Option<&Tensor> {
        self.at(self.plan.output_keys.iter().position(|o| same_key(o, key))?)
    }

    /// The output at `position` among the signature's sorted output keys
    /// (see [`Predictor::output_position`]): a lookup resolved once, out of
    /// the loop.
    pub fn at(&self, position: usize) -> Option<&Tensor> {
        Some(match *self.plan.outputs.get(position)? {
            Value::Input(_) => self.passed_through.get(position)?,
            v => self.plan.get(v, &[], self.slots),
        })
    }
}

impl std::ops::Index<&str> for SessionOutputs<'_> {
    type Output = Tensor;

    /// The output `key`.
    ///
    /// # Panics
    /// If the signature has no output `key`, as indexing a map does; use
    /// [`SessionOutputs::get`] to handle that case.
    fn index(&self, key: &str) -> &Tensor {
        match self.get(key) {
            Some(t) => t,
            None => panic!("no output {key:?}; the outputs are {:?}", self.plan.output_keys),
        }
    }
}
