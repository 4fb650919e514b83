//! Loops (`While`) compiled once: the condition and the body each become a
//! [`Plan`] of their own, over the loop variables that change; variables
//! that never change and are known at load (weights) are constants of those
//! plans, so their products fuse as anywhere else. A call then runs the
//! plans in turn, moving each iteration's results into the variables
//! without allocating once warm.

use std::sync::Arc;

use smallvec::SmallVec;

use opset::ops::OpError;
use opset::ops::control::{IterationBudget, LoopBody, MAX_LOOP_ITERATIONS, While};
use opset::ops::kernel::copy;
use opset::{DataType, Tensor};

use crate::Result;
use crate::loop_control::LoopControl;
use crate::plan::{Plan, Sources, State, Tuning, Value};
use crate::recurrent::{CellScratch, RecurrentCell};

/// How deep loops may nest in a plan (TensorFlow models nest two or three).
const MAX_NESTING: usize = 8;

/// A `While` step.
#[derive(Debug)]
pub(crate) struct LoopKernel {
    body: Arc<LoopBody>,
    max_iterations: Option<u64>,
    /// The loop variables that change, by variable index: the inputs of
    /// both plans, in this order.
    varying: Vec<usize>,
    /// Where the yielded variable is: its position among `varying`, or
    /// (a constant) its value.
    result: Result<usize, Tensor>,
    /// The condition: inputs `varying`, one output.
    cond: Plan,
    /// The next values: inputs `varying`, one output per variable of
    /// `next_vars`.
    next: Plan,
    /// The positions in `varying` of the variables `next` computes: all of
    /// them, or those a fused `cell` does not.
    next_vars: Vec<usize>,
    /// The body's recurrent cell, run fused (its variables by position in
    /// `varying`).
    cell: Option<RecurrentCell>,
    /// With a fused cell, the rest of the loop (its condition, its
    /// counters) on scalar registers, when it is only that.
    control: Option<LoopControl>,
    /// Where this step's [`LoopState`] is in [`State::loops`].
    pub state: usize,
}

/// A thread's state for one loop step.
#[derive(Debug)]
pub(crate) struct LoopState {
    /// The varying variables' current values.
    vars: Vec<Tensor>,
    cond: State,
    next: State,
    cell: CellScratch,
    regs: Vec<i64>,
}

impl LoopKernel {
    /// Compiles loop `w`; `fixed[i]` is variable `i`'s initial value when it
    /// is known at load. The step's state will be `state` in [`State::loops`].
    pub fn compile(w: &While, fixed: Vec<Option<&Tensor>>, state: usize, tuning: Tuning) -> Result<LoopKernel> {
        let body = &w.body;
        let graph = body.typed();
        // Each level compiles its body twice (condition and next values):
        // a hostile nesting must not make loading exponential.
        let tuning = Tuning { depth: tuning.depth + 1, ..tuning };
        if tuning.depth > MAX_NESTING {
            return Err(graph.nodes()[body.cond()].error(format!("loops nest more than {MAX_NESTING} deep")).into());
        }
        // A variable known at load that never changes is a constant.
        let constant = |i: usize| fixed.get(i).copied().flatten().filter(|_| body.is_invariant(i));
        let varying: Vec<usize> = (0..body.var_count()).filter(|&i| constant(i).is_none()).collect();
        let fed: Vec<usize> = varying.iter().map(|&i| body.args()[i]).collect();
        let known: Vec<(usize, Tensor)> =
            (0..body.var_count()).filter_map(|i| Some((body.args()[i], constant(i)?.clone()))).collect();
        let no_variable = |i: usize| -> Result<Tensor> {
            Err(graph.nodes()[i].error("a loop body reads its variables as loop values").into())
        };
        let source = Sources { fed: &fed, fixed: &known, variable: &no_variable, what: "the loop" };
        let cond = Plan::build(graph, &source, &[body.cond()], tuning)?;
        let constants: Vec<Option<&Tensor>> = (0..body.var_count()).map(constant).collect();
        let cell = (tuning.fused_cells.then(|| RecurrentCell::recognize(body, &constants)).flatten())
            .and_then(|cell| cell.relocate(|v| varying.iter().position(|&i| i == v)));
        let fused = cell.as_ref().map(RecurrentCell::computes).unwrap_or_default();
        let next_vars: Vec<usize> = (0..varying.len()).filter(|k| cell.is_none() || !fused.contains(k)).collect();
        let outs: Vec<usize> = next_vars.iter().map(|&k| body.outs()[varying[k]]).collect();
        let next = Plan::build(graph, &source, &outs, tuning)?;
        let computed: Vec<usize> = next_vars.iter().copied().filter(|&k| !body.is_invariant(varying[k])).collect();
        let control = match &cell {
            Some(_) => LoopControl::compile(body, &varying, &computed, &constants),
            None => None,
        };
        let result = match varying.iter().position(|&i| i == w.output) {
            Some(k) => Ok(k),
            None => Err(constant(w.output).cloned().ok_or_else(|| graph.nodes()[body.cond()].error("no output"))?),
        };
        Ok(LoopKernel {
            body: body.clone(),
            max_iterations: w.max_iterations,
            varying,
            result,
            cond,
            next,
            next_vars,
            cell,
            control,
            state,
        })
    }

