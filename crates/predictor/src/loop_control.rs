//! A loop's control on scalar registers: when a loop's condition and the
//! variables its plans compute (a fused cell aside) are integer or bool
//! scalars (step counters, `i < n`), they run as a few register
//! instructions per iteration instead of tensor kernels.

use opset::ops::Op;
use opset::ops::control::LoopBody;
use opset::{DataType, Tensor};

/// One instruction; operands are earlier registers.
#[derive(Debug, Clone, Copy)]
enum Instr {
    Const(i64),
    /// The current value of varying variable `k`.
    Var(usize),
    Add(usize, usize),
    Sub(usize, usize),
    Less(usize, usize),
    LessEqual(usize, usize),
    Greater(usize, usize),
    GreaterEqual(usize, usize),
    And(usize, usize),
    Or(usize, usize),
    Not(usize),
}

/// The condition and the next values of scalar loop variables, compiled.
#[derive(Debug)]
pub(crate) struct LoopControl {
    /// Each instruction, with the dtype its result wraps to.
    instrs: Vec<(Instr, DataType)>,
    /// The register holding the condition.
    cond: usize,
    /// (varying position, register) of each variable computed.
    next: Vec<(usize, usize)>,
}

impl LoopControl {
    /// The control of `body`, if the condition and the outs of the varying
    /// variables `computed` (by variable index; positions in `varying`)
    /// need only scalar integer and bool arithmetic; `fixed[i]` is variable
    /// `i`'s value when known at load.
    pub fn compile(
        body: &LoopBody,
        varying: &[usize],
        computed: &[usize],
        fixed: &[Option<&Tensor>],
    ) -> Option<LoopControl> {
        let graph = body.typed();
        let nodes = graph.nodes();
        let targets: Vec<usize> =
            std::iter::once(body.cond()).chain(computed.iter().map(|&k| body.outs()[varying[k]])).collect();
        let needed = graph.needed(&targets);
        let mut reg: Vec<Option<usize>> = vec![None; nodes.len()];
        let mut instrs: Vec<(Instr, DataType)> = Vec::new();
        for (i, node) in nodes.iter().enumerate().filter(|(i, _)| needed[*i]) {
            let ty = &node.ty;
            if !matches!(ty.dtype, DataType::I32 | DataType::I64 | DataType::Bool)
                || !matches!(ty.dims(), [] | [Some(1)])
            {
                return None;
            }
            let operand = |k: usize| node.inputs.get(k).and_then(|&j| reg[j]);
            let instr = match &node.op {
                Op::Identity(_) => {
                    reg[i] = operand(0);
                    continue;
                }
                Op::Placeholder(_) => {
                    let v = body.args().iter().position(|&a| a == i)?;
                    match fixed.get(v).copied().flatten() {
                        Some(value) => Instr::Const(scalar(value)?),
                        None => Instr::Var(varying.iter().position(|&w| w == v)?),
                    }
                }
                Op::Const(c) => Instr::Const(scalar(&c.value)?),
                Op::Add(_) => Instr::Add(operand(0)?, operand(1)?),
                Op::Sub(_) => Instr::Sub(operand(0)?, operand(1)?),
                Op::Less(_) => Instr::Less(operand(0)?, operand(1)?),
                Op::LessEqual(_) => Instr::LessEqual(operand(0)?, operand(1)?),
                Op::Greater(_) => Instr::Greater(operand(0)?, operand(1)?),
                Op::GreaterEqual(_) => Instr::GreaterEqual(operand(0)?, operand(1)?),
                Op::LogicalAnd(_) => Instr::And(operand(0)?, operand(1)?),
                Op::LogicalOr(_) => Instr::Or(operand(0)?, operand(1)?),
                Op::LogicalNot(_) => Instr::Not(operand(0)?),
                _ => return None,
            };
            instrs.push((instr, ty.dtype));
            reg[i] = Some(instrs.len() - 1);
        }
        let cond = reg[body.cond()]?;
        let next = computed.iter().map(|&k| Some((k, reg[body.outs()[varying[k]]]?))).collect::<Option<Vec<_>>>()?;
        Some(LoopControl { instrs, cond, next })
    }

    /// Runs the instructions on the current variables into `regs`: whether
    /// the condition holds (`None` if a variable is not the scalar it was
    /// declared).
    pub fn step(&self, vars: &[Tensor], regs: &mut Vec<i64>) -> Option<bool> {
        regs.resize(self.instrs.len(), 0);
        for (r, &(instr, dtype)) in self.instrs.iter().enumerate() {
            let v = match instr {
                Instr::Const(c) => c,
                Instr::Var(k) => scalar(&vars[k])?,
                Instr::Add(a, b) => wrap(regs[a].wrapping_add(regs[b]), dtype),
                Instr::Sub(a, b) => wrap(regs[a].wrapping_sub(regs[b]), dtype),
                Instr::Less(a, b) => i64::from(regs[a] < regs[b]),
                Instr::LessEqual(a, b) => i64::from(regs[a] <= regs[b]),
                Instr::Greater(a, b) => i64::from(regs[a] > regs[b]),
                Instr::GreaterEqual(a, b) => i64::from(regs[a] >= regs[b]),
                Instr::And(a, b) => i64::from(regs[a] != 0 && regs[b] != 0),
                Instr::Or(a, b) => i64::from(regs[a] != 0 || regs[b] != 0),
                Instr::Not(a) => i64::from(regs[a] == 0),
            };
            regs[r] = v;
        }
        Some(regs[self.cond] != 0)
    }

    /// Writes the next values computed by the last [`LoopControl::step`].
    pub fn advance(&self, vars: &mut [Tensor], regs: &[i64]) {
        for &(k, r) in &self.next {
            let v = regs[r];
            // A scalar, declared `[]` or `[1]`.
            let shape: &[usize] = if vars[k].shape().is_empty() { &[] } else { &[1] };
            match vars[k].dtype() {
                DataType::I32 => vars[k].output_vec::<i32>(shape).push(v as i32),
                DataType::Bool => vars[k].output_vec::<bool>(shape).push(v != 0),
                _ => vars[k].output_vec::<i64>(shape).push(v),
            }
        }
    }
}

/// The one integer or bool of a scalar tensor.
fn scalar(t: &Tensor) -> Option<i64> {
    match t.dtype() {
        DataType::I32 => t.as_slice::<i32>().ok().and_then(|v| (v.len() == 1).then(|| i64::from(v[0]))),
        DataType::I64 => t.as_slice::<i64>().ok().and_then(|v| (v.len() == 1).then(|| v[0])),
        DataType::Bool => t.as_slice::<bool>().ok().and_then(|v| (v.len() == 1).then(|| i64::from(v[0]))),
        _ => None,
    }
}

/// `v` wrapped to `dtype` (i32 arithmetic wraps at 32 bits).
fn wrap(v: i64, dtype: DataType) -> i64 {
    match dtype {
        DataType::I32 => i64::from(v as i32),
        _ => v,
    }
}
