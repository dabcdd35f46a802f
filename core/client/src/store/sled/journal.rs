//! The outbox journal: the sled store's write-ahead log (ADR 0006, 0015, 0016).
//!
//! One line per queued operation (base64 of the JSON sealed by the store's
//! vault, `\n`-terminated), written and synced before the enqueue answers: for
//! a plain enqueue the synced line is the commit point. The file is kept
//! preallocated with zeros ([`CHUNK`] at a time), and lines overwrite those
//! zeros in place: a line's `fdatasync` then changes neither the file's size
//! nor its block map, so it writes the data and flushes the disk's cache
//! without a filesystem journal commit (which on ext4 would also wait for every
//! other file's ordered data, sled's log included). Readers treat `\n` and NUL
//! alike as separators, so the zero tail (and a torn line's hole) reads as
//! nothing.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::Engine;
use chrono::{DateTime, Utc};
use fengqiao_domain::wire::{Op, OpEnvelope};
use fengqiao_domain::Record;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::super::vault::Vault;
use super::super::{PhotoUpload, StoreError, StoreResult, STORE_FORMAT_VERSION};

/// Associated data of a journal line.
const JOURNAL_AAD: &[u8] = b"outbox.journal";
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD_NO_PAD;

/// File of the outbox's write-ahead copy.
pub(crate) const JOURNAL_FILE: &str = "outbox.journal";
/// Compact when the journal holds at least this many lines...
const COMPACT_MIN_LINES: u64 = 64;
/// ...or at least this many bytes, with nothing live or more than twice what
/// it held after its last compaction (a few large ops, refused and
/// discarded, are worth it)...
const COMPACT_MIN_BYTES: u64 = CHUNK;
/// ...and more than this many per live op.
const COMPACT_FACTOR: u64 = 2;
/// The journal grows by this many zero bytes at a time (a few hundred lines).
pub(crate) const CHUNK: u64 = 256 * 1024;

pub(crate) fn io(what: &str, e: std::io::Error) -> StoreError {
    StoreError::Backend(format!("{what}: {e}"))
}

/// One journal line as read.
// Lives only while a line is read: its size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
enum Line {
    /// An op about to be queued.
    Op {
        op: OpEnvelope,
        /// The record it queues; left out when it is the one the op carries.
        #[serde(default)]
        record: Option<Record>,
        #[serde(default)]
        upload: Option<PhotoUpload>,
        at: DateTime<Utc>,
        /// The write generation of its enqueue: above the one sled holds at
        /// open, sled lost it in a crash and it is queued again.
        #[serde(default)]
        gen: u64,
    },
    /// The op's enqueue did not happen (refused, duplicate, failed).
    Cancel { op_id: Uuid },
}

/// One journal line as written (borrowing what it holds).
#[derive(Serialize)]
#[serde(tag = "t", rename_all = "snake_case")]
enum LineOut<'a> {
    Op {
        fv: u32,
        op: &'a OpEnvelope,
        #[serde(skip_serializing_if = "Option::is_none")]
        record: Option<&'a Record>,
        #[serde(skip_serializing_if = "Option::is_none")]
        upload: Option<&'a PhotoUpload>,
        at: DateTime<Utc>,
        gen: u64,
    },
    Cancel {
        op_id: Uuid,
    },
}

/// The record an op carries whole (a visit is queued as the visit it records).
fn carried(op: &OpEnvelope) -> Option<Record> {
    match &op.op {
        Op::RecordVisit(v) => Some(Record::Visit(v.clone())),
        _ => None,
    }
}

fn op_line<'a>(
    op: &'a OpEnvelope,
    record: &'a Record,
    upload: Option<&'a PhotoUpload>,
    at: DateTime<Utc>,
    gen: u64,
) -> LineOut<'a> {
    let same = matches!(&op.op, Op::RecordVisit(v) if matches!(record, Record::Visit(r) if r == v));
    LineOut::Op { fv: STORE_FORMAT_VERSION, op, record: (!same).then_some(record), upload, at, gen }
}

/// One journal line's bytes (newline included).
fn encode_line(vault: &Vault, line: &LineOut<'_>) -> StoreResult<Vec<u8>> {
    let json = zeroize::Zeroizing::new(
        serde_json::to_vec(line).map_err(|e| StoreError::Corrupt(format!("journal encode: {e}")))?,
    );
    let mut out = B64.encode(vault.seal(JOURNAL_AAD, &json)?).into_bytes();
    out.push(b'\n');
    Ok(out)
}

/// A journal line back (None: torn, damaged, or sealed under another key).
fn decode_line(vault: &Vault, bytes: &[u8]) -> Option<Line> {
    let sealed = B64.decode(bytes).ok()?;
    let json = vault.open("journal", JOURNAL_AAD, &sealed).ok()?;
    serde_json::from_slice(&json).ok()
}

