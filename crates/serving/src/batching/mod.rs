//! Server-side batching (`--enable_batching`), as TensorFlow Serving's
//! `BatchingSession` over a `SharedBatchScheduler`: concurrent requests to
//! one signature of one version queue together; a batch thread takes the
//! oldest of them that fit in `max_batch_size` rows, runs them as one call
//! (their inputs concatenated row-wise, padded as the
//! [`BatchingParameters`] say) and gives each request its own rows of the
//! outputs.
//!
//! A batch closes when it is full, or when its first request has waited
//! `batch_timeout_micros` and a batch thread is free; with the default
//! timeout, 0, a free thread takes whatever is queued at once, so requests
//! batch exactly when every thread is busy: no added latency at low load,
//! larger batches as load grows. The threads are shared by every model
//! and version, each taking the queue whose oldest request has waited
//! longest.
//!
//! Where TensorFlow Serving fails a request, this server answers it: a
//! request is checked against its signature before it queues, so a bad
//! request gets its own error and never fails the batch it would have
//! joined; requests whose inputs do not share one first dim, or whose
//! signature has an output that is not per row (TensorFlow Serving's
//! "Batched output tensor's 0th dimension does not equal the sum of the
//! 0th dimension sizes of the input tensors"), run alone; should a merged
//! call fail, each of its requests runs alone and gets its own answer.
//! Requests of different row shapes batch only with their own shape
//! unless `pad_variable_length_inputs`. As in TensorFlow Serving, a request
//! of more rows than `max_batch_size` is INVALID_ARGUMENT and a request
//! finding `max_enqueued_batches` batches waiting is UNAVAILABLE.

mod merge;
mod parameters;
mod task;

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

use predictor::{Outputs, Predictor, Tensor};
use tokio::sync::oneshot;

pub use parameters::BatchingParameters;
use task::{Queue, QueueKey, Task};

use crate::error::Error;
use crate::metrics::Metrics;
use crate::model::{Loaded, run};

/// The batch threads and the queues they serve, one per signature of a
/// version (and input keys and, without padding, row shapes).
pub(crate) struct Batcher {
    shared: Arc<Shared>,
}

struct Shared {
    params: BatchingParameters,
    state: Mutex<State>,
    /// Signalled when a task is queued, and at shutdown.
    work: Condvar,
    metrics: Arc<Metrics>,
}

#[derive(Default)]
struct State {
    queues: HashMap<QueueKey, Queue>,
    stopping: bool,
}

impl Batcher {
    /// Starts `params.num_batch_threads` batch threads, recording batch
    /// sizes in `metrics`.
    ///
    /// # Errors
    /// When the system refuses a thread.
    pub(crate) fn start(params: BatchingParameters, metrics: Arc<Metrics>) -> std::io::Result<Batcher> {
        let threads = params.num_batch_threads.max(1);
        let shared = Arc::new(Shared { params, state: Mutex::new(State::default()), work: Condvar::new(), metrics });
        for i in 0..threads {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name(format!("{}_{i}", shared.params.thread_pool_name))
                .spawn(move || shared.work())?;
        }
        Ok(Batcher { shared })
    }

    /// Runs `inputs` on `signature` (empty: the default one) of `loaded`,
    /// in a batch with other requests when it can.
    ///
    /// # Errors
    /// The predictor's for bad inputs (before queueing);
    /// [`Error::BadRequest`] for more rows than `max_batch_size`;
    /// [`Error::QueueFull`] when `max_enqueued_batches` batches wait;
    /// the predictor's for a failed call.
    pub(crate) async fn predict(
        &self,
        loaded: &Arc<Loaded>,
        signature: &str,
        mut inputs: Vec<(String, Tensor)>,
    ) -> Result<Outputs, Error> {
        let predictor = loaded.predictor(signature)?;
        predictor.check_inputs(&inputs)?;
        let signature = predictor.signature_name();
        let Some(rows) = batch_rows(&inputs).filter(|&r| r > 0 && !loaded.unbatchable(signature)) else {
            return run(predictor, inputs);
        };
        let params = &self.shared.params;
        if rows > params.max_batch_size {
            return Err(Error::BadRequest(format!(
                "Task size {rows} is larger than maximum input batch size {} (max_batch_size of the batching parameters)",
                params.max_batch_size
            )));
        }
        for _ in &inputs {
            // Once per input tensor, as TensorFlow Serving records it.
            self.shared.metrics.input_batch_size(rows);
        }
        inputs.sort_by(|a, b| a.0.cmp(&b.0));
        let (reply, answer) = oneshot::channel();
        let task = Task {
            loaded: Arc::clone(loaded),
            signature: signature.to_owned(),
            inputs,
            rows,
            enqueued: Instant::now(),
            reply,
        };
        self.shared.enqueue(task)?;
        answer.await.unwrap_or_else(|_| {
            Err(Error::Interrupted { what: "a batched prediction", reason: "its batch thread stopped".into() })
        })
    }
}

