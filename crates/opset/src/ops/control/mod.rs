//! Control flow: loops over a subgraph (a node's [`crate::Attr::Graph`]
//! attribute).

mod while_loop;
pub use while_loop::{IterationBudget, LoopBody, MAX_LOOP_ITERATIONS, While};
