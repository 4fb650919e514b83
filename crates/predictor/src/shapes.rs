//! Shapes without values. A `Shape` node whose input nothing else reads
//! (TensorFlow's `zeros_like`, Keras's first recurrent step computed only
//! for the shape of its output) gets that shape from the ops' shape rules,
//! applied at run time to the shapes of values the plan computes anyway:
//! the input's own subgraph never runs.

use std::collections::HashMap;

use smallvec::SmallVec;

use opset::ops::OpError;
use opset::ops::rule::TensorType;
use opset::{DataType, Op, Tensor, TypedGraph};

/// Where a shape rule reads an input's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arg {
    /// The value of leaf `k`, one the plan computes (the step's input `k`).
    Leaf(usize),
    /// The result of an earlier entry.
    Entry(usize),
}

/// One op whose output shape follows from its inputs' shapes.
#[derive(Debug)]
struct Entry {
    op: Op,
    inputs: SmallVec<[(Arg, DataType); 4]>,
}

/// A node's shape as a list of shape rules over the shapes of some leaf
/// values; run as the step of the `Shape` node that reads it.
#[derive(Debug)]
pub(crate) struct ShapeProgram {
    entries: Vec<Entry>,
}

impl ShapeProgram {
    /// The shape, as `Shape` gives it (an i64 vector), of the node this
    /// program stands for; `leaves` are the values of its leaf nodes.
    /// `memo` remembers the last answer per program on this thread: calls
    /// with the shapes of the last one (a server's usual traffic) reuse it.
    ///
    /// # Errors
    /// What a shape rule refuses (inputs that do not fit together), as the
    /// op's kernel would have.
    pub fn run(&self, leaves: &[&Tensor], out: &mut Tensor, memo: &mut ShapeMemo) -> Result<(), OpError> {
        let id = self as *const ShapeProgram as usize;
        let mut key: SmallVec<[usize; 16]> = SmallVec::new();
        for leaf in leaves {
            key.push(leaf.shape().len());
            key.extend_from_slice(leaf.shape());
        }
        let at = match memo.0.iter().position(|m| m.id == id) {
            Some(at) if memo.0[at].key == key => at,
            found => {
                let dims = self.evaluate(leaves)?;
                let entry = Memo { id, key, dims };
                match found {
                    Some(at) => {
                        memo.0[at] = entry;
                        at
                    }
                    None => {
                        memo.0.push(entry);
                        memo.0.len() - 1
                    }
                }
            }
        };
        let dims = &memo.0[at].dims;
        out.output_vec::<i64>(&[dims.len()]).extend_from_slice(dims);
        Ok(())
    }

    /// Runs the shape rules.
    fn evaluate(&self, leaves: &[&Tensor]) -> Result<SmallVec<[i64; 4]>, OpError> {
        let mut shapes: SmallVec<[SmallVec<[usize; 4]>; 16]> = SmallVec::with_capacity(self.entries.len());
        for entry in &self.entries {
            let types: SmallVec<[TensorType; 4]> = entry
                .inputs
                .iter()
                .map(|&(arg, dtype)| {
                    let dims: &[usize] = match arg {
                        Arg::Leaf(k) => leaves.get(k).map_or(&[], |t| t.shape()),
                        Arg::Entry(e) => shapes.get(e).map_or(&[], |s| s.as_slice()),
                    };
                    TensorType::new(dtype, dims.iter().map(|&d| Some(d)).collect())
                })
                .collect();
            let ty = entry.op.infer(&types)?;
            let dims: Option<SmallVec<[usize; 4]>> = ty.dims().iter().copied().collect();
            shapes.push(
                dims.ok_or_else(|| OpError::shape(format!("{}'s shape rule left a dim unknown", entry.op.name())))?,
            );
        }
        let dims = shapes.last().map_or(&[][..], |s| s.as_slice());
        Ok(dims.iter().map(|&d| i64::try_from(d).unwrap_or(i64::MAX)).collect())
    }
}

/// A thread's last answer of each shape program (by address: programs
/// live as long as their plan), keyed by the leaves' shapes.
#[derive(Debug, Default)]
pub(crate) struct ShapeMemo(Vec<Memo>);

