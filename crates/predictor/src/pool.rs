//! Persistent helper threads that split one large kernel call between the
//! cores: the caller offers a job of numbered chunks, takes chunks itself
//! at once, and idle helpers (spinning briefly, then parked) take the rest.
//!
//! Splitting a layer of a 35 us batch-1 call must cost well under a
//! microsecond, so helpers are never spawned per call (that costs ~10 us),
//! and a helper that finished a job spins ~50 us for the next one (the
//! next layer, or the next call) before parking. The caller never waits
//! for a helper to wake: whatever nobody has taken yet it runs itself, so
//! a split call is never much slower than running on one thread. One job
//! runs at a time; a caller that finds the helpers busy (another request
//! of a server, say) runs its chunks alone rather than queueing.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering::*};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

/// How long an idle helper spins, watching for a job, before it parks.
const SPIN: Duration = Duration::from_micros(50);

/// At most this many helpers, whatever the machine.
const MAX_HELPERS: usize = 63;

/// Runs `task(c)` for every chunk `c` in `0..chunks`, on the calling thread
/// and on up to `chunks - 1` helpers, and returns once all have run.
/// Chunks are taken in order, so with as many chunks as threads the caller
/// runs chunk 0.
///
/// # Errors
/// If `task` panicked on a helper (the panic is caught there; the helper
/// lives on). A panic on the calling thread unwinds as usual.
pub(crate) fn for_each_chunk(chunks: usize, task: &(dyn Fn(usize) + Sync)) -> Result<(), HelperPanicked> {
    let Some(pool) = (chunks > 1).then(pool).flatten() else {
        (0..chunks).for_each(task);
        return Ok(());
    };
    if pool.busy.swap(true, Acquire) {
        (0..chunks).for_each(task);
        return Ok(());
    }
    let job = Job { task, chunks, next: AtomicUsize::new(0), panicked: AtomicBool::new(false) };
    // The guard withdraws the job and waits out the helpers inside it, even
    // if `task` panics on this thread: no helper outlives the borrow.
    let offer = Offer::new(pool, &job);
    job.run_chunks();
    drop(offer);
    if job.panicked.load(Acquire) { Err(HelperPanicked) } else { Ok(()) }
}

/// A chunk panicked on a helper thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HelperPanicked;

impl std::fmt::Display for HelperPanicked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the kernel panicked on a helper thread")
    }
}

/// The helpers, started on first use (as many as the machine has cores,
/// less the caller's); `None` on a single core or if none could start.
fn pool() -> Option<&'static Pool> {
    static POOL: OnceLock<Option<Pool>> = OnceLock::new();
    POOL.get_or_init(|| {
        let cores = thread::available_parallelism().map_or(1, usize::from);
        Pool::start(cores.saturating_sub(1).min(MAX_HELPERS))
    })
    .as_ref()
}

struct Pool {
    shared: &'static Shared,
    helpers: Vec<Thread>,
    /// Held by the caller whose job is on offer.
    busy: AtomicBool,
}

struct Shared {
    /// The job on offer (borrowed from the offering caller's stack), or null.
    job: AtomicPtr<Job<'static>>,
    /// Bumped with each offer; idle helpers watch it.
    epoch: AtomicU64,
    /// Helpers that may be reading the job on offer.
    inside: AtomicUsize,
    /// Helpers parked (or about to park), which an offer must wake.
    parked: AtomicUsize,
}

struct Job<'a> {
    task: &'a (dyn Fn(usize) + Sync),
    chunks: usize,
    next: AtomicUsize,
    panicked: AtomicBool,
}

impl Job<'_> {
    /// Takes and runs chunks until none is left.
    fn run_chunks(&self) {
        loop {
            let c = self.next.fetch_add(1, Relaxed);
            if c >= self.chunks {
                return;
            }
            (self.task)(c);
        }
    }
}

impl Pool {
    fn start(helpers: usize) -> Option<Pool> {
        let shared: &'static Shared = Box::leak(Box::new(Shared {
            job: AtomicPtr::new(std::ptr::null_mut()),
            epoch: AtomicU64::new(0),
            inside: AtomicUsize::new(0),
            parked: AtomicUsize::new(0),
        }));
        let helpers: Vec<Thread> = (0..helpers)
            .map_while(|i| {
                thread::Builder::new()
                    .name(format!("predictor-helper-{i}"))
                    .spawn(move || help(shared))
                    .ok()
                    .map(|handle| handle.thread().clone())
            })
            .collect();
        (!helpers.is_empty()).then(|| Pool { shared, helpers, busy: AtomicBool::new(false) })
    }
}

