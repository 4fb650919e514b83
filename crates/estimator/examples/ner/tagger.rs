//! The bi-LSTM + CRF named-entity tagger of the write-up's "advanced use",
//! as the `tf.estimator` taggers of that family build it: words and their
//! characters looked up in vocabulary files, a bi-LSTM over each word's
//! characters, a bi-LSTM over the sentence, a CRF over the tag scores.
//! Shared by the `ner` example, its test and the benches.

use std::path::{Path, PathBuf};

use estimator::entities::EntityMetrics;
use estimator::layers::{Bidirectional, Dense, Lstm, dropout};
use estimator::prelude::*;
use estimator::{Initializer, crf};
use opset::ops::array::ReshapeTo;
use opset::ops::text::{StringLength, UnicodeSplit};

use super::corpus::{self, Sentence, Split, TAGS};

/// What the tagger needs to know.
#[derive(Debug, Clone)]
pub struct Params {
    /// The word vocabulary (one token per line): `assets/words.txt`.
    pub words: PathBuf,
    /// Its number of tokens.
    pub word_count: usize,
    /// The character vocabulary: `assets/chars.txt`.
    pub chars: PathBuf,
    /// Its number of characters.
    pub char_count: usize,
    /// The tag vocabulary: `assets/tags.txt`.
    pub tags: PathBuf,
    /// The size of a word embedding.
    pub dim_words: usize,
    /// The size of a character embedding.
    pub dim_chars: usize,
    /// The units of each direction of the characters' LSTM.
    pub char_lstm_size: usize,
    /// The units of each direction of the words' LSTM.
    pub lstm_size: usize,
    /// The dropout rate in training.
    pub dropout: f32,
    /// Adam's learning rate.
    pub learning_rate: f32,
}

/// Unknown words and characters share one out-of-vocabulary bucket.
pub const OOV_BUCKETS: u64 = 1;

impl Params {
    /// Writes the vocabularies of the first `train_sentences` training
    /// sentences into `dir`, with the model's sizes.
    ///
    /// # Errors
    /// An I/O error writing the files.
    pub fn with_vocabularies(dir: &Path, train_sentences: u64) -> std::io::Result<Params> {
        std::fs::create_dir_all(dir)?;
        let (words, chars) = corpus::vocabularies(train_sentences);
        let write = |name: &str, lines: &[String]| -> std::io::Result<PathBuf> {
            let path = dir.join(name);
            std::fs::write(&path, lines.join("\n") + "\n")?;
            Ok(path)
        };
        let tags: Vec<String> = TAGS.iter().map(|t| (*t).to_owned()).collect();
        Ok(Params {
            words: write("words.txt", &words)?,
            word_count: words.len(),
            chars: write("chars.txt", &chars)?,
            char_count: chars.len(),
            tags: write("tags.txt", &tags)?,
            dim_words: 16,
            dim_chars: 8,
            char_lstm_size: 8,
            lstm_size: 16,
            dropout: 0.3,
            learning_rate: 0.01,
        })
    }
}

/// A sentence as the tagger reads it: `words: string[n]`, `nwords: i32`,
/// and its tags as the label.
pub fn example(s: &Sentence) -> Example {
    let n = s.words.len();
    let features = [
        ("words".to_owned(), Tensor::strings(vec![n], &s.words).unwrap_or_else(|_| Tensor::empty(DataType::String))),
        ("nwords".to_owned(), Tensor::scalar(n as i32)),
    ];
    let labels = Tensor::strings(vec![n], &s.tags).unwrap_or_else(|_| Tensor::empty(DataType::String));
    Example::from_features(Features::Map(features.into()), Some(labels))
}

/// `count` sentences of `split`, shuffled (training), in batches padded to
/// their longest sentence, repeated `epochs` times.
pub fn input_fn(split: Split, count: u64, batch: usize, epochs: usize) -> Dataset<Example> {
    let sentences = Dataset::from_generator(move || (0..count).map(move |i| example(&corpus::sentence(split, i))));
    let sentences = if split == Split::Train { sentences.shuffle(1000, 17) } else { sentences };
    sentences.padded_batch(batch).repeat(epochs)
}

/// `x` reshaped to `lead` (run-time dims) followed by `tail` (known dims).
fn reshape_to(g: &mut GraphBuilder, x: Output, lead: Output, lead_rank: usize, tail: &[usize]) -> Result<Output> {
    let known = g.constant(Tensor::from_vec(vec![tail.len()], tail.iter().map(|&d| d as i64).collect())?)?;
    let shape = g.concat(&[lead, known], 0)?;
    let mut declared = vec![None; lead_rank];
    declared.extend(tail.iter().map(|&d| Some(d)));
    g.op(ReshapeTo { shape: Shape(declared) }, &[x, shape])
}