/// A queued op as the journal keeps it.
pub(crate) struct JournalledOp {
    pub op: OpEnvelope,
    pub record: Record,
    pub upload: Option<PhotoUpload>,
    pub at: DateTime<Utc>,
    pub gen: u64,
}

/// What a journal read found.
pub(crate) struct JournalRead {
    /// Ops in journal order, cancelled ones left out, each op id once.
    pub ops: Vec<JournalledOp>,
    /// Lines that could not be read (a torn last line, damage).
    pub unreadable: u64,
    /// Lines in the file.
    pub lines: u64,
    /// Where the next line goes: past the last byte that is not zero, and
    /// one byte further if that byte does not end a line (a torn line).
    pub end: u64,
}

fn parse(bytes: &[u8], vault: &Vault) -> JournalRead {
    let mut ops: Vec<JournalledOp> = Vec::new();
    let mut cancelled = HashSet::new();
    let (mut unreadable, mut lines) = (0, 0);
    for line in bytes.split(|b| *b == b'\n' || *b == 0).filter(|l| !l.is_empty()) {
        lines += 1;
        match decode_line(vault, line) {
            Some(Line::Op { op, record, upload, at, gen }) => match record.or_else(|| carried(&op)) {
                Some(record) => ops.push(JournalledOp { op, record, upload, at, gen }),
                None => unreadable += 1,
            },
            Some(Line::Cancel { op_id }) => {
                cancelled.insert(op_id);
            }
            None => unreadable += 1,
        }
    }
    let mut seen = HashSet::new();
    ops.retain(|o| !cancelled.contains(&o.op.op_id) && seen.insert(o.op.op_id));
    let end = match bytes.iter().rposition(|b| *b != 0) {
        Some(i) if bytes[i] == b'\n' => i as u64 + 1,
        Some(i) => i as u64 + 2,
        None => 0,
    };
    JournalRead { ops, unreadable, lines, end }
}

/// Reads a journal file (empty if there is none).
pub(crate) fn read_journal(path: &Path, vault: &Vault) -> StoreResult<JournalRead> {
    match fs::read(path) {
        Ok(bytes) => Ok(parse(&bytes, vault)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Ok(JournalRead { ops: Vec::new(), unreadable: 0, lines: 0, end: 0 })
        }
        Err(e) => Err(io("outbox.journal", e)),
    }
}

/// Ops a damaged store's journal still holds (for the error message).
pub(crate) fn journalled_ops(dir: &Path, vault: &Vault) -> u64 {
    read_journal(&dir.join(JOURNAL_FILE), vault).map(|r| r.ops.len() as u64).unwrap_or(0)
}

/// The open journal.
pub(crate) struct Journal {
    path: PathBuf,
    vault: Arc<Vault>,
    inner: Mutex<JournalInner>,
    /// Tests: make the next sync fail.
    #[cfg(test)]
    pub(crate) fail_next_sync: std::sync::atomic::AtomicBool,
}

struct JournalInner {
    file: File,
    /// Where the next line goes.
    pos: u64,
    /// The file's length (zeros from `pos` on).
    len: u64,
    lines: u64,
    /// Where the lines ended when the journal was opened or last compacted.
    base: u64,
}

impl JournalInner {
    /// Writes `bytes` at the end of the journal (not synced), first growing
    /// the zero tail if it is too short.
    fn put(&mut self, bytes: &[u8]) -> StoreResult<()> {
        let end = self.pos + bytes.len() as u64;
        let mut data = std::borrow::Cow::Borrowed(bytes);
        if end > self.len {
            // The line and a fresh zero tail in one write: this one sync also
            // makes the new length durable.
            let new_len = end.div_ceil(CHUNK).max(1) * CHUNK;
            let mut grown = bytes.to_vec();
            grown.resize((new_len - self.pos) as usize, 0);
            data = std::borrow::Cow::Owned(grown);
        }
        self.file.seek(SeekFrom::Start(self.pos)).map_err(|e| io("outbox.journal", e))?;
        self.file.write_all(&data).map_err(|e| io("outbox.journal", e))?;
        self.len = self.len.max(self.pos + data.len() as u64);
        self.pos = end;
        self.lines += 1;
        Ok(())
    }
}

fn open_rw(path: &Path) -> StoreResult<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| io("outbox.journal", e))
}

/// Makes a rename durable; not every platform can open a directory.
pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

