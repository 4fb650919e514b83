//! `While`.

use std::cell::Cell;
use std::sync::Arc;

use crate::graph::{Attr, Graph, Node};
use crate::ops::kernel::slice;
use crate::ops::{Arity, Op, OpDef, OpError, TensorType};
use crate::{Assets, DataType, Result, Tensor, TypedGraph};

/// The most iterations one loop runs, the iterations of the loops nested in
/// its body included: a loop whose condition still holds past them fails
/// rather than run on (a hostile artifact's loop may never end, and nesting
/// must not multiply the bound).
pub const MAX_LOOP_ITERATIONS: u64 = 1 << 20;

/// TensorFlow's `While` loop (`tf.while_loop`) over `n >= 1` loop
/// variables: while `cond(vars)` holds and fewer than `max_iterations`
/// iterations ran, `vars = body(vars)`; then the output is `vars[output]`.
///
/// Inputs: the initial values of the `n` loop variables (any dtypes).
///
/// Attributes:
/// - `body` (a graph): Placeholder nodes named `arg_0` .. `arg_{n-1}`, each
///   declaring its variable's dtype and the shape it keeps across
///   iterations (an unknown dim may change from one iteration to the next);
///   one node named `cond` computing a bool scalar (shape `[]` or `[1]`)
///   from them; nodes named `out_0` .. `out_{n-1}` computing the variables'
///   next values (an invariant variable's `out_i` is `Identity(arg_i)`).
///   The body reads nothing else: no other Placeholder, no Variable (a
///   weight the body uses is an invariant loop variable, or a constant).
/// - `output` (int in `0..n`): the loop variable the node yields.
/// - `max_iterations` (int, optional, default -1: no bound but
///   [`MAX_LOOP_ITERATIONS`]).
///
/// Each iteration computes `cond` first and the outs only when it holds (the
/// body never runs on the values that end the loop). Every initial value
/// and every iteration's `out_i` must have `arg_i`'s dtype and fit its
/// declared shape. The output's type is `arg_output`'s: its declared dims,
/// and the input's known dims where the loop provably keeps them (the
/// variable is invariant, or the body computes that same size).
///
/// A loop whose condition still holds after [`MAX_LOOP_ITERATIONS`]
/// iterations (counting those of the loops nested in its body) fails.
///
/// Gradient: backpropagation through time, to every f32 loop variable's
/// initial value (a weight carried unchanged sums its iterations'); none to
/// integer variables.
#[derive(Debug, Clone, PartialEq)]
pub struct While {
    /// The body: the condition and the loop variables' next values.
    pub body: Arc<LoopBody>,
    /// The loop variable the node yields when the loop ends.
    pub output: usize,
    /// The most iterations the loop runs; `None`: until its condition fails.
    pub max_iterations: Option<u64>,
}

/// The body of a [`While`]: the graph as written, typed once, with the
/// nodes of its loop variables (`arg_i`), its condition (`cond`) and the
/// variables' next values (`out_i`) resolved.
#[derive(Debug, Clone)]
pub struct LoopBody {
    graph: Graph,
    typed: TypedGraph,
    args: Vec<usize>,
    cond: usize,
    outs: Vec<usize>,
    /// The most iterations a run of this body may take: [`MAX_LOOP_ITERATIONS`]
    /// but in tests.
    limit: u64,
}

/// Two bodies are equal when their graphs, as written, are.
impl PartialEq for LoopBody {
    fn eq(&self, other: &LoopBody) -> bool {
        self.graph == other.graph
    }
}

impl OpDef for While {
    const NAME: &'static str = "While";
    const SINCE: u32 = 5;
    const INPUTS: Arity = Arity::AtLeast(1);
    const SHAPE_FROM_VALUES: bool = true;

    fn parse(node: &Node, assets: &Assets) -> Result<While> {
        let body = LoopBody::new(node.attr_graph("body")?.clone(), assets).map_err(|e| node.op_error(e))?;
        let n = body.var_count();
        let output = node.attr_int("output")?;
        let output = usize::try_from(output)
            .ok()
            .filter(|&o| o < n)
            .ok_or_else(|| node.error(format!("output {output}: the body has {n} loop variable(s)")))?;
        let max_iterations = node.attrs.get("max_iterations").map(|_| node.attr_int("max_iterations")).transpose()?;
        let max_iterations = match max_iterations {
            None | Some(-1) => None,
            Some(m) => Some(
                u64::try_from(m)
                    .map_err(|_| node.error(format!("max_iterations {m}: expected -1 (no bound) or a count >= 0")))?,
            ),
        };
        if node.inputs.len() != n {
            return Err(node.error(format!("{} input(s) for a body of {n} loop variable(s)", node.inputs.len())));
        }
        Ok(While { body: Arc::new(body), output, max_iterations })
    }

