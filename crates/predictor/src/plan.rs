//! `Plan`: a signature compiled once at load into a flat list of steps:
//! only the nodes its outputs need, constants and variables folded,
//! dense layers fused, every value addressed by index (no lookup per call).

use smallvec::SmallVec;

use opset::ops::array::{Const, Tile};
use opset::ops::math::MatMul;
use opset::ops::nn::Conv2D;
use opset::{DataType, Op, Shape, Tensor, TypedGraph};

use crate::Result;
use crate::kernel::{Activation, Conv, Dense, Kernel, Scratch};
use crate::looping::{LoopKernel, LoopState};
use crate::model::Model;
use opset::ops::OpError;

/// Where a value lives during a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Value {
    /// A constant of the plan (folded at load, or a variable).
    Const(usize),
    /// The caller's input, by position in [`Plan::inputs`].
    Input(usize),
    /// The output buffer of a step.
    Step(usize),
}

#[derive(Debug)]
pub(crate) struct Step {
    pub kernel: Kernel,
    pub inputs: SmallVec<[Value; 4]>,
    /// The graph node whose value this step computes, for error messages.
    pub node: usize,
}

/// A signature input: its key, and what a fed tensor must look like.
#[derive(Debug, Clone)]
pub struct InputSpec {
    /// The key a client feeds.
    pub key: String,
    /// The dtype expected.
    pub dtype: DataType,
    /// The shape expected; `None` dims vary per call.
    pub shape: Shape,
}

/// A compiled signature. Immutable and shared by every thread.
#[derive(Debug)]
pub(crate) struct Plan {
    pub signature: String,
    pub inputs: Vec<InputSpec>,
    pub output_keys: std::sync::Arc<[String]>,
    pub outputs: Vec<Value>,
    /// (output position, step) for outputs that a step computes, each step
    /// once: `predict_into` lends the caller's buffer to that step.
    pub lent_outputs: Vec<(usize, usize)>,
    pub consts: Vec<Tensor>,
    pub steps: Vec<Step>,
    /// How many loop steps the plan has (each with its state in [`State::loops`]).
    pub loops: usize,
    /// The most threads one call may use.
    pub threads: usize,
}

/// How a plan runs: the choices of [`crate::LoadOptions`] that compiling uses.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tuning {
    /// The most threads one call may use.
    pub threads: usize,
    /// Whether loops run recognised recurrent cells fused.
    pub fused_cells: bool,
    /// How many loops deep the graph being compiled is (0: the signature's).
    pub depth: usize,
}

/// Where the values of a graph being compiled come from, besides its
/// constants.
pub(crate) struct Sources<'a> {
    /// The nodes fed at run time, in the order of the plan's inputs.
    pub fed: &'a [usize],
    /// Nodes whose value is known at load (a loop's constant variables).
    pub fixed: &'a [(usize, Tensor)],
    /// The value of a `Variable` node.
    pub variable: &'a dyn Fn(usize) -> Result<Tensor>,
    /// Who feeds the plan, for messages (`the signature "serving_default"`).
    pub what: &'a str,
}

/// Per-thread scratch: one reusable output buffer per step.
#[derive(Debug)]
pub(crate) struct State {
    pub slots: Vec<Tensor>,
    /// Spare room a step may use during its run.
    pub scratch: Scratch,
    /// The state of each loop step.
    pub loops: Vec<LoopState>,
}

impl Plan {
    /// Compiles signature `name` of `model`.
    pub fn compile(model: &Model, name: &str) -> Result<Plan> {
        let signature = model.signature(name)?;
        let graph = model.graph();
        let mut inputs = Vec::with_capacity(signature.inputs.len());
        let mut fed = Vec::with_capacity(signature.inputs.len());
        for (key, info) in &signature.inputs {
            fed.push(graph.resolve(&info.name)?);
            inputs.push(InputSpec { key: key.clone(), dtype: info.dtype, shape: info.shape.clone() });
        }
        let output_nodes =
            signature.outputs.values().map(|info| graph.resolve(&info.name)).collect::<opset::Result<Vec<usize>>>()?;
        let variable = |i: usize| -> Result<Tensor> {
            let value = model.variables().get(&graph.nodes()[i].name)?;
            graph_check(graph, i, &value)?;
            Ok(value)
        };
        let source = Sources { fed: &fed, fixed: &[], variable: &variable, what: &format!("the signature {name:?}") };
        let tuning = Tuning { threads: model.threads(), fused_cells: model.fused_cells(), depth: 0 };
        let mut plan = Plan::build(graph, &source, &output_nodes, tuning)?;
        plan.signature = name.to_owned();
        plan.inputs = inputs;
        plan.output_keys = signature.outputs.keys().cloned().collect();
        Ok(plan)
    }

