//! TensorFlow Serving's batching parameters (`--batching_parameters_file`):
//! a `BatchingParameters` message in protobuf text format
//! (tensorflow_serving/servables/tensorflow/session_bundle_config.proto),
//! its wrapped fields written as TensorFlow Serving's batching guide
//! writes them:
//!
//! ```text
//! max_batch_size { value: 32 }
//! batch_timeout_micros { value: 1000 }
//! max_enqueued_batches { value: 100 }
//! num_batch_threads { value: 2 }
//! allowed_batch_sizes: 8
//! allowed_batch_sizes: 32
//! pad_variable_length_inputs: true
//! ```

use std::path::Path;
use std::time::Duration;

use crate::text_format::{Token, Tokens};

/// How requests are merged into batches, with TensorFlow Serving's
/// defaults for what the file leaves out (`SharedBatchScheduler`'s
/// `QueueOptions` and `Options`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchingParameters {
    /// The most rows in one batch (default 1000). A request with more is
    /// refused.
    pub max_batch_size: usize,
    /// How long the first request of a batch may wait for others while a
    /// batch thread is free (default 0: a free thread takes what is queued
    /// at once, so requests batch only while every thread is busy).
    pub batch_timeout: Duration,
    /// The most batches waiting per signature (default 10); past that a
    /// request is refused with UNAVAILABLE at once rather than queued.
    pub max_enqueued_batches: usize,
    /// The threads running batches, shared by every model (default: one per
    /// core).
    pub num_batch_threads: usize,
    /// The batch threads' name (default `model_server_batch_threads`, as
    /// TensorFlow Serving names its pool).
    pub thread_pool_name: String,
    /// Batch sizes a batch is padded up to (with copies of the last
    /// request's first row), increasing and ending with `max_batch_size`;
    /// empty: batches run at their own size.
    pub allowed_batch_sizes: Vec<usize>,
    /// Pad inputs whose dims after the first differ between requests (text
    /// of different lengths) to the largest, with each input's first
    /// element; without it such requests batch only with requests of the
    /// same shape.
    pub pad_variable_length_inputs: bool,
}

impl Default for BatchingParameters {
    fn default() -> BatchingParameters {
        BatchingParameters {
            max_batch_size: 1000,
            batch_timeout: Duration::ZERO,
            max_enqueued_batches: 10,
            num_batch_threads: std::thread::available_parallelism().map_or(1, usize::from),
            thread_pool_name: "model_server_batch_threads".into(),
            allowed_batch_sizes: Vec::new(),
            pad_variable_length_inputs: false,
        }
    }
}

impl BatchingParameters {
    /// Reads the batching parameters file at `path`.
    ///
    /// # Errors
    /// A message naming the file, with the line of a syntax error or the
    /// parameter that is out of range.
    pub fn read(path: &Path) -> Result<BatchingParameters, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        BatchingParameters::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses the text of a batching parameters file.
    ///
    /// # Errors
    /// A message with the line of the first problem, or naming the
    /// parameter out of range.
    pub fn parse(text: &str) -> Result<BatchingParameters, String> {
        let mut tokens = Tokens::new(text);
        let mut p = BatchingParameters::default();
        while let Some((line, token)) = tokens.next()? {
            let Token::Name(field) = token else {
                return Err(format!("line {line}: expected a field name, got {token}"));
            };
            match field {
                "max_batch_size" => p.max_batch_size = wrapped(&mut tokens, line, field)?,
                "batch_timeout_micros" => p.batch_timeout = Duration::from_micros(wrapped(&mut tokens, line, field)?),
                "max_enqueued_batches" => p.max_enqueued_batches = wrapped(&mut tokens, line, field)?,
                "num_batch_threads" => p.num_batch_threads = wrapped(&mut tokens, line, field)?,
                "thread_pool_name" => {
                    tokens.open(line)?;
                    p.thread_pool_name = expect_value(&mut tokens, line, field)?.string_field(line)?;
                    close(&mut tokens, line, field)?;
                }
                "allowed_batch_sizes" => p.allowed_batch_sizes.extend(tokens.numbers_field::<usize>(line, field)?),
                "pad_variable_length_inputs" => p.pad_variable_length_inputs = tokens.bool_field(line, field)?,
                other => {
                    tracing::warn!(line, field = other, "batching parameters: field skipped");
                    tokens.skip_value()?;
                }
            }
        }
        p.check()?;
        Ok(p)
    }

