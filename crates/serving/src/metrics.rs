//! The server's metrics, in Prometheus' text format as TensorFlow Serving's
//! exporter writes them (tensorflow_serving/util/prometheus_exporter.cc:
//! `/` in a metric's name becomes `:`, `# TYPE` lines, histograms as
//! cumulative `_bucket{...,le="..."}` lines then `_sum` and `_count`), with
//! TensorFlow Serving's names and labels
//! (tensorflow_serving/servables/tensorflow/util.cc,
//! tensorflow/cc/saved_model/loader.cc):
//!
//! - `:tensorflow:serving:request_count{model_name,status}`: Predict,
//!   Classify and Regress requests, REST and gRPC, by status code name;
//! - `:tensorflow:serving:request_latency{model_name,API,entrypoint,status}`:
//!   a histogram of each request's wall time in microseconds, buckets
//!   10 x 1.8^i (i < 33) then +Inf as TensorFlow Serving's; `API` is
//!   `Predict`, `Classify`, `Regress`, `GetModelMetadata` or
//!   `GetModelStatus`, `entrypoint` `REST` or `GRPC`;
//! - `:tensorflow:cc:saved_model:load_attempt_count{model_path,status}`
//!   (`success` or `fail`) and `:tensorflow:cc:saved_model:load_latency{model_path}`
//!   (microseconds, summed over successful loads): each version load;
//! - `:tensorflow:serving:batching_session:input_batch_size` and
//!   `:tensorflow:serving:batching_session:processed_batch_size`
//!   (`--enable_batching`): histograms of the rows of each request queued
//!   (once per input tensor, as TensorFlow Serving counts) and of each
//!   batch run (padding included), buckets 1, 2, 4... 8192 then +Inf;
//! - `:tensorflow:serving:model_warmup_latency{model_path,status}`: a
//!   histogram of each warmup's wall time in microseconds (`--enable_model_warmup`,
//!   a version with a warmup file), status `OK` or the failure;
//! - `serving_model_unload_count{model_name}` (this server's own; TensorFlow
//!   Serving has none): versions unloaded, by a new version, a policy or a
//!   config reload.
//!
//! Recording a request costs a read lock, a hash of the model name and two
//! relaxed atomic additions.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// The APIs requests are recorded by, with TensorFlow Serving's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// `Predict` (REST `:predict`).
    Predict,
    /// `Classify` (REST `:classify`).
    Classify,
    /// `Regress` (REST `:regress`).
    Regress,
    /// `GetModelMetadata` (REST `/metadata`).
    GetModelMetadata,
    /// `GetModelStatus` (REST `GET /v1/models/{name}`).
    GetModelStatus,
}

const APIS: [Api; 5] = [Api::Predict, Api::Classify, Api::Regress, Api::GetModelMetadata, Api::GetModelStatus];

impl Api {
    /// The `API` label's value, as TensorFlow Serving's.
    pub fn name(self) -> &'static str {
        match self {
            Api::Predict => "Predict",
            Api::Classify => "Classify",
            Api::Regress => "Regress",
            Api::GetModelMetadata => "GetModelMetadata",
            Api::GetModelStatus => "GetModelStatus",
        }
    }
}

/// Where a request came in, TensorFlow Serving's `entrypoint` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entrypoint {
    /// The REST API.
    Rest,
    /// The gRPC API.
    Grpc,
}

const ENTRYPOINTS: [Entrypoint; 2] = [Entrypoint::Rest, Entrypoint::Grpc];

impl Entrypoint {
    /// The `entrypoint` label's value: `REST` or `GRPC`.
    pub fn name(self) -> &'static str {
        match self {
            Entrypoint::Rest => "REST",
            Entrypoint::Grpc => "GRPC",
        }
    }
}

/// gRPC's status codes by number, as `error::Code_Name` writes them.
const CODES: [&str; 17] = [
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];

