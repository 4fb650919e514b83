//! Profiling helper: the toy predictor in a hot loop (`perf record`,
//! `valgrind --tool=callgrind`); `ITER` sets the number of calls.
use estimator_rs::train_and_export;
fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (_, version) = train_and_export(dir.path())?;
    let p = predictor::Predictor::from_saved_model(&version)?;
    let inputs = [("number", opset::Tensor::from(ndarray::array![[101.0f32]]))];
    let n: usize = std::env::var("ITER").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000_000);
    let mut session = p.session();
    for _ in 0..n {
        std::hint::black_box(session.run(std::hint::black_box(&inputs))?["output"].len());
    }
    println!("{:?} steps={}", session.run(&inputs)?["output"], p.plan_len());
    Ok(())
}
