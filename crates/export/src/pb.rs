//! Generated protobuf types of `proto/artifact.proto`. Private to the crate:
//! the public API is the hand-written types, converted in `proto.rs`.

#![allow(clippy::all, missing_docs)]

include!(concat!(env!("OUT_DIR"), "/artifact.rs"));