    /// The step yielding `w`'s output from this loop's run, if `w` is this
    /// loop yielding another variable (the same body, over the same inputs:
    /// the caller checks those): a loop with several outputs used runs once.
    pub fn sibling(&self, w: &While) -> Option<LoopOutput> {
        if (!Arc::ptr_eq(&self.body, &w.body) && self.body != w.body) || self.max_iterations != w.max_iterations {
            return None;
        }
        // A variable this loop yields itself leaves its state (swapped out).
        let var = self.varying.iter().position(|&i| i == w.output).filter(|k| self.result.as_ref().ok() != Some(k))?;
        Some(LoopOutput { state: self.state, var })
    }

    /// How many loops run a fused cell: this one, and those in its body.
    pub fn fused_loops(&self) -> usize {
        usize::from(self.cell.is_some()) + self.cond.fused_loops() + self.next.fused_loops()
    }

    /// A fresh state for one thread.
    pub fn new_state(&self) -> LoopState {
        let graph = self.body.typed();
        LoopState {
            vars: self.varying.iter().map(|&i| Tensor::empty(self.body.arg_ty(i).dtype)).collect(),
            cond: self.cond.new_state(graph),
            next: self.next.new_state(graph),
            cell: CellScratch::default(),
            regs: Vec::new(),
        }
    }

    /// Runs the loop from the variables' initial values `inputs` and puts
    /// the yielded variable in `out`.
    pub fn run(&self, inputs: &[&Tensor], out: &mut Tensor, st: &mut LoopState) -> Result<(), OpError> {
        let fail = |what: &str, (step, e): (usize, OpError)| {
            let plan = if what == "cond" { &self.cond } else { &self.next };
            let node = &self.body.typed().nodes()[plan.steps[step].node];
            OpError::Invalid {
                what: "loop body",
                reason: format!("{what}: node {:?} ({}): {e}", node.name, node.op.name()),
            }
        };
        for (var, &i) in st.vars.iter_mut().zip(&self.varying) {
            let initial = inputs.get(i).ok_or(OpError::Arity {
                expected: opset::ops::Arity::Exactly(self.body.var_count()),
                got: inputs.len(),
            })?;
            copy(initial, initial.shape(), var)?;
        }
        self.check_vars(&st.vars, 0)?;
        st.cell.begin();
        let budget = IterationBudget::enter(MAX_LOOP_ITERATIONS);
        let mut done = 0u64;
        if let (Some(control), Some(cell)) = (&self.control, &self.cell) {
            while self.max_iterations.is_none_or(|m| done < m) {
                let holds = control.step(&st.vars, &mut st.regs).ok_or_else(|| OpError::Invalid {
                    what: "loop",
                    reason: "a loop counter is not the scalar it was declared".into(),
                })?;
                if !holds {
                    break;
                }
                Self::spend(&budget, done)?;
                // The cell checks the shapes it reads and writes what its
                // variables declare; the control writes scalars.
                cell.step(&mut st.vars, &mut st.cell)?;
                control.advance(&mut st.vars, &st.regs);
                done += 1;
            }
            return self.finish(out, st);
        }
        while self.max_iterations.is_none_or(|m| done < m) {
            let vars: SmallVec<[&Tensor; 16]> = st.vars.iter().collect();
            self.cond.run_steps(&mut st.cond, &vars).map_err(|e| fail("cond", e))?;
            if !holds(self.cond.get(self.cond.outputs[0], &vars, &st.cond.slots))? {
                drop(vars);
                break;
            }
            Self::spend(&budget, done)?;
            self.next.run_steps(&mut st.next, &vars).map_err(|e| fail("body", e))?;
            drop(vars);
            // Variables passed on as another's next value, read before any changes.
            let carried = self.carried(st);
            if let Some(cell) = &self.cell {
                cell.step(&mut st.vars, &mut st.cell)?;
            }
            self.advance(st, carried)?;
            done += 1;
            self.check_vars(&st.vars, done)?;
        }
        self.finish(out, st)
    }