#[derive(Debug)]
struct Memo {
    id: usize,
    key: SmallVec<[usize; 16]>,
    dims: SmallVec<[i64; 4]>,
}

/// What a plan computes: which nodes run, and the `Shape` nodes answered
/// by a program instead (with the nodes whose values it reads).
pub(crate) struct Needs {
    pub needed: Vec<bool>,
    pub programs: HashMap<usize, (ShapeProgram, Vec<usize>)>,
}

/// The nodes `outputs` need, where a `Shape` node's input counts as needed
/// only if a program cannot give its shape from values needed anyway.
/// `fed` are the nodes fed at run time.
pub(crate) fn needs(graph: &TypedGraph, outputs: &[usize], fed: &[usize]) -> Needs {
    let nodes = graph.nodes();
    // Inputs of `Shape` nodes whose value turned out to be needed.
    let mut forced = vec![false; nodes.len()];
    loop {
        let mut needed = vec![false; nodes.len()];
        let mut stack = outputs.to_vec();
        while let Some(i) = stack.pop() {
            if std::mem::replace(&mut needed[i], true) {
                continue;
            }
            match (&nodes[i].op, nodes[i].inputs.as_slice()) {
                (Op::ShapeOf(_), &[x]) if !forced[x] => {}
                (_, inputs) => stack.extend(inputs),
            }
        }
        let mut programs = HashMap::new();
        let mut changed = false;
        for s in 0..nodes.len() {
            let (Op::ShapeOf(_), &[x]) = (&nodes[s].op, nodes[s].inputs.as_slice()) else { continue };
            if !needed[s] || forced[x] || needed[x] {
                continue;
            }
            let mut builder =
                Builder { graph, fed, needed: &needed, leaves: Vec::new(), entries: Vec::new(), at: HashMap::new() };
            match builder.arg(x, 0) {
                Some(Arg::Entry(_)) => {
                    programs.insert(s, (ShapeProgram { entries: builder.entries }, builder.leaves));
                }
                // Its value is at hand anyway, or its shape needs its value.
                _ => {
                    forced[x] = true;
                    changed = true;
                }
            }
        }
        if changed {
            continue;
        }
        for (_, leaves) in programs.values() {
            for &leaf in leaves {
                needed[leaf] = true;
            }
        }
        return Needs { needed, programs };
    }
}

/// Builds one program, leaves first.
struct Builder<'a> {
    graph: &'a TypedGraph,
    fed: &'a [usize],
    needed: &'a [bool],
    leaves: Vec<usize>,
    entries: Vec<Entry>,
    at: HashMap<usize, Arg>,
}

/// How deep a program may reach back through the graph (a bound on the
/// recursion for hostile graphs; real ones need a few dozen).
const MAX_DEPTH: usize = 256;

impl Builder<'_> {
    /// Where the program finds node `n`'s shape, if it can.
    fn arg(&mut self, n: usize, depth: usize) -> Option<Arg> {
        if let Some(&arg) = self.at.get(&n) {
            return Some(arg);
        }
        let node = &self.graph.nodes()[n];
        let arg = if self.needed[n] || self.fed.contains(&n) || matches!(node.op, Op::Const(_) | Op::Variable(_)) {
            self.leaves.push(n);
            Arg::Leaf(self.leaves.len() - 1)
        } else {
            if depth >= MAX_DEPTH || !self.fixed_by_input_shapes(n) {
                return None;
            }
            let mut inputs = SmallVec::new();
            for &j in &node.inputs {
                inputs.push((self.arg(j, depth + 1)?, self.graph.nodes()[j].ty.dtype));
            }
            self.entries.push(Entry { op: node.op.clone(), inputs });
            Arg::Entry(self.entries.len() - 1)
        };
        self.at.insert(n, arg);
        Some(arg)
    }

    /// Whether node `n`'s shape follows from its inputs' shapes by its
    /// shape rule ([`Op::shape_from_values`]); placeholders never do.
    fn fixed_by_input_shapes(&self, n: usize) -> bool {
        let op = &self.graph.nodes()[n].op;
        !op.shape_from_values() && !matches!(op, Op::Placeholder(_))
    }
}
