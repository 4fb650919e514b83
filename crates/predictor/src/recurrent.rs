//! Fused recurrent steps: a loop body that is the standard LSTM or GRU cell
//! (as Keras's `LSTM` and `GRU` export them, and TensorFlow 1's `LSTMCell`
//! in `dynamic_rnn`: gates from products of the step's input and the
//! previous output, `sigmoid` and `tanh`, the output written to a list at
//! the step's index, optionally masked by a bool list or by sequence
//! lengths) runs as one (LSTM) or two (GRU) matrix products per step over
//! weights laid out once at load, its state and output list updated in place.
//!
//! Recognition reads the body's structure to find each variable's role,
//! then checks the fused step against the body itself on probe values; a
//! body that differs in any way (other activations, gate order, peepholes)
//! fails the check and runs as the general loop.

use crate::kernel::gemm::{Init, Packed};
use opset::ops::array::Gather;
use opset::ops::control::LoopBody;
use opset::ops::{Op, OpError};
use opset::{DataType, Tensor};

use crate::kernel::activation::{sigmoid, tanh};

/// The most floats the input's part of all steps' gates may take to be
/// computed at once (16 MiB); longer or wider loops compute it step by step.
const HOIST_LIMIT: usize = 1 << 22;

/// One recurrent step over loop variables, by variable index.
#[derive(Debug)]
pub(crate) struct RecurrentCell {
    /// The step index (an i32 or i64 scalar).
    time: usize,
    /// The input sequence, a list `[T, B, F]`.
    input: usize,
    /// Which batch rows a step leaves as they were (their state kept, the
    /// mask's value written to the output list).
    mask: Option<Mask>,
    /// The output list `[T, B, U]` (`[1, B, U]` when only the last output
    /// is kept), and the row each step writes: the step index, or a fixed one.
    output: usize,
    write_row: Option<usize>,
    /// The previous output.
    h: usize,
    /// A variable carrying what the step writes to the list (Keras's
    /// masked layers keep their last output so).
    written: Option<usize>,
    /// `[F, W]` and `[U, W]`: the input's and the previous output's weights
    /// for the `W` gate columns (laid out for the product), and the
    /// input's bias.
    kernel: Packed,
    recurrent: Packed,
    input_bias: Vec<f32>,
    gates: Gates,
    /// Whether the body passes the input list on unchanged, so that the
    /// input's part of every step's gates can be computed at once, as one
    /// product over all steps, when the loop starts.
    hoisted: bool,
}

/// A masked recurrence: where the mask comes from, and the variable a
/// masked row writes to the output list.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Mask {
    source: MaskSource,
    value: usize,
}

/// Which rows a step masks.
#[derive(Debug, Clone, Copy, PartialEq)]
enum MaskSource {
    /// Keras's `mask_zero`: a bool list `[T, B, 1]`, false where masked.
    List(usize),
    /// TensorFlow 1's `sequence_length`: an integer vector `[B]`; rows whose
    /// length the step index has reached are masked.
    Lengths(usize),
}

/// What the gate columns are.
#[derive(Debug)]
enum Gates {
    /// LSTM: gates `i, f, c, o` of `x @ K + h @ R + b`; `c` is the cell
    /// state variable. The candidate's columns are doubled at load (`tanh z
    /// = 2 sigmoid(2z) - 1`, so one sigmoid pass serves all four gates).
    Lstm { c: usize },
    /// GRU as Keras's `reset_after`: `x @ K + b_x` and `h @ R + b_h`, each
    /// split into `z, r, h` thirds; `h' = z h + (1 - z) tanh(x_h + r (h @ R)_h)`.
    Gru { recurrent_bias: Vec<f32> },
    /// GRU with the reset applied before the candidate's product, as
    /// TensorFlow 1's `GRUCell`: `x @ K + b` in thirds `z, r, h`, the
    /// cell's `recurrent` weights `[U, 2U]` for `z, r` only, and `candidate`
    /// `[U, U]`: `h' = z h + (1 - z) tanh(x_h + (r h) @ candidate)`.
    GruResetBefore { candidate: Packed },
}

/// An LSTM's weights, `kernel` (`[F, 4U]`), `recurrent` (`[U, 4U]`) and
/// `bias`, whose gate blocks are in `order` (the block holding `i`, `f`,
/// `c`, `o`), laid out as the step computes them: blocks `i, f, c, o`, the
/// forget bias added to `f`'s bias, the candidate's columns doubled.
fn lay_out_lstm(
    [kernel, recurrent]: [&[f32]; 2],
    bias: &[f32],
    [features, units]: [usize; 2],
    order: [usize; 4],
    forget_bias: f32,
) -> Option<(Tensor, Tensor, Vec<f32>)> {
    let width = 4 * units;
    let lay_out = |row: &[f32]| -> Vec<f32> {
        let mut row: Vec<f32> =
            order.iter().flat_map(|&block| row[block * units..(block + 1) * units].iter().copied()).collect();
        row[2 * units..3 * units].iter_mut().for_each(|w| *w *= 2.0);
        row
    };
    let matrix =
        |w: &[f32], rows: usize| Tensor::from_vec(vec![rows, width], w.chunks_exact(width).flat_map(lay_out).collect());
    let mut bias = lay_out(bias);
    bias[units..2 * units].iter_mut().for_each(|b| *b += forget_bias);
    Some((matrix(kernel, features).ok()?, matrix(recurrent, units).ok()?, bias))
}

/// A thread's buffers for a fused step.
#[derive(Debug, Default)]
pub(crate) struct CellScratch {
    /// `[T, B, W]`: the input's part of every step's gates, computed at the
    /// loop's first step when the body does not change the input list
    /// (empty until then).
    projected: Vec<f32>,
    /// `[B, 4U]` (LSTM) or `[B, 3U]` (GRU, the input's part): the gates
    /// before their activations.
    gates: Vec<f32>,
    /// `[B, 3U]` (`[B, 2U]` reset before): the previous output's part of a
    /// GRU's gates.
    recurrent: Vec<f32>,
    /// `[B, U]`: `r h`, a GRU's previous output after the reset (reset before).
    reset: Vec<f32>,
    /// `[B, U]`: what the step writes to the output list.
    rows: Vec<f32>,
    /// `[B]`: which rows the mask keeps.
    keep: Vec<bool>,
    /// `[B, U]`: what a masked row writes.
    fill: Vec<f32>,
    /// An LSTM step over the kept rows only.
    kept: KeptRows,
}

