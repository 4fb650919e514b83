//! Criterion benches across crates. Groups are `<stage>_<model>`; the naive
//! path and the predictor share a group so the report shows them side by side.
//!
//! ```text
//! cargo bench --bench main                 # everything
//! cargo bench --bench main -- predict_toy  # one group
//! ```
//!
//! The report lands in `target/criterion/report/index.html`.

mod cnn;
mod examples;
mod mlp;
mod ner;
mod rnn;
mod tensorflow;
mod text;
mod toy;

criterion::criterion_main!(
    toy::benches,
    mlp::benches,
    cnn::benches,
    text::benches,
    tensorflow::benches,
    rnn::benches,
    ner::benches,
    examples::benches
);
