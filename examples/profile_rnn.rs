//! Profiling helper: the Keras bi-LSTM tagger fixture on `batch` sentences
//! of 20 tokens in a hot loop (`perf record`); `general` as a third argument
//! runs its loops op by op instead of as fused LSTM steps.
fn main() -> anyhow::Result<()> {
    let batch: usize = std::env::args().nth(1).and_then(|b| b.parse().ok()).unwrap_or(1);
    let iters: usize = std::env::args().nth(2).and_then(|b| b.parse().ok()).unwrap_or(20_000);
    let fused_cells = std::env::args().nth(3).as_deref() != Some("general");
    let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tensorflow/keras_bilstm_tagger");
    let options = predictor::LoadOptions { fused_cells, ..Default::default() };
    let p = predictor::Predictor::load(&export::latest_version(&base)?, &options)?;
    let ids: Vec<i32> = (0..batch * 20).map(|k| 1 + (k * 7 % 49) as i32).collect();
    let inputs = [("tokens", opset::Tensor::from_vec(vec![batch, 20], ids)?)];
    let mut out = p.new_outputs();
    let start = std::time::Instant::now();
    for _ in 0..iters {
        p.predict_into(std::hint::black_box(&inputs), &mut out)?;
    }
    println!("{:?} per call, {} fused loops", start.elapsed() / iters as u32, p.fused_loops());
    Ok(())
}
