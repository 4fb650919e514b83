//! Profiling helper: the small CNN of `estimator_rs::cnn` at a given batch in a hot loop (`perf record`).
fn main() -> anyhow::Result<()> {
    let batch: usize = std::env::args().nth(1).and_then(|b| b.parse().ok()).unwrap_or(1);
    let iters: usize = std::env::args().nth(2).and_then(|b| b.parse().ok()).unwrap_or(2000);
    let dir = tempfile::tempdir()?;
    let version = estimator_rs::cnn::write_cnn(dir.path(), 1)?;
    let p = predictor::Predictor::from_saved_model(&version)?;
    let inputs = [("image", estimator_rs::cnn::cnn_input(batch))];
    let mut out = p.new_outputs();
    for _ in 0..iters {
        p.predict_into(std::hint::black_box(&inputs), &mut out)?;
    }
    println!("{:?}", out["features"].shape());
    Ok(())
}
