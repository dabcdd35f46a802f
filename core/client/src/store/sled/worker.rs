//! A long-lived helper thread that applies an enqueue's sled transaction while
//! the calling thread waits for the journal's disk sync (ADR 0016).
//!
//! One thread per open store, fed through a channel; it ends when the store
//! is dropped. Without it (the thread could not be started, or it died) jobs
//! run on the caller, before the sync, as they did before.

use std::sync::mpsc::{self, Receiver, Sender};

type Job = Box<dyn FnOnce() + Send + 'static>;

/// The helper thread's queue.
pub(crate) struct Worker {
    jobs: Option<Sender<Job>>,
}

/// A job's result, ready or on its way.
pub(crate) enum Pending<T> {
    /// Ran on the caller.
    Ready(T),
    /// Running on the helper thread.
    Running(Receiver<T>),
}

impl<T> Pending<T> {
    /// The job's result; `None` if the helper thread died running it.
    pub(crate) fn wait(self) -> Option<T> {
        match self {
            Pending::Ready(t) => Some(t),
            Pending::Running(rx) => rx.recv().ok(),
        }
    }
}

impl Worker {
    /// Starts the helper thread (or runs jobs inline if it cannot be started).
    pub(crate) fn start() -> Worker {
        let (tx, rx) = mpsc::channel::<Job>();
        let spawned = std::thread::Builder::new().name("fengqiao-store".into()).spawn(move || {
            while let Ok(job) = rx.recv() {
                // A job that panics reports nothing (its result channel is
                // dropped) and the thread goes on with the next one.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
            }
        });
        match spawned {
            Ok(_) => Worker { jobs: Some(tx) },
            Err(e) => {
                tracing::warn!(error = %e, "no store helper thread: enqueues apply before their sync");
                Worker { jobs: None }
            }
        }
    }

    /// Runs `f` on the helper thread, or here if there is none.
    pub(crate) fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Pending<T> {
        let Some(jobs) = &self.jobs else { return Pending::Ready(f()) };
        let (tx, rx) = mpsc::sync_channel(1);
        let job: Job = Box::new(move || {
            // The caller may have given up waiting (it never does today).
            let _ = tx.send(f());
        });
        match jobs.send(job) {
            Ok(()) => Pending::Running(rx),
            // The thread is gone: run the job here.
            Err(mpsc::SendError(job)) => {
                job();
                match rx.try_recv() {
                    Ok(t) => Pending::Ready(t),
                    Err(_) => Pending::Running(rx),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_jobs_off_the_caller_and_returns_their_results() {
        let w = Worker::start();
        let caller = std::thread::current().id();
        let p = w.run(move || std::thread::current().id() != caller);
        assert_eq!(p.wait(), Some(true));
        let results: Vec<u32> = (0..10).map(|i| w.run(move || i * 2)).map(|p| p.wait().unwrap_or(0)).collect();
        assert_eq!(results, (0..10).map(|i| i * 2).collect::<Vec<_>>());
    }

    #[test]
    fn a_job_that_panics_is_reported_and_later_jobs_still_run() {
        let w = Worker::start();
        let p = w.run(|| -> u32 { panic!("boom") });
        assert_eq!(p.wait(), None);
        assert_eq!(w.run(|| 7).wait(), Some(7));
    }
}
