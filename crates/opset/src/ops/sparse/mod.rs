//! Sparse tensors and what reads them: the ops feature columns compile
//! to. A sparse tensor is, as in TensorFlow, three dense tensors:
//! `indices` (i64 `[n, rank]`, the coordinates of each value), `values`
//! (`[n]`) and `dense_shape` (i64 `[rank]`).

mod segment;

mod sparse_segment_sum;
pub use sparse_segment_sum::SparseSegmentSum;
mod sparse_segment_mean;
pub use sparse_segment_mean::SparseSegmentMean;
mod sparse_segment_sqrt_n;
pub use sparse_segment_sqrt_n::SparseSegmentSqrtN;
mod sparse_fill_empty_rows;
pub use sparse_fill_empty_rows::{FillOutput, SparseFillEmptyRows};
mod sparse_to_dense;
pub use sparse_to_dense::SparseToDense;
mod sparse_reshape;
pub use sparse_reshape::{ReshapeOutput, SparseReshape};
