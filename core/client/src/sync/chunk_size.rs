//! How many bytes the next upload chunk carries. Chunks start at 1 MiB (or the
//! largest allowed, if smaller), double while they are answered quickly and
//! halve when they are slow or fail, never past the largest allowed
//! (`ClientOptions::upload_chunk_bytes`): a cut connection re-sends at most one
//! chunk, and a chunk stays a few seconds of transfer on whatever link there is.

use std::time::Duration;

/// The first chunk of an upload (unless the largest allowed is smaller).
const FIRST: u64 = 1024 * 1024;
/// Chunks never shrink below this (unless the largest allowed is smaller).
const SMALLEST: u64 = 64 * 1024;
/// A chunk answered within this lets the next ones double.
const FAST: Duration = Duration::from_millis(500);
/// A chunk slower than this halves the next ones.
const SLOW: Duration = Duration::from_secs(4);

/// The chunk size of one photo's upload.
#[derive(Debug, Clone)]
pub(crate) struct ChunkSize {
    current: u64,
    smallest: u64,
    largest: u64,
}

impl ChunkSize {
    /// Sizes that never exceed `largest` bytes.
    pub(crate) fn new(largest: u64) -> ChunkSize {
        let largest = largest.max(1);
        ChunkSize { current: FIRST.min(largest), smallest: SMALLEST.min(largest), largest }
    }

    /// Bytes of the next chunk when `left` bytes remain.
    pub(crate) fn next(&self, left: u64) -> u64 {
        self.current.min(left)
    }

    /// A chunk of `len` bytes was confirmed `took` after it was sent. Only a
    /// chunk of at least half the current size tells how the link copes with it
    /// (the last chunk of a photo may be small; the one sent while this size was
    /// chosen may be half of it).
    pub(crate) fn confirmed(&mut self, len: u64, took: Duration) {
        if took <= FAST && len.saturating_mul(2) >= self.current {
            self.current = self.current.saturating_mul(2).min(self.largest);
        } else if took > SLOW {
            self.shrink();
        }
    }

    /// A chunk was refused as damaged, cut short or lost its place.
    pub(crate) fn failed(&mut self) {
        self.shrink();
    }

    fn shrink(&mut self) {
        self.current = (self.current / 2).max(self.smallest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024;

    #[test]
    fn grows_while_fast_within_the_bound_and_shrinks_on_trouble() {
        let mut c = ChunkSize::new(8 * MIB);
        assert_eq!(c.next(100 * MIB), MIB);
        assert_eq!(c.next(1000), 1000, "never more than is left");
        let fast = Duration::from_millis(100);
        // the chunk sent while the first was in flight was chosen at the old size
        c.confirmed(MIB, fast);
        c.confirmed(MIB, fast);
        assert_eq!(c.next(u64::MAX), 4 * MIB);
        c.confirmed(2 * MIB, fast);
        c.confirmed(4 * MIB, fast);
        assert_eq!(c.next(u64::MAX), 8 * MIB, "bounded");
        c.confirmed(1000, fast);
        assert_eq!(c.next(u64::MAX), 8 * MIB, "a small last chunk tells nothing");
        c.confirmed(8 * MIB, Duration::from_secs(2));
        assert_eq!(c.next(u64::MAX), 8 * MIB, "neither fast nor slow: kept");
        c.confirmed(8 * MIB, Duration::from_secs(5));
        assert_eq!(c.next(u64::MAX), 4 * MIB);
        for _ in 0..10 {
            c.failed();
        }
        assert_eq!(c.next(u64::MAX), SMALLEST);
    }

    #[test]
    fn a_small_bound_is_a_fixed_size() {
        let mut c = ChunkSize::new(32 * 1024);
        assert_eq!(c.next(u64::MAX), 32 * 1024);
        c.confirmed(32 * 1024, Duration::ZERO);
        c.failed();
        c.failed();
        assert_eq!(c.next(u64::MAX), 32 * 1024);
        assert_eq!(ChunkSize::new(0).next(10), 1);
    }
}