    /// `max_iterations` is written only when there is one.
    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        let int = |v: u64| Attr::Int(i64::try_from(v).unwrap_or(i64::MAX));
        let mut attrs = vec![("body", Attr::Graph(self.body.graph.clone())), ("output", int(self.output as u64))];
        if let Some(m) = self.max_iterations {
            attrs.push(("max_iterations", int(m)));
        }
        attrs
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        let body = &*self.body;
        let n = body.var_count();
        if inputs.len() != n {
            return Err(OpError::Arity { expected: Arity::Exactly(n), got: inputs.len() });
        }
        for (i, input) in inputs.iter().enumerate() {
            let arg = body.arg_ty(i);
            if input.dtype != arg.dtype || !input.shape.compatible(&arg.shape) {
                return Err(OpError::Invalid {
                    what: "loop variable",
                    reason: format!(
                        "input {i} is {} {}, arg_{i} declares {} {}",
                        input.dtype, input.shape, arg.dtype, arg.shape
                    ),
                });
            }
        }
        let k = self.output;
        if k >= n {
            return Err(OpError::Invalid { what: "output", reason: format!("loop variable {k} of {n}") });
        }
        let (declared, input, next) = (body.arg_ty(k), &inputs[k], &body.typed.nodes()[body.outs[k]].ty);
        let invariant = body.is_invariant(k);
        // A dim the arg leaves unknown is the input's when every iteration
        // keeps it: the variable is invariant, or the body computes that size.
        let dims = declared.dims().iter().zip(input.dims()).zip(next.dims());
        let dims = dims.map(|((&d, &i), &o)| match (d, i) {
            (Some(d), _) => Some(d),
            (None, Some(i)) if invariant || o == Some(i) => Some(i),
            _ => None,
        });
        Ok(TensorType::new(declared.dtype, dims.collect()))
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        let mut vars = self.body.run(inputs, self.max_iterations)?;
        if self.output >= vars.len() {
            return Err(OpError::Invalid {
                what: "output",
                reason: format!("loop variable {} of {}", self.output, vars.len()),
            });
        }
        *out = vars.swap_remove(self.output);
        Ok(())
    }

    /// Backpropagation through time: the loop runs again, keeping every
    /// iteration's values; from the last iteration to the first, the
    /// gradients of the outs are carried back through the body to its args
    /// ([`crate::ops::grad::backprop`]), which are the outs of the iteration
    /// before. A loop-invariant variable (a weight) so sums its gradient over
    /// the iterations; integer variables get none.
    #[cfg(feature = "grad")]
    fn grad(&self, inputs: &[&Tensor], _: &Tensor, g: &Tensor) -> crate::ops::grad::Grads {
        let body = &*self.body;
        let mut trace: Vec<Vec<Option<Tensor>>> = Vec::new();
        body.run_observed(inputs, self.max_iterations, |values| trace.push(values.to_vec()))?;
        let mut d: Vec<Option<Tensor>> = vec![None; body.var_count()];
        d[self.output] = Some(g.clone());
        for (t, values) in trace.iter().enumerate().rev() {
            let seeds: Vec<(usize, Tensor)> =
                d.iter_mut().zip(&body.outs).filter_map(|(dk, &out)| Some((out, dk.take()?))).collect();
            if seeds.is_empty() {
                break;
            }
            d = crate::ops::grad::backprop(&body.typed, values, seeds, &body.args)
                .map_err(|e| invalid_body(format!("the gradient of iteration {}: {e}", t + 1)))?;
        }
        Ok(d)
    }
}

