//! `Predictor`: the signature-driven callable.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use export::Signature;
use opset::Tensor;
use opset::ops::OpDef;
use opset::ops::array::Identity;
use smallvec::SmallVec;
use thread_local::ThreadLocal;

use crate::model::{LoadOptions, Model};
use crate::outputs::Outputs;
use crate::plan::{InputSpec, Plan, State};
use crate::session::Session;
use crate::{Error, Result};

/// A loaded model answering calls from memory. `Send + Sync`: share one
/// (e.g. in an `Arc`) between threads; each thread gets its own scratch
/// buffers on first use, so calls never wait on each other.
///
/// ```no_run
/// use predictor::{Predictor, latest_version, ndarray::array};
///
/// let predict_fn = Predictor::from_saved_model(latest_version("saved_model")?)?;
/// let out = predict_fn.predict(&[("number", array![[101.0f32]].into())])?;
/// let y = out.get("output").expect("the signature's output").as_f32()?;
/// # Ok::<(), predictor::Error>(())
/// ```
pub struct Predictor {
    pub(crate) model: Arc<Model>,
    pub(crate) plan: Arc<Plan>,
    states: ThreadLocal<RefCell<State>>,
}

impl std::fmt::Debug for Predictor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Predictor")
            .field("dir", &self.model.dir())
            .field("signature", &self.plan.signature)
            .field("steps", &self.plan.steps.len())
            .finish()
    }
}

