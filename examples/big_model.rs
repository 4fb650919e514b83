//! A ~100 MB model (MLP 4096-4096-2048) for load and memory measurements.
//!
//! ```text
//! cargo run --release --example big_model -- write /tmp/big      # writes a version under /tmp/big
//! /usr/bin/time -v target/release/examples/big_model serve /tmp/big   # loads it, predicts once; see "Maximum resident set size"
//! ```

use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (command, base) = (args.next().unwrap_or_default(), args.next().unwrap_or_else(|| "big_model".into()));
    let sizes = [4096, 4096, 2048];
    match command.as_str() {
        "write" => {
            let version = estimator_rs::mlp::write_mlp(base.as_ref(), &sizes, 1)?;
            println!("wrote {}", version.display());
        }
        "serve" => {
            let verify = args.next().as_deref() != Some("--unverified");
            let options = predictor::LoadOptions { verify_checksums: verify, ..Default::default() };
            let start = Instant::now();
            let p = predictor::Predictor::load(&predictor::latest_version(&base)?, &options)?;
            let loaded = start.elapsed();
            let out = p.predict(&[("x", estimator_rs::mlp::mlp_input(1, sizes[0]))])?;
            println!("loaded in {loaded:.1?} (verified: {verify}); probs {:?}", out["probs"].shape());
        }
        _ => anyhow::bail!("usage: big_model write|serve DIR [--unverified]"),
    }
    Ok(())
}
