//! The input pipeline: a lazily evaluated `Dataset`, as `tf.data` builds
//! one, that streams batches without materialising the data.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use opset::Tensor;
use opset::ops::OpDef;
use opset::ops::array::Pad;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

use crate::spec::Features;
use crate::{Error, Result};

type Iter<T> = Box<dyn Iterator<Item = Result<T>> + Send>;
type Source<T> = Arc<dyn Fn() -> Iter<T> + Send + Sync>;

/// A re-iterable stream of elements: each pass calls the source again (as
/// a `tf.data` generator does per epoch), so nothing is held in memory but
/// the current batch and, for `shuffle`, its buffer.
///
/// ```
/// use estimator::{Dataset, Example};
/// use ndarray::array;
///
/// // The write-up's training data: ([n, n], [2n]) for n in 0..100, batch 20, repeat 2.
/// let data = Dataset::from_generator(|| {
///     (0..100).map(|n| Example::new(array![n as f32, n as f32], array![2.0 * n as f32]))
/// })
/// .batch(20)
/// .repeat(2);
/// let batches: Vec<Example> = data.iter().collect::<Result<_, _>>()?;
/// assert_eq!(batches.len(), 10);
/// assert_eq!(batches[0].labels.as_ref().unwrap().shape(), &[20, 1]);
/// # Ok::<(), estimator::Error>(())
/// ```
pub struct Dataset<T> {
    source: Source<T>,
    /// Whether the elements were batched by [`Dataset::padded_batch`]: their
    /// dims past the batch's vary from one batch to the next.
    padded: bool,
}

impl<T> Clone for Dataset<T> {
    fn clone(&self) -> Dataset<T> {
        Dataset { source: Arc::clone(&self.source), padded: self.padded }
    }
}

impl<T: Send + 'static> Dataset<T> {
    /// Elements from a generator function, called once per pass.
    pub fn from_generator<I, F>(generator: F) -> Dataset<T>
    where
        F: Fn() -> I + Send + Sync + 'static,
        I: IntoIterator<Item = T>,
        I::IntoIter: Send + 'static,
    {
        Dataset { source: Arc::new(move || Box::new(generator().into_iter().map(Ok))), padded: false }
    }

    /// Elements from a vector (cloned on each pass).
    pub fn from_vec(items: Vec<T>) -> Dataset<T>
    where
        T: Clone + Sync,
    {
        let items = Arc::new(items);
        Dataset::from_generator(move || {
            let items = Arc::clone(&items);
            (0..items.len()).map(move |i| items[i].clone())
        })
    }

    /// One pass over the elements.
    pub fn iter(&self) -> Iter<T> {
        (self.source)()
    }

    /// Each element transformed by `f`.
    pub fn map<U: Send + 'static>(self, f: impl Fn(T) -> U + Send + Sync + 'static) -> Dataset<U> {
        let f = Arc::new(f);
        let source = self.source;
        Dataset {
            source: Arc::new(move || {
                let f = Arc::clone(&f);
                Box::new(source().map(move |r| r.map(|t| f(t))))
            }),
            padded: self.padded,
        }
    }

    /// The elements `count` times over.
    pub fn repeat(self, count: usize) -> Dataset<T> {
        let source = self.source;
        Dataset {
            source: Arc::new(move || {
                let source = Arc::clone(&source);
                Box::new((0..count).flat_map(move |_| source()))
            }),
            padded: self.padded,
        }
    }

    /// The first `n` elements.
    pub fn take(self, n: usize) -> Dataset<T> {
        let source = self.source;
        Dataset { source: Arc::new(move || Box::new(source().take(n))), padded: self.padded }
    }

    /// Elements in random order through a buffer of `buffer_size`, as
    /// `tf.data.Dataset.shuffle`: the buffer is filled, then each output is
    /// a random buffered element replaced by the next input. Reproducible
    /// from `seed`, and reshuffled on each pass.
    pub fn shuffle(self, buffer_size: usize, seed: u64) -> Dataset<T> {
        let source = self.source;
        let pass = Arc::new(AtomicU64::new(0));
        Dataset {
            source: Arc::new(move || {
                let rng = ChaCha8Rng::seed_from_u64(seed.wrapping_add(pass.fetch_add(1, Ordering::Relaxed)));
                Box::new(Shuffle {
                    input: source(),
                    buffer: Vec::with_capacity(buffer_size.max(1)),
                    size: buffer_size.max(1),
                    rng,
                })
            }),
            padded: self.padded,
        }
    }
}