/// The name of `code`, as TensorFlow's `error::Code_Name`: `OK`,
/// `INVALID_ARGUMENT`...
pub fn code_name(code: tonic::Code) -> &'static str {
    usize::try_from(code as i32).ok().and_then(|i| CODES.get(i)).copied().unwrap_or("UNKNOWN")
}

/// Bucket limits of `request_latency`: TensorFlow's
/// `Buckets::Exponential(10, 1.8, 33)`, then +Inf.
const LIMITS: usize = 33;

/// TensorFlow's `Buckets::Exponential(scale, factor, count)`: `count`
/// limits from `scale` on, each `factor` times the last (+Inf follows).
fn exponential(scale: f64, factor: f64, count: usize) -> Vec<f64> {
    std::iter::successors(Some(scale), |l| Some(l * factor)).take(count).collect()
}

/// The most model names recorded one by one; requests for further names
/// (unknown models a client makes up) are recorded under `(other)`.
const MAX_NAMES: usize = 256;
const OTHER: &str = "(other)";

/// One histogram: counts per bucket (TensorFlow's: a value goes in the
/// first bucket whose limit exceeds it; the last is +Inf) and the sum.
struct Histogram {
    buckets: Box<[AtomicU64]>,
    sum: AtomicU64,
}

impl Histogram {
    fn new(limits: usize) -> Histogram {
        Histogram { buckets: (0..=limits).map(|_| AtomicU64::new(0)).collect(), sum: AtomicU64::new(0) }
    }

    fn add(&self, limits: &[f64], value: u64) {
        // The value as a float, as TensorFlow's Sampler adds it.
        #[allow(clippy::cast_precision_loss)]
        let bucket = limits.partition_point(|&limit| limit <= value as f64);
        if let Some(b) = self.buckets.get(bucket) {
            b.fetch_add(1, Ordering::Relaxed);
        }
        self.sum.fetch_add(value, Ordering::Relaxed);
    }

    /// The counts per bucket and the sum, or `None` when nothing was added.
    fn snapshot(&self) -> Option<(Vec<u64>, u64)> {
        let buckets: Vec<u64> = self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).collect();
        buckets.iter().any(|&n| n > 0).then(|| (buckets, self.sum.load(Ordering::Relaxed)))
    }
}

/// Writes one histogram's `_bucket` lines (cumulative), `_sum` and `_count`.
fn write_histogram(out: &mut String, name: &str, labels: &str, limits: &[f64], buckets: &[u64], sum: u64) {
    let sep = if labels.is_empty() { "" } else { "," };
    let mut cumulative = 0;
    for (i, n) in buckets.iter().enumerate() {
        cumulative += n;
        let le = limits.get(i).map_or_else(|| "+Inf".to_owned(), |&l| number(l));
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{le}\"}} {cumulative}");
    }
    let _ = writeln!(out, "{name}_sum{{{labels}}} {sum}");
    let _ = writeln!(out, "{name}_count{{{labels}}} {cumulative}");
}

/// A model's histograms, one per (API, entrypoint, status).
struct ModelCells(Box<[Histogram]>);

impl ModelCells {
    fn new() -> ModelCells {
        ModelCells((0..APIS.len() * ENTRYPOINTS.len() * CODES.len()).map(|_| Histogram::new(LIMITS)).collect())
    }

    fn cell(&self, api: usize, entrypoint: usize, code: usize) -> Option<&Histogram> {
        self.0.get((api * ENTRYPOINTS.len() + entrypoint) * CODES.len() + code)
    }
}