/// The rows an LSTM step keeps, gathered: their batch indices, gates,
/// states and outputs, contiguous.
#[derive(Debug, Default)]
struct KeptRows {
    index: Vec<usize>,
    gates: Vec<f32>,
    h: Vec<f32>,
    c: Vec<f32>,
    rows: Vec<f32>,
}

impl CellScratch {
    /// Forgets what the last run computed for its whole input: a new run
    /// of the loop is starting.
    pub fn begin(&mut self) {
        self.projected.clear();
    }
}

impl RecurrentCell {
    /// The LSTM or GRU cell `body` computes, if it is one; `fixed[i]` is
    /// loop variable `i`'s value when known at load (the weights must be).
    pub fn recognize(body: &LoopBody, fixed: &[Option<&Tensor>]) -> Option<RecurrentCell> {
        let graph = body.typed();
        let nodes = graph.nodes();
        // What a node computes, through the Identity nodes that only rename it.
        let source = |mut at: usize| {
            while let (Op::Identity(_), &[from]) = (&nodes[at].op, &nodes[at].inputs[..]) {
                at = from;
            }
            at
        };
        let var_of = |node: usize| body.args().iter().position(|&a| a == source(node));
        let known = |node: usize| fixed.get(var_of(node)?).copied().flatten();
        let parts = |node: usize| {
            let n = &nodes[source(node)];
            (&n.op, n.inputs.as_slice())
        };
        // The output list written at the step index.
        let (write, [list, time, item]) = nodes.iter().enumerate().find_map(|(i, n)| match (&n.op, &n.inputs[..]) {
            (Op::ListSetItem(_), &[l, t, y]) => Some((i, [l, t, y])),
            _ => None,
        })?;
        let output = var_of(list)?;
        (source(body.outs()[output]) == write).then_some(())?;
        let write_at = var_of(time);
        let write_row = match (write_at, parts(time).0) {
            (Some(_), _) => None,
            (None, Op::Const(c)) => {
                Some(usize::try_from(opset::ops::kernel::indices(&c.value, 1).ok()?.first().copied()?).ok()?)
            }
            _ => return None,
        };
        // A product by constant weights: (its input, the weights).
        let product = |m: usize| match parts(m) {
            (Op::MatMul(mm), &[a, w]) if !mm.transpose_a && !mm.transpose_b => Some((a, known(w)?)),
            _ => None,
        };
        // A row of a list variable at a variable index: (list, index).
        let row = |g: usize| match parts(g) {
            (Op::Gather(Gather { axis: 0 }), &[l, t]) => Some((var_of(l)?, var_of(t)?)),
            _ => None,
        };
        // The products' biases: one over their sum (LSTM), one each (GRU).
        let biased: Vec<(usize, &Tensor)> = nodes
            .iter()
            .filter_map(|n| match (&n.op, &n.inputs[..]) {
                (Op::BiasAdd(_), &[s, b]) => Some((s, known(b)?)),
                _ => None,
            })
            .collect();
        // (the input's product, the previous output's), each (input, weights, bias).
        // A product by constant weights of a row joined to another value:
        // (the row, the other value, the weights).
        let joined = |m: usize| match parts(m) {
            (Op::MatMul(mm), &[j, w]) if !mm.transpose_a && !mm.transpose_b => match parts(j) {
                (Op::Concat(c), &[x, y]) if (c.axis == 1 || c.axis == -1) && row(x).is_some() => {
                    Some((x, y, known(w)?))
                }
                _ => None,
            },
            _ => None,
        };
        // TensorFlow 1's GRUCell: its gates' and candidate's recurrent weights.
        let mut reset_before = None;
        let ((x_row, kernel, b_x), (h_arg, recurrent, b_h)) = match biased.as_slice() {
            [(sum, bias)] => match parts(*sum) {
                // Keras: BiasAdd(Add(MatMul(x_t, K), MatMul(h, R)), b).
                (Op::Add(_), &[p, q]) => {
                    let (p, q) = (product(p)?, product(q)?);
                    let (x, h) = if row(p.0).is_some() { (p, q) } else { (q, p) };
                    ((x.0, x.1.clone(), Some((*bias).clone())), (h.0, h.1.clone(), None))
                }
                // TensorFlow 1's LSTMCell: BiasAdd(MatMul(Concat(x_t, h), [K; R]), b).
                (Op::MatMul(mm), &[joined, w]) if !mm.transpose_a && !mm.transpose_b => {
                    let (Op::Concat(c), &[x, h]) = parts(joined) else { return None };
                    let w = known(w)?;
                    let (&[rows, width], Ok(values)) = (w.shape(), w.as_slice::<f32>()) else { return None };
                    (c.axis == 1 || c.axis == -1).then_some(())?;
                    let units = width / 4;
                    let features = rows.checked_sub(units).filter(|&f| f > 0 && units > 0)?;
                    let kernel = Tensor::from_vec(vec![features, width], values[..features * width].to_vec()).ok()?;
                    let recurrent = Tensor::from_vec(vec![units, width], values[features * width..].to_vec()).ok()?;
                    ((x, kernel, Some((*bias).clone())), (h, recurrent, None))
                }
                _ => return None,
            },
            // TensorFlow 1's GRUCell: the gates' BiasAdd(MatMul(Concat(x_t, h),
            // [K_g; R_g]), b_g) and the candidate's over Concat(x_t, r h).
            [(m1, b1), (m2, b2)] if joined(*m1).is_some() && joined(*m2).is_some() => {
                let ((x, y1, w1), (_, y2, w2)) = (joined(*m1)?, joined(*m2)?);
                let ((wg, bg), (wc, bc)) =
                    if var_of(y1).is_some() { ((w1, b1), (w2, b2)) } else { ((w2, b2), (w1, b1)) };
                let (&[rows, gates], &[_, units]) = (wg.shape(), wc.shape()) else { return None };
                (gates == 2 * units && wc.shape()[0] == rows).then_some(())?;
                let features = rows.checked_sub(units).filter(|&f| f > 0 && units > 0)?;
                let (wg, wc) = (wg.as_slice::<f32>().ok()?, wc.as_slice::<f32>().ok()?);
                // The input's part of both products side by side, `[F, 3U]`.
                let kernel: Vec<f32> = wg[..features * gates]
                    .chunks_exact(gates)
                    .zip(wc[..features * units].chunks_exact(units))
                    .flat_map(|(g, c)| g.iter().chain(c).copied())
                    .collect();
                let bias: Vec<f32> =
                    bg.as_slice::<f32>().ok()?.iter().chain(bc.as_slice::<f32>().ok()?).copied().collect();
                let h = if var_of(y1).is_some() { y1 } else { y2 };
                reset_before = Some((
                    Tensor::from_vec(vec![units, gates], wg[features * gates..].to_vec()).ok()?,
                    Tensor::from_vec(vec![units, units], wc[features * units..].to_vec()).ok()?,
                ));
                let kernel = Tensor::from_vec(vec![features, 3 * units], kernel).ok()?;
                ((x, kernel, Some(Tensor::from_vec(vec![3 * units], bias).ok()?)), (h, Tensor::scalar(0.0f32), None))
            }
            [(m1, b1), (m2, b2)] => {
                let (p, q) = ((product(*m1)?, *b1), (product(*m2)?, *b2));
                let (x, h) = if row(p.0.0).is_some() { (p, q) } else { (q, p) };
                ((x.0.0, x.0.1.clone(), Some(x.1.clone())), (h.0.0, h.0.1.clone(), Some(h.1.clone())))
            }
            _ => return None,
        };
        let ((input, time), h) = (row(x_row)?, var_of(h_arg)?);
        if write_at.is_some_and(|v| v != time) {
            return None;
        }
        let recurrent = match &reset_before {
            Some((gates, _)) => gates.clone(),
            None => recurrent,
        };
        let (&[features, width], &[units, width2]) = (kernel.shape(), recurrent.shape()) else { return None };
        let gates_of = |k: usize| units.checked_mul(k).filter(|&w| w == width);
        let recurrent_width = if reset_before.is_some() { 2 * units } else { width };
        (units > 0 && features > 0 && width2 == recurrent_width && (gates_of(4).is_some() || gates_of(3).is_some()))
            .then_some(())?;
        // The mask: a Select between the new output and a variable, on a
        // bool row of a list (Keras) or on the step index against lengths
        // (TensorFlow 1); which side is the variable says the polarity, the
        // probes check it.
        let mask = match parts(item) {
            (Op::Select(_), &[cond, a, b]) => {
                let value = var_of(b).or_else(|| var_of(a))?;
                let masked = graph.needed(&[cond]);
                let list = (0..nodes.len())
                    .filter(|&g| masked[g])
                    .find_map(|g| row(g).filter(|&(v, t)| t == time && body.arg_ty(v).dtype == DataType::Bool));
                let source = match list {
                    Some((list, _)) => MaskSource::List(list),
                    None => MaskSource::Lengths((0..body.var_count()).find(|&v| {
                        masked[body.args()[v]]
                            && v != time
                            && matches!(body.arg_ty(v).dtype, DataType::I32 | DataType::I64)
                            && body.arg_ty(v).dims().len() == 1
                    })?),
                };
                Some(Mask { source, value })
            }
            _ => None,
        };
        let written = (0..body.var_count()).find(|&v| v != output && source(body.outs()[v]) == source(item));
        let hoisted = source(body.outs()[input]) == body.args()[input];
        let floats = |t: &Tensor| t.as_slice::<f32>().ok().map(<[f32]>::to_vec);
        let pack = |w: &Tensor| match (w.shape(), w.as_slice::<f32>()) {
            (&[k, n], Ok(values)) => Packed::new(crate::cpu::isa(), values, k, n),
            _ => None,
        };
        let cell = |kernel: &Tensor, recurrent: &Tensor, input_bias, gates| {
            Some(RecurrentCell {
                time,
                input,
                mask,
                output,
                write_row,
                h,
                written,
                kernel: pack(kernel)?,
                recurrent: pack(recurrent)?,
                input_bias,
                gates,
                hoisted,
            })
        };
        if let (Some((_, candidate)), Some(bias)) = (&reset_before, &b_x) {
            // TensorFlow 1 orders the gates r, u (u is our z): the probes
            // pick the layout that is the body's.
            let (k, r, bias) = (floats(&kernel)?, floats(&recurrent)?, floats(bias)?);
            for order in [[1, 0], [0, 1]] {
                let swap = |row: &[f32], blocks: usize| -> Vec<f32> {
                    let mut out: Vec<f32> =
                        order.iter().flat_map(|&b| row[b * units..(b + 1) * units].iter().copied()).collect();
                    out.extend_from_slice(&row[2 * units..blocks * units]);
                    out
                };
                let k: Vec<f32> = k.chunks_exact(3 * units).flat_map(|row| swap(row, 3)).collect();
                let r: Vec<f32> = r.chunks_exact(2 * units).flat_map(|row| swap(row, 2)).collect();
                let (k, r) = (
                    Tensor::from_vec(vec![features, 3 * units], k).ok()?,
                    Tensor::from_vec(vec![units, 2 * units], r).ok()?,
                );
                let gates = Gates::GruResetBefore { candidate: pack(candidate)? };
                let cell = cell(&k, &r, swap(&bias, 3), gates)?;
                if cell.agrees_with(body, fixed) {
                    return Some(cell);
                }
            }
            return None;
        }
        match (width / units, b_x.as_ref(), b_h.as_ref()) {
            (4, Some(bias), None) => {
                // The cell state: the other f32 variable of the state's shape.
                let mask_var = mask.map(|m| match m.source {
                    MaskSource::List(v) | MaskSource::Lengths(v) => v,
                });
                let taken = [Some(time), Some(input), Some(output), Some(h), mask_var, mask.map(|m| m.value), written];
                let mut candidates = (0..body.var_count()).filter(|&v| {
                    !taken.contains(&Some(v))
                        && fixed.get(v).copied().flatten().is_none()
                        && body.arg_ty(v).dtype == DataType::F32
                        && body.arg_ty(v).dims().len() == 2
                        && body.arg_ty(v).dims()[1].is_none_or(|u| u == units)
                });
                let c = candidates.next()?;
                candidates.next().is_none().then_some(())?;
                let (k, r) = (floats(&kernel)?, floats(&recurrent)?);
                let bias = floats(bias)?;
                (bias.len() == width).then_some(())?;
                // Keras orders the gates i, f, c, o; TensorFlow 1's LSTMCell
                // i, c, f, o with a forget bias of 1 added before the sigmoid:
                // the probes pick the layout that is the body's.
                for (order, forget_bias) in
                    [([0, 1, 2, 3], 0.0), ([0, 2, 1, 3], 1.0), ([0, 2, 1, 3], 0.0), ([0, 1, 2, 3], 1.0)]
                {
                    let (k, r, b) = lay_out_lstm([&k, &r], &bias, [features, units], order, forget_bias)?;
                    let cell = cell(&k, &r, b, Gates::Lstm { c })?;
                    if cell.agrees_with(body, fixed) {
                        return Some(cell);
                    }
                }
                None
            }
            (3, Some(b_x), Some(b_h)) => {
                let (input_bias, recurrent_bias) = (floats(b_x)?, floats(b_h)?);
                (input_bias.len() == width && recurrent_bias.len() == width).then_some(())?;
                let cell = cell(&kernel, &recurrent, input_bias, Gates::Gru { recurrent_bias })?;
                cell.agrees_with(body, fixed).then_some(cell)
            }
            _ => None,
        }
    }

