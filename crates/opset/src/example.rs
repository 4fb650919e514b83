//! TensorFlow's `tf.Example` (tensorflow/core/example/example.proto and
//! feature.proto) as prost messages, with their field numbers: what
//! `ParseExample` decodes, and what a server builds from a `:classify`
//! request's JSON features.

use std::collections::HashMap;

/// One example: named features.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Example {
    /// The features.
    #[prost(message, optional, tag = "1")]
    pub features: Option<Features>,
}

/// Features by name.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Features {
    /// The features by name.
    #[prost(map = "string, message", tag = "1")]
    pub feature: HashMap<String, Feature>,
}

/// One feature: a list of bytes, floats or int64s.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Feature {
    /// The values.
    #[prost(oneof = "Kind", tags = "1, 2, 3")]
    pub kind: Option<Kind>,
}

/// The values of a [`Feature`].
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum Kind {
    /// Strings.
    #[prost(message, tag = "1")]
    BytesList(BytesList),
    /// Floats.
    #[prost(message, tag = "2")]
    FloatList(FloatList),
    /// Integers.
    #[prost(message, tag = "3")]
    Int64List(Int64List),
}

/// `repeated bytes value = 1`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct BytesList {
    /// The strings.
    #[prost(bytes = "vec", repeated, tag = "1")]
    pub value: Vec<Vec<u8>>,
}

/// `repeated float value = 1 [packed = true]`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct FloatList {
    /// The floats.
    #[prost(float, repeated, tag = "1")]
    pub value: Vec<f32>,
}

/// `repeated int64 value = 1 [packed = true]`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Int64List {
    /// The integers.
    #[prost(int64, repeated, tag = "1")]
    pub value: Vec<i64>,
}

impl Kind {
    /// TensorFlow's name of the list's type, as its errors write it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Kind::BytesList(_) => "string",
            Kind::FloatList(_) => "float",
            Kind::Int64List(_) => "int64",
        }
    }

    /// The number of values.
    pub fn len(&self) -> usize {
        match self {
            Kind::BytesList(l) => l.value.len(),
            Kind::FloatList(l) => l.value.len(),
            Kind::Int64List(l) => l.value.len(),
        }
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
