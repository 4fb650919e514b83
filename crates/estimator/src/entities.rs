//! Entity-level evaluation of a tagger, as CoNLL's `conlleval` scores it:
//! the entities (chunks) of a tag sequence in the IOB1, IOB2 or IOBES
//! scheme, and precision, recall and F1 over exact entity spans.

use std::collections::HashSet;

use opset::Tensor;
use opset::ops::kernel::indices;

use crate::builder::Output;
use crate::{Error, Result};

/// One entity: its type and the steps it covers, `start..end`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Span {
    /// The entity's type (`PER` of `B-PER`).
    pub kind: String,
    /// Its first step.
    pub start: usize,
    /// One past its last step.
    pub end: usize,
}

/// A tag's prefix (`B`, `I`, `E`, `S`, or `O`) and type (`PER`; empty for `O`).
fn parts(tag: &str) -> (&str, &str) {
    match tag.split_once('-') {
        Some((prefix, kind)) => (prefix, kind),
        None if tag == "O" || tag.is_empty() => ("O", ""),
        // A bare type is an inside tag of that type, as conlleval reads it.
        None => ("I", tag),
    }
}

/// Whether an entity ends between `prev` and `tag` (conlleval's `endOfChunk`).
fn ends(prev: (&str, &str), tag: (&str, &str)) -> bool {
    let ((p, pk), (t, k)) = (prev, tag);
    matches!(p, "E" | "S")
        || (matches!(p, "B" | "I") && (matches!(t, "B" | "S" | "O") || pk != k))
        || (p != "O" && pk != k)
}

/// Whether an entity starts at `tag` after `prev` (conlleval's `startOfChunk`).
fn starts(prev: (&str, &str), tag: (&str, &str)) -> bool {
    let ((p, pk), (t, k)) = (prev, tag);
    matches!(t, "B" | "S") || (matches!(p, "E" | "S" | "O") && matches!(t, "E" | "I")) || (t != "O" && pk != k)
}

/// The entities of one tag sequence, in order, as conlleval finds them:
/// an entity starts at a `B-` or `S-` tag, or at an `I-`/`E-` tag whose
/// type differs from the previous tag's (IOB1); it ends before an `O`, a
/// `B-`, an `S-` or a change of type, and after an `E-` or `S-` tag.
///
/// ```
/// use estimator::entities::{Span, spans};
///
/// let found = spans(&["B-PER", "I-PER", "O", "B-LOC", "B-LOC", "I-ORG"]);
/// let kinds: Vec<(&str, usize, usize)> = found.iter().map(|s| (s.kind.as_str(), s.start, s.end)).collect();
/// assert_eq!(kinds, [("PER", 0, 2), ("LOC", 3, 4), ("LOC", 4, 5), ("ORG", 5, 6)]);
/// ```
pub fn spans(tags: &[&str]) -> Vec<Span> {
    let mut found = Vec::new();
    let mut open: Option<(usize, &str)> = None;
    let mut prev = ("O", "");
    for (i, tag) in tags.iter().enumerate() {
        let tag = parts(tag);
        if let Some((start, kind)) = open.filter(|_| ends(prev, tag)) {
            found.push(Span { kind: kind.to_owned(), start, end: i });
            open = None;
        }
        if starts(prev, tag) {
            open = Some((i, tag.1));
        }
        prev = tag;
    }
    if let Some((start, kind)) = open {
        found.push(Span { kind: kind.to_owned(), start, end: tags.len() });
    }
    found
}

/// Counts of entities over an evaluation: found by the model, in the
/// labels, and found exactly (same type, same span).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EntityCounts {
    /// Entities the model predicted.
    pub predicted: usize,
    /// Entities in the labels.
    pub gold: usize,
    /// Predicted entities that are in the labels.
    pub correct: usize,
}

impl EntityCounts {
    /// Adds one sentence's entities.
    pub fn add(&mut self, predicted: &[&str], gold: &[&str]) {
        let (predicted, gold) = (spans(predicted), spans(gold));
        let gold_set: HashSet<&Span> = gold.iter().collect();
        self.correct += predicted.iter().filter(|s| gold_set.contains(s)).count();
        self.predicted += predicted.len();
        self.gold += gold.len();
    }

    /// The share of predicted entities that are correct (0 when none was predicted).
    pub fn precision(&self) -> f32 {
        ratio(self.correct, self.predicted)
    }

    /// The share of labelled entities found (0 when there is none).
    pub fn recall(&self) -> f32 {
        ratio(self.correct, self.gold)
    }

    /// The harmonic mean of precision and recall (0 when both are).
    pub fn f1(&self) -> f32 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) }
    }
}

fn ratio(a: usize, b: usize) -> f32 {
    if b == 0 { 0.0 } else { a as f32 / b as f32 }
}

/// What `evaluate` reads to score entities: the predicted and labelled tag
/// ids (`[batch, time]`), the sentences' lengths (`[batch]`) and the tags'
/// names by id. `evaluate` reports `precision`, `recall` and `f1` over all
/// the sentences (not averaged per batch), as `conlleval` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityMetrics {
    /// The predicted tag ids.
    pub predicted: Output,
    /// The labelled tag ids.
    pub labels: Output,
    /// Each sentence's length.
    pub lengths: Output,
    /// The name of each tag id (`O`, `B-PER`...).
    pub tags: Vec<String>,
}

