//! The write-up's "advanced use": a bi-LSTM + CRF named-entity tagger,
//! trained by the estimator on a generated corpus, evaluated on held-out
//! sentences whose names it never saw (entity-level F1, as CoNLL scores
//! it), and exported with a receiver that takes raw words.
//!
//! ```text
//! cargo run --release -p estimator --example ner
//! ```
//!
//! prints the held-out precision, recall and F1 (about 0.99), a few naive
//! predictions, and the exported version under `ner_model/saved_model/`;
//! serve it with `serving --model_base_path ner_model/saved_model` and ask
//! `{"instances": [{"words": ["John", "lives", "in", "Paris"], "nwords": 4}]}`.

#[path = "../common/logging.rs"]
mod logging;

mod corpus;
mod tagger;

use std::path::Path;

use corpus::Split;
use estimator::prelude::*;
use tagger::{Params, input_fn, model_fn, serving_input_receiver_fn};

/// Training sentences (their words make the vocabulary).
const TRAIN: u64 = 4000;

fn main() -> anyhow::Result<()> {
    logging::init();
    let dir = Path::new("ner_model");
    let params = Params::with_vocabularies(&dir.join("data"), TRAIN)?;
    let estimator = Estimator::new(model_fn, dir.join("model"), params)?;

    estimator.train(|| input_fn(Split::Train, TRAIN, 20, 3), Steps::UntilExhausted)?;
    let metrics = estimator.evaluate(|| input_fn(Split::HeldOut, 500, 50, 1))?;
    println!(
        "held-out entities: precision {:.3}, recall {:.3}, F1 {:.3} (loss {:.4})",
        metrics.metrics["precision"], metrics.metrics["recall"], metrics.metrics["f1"], metrics.loss
    );

    // The naive way, with names it never saw.
    for words in [
        vec!["John", "lives", "in", "Paris", "."],
        vec!["dr.", "Zorblax", "Quint", "works", "for", "Vexo", "Labs", "in", "New", "Trosk", "."],
    ] {
        let sentence =
            corpus::Sentence { words: words.iter().map(|w| (*w).to_owned()).collect(), tags: vec!["O"; words.len()] };
        let example = tagger::example(&sentence);
        let p =
            estimator.predict(move || Dataset::from_vec(vec![example.clone()]).padded_batch(1))?.next().transpose()?;
        if let Some(p) = p {
            let tags = p["tags"].as_slice::<opset::Bytes>()?;
            let tagged: Vec<String> =
                words.iter().zip(tags).map(|(w, t)| format!("{w}/{}", String::from_utf8_lossy(t))).collect();
            println!("{}", tagged.join(" "));
        }
    }

    let version = estimator.export_saved_model(dir.join("saved_model"), serving_input_receiver_fn)?;
    println!("exported {}", version.display());
    Ok(())
}