    /// The same step over variables renumbered by `place` (a loop keeps
    /// only its varying variables); `None` if one of them has no place.
    pub fn relocate(mut self, place: impl Fn(usize) -> Option<usize>) -> Option<RecurrentCell> {
        self.time = place(self.time)?;
        self.input = place(self.input)?;
        self.output = place(self.output)?;
        self.h = place(self.h)?;
        if let Gates::Lstm { c, .. } = &mut self.gates {
            *c = place(*c)?;
        }
        self.written = match self.written {
            Some(v) => Some(place(v)?),
            None => None,
        };
        self.mask = match self.mask {
            Some(Mask { source, value }) => Some(Mask {
                source: match source {
                    MaskSource::List(v) => MaskSource::List(place(v)?),
                    MaskSource::Lengths(v) => MaskSource::Lengths(place(v)?),
                },
                value: place(value)?,
            }),
            None => None,
        };
        Some(self)
    }

    /// The loop variables the step computes (the rest the body's plan does).
    pub fn computes(&self) -> Vec<usize> {
        let c = match self.gates {
            Gates::Lstm { c, .. } => Some(c),
            Gates::Gru { .. } | Gates::GruResetBefore { .. } => None,
        };
        [Some(self.h), c, Some(self.output), self.written].into_iter().flatten().collect()
    }