impl EntityMetrics {
    /// The graph outputs a batch is scored from.
    pub(crate) fn outputs(&self) -> [Output; 3] {
        [self.predicted, self.labels, self.lengths]
    }

    /// Adds a batch's entities to `counts`, from the values of [`EntityMetrics::outputs`].
    pub(crate) fn count(&self, [predicted, labels, lengths]: [&Tensor; 3], counts: &mut EntityCounts) -> Result<()> {
        let ids = |t: &Tensor, what: &str| {
            indices(t, 0).map_err(|e| Error::Input { reason: format!("entity metrics: the {what}: {e}") })
        };
        let (p, l, n) = (ids(predicted, "predicted tags")?, ids(labels, "labelled tags")?, ids(lengths, "lengths")?);
        let width = predicted.shape().get(1).copied().unwrap_or(0);
        if predicted.shape() != labels.shape() || predicted.shape() != [n.len(), width] {
            return Err(Error::Input {
                reason: format!(
                    "entity metrics need predicted and labelled tags of one shape [batch, time] and lengths [batch], \
                     got {:?}, {:?} and {:?}",
                    predicted.shape(),
                    labels.shape(),
                    lengths.shape()
                ),
            });
        }
        let name = |id: i64| {
            usize::try_from(id).ok().and_then(|i| self.tags.get(i)).map(String::as_str).ok_or_else(|| Error::Input {
                reason: format!("tag id {id}: the entity metrics name {} tags", self.tags.len()),
            })
        };
        for (row, &len) in n.iter().enumerate() {
            let len = usize::try_from(len).unwrap_or(0).min(width);
            let at = row * width;
            let names = |ids: &[i64]| ids[at..at + len].iter().map(|&id| name(id)).collect::<Result<Vec<&str>>>();
            counts.add(&names(&p)?, &names(&l)?);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(tags: &[&str]) -> Vec<(String, usize, usize)> {
        spans(tags).into_iter().map(|s| (s.kind, s.start, s.end)).collect()
    }

    fn span(kind: &str, start: usize, end: usize) -> (String, usize, usize) {
        (kind.to_owned(), start, end)
    }

    #[test]
    fn reads_iob2_iob1_and_iobes() {
        // IOB2: every entity opens with B-.
        assert_eq!(found(&["B-PER", "I-PER", "O", "B-LOC"]), [span("PER", 0, 2), span("LOC", 3, 4)]);
        // IOB1: I- opens an entity after O or another type; B- only splits two of one type.
        assert_eq!(
            found(&["I-PER", "I-PER", "I-LOC", "B-LOC", "O", "I-ORG"]),
            [span("PER", 0, 2), span("LOC", 2, 3), span("LOC", 3, 4), span("ORG", 5, 6)]
        );
        // IOBES: E- closes, S- is one step.
        assert_eq!(
            found(&["B-ORG", "I-ORG", "E-ORG", "S-PER", "S-PER", "O", "B-MISC", "E-MISC"]),
            [span("ORG", 0, 3), span("PER", 3, 4), span("PER", 4, 5), span("MISC", 6, 8)]
        );
        assert!(found(&["O", "O"]).is_empty());
        assert!(found(&[]).is_empty());
    }

    #[test]
    fn scores_exact_spans_only() {
        let mut counts = EntityCounts::default();
        // Gold: PER 0..2, LOC 3..4. Predicted: PER 0..1 (wrong span), LOC 3..4 (right), ORG 5..6 (spurious).
        counts.add(&["B-PER", "O", "O", "B-LOC", "O", "B-ORG"], &["B-PER", "I-PER", "O", "B-LOC", "O", "O"]);
        assert_eq!(counts, EntityCounts { predicted: 3, gold: 2, correct: 1 });
        assert!((counts.precision() - 1.0 / 3.0).abs() < 1e-6);
        assert!((counts.recall() - 0.5).abs() < 1e-6);
        assert!((counts.f1() - 0.4).abs() < 1e-6);
        assert_eq!(EntityCounts::default().f1(), 0.0);
    }

    #[test]
    fn counts_a_batch_within_each_length() {
        let mut g = crate::GraphBuilder::new();
        let x = g.placeholder("ids", opset::DataType::I32, opset::Shape(vec![None, None])).unwrap();
        let m = EntityMetrics {
            predicted: x,
            labels: x,
            lengths: x,
            tags: vec!["O".into(), "B-PER".into(), "I-PER".into()],
        };
        let ids = |v: Vec<i32>| Tensor::from_vec(vec![2, 3], v).unwrap();
        let (p, l) = (ids(vec![1, 2, 1, 1, 0, 0]), ids(vec![1, 2, 0, 1, 0, 2]));
        let lengths = Tensor::from_vec(vec![2], vec![2i64, 2]).unwrap();
        let mut counts = EntityCounts::default();
        m.count([&p, &l, &lengths], &mut counts).unwrap();
        // Past each length nothing counts (row 0's third B-PER, row 1's I-PER).
        assert_eq!(counts, EntityCounts { predicted: 2, gold: 2, correct: 2 });
        let bad = Tensor::from_vec(vec![2, 3], vec![7i32, 0, 0, 0, 0, 0]).unwrap();
        assert!(m.count([&bad, &l, &lengths], &mut counts).is_err());
        assert!(m.count([&p, &l, &Tensor::from_vec(vec![1], vec![2i64]).unwrap()], &mut counts).is_err());
    }
}
