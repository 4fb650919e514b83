//! `Model`: an artifact read and validated once, immutable and shared.

use std::path::{Path, PathBuf};

use export::{Format, MetaGraph, OpenOptions, Signature, VariablesBundle};
use opset::TypedGraph;

use crate::{Error, Result};

/// How to load an artifact.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// The tag set of the meta graph to serve (default `["serve"]`).
    pub tags: Vec<String>,
    /// The signature to serve (default `serving_default`; a model without
    /// one, such as a canned estimator exported with a raw receiver, serves
    /// its first signature by key: [`Model::default_signature`]).
    pub signature: String,
    /// Verify every variable's crc32c at load (default: yes). Skipping it
    /// saves one pass over the weights' bytes; corruption then goes unnoticed.
    pub verify_checksums: bool,
    /// The most threads one call may use (default 1: the caller's only).
    /// Above 1, dense layers of at least 128K multiply-adds (the 784-512
    /// layer of an MLP from batch 1) split their columns between the caller
    /// and helper threads started once per process (at most one fewer than
    /// the cores); smaller layers, and calls made while another call holds
    /// the helpers, run on the caller's thread alone. Opt-in because a
    /// server answering requests on every core gains nothing from it, and
    /// an idle helper spins ~50 us before it parks.
    pub threads: usize,
    /// Run the standard recurrent cells that loops compute (Keras's LSTM)
    /// as fused steps: one matrix product per step over weights laid out at
    /// load (default: yes). Off, every loop runs its body op by op, the
    /// general path the fused one is checked against.
    pub fused_cells: bool,
}

impl Default for LoadOptions {
    fn default() -> LoadOptions {
        LoadOptions {
            tags: vec![export::SERVE_TAG.to_owned()],
            signature: export::DEFAULT_SIGNATURE.to_owned(),
            verify_checksums: true,
            threads: 1,
            fused_cells: true,
        }
    }
}

/// A validated artifact: the meta graph with its signatures, its graph
/// checked and sorted, its variables memory-mapped.
#[derive(Debug)]
pub struct Model {
    dir: PathBuf,
    version: Option<u64>,
    format: Format,
    threads: usize,
    fused_cells: bool,
    meta_graph: MetaGraph,
    graph: TypedGraph,
    variables: VariablesBundle,
}

impl Model {
    /// Reads and validates the version directory `dir`.
    ///
    /// # Errors
    /// [`Error::Export`] for a missing, half-written (`temp-*`), corrupt or
    /// newer-format artifact, or an invalid graph or signature; `Error::TensorFlow`
    /// for a TensorFlow SavedModel that cannot be imported, or
    /// [`Error::TensorFlowDisabled`] without the `tensorflow` feature.
    pub fn load(dir: &Path, options: &LoadOptions) -> Result<Model> {
        let artifact = crate::loader::open(dir, OpenOptions { verify_checksums: options.verify_checksums })?;
        Model::from_artifact(&artifact, options)
    }

    /// Validates an artifact already read (or built in memory, as
    /// `estimator_rs::from_estimator` does): the same checks and graph as
    /// [`Model::load`] gives one read from disk.
    ///
    /// # Errors
    /// As [`Model::load`], for the graph and its signatures.
    pub fn from_artifact(artifact: &export::Artifact, options: &LoadOptions) -> Result<Model> {
        let tags: Vec<&str> = options.tags.iter().map(String::as_str).collect();
        let graph = artifact.typed_graph(&tags)?;
        let meta_graph = artifact.model().meta_graph(&tags)?.clone();
        Ok(Model {
            dir: artifact.dir().to_owned(),
            version: artifact.version(),
            format: artifact.format(),
            threads: options.threads.max(1),
            fused_cells: options.fused_cells,
            meta_graph,
            graph,
            variables: artifact.variables().clone(),
        })
    }

    /// The version directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The version number, if the directory is named by one.
    pub fn version(&self) -> Option<u64> {
        self.version
    }

    /// Which format was loaded: ours, or a TensorFlow SavedModel.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The most threads one call may use ([`LoadOptions::threads`]).
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Whether loops run recognised recurrent cells fused ([`LoadOptions::fused_cells`]).
    pub fn fused_cells(&self) -> bool {
        self.fused_cells
    }

    /// The graph.
    pub fn graph(&self) -> &TypedGraph {
        &self.graph
    }

    /// The variables.
    pub fn variables(&self) -> &VariablesBundle {
        &self.variables
    }

    /// Every signature, by key.
    pub fn signatures(&self) -> &std::collections::BTreeMap<String, Signature> {
        &self.meta_graph.signatures
    }

    /// The signature served when none is named: `serving_default` if the
    /// model has it, else the first by key.
    pub fn default_signature(&self) -> Option<&str> {
        match self.meta_graph.signatures.get_key_value(export::DEFAULT_SIGNATURE) {
            Some((key, _)) => Some(key),
            None => self.meta_graph.signatures.keys().next().map(String::as_str),
        }
    }

    /// The meta graph's tags.
    pub fn tags(&self) -> &[String] {
        &self.meta_graph.tags
    }

    /// The signature `name`.
    ///
    /// # Errors
    /// [`Error::NoSignature`] listing the signatures present.
    pub fn signature(&self, name: &str) -> Result<&Signature> {
        self.meta_graph.signatures.get(name).ok_or_else(|| Error::NoSignature {
            name: name.to_owned(),
            available: self.meta_graph.signatures.keys().cloned().collect(),
        })
    }
}