impl LoopBody {
    /// The body held by `graph`, typed with `assets` (the files its ops read
    /// at load), its `arg_i`, `cond` and `out_i` nodes resolved: how a
    /// producer (an importer) builds a [`While`] without a node.
    ///
    /// # Errors
    /// [`OpError::Invalid`] saying what is wrong or missing: a body graph
    /// that does not validate (naming its node), no `arg_0`, a gap in the
    /// args (`the body has no node "arg_1"`), an arg that is not a
    /// Placeholder, no `cond` or one that is not a bool scalar, a missing
    /// out (`the body has no node "out_2"`) or one more than the args, an
    /// out whose dtype or shape cannot be its arg's, another source (a
    /// Placeholder that is no arg, a Variable).
    pub fn new(graph: Graph, assets: &Assets) -> Result<LoopBody, OpError> {
        let typed = TypedGraph::new(&graph, assets).map_err(|e| invalid(e.to_string()))?;
        let nodes = typed.nodes();
        let find = |name: String| match typed.resolve(&name) {
            Ok(i) => Ok(i),
            Err(_) => Err(invalid(format!("the body has no node {name:?}"))),
        };
        // One past the highest `arg_k`: any gap below it is reported missing.
        let n = nodes.iter().filter_map(|node| numbered(&node.name, "arg_")).max().map_or(0, |k| k.saturating_add(1));
        if n == 0 {
            return Err(invalid("the body has no node \"arg_0\" (a loop has at least one variable)".into()));
        }
        let reads = format!("a body reads only its loop variables (arg_0 .. arg_{}) and constants", n - 1);
        let args = super::subgraph_args(&typed, n, "body", &reads).map_err(invalid)?;
        let cond = find("cond".into())?;
        let ty = &nodes[cond].ty;
        if ty.dtype != DataType::Bool || !matches!(ty.dims(), [] | [Some(1)] | [None]) {
            return Err(invalid(format!("cond is {} {}, expected a bool scalar ([] or [1])", ty.dtype, ty.shape)));
        }
        if let Some(k) = nodes.iter().filter_map(|node| numbered(&node.name, "out_")).find(|&k| k >= n) {
            return Err(invalid(format!(
                "the body has a node \"out_{k}\" but {n} loop variable(s) (arg_0 .. arg_{})",
                n - 1
            )));
        }
        let outs = (0..n).map(|i| find(format!("out_{i}"))).collect::<Result<Vec<usize>, OpError>>()?;
        for (i, (&o, &a)) in outs.iter().zip(&args).enumerate() {
            let (out, arg) = (&nodes[o].ty, &nodes[a].ty);
            if out.dtype != arg.dtype || !out.shape.compatible(&arg.shape) {
                return Err(invalid(format!(
                    "out_{i} is {} {}, but arg_{i} declares {} {}",
                    out.dtype, out.shape, arg.dtype, arg.shape
                )));
            }
        }
        Ok(LoopBody { graph, typed, args, cond, outs, limit: MAX_LOOP_ITERATIONS })
    }

    /// The body's graph as written (what the `body` attribute holds).
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// The body's graph, validated and typed.
    pub fn typed(&self) -> &TypedGraph {
        &self.typed
    }

    /// How many loop variables the loop carries (`n`).
    pub fn var_count(&self) -> usize {
        self.args.len()
    }

    /// The nodes of [`LoopBody::typed`] holding the loop variables: `arg_0`
    /// .. `arg_{n-1}`, Placeholders, in order.
    pub fn args(&self) -> &[usize] {
        &self.args
    }

    /// The node of [`LoopBody::typed`] computing the condition.
    pub fn cond(&self) -> usize {
        self.cond
    }

    /// The nodes of [`LoopBody::typed`] computing the variables' next
    /// values: `out_0` .. `out_{n-1}`, in order.
    pub fn outs(&self) -> &[usize] {
        &self.outs
    }

    /// The declared dtype and shape of loop variable `i` (its arg's), which
    /// the variable keeps across iterations.
    ///
    /// # Panics
    /// If `i` is not below [`LoopBody::var_count`].
    pub fn arg_ty(&self, i: usize) -> &TensorType {
        &self.typed.nodes()[self.args[i]].ty
    }

    /// Whether loop variable `i` never changes: `out_i` is `arg_i` through
    /// Identity nodes only.
    pub fn is_invariant(&self, i: usize) -> bool {
        let nodes = self.typed.nodes();
        let mut at = self.outs[i];
        // Inputs come before their node: the walk ends.
        while let (Op::Identity(_), [from]) = (&nodes[at].op, nodes[at].inputs.as_slice()) {
            at = *from;
        }
        at == self.args[i]
    }

    /// The reference loop: from the variables' `initial` values, while
    /// `cond` holds (and fewer than `max_iterations` iterations ran), the
    /// variables become the outs; returns the variables' final values.
    ///
    /// # Errors
    /// [`OpError`] for initial values or outs that do not fit their arg's
    /// dtype and shape, a body that fails (naming the iteration and the
    /// node), or a loop past [`MAX_LOOP_ITERATIONS`] iterations.
    pub fn run(&self, initial: &[&Tensor], max_iterations: Option<u64>) -> Result<Vec<Tensor>, OpError> {
        self.run_observed(initial, max_iterations, |_| {})
    }

