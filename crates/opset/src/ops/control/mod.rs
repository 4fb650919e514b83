//! Control flow: loops and conditionals over subgraphs (a node's
//! [`crate::Attr::Graph`] attributes).

mod if_then_else;
mod while_loop;
pub use if_then_else::{Branch, Branches, If};
pub use while_loop::{IterationBudget, LoopBody, MAX_LOOP_ITERATIONS, While};

use crate::TypedGraph;
use crate::ops::Op;

/// The `arg_0 .. arg_{n-1}` nodes of a subgraph (the `what`: `body`, `then
/// branch`...), checked: each there and a Placeholder, and no other source
/// (another Placeholder, a Variable) in the subgraph, which `reads` says.
///
/// # Errors
/// What is wrong, with the node's name: the reason of the caller's error.
fn subgraph_args(typed: &TypedGraph, n: usize, what: &str, reads: &str) -> Result<Vec<usize>, String> {
    let nodes = typed.nodes();
    let args = (0..n)
        .map(|i| typed.resolve(&format!("arg_{i}")).map_err(|_| format!("the {what} has no node \"arg_{i}\"")))
        .collect::<Result<Vec<usize>, String>>()?;
    for (i, &a) in args.iter().enumerate() {
        if !matches!(nodes[a].op, Op::Placeholder(_)) {
            return Err(format!("the {what}'s node \"arg_{i}\" is a {}, not a Placeholder", nodes[a].op.name()));
        }
    }
    let mut is_arg = vec![false; nodes.len()];
    for &a in &args {
        is_arg[a] = true;
    }
    for (i, node) in nodes.iter().enumerate() {
        let source = match node.op {
            Op::Placeholder(_) => !is_arg[i],
            Op::Variable(_) => true,
            _ => false,
        };
        if source {
            return Err(format!("the {what}'s node {:?} is a {}: {reads}", node.name, node.op.name()));
        }
    }
    Ok(args)
}

/// Nodes of the subgraphs the control ops' tests build.
#[cfg(test)]
mod test_graphs {
    use crate::ops::Op;
    use crate::ops::array::{Const, Placeholder};
    use crate::{DataType, Node, Shape, Tensor};

    /// A node of `op` reading `inputs`.
    pub(super) fn node(name: &str, op: impl Into<Op>, inputs: &[&str]) -> Node {
        op.into().to_node(name, inputs.iter().map(|&i| i.into()).collect())
    }

    /// Placeholder `arg_i`.
    pub(super) fn arg(i: usize, dtype: DataType, dims: Vec<Option<usize>>) -> Node {
        node(&format!("arg_{i}"), Placeholder { dtype, shape: Shape(dims) }, &[])
    }

    /// A constant.
    pub(super) fn constant(name: &str, value: Tensor) -> Node {
        node(name, Const { value }, &[])
    }
}