    /// The width of the state.
    fn units(&self) -> usize {
        self.recurrent.dims()[0]
    }

    /// The width of the step's input.
    fn features(&self) -> usize {
        self.kernel.dims()[0]
    }

    /// Whether the step gives the body's own results, on probe values of
    /// every variable (two batch rows, three steps, one of them masked).
    fn agrees_with(&self, body: &LoopBody, fixed: &[Option<&Tensor>]) -> bool {
        let units = self.units();
        let graph = body.typed();
        // The declared dims, unknown ones as `defaults` (steps, batch, ...).
        let dims = |v: usize, defaults: &[usize]| -> Vec<usize> {
            let declared = body.arg_ty(v).dims();
            declared.iter().zip(defaults.iter().chain(std::iter::repeat(&1))).map(|(d, &x)| d.unwrap_or(x)).collect()
        };
        let steps = dims(self.input, &[3])[0];
        if self.write_row.is_some_and(|r| r > PROBE_LIMIT) {
            return false;
        }
        // The probed step and its first batch row, which the probe mask drops.
        let t = steps.min(2).saturating_sub(1);
        let mut vars: Vec<Tensor> = Vec::with_capacity(body.var_count());
        for v in 0..body.var_count() {
            let ty = body.arg_ty(v);
            let value = match fixed.get(v).copied().flatten() {
                Some(t) => Some(t.clone()),
                None if v == self.time => Some(match ty.dtype {
                    DataType::I64 => Tensor::scalar(t as i64),
                    _ => Tensor::scalar(t as i32),
                }),
                None if v == self.input => probe(&dims(v, &[3, 2]), 1),
                None if self.mask.is_some_and(|m| m.source == MaskSource::Lengths(v)) => {
                    // Row 0 has ended at the probed step; the others run on.
                    let batch = dims(v, &[2])[0];
                    let lengths: Vec<i64> = (0..batch).map(|b| if b == 0 { t as i64 } else { steps as i64 }).collect();
                    match ty.dtype {
                        DataType::I32 => {
                            Tensor::from_vec(vec![batch], lengths.iter().map(|&l| l as i32).collect::<Vec<i32>>()).ok()
                        }
                        _ => Tensor::from_vec(vec![batch], lengths).ok(),
                    }
                }
                None if self.mask.is_some_and(|m| m.source == MaskSource::List(v)) => {
                    let shape = dims(v, &[3, 2, 1]);
                    let batch = shape.get(1).copied().unwrap_or(1);
                    bounded(&shape).and_then(|n| {
                        Tensor::from_vec(shape, (0..n).map(|k| k != t * batch).collect::<Vec<bool>>()).ok()
                    })
                }
                None if v == self.output => probe(&dims(v, &[self.write_row.map_or(steps, |r| r + 1), 2, units]), 2),
                None if ty.dtype == DataType::F32 && ty.dims().len() == 2 => probe(&dims(v, &[2, units]), v + 3),
                None => zeros(ty),
            };
            let Some(value) = value else { return false };
            vars.push(value);
        }
        let mut values: Vec<Option<Tensor>> = vec![None; graph.nodes().len()];
        for (v, t) in vars.iter().enumerate() {
            values[body.args()[v]] = Some(t.clone());
        }
        let targets: Vec<usize> = self.computes().iter().map(|&v| body.outs()[v]).collect();
        if graph.evaluate(&targets, &mut values).is_err() {
            return false;
        }
        let mut fused = vars.clone();
        if self.step(&mut fused, &mut CellScratch::default()).is_err() {
            return false;
        }
        self.computes().iter().zip(&targets).all(|(&v, &t)| close(values[t].as_ref(), &fused[v]))
    }

