//! TensorFlow 1's control flow: a `tf.compat.v1.while_loop` is not a node
//! with functions (as TF2's `While`, in [`super::control`]) but a *frame*
//! of nodes in the graph itself, and the `TensorArray`s its loops fill; a
//! v1 `tf.cond` (outside a frame or in one) is `Switch`es and `Merge`s,
//! each `Merge` our `If` (see [`merge`]).
//!
//! A frame (named by its `Enter`s' `frame_name`) holds, per loop variable,
//! `Enter(initial) -> Merge(Enter, NextIteration) -> Switch(Merge,
//! LoopCond)`, whose output 1 feeds the body and output 0 an `Exit` (the
//! variable's final value), the body's result going back through
//! `NextIteration`; `LoopCond`'s input is the condition, computed from the
//! Merges. Values from outside the loop come in through `Enter`s with
//! `is_constant` (loop invariants).
//!
//! The importer rebuilds the frame when it first meets one of its `Exit`s:
//! the loop variables are the `Switch`es on that `LoopCond` (each with its
//! `Merge`, whose `Enter` gives the initial value and `NextIteration` the
//! next one); the invariants are the frame's constant `Enter`s that the
//! condition and the next values reach (a variable's value or any tensor:
//! carried as loop variables that never change; a TensorArray's handle:
//! nothing, see below). The frame's nodes are then translated, as the TF2
//! loop's functions are, into one subgraph (placeholders `arg_i`, the
//! condition `cond`, the next values `out_i`) in a scope of their own whose
//! Merges, Switches and invariant Enters are bound to the placeholders; a
//! nested frame's `Exit` met there is translated the same way, inside it.
//! Each `Exit` used becomes one of our `While` nodes over that body.
//!
//! A TensorArray's state is its *flow* tensor, which our op set holds as a
//! dense tensor list (`[size, ...element]`): `TensorArrayV3`'s output 1 is
//! our `ListReserve`, each op on the array takes the flow and gives the
//! next (`TensorArrayWriteV3` is our `ListSetItem`, `TensorArrayScatterV3`
//! our `ListScatter`, reads and gathers our `Gather`), so the flow is
//! threaded through loops as any loop variable. The handle (output 0) only
//! leads to the `TensorArrayV3` node.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use opset::ops::array::{
    Gather, Identity, ListReserve, ListScatter, ListSetItem, Placeholder, ShapeOf, SliceSpec, StridedSlice,
};
use opset::ops::control::{Branches, If, LoopBody, While};
use opset::ops::rule::unify;
use opset::{DataType, Graph, Shape, TensorType};

use super::control::loop_type;
use super::{Translate, as_dtype};
use crate::import::{AttrV, Importer, MAX_DEPTH, Scope, attr, node_error};
use crate::pb;
use crate::restore::{node_name, output_index};
use crate::{Error, Result};

/// The TensorFlow ops of this family, by name.
pub(super) const OPS: &[(&str, Translate)] = &[
    ("Exit", exit),
    ("Enter", outside_frame),
    ("Merge", merge),
    ("Switch", outside_frame),
    ("NextIteration", outside_frame),
    ("LoopCond", outside_frame),
    ("TensorArrayV3", tensor_array),
    ("TensorArrayWriteV3", tensor_array_write),
    ("TensorArrayReadV3", tensor_array_read),
    ("TensorArrayGatherV3", tensor_array_gather),
    ("TensorArrayScatterV3", tensor_array_scatter),
    ("TensorArraySizeV3", tensor_array_size),
];

/// A TF1 loop frame, translated once (by the first of its `Exit`s met).
pub(in crate::import) struct Frame<'a> {
    /// The frame's `LoopCond` node.
    loop_cond: &'a str,
    /// Its body, shared by the `While` of each `Exit` used.
    body: Arc<LoopBody>,
    /// Our tensors for the loop variables' initial values, in order.
    inputs: Vec<String>,
    /// The loop variable of each of the frame's `Merge`s.
    merges: HashMap<&'a str, usize>,
}

/// One loop variable of a frame.
struct Var<'a> {
    merge: &'a pb::NodeDef,
    switch: &'a pb::NodeDef,
    /// Gives the initial value.
    enter: &'a pb::NodeDef,
    /// Gives the next value.
    next: &'a pb::NodeDef,
}

