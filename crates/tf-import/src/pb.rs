//! Generated types of `proto/tensorflow/saved_model.proto`: the subset of
//! TensorFlow's protos we read. Private to the crate.

#![allow(clippy::all, missing_docs)]

include!(concat!(env!("OUT_DIR"), "/tensorflow.rs"));
