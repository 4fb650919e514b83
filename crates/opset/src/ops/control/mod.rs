//! Control flow: loops and conditionals over subgraphs (a node's
//! [`crate::Attr::Graph`] attributes).

mod if_then_else;
mod while_loop;
pub use if_then_else::{Branch, Branches, If};
pub use while_loop::{IterationBudget, LoopBody, MAX_LOOP_ITERATIONS, While};