/// A job on offer, withdrawn on drop.
struct Offer<'p> {
    pool: &'p Pool,
}

impl<'p> Offer<'p> {
    fn new(pool: &'p Pool, job: &Job<'_>) -> Offer<'p> {
        let shared = pool.shared;
        // The lifetime is erased here and restored by `Drop`, which does not
        // return while a helper can still see the pointer.
        shared.job.store(std::ptr::from_ref(job).cast::<Job<'static>>().cast_mut(), SeqCst);
        shared.epoch.fetch_add(1, SeqCst);
        if shared.parked.load(SeqCst) > 0 {
            pool.helpers.iter().take(job.chunks - 1).for_each(Thread::unpark);
        }
        Offer { pool }
    }
}

impl Drop for Offer<'_> {
    fn drop(&mut self) {
        let shared = self.pool.shared;
        shared.job.store(std::ptr::null_mut(), SeqCst);
        // A helper counts itself in before it reads the pointer, so once the
        // count is zero after the withdrawal none holds the job.
        while shared.inside.load(SeqCst) != 0 {
            std::hint::spin_loop();
        }
        self.pool.busy.store(false, Release);
    }
}

/// A helper's life: wait for an offer, take chunks, repeat.
fn help(shared: &'static Shared) {
    let mut seen = shared.epoch.load(SeqCst);
    loop {
        seen = wait_for_offer(shared, seen);
        shared.inside.fetch_add(1, SeqCst);
        let job = shared.job.load(SeqCst);
        // SAFETY: a non-null pointer read after counting in is the job on
        // offer, whose caller waits in `Offer::drop` until `inside` drops
        // back, so the job outlives this use.
        if let Some(job) = unsafe { job.as_ref() }
            && catch_unwind(AssertUnwindSafe(|| job.run_chunks())).is_err()
        {
            job.panicked.store(true, Release);
        }
        shared.inside.fetch_sub(1, SeqCst);
    }
}

/// Spins until the epoch moves past `seen`, parking after [`SPIN`] idle;
/// returns the new epoch.
fn wait_for_offer(shared: &Shared, seen: u64) -> u64 {
    let mut idle_since = Instant::now();
    let mut spins = 0u32;
    loop {
        let epoch = shared.epoch.load(Acquire);
        if epoch != seen {
            return epoch;
        }
        spins = spins.wrapping_add(1);
        if !spins.is_multiple_of(128) || idle_since.elapsed() < SPIN {
            std::hint::spin_loop();
            continue;
        }
        // Announce the park before the last look at the epoch: an offer made
        // after that look sees `parked` and unparks (a pending unpark makes
        // `park` return at once).
        shared.parked.fetch_add(1, SeqCst);
        if shared.epoch.load(SeqCst) == seen {
            thread::park();
        }
        shared.parked.fetch_sub(1, SeqCst);
        idle_since = Instant::now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_chunk_runs_once() {
        for chunks in [0, 1, 2, 3, 17] {
            let runs: Vec<AtomicUsize> = (0..chunks).map(|_| AtomicUsize::new(0)).collect();
            for_each_chunk(chunks, &|c| {
                runs[c].fetch_add(1, Relaxed);
            })
            .unwrap();
            assert!(runs.iter().all(|r| r.load(Relaxed) == 1), "{chunks} chunks: {runs:?}");
        }
    }

    #[test]
    fn concurrent_callers_and_parked_helpers() {
        let total = AtomicUsize::new(0);
        thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for i in 0..500 {
                        for_each_chunk(2, &|c| {
                            total.fetch_add(c + 1, Relaxed);
                        })
                        .unwrap();
                        if i % 100 == 0 {
                            // Long enough for the helpers to park.
                            thread::sleep(SPIN * 4);
                        }
                    }
                });
            }
        });
        assert_eq!(total.load(Relaxed), 4 * 500 * 3);
    }

    #[test]
    fn a_panicking_chunk_reaches_the_caller() {
        // Chunk 1 runs on a helper (an error) or, if none was free, here (a panic).
        let result = catch_unwind(|| for_each_chunk(2, &|c| assert!(c != 1, "chunk 1 fails")));
        assert!(matches!(result, Err(_) | Ok(Err(HelperPanicked))));
        // The helpers survive it.
        let runs = AtomicUsize::new(0);
        for_each_chunk(2, &|_| {
            runs.fetch_add(1, Relaxed);
        })
        .unwrap();
        assert_eq!(runs.load(Relaxed), 2);
    }
}
