//! TensorBoard's event files: what `train` and `evaluate` write for
//! `tensorboard --logdir <model_dir>`, as TensorFlow's estimator does.
//!
//! A file `events.out.tfevents.<unix seconds>.<host>` is a TFRecord stream
//! (each record: its length as a little-endian u64, the length's masked
//! crc32c, the bytes, their masked crc32c) of `tensorflow.Event` protos
//! with TensorFlow's field numbers: first the file version
//! (`brain.Event:2`), then one event per step with its scalars. Training
//! writes `loss` every `save_summary_steps` and `global_step/sec` every
//! `log_step_count_steps` into the model directory; evaluation writes the
//! loss and each metric at the checkpoint's global step into `eval/`.
//!
//! ```
//! # let dir = tempfile::tempdir()?;
//! use estimator::summary::{EventWriter, read_scalars};
//!
//! let mut events = EventWriter::create(dir.path())?;
//! events.scalars(100, &[("loss", 0.25)])?;
//! events.flush()?;
//! let scalars = read_scalars(events.path())?;
//! assert_eq!(scalars, [("loss".to_owned(), 100, 0.25)]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use prost::Message;

use crate::{Error, Result};

/// `tensorflow.Event` (event.proto), the fields written here.
#[derive(Clone, PartialEq, Message)]
pub struct Event {
    /// Seconds since the epoch.
    #[prost(double, tag = "1")]
    pub wall_time: f64,
    /// The global step.
    #[prost(int64, tag = "2")]
    pub step: i64,
    /// The file's format version, in its first event (`brain.Event:2`).
    #[prost(string, optional, tag = "3")]
    pub file_version: Option<String>,
    /// A serialized `tensorflow.GraphDef` ([`GraphDef`]): the training graph.
    #[prost(bytes = "vec", optional, tag = "4")]
    pub graph_def: Option<Vec<u8>>,
    /// Summary values.
    #[prost(message, optional, tag = "5")]
    pub summary: Option<Summary>,
}

/// `tensorflow.GraphDef`, as far as TensorBoard's graph view reads it: the
/// nodes, their ops and inputs.
#[derive(Clone, PartialEq, Message)]
pub struct GraphDef {
    /// The nodes.
    #[prost(message, repeated, tag = "1")]
    pub node: Vec<NodeDef>,
}

/// `tensorflow.NodeDef`: name, op, inputs.
#[derive(Clone, PartialEq, Message)]
pub struct NodeDef {
    /// The node's name (scopes as `/`).
    #[prost(string, tag = "1")]
    pub name: String,
    /// Its op.
    #[prost(string, tag = "2")]
    pub op: String,
    /// The nodes it reads.
    #[prost(string, repeated, tag = "3")]
    pub input: Vec<String>,
}

impl GraphDef {
    /// Our graph as TensorBoard's graph view takes it.
    pub fn of(graph: &opset::Graph) -> GraphDef {
        let node = graph
            .nodes
            .iter()
            .map(|n| NodeDef { name: n.name.clone(), op: n.op.clone(), input: n.inputs.clone() })
            .collect();
        GraphDef { node }
    }
}

/// `tensorflow.Summary` (summary.proto).
#[derive(Clone, PartialEq, Message)]
pub struct Summary {
    /// The values.
    #[prost(message, repeated, tag = "1")]
    pub value: Vec<SummaryValue>,
}

/// `tensorflow.Summary.Value`: a scalar (`simple_value`) or a histogram.
#[derive(Clone, PartialEq, Message)]
pub struct SummaryValue {
    /// The name (`loss`, `global_step/sec`, `eval` metrics, the model_fn's).
    #[prost(string, tag = "1")]
    pub tag: String,
    /// A scalar.
    #[prost(float, optional, tag = "2")]
    pub simple_value: Option<f32>,
    /// A histogram.
    #[prost(message, optional, tag = "5")]
    pub histo: Option<HistogramProto>,
}

