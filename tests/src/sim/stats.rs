//! Counting what the simulated devices did: ops, answers, errors, sync latencies.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use fengqiao_core::{ClientError, SyncReport};
use fengqiao_domain::EntityKind;

/// Shared counters of one phase (devices update it concurrently).
#[derive(Default)]
pub struct Tally {
    inner: Mutex<Counts>,
}

/// The counters.
#[derive(Debug, Clone, Default)]
pub struct Counts {
    /// Records saved on the phones, by kind.
    pub recorded: BTreeMap<String, u64>,
    /// Recording failures, by error code.
    pub record_errors: BTreeMap<String, u64>,
    /// Syncs that completed.
    pub syncs: u64,
    /// Syncs that failed, by error code.
    pub sync_errors: BTreeMap<String, u64>,
    /// Syncs skipped: the phone had no signal.
    pub offline: u64,
    /// Ops the server applied.
    pub applied: u64,
    /// Ops the server had seen before (answered `duplicate`).
    pub duplicates: u64,
    /// Ops refused (rejections, conflicts, malformed).
    pub rejected: u64,
    /// Changes pulled.
    pub pulled: u64,
    /// Photos uploaded and verified.
    pub photos: u64,
    /// Latencies of the completed syncs.
    pub latencies: Vec<Duration>,
}

impl Counts {
    /// Total recorded.
    pub fn recorded_total(&self) -> u64 {
        self.recorded.values().sum()
    }
    /// Total failed syncs.
    pub fn errors(&self) -> u64 {
        self.sync_errors.values().sum()
    }
    /// Latency percentile `p` (0..=1) in milliseconds, 0 with no samples.
    pub fn percentile_ms(&self, p: f64) -> f64 {
        percentile_ms(&self.latencies, p)
    }
}

/// Percentile `p` (0..=1) of `samples` in milliseconds (nearest rank); 0 if empty.
pub fn percentile_ms(samples: &[Duration], p: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let mut s = samples.to_vec();
    s.sort();
    let rank = ((s.len() as f64) * p).ceil().max(1.0) as usize;
    s[rank.min(s.len()) - 1].as_secs_f64() * 1000.0
}

fn kind_name(kind: EntityKind) -> String {
    serde_json::to_value(kind).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_else(|| format!("{kind:?}"))
}

impl Tally {
    fn with(&self, f: impl FnOnce(&mut Counts)) {
        let mut c = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut c);
    }
    /// A record saved on a phone.
    pub fn recorded(&self, kind: EntityKind) {
        self.with(|c| *c.recorded.entry(kind_name(kind)).or_default() += 1);
    }
    /// A record the phone refused to save.
    pub fn record_error(&self, code: &str) {
        self.with(|c| *c.record_errors.entry(code.to_string()).or_default() += 1);
    }
    /// A sync skipped for want of signal.
    pub fn offline(&self) {
        self.with(|c| c.offline += 1);
    }
    /// A completed sync.
    pub fn synced(&self, took: Duration, r: &SyncReport) {
        self.with(|c| {
            c.syncs += 1;
            c.applied += r.pushed_applied;
            c.duplicates += r.pushed_duplicate;
            c.rejected += r.rejected + r.conflicts + r.malformed;
            c.pulled += r.pulled;
            c.photos += r.photos_uploaded;
            c.latencies.push(took);
        });
    }
    /// A failed sync.
    pub fn sync_error(&self, e: &ClientError) {
        self.with(|c| *c.sync_errors.entry(e.code().to_string()).or_default() += 1);
    }
    /// (syncs, recorded, applied, failed syncs), without copying the latencies.
    pub fn snapshot_light(&self) -> (u64, u64, u64, u64) {
        let c = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        (c.syncs, c.recorded_total(), c.applied, c.errors())
    }
    /// A copy of the counters.
    pub fn snapshot(&self) -> Counts {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// One line of the summary table.
pub fn summary_line(name: &str, c: &Counts, secs: f64) -> String {
    let errors = if c.sync_errors.is_empty() {
        "0".to_string()
    } else {
        c.sync_errors.iter().map(|(k, v)| format!("{k}:{v}")).collect::<Vec<_>>().join(",")
    };
    format!(
        "{name:<10} {:>7} {:>8.1} {:>8} {:>8} {:>5} {:>5} {:>8} {:>7.0} {:>7.0} {:>7.0} {:>7.0}  {errors}",
        c.syncs,
        if secs > 0.0 { c.syncs as f64 / secs } else { 0.0 },
        c.recorded_total(),
        c.applied,
        c.duplicates,
        c.rejected,
        c.offline,
        c.percentile_ms(0.5),
        c.percentile_ms(0.95),
        c.percentile_ms(0.99),
        c.percentile_ms(1.0),
    )
}

/// The summary table's header.
pub fn summary_header() -> String {
    format!(
        "{:<10} {:>7} {:>8} {:>8} {:>8} {:>5} {:>5} {:>8} {:>7} {:>7} {:>7} {:>7}  errors",
        "phase",
        "syncs",
        "syncs/s",
        "recorded",
        "applied",
        "dup",
        "rej",
        "offline",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let s: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile_ms(&s, 0.5), 50.0);
        assert_eq!(percentile_ms(&s, 0.99), 99.0);
        assert_eq!(percentile_ms(&s, 1.0), 100.0);
        assert_eq!(percentile_ms(&[], 0.5), 0.0);
    }
}
