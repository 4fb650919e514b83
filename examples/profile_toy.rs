//! Profiling helper: the toy predictor in a hot loop (`perf record`).
use estimator_rs::train_and_export;
fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (_, version) = train_and_export(dir.path())?;
    let p = predictor::Predictor::from_saved_model(&version)?;
    let inputs = [("number", export::Tensor::from(ndarray::array![[101.0f32]]))];
    let mut out = p.new_outputs();
    let n: usize = std::env::var("ITER").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000_000);
    for _ in 0..n {
        p.predict_into(std::hint::black_box(&inputs), &mut out)?;
    }
    println!("{:?} steps={}", out["output"], p.plan_len());
    Ok(())
}