/// `tensorflow.HistogramProto`: counts of values between bucket limits.
#[derive(Clone, PartialEq, Message)]
pub struct HistogramProto {
    /// The smallest value.
    #[prost(double, tag = "1")]
    pub min: f64,
    /// The largest value.
    #[prost(double, tag = "2")]
    pub max: f64,
    /// How many values.
    #[prost(double, tag = "3")]
    pub num: f64,
    /// Their sum.
    #[prost(double, tag = "4")]
    pub sum: f64,
    /// The sum of their squares.
    #[prost(double, tag = "5")]
    pub sum_squares: f64,
    /// Bucket `i` counts the values in `(bucket_limit[i - 1], bucket_limit[i]]`.
    #[prost(double, repeated, tag = "6")]
    pub bucket_limit: Vec<f64>,
    /// The counts.
    #[prost(double, repeated, tag = "7")]
    pub bucket: Vec<f64>,
}

impl HistogramProto {
    /// The histogram of `values` over TensorFlow's default buckets
    /// (limits growing by 10% from 1e-12 to 1e20, mirrored for negatives,
    /// and the largest double); only the non-empty buckets and their limits
    /// are kept.
    pub fn of(values: &[f32]) -> HistogramProto {
        let limits = default_limits();
        let mut counts = vec![0f64; limits.len()];
        let (mut min, mut max, mut sum, mut sum_squares) = (f64::INFINITY, f64::NEG_INFINITY, 0.0, 0.0);
        for &v in values {
            let v = f64::from(v);
            min = min.min(v);
            max = max.max(v);
            sum += v;
            sum_squares += v * v;
            let at = limits.partition_point(|&limit| limit < v).min(limits.len() - 1);
            counts[at] += 1.0;
        }
        let (mut bucket_limit, mut bucket) = (Vec::new(), Vec::new());
        for (limit, count) in limits.iter().zip(counts) {
            if count > 0.0 {
                bucket_limit.push(*limit);
                bucket.push(count);
            }
        }
        if values.is_empty() {
            (min, max) = (0.0, 0.0);
        }
        HistogramProto { min, max, num: values.len() as f64, sum, sum_squares, bucket_limit, bucket }
    }
}

/// TensorFlow's default histogram bucket limits (`histogram.cc`).
fn default_limits() -> &'static [f64] {
    static LIMITS: std::sync::OnceLock<Vec<f64>> = std::sync::OnceLock::new();
    LIMITS.get_or_init(|| {
        let mut positive = Vec::new();
        let mut v = 1e-12;
        while v < 1e20 {
            positive.push(v);
            v *= 1.1;
        }
        positive.push(f64::MAX);
        let mut limits: Vec<f64> = positive.iter().rev().map(|v| -v).collect();
        limits.push(0.0);
        limits.extend(&positive);
        limits
    })
}

/// TensorFlow's file version string.
const FILE_VERSION: &str = "brain.Event:2";

/// Appends events to a new file in a directory (created if missing).
#[derive(Debug)]
pub struct EventWriter {
    path: PathBuf,
    file: BufWriter<File>,
}

impl EventWriter {
    /// Starts `<dir>/events.out.tfevents.<unix seconds>.<host>`, writing the
    /// file-version event.
    ///
    /// # Errors
    /// [`Error::Export`] (`Io`) naming the directory or file.
    pub fn create(dir: impl AsRef<Path>) -> Result<EventWriter> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(io("creating", dir))?;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let mut path = dir.join(format!("events.out.tfevents.{now}.{}", host()));
        // Two writers started within a second (train, then evaluate into
        // another directory is the usual case; a test's loop is not).
        let mut n = 0;
        while path.exists() {
            n += 1;
            path = dir.join(format!("events.out.tfevents.{now}.{}.{n}", host()));
        }
        let file = File::create(&path).map_err(io("creating", &path))?;
        let mut writer = EventWriter { path, file: BufWriter::new(file) };
        writer.write(&Event { wall_time: wall_time(), file_version: Some(FILE_VERSION.into()), ..Event::default() })?;
        Ok(writer)
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The graph, for TensorBoard's graph view (an event of its own).
    ///
    /// # Errors
    /// [`Error::Export`] (`Io`) naming the file.
    pub fn graph(&mut self, step: i64, graph: &opset::Graph) -> Result<()> {
        let graph_def = Some(GraphDef::of(graph).encode_to_vec());
        self.write(&Event { wall_time: wall_time(), step, graph_def, ..Event::default() })
    }

