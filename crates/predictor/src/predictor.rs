//! `Predictor`: the signature-driven callable.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use export::{Op, Signature, Tensor};
use smallvec::SmallVec;
use thread_local::ThreadLocal;

use crate::model::{LoadOptions, Model};
use crate::outputs::Outputs;
use crate::plan::{InputSpec, Plan, State};
use crate::{Error, Result};

/// A loaded model answering calls from memory. `Send + Sync`: share one
/// (e.g. in an `Arc`) between threads; each thread gets its own scratch
/// buffers on first use, so calls never wait on each other.
///
/// ```no_run
/// use predictor::Predictor;
/// use ndarray::array;
///
/// let predict_fn = Predictor::from_saved_model(export::latest_version("saved_model")?)?;
/// let out = predict_fn.predict(&[("number", array![[101.0f32]].into())])?;
/// let y = out["output"].as_f32()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Predictor {
    model: Arc<Model>,
    plan: Arc<Plan>,
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
    /// [`export::Error::NoVersion`] and the errors of [`Predictor::from_saved_model`].
    pub fn from_export_base(base: impl AsRef<Path>) -> Result<Predictor> {
        Predictor::from_saved_model(export::latest_version(base)?)
    }

    /// Loads `dir` with explicit options (tags, signature, checksums).
    ///
    /// # Errors
    /// As [`Predictor::from_saved_model`].
    pub fn load(dir: &Path, options: &LoadOptions) -> Result<Predictor> {
        let model = Arc::new(Model::load(dir, options)?);
        Predictor::for_signature(model, &options.signature)
    }

    fn for_signature(model: Arc<Model>, signature: &str) -> Result<Predictor> {
        let plan = Arc::new(Plan::compile(&model, signature)?);
        Ok(Predictor { model, plan, states: ThreadLocal::new() })
    }

    /// A predictor for another signature of the same loaded model (no reload).
    ///
    /// # Errors
    /// [`Error::NoSignature`].
    pub fn with_signature(&self, signature: &str) -> Result<Predictor> {
        Predictor::for_signature(Arc::clone(&self.model), signature)
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

    /// The number of steps the plan runs per call (after folding and fusion).
    pub fn plan_len(&self) -> usize {
        self.plan.steps.len()
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
        let bound = self.bind(inputs)?;
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
        let bound = self.bind(inputs)?;
        self.with_state(&bound, |plan, state| {
            for (dst, &v) in outputs.tensors.iter_mut().zip(&plan.outputs) {
                // Identity's kernel copies into `dst`, reusing its allocation.
                Op::Identity.eval(&[plan.get(v, &bound, &state.slots)], dst).map_err(|reason| export::Error::Node {
                    node: "(output)".into(),
                    op: "Identity".into(),
                    reason,
                })?;
            }
            Ok(())
        })
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
    fn bind<'a>(&self, inputs: &'a [(&str, Tensor)]) -> Result<SmallVec<[&'a Tensor; 4]>> {
        let specs = &self.plan.inputs;
        let mut bound: SmallVec<[Option<&Tensor>; 4]> = SmallVec::from_elem(None, specs.len());
        for (key, tensor) in inputs {
            let Some(k) = specs.iter().position(|s| s.key == *key) else {
                return Err(Error::UnknownInput { key: (*key).to_owned(), expected: self.input_keys() });
            };
            let spec = &specs[k];
            if bound[k].replace(tensor).is_some() {
                return Err(Error::DuplicateInput { key: spec.key.clone() });
            }
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
        }
        bound
            .iter()
            .zip(specs)
            .map(|(t, spec)| {
                t.ok_or_else(|| Error::MissingInput { key: spec.key.clone(), expected: self.input_keys() })
            })
            .collect()
    }

    fn input_keys(&self) -> Vec<String> {
        self.plan.inputs.iter().map(|s| s.key.clone()).collect()
    }

    /// Runs the plan with this thread's scratch state, then `read` the results.
    fn with_state<R>(&self, inputs: &[&Tensor], read: impl FnOnce(&Plan, &State) -> Result<R>) -> Result<R> {
        let cell = self.states.get_or(|| RefCell::new(self.plan.new_state(self.model.graph())));
        // A call cannot re-enter on the same thread; should it ever, it gets
        // a fresh state instead of a panic.
        let mut fresh;
        let mut borrowed = cell.try_borrow_mut();
        let state: &mut State = match borrowed.as_deref_mut() {
            Ok(state) => state,
            Err(_) => {
                fresh = self.plan.new_state(self.model.graph());
                &mut fresh
            }
        };
        self.plan.run(self.model.graph(), state, inputs)?;
        read(&self.plan, state)
    }
}