/// What the server records: requests, loads, unloads, batch sizes.
pub struct Metrics {
    limits: Vec<f64>,
    /// Limits of the batch-size histograms: `Exponential(1, 2, 14)`.
    batch_limits: Vec<f64>,
    input_batch_size: Histogram,
    processed_batch_size: Histogram,
    /// Warmup wall times by (model path, status).
    warmups: Mutex<BTreeMap<(String, String), Arc<Histogram>>>,
    requests: RwLock<HashMap<String, Arc<ModelCells>>>,
    loads: Mutex<BTreeMap<(String, &'static str), u64>>,
    load_latency_us: Mutex<BTreeMap<String, u64>>,
    unloads: Mutex<BTreeMap<String, u64>>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics {
            limits: exponential(10.0, 1.8, LIMITS),
            batch_limits: exponential(1.0, 2.0, 14),
            input_batch_size: Histogram::new(14),
            processed_batch_size: Histogram::new(14),
            warmups: Mutex::new(BTreeMap::new()),
            requests: RwLock::new(HashMap::new()),
            loads: Mutex::new(BTreeMap::new()),
            load_latency_us: Mutex::new(BTreeMap::new()),
            unloads: Mutex::new(BTreeMap::new()),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl Metrics {
    fn cells(&self, model: &str) -> Arc<ModelCells> {
        if let Some(cells) = self.requests.read().unwrap_or_else(|p| p.into_inner()).get(model) {
            return Arc::clone(cells);
        }
        let mut all = self.requests.write().unwrap_or_else(|p| p.into_inner());
        let name = if all.len() >= MAX_NAMES && !all.contains_key(model) { OTHER } else { model };
        Arc::clone(all.entry(name.to_owned()).or_insert_with(|| Arc::new(ModelCells::new())))
    }

    /// Records one request for `model` to `api` through `entrypoint`,
    /// answered with `code` after `latency`.
    pub fn request(&self, model: &str, api: Api, entrypoint: Entrypoint, code: tonic::Code, latency: Duration) {
        let (api, entrypoint) = (api as usize, entrypoint as usize);
        let code = usize::try_from(code as i32).unwrap_or(2).min(CODES.len() - 1);
        let cells = self.cells(model);
        let Some(cell) = cells.cell(api, entrypoint, code) else { return };
        cell.add(&self.limits, micros(latency));
    }

    /// Records a request of `rows` rows queued for batching (TensorFlow
    /// Serving records it once per input tensor).
    pub fn input_batch_size(&self, rows: usize) {
        self.input_batch_size.add(&self.batch_limits, rows as u64);
    }

    /// Records a batch run with `rows` rows (padding included).
    pub fn processed_batch_size(&self, rows: usize) {
        self.processed_batch_size.add(&self.batch_limits, rows as u64);
    }

    /// Records a load of the version at `path`: whether it succeeded, and
    /// how long it took.
    pub fn load(&self, path: &str, ok: bool, latency: Duration) {
        let status = if ok { "success" } else { "fail" };
        *lock(&self.loads).entry((path.to_owned(), status)).or_default() += 1;
        if ok {
            *lock(&self.load_latency_us).entry(path.to_owned()).or_default() += micros(latency);
        }
    }

    /// Records a warmup of the version at `path` that took `latency` and
    /// ended with `status` (`OK`, or TensorFlow's `CODE: message`).
    pub fn warmup(&self, path: &str, status: &str, latency: Duration) {
        let cell = Arc::clone(
            lock(&self.warmups)
                .entry((path.to_owned(), status.to_owned()))
                .or_insert_with(|| Arc::new(Histogram::new(LIMITS))),
        );
        cell.add(&self.limits, micros(latency));
    }

    /// Records `count` versions of `model` unloaded.
    pub fn unload(&self, model: &str, count: usize) {
        if count > 0 {
            *lock(&self.unloads).entry(model.to_owned()).or_default() += count as u64;
        }
    }

    /// The page in Prometheus' text format, metrics sorted by name as
    /// TensorFlow Serving's exporter sorts them.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let loads = lock(&self.loads).clone();
        if !loads.is_empty() {
            out.push_str("# TYPE :tensorflow:cc:saved_model:load_attempt_count counter\n");
            for ((path, status), n) in &loads {
                let _ = writeln!(
                    out,
                    ":tensorflow:cc:saved_model:load_attempt_count{{model_path=\"{}\",status=\"{status}\"}} {n}",
                    escape(path)
                );
            }
        }
        let latency = lock(&self.load_latency_us).clone();
        if !latency.is_empty() {
            out.push_str("# TYPE :tensorflow:cc:saved_model:load_latency counter\n");
            for (path, us) in &latency {
                let _ =
                    writeln!(out, ":tensorflow:cc:saved_model:load_latency{{model_path=\"{}\"}} {us}", escape(path));
            }
        }
        let mut models: Vec<(String, Arc<ModelCells>)> = self
            .requests
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(k, v)| (k.clone(), Arc::clone(v)))
            .collect();
        models.sort_by(|a, b| a.0.cmp(&b.0));
        self.render_batching(&mut out);
        self.render_requests(&mut out, &models);
        self.render_warmups(&mut out);
        let unloads = lock(&self.unloads).clone();
        if !unloads.is_empty() {
            out.push_str("# TYPE serving_model_unload_count counter\n");
            for (model, n) in &unloads {
                let _ = writeln!(out, "serving_model_unload_count{{model_name=\"{}\"}} {n}", escape(model));
            }
        }
        out
    }

    fn render_requests(&self, out: &mut String, models: &[(String, Arc<ModelCells>)]) {
        // A snapshot of every non-empty cell: (model, api, entrypoint, code, buckets, sum).
        let mut cells = Vec::new();
        for (model, all) in models {
            for (a, api) in APIS.iter().enumerate() {
                for (e, entrypoint) in ENTRYPOINTS.iter().enumerate() {
                    for (c, code) in CODES.iter().enumerate() {
                        let Some(cell) = all.cell(a, e, c) else { continue };
                        if let Some((buckets, sum)) = cell.snapshot() {
                            cells.push((model, *api, *entrypoint, *code, buckets, sum));
                        }
                    }
                }
            }
        }
        let mut counts: BTreeMap<(&String, &str), u64> = BTreeMap::new();
        for (model, api, _, code, buckets, _) in &cells {
            if matches!(api, Api::Predict | Api::Classify | Api::Regress) {
                *counts.entry((model, code)).or_default() += buckets.iter().sum::<u64>();
            }
        }
        if !counts.is_empty() {
            out.push_str("# TYPE :tensorflow:serving:request_count counter\n");
            for ((model, code), n) in &counts {
                let _ = writeln!(
                    out,
                    ":tensorflow:serving:request_count{{model_name=\"{}\",status=\"{code}\"}} {n}",
                    escape(model)
                );
            }
        }
        if cells.is_empty() {
            return;
        }
        out.push_str("# TYPE :tensorflow:serving:request_latency histogram\n");
        for (model, api, entrypoint, code, buckets, sum) in &cells {
            let labels = format!(
                "model_name=\"{}\",API=\"{}\",entrypoint=\"{}\",status=\"{code}\"",
                escape(model),
                api.name(),
                entrypoint.name()
            );
            write_histogram(out, ":tensorflow:serving:request_latency", &labels, &self.limits, buckets, *sum);
        }
    }

    /// The warmup latency histograms, once a version has warmed up.
    fn render_warmups(&self, out: &mut String) {
        let warmups: Vec<((String, String), Arc<Histogram>)> =
            lock(&self.warmups).iter().map(|(k, v)| (k.clone(), Arc::clone(v))).collect();
        if warmups.is_empty() {
            return;
        }
        let name = ":tensorflow:serving:model_warmup_latency";
        let _ = writeln!(out, "# TYPE {name} histogram");
        for ((path, status), histogram) in warmups {
            if let Some((buckets, sum)) = histogram.snapshot() {
                let labels = format!("model_path=\"{}\",status=\"{}\"", escape(&path), escape(&status));
                write_histogram(out, name, &labels, &self.limits, &buckets, sum);
            }
        }
    }

    /// The batch-size histograms, once batching has run.
    fn render_batching(&self, out: &mut String) {
        for (name, histogram) in [
            (":tensorflow:serving:batching_session:input_batch_size", &self.input_batch_size),
            (":tensorflow:serving:batching_session:processed_batch_size", &self.processed_batch_size),
        ] {
            if let Some((buckets, sum)) = histogram.snapshot() {
                let _ = writeln!(out, "# TYPE {name} histogram");
                write_histogram(out, name, "", &self.batch_limits, &buckets, sum);
            }
        }
    }
}

/// A label value with `\` and `"` escaped, as TensorFlow Serving's exporter does.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"")
}

