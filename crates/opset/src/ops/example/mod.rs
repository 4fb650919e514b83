//! Parsing serialized `tf.Example`s: what a model exported with
//! `build_parsing_serving_input_receiver_fn` runs first. TensorFlow's
//! `ParseExampleV2` yields every feature's tensors from one node; here each
//! of its outputs is one [`ParseExample`] node (a dense feature, or a
//! sparse feature's indices, values or shape).

mod parse_example;
pub use parse_example::{ExampleOutput, ParseExample};