    /// Compiles what `outputs` (nodes of `graph`) need from `source`.
    pub(crate) fn build(graph: &TypedGraph, source: &Sources<'_>, outputs: &[usize], tuning: Tuning) -> Result<Plan> {
        let nodes = graph.nodes();
        let mut values: Vec<Option<Value>> = vec![None; nodes.len()];
        for (k, &i) in source.fed.iter().enumerate() {
            values[i] = Some(Value::Input(k));
        }
        let crate::shapes::Needs { needed, mut programs } = crate::shapes::needs(graph, outputs, source.fed);
        let consumers = consumers(graph, &needed, outputs);
        let mut plan = Plan {
            signature: String::new(),
            inputs: Vec::new(),
            output_keys: std::sync::Arc::from([]),
            outputs: Vec::new(),
            lent_outputs: Vec::new(),
            consts: Vec::new(),
            steps: Vec::new(),
            loops: 0,
            threads: tuning.threads,
        };
        for (i, value) in source.fixed {
            values[*i] = Some(plan.constant(value.clone()));
        }
        // Pass 1: everything fixed once loaded (constants, variables, and
        // ops over them) is computed now, with the reference kernels.
        for (i, node) in nodes.iter().enumerate() {
            if !needed[i] || values[i].is_some() {
                continue;
            }
            values[i] = match &node.op {
                Op::Placeholder(_) => {
                    return Err(node.error(format!("{} does not feed this placeholder", source.what)).into());
                }
                Op::Const(Const { value }) => Some(plan.constant(value.clone())),
                Op::Variable(_) => Some(plan.constant((source.variable)(i)?)),
                op if node.inputs.iter().all(|&j| matches!(values[j], Some(Value::Const(_)))) => {
                    let refs: Vec<&Tensor> =
                        node.inputs.iter().filter_map(|&j| values[j]).map(|v| plan.get(v, &[], &[])).collect();
                    let mut out = Tensor::empty(node.ty.dtype);
                    op.eval(&refs, &mut out).map_err(|e| node.op_error(e))?;
                    Some(plan.constant(out))
                }
                _ => None,
            };
        }
        // Pass 2: the steps that depend on the inputs, in order.
        let mut tiled = vec![None; nodes.len()];
        for (i, node) in nodes.iter().enumerate() {
            if !needed[i] || values[i].is_some() {
                continue;
            }
            if let (Op::Identity(_), &[x]) = (&node.op, node.inputs.as_slice()) {
                // Another name for its input: no step, no copy.
                values[i] = values[x];
                continue;
            }
            if let Some((program, leaves)) = programs.remove(&i) {
                // A shape from shape rules: the input's subgraph never runs.
                let inputs = leaves
                    .iter()
                    .map(|&j| values[j].ok_or_else(|| node.error("shape input not computed")))
                    .collect::<opset::Result<_>>()?;
                values[i] = Some(Value::Step(plan.steps.len()));
                plan.steps.push(Step { kernel: Kernel::ShapeOf(Box::new(program)), inputs, node: i });
                continue;
            }
            if rows_into_matmul(graph, &consumers, &values, i) {
                // The dense layer reads the input's rows itself.
                values[i] = values[node.inputs[0]];
                continue;
            }
            if let Some(r) = tile_into_matmul(graph, &consumers, &values, &plan.consts, i) {
                // Folded into the weights of the MatMul that reads it.
                tiled[i] = Some(r);
                values[i] = values[node.inputs[0]];
                continue;
            }
            let args: SmallVec<[Value; 4]> = node
                .inputs
                .iter()
                .map(|&j| values[j].ok_or_else(|| node.error("input not computed")))
                .collect::<opset::Result<_>>()?;
            let (kernel, inputs, absorbed) = match &node.op {
                Op::While(w) => {
                    // Another output of a loop already run: read from its state.
                    let sibling = plan.steps.iter().find_map(|step| match &step.kernel {
                        Kernel::Loop(l) if step.inputs == args => l.sibling(w),
                        _ => None,
                    });
                    match sibling {
                        Some(output) => (Kernel::LoopOutput(output), SmallVec::new(), Vec::new()),
                        None => {
                            let fixed = args.iter().map(|&v| match v {
                                Value::Const(c) => Some(&plan.consts[c]),
                                _ => None,
                            });
                            let kernel = LoopKernel::compile(w, fixed.collect(), plan.loops, tuning)?;
                            plan.loops += 1;
                            (Kernel::Loop(Box::new(kernel)), args, Vec::new())
                        }
                    }
                }
                _ => {
                    let tiles = node.inputs.first().and_then(|&j| tiled[j]);
                    plan.fuse(graph, &consumers, &values, i, args, tiles)
                }
            };
            let value = Value::Step(plan.steps.len());
            plan.steps.push(Step { kernel, inputs, node: absorbed.last().copied().unwrap_or(i) });
            for j in std::iter::once(i).chain(absorbed) {
                values[j] = Some(value);
            }
        }
        plan.outputs = outputs
            .iter()
            .map(|&i| values[i].ok_or_else(|| nodes[i].error("output not computed")))
            .collect::<opset::Result<_>>()?;
        for (k, v) in plan.outputs.iter().enumerate() {
            if let Value::Step(s) = *v
                && !plan.lent_outputs.iter().any(|&(_, t)| t == s)
            {
                plan.lent_outputs.push((k, s));
            }
        }
        Ok(plan)
    }

