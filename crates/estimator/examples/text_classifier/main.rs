//! A text classifier end to end: phrases whose topic is decided by their
//! words, a vocabulary file, a bag-of-embeddings model trained with Adam,
//! evaluated on held-out phrases, exported with a receiver that takes
//! `words: string[?, ?]`, and a signature answering `classes` and
//! `probabilities`.
//!
//! ```text
//! cargo run --release -p estimator --example text_classifier
//! ```
//!
//! prints the held-out accuracy (about 100%) and loss, a few naive
//! predictions with unknown words among them, and the exported version
//! under `text_model/saved_model/`.

#[path = "../common/logging.rs"]
mod logging;

mod topics;

use std::path::Path;

use estimator::prelude::*;
use topics::{CLASSES, Params, Split, input_fn, model_fn, phrase, serving_input_receiver_fn, write_vocabulary};

fn main() -> anyhow::Result<()> {
    logging::init();
    let dir = Path::new("text_model");
    let (vocabulary, vocabulary_size) = write_vocabulary(&dir.join("data"))?;
    let params = Params { vocabulary, vocabulary_size, embedding_dim: 8, learning_rate: 0.05 };
    let estimator = Estimator::new(model_fn, dir.join("model"), params)?;

    estimator.train(|| input_fn(Split::Train, 2000, 32, 5), Steps::UntilExhausted)?;
    let metrics = estimator.evaluate(|| input_fn(Split::HeldOut, 500, 100, 1))?;
    println!("held-out accuracy {:.1}%, loss {:.4}", 100.0 * metrics.metrics["accuracy"], metrics.loss);

    // The naive way, with words the vocabulary does not have ("really", "zorblax").
    let typed = |ws: [&str; 6]| ws.map(str::to_owned).to_vec();
    for words in [
        typed(["tennis", "really", "great", "", "", ""]),
        typed(["spicy", "zorblax", "soup", "", "", ""]),
        phrase(Split::HeldOut, 7).0,
    ] {
        let example = Example::unlabeled(Tensor::strings(vec![words.len()], words.clone())?);
        let p = estimator.predict(move || Dataset::from_vec(vec![example.clone()]).batch(1))?.next().transpose()?;
        if let Some(p) = p {
            let class = p["classes"].as_slice::<i64>()?[0] as usize;
            println!("{words:?} -> {} {:?}", CLASSES[class], p["probabilities"].as_slice::<f32>()?);
        }
    }

    let version = estimator.export_saved_model(dir.join("saved_model"), serving_input_receiver_fn)?;
    println!("exported {}", version.display());
    Ok(())
}
