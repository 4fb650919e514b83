//! Profiling helper: the MLP 784-512-512-10 at a given batch in a hot loop
//! (`perf record`); prints the time per call and the instruction set used.
fn main() -> anyhow::Result<()> {
    let batch: usize = std::env::args().nth(1).and_then(|b| b.parse().ok()).unwrap_or(256);
    let iters: usize = std::env::args().nth(2).and_then(|b| b.parse().ok()).unwrap_or(200);
    let dir = tempfile::tempdir()?;
    let version = estimator_rs::mlp::write_mlp(dir.path(), &[784, 512, 512, 10], 1)?;
    let p = predictor::Predictor::from_saved_model(&version)?;
    let inputs = [("x", estimator_rs::mlp::mlp_input(batch, 784))];
    let mut out = p.new_outputs();
    let start = std::time::Instant::now();
    for _ in 0..iters {
        p.predict_into(std::hint::black_box(&inputs), &mut out)?;
    }
    println!("{:?} per call, batch {batch}, {}", start.elapsed() / iters as u32, predictor::cpu::isa());
    Ok(())
}