    fn constant(&mut self, t: Tensor) -> Value {
        self.consts.push(t);
        Value::Const(self.consts.len() - 1)
    }

    /// The kernel for node `i`, fusing `MatMul` by constant weights with a
    /// sole-consumer `BiasAdd` (or `Add`) of a constant bias, then a
    /// sole-consumer activation. Returns the kernel, its inputs and the
    /// nodes it computes beyond `i`.
    fn fuse(
        &self,
        graph: &TypedGraph,
        consumers: &[Vec<usize>],
        values: &[Option<Value>],
        i: usize,
        args: SmallVec<[Value; 4]>,
        tiles: Option<usize>,
    ) -> (Kernel, SmallVec<[Value; 4]>, Vec<usize>) {
        let threads = self.threads;
        let nodes = graph.nodes();
        let op = &nodes[i].op;
        // The weights as a `[k, n]` matrix, and for a convolution its window.
        let mut window = None;
        let weights = match (op, args.as_slice()) {
            (Op::MatMul(MatMul { transpose_a: false, transpose_b }), [_, Value::Const(w)])
                if self.consts[*w].shape().len() == 2 =>
            {
                let w = &self.consts[*w];
                let w = if *transpose_b { transpose(w) } else { Some(w.clone()) };
                match tiles {
                    Some(r) => w.and_then(|w| fold_tiles(&w, r)),
                    None => w,
                }
            }
            (Op::Conv2D(Conv2D { sliding }), [_, Value::Const(f)]) => match self.consts[*f].shape() {
                // The HWIO filter is already the `[kh * kw * c, f]` matrix.
                &[kh, kw, c, n] if self.consts[*f].dtype() == DataType::F32 => {
                    window = Some((*sliding, [kh, kw]));
                    self.consts[*f].clone().reshape(&[kh * kw * c, n]).ok()
                }
                _ => None,
            },
            _ => None,
        };
        let Some(weights) = weights else {
            let kernel = match op {
                Op::Softmax(_) if nodes[i].ty.dtype == DataType::F32 => Kernel::Softmax,
                op => Kernel::Op(op.clone()),
            };
            return (kernel, args, Vec::new());
        };
        let units = weights.shape().get(1).copied();
        let sole = |j: usize| match consumers[j].as_slice() {
            [c] if *c != SIGNATURE_OUTPUT => Some(*c),
            _ => None,
        };
        let mut absorbed = Vec::new();
        let mut last = i;
        let mut bias = None;
        if let Some(c) = sole(last)
            && let (Op::BiasAdd(_) | Op::Add(_), [a, b]) = (&nodes[c].op, nodes[c].inputs.as_slice())
            && *a == last
            && let Some(Value::Const(k)) = values[*b]
            && self.consts[k].dtype() == DataType::F32
            && units.is_some_and(|n| self.consts[k].shape() == [n])
        {
            bias = Some(self.consts[k].clone());
            absorbed.push(c);
            last = c;
        }
        let mut activation = None;
        if let Some(c) = sole(last)
            && let Some(a) = Activation::of(&nodes[c].op)
        {
            activation = Some(a);
            absorbed.push(c);
        }
        let dense = Dense::new(weights, bias, activation, threads);
        let kernel = match window {
            Some((sliding, ksize)) => Kernel::Conv(Conv { sliding, ksize, dense }),
            None => Kernel::Dense(dense),
        };
        (kernel, SmallVec::from_slice(&args[..1]), absorbed)
    }

