//! The named-entity tagger of the estimator's `ner` example (the same
//! source files): its generated corpus and its model.

#[path = "../crates/estimator/examples/ner/corpus.rs"]
pub mod corpus;
#[path = "../crates/estimator/examples/ner/tagger.rs"]
pub mod tagger;