impl<T: Stack + Send + 'static> Dataset<T> {
    /// Consecutive elements stacked into batches of `size` (the last may be
    /// smaller), as `tf.data.Dataset.batch`.
    pub fn batch(self, size: usize) -> Dataset<T> {
        self.batch_with(size, T::stack)
    }

    /// Batches of `size` made by `stack`.
    fn batch_with(self, size: usize, stack: fn(Vec<T>) -> Result<T>) -> Dataset<T> {
        let source = self.source;
        let size = size.max(1);
        Dataset {
            source: Arc::new(move || {
                let mut input = source();
                Box::new(std::iter::from_fn(move || {
                    let mut items = Vec::with_capacity(size);
                    for item in input.by_ref().take(size) {
                        match item {
                            Ok(item) => items.push(item),
                            Err(e) => return Some(Err(e)),
                        }
                    }
                    (!items.is_empty()).then(|| stack(items))
                }))
            }),
            padded: self.padded,
        }
    }
}

impl<T: Stack + Send + 'static> Dataset<T> {
    /// Consecutive elements stacked into batches of `size` (the last may be
    /// smaller), each tensor first padded at the end of every dim to the
    /// batch's largest (zeros, `""` or false), as
    /// `tf.data.Dataset.padded_batch(size)`: sentences of different lengths
    /// in one batch, padded to its longest.
    pub fn padded_batch(self, size: usize) -> Dataset<T> {
        Dataset { padded: true, ..self.batch_with(size, T::stack_padded) }
    }

    /// Whether the batches are padded ([`Dataset::padded_batch`]): a model
    /// built on them sees every dim but the batch's as unknown, since each
    /// batch has its own.
    pub fn is_padded(&self) -> bool {
        self.padded
    }
}

struct Shuffle<T> {
    input: Iter<T>,
    buffer: Vec<T>,
    size: usize,
    rng: ChaCha8Rng,
}

impl<T> Iterator for Shuffle<T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        while self.buffer.len() < self.size {
            match self.input.next() {
                Some(Ok(item)) => self.buffer.push(item),
                Some(Err(e)) => return Some(Err(e)),
                None => break,
            }
        }
        if self.buffer.is_empty() {
            return None;
        }
        let i = (self.rng.next_u64() % self.buffer.len() as u64) as usize;
        Some(Ok(self.buffer.swap_remove(i)))
    }
}

/// Elements that can be stacked into a batch along a new leading axis.
pub trait Stack: Sized {
    /// Stacks `items` (at least one).
    ///
    /// # Errors
    /// [`Error::Input`] if the items' dtypes, shapes or keys differ.
    fn stack(items: Vec<Self>) -> Result<Self>;

    /// Stacks `items` (at least one) after padding each tensor at the end
    /// of every dim to the largest among them.
    ///
    /// # Errors
    /// [`Error::Input`] if the items' dtypes, ranks or keys differ.
    fn stack_padded(items: Vec<Self>) -> Result<Self>;
}

impl Stack for Tensor {
    fn stack(items: Vec<Tensor>) -> Result<Tensor> {
        Tensor::stack(&items).map_err(|e| Error::Input { reason: format!("cannot batch: {e}") })
    }

    fn stack_padded(items: Vec<Tensor>) -> Result<Tensor> {
        let rank = items.first().map_or(0, |t| t.shape().len());
        if let Some(t) = items.iter().find(|t| t.shape().len() != rank) {
            return Err(Error::Input {
                reason: format!("cannot pad a batch of rank {rank} with an element of shape {:?}", t.shape()),
            });
        }
        let largest: Vec<usize> = (0..rank).map(|d| items.iter().map(|t| t.shape()[d]).max().unwrap_or(0)).collect();
        let padded = items
            .into_iter()
            .map(|t| {
                if t.shape() == largest.as_slice() {
                    return Ok(t);
                }
                let paddings = t.shape().iter().zip(&largest).map(|(&d, &l)| [0, l - d]).collect();
                Pad { paddings, value: None }
                    .run(&[&t])
                    .map_err(|e| Error::Input { reason: format!("cannot pad a batch element: {e}") })
            })
            .collect::<Result<Vec<Tensor>>>()?;
        <Tensor as Stack>::stack(padded)
    }
}