    /// The tensor behind `v` during a call.
    pub fn get<'a>(&'a self, v: Value, inputs: &[&'a Tensor], slots: &'a [Tensor]) -> &'a Tensor {
        match v {
            Value::Const(c) => &self.consts[c],
            Value::Input(k) => inputs[k],
            Value::Step(s) => &slots[s],
        }
    }

    /// How many loop steps run a fused recurrent cell, nested loops included.
    pub fn fused_loops(&self) -> usize {
        self.steps
            .iter()
            .map(|s| match &s.kernel {
                Kernel::Loop(l) => l.fused_loops(),
                _ => 0,
            })
            .sum()
    }

    /// Fresh scratch for one thread.
    pub fn new_state(&self, graph: &TypedGraph) -> State {
        State {
            slots: self.steps.iter().map(|s| Tensor::empty(graph.nodes()[s.node].ty.dtype)).collect(),
            scratch: Scratch::default(),
            loops: self
                .steps
                .iter()
                .filter_map(|s| match &s.kernel {
                    Kernel::Loop(l) => Some(l.new_state()),
                    _ => None,
                })
                .collect(),
        }
    }

    /// Runs every step on `inputs` (ordered as [`Plan::inputs`], already checked).
    pub fn run(&self, graph: &TypedGraph, state: &mut State, inputs: &[&Tensor]) -> Result<()> {
        self.run_steps(state, inputs).map_err(|(step, e)| graph.nodes()[self.steps[step].node].op_error(e).into())
    }

    /// Runs every step; an error says which step failed.
    pub(crate) fn run_steps(&self, state: &mut State, inputs: &[&Tensor]) -> Result<(), (usize, OpError)> {
        for (s, step) in self.steps.iter().enumerate() {
            let (done, rest) = state.slots.split_at_mut(s);
            let Some(out) = rest.first_mut() else { break };
            let mut args: SmallVec<[&Tensor; 4]> = SmallVec::new();
            for &v in &step.inputs {
                args.push(self.get(v, inputs, done));
            }
            let ran = match &step.kernel {
                Kernel::Loop(l) => l.run(&args, out, &mut state.loops[l.state]),
                Kernel::LoopOutput(o) => o.run(&state.loops, out),
                kernel => kernel.run(&args, out, &mut state.scratch),
            };
            ran.map_err(|e| (s, e))?;
        }
        Ok(())
    }
}

/// Marks a node read by the signature itself (an output), among its consumers.
const SIGNATURE_OUTPUT: usize = usize::MAX;

/// The consumers of each needed node; an output counts as one more consumer.
fn consumers(graph: &TypedGraph, needed: &[bool], outputs: &[usize]) -> Vec<Vec<usize>> {
    let mut consumers = vec![Vec::new(); needed.len()];
    for (i, node) in graph.nodes().iter().enumerate().filter(|(i, _)| needed[*i]) {
        for &j in &node.inputs {
            consumers[j].push(i);
        }
    }
    for &o in outputs {
        consumers[o].push(SIGNATURE_OUTPUT);
    }
    consumers
}

