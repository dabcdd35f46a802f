//! Giving back the space of deleted values: sled 0.34 removes a deleted value
//! but never shrinks its files (a large value lives in its own file under
//! `blobs/`, which sled does not delete either), so a store that held large
//! ops the server refused stays large after they are discarded. At open, when
//! sled's files are much larger than the data they hold, the store copies its
//! live keys and values (sealed bytes as they are, the write generation
//! `K_GEN` included, so the generation check of ADR 0006 passes unchanged)
//! into a fresh sled database and swaps that in.
//!
//! The swap is crash-safe: every intermediate state is recognised at the next
//! open, which finishes it before sled opens, and the old copy is given up
//! only once the new one is complete and synced:
//!
//! 1. copy into `compact.new/`, flush, wait for sled to let go of it, sync
//!    its files and folders (a crash here leaves an incomplete copy with no
//!    marker: the next open deletes it and keeps the old files);
//! 2. write the marker `compact.out` (synced): the copy is complete;
//! 3. move sled's files (`conf`, `db`, `blobs`, `snap.*`) one by one into
//!    `compact.old/` (a crash here: the next open moves the rest, since
//!    nothing new has come in yet);
//! 4. rename the marker to `compact.in`: the old files are all out;
//! 5. move every file of `compact.new/` into the store's folder (a crash
//!    here: the next open moves the rest in);
//! 6. remove the marker, then `compact.old/` and `compact.new/` (leftovers
//!    without a marker are deleted at the next open).
//!
//! The key file, the generation file and the outbox journal are not touched.
//! Two processes opening one store at once cannot interleave these steps:
//! all of them (finishing an earlier swap included) run under the lock on the
//! generation file ([`super::integrity::lock`]).

use std::fs::{self, File};
use std::path::Path;

use super::super::StoreResult;
use super::journal::{io, sync_dir};
use super::{backend, SledClientStore, K_FREED};

/// Where the fresh copy is built.
pub(crate) const NEW_DIR: &str = "compact.new";
/// Where the old files go while the copy is moved in.
pub(crate) const OLD_DIR: &str = "compact.old";
/// Marker: the copy is complete, the old files are being moved out.
pub(crate) const MARK_OUT: &str = "compact.out";
/// Marker: the old files are out, the copy is being moved in.
pub(crate) const MARK_IN: &str = "compact.in";

/// Below this many bytes on disk, sled's files are left as they are; and
/// until this many bytes were discarded, opening does not measure them.
pub(crate) const FLOOR: u64 = 4 * 1024 * 1024;
/// Compact when the files exceed this many times the live data (plus [`FLOOR`]).
const FACTOR: u64 = 2;

/// Is this one of sled's own files or folders?
pub(crate) fn is_sled_file(name: &str) -> bool {
    matches!(name, "conf" | "db" | "blobs") || name.starts_with("snap.")
}

/// Is this one of the compaction's files or folders?
pub(crate) fn is_compaction_file(name: &str) -> bool {
    matches!(name, NEW_DIR | OLD_DIR | MARK_OUT | MARK_IN)
}

