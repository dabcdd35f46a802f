//! What keeps the sled store honest about itself (ADR 0006).
//!
//! sled 0.34 recovers a damaged log by stopping at the first bad message and
//! serving what came before, without an error: a damaged phone store would open
//! and quietly show less than it had acknowledged, outbox included. Two small
//! files beside the store guard against that:
//!
//! - `store.gen`: a write generation. Every flush bumps the generation inside
//!   sled, flushes, then writes it here (8 bytes, synced). On open, a sled
//!   generation behind this file means sled lost acknowledged writes: the store
//!   is refused as damaged instead of served.
//! - `outbox.journal` ([`super::journal`]): a write-ahead copy of every queued
//!   operation, with the record and photo it carries; for a plain enqueue its
//!   synced line is the commit point, sled catching up within its 500 ms flush,
//!   and an op journalled with a write generation above sled's at open is
//!   queued again. [`recover`] moves a damaged store aside, opens a fresh one and
//!   replays the journal into it; the server's exactly-once rule answers
//!   `duplicate` for any op it had already applied. The journal is compacted to
//!   the ops still queued or quarantined once it has grown well past them.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::Utc;

use super::super::vault::StoreKey;
use super::super::StoreResult;
use super::journal::{io, read_journal, sync_dir, JOURNAL_FILE};
use super::SledClientStore;

/// File of the write generation.
pub(crate) const GEN_FILE: &str = "store.gen";
/// Reads the generation file (0 when there is none).
pub(crate) fn read_gen(dir: &Path) -> StoreResult<u64> {
    let mut f = match File::open(dir.join(GEN_FILE)) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(io("store.gen", e)),
    };
    let mut b = [0u8; 8];
    match f.read_exact(&mut b) {
        Ok(()) => Ok(u64::from_be_bytes(b)),
        // Created but never written (killed in between): nothing acknowledged yet.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(0),
        Err(e) => Err(io("store.gen", e)),
    }
}

/// The open generation file.
pub(crate) struct GenFile {
    file: Mutex<File>,
}

impl GenFile {
    pub(crate) fn open(dir: &Path) -> StoreResult<GenFile> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.join(GEN_FILE))
            .map_err(|e| io("store.gen", e))?;
        Ok(GenFile { file: Mutex::new(file) })
    }

    /// Records `gen` as acknowledged (after sled has flushed it).
    pub(crate) fn write(&self, gen: u64) -> StoreResult<()> {
        let mut f = self.file.lock().unwrap_or_else(|e| e.into_inner());
        f.seek(SeekFrom::Start(0)).map_err(|e| io("store.gen", e))?;
        f.write_all(&gen.to_be_bytes()).map_err(|e| io("store.gen", e))?;
        f.sync_data().map_err(|e| io("store.gen", e))
    }
}

/// An exclusive lock on the store's generation file, held while a compaction's
/// swap is finished or made ([`super::compact`]; released when the file is
/// dropped). The generation file is written in place, never replaced, so every
/// opener locks the same file.
pub(crate) fn lock(dir: &Path) -> StoreResult<File> {
    use fs4::fs_std::FileExt;
    let f = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(dir.join(GEN_FILE))
        .map_err(|e| io("store.gen", e))?;
    f.lock_exclusive().map_err(|e| io("store.gen", e))?;
    Ok(f)
}

/// What [`SledClientStore::recover`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreRecovery {
    /// Operations replayed from the outbox journal into the fresh store.
    pub replayed_ops: u64,
    /// Journal lines that could not be read (skipped).
    pub unreadable_lines: u64,
    /// Where the damaged store's files were moved (kept for inspection).
    pub damaged_copy: PathBuf,
}

/// Is this file or folder one of sled's (or the generation file)?
fn is_store_file(name: &str) -> bool {
    matches!(name, "conf" | "db" | "blobs" | "snap.tmp" | GEN_FILE) || name.starts_with("snap.")
}

