//! Element types of tensors.

use std::fmt;

/// The element type of a tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DataType {
    /// 32-bit IEEE float.
    F32,
    /// 64-bit signed integer.
    I64,
    /// 32-bit signed integer.
    I32,
    /// Boolean, stored as one byte (0 or 1) on disk.
    Bool,
    /// UTF-8 string.
    String,
}

impl DataType {
    /// Every dtype, in on-disk order.
    pub const ALL: [DataType; 5] = [DataType::F32, DataType::I64, DataType::I32, DataType::Bool, DataType::String];

    /// Size in bytes of one element on disk, or `None` for variable-size strings.
    pub fn byte_size(self) -> Option<usize> {
        match self {
            DataType::F32 | DataType::I32 => Some(4),
            DataType::I64 => Some(8),
            DataType::Bool => Some(1),
            DataType::String => None,
        }
    }

    /// Whether arithmetic ops (Add, MatMul, ...) accept this dtype.
    pub fn is_numeric(self) -> bool {
        matches!(self, DataType::F32 | DataType::I64 | DataType::I32)
    }

    /// TensorFlow's name of the dtype (`DT_FLOAT`...), as its tools print it.
    pub fn tf_name(self) -> &'static str {
        match self {
            DataType::F32 => "DT_FLOAT",
            DataType::I64 => "DT_INT64",
            DataType::I32 => "DT_INT32",
            DataType::Bool => "DT_BOOL",
            DataType::String => "DT_STRING",
        }
    }

    /// The name used in messages and by the CLI: `f32`, `i64`, `i32`, `bool`, `string`.
    pub fn name(self) -> &'static str {
        match self {
            DataType::F32 => "f32",
            DataType::I64 => "i64",
            DataType::I32 => "i32",
            DataType::Bool => "bool",
            DataType::String => "string",
        }
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
