//! `ReverseSequence`.

use crate::graph::{Attr, Node};
use crate::ops::array::slicing::row_major_strides;
use crate::ops::kernel::{any_dtype, indices, slice};
use crate::ops::rule::unify;
use crate::ops::{Arity, OpDef, OpError, TensorType, normalize_axis};
use crate::{Assets, DataType, Result, Tensor};

/// `x` (any dtype) with, for each index `i` along `batch_axis`, its first
/// `lengths[i]` elements along `seq_axis` reversed and the rest left in
/// place: how a backward recurrent layer reads each sequence of a padded
/// batch within its own length (TensorFlow's `ReverseSequence`,
/// `tf.reverse_sequence`).
///
/// Inputs: `x`, and `lengths` (i32 or i64 `[x.shape[batch_axis]]`, each in
/// `0..=x.shape[seq_axis]`). Attributes: `seq_axis` and `batch_axis` (ints,
/// distinct, negative from the end; `batch_axis` optional, default 0).
///
/// Gradient: `g` reversed the same way (the op is its own inverse); none to
/// `lengths`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReverseSequence {
    /// The axis along which each sequence is reversed.
    pub seq_axis: i64,
    /// The axis that indexes the sequences (and `lengths`).
    pub batch_axis: i64,
}

impl OpDef for ReverseSequence {
    const NAME: &'static str = "ReverseSequence";
    const SINCE: u32 = 4;
    const INPUTS: Arity = Arity::Exactly(2);

    fn parse(node: &Node, _: &Assets) -> Result<ReverseSequence> {
        let batch_axis = if node.attrs.contains_key("batch_axis") { node.attr_int("batch_axis")? } else { 0 };
        Ok(ReverseSequence { seq_axis: node.attr_int("seq_axis")?, batch_axis })
    }

    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        vec![("seq_axis", Attr::Int(self.seq_axis)), ("batch_axis", Attr::Int(self.batch_axis))]
    }

    fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, OpError> {
        let (x, lengths) = (&inputs[0], &inputs[1]);
        let (_, batch) = self.axes(x.dims().len())?;
        if !matches!(lengths.dtype, DataType::I32 | DataType::I64) {
            return Err(OpError::Dtype { input: 1, expected: "i32 or i64", got: lengths.dtype });
        }
        match lengths.dims() {
            [n] if unify(*n, x.dims()[batch]).is_some() => Ok(x.clone()),
            _ => Err(OpError::shape(format!(
                "lengths {} for an input {} batched along axis {batch}",
                lengths.shape, x.shape
            ))),
        }
    }

    fn eval(&self, inputs: &[&Tensor], out: &mut Tensor) -> Result<(), OpError> {
        let (x, lengths) = (inputs[0], indices(inputs[1], 1)?);
        let blocks = self.blocks(x.shape(), &lengths)?;
        let inner = blocks.inner;
        any_dtype!(x.dtype(), T => {
            let src = slice::<T>(x)?;
            let dst = out.output_vec::<T>(x.shape());
            for block in blocks {
                dst.extend_from_slice(&src[block * inner..(block + 1) * inner]);
            }
            Ok(())
        })
    }

    #[cfg(feature = "grad")]
    fn grad(&self, x: &[&Tensor], _y: &Tensor, g: &Tensor) -> crate::ops::grad::Grads {
        Ok(vec![Some(self.run(&[g, x[1]])?), None])
    }
}

impl ReverseSequence {
    /// The (sequence, batch) axes for a tensor of `rank` dims.
    fn axes(&self, rank: usize) -> Result<(usize, usize), OpError> {
        let (seq, batch) = (normalize_axis(self.seq_axis, rank)?, normalize_axis(self.batch_axis, rank)?);
        if seq == batch {
            return Err(OpError::Invalid {
                what: "seq_axis",
                reason: format!("{} and batch_axis {} are the same axis", self.seq_axis, self.batch_axis),
            });
        }
        Ok((seq, batch))
    }

    /// The input block each output block of `shape` reads, a block being
    /// the elements past both axes (contiguous, copied whole).
    fn blocks(&self, shape: &[usize], lengths: &[i64]) -> Result<Blocks, OpError> {
        let (seq, batch) = self.axes(shape.len())?;
        if lengths.len() != shape[batch] {
            return Err(OpError::shape(format!("{} lengths for {} sequences", lengths.len(), shape[batch])));
        }
        let lengths = lengths
            .iter()
            .map(|&l| usize::try_from(l).ok().filter(|&l| l <= shape[seq]))
            .collect::<Option<Vec<usize>>>()
            .ok_or_else(|| {
                let bad = lengths.iter().find(|&&l| usize::try_from(l).is_ok_and(|l| l > shape[seq]) || l < 0);
                OpError::Invalid {
                    what: "lengths",
                    reason: format!(
                        "a length of {} for sequences of {} elements",
                        bad.copied().unwrap_or(-1),
                        shape[seq]
                    ),
                }
            })?;
        let last = seq.max(batch);
        let outer = &shape[..=last];
        let count = if shape.contains(&0) { 0 } else { outer.iter().product() };
        Ok(Blocks {
            strides: row_major_strides(outer).to_vec(),
            dims: outer.to_vec(),
            index: vec![0; outer.len()],
            inner: shape[last + 1..].iter().product(),
            lengths,
            seq,
            batch,
            next: 0,
            count,
        })
    }
}