fn graph_check(graph: &TypedGraph, i: usize, value: &Tensor) -> Result<()> {
    let node = &graph.nodes()[i];
    if value.dtype() != node.ty.dtype || !node.ty.shape.accepts(value.shape()) {
        return Err(node
            .error(format!(
                "the variables bundle holds {} {:?}, the graph declares {} {}",
                value.dtype(),
                value.shape(),
                node.ty.dtype,
                node.ty.shape
            ))
            .into());
    }
    Ok(())
}

/// Whether node `t` is a `Tile` by `[1, r]` of a `[?, k]` matrix whose sole
/// consumer multiplies it by constant weights: then `tile(x) @ W` is
/// `x @ W'` with `W'` the sum of `W`'s `r` row blocks, and the tile never
/// runs. Returns `r`.
fn tile_into_matmul(
    graph: &TypedGraph,
    consumers: &[Vec<usize>],
    values: &[Option<Value>],
    consts: &[Tensor],
    t: usize,
) -> Option<usize> {
    let nodes = graph.nodes();
    let Op::Tile(Tile { multiples }) = &nodes[t].op else { return None };
    let &[1, r] = multiples.as_slice() else { return None };
    let &[c] = consumers[t].as_slice() else { return None };
    let (Op::MatMul(MatMul { transpose_a: false, transpose_b: false }), [a, b]) =
        (&nodes[c].op, nodes[c].inputs.as_slice())
    else {
        return None;
    };
    let Some(Value::Const(w)) = values[*b] else { return None };
    let k = nodes[nodes[t].inputs[0]].ty.shape.0.get(1).copied().flatten()?;
    (*a == t && r > 0 && consts[w].shape().first() == Some(&(r * k))).then_some(r)
}

/// Whether node `r` is a `Reshape` to `[-1, k]` of an input whose last dim
/// is `k` (its leading dims merged into rows, as Keras's `Dense` over a
/// sequence and TensorFlow's `tensordot` do), read only by a product with
/// constant weights: the dense kernel takes the rows of any rank, so the
/// reshape (a copy) never runs.
fn rows_into_matmul(graph: &TypedGraph, consumers: &[Vec<usize>], values: &[Option<Value>], r: usize) -> bool {
    let nodes = graph.nodes();
    let (Op::Reshape(reshape), &[x]) = (&nodes[r].op, nodes[r].inputs.as_slice()) else { return false };
    let (&[-1, k], Some(&Some(last))) = (reshape.shape.as_slice(), nodes[x].ty.dims().last()) else { return false };
    let &[c] = consumers[r].as_slice() else { return false };
    let product = matches!(&nodes[c].op, Op::MatMul(MatMul { transpose_a: false, .. }))
        && nodes[c].inputs.first() == Some(&r)
        && matches!(nodes[c].inputs.get(1).and_then(|&w| values[w]), Some(Value::Const(_)));
    product && nodes[x].ty.dtype == DataType::F32 && nodes[x].ty.dims().len() >= 2 && i64::try_from(last) == Ok(k)
}

/// The `[k, n]` sum of the `r` row blocks of the `[r * k, n]` matrix `w`.
fn fold_tiles(w: &Tensor, r: usize) -> Option<Tensor> {
    let (&[rows, n], values) = (w.shape(), w.as_slice::<f32>().ok()?) else { return None };
    let k = rows / r;
    if k == 0 || n == 0 {
        return None;
    }
    let mut folded = vec![0.0f32; k * n];
    for block in values.chunks_exact(k * n) {
        folded.iter_mut().zip(block).for_each(|(f, v)| *f += v);
    }
    Tensor::from_vec(vec![k, n], folded).ok()
}

/// `w` transposed (a `[n, k]` matrix laid out as `[k, n]`), done once at load.
fn transpose(w: &Tensor) -> Option<Tensor> {
    let view = w.as_f32().ok()?.into_dimensionality::<ndarray::Ix2>().ok()?;
    Some(Tensor::from(view.t().as_standard_layout().into_owned()))
}