    /// One step: the state and the output list's row at the step index,
    /// updated in place in `vars` (indexed by loop variable).
    pub fn step(&self, vars: &mut [Tensor], scratch: &mut CellScratch) -> Result<(), OpError> {
        let (units, features) = (self.units(), self.features());
        let t = index(&vars[self.time])?;
        let x = &vars[self.input];
        let (&[steps, batch, f], &[hb, hu]) = (x.shape(), vars[self.h].shape()) else {
            return Err(shape_error("input list or state", x.shape()));
        };
        if f != features || hu != units || hb != batch || t >= steps {
            return Err(shape_error("input list or state", x.shape()));
        }
        let xs = x.as_slice::<f32>()?;
        let h_prev = vars[self.h].as_slice::<f32>()?;
        let CellScratch { projected, gates, recurrent, reset, rows, keep, fill, kept } = scratch;
        keep.clear();
        fill.clear();
        if let Some(Mask { source, value }) = self.mask {
            match source {
                MaskSource::List(list) => {
                    let shape = vars[list].shape();
                    if shape.len() < 2 || shape[..2] != [steps, batch] || shape[2..].iter().any(|&d| d != 1) {
                        return Err(shape_error("mask", shape));
                    }
                    let m = vars[list].as_slice::<bool>()?;
                    keep.extend_from_slice(
                        m.get(t * batch..(t + 1) * batch).ok_or_else(|| shape_error("mask", shape))?,
                    );
                }
                MaskSource::Lengths(lengths) => {
                    if vars[lengths].shape() != [batch] {
                        return Err(shape_error("sequence lengths", vars[lengths].shape()));
                    }
                    let lengths = opset::ops::kernel::indices(&vars[lengths], 1)?;
                    keep.extend(lengths.iter().map(|&l| i64::try_from(t).is_ok_and(|t| t < l)));
                }
            }
            if vars[value].shape() != [batch, units] {
                return Err(shape_error("masked value", vars[value].shape()));
            }
            fill.extend_from_slice(vars[value].as_slice::<f32>()?);
        }
        // The input's part of the gates: this step's rows of the product
        // over all steps (computed at the loop's first step), or this
        // step's own product.
        let width = self.input_bias.len();
        let hoist = self.hoisted && steps.checked_mul(batch * width).is_some_and(|n| n <= HOIST_LIMIT);
        // The LSTM adds its recurrent product to the input's part as it
        // computes it; the GRUs keep the two apart.
        let bias = Init::Row(&self.input_bias);
        let lstm = matches!(self.gates, Gates::Lstm { .. });
        if hoist {
            if projected.len() != steps * batch * width {
                product(xs, &self.kernel, bias, steps * batch, projected)?;
            }
            let step = Init::Rows { values: &projected[t * batch * width..][..batch * width], stride: width };
            let ended = keep.iter().filter(|&&k| !k).count();
            if lstm && 4 * ended >= batch {
                // A quarter of the rows or more have ended (a batch of words
                // of many lengths): the step runs over the others only.
                kept.index.clear();
                kept.index.extend((0..batch).filter(|&b| keep[b]));
                let step = &projected[t * batch * width..][..batch * width];
                kept.gates.clear();
                kept.h.clear();
                for &b in &kept.index {
                    kept.gates.extend_from_slice(&step[b * width..(b + 1) * width]);
                    kept.h.extend_from_slice(&h_prev[b * units..(b + 1) * units]);
                }
                if !kept.index.is_empty() {
                    let rows_kept = kept.index.len();
                    product(&kept.h, &self.recurrent, Init::Out, rows_kept, &mut kept.gates)?;
                }
                return self.finish_kept_rows(vars, kept, fill, rows, units, batch, t);
            }
            if lstm {
                product(h_prev, &self.recurrent, step, batch, gates)?;
            } else {
                gates.clear();
                gates.extend_from_slice(&projected[t * batch * width..][..batch * width]);
            }
        } else {
            product(&xs[t * batch * features..][..batch * features], &self.kernel, bias, batch, gates)?;
            if lstm {
                product(h_prev, &self.recurrent, Init::Out, batch, gates)?;
            }
        }
        match &self.gates {
            Gates::Lstm { .. } => {}
            Gates::Gru { recurrent_bias } => {
                product(h_prev, &self.recurrent, Init::Row(recurrent_bias), batch, recurrent)?
            }
            Gates::GruResetBefore { .. } => product(h_prev, &self.recurrent, Init::Zero, batch, recurrent)?,
        }
        let row = self.output_row(vars, batch, units, t)?;
        // Every element is written below: sized, not cleared.
        rows.resize(batch * units, 0.0);
        match self.gates {
            Gates::Lstm { c, .. } => {
                let (hs, cs) = self.lstm_state(vars, c, batch, units)?;
                activate(crate::cpu::isa(), Rows { gates, cs, hs, rows, keep, fill, units });
            }
            Gates::Gru { .. } => {
                let hs = vars[self.h].as_slice_mut::<f32>()?;
                activate_gru(crate::cpu::isa(), GruRows { x: gates, h: recurrent, hs, rows, keep, fill, units });
            }
            Gates::GruResetBefore { ref candidate } => {
                let isa = crate::cpu::isa();
                reset.clear();
                reset.resize(batch * units, 0.0);
                let hs = vars[self.h].as_slice_mut::<f32>()?;
                gru_reset_gates(isa, ResetRows { x: gates, h: recurrent, hs, reset, units });
                let x_h = Init::Rows { values: &gates[2 * units..], stride: 3 * units };
                product(reset, candidate, x_h, batch, rows)?;
                gru_finish(isa, GruRows { x: gates, h: recurrent, hs, rows, keep, fill, units });
            }
        }
        self.write_rows(vars, rows, row, batch, units)
    }