/// `a == b` for short keys, without a call into libc's `memcmp` (which
/// costs more than the comparison of a few bytes on the hot path).
#[inline]
pub(crate) fn same_key(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// Checks a fed tensor against its signature input.
fn check(spec: &InputSpec, tensor: &Tensor) -> Result<()> {
    if tensor.dtype() != spec.dtype {
        return Err(Error::InputDType { key: spec.key.clone(), expected: spec.dtype, got: tensor.dtype() });
    }
    if !spec.shape.accepts(tensor.shape()) {
        return Err(Error::InputShape {
            key: spec.key.clone(),
            expected: spec.shape.clone(),
            got: tensor.shape().to_vec(),
        });
    }
    Ok(())
}

impl Predictor {
    /// Loads the version directory `dir` with the default signature
    /// (`serving_default`) of the `serve` meta graph, as TensorFlow's
    /// `predictor.from_saved_model` does.
    ///
    /// # Errors
    /// [`Error::Export`] for a missing, half-written, corrupt or newer
    /// artifact or an invalid graph; [`Error::NoSignature`].
    pub fn from_saved_model(dir: impl AsRef<Path>) -> Result<Predictor> {
        Predictor::load(dir.as_ref(), &LoadOptions::default())
    }

    /// Loads the newest version under the export base `base` (ignoring
    /// `temp-*` and non-numeric entries).
    ///
    /// # Errors
    /// [`Error::Export`] ([`export::Error::NoVersion`], saying what `base`
    /// holds instead when that tells what was meant) and the errors of
    /// [`Predictor::from_saved_model`].
    pub fn from_export_base(base: impl AsRef<Path>) -> Result<Predictor> {
        Predictor::from_saved_model(export::latest_version(base)?)
    }

    /// Loads `dir` with explicit options (tags, signature, checksums).
    ///
    /// # Errors
    /// As [`Predictor::from_saved_model`].
    pub fn load(dir: &Path, options: &LoadOptions) -> Result<Predictor> {
        Predictor::with_model(Model::load(dir, options)?, options)
    }

    /// A predictor for an artifact already in memory (as an estimator
    /// exports it without a disk: `estimator_rs::from_estimator`), validated
    /// and compiled exactly as one loaded from a directory.
    ///
    /// # Errors
    /// As [`Predictor::load`].
    pub fn from_artifact(artifact: &export::Artifact, options: &LoadOptions) -> Result<Predictor> {
        Predictor::with_model(Model::from_artifact(artifact, options)?, options)
    }

    fn with_model(model: Model, options: &LoadOptions) -> Result<Predictor> {
        let model = Arc::new(model);
        let signature = match options.signature.as_str() {
            export::DEFAULT_SIGNATURE if !model.signatures().contains_key(export::DEFAULT_SIGNATURE) => {
                model.default_signature().unwrap_or(export::DEFAULT_SIGNATURE).to_owned()
            }
            named => named.to_owned(),
        };
        Predictor::from_model(model, &signature)
    }

    /// A predictor for `signature` of a model already loaded (no reload).
    ///
    /// # Errors
    /// [`Error::NoSignature`], or an error naming the node the plan cannot compile.
    pub fn from_model(model: Arc<Model>, signature: &str) -> Result<Predictor> {
        let plan = Arc::new(Plan::compile(&model, signature)?);
        Ok(Predictor { model, plan, states: ThreadLocal::new() })
    }

    /// A predictor for another signature of the same loaded model (no reload).
    ///
    /// # Errors
    /// [`Error::NoSignature`].
    pub fn with_signature(&self, signature: &str) -> Result<Predictor> {
        Predictor::from_model(Arc::clone(&self.model), signature)
    }

    /// The loaded model: its directory, version, signatures.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The version loaded, if its directory is named by one.
    pub fn version(&self) -> Option<u64> {
        self.model.version()
    }

    /// The key of the signature this predictor serves.
    pub fn signature_name(&self) -> &str {
        &self.plan.signature
    }

    /// The signature this predictor serves.
    pub fn signature(&self) -> &Signature {
        // Compiled from this very key, so it is there.
        &self.model.signatures()[&self.plan.signature]
    }

    /// Every signature of the loaded meta graph.
    pub fn signatures(&self) -> &BTreeMap<String, Signature> {
        self.model.signatures()
    }

    /// The inputs a call must feed, sorted by key.
    pub fn inputs(&self) -> &[InputSpec] {
        &self.plan.inputs
    }

    /// The position of output `key` among the signature's sorted output
    /// keys, for [`crate::SessionOutputs::at`].
    pub fn output_position(&self, key: &str) -> Option<usize> {
        self.plan.output_keys.iter().position(|o| o == key)
    }

    /// The number of steps the plan runs per call (after folding and fusion).
    pub fn plan_len(&self) -> usize {
        self.plan.steps.len()
    }

    /// How many of the plan's loops run a recurrent cell fused (see
    /// [`LoadOptions::fused_cells`]): the way to check that a recurrent
    /// model takes the fast path.
    pub fn fused_loops(&self) -> usize {
        self.plan.fused_loops()
    }

    /// Answers one call: `inputs` by signature key, outputs by signature key.
    ///
    /// # Errors
    /// [`Error::MissingInput`], [`Error::UnknownInput`],
    /// [`Error::DuplicateInput`], [`Error::InputDType`],
    /// [`Error::InputShape`] naming the key with what was expected and
    /// what came; [`Error::Export`] naming the node if a kernel fails
    /// (e.g. inputs whose batch sizes disagree).
    pub fn predict(&self, inputs: &[(&str, Tensor)]) -> Result<Outputs> {
        let mut bound = SmallVec::new();
        self.bind(inputs, &mut bound)?;
        self.with_state(&bound, |plan, state| {
            let tensors = plan.outputs.iter().map(|&v| plan.get(v, &bound, &state.slots).clone()).collect();
            Ok(Outputs { keys: Arc::clone(&plan.output_keys), tensors })
        })
    }

    /// Like [`Predictor::predict`], writing into `outputs` (from
    /// [`Predictor::new_outputs`] or an earlier call) and reusing its
    /// buffers: a hot loop allocates nothing once warm.
    ///
    /// # Errors
    /// As [`Predictor::predict`], and [`Error::OutputsMismatch`] for outputs
    /// of another signature.
    pub fn predict_into(&self, inputs: &[(&str, Tensor)], outputs: &mut Outputs) -> Result<()> {
        if !Arc::ptr_eq(&outputs.keys, &self.plan.output_keys) && outputs.keys != self.plan.output_keys {
            return Err(Error::OutputsMismatch {
                expected: self.plan.output_keys.to_vec(),
                got: outputs.keys.to_vec(),
            });
        }
        let mut bound = SmallVec::new();
        self.bind(inputs, &mut bound)?;
        let cell = self.states.get_or(|| RefCell::new(self.plan.new_state(self.model.graph())));
        let Ok(mut state) = cell.try_borrow_mut() else {
            // A call cannot re-enter on the same thread; should it ever, it
            // takes the allocating path rather than a panic.
            *outputs = self.predict(inputs)?;
            return Ok(());
        };
        self.run_into(&mut state, &bound, outputs)
    }

    /// Checks `inputs` as [`Predictor::predict`] does (every key of the
    /// signature given once, each tensor of its dtype and shape) without
    /// running anything: how a server refuses a bad request before merging
    /// it into a batch with others.
    ///
    /// # Errors
    /// What [`Predictor::predict`] would report for these inputs:
    /// [`Error::UnknownInput`], [`Error::MissingInput`],
    /// [`Error::DuplicateInput`], [`Error::InputDType`], [`Error::InputShape`].
    pub fn check_inputs<K: AsRef<str>>(&self, inputs: &[(K, Tensor)]) -> Result<()> {
        self.bind(inputs, &mut SmallVec::new())
    }

    /// A session: this predictor with scratch buffers of its own, for a hot
    /// loop on one thread. Its calls skip the thread-local lookup of
    /// [`Predictor::predict_into`] and return the outputs in place, where
    /// the plan computed them (no copy, no buffer lent or handed back).
    ///
    /// ```no_run
    /// # let predict_fn = predictor::Predictor::from_export_base("saved_model")?;
    /// let mut session = predict_fn.session();
    /// let output = predict_fn.output_position("output").ok_or("no output")?;
    /// for nb in 100..110 {
    ///     let inputs = [("number", ndarray::array![[nb as f32]].into())];
    ///     let out = session.run(&inputs)?;
    ///     println!("{}", out["output"].as_f32()?[[0, 0]]);
    ///     // or, the key looked up once out of the loop:
    ///     println!("{:?}", out.at(output));
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn session(&self) -> Session<'_> {
        Session::new(self, self.plan.new_state(self.model.graph()), self.new_outputs().tensors)
    }

    /// Runs the plan with `state` on inputs already bound, the steps that
    /// compute an output writing straight into `outputs`' buffers (lent to
    /// the state for the run, then handed back).
    fn run_into(&self, state: &mut State, bound: &[&Tensor], outputs: &mut Outputs) -> Result<()> {
        let lent = &self.plan.lent_outputs;
        for &(k, s) in lent {
            std::mem::swap(&mut outputs.tensors[k], &mut state.slots[s]);
        }
        let ran = self.plan.run(self.model.graph(), state, bound);
        for &(k, s) in lent {
            std::mem::swap(&mut outputs.tensors[k], &mut state.slots[s]);
        }
        ran?;
        if lent.len() < outputs.tensors.len() {
            for (k, &v) in self.plan.outputs.iter().enumerate() {
                if !lent.iter().any(|&(l, _)| l == k) {
                    // A constant, an input, or a value also lent to another
                    // key: Identity's kernel copies it, reusing the buffer.
                    let value = self.plan.get(v, bound, &state.slots);
                    Identity.eval(&[value], &mut outputs.tensors[k]).map_err(|source| opset::Error::Op {
                        node: self.plan.output_keys[k].clone(),
                        op: Identity::NAME.into(),
                        source,
                    })?;
                }
            }
        }
        Ok(())
    }

    /// An empty outputs buffer for [`Predictor::predict_into`].
    pub fn new_outputs(&self) -> Outputs {
        let graph = self.model.graph();
        let tensors = self
            .signature()
            .outputs
            .values()
            .map(|info| Tensor::empty(graph.resolve(&info.name).map_or(info.dtype, |i| graph.nodes()[i].ty.dtype)))
            .collect();
        Outputs { keys: Arc::clone(&self.plan.output_keys), tensors }
    }

    /// Orders `inputs` as the plan expects, checking each against the signature.
    pub(crate) fn bind<'a, K: AsRef<str>>(
        &self,
        inputs: &'a [(K, Tensor)],
        bound: &mut SmallVec<[&'a Tensor; 4]>,
    ) -> Result<()> {
        let specs = &self.plan.inputs;
        // The common case: every key given once, in the signature's order.
        let in_order = inputs.len() == specs.len()
            && inputs.iter().zip(specs).all(|((key, _), spec)| same_key(key.as_ref(), &spec.key));
        if in_order {
            for ((_, tensor), spec) in inputs.iter().zip(specs) {
                check(spec, tensor)?;
                bound.push(tensor);
            }
            return Ok(());
        }
        let mut slots: SmallVec<[Option<&Tensor>; 4]> = SmallVec::from_elem(None, specs.len());
        for (key, tensor) in inputs {
            let key = key.as_ref();
            let Some(k) = specs.iter().position(|s| s.key == key) else {
                return Err(Error::UnknownInput { key: key.to_owned(), expected: self.input_keys() });
            };
            if slots[k].replace(tensor).is_some() {
                return Err(Error::DuplicateInput { key: specs[k].key.clone() });
            }
            check(&specs[k], tensor)?;
        }
        for (slot, spec) in slots.iter().zip(specs) {
            bound.push(slot.ok_or_else(|| Error::MissingInput { key: spec.key.clone(), expected: self.input_keys() })?);
        }
        Ok(())
    }

    fn input_keys(&self) -> Vec<String> {
        self.plan.inputs.iter().map(|s| s.key.clone()).collect()
    }

    /// Runs the plan with this thread's scratch state, then `read` the results.
    fn with_state<R>(&self, inputs: &[&Tensor], read: impl FnOnce(&Plan, &State) -> Result<R>) -> Result<R> {
        let cell = self.states.get_or(|| RefCell::new(self.plan.new_state(self.model.graph())));
        match cell.try_borrow_mut() {
            Ok(mut state) => {
                self.plan.run(self.model.graph(), &mut state, inputs)?;
                read(&self.plan, &state)
            }
            Err(_) => {
                // A call cannot re-enter on the same thread; should it ever,
                // it gets a fresh state instead of a panic.
                let mut state = self.plan.new_state(self.model.graph());
                self.plan.run(self.model.graph(), &mut state, inputs)?;
                read(&self.plan, &state)
            }
        }
    }
}