/// `Exit`: the final value of its loop variable, our `While` over the
/// frame's body (translated when the frame's first `Exit` is met).
fn exit<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    let reference =
        Importer::data_inputs(node).first().copied().ok_or_else(|| node_error(node, "an Exit without an input"))?;
    let switch = im.frame_node(scope, node, reference)?;
    if switch.op != "Switch" || output_index(reference) != 0 {
        return Err(node_error(
            node,
            format!("an Exit reads output 0 of a loop's Switch, not {reference:?} (a {})", switch.op),
        ));
    }
    let loop_cond = im.loop_cond(scope, switch)?;
    let merge = im.switched_merge(scope, switch)?;
    let (enter, _) = im.merge_parts(scope, merge)?;
    let name = frame_name(enter)?;
    if !im.frames.contains_key(&(scope, name)) {
        let frame = im.frame(scope, name, loop_cond)?;
        im.frames.insert((scope, name), frame);
    }
    let frame = &im.frames[&(scope, name)];
    if frame.loop_cond != loop_cond.name {
        return Err(node_error(
            node,
            format!("frame {name:?} has two LoopConds: {:?} and {:?}", frame.loop_cond, loop_cond.name),
        ));
    }
    let output = *frame
        .merges
        .get(merge.name.as_str())
        .ok_or_else(|| node_error(node, format!("its Merge {:?} is not a variable of frame {name:?}", merge.name)))?;
    let op = While { body: frame.body.clone(), output, max_iterations: None };
    let inputs = frame.inputs.clone();
    im.emit(scope, node, op, &inputs)
}

/// The other nodes of a frame are reached only from its `Exit`s (bound to
/// the body's placeholders), and a `tf.cond`'s `Switch`es only from its
/// `Merge`s (bound to the branches' placeholders): reached otherwise, the
/// graph is malformed.
fn outside_frame<'a>(_: &mut Importer<'a>, _: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    Err(node_error(
        node,
        format!(
            "a {} reached other than through its while loop's Exit or its tf.cond's Merge (a malformed frame or \
             conditional)",
            node.op
        ),
    ))
}

/// A frame's name: its `Enter`'s `frame_name`.
fn frame_name(enter: &pb::NodeDef) -> Result<&str> {
    attr::bytes(enter, "frame_name")
        .and_then(|b| std::str::from_utf8(b).ok())
        .filter(|name| !name.is_empty())
        .ok_or_else(|| node_error(enter, "an Enter without a frame_name"))
}

/// The shape TensorFlow declared for output `i` of `node` (its
/// `_output_shapes` attribute), if any.
fn declared_shape(node: &pb::NodeDef, i: usize) -> Option<&pb::TensorShapeProto> {
    match attr::get(node, "_output_shapes") {
        Some(AttrV::List(l)) => l.shape.get(i),
        _ => None,
    }
}

/// A declared shape's dims (-1 unknown), `None` for an unknown rank.
fn declared_dims(shape: &pb::TensorShapeProto) -> Option<Vec<Option<usize>>> {
    (!shape.unknown_rank).then(|| shape.dim.iter().map(|d| usize::try_from(d.size).ok()).collect())
}