impl Journal {
    pub(crate) fn open(dir: &Path, vault: Arc<Vault>) -> StoreResult<Journal> {
        let path = dir.join(JOURNAL_FILE);
        let read = read_journal(&path, &vault)?;
        let file = open_rw(&path)?;
        let len = file.metadata().map_err(|e| io("outbox.journal", e))?.len();
        let inner = JournalInner { file, pos: read.end, len, lines: read.lines, base: read.end };
        Ok(Journal {
            path,
            vault,
            inner: Mutex::new(inner),
            #[cfg(test)]
            fail_next_sync: std::sync::atomic::AtomicBool::new(false),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, JournalInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes the op's line ahead of its sled transaction, not yet synced:
    /// [`sync`](Self::sync) makes it the commit point.
    pub(crate) fn write_op(
        &self,
        op: &OpEnvelope,
        record: &Record,
        upload: Option<&PhotoUpload>,
        at: DateTime<Utc>,
        gen: u64,
    ) -> StoreResult<()> {
        let bytes = encode_line(&self.vault, &op_line(op, record, upload, at, gen))?;
        self.lock().put(&bytes)
    }

    /// Makes every line written so far durable.
    pub(crate) fn sync(&self) -> StoreResult<()> {
        let g = self.lock();
        #[cfg(test)]
        if self.fail_next_sync.swap(false, std::sync::atomic::Ordering::SeqCst) {
            return Err(io("outbox.journal", std::io::Error::other("injected sync failure")));
        }
        g.file.sync_data().map_err(|e| io("outbox.journal", e))
    }

    /// Writes the op ahead of its sled transaction (synced when this returns).
    pub(crate) fn log_op(
        &self,
        op: &OpEnvelope,
        record: &Record,
        upload: Option<&PhotoUpload>,
        at: DateTime<Utc>,
        gen: u64,
    ) -> StoreResult<()> {
        self.write_op(op, record, upload, at, gen)?;
        self.sync()
    }

    /// The ops journalled with a generation above `held` (sled lost them).
    pub(crate) fn lost_since(&self, held: u64) -> StoreResult<Vec<JournalledOp>> {
        let _g = self.lock();
        Ok(read_journal(&self.path, &self.vault)?.ops.into_iter().filter(|o| o.gen > held).collect())
    }

    /// Notes that an op logged ahead was not queued after all (best effort: a
    /// replayed op the server already knows is answered `duplicate`).
    pub(crate) fn log_cancel(&self, op_id: Uuid) {
        let res = encode_line(&self.vault, &LineOut::Cancel { op_id })
            .and_then(|bytes| self.lock().put(&bytes))
            .and_then(|()| self.sync());
        if let Err(e) = res {
            tracing::warn!(error = %e, "could not note a cancelled op in the outbox journal");
        }
    }

    /// Keeps only the ops for which `live` holds, once the journal has grown
    /// well past them: in lines, or in bytes when nothing is live or since its
    /// last compaction (so rewrites cost amortised constant time per byte
    /// written); never when every line is live. Callers hold the store's write lock. Best effort:
    /// a failed compaction leaves the whole journal, which is still correct.
    pub(crate) fn compact_if_due(&self, live_count: u64, live: impl Fn(Uuid) -> bool) {
        let mut g = self.lock();
        let by_lines = g.lines >= COMPACT_MIN_LINES && g.lines > COMPACT_FACTOR * live_count;
        let by_bytes =
            g.pos >= COMPACT_MIN_BYTES && g.lines > live_count && (live_count == 0 || g.pos > COMPACT_FACTOR * g.base);
        if !by_lines && !by_bytes {
            return;
        }
        if live_count == 0 {
            // Nothing is live: empty it without reading it (the zero tail
            // regrows at the next line).
            match g.file.set_len(0) {
                Ok(()) => (g.pos, g.len, g.lines, g.base) = (0, 0, 0, 0),
                Err(e) => tracing::warn!(error = %e, "could not empty the outbox journal"),
            }
            if let Err(e) = g.file.sync_all() {
                tracing::warn!(error = %e, "could not sync the emptied outbox journal");
            }
            return;
        }
        match self.rewrite(&live) {
            Ok(fresh) => *g = fresh,
            Err(e) => tracing::warn!(error = %e, "could not compact the outbox journal"),
        }
    }

    fn rewrite(&self, live: &impl Fn(Uuid) -> bool) -> StoreResult<JournalInner> {
        let read = read_journal(&self.path, &self.vault)?;
        let tmp = self.path.with_extension("journal.tmp");
        let mut out = Vec::new();
        let mut lines = 0;
        for o in read.ops.iter().filter(|o| live(o.op.op_id)) {
            out.extend(encode_line(&self.vault, &op_line(&o.op, &o.record, o.upload.as_ref(), o.at, o.gen))?);
            lines += 1;
        }
        let pos = out.len() as u64;
        let len = (pos / CHUNK + 1) * CHUNK;
        out.resize(len as usize, 0);
        let mut f = File::create(&tmp).map_err(|e| io("outbox.journal", e))?;
        f.write_all(&out).map_err(|e| io("outbox.journal", e))?;
        f.sync_all().map_err(|e| io("outbox.journal", e))?;
        drop(f);
        fs::rename(&tmp, &self.path).map_err(|e| io("outbox.journal", e))?;
        if let Some(dir) = self.path.parent() {
            sync_dir(dir);
        }
        Ok(JournalInner { file: open_rw(&self.path)?, pos, len, lines, base: pos })
    }

    /// Empties the journal (after a wipe): the ops it held are gone for good.
    pub(crate) fn truncate(&self) -> StoreResult<()> {
        let mut g = self.lock();
        g.file.set_len(0).map_err(|e| io("outbox.journal", e))?;
        g.file.sync_all().map_err(|e| io("outbox.journal", e))?;
        (g.pos, g.len, g.lines, g.base) = (0, 0, 0, 0);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::integrity::tests::{queue, reopen, visit_op};
    use super::super::SledClientStore;
    use super::*;
    use crate::store::PhotoUpload;

    /// Lines overwrite a zero tail grown a chunk at a time, so a line's sync
    /// changes neither the size nor the block map; reopening continues after
    /// the last line, and the zeros read as nothing.
    #[test]
    fn lines_fill_a_preallocated_zero_tail() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join(JOURNAL_FILE);
        let s = SledClientStore::open(dir.path(), &crate::store::test_key()).expect("open");
        let first = queue(&s, 3);
        assert_eq!(fs::metadata(&path).expect("meta").len(), CHUNK, "one chunk holds many lines");
        let read = read_journal(&path, &s.vault()).expect("read");
        assert_eq!((read.ops.len(), read.lines, read.unreadable), (3, 3, 0));
        // enough lines to need a second chunk
        let line = read.end / 3;
        let more = queue(&s, (CHUNK / line) as usize);
        assert_eq!(fs::metadata(&path).expect("meta").len(), 2 * CHUNK);
        drop(s);
        let s = reopen(dir.path()).expect("reopen");
        let last = queue(&s, 1);
        let read = read_journal(&path, &s.vault()).expect("read");
        let ids: Vec<Uuid> = read.ops.iter().map(|o| o.op.op_id).collect();
        assert_eq!(ids, [first, more, last].concat());
        assert_eq!(read.unreadable, 0);
    }

    /// A line torn by a crash (its end never written, zeros after it) is
    /// skipped, and the next line does not run into it.
    #[test]
    fn a_torn_line_before_the_zero_tail_does_not_swallow_the_next() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join(JOURNAL_FILE);
        let kept = {
            let s = SledClientStore::open(dir.path(), &crate::store::test_key()).expect("open");
            let kept = queue(&s, 2);
            let end = read_journal(&path, &s.vault()).expect("read").end as usize;
            let mut bytes = fs::read(&path).expect("journal");
            bytes[end..end + 40].copy_from_slice(&[b'Q'; 40]);
            fs::write(&path, bytes).expect("torn");
            kept
        };
        let s = reopen(dir.path()).expect("reopen");
        let next = queue(&s, 1);
        let read = read_journal(&path, &s.vault()).expect("read");
        let ids: Vec<Uuid> = read.ops.iter().map(|o| o.op.op_id).collect();
        assert_eq!(ids, [kept, next].concat());
        assert_eq!(read.unreadable, 1, "the torn line");
    }

    /// A visit's line leaves out the record (the op carries it whole); other
    /// records, and the photo entry, are kept.
    #[test]
    fn a_visit_line_does_not_repeat_the_record() {
        let vault = Vault::ephemeral();
        let (record, op) = visit_op(Uuid::from_u128(7));
        let at = Utc::now();
        let short = encode_line(&vault, &op_line(&op, &record, None, at, 5)).expect("line");
        let (other, _) = visit_op(Uuid::from_u128(8));
        let long = encode_line(&vault, &op_line(&op, &other, None, at, 6)).expect("line");
        assert!(short.len() * 3 < long.len() * 2, "{} vs {}", short.len(), long.len());
        let upload = PhotoUpload::new("ab".repeat(32), 1000, "image/jpeg".into(), at);
        let photo = encode_line(&vault, &op_line(&op, &record, Some(&upload), at, 7)).expect("line");
        let read = parse(&[short, long, photo].concat(), &vault);
        assert_eq!(read.ops.len(), 1, "one op id, first line kept");
        assert_eq!(read.ops[0].record, record, "the record comes back from the op");
        assert_eq!((read.lines, read.unreadable), (3, 0));
    }
}
