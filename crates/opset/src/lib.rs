//! The op set and what it computes on: tensors, dtypes and shapes, the graph
//! IR (named nodes, each an op with inputs and typed attributes), the typed
//! graph (validated, sorted, every tensor's dtype and shape inferred), and the
//! ops themselves ([`ops`]), each with its semantics, shape rule and reference
//! kernel. The `estimator` trains on these semantics, the `export` artifact
//! stores them and the `predictor` serves them.
//!
//! ```
//! use opset::{Assets, Attr, DataType, Graph, Node, Shape, Tensor, TypedGraph};
//! use ndarray::array;
//!
//! // y = x @ w, with w a constant
//! let graph = Graph { nodes: vec![
//!     Node::new("x", "Placeholder", &[])
//!         .with("dtype", Attr::Type(DataType::F32))
//!         .with("shape", Attr::Shape(Shape(vec![None, Some(2)]))),
//!     Node::new("w", "Const", &[]).with("value", Attr::Tensor(Tensor::from(array![[2.0f32], [3.0]]))),
//!     Node::new("y", "MatMul", &["x", "w"]),
//! ]};
//!
//! // Validate and type the graph, then evaluate it with the reference kernels.
//! let graph = TypedGraph::new(&graph, &Assets::new())?;
//! let mut values = vec![None; graph.nodes().len()];
//! values[graph.resolve("x")?] = Some(Tensor::from(array![[1.0f32, 1.0]]));
//! let y = graph.resolve("y")?;
//! graph.evaluate(&[y], &mut values)?;
//! assert_eq!(values[y].as_ref().unwrap().as_f32()?[[0, 0]], 5.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(clippy::unwrap_used, clippy::expect_used)]

mod assets;
mod dtype;
mod error;
mod graph;
pub mod ops;
mod shape;
mod tensor;
mod typed;
mod vocab;

pub use assets::Assets;
pub use dtype::DataType;
pub use error::{Error, Result};
pub use graph::{Attr, Graph, Node, parse_tensor_ref};
pub use ops::{OP_SET_VERSION, Op, TensorType};
pub use shape::{Shape, element_count};
#[doc(hidden)]
pub use tensor::{Buffer, Data};
pub use tensor::{Element, Tensor};
pub use typed::{TypedGraph, TypedNode};
pub use vocab::{Vocabulary, fnv1a64, hash_bucket};