impl<'a> Importer<'a> {
    /// The node `reference` names in `scope`, read by frame node `by`.
    fn frame_node(&self, scope: usize, by: &pb::NodeDef, reference: &str) -> Result<&'a pb::NodeDef> {
        self.node(scope, reference).map_err(|_| node_error(by, format!("its input {reference:?} is no node")))
    }

    /// Data input `i` of frame node `node`, as a node.
    fn frame_input(&self, scope: usize, node: &'a pb::NodeDef, i: usize) -> Result<&'a pb::NodeDef> {
        let reference = Importer::data_inputs(node)
            .get(i)
            .copied()
            .ok_or_else(|| node_error(node, format!("a {} without input {i}", node.op)))?;
        self.frame_node(scope, node, reference)
    }

    /// The `LoopCond` deciding a loop's `Switch`.
    fn loop_cond(&self, scope: usize, switch: &'a pb::NodeDef) -> Result<&'a pb::NodeDef> {
        self.switch_input(scope, switch, 1, "LoopCond", "is decided by")
    }

    /// The `Merge` a loop's `Switch` switches.
    fn switched_merge(&self, scope: usize, switch: &'a pb::NodeDef) -> Result<&'a pb::NodeDef> {
        self.switch_input(scope, switch, 0, "Merge", "switches")
    }

    /// Input `i` of a loop's `Switch`, which must be an `op`.
    fn switch_input(
        &self,
        scope: usize,
        switch: &'a pb::NodeDef,
        i: usize,
        op: &str,
        role: &str,
    ) -> Result<&'a pb::NodeDef> {
        let input = self.frame_input(scope, switch, i)?;
        if input.op != op {
            return Err(node_error(
                switch,
                format!("a loop's Switch {role} a {op}, this one {:?} (a {})", input.name, input.op),
            ));
        }
        Ok(input)
    }

    /// The `Enter` (initial value) and `NextIteration` (next value) a
    /// loop's `Merge` joins.
    fn merge_parts(&self, scope: usize, merge: &'a pb::NodeDef) -> Result<(&'a pb::NodeDef, &'a pb::NodeDef)> {
        let references = Importer::data_inputs(merge);
        let inputs = references.iter().map(|r| self.frame_node(scope, merge, r)).collect::<Result<Vec<_>>>()?;
        let of = |op: &str| inputs.iter().copied().find(|n| n.op == op);
        match (references.len(), of("Enter"), of("NextIteration")) {
            (2, Some(enter), Some(next)) => Ok((enter, next)),
            _ => Err(node_error(
                merge,
                format!(
                    "a loop's Merge joins an Enter and a NextIteration, this one {references:?} ({})",
                    inputs.iter().map(|n| n.op.as_str()).collect::<Vec<_>>().join(", ")
                ),
            )),
        }
    }

    /// The node behind `reference` once `Enter`s and `Identity`s are
    /// followed back (where a value or a handle comes from), and which of
    /// its outputs; `None` past [`MAX_DEPTH`] of them or at a dangling input.
    fn through_enters(&self, scope: usize, reference: &'a str) -> Option<(&'a pb::NodeDef, usize)> {
        let (mut scope, mut reference) = self.outer(scope, reference);
        for _ in 0..MAX_DEPTH {
            let node = self.node(scope, reference).ok()?;
            if !matches!(node.op.as_str(), "Enter" | "Identity") {
                return Some((node, output_index(reference)));
            }
            (scope, reference) = self.outer(scope, Importer::data_inputs(node).first().copied()?);
        }
        None
    }

    /// Translates frame `name` of `scope`, decided by `loop_cond`.
    fn frame(&mut self, scope: usize, name: &'a str, loop_cond: &'a pb::NodeDef) -> Result<Frame<'a>> {
        // The loop variables: every Switch the LoopCond decides.
        let mut switches: Vec<&'a pb::NodeDef> = self.scopes[scope]
            .nodes
            .values()
            .copied()
            .filter(|n| {
                n.op == "Switch" && Importer::data_inputs(n).get(1).is_some_and(|r| node_name(r) == loop_cond.name)
            })
            .collect();
        switches.sort_by(|a, b| a.name.cmp(&b.name));
        let mut vars = Vec::with_capacity(switches.len());
        for switch in switches {
            let merge = self.switched_merge(scope, switch)?;
            let (enter, next) = self.merge_parts(scope, merge)?;
            let other = frame_name(enter)?;
            if other != name {
                return Err(node_error(
                    merge,
                    format!(
                        "its Enter is in frame {other:?}, its LoopCond {:?} decides frame {name:?}",
                        loop_cond.name
                    ),
                ));
            }
            vars.push(Var { merge, switch, enter, next });
        }
        let invariants = self.frame_invariants(scope, name, loop_cond, &vars)?;

        // The initial values, and the types the loop variables keep: the
        // shape TensorFlow declared for the Enter and the Merge (the loop's
        // shape invariant) where it is less specific than the initial value's.
        let (mut inputs, mut types) = (Vec::new(), Vec::new());
        for v in &vars {
            let x = self.input(scope, v.enter, 0)?;
            let ty = self.type_of(v.enter, &x)?.clone();
            types.push(loop_type(loop_type(ty, declared_shape(v.enter, 0)), declared_shape(v.merge, 0)));
            inputs.push(x);
        }
        let (mut carried, mut folded) = (Vec::new(), HashMap::new());
        for enter in invariants {
            let source = self
                .through_enters(scope, &enter.name)
                .ok_or_else(|| node_error(enter, "where its value comes from cannot be followed"))?;
            let reference = Importer::data_inputs(enter).first().copied().unwrap_or_default();
            let x = match (source.0.op.as_str(), source.1) {
                // A handle: its ops find the array's node from it (output 1 is the flow, a value).
                ("TensorArrayV3", 0) => continue,
                ("VarHandleOp" | "VariableV2" | "Variable", _) => self.variable(scope, reference)?,
                _ => self.input(scope, enter, 0)?,
            };
            let ty = self.type_of(enter, &x)?.clone();
            // A small integer invariant (a size) folds inside the body as outside.
            if matches!(ty.dtype, DataType::I32 | DataType::I64)
                && ty.dims().len() <= 1
                && let Ok(value) = self.shape_value(scope, reference, 0)
            {
                folded.insert(enter.name.as_str(), value);
            }
            types.push(ty);
            inputs.push(x);
            carried.push(enter);
        }

        let depth = self.scopes[scope].depth + 1;
        if depth > 32 {
            return Err(node_error(loop_cond, "loops and function calls nest more than 32 deep"));
        }
        let prefix = format!("{}{name}/", self.scopes[scope].prefix);
        let outer = self.enter_subgraph();
        let built = self.translate_frame(scope, loop_cond, &vars, &carried, &types, prefix, depth, folded);
        let graph = Graph { nodes: self.leave_subgraph(outer) };
        built?;
        let body = LoopBody::new(graph, &self.asset_paths()?)
            .map_err(|e| node_error(loop_cond, format!("the loop of frame {name:?}: {e}")))?;
        let merges = vars.iter().enumerate().map(|(i, v)| (v.merge.name.as_str(), i)).collect();
        Ok(Frame { loop_cond: &loop_cond.name, body: Arc::new(body), inputs, merges })
    }

    /// The loop-invariant values a frame's body reads: its `Enter`s with
    /// `is_constant` that the condition and the next values reach (through
    /// the nested frames too), sorted by name. A walk over the graph, each
    /// node once.
    fn frame_invariants(
        &self,
        scope: usize,
        name: &str,
        loop_cond: &'a pb::NodeDef,
        vars: &[Var<'a>],
    ) -> Result<Vec<&'a pb::NodeDef>> {
        let ours: HashSet<&str> = vars.iter().flat_map(|v| [v.merge.name.as_str(), v.switch.name.as_str()]).collect();
        let mut stack = Vec::with_capacity(vars.len() + 1);
        for node in std::iter::once(loop_cond).chain(vars.iter().map(|v| v.next)) {
            let result = Importer::data_inputs(node)
                .first()
                .copied()
                .ok_or_else(|| node_error(node, format!("a {} without an input", node.op)))?;
            stack.push(node_name(result));
        }
        let (mut seen, mut invariants) = (HashSet::new(), Vec::new());
        while let Some(at) = stack.pop() {
            if ours.contains(at) || !seen.insert(at) {
                continue;
            }
            let Some(&node) = self.scopes[scope].nodes.get(at) else { continue };
            if node.op == "Enter" && frame_name(node).is_ok_and(|f| f == name) {
                if attr::flag(node, "is_constant") {
                    invariants.push(node);
                }
                continue;
            }
            stack.extend(Importer::data_inputs(node).into_iter().map(node_name));
        }
        invariants.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(invariants)
    }

    /// Emits a frame's subgraph into the current (fresh) graph: its
    /// placeholders, then the condition and the next values translated in
    /// a scope of their own (`prefix`, `depth`) where the frame's Merges,
    /// Switches and carried invariant Enters are the placeholders.
    #[allow(clippy::too_many_arguments)]
    fn translate_frame(
        &mut self,
        scope: usize,
        loop_cond: &'a pb::NodeDef,
        vars: &[Var<'a>],
        carried: &[&'a pb::NodeDef],
        types: &[TensorType],
        prefix: String,
        depth: usize,
        folded: HashMap<&'a str, Vec<Option<i64>>>,
    ) -> Result<()> {
        let mut args = Vec::with_capacity(types.len());
        for (i, ty) in types.iter().enumerate() {
            let placeholder = Placeholder { dtype: ty.dtype, shape: ty.shape.clone() };
            args.push(self.emit_named(loop_cond, format!("arg_{i}"), placeholder, &[])?);
        }
        let mut bound = HashMap::new();
        for (v, arg) in vars.iter().zip(&args) {
            bound.insert(v.merge.name.as_str(), arg.clone());
            bound.insert(v.switch.name.as_str(), arg.clone());
        }
        for (enter, arg) in carried.iter().zip(&args[vars.len()..]) {
            bound.insert(enter.name.as_str(), arg.clone());
        }
        let body = self.scopes.len();
        self.scopes.push(Scope {
            nodes: self.scopes[scope].nodes.clone(),
            args: HashMap::new(),
            prefix,
            depth,
            function: self.scopes[scope].function,
            bound,
            folded,
        });
        let cond = self.input(body, loop_cond, 0)?;
        self.emit_named(loop_cond, "cond".into(), Identity, &[cond])?;
        for (i, v) in vars.iter().enumerate() {
            let next = self.input(body, v.next, 0)?;
            self.emit_named(v.next, format!("out_{i}"), Identity, &[next])?;
        }
        for (i, arg) in args.iter().enumerate().skip(vars.len()) {
            self.emit_named(loop_cond, format!("out_{i}"), Identity, std::slice::from_ref(arg))?;
        }
        Ok(())
    }

    /// Checks that the handle `node` reads (its input 0) is a
    /// `TensorArrayV3`'s.
    fn tensor_array_of(&self, scope: usize, node: &'a pb::NodeDef) -> Result<&'a pb::NodeDef> {
        let handle = Importer::data_inputs(node).first().copied().ok_or_else(|| node_error(node, "no handle"))?;
        match self.through_enters(scope, handle) {
            Some((array, 0)) if array.op == "TensorArrayV3" => Ok(array),
            other => Err(node_error(
                node,
                format!(
                    "its handle {handle:?} is not a TensorArrayV3's (it comes from {})",
                    other.map_or("nowhere".into(), |(n, i)| format!("output {i} of {:?}, a {}", n.name, n.op))
                ),
            )),
        }
    }

    /// The element shape of TensorArray `array` created without one
    /// (`unknown_rank`): what the graph declares for the elements its
    /// reads, gathers, writes and scatters see, a dim known where they all
    /// agree.
    fn element_shape_of(&self, scope: usize, array: &'a pb::NodeDef) -> Result<Vec<Option<usize>>> {
        let value_shape = |node: &'a pb::NodeDef| {
            let reference = Importer::data_inputs(node).get(2).copied()?;
            let producer = self.node(scope, reference).ok()?;
            declared_dims(declared_shape(producer, output_index(reference))?)
        };
        let mut hints: Vec<Vec<Option<usize>>> = Vec::new();
        for &node in self.scopes[scope].nodes.values() {
            let hint = match node.op.as_str() {
                "TensorArrayGatherV3" => match attr::get(node, "element_shape") {
                    Some(AttrV::Shape(s)) => declared_dims(s),
                    _ => None,
                },
                "TensorArrayReadV3" => declared_shape(node, 0).and_then(declared_dims),
                "TensorArrayWriteV3" => value_shape(node),
                "TensorArrayScatterV3" => value_shape(node).filter(|d| !d.is_empty()).map(|d| d[1..].to_vec()),
                _ => continue,
            };
            let Some(hint) = hint else { continue };
            if self.tensor_array_of(scope, node).is_ok_and(|a| std::ptr::eq(a, array)) {
                hints.push(hint);
            }
        }
        let Some(first) = hints.first() else {
            return Err(node_error(
                array,
                "the element shape is unknown: no element_shape, and no read or write of the TensorArray declares one",
            ));
        };
        if let Some(other) = hints.iter().find(|h| h.len() != first.len()) {
            return Err(node_error(
                array,
                format!("its reads and writes disagree on the element rank: {first:?} and {other:?}"),
            ));
        }
        Ok((0..first.len()).map(|d| hints.iter().try_fold(None, |known, h| unify(known, h[d])).flatten()).collect())
    }
}

/// `Merge` outside a loop frame: the join of a TF1 `tf.cond`, our `If`.
///
/// A v1 `tf.cond(pred, true_fn, false_fn)` is no node but a pattern: each
/// value a branch reads from outside comes in through a `Switch(value,
/// pred)` (output 1 in the true branch, output 0 in the false one; a
/// branch's constants hang on its side of `Switch(pred, pred)` by a control
/// edge), and each result is a `Merge` of the false and the true branch's
/// values. Each `Merge` used becomes one of our `If` nodes: its inputs
/// traced back to the Switches they read (a cond nested in a branch is seen
/// through: its Switches are reached on both of their sides, and what they
/// switch comes from ours), the two inputs must come from the two sides of
/// Switches on one predicate; the values those Switches switch are the
/// arguments, and each input, translated in a scope of its own where the
/// Switches are the placeholders, a branch.
fn merge<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, index: usize) -> Result<String> {
    let join = im.join(scope, node).map_err(|reason| {
        node_error(
            node,
            format!("a Merge reached other than through its while loop's Exit, and no tf.cond's join: {reason}"),
        )
    })?;
    if index != 0 {
        return Err(node_error(node, format!("output {index} of a tf.cond's Merge (value_index) is not supported")));
    }
    let pred = im.input(scope, join.pred, 1)?;
    let mut args = Vec::with_capacity(join.args.len());
    for &switch in &join.args {
        let reference = Importer::data_inputs(switch).first().copied().unwrap_or_default();
        args.push(match attr::get(switch, "T") {
            Some(AttrV::Type(t)) if *t == pb::DataType::DtResource as i32 => im.variable(scope, reference)?,
            _ => im.input(scope, switch, 0)?,
        });
    }
    let types = args.iter().map(|x| im.type_of(node, x).cloned()).collect::<Result<Vec<TensorType>>>()?;
    let depth = im.scopes[scope].depth + 1;
    if depth > 32 {
        return Err(node_error(node, "conditionals, loops and function calls nest more than 32 deep"));
    }
    let prefix = format!("{}{}/", im.scopes[scope].prefix, node.name);
    let then = im.join_branch(scope, node, join.then, &join.bound, &types, format!("{prefix}then/"), depth)?;
    let otherwise =
        im.join_branch(scope, node, join.otherwise, &join.bound, &types, format!("{prefix}else/"), depth)?;
    let branches = Branches::new(then, otherwise, &im.asset_paths()?)
        .map_err(|e| node_error(node, format!("the tf.cond on {:?}: {e}", join.predicate)))?;
    let inputs: Vec<String> = std::iter::once(pred).chain(args).collect();
    im.emit(scope, node, If { branches: Arc::new(branches), output: 0 }, &inputs)
}

/// A TF1 `tf.cond` as one of its `Merge`s joins it.
struct Join<'a> {
    /// A Switch on the predicate (its input 1) that a branch reads.
    pred: &'a pb::NodeDef,
    /// The predicate's node.
    predicate: &'a str,
    /// The Merge's inputs computing the true and the false branch's value.
    then: &'a str,
    otherwise: &'a str,
    /// The branches' arguments: for each value switched, one Switch of it.
    args: Vec<&'a pb::NodeDef>,
    /// Each Switch on the predicate that a branch reads a value from, and
    /// the argument it gives.
    bound: Vec<(&'a str, usize)>,
}

/// A Switch one input of a `Merge` reaches going back: its output `output`
/// read, through data edges only (`data`) or a control edge on the way.
#[derive(Clone, Copy)]
struct Reached<'a> {
    switch: &'a pb::NodeDef,
    output: usize,
    data: bool,
}