/// The tagger. Features `words: string[batch, words]` (padded with "") and
/// `nwords: i32[batch]`; labels the tags, `string[batch, words]`.
pub fn model_fn(
    g: &mut GraphBuilder,
    features: Features<Output>,
    labels: Option<Output>,
    mode: Mode,
    params: &Params,
) -> Result<EstimatorSpec> {
    let (words, nwords) = (*features.single_or("words")?, *features.single_or("nwords")?);
    let uniform = || Initializer::Uniform { min: -0.1, max: 0.1 };

    // Words: an embedding per vocabulary word, one for the unknown ones.
    let word_ids = g.vocab_lookup(words, &params.words, OOV_BUCKETS, -1)?;
    let word_table = g.variable("words/embeddings", &[params.word_count + 1, params.dim_words], uniform())?;
    let embedded_words = g.gather(word_table, word_ids)?;

    // Characters: each word's characters through a bi-LSTM, its final states.
    let chars = g.op(UnicodeSplit, &[words])?;
    let char_ids = g.vocab_lookup(chars, &params.chars, OOV_BUCKETS, -1)?;
    let char_table = g.variable("chars/embeddings", &[params.char_count + 1, params.dim_chars], uniform())?;
    let embedded_chars = g.gather(char_table, char_ids)?;
    let nchars = g.op(StringLength { chars: true }, &[words])?;
    let nchars = g.reshape(nchars, &[-1])?;
    let width = g.shape_slice(embedded_chars, 2, 3)?;
    let minus_one = g.constant(Tensor::from_vec(vec![1], vec![-1i64])?)?;
    let lead = g.concat(&[minus_one, width], 0)?;
    let per_word = reshape_to(g, embedded_chars, lead, 2, &[params.dim_chars])?;
    let char_rnn =
        g.scoped("chars", |g| Bidirectional::new(Lstm::new(params.char_lstm_size)).apply(g, per_word, nchars))?;
    let (fw, bw) = (char_rnn.forward.last(), char_rnn.backward.last());
    let (Some(fw), Some(bw)) = (fw, bw) else {
        return Err(Error::ModelFn { mode, reason: "the characters' LSTM has no state".into() });
    };
    let char_features = g.concat(&[fw, bw], 1)?;
    let word_shape = g.shape_slice(words, 0, 2)?;
    let char_features = reshape_to(g, char_features, word_shape, 2, &[2 * params.char_lstm_size])?;

    // The sentence: words and their characters through a bi-LSTM, scores per tag.
    let x = g.concat(&[embedded_words, char_features], -1)?;
    let x = dropout(g, x, params.dropout, mode)?;
    let rnn = Bidirectional::new(Lstm::new(params.lstm_size)).apply(g, x, nwords)?;
    let h = dropout(g, rnn.outputs, params.dropout, mode)?;
    let rows = g.reshape(h, &[-1, 2 * params.lstm_size as i64])?;
    let scores = Dense::new(TAGS.len()).apply(g, rows)?;
    let scores = reshape_to(g, scores, word_shape, 2, &[TAGS.len()])?;

    // The CRF.
    let transitions = g.scoped("crf", |g| crf::transitions(g, TAGS.len()))?;
    let decoded = crf::decode(g, scores, nwords, transitions)?;
    if mode == Mode::Predict {
        let names = g.index_to_string(decoded.tags, &params.tags, "O")?;
        let predictions =
            [("tags".to_owned(), names), ("tag_ids".to_owned(), decoded.tags), ("score".to_owned(), decoded.score)];
        return Ok(EstimatorSpec::predict(Features::Map(predictions.into())));
    }
    let labels = labels.ok_or(Error::ModelFn { mode, reason: "labels (the tags) are required".into() })?;
    let label_ids = g.vocab_lookup(labels, &params.tags, 0, 0)?;
    let likelihood = crf::log_likelihood(g, scores, label_ids, nwords, transitions)?;
    let loss = g.reduce_mean(likelihood, &[], false)?;
    let loss = g.neg(loss)?;
    Ok(match mode {
        Mode::Eval => EstimatorSpec::eval(loss).with_entity_metrics(EntityMetrics {
            predicted: decoded.tags,
            labels: label_ids,
            lengths: nwords,
            tags: TAGS.iter().map(|t| (*t).to_owned()).collect(),
        }),
        _ => EstimatorSpec::train(loss, Adam::new(params.learning_rate).minimize(loss)),
    })
}

/// Clients send raw words: `words: string[?, ?]` (padded with "") and
/// `nwords: i32[?]`.
pub fn serving_input_receiver_fn(g: &mut GraphBuilder) -> Result<ServingInputReceiver> {
    let words = g.placeholder("words", DataType::String, Shape(vec![None, None]))?;
    let nwords = g.placeholder("nwords", DataType::I32, Shape(vec![None]))?;
    let inputs: std::collections::BTreeMap<String, Output> =
        [("words".to_owned(), words), ("nwords".to_owned(), nwords)].into();
    Ok(ServingInputReceiver::new(Features::Map(inputs.clone()), inputs))
}
