//! Short phrases whose topic (sports, food or tech) is decided by the words
//! they contain, generated offline and reproducibly; and the bag-of-embeddings
//! classifier that learns them. Shared by the `text_classifier` example, the
//! end-to-end tests and the benches (`#[path]`-included there), so the three
//! tell one story.

use std::path::{Path, PathBuf};

use estimator::Initializer;
use estimator::prelude::*;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

/// The classes, by id.
pub const CLASSES: [&str; 3] = ["sports", "food", "tech"];
/// Phrases are padded with "" to this many words.
pub const MAX_LEN: usize = 6;
/// Unknown words hash into this many extra embedding rows.
pub const OOV_BUCKETS: u64 = 4;

const TOPIC_WORDS: [&[&str]; 3] = [
    &["goal", "match", "team", "coach", "score", "league", "stadium", "striker", "referee", "tennis"],
    &["pizza", "pasta", "recipe", "bake", "spicy", "salad", "chef", "dessert", "soup", "bread"],
    &["laptop", "software", "compiler", "robot", "chip", "server", "code", "network", "phone", "gpu"],
];
/// Words of no topic; the last four are left out of the vocabulary, so
/// they reach the model through the out-of-vocabulary buckets.
const FILLERS: [&str; 12] = ["the", "a", "great", "new", "about", "my", "this", "and", "today", "really", "very", "of"];
const FILLERS_IN_VOCABULARY: usize = 8;

/// Which phrases: training and held-out phrases come from different seeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// The training phrases.
    Train,
    /// Phrases never seen in training.
    HeldOut,
}

/// Writes the vocabulary (one token per line) into `dir`; returns its path
/// and its number of tokens.
pub fn write_vocabulary(dir: &Path) -> std::io::Result<(PathBuf, usize)> {
    std::fs::create_dir_all(dir)?;
    let tokens: Vec<&str> = TOPIC_WORDS
        .iter()
        .flat_map(|w| w.iter().copied())
        .chain(FILLERS[..FILLERS_IN_VOCABULARY].iter().copied())
        .collect();
    let path = dir.join("vocab.txt");
    std::fs::write(&path, tokens.join("\n") + "\n")?;
    Ok((path, tokens.len()))
}

/// Phrase `i` of `split`: 1-2 topic words and 1-3 fillers, shuffled, padded
/// with "" to `MAX_LEN`; and its class.
pub fn phrase(split: Split, i: u64) -> (Vec<String>, i64) {
    let seed = match split {
        Split::Train => i,
        Split::HeldOut => i ^ 0x5eed_0000_0000,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut pick = |n: usize| (rng.next_u32() as usize) % n;
    let class = pick(CLASSES.len());
    let mut words: Vec<String> = Vec::with_capacity(MAX_LEN);
    for _ in 0..1 + pick(2) {
        words.push(TOPIC_WORDS[class][pick(TOPIC_WORDS[class].len())].to_owned());
    }
    for _ in 0..1 + pick(3) {
        words.push(FILLERS[pick(FILLERS.len())].to_owned());
    }
    for k in (1..words.len()).rev() {
        words.swap(k, pick(k + 1));
    }
    words.resize(MAX_LEN, String::new());
    (words, class as i64)
}

/// `count` phrases of `split` in batches of `batch`, repeated `epochs` times.
pub fn input_fn(split: Split, count: u64, batch: usize, epochs: usize) -> Dataset<Example> {
    Dataset::from_generator(move || {
        (0..count).map(move |i| {
            let (words, class) = phrase(split, i);
            let words = Tensor::strings(vec![MAX_LEN], words).unwrap_or_else(|_| Tensor::empty(DataType::String));
            Example::new(words, Tensor::scalar(class))
        })
    })
    .batch(batch)
    .repeat(epochs)
}

/// What the classifier needs to know.
#[derive(Debug, Clone)]
pub struct Params {
    /// The vocabulary file (becomes the export's `assets/vocab.txt`).
    pub vocabulary: PathBuf,
    /// Its number of tokens.
    pub vocabulary_size: usize,
    /// The size of a word embedding.
    pub embedding_dim: usize,
    /// Adam's learning rate.
    pub learning_rate: f32,
}

/// A bag of embeddings: look the words up, average the embeddings of the
/// non-padding ones, one dense layer to the classes.
pub fn model_fn(
    g: &mut GraphBuilder,
    features: Features<Output>,
    labels: Option<Output>,
    mode: Mode,
    params: &Params,
) -> Result<EstimatorSpec> {
    let words = *features.single_or("words")?;
    let ids = g.vocab_lookup(words, &params.vocabulary, OOV_BUCKETS, -1)?;
    let rows = params.vocabulary_size + OOV_BUCKETS as usize;
    let table =
        g.variable("embeddings", &[rows, params.embedding_dim], Initializer::Uniform { min: -0.05, max: 0.05 })?;
    let embedded = g.gather(table, ids)?;
    // Mean over the words that are not padding.
    let padding = g.constant(Tensor::strings(vec![], [""])?)?;
    let present = g.not_equal(words, padding)?;
    let mask = g.cast(present, DataType::F32)?;
    let mask3 = g.expand_dims(mask, -1)?;
    let masked = g.mul(embedded, mask3)?;
    let summed = g.reduce_sum(masked, &[1], false)?;
    let count = g.reduce_sum(mask, &[1], true)?;
    let tiny = g.scalar(1e-6)?;
    let count = g.add(count, tiny)?;
    let pooled = g.div(summed, count)?;
    let logits = layers::dense(g, pooled, CLASSES.len())?;
    let classes = g.argmax(logits, 1)?;
    if mode == Mode::Predict {
        let probabilities = g.softmax(logits)?;
        let predictions = [("classes".to_owned(), classes), ("probabilities".to_owned(), probabilities)];
        return Ok(EstimatorSpec::predict(Features::Map(predictions.into())));
    }
    let labels = labels.ok_or(Error::ModelFn { mode, reason: "labels are required".into() })?;
    let loss = losses::sparse_softmax_cross_entropy(g, labels, logits)?;
    Ok(match mode {
        Mode::Eval => {
            let right = g.equal(classes, labels)?;
            let right = g.cast(right, DataType::F32)?;
            let accuracy = g.reduce_mean(right, &[], false)?;
            EstimatorSpec::eval(loss).with_metric("accuracy", accuracy)
        }
        _ => EstimatorSpec::train(loss, Adam::new(params.learning_rate).minimize(loss)),
    })
}

/// Clients send `words: string[?, ?]`, padded with "".
pub fn serving_input_receiver_fn(g: &mut GraphBuilder) -> Result<ServingInputReceiver> {
    let words = g.placeholder("words", DataType::String, Shape(vec![None, None]))?;
    let features = Features::Map([("words".to_owned(), words)].into());
    Ok(ServingInputReceiver::new(features, [("words".to_owned(), words)].into()))
}