    /// The row of the output list this step writes, the list checked as
    /// `ListSetItem` checks it: its own length, its element shape taken
    /// from the first row written (while it holds no element), the row in
    /// range.
    fn output_row(&self, vars: &mut [Tensor], batch: usize, units: usize, t: usize) -> Result<usize, OpError> {
        let out = &mut vars[self.output];
        let row = self.write_row.unwrap_or(t);
        let &[length, ref element @ ..] = out.shape() else { return Err(shape_error("output list", out.shape())) };
        if row >= length {
            return Err(shape_error("output list", out.shape()));
        }
        if element != [batch, units] {
            if !element.contains(&0) {
                return Err(shape_error("output list", out.shape()));
            }
            // Zeros, in the buffer the last call left (no allocation once warm).
            let len = opset::ops::kernel::checked_len(&[length, batch, units])?;
            out.output_vec::<f32>(&[length, batch, units]).resize(len, 0.0);
        }
        Ok(row)
    }

    /// An LSTM's output and cell state, `[batch, units]` each.
    fn lstm_state<'v>(
        &self,
        vars: &'v mut [Tensor],
        c: usize,
        batch: usize,
        units: usize,
    ) -> Result<(&'v mut [f32], &'v mut [f32]), OpError> {
        if vars[c].shape() != [batch, units] {
            return Err(shape_error("cell state", vars[c].shape()));
        }
        let (hs, cs) = two_mut(vars, self.h, c)?;
        Ok((hs.as_slice_mut::<f32>()?, cs.as_slice_mut::<f32>()?))
    }

    /// Writes the step's `rows` to the output list (and to the variable
    /// carrying them, if any).
    fn write_rows(
        &self,
        vars: &mut [Tensor],
        rows: &[f32],
        row: usize,
        batch: usize,
        units: usize,
    ) -> Result<(), OpError> {
        vars[self.output].as_slice_mut::<f32>()?[row * batch * units..][..batch * units].copy_from_slice(rows);
        if let Some(v) = self.written {
            vars[v].output_vec::<f32>(&[batch, units]).extend_from_slice(rows);
        }
        Ok(())
    }

    /// The rest of an LSTM step run over the kept rows only (their gates
    /// computed in `kept`): their activations and new state, scattered back
    /// to their rows; the others keep their state and write `fill`.
    #[allow(clippy::too_many_arguments)]
    fn finish_kept_rows(
        &self,
        vars: &mut [Tensor],
        kept: &mut KeptRows,
        fill: &[f32],
        rows: &mut Vec<f32>,
        units: usize,
        batch: usize,
        t: usize,
    ) -> Result<(), OpError> {
        let Gates::Lstm { c } = self.gates else { return Err(shape_error("gates", &[])) };
        let row = self.output_row(vars, batch, units, t)?;
        rows.clear();
        rows.extend_from_slice(fill.get(..batch * units).ok_or_else(|| shape_error("masked value", &[fill.len()]))?);
        let (hs, cs) = self.lstm_state(vars, c, batch, units)?;
        let KeptRows { index, gates, h, c: kc, rows: krows } = kept;
        kc.clear();
        for &b in index.iter() {
            kc.extend_from_slice(&cs[b * units..(b + 1) * units]);
        }
        krows.clear();
        krows.resize(index.len() * units, 0.0);
        let whole = Rows { gates, cs: kc, hs: h, rows: krows, keep: &[], fill: &[], units };
        activate(crate::cpu::isa(), whole);
        for (k, &b) in index.iter().enumerate() {
            let (from, to) = (k * units..(k + 1) * units, b * units..(b + 1) * units);
            hs[to.clone()].copy_from_slice(&h[from.clone()]);
            cs[to.clone()].copy_from_slice(&kc[from.clone()]);
            rows[to].copy_from_slice(&krows[from]);
        }
        self.write_rows(vars, rows, row, batch, units)
    }
}

/// `out = init + rows of a @ w` (`out` resized to `batch` rows), `a`
/// holding `batch` rows of `w`'s depth.
fn product(a: &[f32], w: &Packed, init: Init<'_>, batch: usize, out: &mut Vec<f32>) -> Result<(), OpError> {
    let [depth, width] = w.dims();
    if a.len() != batch * depth {
        return Err(shape_error("step input", &[a.len()]));
    }
    if out.len() != batch * width {
        out.resize(batch * width, 0.0);
    }
    w.product(a, depth, batch, init, out);
    Ok(())
}

/// A GRU step's gates and state, batch row by batch row.
struct GruRows<'a> {
    /// `[B, 3U]` each: `x @ K + b_x` and `h @ R + b_h`, thirds `z, r, h`
    /// (`x`'s first two thirds are overwritten by the gates' activations).
    x: &'a mut [f32],
    h: &'a [f32],
    /// `[B, U]`: the output, updated in place.
    hs: &'a mut [f32],
    rows: &'a mut [f32],
    keep: &'a [bool],
    fill: &'a [f32],
    units: usize,
}