/// The blocks a [`ReverseSequence`] reads, in output order: an odometer
/// over the dims up to both axes.
struct Blocks {
    dims: Vec<usize>,
    strides: Vec<usize>,
    index: Vec<usize>,
    /// Elements per block.
    inner: usize,
    lengths: Vec<usize>,
    seq: usize,
    batch: usize,
    next: usize,
    count: usize,
}

impl Iterator for Blocks {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        if self.next >= self.count {
            return None;
        }
        let (block, s, len) = (self.next, self.index[self.seq], self.lengths[self.index[self.batch]]);
        let source =
            if s < len { block - s * self.strides[self.seq] + (len - 1 - s) * self.strides[self.seq] } else { block };
        self.next += 1;
        for d in (0..self.dims.len()).rev() {
            self.index[d] += 1;
            if self.index[d] < self.dims[d] {
                break;
            }
            self.index[d] = 0;
        }
        Some(source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Op;
    use ndarray::array;

    #[test]
    fn reverses_each_sequence_within_its_length() {
        // tf.reverse_sequence([[1, 2, 3, 4], [5, 6, 7, 8]], [3, 0], seq_axis=1, batch_axis=0)
        let x = Tensor::from(array![[1i64, 2, 3, 4], [5, 6, 7, 8]]);
        let op = ReverseSequence { seq_axis: 1, batch_axis: 0 };
        let y = op.run(&[&x, &Tensor::from(array![3i32, 0])]).unwrap();
        assert_eq!(y, Tensor::from(array![[3i64, 2, 1, 4], [5, 6, 7, 8]]));
    }

    #[test]
    fn time_major_batches_too() {
        // [time, batch, features] with the batch on axis 1, as `dynamic_rnn(time_major=True)`.
        let x = Tensor::from(array![[["a"], ["d"]], [["b"], ["e"]], [["c"], ["f"]]].mapv(String::from));
        let op = ReverseSequence { seq_axis: 0, batch_axis: 1 };
        let y = op.run(&[&x, &Tensor::from(array![2i64, 3])]).unwrap();
        assert_eq!(y, Tensor::from(array![[["b"], ["f"]], [["a"], ["e"]], [["c"], ["d"]]].mapv(String::from)));
    }

    #[test]
    fn attributes_round_trip() {
        let op = ReverseSequence { seq_axis: -1, batch_axis: 2 };
        let node = Op::from(op).to_node("r", vec!["x".into(), "n".into()]);
        assert_eq!(ReverseSequence::parse(&node, &Assets::new()).unwrap(), op);
    }

    #[test]
    fn bad_lengths_and_axes_are_refused() {
        let x = Tensor::from(array![[1.0f32, 2.0], [3.0, 4.0]]);
        let op = ReverseSequence { seq_axis: 1, batch_axis: 0 };
        let err = op.run(&[&x, &Tensor::from(array![3i64, 1])]).unwrap_err().to_string();
        assert!(err.contains("a length of 3 for sequences of 2 elements"), "{err}");
        let err = op.run(&[&x, &Tensor::from(array![-1i64, 1])]).unwrap_err().to_string();
        assert!(err.contains("a length of -1"), "{err}");
        let err = op.run(&[&x, &Tensor::from(array![1i64])]).unwrap_err().to_string();
        assert!(err.contains("1 lengths for 2 sequences"), "{err}");
        let same = ReverseSequence { seq_axis: 0, batch_axis: 0 };
        assert!(matches!(same.run(&[&x, &Tensor::from(array![1i64, 1])]), Err(OpError::Invalid { .. })));
        let types = [TensorType::new(DataType::F32, vec![None, Some(4)]), TensorType::new(DataType::F32, vec![None])];
        assert!(matches!(op.infer(&types), Err(OpError::Dtype { input: 1, .. })));
    }

    #[cfg(feature = "grad")]
    #[test]
    fn gradient_matches_finite_differences() {
        use crate::ops::grad::{check_gradient, sample};
        check_gradient(
            &ReverseSequence { seq_axis: 1, batch_axis: 0 },
            &[sample(&[3, 4, 2], 0), Tensor::from(array![4i64, 0, 2])],
        );
    }
}