#[cfg(test)]
thread_local! {
    /// Test hook: the compaction stops (as if the phone died) after this many steps.
    pub(crate) static STOP_AFTER: std::cell::Cell<Option<u32>> = const { std::cell::Cell::new(None) };
    static STEPS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Marks the end of one durable step (test builds may stop here).
fn step() {
    #[cfg(test)]
    {
        let n = STEPS.with(|s| {
            s.set(s.get() + 1);
            s.get()
        });
        if STOP_AFTER.with(|s| s.get()) == Some(n) {
            STEPS.with(|s| s.set(0));
            panic!("compaction stopped after step {n}");
        }
    }
}

/// Finishes a swap an earlier open started, or deletes the leftovers of one
/// that never reached its marker (called before sled opens).
pub(crate) fn resume(dir: &Path) -> StoreResult<()> {
    if dir.join(MARK_OUT).exists() {
        move_out(dir)?;
    }
    if dir.join(MARK_IN).exists() {
        move_in(dir)?;
    }
    for leftover in [NEW_DIR, OLD_DIR] {
        let p = dir.join(leftover);
        if p.exists() {
            fs::remove_dir_all(&p).map_err(|e| io("compaction leftovers", e))?;
        }
    }
    Ok(())
}

fn freed_value(v: Option<&[u8]>) -> u64 {
    v.and_then(|b| b.try_into().ok()).map(u64::from_be_bytes).unwrap_or(0)
}

impl SledClientStore {
    /// Counts `n` more bytes discarded since sled's files were last measured.
    pub(super) fn note_freed(&self, n: u64) -> StoreResult<()> {
        self.meta
            .fetch_and_update(K_FREED, |old| Some(freed_value(old).saturating_add(n).to_be_bytes().to_vec()))
            .map_err(backend)?;
        Ok(())
    }
}

/// Bytes discarded since sled's files were last measured (see [`K_FREED`]).
pub(crate) fn freed(db: &sled::Db) -> u64 {
    let Ok(meta) = db.open_tree("meta") else { return 0 };
    meta.get(K_FREED).ok().flatten().map(|v| freed_value(Some(&v))).unwrap_or(0)
}

/// Starts counting discarded bytes afresh, once sled's files were measured.
pub(crate) fn forget_freed(db: &sled::Db) -> StoreResult<()> {
    db.open_tree("meta").and_then(|m| m.remove(K_FREED)).map_err(backend)?;
    Ok(())
}

/// Whether sled's files are much larger than the keys and values they hold.
pub(crate) fn due(db: &sled::Db) -> bool {
    let Ok(on_disk) = db.size_on_disk() else { return false };
    if on_disk < FLOOR {
        return false;
    }
    let mut live = 0u64;
    for name in db.tree_names() {
        let Ok(tree) = db.open_tree(&name) else { return false };
        for item in tree.iter() {
            let Ok((k, v)) = item else { return false };
            live += (k.len() + v.len()) as u64;
        }
    }
    let due = on_disk > FACTOR * live + FLOOR;
    if due {
        tracing::info!(on_disk, live, "compacting the store's files");
    }
    due
}

/// Copies `db` into `compact.new/` and writes the marker (steps 1 and 2).
/// On an error nothing is changed (the incomplete copy is deleted).
pub(crate) fn copy(db: &sled::Db, dir: &Path) -> StoreResult<()> {
    let new = dir.join(NEW_DIR);
    let res = copy_into(db, &new);
    if res.is_err() {
        let _ = fs::remove_dir_all(&new);
        return res;
    }
    step();
    let marker = File::create(dir.join(MARK_OUT)).map_err(|e| io("compaction marker", e))?;
    marker.sync_all().map_err(|e| io("compaction marker", e))?;
    sync_dir(dir);
    step();
    Ok(())
}

fn copy_into(db: &sled::Db, new: &Path) -> StoreResult<()> {
    let sled_err = |e: sled::Error| super::backend(e);
    if new.exists() {
        fs::remove_dir_all(new).map_err(|e| io("compaction copy", e))?;
    }
    {
        let fresh = sled::Config::new().path(new).open().map_err(sled_err)?;
        for name in db.tree_names() {
            let src = db.open_tree(&name).map_err(sled_err)?;
            let dst = fresh.open_tree(&name).map_err(sled_err)?;
            for item in src.iter() {
                let (k, v) = item.map_err(sled_err)?;
                dst.insert(k, v).map_err(sled_err)?;
            }
        }
        fresh.flush().map_err(sled_err)?;
    }
    wait_released(&new.join("db"))?;
    sync_tree(new)
}

/// Waits until no sled instance holds the database file at `db` (sled's
/// threads let go of it shortly after the last handle is dropped).
pub(crate) fn wait_released(db: &Path) -> StoreResult<()> {
    use fs4::fs_std::FileExt;
    let f = File::open(db).map_err(|e| io("compaction", e))?;
    for _ in 0..500 {
        if f.try_lock_exclusive().map_err(|e| io("compaction", e))? {
            let _ = FileExt::unlock(&f);
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    Err(io("compaction", std::io::Error::other("the storage engine did not let go of its files")))
}

/// Syncs every file and folder under `p`.
fn sync_tree(p: &Path) -> StoreResult<()> {
    let meta = fs::metadata(p).map_err(|e| io("compaction copy", e))?;
    if meta.is_dir() {
        for entry in fs::read_dir(p).map_err(|e| io("compaction copy", e))? {
            sync_tree(&entry.map_err(|e| io("compaction copy", e))?.path())?;
        }
        sync_dir(p);
    } else {
        File::open(p).and_then(|f| f.sync_all()).map_err(|e| io("compaction copy", e))?;
    }
    Ok(())
}

/// Moves sled's old files out, then flips the marker (steps 3 and 4).
fn move_out(dir: &Path) -> StoreResult<()> {
    let old = dir.join(OLD_DIR);
    fs::create_dir_all(&old).map_err(|e| io("compaction swap", e))?;
    for entry in fs::read_dir(dir).map_err(|e| io("compaction swap", e))? {
        let name = entry.map_err(|e| io("compaction swap", e))?.file_name();
        if is_sled_file(&name.to_string_lossy()) {
            fs::rename(dir.join(&name), old.join(&name)).map_err(|e| io("compaction swap", e))?;
            sync_dir(dir);
            step();
        }
    }
    sync_dir(&old);
    fs::rename(dir.join(MARK_OUT), dir.join(MARK_IN)).map_err(|e| io("compaction swap", e))?;
    sync_dir(dir);
    step();
    Ok(())
}

/// Moves the copy in, then removes the marker and the leftovers (steps 5 and 6).
fn move_in(dir: &Path) -> StoreResult<()> {
    let new = dir.join(NEW_DIR);
    for entry in fs::read_dir(&new).map_err(|e| io("compaction swap", e))? {
        let name = entry.map_err(|e| io("compaction swap", e))?.file_name();
        fs::rename(new.join(&name), dir.join(&name)).map_err(|e| io("compaction swap", e))?;
        sync_dir(dir);
        step();
    }
    fs::remove_file(dir.join(MARK_IN)).map_err(|e| io("compaction swap", e))?;
    sync_dir(dir);
    step();
    for leftover in [OLD_DIR, NEW_DIR] {
        if let Err(e) = fs::remove_dir_all(dir.join(leftover)) {
            tracing::warn!(error = %e, "could not remove the compaction's leftovers");
        }
        step();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::integrity::tests::{outbox_ids, queue, reopen, visit_op};
    use super::super::SledClientStore;
    use super::*;
    use crate::store::{ClientStore, QuarantineReason};
    use chrono::Utc;
    use fengqiao_domain::wire::Op;
    use fengqiao_domain::{EntityKind, Record};
    use uuid::Uuid;

    fn refused() -> QuarantineReason {
        QuarantineReason { code: "text_too_long".into(), message: "x".into(), current: None }
    }

    /// What a store holds that a compaction must keep.
    #[derive(Debug, PartialEq)]
    struct Held {
        outbox: Vec<Uuid>,
        quarantined: Vec<Uuid>,
        records: usize,
        device: Uuid,
    }

    fn held(s: &SledClientStore) -> Held {
        Held {
            outbox: outbox_ids(s),
            quarantined: s.quarantined().expect("quarantine").into_iter().map(|q| q.op.op_id).collect(),
            records: s.list_records(EntityKind::Visit, usize::MAX).expect("records").len(),
            device: s.device_id().expect("device"),
        }
    }

    /// A store with queued, quarantined and synced work, and the space of
    /// ten large discarded ops (about 9 MB of sled's files) to give back.
    fn build(dir: &Path) -> (Held, u64) {
        let s = SledClientStore::open(dir, &crate::store::test_key()).expect("open");
        let ids = queue(&s, 6);
        assert!(s.complete_op(ids[0]).expect("complete"));
        assert!(s.quarantine_op(ids[1], &refused(), Utc::now()).expect("quarantine"));
        for _ in 0..10 {
            let (_, mut op) = visit_op(Uuid::from_u128(7));
            let Op::RecordVisit(v) = &mut op.op else { unreachable!("a visit op") };
            v.notes = "字".repeat(100_000);
            let record = Record::Visit(v.clone());
            s.enqueue(&record, &op, Utc::now()).expect("enqueue large");
            assert!(s.quarantine_op(op.op_id, &refused(), Utc::now()).expect("quarantine"));
            assert!(s.discard_quarantined(op.op_id).expect("discard"));
        }
        let h = held(&s);
        assert_eq!((h.outbox.len(), h.quarantined.len(), h.records), (4, 1, 6));
        (h, s.disk_bytes())
    }

    /// Copies a closed store's files.
    fn copy_dir(from: &Path, to: &Path) {
        fs::create_dir_all(to).expect("mkdir");
        for e in fs::read_dir(from).expect("read dir").flatten() {
            let dst = to.join(e.file_name());
            if e.file_type().expect("type").is_dir() {
                copy_dir(&e.path(), &dst);
            } else {
                fs::copy(e.path(), dst).expect("copy");
            }
        }
    }

    fn stop_after(n: Option<u32>) {
        STEPS.with(|s| s.set(0));
        STOP_AFTER.with(|s| s.set(n));
    }

    /// Opening a store whose files outgrew their data rewrites them; a
    /// rewrite stopped after any of its steps (as if the phone died there)
    /// leaves a store that the next open finishes or rolls back, with every
    /// record, queued op and quarantined op, and the space given back.
    #[test]
    fn a_compaction_stopped_after_any_step_leaves_the_store_whole() {
        let built = tempfile::tempdir().expect("dir");
        let (before, big) = build(built.path());
        assert!(big > 6_000_000, "the discarded ops' space is still held: {big}");
        wait_released(&built.path().join("db")).expect("closed");
        let mut finished = false;
        for n in 1..40 {
            let dir = tempfile::tempdir().expect("dir");
            copy_dir(built.path(), dir.path());
            stop_after(Some(n));
            let opened =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| reopen(dir.path()).map(|s| held(&s))));
            stop_after(None);
            let s = match opened {
                Ok(held_now) => {
                    // no step left to stop at: an uninterrupted compaction
                    assert_eq!(held_now.expect("opens"), before);
                    finished = true;
                    reopen(dir.path()).expect("reopen")
                }
                Err(_) => reopen(dir.path()).expect("an interrupted compaction leaves a store that opens"),
            };
            assert_eq!(held(&s), before, "stopped after step {n}");
            assert!(s.db.size_on_disk().expect("size") < FLOOR, "stopped after step {n}: compacted");
            let small = s.disk_bytes();
            assert!(small < 2_000_000, "stopped after step {n}: {big} B became {small} B");
            let names: Vec<String> = fs::read_dir(dir.path())
                .expect("dir")
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            assert!(!names.iter().any(|n| is_compaction_file(n)), "stopped after step {n}: leftovers {names:?}");
            // still a working store: it takes writes and reopens with them
            let more = queue(&s, 1);
            drop(s);
            let s = reopen(dir.path()).expect("reopen after a write");
            assert_eq!(outbox_ids(&s), [before.outbox.clone(), more].concat());
            if finished {
                assert!(n > 8, "the compaction has its steps: {n}");
                return;
            }
        }
        panic!("the compaction never ran to its end");
    }

    /// Two opens racing on a store due for compaction: whichever gets it
    /// finds it whole and compacted, the other is refused (sled's files are
    /// held) or, coming second, opens the compacted store.
    #[test]
    fn racing_opens_do_not_interleave_a_swap() {
        let dir = tempfile::tempdir().expect("dir");
        let (before, _) = build(dir.path());
        wait_released(&dir.path().join("db")).expect("closed");
        let path = dir.path().to_path_buf();
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
        let opens: Vec<_> = (0..2)
            .map(|_| {
                let (p, b) = (path.clone(), barrier.clone());
                std::thread::spawn(move || {
                    b.wait();
                    SledClientStore::open(&p, &crate::store::test_key()).map(|s| (held(&s), s.disk_bytes()))
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().expect("no panic"))
            .collect();
        let opened: Vec<_> = opens.into_iter().filter_map(Result::ok).collect();
        assert!(!opened.is_empty(), "one open gets the store");
        for (h, bytes) in opened {
            assert_eq!(h, before);
            assert!(bytes < 2_000_000, "compacted: {bytes}");
        }
        let s = reopen(dir.path()).expect("reopen");
        assert_eq!(held(&s), before);
    }

    /// A store below the floor, or whose files hold mostly live data, is left as it is.
    #[test]
    fn a_store_holding_what_its_files_hold_is_not_rewritten() {
        let dir = tempfile::tempdir().expect("dir");
        let s = SledClientStore::open(dir.path(), &crate::store::test_key()).expect("open");
        queue(&s, 20);
        for _ in 0..10 {
            let (_, mut op) = visit_op(Uuid::from_u128(7));
            let Op::RecordVisit(v) = &mut op.op else { unreachable!("a visit op") };
            v.notes = "字".repeat(100_000);
            s.enqueue(&Record::Visit(v.clone()), &op, Utc::now()).expect("enqueue large");
        }
        assert!(!due(&s.db), "live large ops are not garbage");
        drop(s);
        let s = reopen(dir.path()).expect("reopen");
        assert_eq!(outbox_ids(&s).len(), 30);
        assert!(!dir.path().join(OLD_DIR).exists() && !dir.path().join(NEW_DIR).exists());
    }
}