crate::cpu::multiversion! {
    /// The GRU's activations and new state, one copy per instruction set.
    fn activate_gru(rows: GruRows<'_>) = activate_gru_rows;
}

crate::cpu::multiversion! {
    /// TensorFlow 1's GRU gates (reset before), one copy per instruction set.
    fn gru_reset_gates(rows: ResetRows<'_>) = gru_reset_gates_rows;
}

crate::cpu::multiversion! {
    /// A GRU's candidate and new state, one copy per instruction set.
    fn gru_finish(rows: GruRows<'_>) = gru_finish_rows;
}

/// The Keras GRU step's arithmetic. Each activation runs as one long pass
/// over a contiguous buffer (so it vectorizes whatever the unit count);
/// the passes between are plain arithmetic per row.
#[inline(always)]
fn activate_gru_rows<const FUSED: bool, const WIDE: bool>(rows: GruRows<'_>) {
    let (units, width) = (rows.units, 3 * rows.units.max(1));
    update_and_reset::<FUSED>(rows.x, rows.h, units, width);
    // The candidate's pre-activation, `x_h + r (h @ R)_h`, gathered into
    // `rows`.
    for ((gx, gh), row) in
        rows.x.chunks_exact(width).zip(rows.h.chunks_exact(width)).zip(rows.rows.chunks_exact_mut(units.max(1)))
    {
        let (r, xh, hh) = (&gx[units..2 * units], &gx[2 * units..], &gh[2 * units..]);
        for (((o, &r), &xh), &hh) in row.iter_mut().zip(r).zip(xh).zip(hh) {
            *o = xh + r * hh;
        }
    }
    gru_finish_rows::<FUSED, WIDE>(rows);
}

/// `z` and `r` of each row of `x` (`[B, width]`, the input's part), their
/// previous output's part (`h`, rows of `h_width`) added in place, then one
/// sigmoid pass over each row's first two thirds.
#[inline(always)]
fn update_and_reset<const FUSED: bool>(x: &mut [f32], h: &[f32], units: usize, h_width: usize) {
    for (gx, gh) in x.chunks_exact_mut(3 * units.max(1)).zip(h.chunks_exact(h_width.max(1))) {
        gx[..2 * units].iter_mut().zip(&gh[..2 * units]).for_each(|(a, b)| *a += b);
        gx[..2 * units].iter_mut().for_each(|v| *v = sigmoid::<FUSED>(*v));
    }
}

/// A TensorFlow 1 GRU step's gates and reset state.
struct ResetRows<'a> {
    /// `[B, 3U]`: `x @ K + b` (its first two thirds become `z, r`).
    x: &'a mut [f32],
    /// `[B, 2U]`: `h @ R` for `z, r`.
    h: &'a [f32],
    /// `[B, U]`: the previous output.
    hs: &'a [f32],
    /// `[B, U]`: `r h`.
    reset: &'a mut [f32],
    units: usize,
}

/// `z, r` (sigmoid) and `r h` into `reset`, for the candidate's product
/// `x_h + reset @ candidate`.
#[inline(always)]
fn gru_reset_gates_rows<const FUSED: bool, const WIDE: bool>(ResetRows { x, h, hs, reset, units }: ResetRows<'_>) {
    update_and_reset::<FUSED>(x, h, units, 2 * units);
    let per_row = x.chunks_exact(3 * units.max(1)).zip(hs.chunks_exact(units.max(1)));
    for ((gx, state), rh) in per_row.zip(reset.chunks_exact_mut(units.max(1))) {
        for ((o, &r), &s) in rh.iter_mut().zip(&gx[units..2 * units]).zip(state) {
            *o = r * s;
        }
    }
}

/// The candidate `tanh(rows)` in one pass, then each kept row's new state
/// `z h + (1 - z) candidate` (masked rows write `fill`, their state kept).
#[inline(always)]
fn gru_finish_rows<const FUSED: bool, const WIDE: bool>(GruRows { x, hs, rows, keep, fill, units, .. }: GruRows<'_>) {
    rows.iter_mut().for_each(|v| *v = tanh::<FUSED>(*v));
    for (b, ((gx, state), row)) in x
        .chunks_exact(3 * units.max(1))
        .zip(hs.chunks_exact_mut(units.max(1)))
        .zip(rows.chunks_exact_mut(units.max(1)))
        .enumerate()
    {
        if !keep.get(b).is_none_or(|&k| k) {
            row.copy_from_slice(&fill[b * units..(b + 1) * units]);
            continue;
        }
        for ((s, o), &z) in state.iter_mut().zip(row.iter_mut()).zip(&gx[..units]) {
            *s = z * *s + (1.0 - z) * *o;
            *o = *s;
        }
    }
}

/// A step's gates and state, batch row by batch row.
struct Rows<'a> {
    /// `[B, 4U]`, gates `i, f, c, o` (overwritten by their activations).
    gates: &'a mut [f32],
    /// `[B, U]` each: the cell and the output, updated in place.
    cs: &'a mut [f32],
    hs: &'a mut [f32],
    /// `[B, U]`: what the step writes to the output list.
    rows: &'a mut [f32],
    /// Which batch rows the mask keeps (empty: all), and what the others write.
    keep: &'a [bool],
    fill: &'a [f32],
    units: usize,
}

crate::cpu::multiversion! {
    /// The LSTM's activations and new state, one copy per instruction set.
    fn activate(rows: Rows<'_>) = activate_rows;
}

/// The LSTM step's arithmetic (inlined into each instruction set's copy).
/// Each activation runs as one long pass over a contiguous buffer (so it
/// vectorizes whatever the unit count); the passes between are plain
/// arithmetic per row.
#[inline(always)]
fn activate_rows<const FUSED: bool, const WIDE: bool>(Rows { gates, cs, hs, rows, keep, fill, units }: Rows<'_>) {
    let kept = |b: usize| keep.get(b).is_none_or(|&k| k);
    // Every gate through the sigmoid in one pass (the candidate's columns
    // were doubled at load: its tanh is `2 s - 1`).
    gates.iter_mut().for_each(|z| *z = sigmoid::<FUSED>(*z));
    for (b, (z, c)) in gates.chunks_exact(4 * units.max(1)).zip(cs.chunks_exact_mut(units.max(1))).enumerate() {
        if kept(b) {
            let (i, rest) = z.split_at(units);
            let (f, rest) = rest.split_at(units);
            let g = &rest[..units];
            for (((c, &i), &f), &g) in c.iter_mut().zip(i).zip(f).zip(g) {
                *c = f * *c + i * (2.0 * g - 1.0);
            }
        }
    }
    // `tanh c` of every row in one pass, then each kept row's output.
    rows.iter_mut().zip(cs.iter()).for_each(|(o, &c)| *o = tanh::<FUSED>(c));
    for (b, ((z, h), row)) in gates
        .chunks_exact(4 * units.max(1))
        .zip(hs.chunks_exact_mut(units.max(1)))
        .zip(rows.chunks_exact_mut(units.max(1)))
        .enumerate()
    {
        if !kept(b) {
            row.copy_from_slice(&fill[b * units..(b + 1) * units]);
            continue;
        }
        for ((h, o), &gate) in h.iter_mut().zip(row.iter_mut()).zip(&z[3 * units..]) {
            *h = gate * *o;
            *o = *h;
        }
    }
}

/// Two distinct variables, mutably.
fn two_mut(vars: &mut [Tensor], a: usize, b: usize) -> Result<(&mut Tensor, &mut Tensor), OpError> {
    if a == b || a.max(b) >= vars.len() {
        return Err(OpError::shape("the state variables are not two".to_owned()));
    }
    let (lo, hi) = vars.split_at_mut(a.max(b));
    Ok(if a < b { (&mut lo[a], &mut hi[0]) } else { (&mut hi[0], &mut lo[b]) })
}

/// The step index held by a scalar.
fn index(t: &Tensor) -> Result<usize, OpError> {
    let v = match t.dtype() {
        DataType::I32 => t.as_slice::<i32>()?.first().map(|&v| i64::from(v)),
        _ => t.as_slice::<i64>()?.first().copied(),
    };
    v.and_then(|v| usize::try_from(v).ok()).ok_or_else(|| shape_error("step index", t.shape()))
}

fn shape_error(what: &str, shape: &[usize]) -> OpError {
    OpError::shape(format!("fused LSTM step: unexpected {what} of shape {shape:?}"))
}

/// The most elements a probe value may have: recognition is skipped for
/// loops whose declared shapes are larger (a hostile artifact must not make
/// loading allocate without bound).
const PROBE_LIMIT: usize = 1 << 16;

/// The element count of `shape` if it is at most [`PROBE_LIMIT`].
fn bounded(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d)).filter(|&n| n <= PROBE_LIMIT)
}