    /// One event at `step` holding `scalars` (tag, value).
    ///
    /// # Errors
    /// [`Error::Export`] (`Io`) naming the file.
    pub fn scalars(&mut self, step: i64, scalars: &[(&str, f32)]) -> Result<()> {
        let value = scalars
            .iter()
            .map(|&(tag, v)| SummaryValue { tag: tag.to_owned(), simple_value: Some(v), histo: None })
            .collect();
        self.values(step, value)
    }

    /// One event at `step` holding `values` (scalars and histograms).
    ///
    /// # Errors
    /// [`Error::Export`] (`Io`) naming the file.
    pub fn values(&mut self, step: i64, value: Vec<SummaryValue>) -> Result<()> {
        self.write(&Event { wall_time: wall_time(), step, summary: Some(Summary { value }), ..Event::default() })
    }

    /// Writes what is buffered to the file (TensorBoard reads it from then).
    ///
    /// # Errors
    /// [`Error::Export`] (`Io`) naming the file.
    pub fn flush(&mut self) -> Result<()> {
        self.file.flush().map_err(io("writing", &self.path))
    }

    fn write(&mut self, event: &Event) -> Result<()> {
        let data = event.encode_to_vec();
        let record = export::tfrecord::frame(&data);
        self.file.write_all(&record).map_err(io("writing", &self.path))
    }
}

impl Drop for EventWriter {
    fn drop(&mut self) {
        let _ = self.file.flush();
    }
}

/// The scalars of an event file, in order: (tag, step, value).
///
/// # Errors
/// [`Error::Export`]: `Io` if unreadable, `Malformed` for a record whose
/// length or checksum is wrong (naming its offset), `Decode` for one that
/// is not an `Event`.
pub fn read_scalars(path: impl AsRef<Path>) -> Result<Vec<(String, i64, f32)>> {
    let mut scalars = Vec::new();
    for event in read_events(path)? {
        for v in event.summary.iter().flat_map(|s| &s.value) {
            if let Some(value) = v.simple_value {
                scalars.push((v.tag.clone(), event.step, value));
            }
        }
    }
    Ok(scalars)
}

/// Every event of an event file, in order.
///
/// # Errors
/// As [`read_scalars`].
pub fn read_events(path: impl AsRef<Path>) -> Result<Vec<Event>> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(io("reading", path))?;
    let mut events = Vec::new();
    for data in export::tfrecord::split(&bytes, path)? {
        let event = Event::decode(data).map_err(|source| {
            Error::Export(export::Error::Decode { path: path.to_owned(), message: "tensorflow.Event", source })
        })?;
        events.push(event);
    }
    Ok(events)
}

fn wall_time() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// The host name, as TensorFlow puts it in event file names.
fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty() && !h.contains('/'))
        .unwrap_or_else(|| "localhost".to_owned())
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.to_owned();
    move |source| Error::Export(export::Error::Io { action, path, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_tensorflows_and_corruption_is_caught() {
        let dir = tempfile::tempdir().unwrap();
        let mut events = EventWriter::create(dir.path()).unwrap();
        events.scalars(1, &[("loss", 2.5), ("global_step/sec", 100.0)]).unwrap();
        events.scalars(2, &[("loss", 1.5)]).unwrap();
        events.flush().unwrap();
        let path = events.path().to_owned();
        assert!(path.file_name().unwrap().to_str().unwrap().starts_with("events.out.tfevents."));
        let scalars = read_scalars(&path).unwrap();
        assert_eq!(scalars, [("loss".into(), 1, 2.5), ("global_step/sec".into(), 1, 100.0), ("loss".into(), 2, 1.5)]);
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 6;
        bytes[last] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let err = read_scalars(&path).unwrap_err().to_string();
        assert!(err.contains("checksum does not match"), "{err}");
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        assert!(read_scalars(&path).unwrap_err().to_string().contains("truncated"));
    }
}