/// Is this file or folder part of the store (sled's, the journal, the key
/// file, a compaction under way)?
pub(crate) fn is_own_file(name: &str) -> bool {
    is_store_file(name)
        || name == JOURNAL_FILE
        || name.starts_with(super::keyfile::KEY_FILE)
        || super::compact::is_compaction_file(name)
}

/// Moves the store in `dir` aside and rebuilds it from the outbox journal.
pub(crate) fn recover(dir: &Path, key: &StoreKey) -> StoreResult<StoreRecovery> {
    let vault = super::keyfile::open_or_create(dir, key)?;
    let journal = read_journal(&dir.join(JOURNAL_FILE), &vault)?;
    let stamp = Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
    let aside = dir.join(format!("damaged-{stamp}"));
    fs::create_dir_all(&aside).map_err(|e| io("damaged copy", e))?;
    for entry in fs::read_dir(dir).map_err(|e| io("data dir", e))? {
        let entry = entry.map_err(|e| io("data dir", e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_store_file(&name) || name == JOURNAL_FILE {
            fs::rename(entry.path(), aside.join(&name)).map_err(|e| io("damaged copy", e))?;
        }
    }
    sync_dir(dir);
    let store = SledClientStore::open(dir, key)?;
    let replayed = store.replay(journal.ops)?;
    store.flush()?;
    tracing::warn!(replayed, unreadable = journal.unreadable, "rebuilt a damaged store from its outbox journal");
    Ok(StoreRecovery { replayed_ops: replayed, unreadable_lines: journal.unreadable, damaged_copy: aside })
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::journal::Journal;
    use super::*;
    use crate::store::{ClientStore, StoreError};
    use chrono::Utc;
    use fengqiao_domain::wire::{Op, OpEnvelope};
    use fengqiao_domain::Record;
    use fengqiao_domain::{Visit, VisitKind};
    use uuid::Uuid;

    pub(in crate::store::sled) fn visit_op(author: Uuid) -> (Record, OpEnvelope) {
        let v = Visit {
            id: Uuid::now_v7(),
            household_id: Uuid::from_u128(50),
            visitor_id: author,
            visited_at: Utc::now(),
            kind: VisitKind::Routine,
            notes: "院墙".into(),
            location: None,
            leads: vec![],
            group_id: None,
            body: None,
        };
        let op = OpEnvelope {
            op_id: Uuid::now_v7(),
            v: 1,
            author,
            created_at: Utc::now(),
            op: Op::RecordVisit(v.clone()),
            seen: None,
        };
        (Record::Visit(v), op)
    }

    /// Queues `n` visits; their op ids.
    pub(in crate::store::sled) fn queue(s: &SledClientStore, n: usize) -> Vec<Uuid> {
        (0..n)
            .map(|_| {
                let (r, op) = visit_op(Uuid::from_u128(7));
                s.enqueue(&r, &op, Utc::now()).expect("enqueue");
                op.op_id
            })
            .collect()
    }

    pub(in crate::store::sled) fn outbox_ids(s: &SledClientStore) -> Vec<Uuid> {
        s.outbox(None, usize::MAX).expect("outbox").into_iter().map(|e| e.op.op_id).collect()
    }

    /// Opens, retrying while sled lets go of the previous handle's lock.
    pub(in crate::store::sled) fn reopen(dir: &Path) -> StoreResult<SledClientStore> {
        for _ in 0..100 {
            match SledClientStore::open(dir, &crate::store::test_key()) {
                Err(StoreError::Backend(m)) if m.contains("lock") || m.contains("Resource temporarily") => {
                    std::thread::sleep(std::time::Duration::from_millis(20))
                }
                other => return other,
            }
        }
        SledClientStore::open(dir, &crate::store::test_key())
    }

    /// Overwrites bytes of sled's log at `frac` of its length.
    fn damage(dir: &Path, frac: f64) {
        let db = dir.join("db");
        let mut bytes = fs::read(&db).expect("read db");
        if frac < 0.0 {
            bytes.iter_mut().for_each(|b| *b = 0);
            fs::write(&db, bytes).expect("write db");
            return;
        }
        let at = ((bytes.len() as f64) * frac) as usize;
        let end = (at + 64).min(bytes.len());
        for b in &mut bytes[at..end] {
            *b ^= 0xA5;
        }
        fs::write(&db, bytes).expect("write db");
    }

    #[test]
    fn a_clean_reopen_passes_the_generation_check() {
        let dir = tempfile::tempdir().expect("dir");
        let ids = {
            let s = SledClientStore::open(dir.path(), &crate::store::test_key()).expect("open");
            let ids = queue(&s, 5);
            // a flushed write (not a plain enqueue, whose commit is the journal) records its generation
            s.save_sync_meta(&crate::store::SyncMeta::default()).expect("flushed write");
            ids
        };
        let s = reopen(dir.path()).expect("reopen");
        assert_eq!(outbox_ids(&s), ids);
        assert!(read_gen(dir.path()).expect("gen") >= 6, "five enqueues and one flush");
    }

    /// sled 0.34 opens a damaged log without an error, serving only what came
    /// before the damage; the generation check refuses it, and recovery gets
    /// every queued op back from the journal.
    #[test]
    fn damaged_log_is_refused_with_a_clear_error_and_the_outbox_recovered() {
        let mut refused = 0;
        for frac in [0.0, 0.2, 0.5, 0.7, 0.9, -1.0] {
            let dir = tempfile::tempdir().expect("dir");
            let (ids, completed) = {
                let s = SledClientStore::open(dir.path(), &crate::store::test_key()).expect("open");
                let ids = queue(&s, 40);
                assert!(s.complete_op(ids[0]).expect("complete"));
                assert!(s
                    .quarantine_op(
                        ids[1],
                        &crate::store::QuarantineReason {
                            code: "invalid_field".into(),
                            message: "x".into(),
                            current: None,
                        },
                        Utc::now()
                    )
                    .expect("quarantine"));
                let first = ids[0];
                (ids, first)
            };
            // let sled's threads let go before touching its files
            drop(reopen(dir.path()).expect("still clean"));
            std::thread::sleep(std::time::Duration::from_millis(200));
            damage(dir.path(), frac);
            let err = match reopen(dir.path()) {
                // Damage in a part of the log sled no longer reads is harmless:
                // then everything must be there, never less.
                Ok(s) => {
                    let mut expected = ids.clone();
                    expected.retain(|id| *id != ids[0] && *id != ids[1]);
                    assert_eq!(outbox_ids(&s), expected, "a store that opens holds all it acknowledged");
                    continue;
                }
                Err(e) => e,
            };
            refused += 1;
            match &err {
                StoreError::Damaged { journalled_ops, .. } => assert_eq!(*journalled_ops, 40),
                other => panic!("expected Damaged, got {other:?}"),
            }
            assert!(err.to_string().contains("damaged") && err.to_string().contains("40 unsynced operations"), "{err}");

            let rec = SledClientStore::recover(dir.path(), &crate::store::test_key()).expect("recover");
            assert_eq!((rec.replayed_ops, rec.unreadable_lines), (40, 0));
            assert!(rec.damaged_copy.join("db").exists(), "the damaged files are kept aside");
            let s = reopen(dir.path()).expect("recovered store opens");
            // every op comes back in its original order, the completed one too
            // (the server answers it `duplicate`)
            assert_eq!(outbox_ids(&s), ids);
            assert!(ids.contains(&completed));
            drop(s);
            assert!(reopen(dir.path()).is_ok(), "and stays clean");
        }
        assert!(refused >= 2, "damage that loses acknowledged writes is refused ({refused} of 6)");
    }

    /// A plain enqueue answers once its journal line is synced; sled writes
    /// the transaction within its flush interval. An op the journal holds
    /// with a generation sled never reached (a crash in between) is queued
    /// again at the next open, once; one sled already holds is not.
    #[test]
    fn ops_sled_lost_after_the_journal_acknowledged_them_are_queued_again() {
        let dir = tempfile::tempdir().expect("dir");
        let (kept, lost) = {
            let s = SledClientStore::open(dir.path(), &crate::store::test_key()).expect("open");
            let kept = queue(&s, 2);
            // as if the process died after the journal sync, before sled wrote it
            let (r, op) = visit_op(Uuid::from_u128(7));
            let gen = s.next_gen();
            s.journal.log_op(&op, &r, None, Utc::now(), gen).expect("journal");
            (kept, op.op_id)
        };
        let s = reopen(dir.path()).expect("reopen");
        let ids = outbox_ids(&s);
        assert_eq!(ids.len(), 3, "the lost op is queued again, the others once: {ids:?}");
        assert_eq!(&ids[..2], &kept[..]);
        assert_eq!(ids[2], lost);
        drop(s);
        let s = reopen(dir.path()).expect("reopen again");
        assert_eq!(outbox_ids(&s).len(), 3, "replayed once, not on every open");
    }

    #[test]
    fn a_deleted_log_is_damage_not_a_fresh_start() {
        let dir = tempfile::tempdir().expect("dir");
        drop(queue(&SledClientStore::open(dir.path(), &crate::store::test_key()).expect("open"), 3));
        drop(reopen(dir.path()).expect("clean"));
        std::thread::sleep(std::time::Duration::from_millis(200));
        fs::remove_file(dir.path().join("db")).expect("rm");
        assert!(matches!(reopen(dir.path()), Err(StoreError::Damaged { journalled_ops: 3, .. })));
    }

    #[test]
    fn journal_skips_torn_lines_and_cancelled_ops_and_compacts() {
        let dir = tempfile::tempdir().expect("dir");
        let s = SledClientStore::open(dir.path(), &crate::store::test_key()).expect("open");
        let ids = queue(&s, 3);
        // a duplicate enqueue neither queues nor cancels the original
        let (r, op) = visit_op(Uuid::from_u128(7));
        s.enqueue(&r, &op, Utc::now()).expect("enqueue");
        assert_eq!(s.enqueue(&r, &op, Utc::now()), Err(StoreError::DuplicateOp(op.op_id)));
        let path = dir.path().join(JOURNAL_FILE);
        let mut f = OpenOptions::new().append(true).open(&path).expect("journal");
        f.write_all(b"{\"t\":\"op\",\"fv\":1,\"op\":{\"op_").expect("torn");
        drop(f);
        let vault = s.vault();
        let read = read_journal(&path, &vault).expect("read");
        assert_eq!(read.ops.len(), 4);
        assert_eq!(read.unreadable, 1);
        let cancelled = Journal::open(dir.path(), vault.clone()).expect("j");
        cancelled.log_cancel(ids[2]);
        assert_eq!(read_journal(&path, &vault).expect("read").ops.len(), 3);
        let raw = fs::read(&path).expect("raw journal");
        assert!(!raw.windows("院墙".len()).any(|w| w == "院墙".as_bytes()), "journal lines are sealed");
        let foreign = crate::store::Vault::ephemeral();
        assert_eq!(read_journal(&path, &foreign).expect("read").ops.len(), 0, "another key reads nothing");

        // completing many ops shrinks the journal to what is still queued
        drop(s);
        let _ = fs::remove_file(&path);
        let s = reopen(dir.path()).expect("reopen");
        let many = queue(&s, 100);
        for id in &many[..95] {
            assert!(s.complete_op(*id).expect("complete"));
        }
        let left: Vec<Uuid> =
            read_journal(&path, &s.vault()).expect("read").ops.into_iter().map(|o| o.op.op_id).collect();
        assert!(left.len() < 64, "compacted: {} lines", left.len());
        for id in &many[95..] {
            assert!(left.contains(id), "a queued op is never compacted away");
        }
    }
}