/// A predicate: the node and output a Switch's input 1 comes from, once
/// Identities are followed back.
type Predicate<'a> = (&'a str, usize);

impl<'a> Importer<'a> {
    /// The `tf.cond` whose join `merge` is, or why it is none.
    fn join(&self, scope: usize, merge: &'a pb::NodeDef) -> std::result::Result<Join<'a>, String> {
        let inputs = Importer::data_inputs(merge);
        let &[first, second] = inputs.as_slice() else {
            return Err(format!("it joins {} input(s), a tf.cond's Merge two", inputs.len()));
        };
        let mut sides = Vec::with_capacity(2);
        for start in [first, second] {
            sides.push(self.side_switches(scope, start)?);
        }
        let mut preds: Vec<Predicate<'a>> = Vec::new();
        for r in sides.iter().flatten() {
            let p = self.predicate(scope, r.switch)?;
            if !preds.contains(&p) {
                preds.push(p);
            }
        }
        let (then, otherwise, then_side) = match preds.as_slice() {
            [] => return Err(format!("its inputs {first:?} and {second:?} read no Switch")),
            [_] => match (one_output(&sides[0]), one_output(&sides[1])) {
                (Some(0), Some(1)) => (second, first, 1),
                (Some(1), Some(0)) => (first, second, 0),
                _ => {
                    return Err(format!(
                        "its inputs {first:?} and {second:?} do not come from the two sides of the Switches on {:?}",
                        preds[0].0
                    ));
                }
            },
            many => {
                let names: Vec<&str> = many.iter().map(|p| p.0).collect();
                return Err(format!("its inputs read Switches on {} predicates: {names:?}", many.len()));
            }
        };
        // The values switched into the branches (through data edges), each once.
        let (mut args, mut bound, mut values) = (Vec::new(), Vec::new(), Vec::new());
        for r in sides[then_side].iter().chain(&sides[1 - then_side]).filter(|r| r.data) {
            if bound.iter().any(|&(name, _)| name == r.switch.name) {
                continue;
            }
            let reference = Importer::data_inputs(r.switch).first().copied().unwrap_or_default();
            let value = (node_name(reference), output_index(reference));
            let i = match values.iter().position(|&v| v == value) {
                Some(i) => i,
                None => {
                    values.push(value);
                    args.push(r.switch);
                    args.len() - 1
                }
            };
            bound.push((r.switch.name.as_str(), i));
        }
        let pred = sides.iter().flatten().next().map(|r| r.switch).ok_or("no Switch")?;
        Ok(Join { pred, predicate: preds[0].0, then, otherwise, args, bound })
    }

    /// The Switches (not a loop's) that `start` reaches going back through
    /// data and control edges, up to them (and to the nodes bound in
    /// `scope`); a cond nested on this side is seen through.
    fn side_switches(&self, scope: usize, start: &'a str) -> std::result::Result<Vec<Reached<'a>>, String> {
        let (mut stack, mut seen, mut found) = (vec![(start, true)], HashSet::new(), Vec::new());
        let mut expanded = HashSet::new();
        loop {
            self.reach_switches(scope, &mut stack, &mut seen, &mut found)?;
            // A predicate whose Switches this side reads on both sides: a
            // cond nested in it, whose switched values come from ours.
            let mut sides: HashMap<Predicate<'a>, [bool; 2]> = HashMap::new();
            for r in &found {
                sides.entry(self.predicate(scope, r.switch)?).or_default()[r.output.min(1)] = true;
            }
            let mut nested = Vec::new();
            for r in &found {
                if sides[&self.predicate(scope, r.switch)?] == [true, true] {
                    nested.push(*r);
                }
            }
            if nested.is_empty() {
                return Ok(found);
            }
            found.retain(|r| !nested.iter().any(|n| std::ptr::eq(n.switch, r.switch)));
            for r in nested {
                if expanded.insert((r.switch.name.as_str(), r.data)) {
                    stack.extend(r.switch.input.iter().map(|i| (i.as_str(), r.data)));
                }
            }
        }
    }

    /// Walks back from the tensors on `stack` (each with whether only data
    /// edges led there), adding to `found` each Switch met that is not a
    /// loop's; loops met on the way are walked through.
    fn reach_switches(
        &self,
        scope: usize,
        stack: &mut Vec<(&'a str, bool)>,
        seen: &mut HashSet<(&'a str, bool)>,
        found: &mut Vec<Reached<'a>>,
    ) -> std::result::Result<(), String> {
        while let Some((reference, data)) = stack.pop() {
            let data = data && !reference.starts_with('^');
            let name = node_name(reference);
            if self.scopes[scope].bound.contains_key(name) {
                continue;
            }
            let Some(&node) = self.scopes[scope].nodes.get(name) else { continue };
            if matches!(node.op.as_str(), "Switch" | "RefSwitch") {
                let (pred, _) = self.predicate(scope, node)?;
                let loop_cond = self.scopes[scope].nodes.get(pred).is_some_and(|n| n.op == "LoopCond");
                if !loop_cond {
                    found.push(Reached { switch: node, output: output_index(reference), data });
                    continue;
                }
            }
            if seen.insert((name, data)) {
                stack.extend(node.input.iter().map(|i| (i.as_str(), data)));
            }
        }
        Ok(())
    }

    /// The predicate a Switch is decided by.
    fn predicate(&self, scope: usize, switch: &'a pb::NodeDef) -> std::result::Result<Predicate<'a>, String> {
        let mut reference = Importer::data_inputs(switch)
            .get(1)
            .copied()
            .ok_or_else(|| format!("Switch {:?} has no predicate (input 1)", switch.name))?;
        for _ in 0..MAX_DEPTH {
            let name = node_name(reference);
            match self.scopes[scope].nodes.get(name) {
                Some(node) if node.op == "Identity" && !self.scopes[scope].bound.contains_key(name) => {
                    reference = Importer::data_inputs(node).first().copied().unwrap_or_default();
                }
                _ => return Ok((name, output_index(reference))),
            }
        }
        Err(format!("the predicate of Switch {:?} cannot be followed", switch.name))
    }

    /// One branch of a TF1 `tf.cond` in a graph of its own: placeholders
    /// `arg_i` typed as `types`, and `result` as `out_0`, translated in a
    /// scope of its own (`prefix`, `depth`) where the Switches `bound` are
    /// the placeholders.
    #[allow(clippy::too_many_arguments)]
    fn join_branch(
        &mut self,
        scope: usize,
        merge: &'a pb::NodeDef,
        result: &'a str,
        bound: &[(&'a str, usize)],
        types: &[TensorType],
        prefix: String,
        depth: usize,
    ) -> Result<Graph> {
        let outer = self.enter_subgraph();
        let built = self.translate_join_branch(scope, merge, result, bound, types, prefix, depth);
        let graph = Graph { nodes: self.leave_subgraph(outer) };
        built.map(|()| graph)
    }

    /// Emits one branch of a TF1 `tf.cond` (see [`Importer::join_branch`])
    /// into the current (fresh) graph.
    #[allow(clippy::too_many_arguments)]
    fn translate_join_branch(
        &mut self,
        scope: usize,
        merge: &'a pb::NodeDef,
        result: &'a str,
        bound: &[(&'a str, usize)],
        types: &[TensorType],
        prefix: String,
        depth: usize,
    ) -> Result<()> {
        let mut args = Vec::with_capacity(types.len());
        for (i, ty) in types.iter().enumerate() {
            let placeholder = Placeholder { dtype: ty.dtype, shape: ty.shape.clone() };
            args.push(self.emit_named(merge, format!("arg_{i}"), placeholder, &[])?);
        }
        let branch = self.scopes.len();
        self.scopes.push(Scope {
            nodes: self.scopes[scope].nodes.clone(),
            args: HashMap::new(),
            prefix,
            depth,
            function: self.scopes[scope].function,
            bound: bound.iter().map(|&(switch, i)| (switch, args[i].clone())).collect(),
            folded: HashMap::new(),
        });
        let value = self.tensor(branch, result).map_err(|e| match e {
            Error::MissingInput { node, input } if node.is_empty() => {
                Error::MissingInput { node: merge.name.clone(), input }
            }
            e => e,
        })?;
        self.emit_named(merge, "out_0".into(), Identity, &[value])?;
        Ok(())
    }
}

/// The one output of the Switches `side` reaches, if they all agree.
fn one_output(side: &[Reached<'_>]) -> Option<usize> {
    let first = side.first()?.output;
    side.iter().all(|r| r.output == first).then_some(first)
}

/// `TensorArrayV3(size)`: output 1 (the flow) is a tensor list of `size`
/// elements of `dtype` and `element_shape` (read from the array's uses
/// when TensorFlow left it unknown), not yet set; output 0 (the handle)
/// only leads TensorArray ops here.
fn tensor_array<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, index: usize) -> Result<String> {
    if index != 1 {
        return Err(node_error(node, format!("output {index} of a TensorArrayV3 is its handle: only its ops read it")));
    }
    if attr::flag(node, "dynamic_size") {
        return Err(node_error(node, "a TensorArray of dynamic size is not supported"));
    }
    let element_dtype = attr::dtype(node, "dtype")?;
    let dims = match attr::get(node, "element_shape").and_then(|s| match s {
        AttrV::Shape(s) => declared_dims(s),
        _ => None,
    }) {
        Some(dims) => dims,
        None => im.element_shape_of(scope, node)?,
    };
    let size = im.input(scope, node, 0)?;
    let base = format!("{}/flow", im.base(scope, node));
    im.emit_named(node, base, ListReserve { element_dtype, element_shape: Shape(dims) }, &[size])
}

/// `TensorArrayWriteV3(handle, index, value, flow)`: the list with item
/// `index` set.
fn tensor_array_write<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    im.tensor_array_of(scope, node)?;
    let [flow, index, value] = [3, 1, 2].map(|i| im.input(scope, node, i));
    im.emit(scope, node, ListSetItem, &[flow?, index?, value?])
}

/// `TensorArrayScatterV3(handle, indices, value, flow)`: the list with
/// items `indices[i]` set to `value[i]` (what `TensorArray.unstack` does).
fn tensor_array_scatter<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    im.tensor_array_of(scope, node)?;
    let [flow, indices, value] = [3, 1, 2].map(|i| im.input(scope, node, i));
    im.emit(scope, node, ListScatter, &[flow?, indices?, value?])
}

/// `TensorArrayReadV3(handle, index, flow)`: item `index` of the list.
fn tensor_array_read<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    im.tensor_array_of(scope, node)?;
    let [flow, index] = [2, 1].map(|i| im.input(scope, node, i));
    im.emit(scope, node, Gather { axis: 0 }, &[flow?, index?])
}

/// `TensorArrayGatherV3(handle, indices, flow)`: items `indices` of the
/// list, stacked (what `TensorArray.stack` does with `0..size`).
fn tensor_array_gather<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    im.tensor_array_of(scope, node)?;
    let [flow, indices] = [2, 1].map(|i| im.input(scope, node, i));
    im.emit(scope, node, Gather { axis: 0 }, &[flow?, indices?])
}

/// `TensorArraySizeV3(handle, flow)`: the list's first dim, as i32.
fn tensor_array_size<'a>(im: &mut Importer<'a>, scope: usize, node: &'a pb::NodeDef, _: usize) -> Result<String> {
    im.tensor_array_of(scope, node)?;
    let flow = im.input(scope, node, 1)?;
    let base = im.base(scope, node);
    let shape = im.emit_named(node, format!("{base}/shape"), ShapeOf, &[flow])?;
    let spec = SliceSpec { begin: vec![0], end: vec![1], strides: vec![1], shrink_axis_mask: 1, ..Default::default() };
    let size = im.emit_named(node, format!("{base}/size"), StridedSlice { spec }, &[shape])?;
    as_dtype(im, node, size, DataType::I32)
}
