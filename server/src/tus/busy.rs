//! Which uploads are being written (one writer per upload in this process),
//! and the running SHA-256 of each.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Uploads being written (one writer per upload), the running SHA-256 of each
/// upload's bytes so far (so a completed upload is verified without reading it
/// again; after a restart, or when another process took chunks of it, the
/// hash is recomputed from the stored chunks instead).
#[derive(Default)]
pub struct Busy {
    writing: Mutex<HashSet<Uuid>>,
    hashes: Mutex<HashMap<Uuid, (u64, Sha256)>>,
}

/// Holds an upload for one writer; let go when dropped. Owned, so that the
/// keeping of a complete photo can hold it in a task of its own.
pub struct BusyGuard(Arc<Busy>, Uuid);

impl Busy {
    /// The upload for this request alone, or `None` if another request holds it.
    ///
    /// The guard is made only once the claim is won and the lock is let go: a
    /// guard made and dropped under the lock would lock again in its `Drop`
    /// (a deadlock of the thread, then of every request) and would release the
    /// other writer's claim.
    pub fn take(self: &Arc<Self>, id: Uuid) -> Option<BusyGuard> {
        let won = self.writing.lock().unwrap_or_else(|p| p.into_inner()).insert(id);
        if won {
            Some(BusyGuard(self.clone(), id))
        } else {
            None
        }
    }

    /// The running hash of an upload if it covers exactly `offset` bytes.
    pub fn running(&self, id: Uuid, offset: u64) -> Option<Sha256> {
        if offset == 0 {
            return Some(Sha256::new());
        }
        let map = self.hashes.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&id).filter(|(o, _)| *o == offset).map(|(_, h)| h.clone())
    }

    /// Keeps the running hash of an upload's first `offset` bytes.
    pub fn keep(&self, id: Uuid, offset: u64, h: Sha256) {
        self.hashes.lock().unwrap_or_else(|p| p.into_inner()).insert(id, (offset, h));
    }

    /// Drops (and returns) an upload's running hash.
    pub fn forget(&self, id: Uuid) -> Option<(u64, Sha256)> {
        self.hashes.lock().unwrap_or_else(|p| p.into_inner()).remove(&id)
    }
}

impl Drop for BusyGuard {
    fn drop(&mut self) {
        self.0.writing.lock().unwrap_or_else(|p| p.into_inner()).remove(&self.1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A take that is refused neither blocks nor lets go of the holder's claim.
    #[test]
    fn a_refused_take_keeps_the_holders_claim() {
        let busy = Arc::new(Busy::default());
        let id = Uuid::now_v7();
        let other = Uuid::now_v7();
        let holder = busy.take(id).expect("the first take wins");
        // On another thread, bounded: a take that locks twice never returns.
        let (tx, rx) = std::sync::mpsc::channel();
        let b = busy.clone();
        std::thread::spawn(move || {
            let refused = b.take(id).is_none();
            let still_held = b.take(id).is_none();
            let other_free = b.take(other).is_some();
            let _ = tx.send((refused, still_held, other_free));
        });
        let Ok((refused, still_held, other_free)) = rx.recv_timeout(std::time::Duration::from_secs(5)) else {
            // The stuck thread holds the lock: dropping the guard would wait forever.
            std::mem::forget(holder);
            panic!("a refused take must answer at once, not wait for a lock it holds");
        };
        assert!(refused, "a second writer is refused");
        assert!(still_held, "the refused take did not release the holder's claim");
        assert!(other_free, "another upload is not held");
        drop(holder);
        assert!(busy.take(id).is_some(), "free again once the holder is done");
    }
}
