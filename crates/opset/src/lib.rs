//! The op set and what it computes on: tensors, dtypes and shapes, the graph
//! IR (named nodes, each an op with inputs and typed attributes), the typed
//! graph (validated, sorted, every tensor's dtype and shape inferred), and the
//! ops themselves ([`ops`]): one file per op, holding its semantics, shape
//! rule, reference kernel and (feature `grad`) gradient. The `estimator`
//! trains on these semantics, the `export` artifact stores them and the
//! `predictor` serves them.
//!
//! ```
//! use opset::ops::array::{Const, Placeholder};
//! use opset::ops::math::MatMul;
//! use opset::ops::{Op, OpDef};
//! use opset::{Assets, DataType, Graph, Shape, Tensor, TypedGraph};
//! use ndarray::array;
//!
//! // An op runs alone on tensors, with its reference kernel...
//! let x = Tensor::from(array![[1.0f32, 1.0]]);
//! let w = Tensor::from(array![[2.0f32], [3.0]]);
//! assert_eq!(MatMul::default().run(&[&x, &w])?.as_f32()?[[0, 0]], 5.0);
//!
//! // ...or in a graph of named nodes, as an artifact stores it: y = x @ w.
//! let node = |name: &str, op: Op, inputs: &[&str]| op.to_node(name, inputs.iter().map(|&i| i.into()).collect());
//! let graph = Graph { nodes: vec![
//!     node("x", Placeholder { dtype: DataType::F32, shape: Shape(vec![None, Some(2)]) }.into(), &[]),
//!     node("w", Const { value: w }.into(), &[]),
//!     node("y", MatMul::default().into(), &["x", "w"]),
//! ]};
//!
//! // Validate and type the graph, then evaluate it with the reference kernels.
//! let graph = TypedGraph::new(&graph, &Assets::new())?;
//! let y = graph.resolve("y")?;
//! assert_eq!(graph.nodes()[y].ty.shape, Shape(vec![None, Some(1)]));
//! let mut values = vec![None; graph.nodes().len()];
//! values[graph.resolve("x")?] = Some(x);
//! graph.evaluate(&[y], &mut values)?;
//! assert_eq!(values[y].as_ref().unwrap().as_f32()?[[0, 0]], 5.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(clippy::unwrap_used, clippy::expect_used)]

mod assets;
mod dtype;
mod error;
pub mod example;
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
pub use tensor::{Bytes, Element, SharedBytes, Tensor};
pub use typed::{TypedGraph, TypedNode};
pub use vocab::{Vocabulary, fnv1a64, hash_bucket};
