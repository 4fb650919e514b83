//! Writes the MLP 784-512-512-10 of the benches (seeded weights; input `x`,
//! output `probs`) as a version under an export base, for
//! the server's load tests.
//!
//! ```text
//! cargo run --release --example write_mlp -- /tmp/mlp
//! ```

fn main() -> anyhow::Result<()> {
    let base = std::env::args().nth(1).unwrap_or_else(|| "mlp".into());
    let version = estimator_rs::mlp::write_mlp(base.as_ref(), &[784, 512, 512, 10], 1)?;
    println!("wrote {}", version.display());
    Ok(())
}