    /// Checks the varying variables against their declared dtype and shape
    /// (the values `iteration` left), as the reference loop does.
    fn check_vars(&self, vars: &[Tensor], iteration: u64) -> Result<(), OpError> {
        for (value, &i) in vars.iter().zip(&self.varying) {
            let arg = self.body.arg_ty(i);
            if value.dtype() != arg.dtype || !arg.shape.accepts(value.shape()) {
                return Err(OpError::Invalid {
                    what: "loop variable",
                    reason: format!(
                        "after iteration {iteration}, variable {i} is {} {:?}, but arg_{i} declares {} {}",
                        value.dtype(),
                        value.shape(),
                        arg.dtype,
                        arg.shape
                    ),
                });
            }
        }
        Ok(())
    }

    /// Takes one iteration from the budget, refusing the loop past it.
    fn spend(budget: &IterationBudget, done: u64) -> Result<(), OpError> {
        if done < MAX_LOOP_ITERATIONS && budget.spend() {
            return Ok(());
        }
        Err(OpError::Invalid {
            what: "loop",
            reason: format!(
                "its condition still holds after {done} iteration(s), past the limit of {MAX_LOOP_ITERATIONS} \
                 (nested loops' iterations included): refused as endless"
            ),
        })
    }

    /// Puts the yielded variable in `out`.
    fn finish(&self, out: &mut Tensor, st: &mut LoopState) -> Result<(), OpError> {
        match &self.result {
            Ok(k) => std::mem::swap(out, &mut st.vars[*k]),
            Err(value) => copy(value, value.shape(), out)?,
        }
        Ok(())
    }

    /// The current values of the variables that the body passes on as
    /// another variable's next value (`out_k` is `arg_j`), by `k`.
    fn carried(&self, st: &LoopState) -> Vec<(usize, Tensor)> {
        self.next_vars
            .iter()
            .zip(&self.next.outputs)
            .filter_map(|(&k, &v)| match v {
                Value::Input(j) if j != k => Some((k, st.vars[j].clone())),
                _ => None,
            })
            .collect()
    }

    /// Moves the body's results into the variables: a step's buffer is
    /// swapped in (the step reuses the variable's old one next iteration);
    /// a variable passed through or a constant is copied.
    fn advance(&self, st: &mut LoopState, carried: Vec<(usize, Tensor)>) -> Result<(), OpError> {
        let outputs = &self.next.outputs;
        for (&k, &v) in self.next_vars.iter().zip(outputs) {
            match v {
                Value::Step(s) if outputs.iter().filter(|&&o| o == v).count() == 1 => {
                    std::mem::swap(&mut st.vars[k], &mut st.next.slots[s]);
                }
                Value::Step(s) => copy(&st.next.slots[s], st.next.slots[s].shape(), &mut st.vars[k])?,
                Value::Const(c) => copy(&self.next.consts[c], self.next.consts[c].shape(), &mut st.vars[k])?,
                Value::Input(_) => {}
            }
        }
        for (k, value) in carried {
            st.vars[k] = value;
        }
        Ok(())
    }
}

/// Another variable of a loop that an earlier step ran: copied from that
/// loop's state once it has run.
#[derive(Debug)]
pub(crate) struct LoopOutput {
    /// The loop's state in [`State::loops`].
    pub state: usize,
    /// The variable's position among the loop's varying variables.
    var: usize,
}

impl LoopOutput {
    /// Copies the variable's final value into `out`.
    pub fn run(&self, loops: &[LoopState], out: &mut Tensor) -> Result<(), OpError> {
        let value = loops.get(self.state).and_then(|st| st.vars.get(self.var));
        let value = value.ok_or_else(|| OpError::Invalid { what: "loop", reason: "its state is missing".into() })?;
        copy(value, value.shape(), out)
    }
}

/// The condition's one bool.
fn holds(cond: &Tensor) -> Result<bool, OpError> {
    match (cond.dtype(), cond.as_slice::<bool>()) {
        (DataType::Bool, Ok([b])) => Ok(*b),
        _ => Err(OpError::Invalid {
            what: "loop",
            reason: format!("cond is {} {:?}, expected one bool", cond.dtype(), cond.shape()),
        }),
    }
}
