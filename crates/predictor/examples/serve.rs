//! The write-up's second half: find the newest export, load it once, and
//! answer a fake service's numbers from memory.
//!
//! ```text
//! cargo run --release -p estimator --example train   # writes saved_model/
//! cargo run --release -p predictor --example serve [EXPORT_DIR]
//! ```
//!
//! prints the version loaded, then `predict(n) = 2n` for n in 100..110 with
//! the time of each call (tens of nanoseconds, against tens of microseconds
//! for the estimator's naive predict).

use std::time::Instant;

use ndarray::array;
use predictor::Predictor;

/// The service: numbers arriving one at a time.
fn my_service() -> impl Iterator<Item = f32> {
    (100..110).map(|n| n as f32)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let export_dir = std::env::args().nth(1).unwrap_or_else(|| "saved_model".to_owned());
    let latest = predictor::latest_version(&export_dir)?;

    let start = Instant::now();
    let predict_fn = Predictor::from_saved_model(&latest)?;
    println!("loaded {} in {:.1?}", latest.display(), start.elapsed());

    // A session keeps this thread's buffers: nothing is allocated per call.
    let mut session = predict_fn.session();
    for nb in my_service() {
        let inputs = [("number", array![[nb]].into())];
        let start = Instant::now();
        let outputs = session.run(&inputs)?;
        let elapsed = start.elapsed();
        println!("predict({nb}) = {:.4} in {elapsed:.1?}", outputs["output"].as_f32()?[[0, 0]]);
    }
    Ok(())
}