impl Drop for Batcher {
    /// The threads answer what is queued, then end.
    fn drop(&mut self) {
        self.shared.lock().stopping = true;
        self.shared.work.notify_all();
    }
}

/// The rows of a request: the first dim every input shares, if they share one.
fn batch_rows(inputs: &[(String, Tensor)]) -> Option<usize> {
    let mut dims = inputs.iter().map(|(_, t)| t.shape().first().copied());
    let first = dims.next()??;
    dims.all(|d| d == Some(first)).then_some(first)
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn enqueue(&self, task: Task) -> Result<(), Error> {
        let key = QueueKey::of(&task, !self.params.pad_variable_length_inputs);
        let mut state = self.lock();
        let queued = state.queues.get(&key).map_or(0, |q| q.rows);
        let batches = (queued + task.rows).div_ceil(self.params.max_batch_size);
        if batches > self.params.max_enqueued_batches {
            return Err(Error::QueueFull {
                signature: task.signature.clone(),
                batches: self.params.max_enqueued_batches,
            });
        }
        let queue = state.queues.entry(key).or_default();
        queue.rows += task.rows;
        queue.tasks.push_back(task);
        drop(state);
        self.work.notify_one();
        Ok(())
    }

    /// A batch thread: takes the ready batch that has waited longest, runs
    /// it, and so on until shutdown empties the queues.
    fn work(&self) {
        let (max, timeout) = (self.params.max_batch_size, self.params.batch_timeout);
        let mut state = self.lock();
        loop {
            let now = Instant::now();
            let (mut ready, mut next_due): (Option<(&QueueKey, Instant)>, Option<Instant>) = (None, None);
            for (key, queue) in &state.queues {
                let Some(oldest) = queue.tasks.front().map(|t| t.enqueued) else { continue };
                let due = oldest + timeout;
                if queue.rows >= max || due <= now || state.stopping {
                    if ready.is_none_or(|(_, o)| oldest < o) {
                        ready = Some((key, oldest));
                    }
                } else {
                    next_due = Some(next_due.map_or(due, |d| d.min(due)));
                }
            }
            if let Some((key, _)) = ready {
                let key = key.clone();
                let Some(queue) = state.queues.get_mut(&key) else { continue };
                let batch = queue.take_batch(max);
                if queue.tasks.is_empty() {
                    state.queues.remove(&key);
                }
                drop(state);
                self.process(batch);
                state = self.lock();
                continue;
            }
            if state.stopping {
                return;
            }
            state = match next_due {
                Some(due) => {
                    let wait = due.saturating_duration_since(now);
                    self.work.wait_timeout(state, wait).unwrap_or_else(|p| p.into_inner()).0
                }
                None => self.work.wait(state).unwrap_or_else(|p| p.into_inner()),
            };
        }
    }

    /// Runs one batch and answers each of its requests.
    fn process(&self, batch: Vec<Task>) {
        // A request whose caller has gone (timed out) is not run.
        let batch: Vec<Task> = batch.into_iter().filter(|t| !t.reply.is_closed()).collect();
        let Some(first) = batch.first() else { return };
        let loaded = Arc::clone(&first.loaded);
        let signature = first.signature.clone();
        let predictor = match loaded.predictor(&signature) {
            Ok(p) => p,
            Err(e) => {
                // Never: the signature was found when the request queued.
                let message = e.to_string();
                for task in batch {
                    let _ = task.reply.send(Err(Error::BadRequest(message.clone())));
                }
                return;
            }
        };
        let rows: usize = batch.iter().map(|t| t.rows).sum();
        if batch.len() == 1 && self.params.padded_size(rows) == rows {
            self.metrics.processed_batch_size(rows);
            return alone(predictor, batch);
        }
        let requests: Vec<merge::Request<'_>> = batch.iter().map(|t| (t.inputs.as_slice(), t.rows)).collect();
        let merged = merge::merge(&requests, &self.params);
        drop(requests);
        let Ok((inputs, padded_rows)) = merged else {
            return alone(predictor, batch);
        };
        self.metrics.processed_batch_size(padded_rows);
        let Ok(outputs) = run(predictor, inputs) else {
            // Each request alone, to give each its own answer or error.
            return alone(predictor, batch);
        };
        let rows: Vec<usize> = batch.iter().map(|t| t.rows).collect();
        match merge::split(&outputs, &rows, padded_rows) {
            Some(each) => {
                for (task, outputs) in batch.into_iter().zip(each) {
                    let _ = task.reply.send(Ok(outputs));
                }
            }
            None => {
                if loaded.mark_unbatchable(&signature) {
                    tracing::warn!(
                        version = loaded.version,
                        signature,
                        "an output of this signature is not per row (its first dim is not the batch's rows): its requests run one at a time"
                    );
                }
                alone(predictor, batch);
            }
        }
    }
}

/// Runs each task of `batch` on its own.
fn alone(predictor: &Predictor, batch: Vec<Task>) {
    for task in batch {
        let _ = task.reply.send(run(predictor, task.inputs));
    }
}
