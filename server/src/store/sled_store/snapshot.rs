//! A consistent copy of the whole store while it serves (ADR 0032): every
//! writer is held off for the moment the trees are read, so the copy is the
//! store as of one instant, with no transaction half in it.

use std::sync::atomic::Ordering;

use super::open::{FORMAT_KEY, STORE_FORMAT};
use super::{backend, read_u64, SledStore, SEQ_KEY};
use crate::store::{SnapshotInfo, SnapshotSink, StoreError, StoreResult};

/// Trees a snapshot leaves out: photo uploads under way (their partial bytes
/// are not copied; a phone whose upload the restored server does not know
/// starts a new one).
pub(crate) const NOT_COPIED: &[&str] = &["uploads"];

impl SledStore {
    /// Hands every entry of every tree but [`NOT_COPIED`] to `sink`, while no
    /// write can start: the writer lock, the audit lock and the snapshot gate
    /// are held throughout. The sink should be fast (a buffered local file):
    /// pushes wait for it.
    pub(super) fn snapshot_to(&self, sink: &mut SnapshotSink<'_>) -> StoreResult<SnapshotInfo> {
        let _w = self.lock();
        let _a = self.audit_lock.lock().unwrap_or_else(|p| p.into_inner());
        let _g = self.gate.write().unwrap_or_else(|p| p.into_inner());
        let last_seq = match self.meta.get(SEQ_KEY).map_err(backend)? {
            Some(v) => read_u64(&v)?,
            None => 0,
        };
        let store_format = match self.meta.get(FORMAT_KEY).map_err(backend)? {
            Some(v) => read_u64(&v)?,
            None => STORE_FORMAT,
        };
        let mut names: Vec<Vec<u8>> = self.db.tree_names().into_iter().map(|n| n.to_vec()).collect();
        names.sort();
        for raw in names {
            let name =
                String::from_utf8(raw.clone()).map_err(|_| StoreError::Corrupt("a tree name is not UTF-8".into()))?;
            if NOT_COPIED.contains(&name.as_str()) {
                continue;
            }
            let tree = self.db.open_tree(&raw).map_err(backend)?;
            for kv in tree.iter() {
                let (k, v) = kv.map_err(backend)?;
                sink(&name, &k, &v)?;
            }
        }
        tracing::debug!(last_seq, visible = self.visible.load(Ordering::SeqCst), "snapshot taken");
        Ok(SnapshotInfo { last_seq, feed_epoch: self.epoch.id.clone(), store_format })
    }
}