    /// [`LoopBody::run`], showing `observe` every iteration's values (one
    /// slot per node of [`LoopBody::typed`], the outs computed).
    fn run_observed(
        &self,
        initial: &[&Tensor],
        max_iterations: Option<u64>,
        mut observe: impl FnMut(&[Option<Tensor>]),
    ) -> Result<Vec<Tensor>, OpError> {
        let n = self.var_count();
        if initial.len() != n {
            return Err(OpError::Arity { expected: Arity::Exactly(n), got: initial.len() });
        }
        for (i, v) in initial.iter().enumerate() {
            self.check_var(i, v, || format!("input {i}"))?;
        }
        let budget = IterationBudget::enter(self.limit);
        let mut values: Vec<Option<Tensor>> = vec![None; self.typed.nodes().len()];
        for (&a, v) in self.args.iter().zip(initial) {
            values[a] = Some((*v).clone());
        }
        let mut done = 0u64;
        let failed = |done: u64, e: crate::Error| invalid_body(format!("iteration {}: {e}", done + 1));
        while max_iterations.is_none_or(|m| done < m) {
            self.typed.evaluate(&[self.cond], &mut values).map_err(|e| failed(done, e))?;
            if !self.holds(values[self.cond].as_ref())? {
                break;
            }
            if done >= self.limit || !budget.spend() {
                return Err(OpError::Invalid {
                    what: "loop",
                    reason: format!(
                        "its condition still holds after {done} iteration(s), past the limit of {} (nested loops' \
                         iterations included): refused as endless",
                        self.limit
                    ),
                });
            }
            self.typed.evaluate(&self.outs, &mut values).map_err(|e| failed(done, e))?;
            observe(&values);
            for i in 0..n {
                let next = values[self.outs[i]].take().ok_or_else(|| invalid_body(format!("out_{i} has no value")))?;
                self.check_var(i, &next, || format!("iteration {}: out_{i}", done + 1))?;
                values[self.args[i]] = Some(next);
            }
            done += 1;
        }
        self.args
            .iter()
            .enumerate()
            .map(|(i, &a)| values[a].take().ok_or_else(|| invalid_body(format!("arg_{i} has no value"))))
            .collect()
    }

    /// The value of `cond`: its one bool.
    fn holds(&self, value: Option<&Tensor>) -> Result<bool, OpError> {
        let value = value.ok_or_else(|| invalid_body("cond has no value".into()))?;
        match slice::<bool>(value)? {
            [b] => Ok(*b),
            many => Err(invalid_body(format!("cond gave {} values, expected one bool", many.len()))),
        }
    }

    /// Checks a value of loop variable `i` (`what`) against its arg.
    fn check_var(&self, i: usize, value: &Tensor, what: impl FnOnce() -> String) -> Result<(), OpError> {
        let arg = self.arg_ty(i);
        if value.dtype() == arg.dtype && arg.shape.accepts(value.shape()) {
            return Ok(());
        }
        Err(OpError::Invalid {
            what: "loop variable",
            reason: format!(
                "{} is {} {:?}, but arg_{i} declares {} {}",
                what(),
                value.dtype(),
                value.shape(),
                arg.dtype,
                arg.shape
            ),
        })
    }

    /// This body with a lower iteration limit, for tests that reach it fast.
    #[cfg(test)]
    fn with_limit(mut self, limit: u64) -> LoopBody {
        self.limit = limit.min(MAX_LOOP_ITERATIONS);
        self
    }
}

/// `k` if `name` is `prefix` followed by `k` written plainly (`arg_1`, not
/// `arg_01`).
pub(super) fn numbered(name: &str, prefix: &str) -> Option<usize> {
    let digits = name.strip_prefix(prefix)?;
    let k: usize = digits.parse().ok()?;
    (k.to_string() == digits).then_some(k)
}

/// What is wrong with the `body` attribute.
fn invalid(reason: String) -> OpError {
    OpError::Invalid { what: "body", reason }
}

/// What went wrong running the body.
fn invalid_body(reason: String) -> OpError {
    OpError::Invalid { what: "loop body", reason }
}

thread_local! {
    /// The iterations left to the outermost loop running on this thread;
    /// `None` when no loop runs.
    static ITERATIONS_LEFT: Cell<Option<u64>> = const { Cell::new(None) };
}

/// A loop's share of the iterations a thread may run: the outermost loop
/// running sets the budget, the loops nested in its body draw on it too, so
/// that nesting cannot multiply [`MAX_LOOP_ITERATIONS`]. Dropping the
/// outermost one (even on an error or a panic) clears it. Every runner of
/// loops (the reference kernel, a predictor's compiled loop) takes one.
#[derive(Debug)]
pub struct IterationBudget {
    outermost: bool,
}

impl IterationBudget {
    /// Enters a loop: the outermost one sets the budget to `limit`.
    pub fn enter(limit: u64) -> IterationBudget {
        ITERATIONS_LEFT.with(|left| {
            let outermost = left.get().is_none();
            if outermost {
                left.set(Some(limit));
            }
            IterationBudget { outermost }
        })
    }

