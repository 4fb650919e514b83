//! A request waiting to be batched, and the queue it waits in.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use predictor::{Outputs, Tensor};
use tokio::sync::oneshot;

use crate::error::Error;
use crate::model::Loaded;

/// One request's call: its version, signature and inputs, and where its
/// answer goes.
pub(super) struct Task {
    /// The version that answers; held so it stays loaded until answered.
    pub(super) loaded: Arc<Loaded>,
    /// The signature key (resolved: never empty).
    pub(super) signature: String,
    /// The inputs, sorted by key.
    pub(super) inputs: Vec<(String, Tensor)>,
    /// The rows: every input's first dim.
    pub(super) rows: usize,
    /// When it was queued.
    pub(super) enqueued: Instant,
    /// Where the answer goes (nobody listens once the request timed out).
    pub(super) reply: oneshot::Sender<Result<Outputs, Error>>,
}

/// What requests must share to run in one call: the version (by address,
/// held alive by every task queued under it), the signature, the input keys
/// and, without padding, each input's row shape.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(super) struct QueueKey {
    loaded: usize,
    signature: String,
    inputs: Vec<(String, Option<Vec<usize>>)>,
}

impl QueueKey {
    pub(super) fn of(task: &Task, row_shapes: bool) -> QueueKey {
        let inputs = task
            .inputs
            .iter()
            .map(|(key, t)| (key.clone(), row_shapes.then(|| t.shape().get(1..).unwrap_or_default().to_vec())))
            .collect();
        QueueKey { loaded: Arc::as_ptr(&task.loaded) as usize, signature: task.signature.clone(), inputs }
    }
}

/// The tasks waiting under one key, oldest first.
#[derive(Default)]
pub(super) struct Queue {
    pub(super) tasks: VecDeque<Task>,
    /// The rows of all its tasks.
    pub(super) rows: usize,
}

impl Queue {
    /// Takes the oldest tasks that fit in one batch of `max_batch_size`
    /// rows (at least one).
    pub(super) fn take_batch(&mut self, max_batch_size: usize) -> Vec<Task> {
        let mut batch = Vec::new();
        let mut rows = 0;
        while let Some(next) = self.tasks.front() {
            if !batch.is_empty() && rows + next.rows > max_batch_size {
                break;
            }
            rows += next.rows;
            batch.extend(self.tasks.pop_front());
        }
        self.rows -= rows;
        batch
    }
}