/// A bucket limit as `absl::StrCat` writes a double: 6 significant digits,
/// no trailing zeros (`10`, `18`, `32.4`, `104.976`, `1.13374e+06`).
fn number(value: f64) -> String {
    if value >= 1e6 {
        let exponent = value.log10().floor();
        let mantissa = value / 10f64.powf(exponent);
        let digits = format!("{mantissa:.5}");
        let digits = digits.trim_end_matches('0').trim_end_matches('.');
        return format!("{digits}e+{exponent:02}");
    }
    let integer_digits = value.log10().floor() + 1.0;
    // Below 1e6: at most 6 integer digits, so the decimals are 0..=5.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let decimals = (6.0 - integer_digits).max(0.0) as usize;
    let text = format!("{value:.decimals$}");
    if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_owned() } else { text }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn bucket_limits_are_written_as_tensorflow_writes_them() {
        let written: Vec<String> = exponential(10.0, 1.8, LIMITS).iter().take(6).map(|&l| number(l)).collect();
        assert_eq!(written, ["10", "18", "32.4", "58.32", "104.976", "188.957"]);
        assert_eq!(number(exponential(10.0, 1.8, LIMITS)[20]), "1.27482e+06");
    }

    #[test]
    fn counts_and_histograms_by_model_api_and_status() {
        let metrics = Metrics::default();
        let ms = Duration::from_millis(1);
        metrics.request("toy", Api::Predict, Entrypoint::Rest, tonic::Code::Ok, ms);
        metrics.request("toy", Api::Predict, Entrypoint::Grpc, tonic::Code::Ok, ms);
        metrics.request("toy", Api::Predict, Entrypoint::Rest, tonic::Code::InvalidArgument, Duration::ZERO);
        metrics.request("toy", Api::GetModelStatus, Entrypoint::Rest, tonic::Code::Ok, ms);
        metrics.load("/m/1", true, ms);
        metrics.load("/m/2", false, ms);
        metrics.unload("toy", 1);
        let page = metrics.render();
        for line in [
            ":tensorflow:serving:request_count{model_name=\"toy\",status=\"OK\"} 2",
            ":tensorflow:serving:request_count{model_name=\"toy\",status=\"INVALID_ARGUMENT\"} 1",
            ":tensorflow:serving:request_latency_bucket{model_name=\"toy\",API=\"Predict\",entrypoint=\"REST\",status=\"OK\",le=\"10\"} 0",
            ":tensorflow:serving:request_latency_bucket{model_name=\"toy\",API=\"Predict\",entrypoint=\"REST\",status=\"OK\",le=\"+Inf\"} 1",
            ":tensorflow:serving:request_latency_sum{model_name=\"toy\",API=\"Predict\",entrypoint=\"REST\",status=\"OK\"} 1000",
            ":tensorflow:serving:request_latency_count{model_name=\"toy\",API=\"GetModelStatus\",entrypoint=\"REST\",status=\"OK\"} 1",
            ":tensorflow:serving:request_latency_bucket{model_name=\"toy\",API=\"Predict\",entrypoint=\"REST\",status=\"INVALID_ARGUMENT\",le=\"10\"} 1",
            ":tensorflow:cc:saved_model:load_attempt_count{model_path=\"/m/1\",status=\"success\"} 1",
            ":tensorflow:cc:saved_model:load_attempt_count{model_path=\"/m/2\",status=\"fail\"} 1",
            ":tensorflow:cc:saved_model:load_latency{model_path=\"/m/1\"} 1000",
            "serving_model_unload_count{model_name=\"toy\"} 1",
            "# TYPE :tensorflow:serving:request_latency histogram",
        ] {
            assert!(page.lines().any(|l| l == line), "{line} not in\n{page}");
        }
    }
}