    /// Takes one iteration; `false` when none is left.
    pub fn spend(&self) -> bool {
        ITERATIONS_LEFT.with(|left| match left.get() {
            Some(n) if n > 0 => {
                left.set(Some(n - 1));
                true
            }
            _ => false,
        })
    }
}

impl Drop for IterationBudget {
    fn drop(&mut self) {
        if self.outermost {
            ITERATIONS_LEFT.with(|left| left.set(None));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Shape;
    use crate::ops::array::{Cast, Gather, Identity, Placeholder, Variable};
    use crate::ops::math::{Add, Less, Mul};

    use crate::ops::control::test_graphs::{arg, constant, node};

    /// `while i < 5: i, acc = i + 1, acc * 2`.
    fn counting() -> Graph {
        Graph {
            nodes: vec![
                arg(0, DataType::I64, vec![]),
                arg(1, DataType::F32, vec![]),
                constant("five", Tensor::scalar(5i64)),
                constant("one", Tensor::scalar(1i64)),
                constant("two", Tensor::scalar(2.0f32)),
                node("cond", Less, &["arg_0", "five"]),
                node("out_0", Add, &["arg_0", "one"]),
                node("out_1", Mul, &["arg_1", "two"]),
            ],
        }
    }

    fn looped(graph: Graph, output: usize, max_iterations: Option<u64>) -> While {
        While { body: Arc::new(LoopBody::new(graph, &Assets::new()).unwrap()), output, max_iterations }
    }

    fn run(op: &While, i: i64, acc: f32) -> Result<Tensor, OpError> {
        op.run(&[&Tensor::scalar(i), &Tensor::scalar(acc)])
    }

    #[test]
    fn counts_to_five() {
        assert_eq!(run(&looped(counting(), 1, None), 0, 1.0).unwrap(), Tensor::scalar(32.0f32));
        assert_eq!(run(&looped(counting(), 0, None), 0, 1.0).unwrap(), Tensor::scalar(5i64));
        assert_eq!(run(&looped(counting(), 1, None), 3, 1.0).unwrap(), Tensor::scalar(4.0f32));
    }

    #[test]
    fn a_loop_whose_condition_fails_at_once_yields_its_inputs() {
        assert_eq!(run(&looped(counting(), 1, None), 7, 1.5).unwrap(), Tensor::scalar(1.5f32));
        assert_eq!(run(&looped(counting(), 0, None), 7, 1.5).unwrap(), Tensor::scalar(7i64));
    }

    #[test]
    fn max_iterations_bounds_the_loop() {
        assert_eq!(run(&looped(counting(), 1, Some(2)), 0, 1.0).unwrap(), Tensor::scalar(4.0f32));
        assert_eq!(run(&looped(counting(), 0, Some(0)), 0, 1.0).unwrap(), Tensor::scalar(0i64));
        assert_eq!(run(&looped(counting(), 0, Some(100)), 0, 1.0).unwrap(), Tensor::scalar(5i64));
    }

    /// `while t < 4: h = tanh(h @ w + xs[t]); ys[t] = h`, over
    /// `t: i64`, `h: [2, 3]`, `w: [3, 3]`, `xs: [4, 2, 3]`, `ys: [4, 2, 3]`.
    #[cfg(feature = "grad")]
    fn recurrence() -> Graph {
        use crate::ops::array::ListSetItem;
        use crate::ops::math::{MatMul, Tanh};
        Graph {
            nodes: vec![
                arg(0, DataType::I64, vec![]),
                arg(1, DataType::F32, vec![Some(2), Some(3)]),
                arg(2, DataType::F32, vec![Some(3), Some(3)]),
                arg(3, DataType::F32, vec![Some(4), Some(2), Some(3)]),
                arg(4, DataType::F32, vec![Some(4), Some(2), Some(3)]),
                constant("four", Tensor::scalar(4i64)),
                constant("one", Tensor::scalar(1i64)),
                node("cond", Less, &["arg_0", "four"]),
                node("x", Gather { axis: 0 }, &["arg_3", "arg_0"]),
                node("hw", MatMul::default(), &["arg_1", "arg_2"]),
                node("sum", Add, &["hw", "x"]),
                node("h", Tanh, &["sum"]),
                node("out_0", Add, &["arg_0", "one"]),
                node("out_1", Identity, &["h"]),
                node("out_2", Identity, &["arg_2"]),
                node("out_3", Identity, &["arg_3"]),
                node("out_4", ListSetItem, &["arg_4", "arg_0", "h"]),
            ],
        }
    }

    #[cfg(feature = "grad")]
    #[test]
    fn gradients_flow_back_through_time() {
        use crate::ops::grad::{check_gradient, sample};
        let inputs = [
            Tensor::scalar(0i64),
            sample(&[2, 3], 1),
            sample(&[3, 3], 2),
            sample(&[4, 2, 3], 3),
            sample(&[4, 2, 3], 4),
        ];
        // The last state, then every step's output: to h, w, xs (and the
        // list's initial rows, all overwritten: zero gradient).
        check_gradient(&looped(recurrence(), 1, None), &inputs);
        check_gradient(&looped(recurrence(), 4, None), &inputs);
        // Two iterations only: xs's last rows get nothing.
        let op = looped(recurrence(), 4, Some(2));
        check_gradient(&op, &inputs);
        let x: Vec<&Tensor> = inputs.iter().collect();
        let y = op.run(&x).unwrap();
        let grads = op.grad(&x, &y, &Tensor::from_vec(vec![4, 2, 3], vec![1.0f32; 24]).unwrap()).unwrap();
        assert!(grads[0].is_none(), "no gradient to the step index");
        let dxs = grads[3].as_ref().unwrap().as_slice::<f32>().unwrap();
        assert!(dxs[12..].iter().all(|&d| d == 0.0) && dxs[..12].iter().any(|&d| d != 0.0));
        let dys = grads[4].as_ref().unwrap().as_slice::<f32>().unwrap();
        assert!(dys[..12].iter().all(|&d| d == 0.0) && dys[12..].iter().all(|&d| d == 1.0));
    }

    /// `while true: x = x`.
    fn endless() -> Graph {
        Graph {
            nodes: vec![
                arg(0, DataType::I64, vec![]),
                constant("cond", Tensor::scalar(true)),
                node("out_0", Identity, &["arg_0"]),
            ],
        }
    }

    #[test]
    fn an_endless_loop_is_refused_past_the_limit() {
        let body = LoopBody::new(endless(), &Assets::new()).unwrap();
        assert_eq!(body.limit, MAX_LOOP_ITERATIONS, "the default bound");
        let op = While { body: Arc::new(body.with_limit(1000)), output: 0, max_iterations: None };
        let err = op.run(&[&Tensor::scalar(1i64)]).unwrap_err().to_string();
        assert!(err.contains("still holds after 1000 iteration(s)") && err.contains("endless"), "{err}");
        // Bounded by max_iterations, the same loop ends.
        let op = While { max_iterations: Some(10), ..op };
        assert_eq!(op.run(&[&Tensor::scalar(1i64)]).unwrap(), Tensor::scalar(1i64));
    }

    #[test]
    #[ignore = "runs MAX_LOOP_ITERATIONS iterations: slow in debug builds"]
    fn an_endless_loop_is_refused_past_max_loop_iterations() {
        let op = looped(endless(), 0, None);
        let err = op.run(&[&Tensor::scalar(1i64)]).unwrap_err().to_string();
        assert!(err.contains(&format!("after {MAX_LOOP_ITERATIONS} iteration(s)")), "{err}");
    }

    #[test]
    fn nested_loops_share_the_bound() {
        // The outer loop runs 40 iterations of an inner loop of 40: 1640 in all.
        let inner = looped(endless(), 0, Some(40));
        let outer = Graph {
            nodes: vec![
                arg(0, DataType::I64, vec![]),
                constant("cond", Tensor::scalar(true)),
                node("out_0", inner, &["arg_0"]),
            ],
        };
        let mut outer = looped(outer, 0, Some(40));
        Arc::make_mut(&mut outer.body).limit = 2000;
        assert!(outer.run(&[&Tensor::scalar(1i64)]).is_ok());
        Arc::make_mut(&mut outer.body).limit = 1000;
        let err = outer.run(&[&Tensor::scalar(1i64)]).unwrap_err().to_string();
        assert!(err.contains("endless"), "{err}");
        // The budget is back once the outermost loop ends.
        Arc::make_mut(&mut outer.body).limit = 2000;
        assert!(outer.run(&[&Tensor::scalar(1i64)]).is_ok());
    }

    #[test]
    fn a_body_that_changes_a_dtype_or_shape_is_refused() {
        let mut graph = counting();
        graph.nodes[6] = node("out_0", Cast { to: DataType::F32 }, &["arg_0"]);
        let err = LoopBody::new(graph, &Assets::new()).unwrap_err().to_string();
        assert!(err.contains("out_0 is f32 [], but arg_0 declares i64 []"), "{err}");

        // Gathering by a run-time index list: the out's size is known only when it runs.
        let graph = Graph {
            nodes: vec![
                arg(0, DataType::F32, vec![Some(2)]),
                arg(1, DataType::I64, vec![None]),
                constant("cond", Tensor::scalar(true)),
                node("out_0", Gather::default(), &["arg_0", "arg_1"]),
                node("out_1", Identity, &["arg_1"]),
            ],
        };
        let op = looped(graph, 0, None);
        let x = Tensor::from(ndarray::array![1.0f32, 2.0]);
        let err = op.run(&[&x, &Tensor::from(ndarray::array![0i64, 1, 0])]).unwrap_err().to_string();
        assert!(err.contains("iteration 1: out_0 is f32 [3], but arg_0 declares f32 [2]"), "{err}");
        let err = op.run(&[&x, &Tensor::from(ndarray::array![0.5f32])]).unwrap_err().to_string();
        assert!(err.contains("input 1 is f32 [1], but arg_1 declares i64 [?]"), "{err}");
    }

    #[test]
    fn a_malformed_body_is_refused_naming_what_is_missing() {
        let without = |name: &str| {
            let mut graph = counting();
            graph.nodes.retain(|n| n.name != name);
            LoopBody::new(graph, &Assets::new()).unwrap_err().to_string()
        };
        assert!(without("out_1").contains("the body has no node \"out_1\""), "{}", without("out_1"));
        assert!(without("cond").contains("the body has no node \"cond\""), "{}", without("cond"));
        let err = without("arg_0");
        assert!(err.contains("out_0") || err.contains("arg_0"), "{err}");

        let mut graph = counting();
        graph.nodes.push(arg(3, DataType::F32, vec![]));
        let err = LoopBody::new(graph, &Assets::new()).unwrap_err().to_string();
        assert!(err.contains("the body has no node \"arg_2\""), "{err}");

        let mut graph = counting();
        graph.nodes.push(node("out_2", Identity, &["arg_1"]));
        let err = LoopBody::new(graph, &Assets::new()).unwrap_err().to_string();
        assert!(err.contains("\"out_2\" but 2 loop variable(s)"), "{err}");

        let mut graph = counting();
        graph.nodes[1] = constant("arg_1", Tensor::scalar(1.0f32));
        let err = LoopBody::new(graph, &Assets::new()).unwrap_err().to_string();
        assert!(err.contains("\"arg_1\" is a Const, not a Placeholder"), "{err}");

        let mut graph = counting();
        graph.nodes.push(node("w", Variable { dtype: DataType::F32, shape: vec![] }, &[]));
        let err = LoopBody::new(graph, &Assets::new()).unwrap_err().to_string();
        assert!(err.contains("\"w\" is a Variable"), "{err}");

        let mut graph = counting();
        graph.nodes[5] = node("cond", Add, &["arg_0", "five"]);
        let err = LoopBody::new(graph, &Assets::new()).unwrap_err().to_string();
        assert!(err.contains("cond is i64 [], expected a bool scalar"), "{err}");

        let graph = Graph { nodes: vec![constant("cond", Tensor::scalar(true))] };
        let err = LoopBody::new(graph, &Assets::new()).unwrap_err().to_string();
        assert!(err.contains("the body has no node \"arg_0\""), "{err}");
    }

    #[test]
    fn attributes_round_trip() {
        for op in [looped(counting(), 1, None), looped(counting(), 0, Some(3))] {
            let node = Op::from(op.clone()).to_node("loop", vec!["i".into(), "acc".into()]);
            assert_eq!(While::parse(&node, &Assets::new()).unwrap(), op);
        }
        let node = Op::from(looped(counting(), 0, None)).to_node("loop", vec!["i".into()]);
        let err = While::parse(&node, &Assets::new()).unwrap_err().to_string();
        assert!(err.contains("1 input(s) for a body of 2 loop variable(s)"), "{err}");
        let node = Op::from(looped(counting(), 0, None)).to_node("loop", vec!["i".into(), "acc".into()]);
        let err = While::parse(&node.clone().with("output", Attr::Int(2)), &Assets::new()).unwrap_err().to_string();
        assert!(err.contains("output 2: the body has 2 loop variable(s)"), "{err}");
        let err = While::parse(&node.with("max_iterations", Attr::Int(-2)), &Assets::new()).unwrap_err().to_string();
        assert!(err.contains("max_iterations -2"), "{err}");
    }

    #[test]
    fn the_output_type_is_the_args_refined_where_the_loop_keeps_it() {
        let graph = Graph {
            nodes: vec![
                arg(0, DataType::F32, vec![None, Some(2)]),
                arg(1, DataType::F32, vec![None]),
                arg(2, DataType::I64, vec![None, None]),
                constant("cond", Tensor::scalar(false)),
                node("out_0", Identity, &["arg_0"]),
                node("id", Identity, &["arg_1"]),
                node("out_1", Add, &["id", "id"]),
                node("out_2", Identity, &["arg_2"]),
            ],
        };
        let op = |output| looped(graph.clone(), output, None);
        let ty = |dtype, dims: &[Option<usize>]| TensorType::new(dtype, dims.to_vec());
        let inputs =
            [ty(DataType::F32, &[Some(3), None]), ty(DataType::F32, &[Some(4)]), ty(DataType::I64, &[Some(5), None])];
        // Invariant: the input's dims; out_1 is computed with an unknown size: unknown.
        assert_eq!(op(0).infer(&inputs).unwrap(), ty(DataType::F32, &[Some(3), Some(2)]));
        assert_eq!(op(1).infer(&inputs).unwrap(), ty(DataType::F32, &[None]));
        assert_eq!(op(2).infer(&inputs).unwrap(), ty(DataType::I64, &[Some(5), None]));
        let err = op(0).infer(&inputs[..2]).unwrap_err();
        assert_eq!(err, OpError::Arity { expected: Arity::Exactly(3), got: 2 });
        let mut bad = inputs.clone();
        bad[0] = ty(DataType::F32, &[None, Some(3)]);
        let err = op(0).infer(&bad).unwrap_err().to_string();
        assert!(err.contains("input 0 is f32 [?, 3], arg_0 declares f32 [?, 2]"), "{err}");
        bad[0] = ty(DataType::I64, &[None, Some(2)]);
        assert!(op(0).infer(&bad).is_err());
        // A body that computes the same size keeps it.
        let counting = looped(counting(), 1, None);
        let scalars = [ty(DataType::I64, &[]), ty(DataType::F32, &[])];
        assert_eq!(counting.infer(&scalars).unwrap(), ty(DataType::F32, &[]));
    }

    #[test]
    fn loops_nest() {
        // for j in 0..3: total = (for i in 0..4: total + 1)
        let inner = Graph {
            nodes: vec![
                arg(0, DataType::I64, vec![]),
                arg(1, DataType::I64, vec![]),
                constant("four", Tensor::scalar(4i64)),
                constant("one", Tensor::scalar(1i64)),
                node("cond", Less, &["arg_0", "four"]),
                node("out_0", Add, &["arg_0", "one"]),
                node("out_1", Add, &["arg_1", "one"]),
            ],
        };
        let outer = Graph {
            nodes: vec![
                arg(0, DataType::I64, vec![]),
                arg(1, DataType::I64, vec![]),
                constant("three", Tensor::scalar(3i64)),
                constant("one", Tensor::scalar(1i64)),
                constant("zero", Tensor::scalar(0i64)),
                node("cond", Less, &["arg_0", "three"]),
                node("out_0", Add, &["arg_0", "one"]),
                node("out_1", looped(inner, 1, None), &["zero", "arg_1"]),
            ],
        };
        // The outer loop as a node of a graph, evaluated with the reference kernels.
        let graph = Graph {
            nodes: vec![
                node("start", Placeholder { dtype: DataType::I64, shape: Shape::scalar() }, &[]),
                constant("j", Tensor::scalar(0i64)),
                node("total", looped(outer, 1, None), &["j", "start"]),
            ],
        };
        let typed = TypedGraph::new(&graph, &Assets::new()).unwrap();
        let total = typed.resolve("total").unwrap();
        assert_eq!(typed.nodes()[total].ty, TensorType::new(DataType::I64, vec![]));
        let mut values = vec![None; typed.nodes().len()];
        values[typed.resolve("start").unwrap()] = Some(Tensor::scalar(100i64));
        typed.evaluate(&[total], &mut values).unwrap();
        assert_eq!(values[total], Some(Tensor::scalar(112i64)));
    }

    #[cfg(feature = "grad")]
    #[test]
    fn a_counted_product_has_the_product_as_its_gradient() {
        let op = looped(counting(), 1, None);
        let (i, acc) = (Tensor::scalar(0i64), Tensor::scalar(1.0f32));
        let y = op.run(&[&i, &acc]).unwrap();
        let grads = op.grad(&[&i, &acc], &y, &Tensor::scalar(1.0f32)).unwrap();
        assert_eq!(grads, vec![None, Some(Tensor::scalar(32.0f32))]);
        // A loop that never iterates passes the gradient straight through.
        let grads = op.grad(&[&Tensor::scalar(9i64), &acc], &acc, &Tensor::scalar(1.0f32)).unwrap();
        assert_eq!(grads, vec![None, Some(Tensor::scalar(1.0f32))]);
    }
}