impl Stack for Features<Tensor> {
    fn stack(items: Vec<Features<Tensor>>) -> Result<Features<Tensor>> {
        stack_features(items, <Tensor as Stack>::stack)
    }

    fn stack_padded(items: Vec<Features<Tensor>>) -> Result<Features<Tensor>> {
        stack_features(items, <Tensor as Stack>::stack_padded)
    }
}

/// How a batch of tensors is stacked: [`Stack::stack`] or [`Stack::stack_padded`].
type StackFn = fn(Vec<Tensor>) -> Result<Tensor>;

/// Stacks features key by key with `stack`.
fn stack_features(items: Vec<Features<Tensor>>, stack: StackFn) -> Result<Features<Tensor>> {
    {
        match items.first() {
            Some(Features::Map(first)) => {
                let keys: Vec<String> = first.keys().cloned().collect();
                let mut columns: BTreeMap<String, Vec<Tensor>> = keys.iter().map(|k| (k.clone(), Vec::new())).collect();
                for item in items {
                    let Features::Map(m) = item else {
                        return Err(Error::Input { reason: "cannot batch a single feature with a feature map".into() });
                    };
                    if m.len() != keys.len() || !m.keys().eq(keys.iter()) {
                        return Err(Error::Input {
                            reason: format!("feature keys {:?} differ from {keys:?}", m.keys().collect::<Vec<_>>()),
                        });
                    }
                    for (k, v) in m {
                        columns.entry(k).or_default().push(v);
                    }
                }
                let stacked = columns.into_iter().map(|(k, v)| Ok((k, stack(v)?))).collect::<Result<_>>()?;
                Ok(Features::Map(stacked))
            }
            _ => {
                let tensors = items
                    .into_iter()
                    .map(|f| match f {
                        Features::Single(t) => Ok(t),
                        Features::Map(_) => {
                            Err(Error::Input { reason: "cannot batch a feature map with a single feature".into() })
                        }
                    })
                    .collect::<Result<Vec<_>>>()?;
                stack(tensors).map(Features::Single)
            }
        }
    }
}

/// One element of an input pipeline: features, and labels when training or
/// evaluating. After `batch`, each tensor has a leading batch dimension.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// The features.
    pub features: Features<Tensor>,
    /// The labels (`None` for prediction).
    pub labels: Option<Tensor>,
}

impl Example {
    /// A single-tensor feature with its label.
    pub fn new(features: impl Into<Tensor>, labels: impl Into<Tensor>) -> Example {
        Example { features: Features::Single(features.into()), labels: Some(labels.into()) }
    }

    /// A single-tensor feature without labels, for prediction.
    pub fn unlabeled(features: impl Into<Tensor>) -> Example {
        Example { features: Features::Single(features.into()), labels: None }
    }

    /// Named features (or a single one), with or without labels.
    pub fn from_features(features: Features<Tensor>, labels: Option<Tensor>) -> Example {
        Example { features, labels }
    }
}

impl Stack for Example {
    fn stack(items: Vec<Example>) -> Result<Example> {
        stack_examples(items, false)
    }

    fn stack_padded(items: Vec<Example>) -> Result<Example> {
        stack_examples(items, true)
    }
}

/// Stacks examples' features and labels, padded or not.
fn stack_examples(items: Vec<Example>, padded: bool) -> Result<Example> {
    let has_labels = items.first().is_some_and(|e| e.labels.is_some());
    let mut features = Vec::with_capacity(items.len());
    let mut labels = Vec::with_capacity(items.len());
    for e in items {
        features.push(e.features);
        match (e.labels, has_labels) {
            (Some(l), true) => labels.push(l),
            (None, false) => {}
            _ => return Err(Error::Input { reason: "some examples have labels and others do not".into() }),
        }
    }
    let (tensors, features): (StackFn, _) = if padded {
        (<Tensor as Stack>::stack_padded, Features::stack_padded(features)?)
    } else {
        (<Tensor as Stack>::stack, Features::stack(features)?)
    };
    let labels = if has_labels { Some(tensors(labels)?) } else { None };
    Ok(Example { features, labels })
}