    /// The checks TensorFlow Serving makes when it builds the scheduler.
    fn check(&self) -> Result<(), String> {
        for (name, value) in [
            ("max_batch_size", self.max_batch_size),
            ("max_enqueued_batches", self.max_enqueued_batches),
            ("num_batch_threads", self.num_batch_threads),
        ] {
            if value == 0 {
                return Err(format!("{name} must be positive, got 0"));
            }
        }
        let sizes = &self.allowed_batch_sizes;
        if sizes.windows(2).any(|w| w[0] >= w[1]) || sizes.first() == Some(&0) {
            return Err(format!("allowed_batch_sizes entries must be positive and increasing, got {sizes:?}"));
        }
        if let Some(&last) = sizes.last()
            && last != self.max_batch_size
        {
            return Err(format!(
                "the final entry in allowed_batch_sizes must equal max_batch_size: got {last} and {}",
                self.max_batch_size
            ));
        }
        Ok(())
    }

    /// The size a batch of `rows` runs at: the smallest allowed batch size
    /// that holds it, or `rows` itself without allowed sizes.
    pub fn padded_size(&self, rows: usize) -> usize {
        self.allowed_batch_sizes.iter().copied().find(|&s| s >= rows).unwrap_or(rows)
    }
}

/// `{ value: N }` (a `google.protobuf.Int64Value`), after `field` of `line`.
fn wrapped<T: std::str::FromStr>(tokens: &mut Tokens<'_>, line: usize, field: &str) -> Result<T, String> {
    tokens.open(line)?;
    let n = expect_value(tokens, line, field)?.number_field(line, field)?;
    close(tokens, line, field)?;
    Ok(n)
}

/// The `value` field name inside a wrapper.
fn expect_value<'t, 'a>(tokens: &'t mut Tokens<'a>, line: usize, field: &str) -> Result<&'t mut Tokens<'a>, String> {
    match tokens.name()? {
        (_, "value") => Ok(tokens),
        (at, other) => Err(format!("line {at}: expected `value` inside {field} of line {line}, got {other}")),
    }
}

fn close(tokens: &mut Tokens<'_>, line: usize, field: &str) -> Result<(), String> {
    if tokens.close_next()? {
        Ok(())
    } else {
        Err(format!("line {line}: {field} holds one `value`; expected '}}' after it"))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_batching_guides_file_and_keeps_the_defaults_it_omits() {
        let p = BatchingParameters::parse(
            "max_batch_size { value: 32 }\nbatch_timeout_micros { value: 1500 }\n\
             num_batch_threads: { value: 3 }\nthread_pool_name { value: \"mine\" }\n\
             allowed_batch_sizes: 8\nallowed_batch_sizes: [16, 32]\npad_variable_length_inputs: true\n",
        )
        .unwrap();
        assert_eq!(p.max_batch_size, 32);
        assert_eq!(p.batch_timeout, Duration::from_micros(1500));
        assert_eq!(p.num_batch_threads, 3);
        assert_eq!(p.thread_pool_name, "mine");
        assert_eq!(p.allowed_batch_sizes, [8, 16, 32]);
        assert!(p.pad_variable_length_inputs);
        assert_eq!(p.max_enqueued_batches, 10);
        assert_eq!((p.padded_size(1), p.padded_size(9), p.padded_size(32)), (8, 16, 32));
        assert_eq!(BatchingParameters::parse("").unwrap(), BatchingParameters::default());
    }

    #[test]
    fn out_of_range_parameters_are_refused_naming_them() {
        let err = |text: &str| BatchingParameters::parse(text).unwrap_err();
        assert!(err("max_batch_size { value: 0 }").contains("max_batch_size must be positive"));
        assert!(err("max_batch_size { value: 8 } allowed_batch_sizes: [4, 2, 8]").contains("increasing"));
        assert!(err("max_batch_size { value: 8 } allowed_batch_sizes: [2, 4]").contains("must equal max_batch_size"));
        assert!(err("max_batch_size: 8").contains("expected '{'"));
        assert!(err("max_batch_size { size: 8 }").contains("expected `value`"));
        assert!(err("max_batch_size { value: -1 }").contains("non-negative"));
    }
}