/// Deterministic probe values of `shape`, in about [-1, 1].
fn probe(shape: &[usize], seed: usize) -> Option<Tensor> {
    let n = bounded(shape)?;
    let v = (0..n).map(|k| (((k + 1) * 7919 + seed * 104_729) % 2003) as f32 / 1001.0 - 1.0).collect();
    Tensor::from_vec(shape.to_vec(), v).ok()
}

/// Zeros of a declared type, unknown dims as 1.
fn zeros(ty: &opset::TensorType) -> Option<Tensor> {
    let dims: Vec<usize> = ty.dims().iter().map(|d| d.unwrap_or(1)).collect();
    let n = bounded(&dims)?;
    match ty.dtype {
        DataType::F32 => Tensor::from_vec(dims, vec![0.0f32; n]).ok(),
        DataType::I32 => Tensor::from_vec(dims, vec![0i32; n]).ok(),
        DataType::I64 => Tensor::from_vec(dims, vec![0i64; n]).ok(),
        DataType::Bool => Tensor::from_vec(dims, vec![false; n]).ok(),
        DataType::String => None,
    }
}

/// Whether two f32 values agree to 1e-5 (relative).
fn close(reference: Option<&Tensor>, fused: &Tensor) -> bool {
    let (Some(r), Ok(f)) = (reference, fused.as_slice::<f32>()) else { return false };
    let Ok(r_values) = r.as_slice::<f32>() else { return false };
    r.shape() == fused.shape() && r_values.iter().zip(f).all(|(a, b)| (a - b).abs() <= 1e-5 * a.abs().max(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::Isa;

    fn values(n: usize, seed: usize) -> Vec<f32> {
        (0..n).map(|k| (((k + 1) * 7919 + seed * 104_729) % 2003) as f32 / 300.0 - 3.3).collect()
    }

    /// Each instruction set's LSTM and GRU steps (those this CPU has)
    /// against the formulas with libm's functions, a masked row included.
    #[test]
    fn every_instruction_set_computes_the_cells() {
        let (batch, units) = (3, 13);
        let keep = [true, false, true];
        let fill = values(batch * units, 9);
        let sig = |x: f32| 1.0 / (1.0 + (-x).exp());
        let near = |a: &[f32], b: &[f32], what: &str| {
            for (k, (a, b)) in a.iter().zip(b).enumerate() {
                assert!((a - b).abs() <= 2e-6 * b.abs().max(1.0), "{what}[{k}]: {a} vs {b}");
            }
        };
        for isa in Isa::ALL.into_iter().filter(|isa| isa.supported()) {
            // LSTM, the candidate's columns doubled as at load.
            let mut gates = values(batch * 4 * units, 1);
            let raw = gates.clone();
            let (c0, h0) = (values(batch * units, 2), values(batch * units, 3));
            let (mut cs, mut hs, mut rows) = (c0.clone(), h0.clone(), vec![0.0; batch * units]);
            for row in gates.chunks_exact_mut(4 * units) {
                row[2 * units..3 * units].iter_mut().for_each(|g| *g *= 2.0);
            }
            activate(
                isa,
                Rows { gates: &mut gates, cs: &mut cs, hs: &mut hs, rows: &mut rows, keep: &keep, fill: &fill, units },
            );
            let (mut want_c, mut want_h, mut want_rows) = (c0.clone(), h0.clone(), fill.clone());
            for b in (0..batch).filter(|&b| keep[b]) {
                let z = &raw[b * 4 * units..];
                for u in 0..units {
                    let at = b * units + u;
                    want_c[at] = sig(z[units + u]) * c0[at] + sig(z[u]) * z[2 * units + u].tanh();
                    want_h[at] = sig(z[3 * units + u]) * want_c[at].tanh();
                    want_rows[at] = want_h[at];
                }
            }
            near(&cs, &want_c, &format!("{isa} lstm c"));
            near(&hs, &want_h, &format!("{isa} lstm h"));
            near(&rows, &want_rows, &format!("{isa} lstm rows"));
            // GRU (`reset_after`).
            let (mut x, h) = (values(batch * 3 * units, 4), values(batch * 3 * units, 5));
            let raw = x.clone();
            let (mut hs, mut rows) = (h0.clone(), vec![0.0; batch * units]);
            activate_gru(
                isa,
                GruRows { x: &mut x, h: &h, hs: &mut hs, rows: &mut rows, keep: &keep, fill: &fill, units },
            );
            let (mut want_h, mut want_rows) = (h0.clone(), fill.clone());
            for b in (0..batch).filter(|&b| keep[b]) {
                let (gx, gh) = (&raw[b * 3 * units..], &h[b * 3 * units..]);
                for u in 0..units {
                    let at = b * units + u;
                    let z = sig(gx[u] + gh[u]);
                    let r = sig(gx[units + u] + gh[units + u]);
                    let candidate = (gx[2 * units + u] + r * gh[2 * units + u]).tanh();
                    want_h[at] = z * h0[at] + (1.0 - z) * candidate;
                    want_rows[at] = want_h[at];
                }
            }
            near(&hs, &want_h, &format!("{isa} gru h"));
            near(&rows, &want_rows, &format!("{isa} gru rows"));
        }
    }
}
