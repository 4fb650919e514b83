//! Generated types of `proto/tensorflow/saved_model.proto`: the subset of
//! TensorFlow's protos we read. Private to the crate.

#![allow(clippy::all, missing_docs)]

include!(concat!(env!("OUT_DIR"), "/tensorflow.rs"));

impl GraphDef {
    /// The functions of the graph's library, by name (the importer's and
    /// the inspector's one index of them).
    pub(crate) fn functions(&self) -> std::collections::HashMap<&str, &FunctionDef> {
        self.library
            .iter()
            .flat_map(|l| &l.function)
            .filter_map(|f| Some((f.signature.as_ref()?.name.as_str(), f)))
            .collect()
    }
}
