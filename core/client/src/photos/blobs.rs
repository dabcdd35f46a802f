//! The phone's photo folder: one file per photo, named by the SHA-256 of its
//! bytes. A photo comes in through a temp file in the same folder, hashed while
//! it is copied (64 KiB at a time, never whole in memory), synced, renamed into
//! place and the folder synced: a crash leaves either the whole photo or a temp
//! file that the next open sweeps away.

use std::fs::{self, File, OpenOptions};
use std::io::{self, ErrorKind, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::Error;

/// Copy buffer size.
const BUF: usize = 64 * 1024;
/// Prefix of temp files (never a valid SHA-256 name).
const TMP_PREFIX: &str = ".incoming-";
/// Linux/Android/Darwin `ENOSPC`.
const ENOSPC: i32 = 28;
/// Linux/Android `EDQUOT`.
const EDQUOT: i32 = 122;

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Imported {
    /// SHA-256 of the bytes, lowercase hex.
    pub sha256: String,
    /// Size in bytes.
    pub length: u64,
    /// A new file was made (false: the same bytes were already here).
    pub created: bool,
}

/// Limits an import must respect.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Largest photo accepted.
    pub max_bytes: u64,
    /// Bytes the import may add to the folder (budget left).
    pub room: u64,
}

/// Whether an I/O error means the disk is full.
pub(crate) fn is_disk_full(e: &io::Error) -> bool {
    e.kind() == ErrorKind::StorageFull || matches!(e.raw_os_error(), Some(ENOSPC) | Some(EDQUOT))
}

/// Maps an I/O error while writing into the folder.
fn write_err(what: &str, e: io::Error) -> Error {
    if is_disk_full(&e) {
        Error::StorageFull("the phone's storage is full".into())
    } else {
        Error::Store(crate::store::StoreError::Backend(format!("photo folder: {what}: {e}")))
    }
}

/// Removes the temp file unless disarmed.
struct TempGuard(Option<PathBuf>);

impl Drop for TempGuard {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            if let Err(e) = fs::remove_file(&p) {
                if e.kind() != ErrorKind::NotFound {
                    tracing::warn!(error = %e, "could not remove a temp photo file");
                }
            }
        }
    }
}

/// The photo folder.
#[derive(Debug, Clone)]
pub(crate) struct BlobDir {
    dir: PathBuf,
}

fn valid_name(sha: &str) -> bool {
    fengqiao_domain::records::is_sha256_hex(sha)
}

impl BlobDir {
    /// Opens (creating) the folder and sweeps temp files a crash left behind.
    pub(crate) fn open(dir: &Path) -> Result<BlobDir, Error> {
        fs::create_dir_all(dir).map_err(|e| write_err("create", e))?;
        let me = BlobDir { dir: dir.to_path_buf() };
        for entry in fs::read_dir(dir).map_err(|e| write_err("list", e))?.flatten() {
            if entry.file_name().to_string_lossy().starts_with(TMP_PREFIX) {
                let _ = fs::remove_file(entry.path());
            }
        }
        Ok(me)
    }

    /// Where a photo's file is (whether or not it exists).
    pub(crate) fn path(&self, sha256: &str) -> Option<PathBuf> {
        valid_name(sha256).then(|| self.dir.join(sha256))
    }

    /// The photo's file, if present.
    pub(crate) fn existing(&self, sha256: &str) -> Option<PathBuf> {
        self.path(sha256).filter(|p| p.is_file())
    }

    /// Total bytes of the photos in the folder.
    #[cfg(test)]
    pub(crate) fn used_bytes(&self) -> Result<u64, Error> {
        Ok(self.files()?.iter().map(|(_, len)| len).sum())
    }

    /// Every photo file: (sha256, length).
    pub(crate) fn files(&self) -> Result<Vec<(String, u64)>, Error> {
        let mut out = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(|e| write_err("list", e))?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if valid_name(&name) {
                if let Ok(m) = entry.metadata() {
                    out.push((name, m.len()));
                }
            }
        }
        Ok(out)
    }

    /// Removes a photo's file (`false` if it was not there).
    pub(crate) fn remove(&self, sha256: &str) -> Result<bool, Error> {
        let Some(p) = self.path(sha256) else { return Ok(false) };
        match fs::remove_file(&p) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
            Err(e) => Err(write_err("remove", e)),
        }
    }

    /// Copies `source` into the folder under its SHA-256, within `limits`.
    /// On any failure the temp file is removed and nothing else is changed.
    pub(crate) fn import(&self, source: &Path, limits: Limits) -> Result<Imported, Error> {
        let mut src = File::open(source).map_err(|e| match e.kind() {
            ErrorKind::NotFound => Error::InvalidInput("photo: the file does not exist".into()),
            _ => Error::InvalidInput(format!("photo: cannot read the file: {e}")),
        })?;
        let tmp = self.dir.join(format!("{TMP_PREFIX}{}", fengqiao_domain::new_id()));
        let mut out = OpenOptions::new().write(true).create_new(true).open(&tmp).map_err(|e| write_err("create", e))?;
        let mut guard = TempGuard(Some(tmp.clone()));
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; BUF];
        let mut length: u64 = 0;
        loop {
            let n = match src.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::InvalidInput(format!("photo: cannot read the file: {e}"))),
            };
            length += n as u64;
            if length > limits.max_bytes {
                return Err(Error::InvalidInput(format!("photo: larger than {} bytes", limits.max_bytes)));
            }
            if length > limits.room {
                return Err(Error::StorageFull("the photo folder's budget is spent on photos not yet uploaded".into()));
            }
            out.write_all(&buf[..n]).map_err(|e| write_err("write", e))?;
            hasher.update(&buf[..n]);
        }
        if length == 0 {
            return Err(Error::InvalidInput("photo: the file is empty".into()));
        }
        out.sync_all().map_err(|e| write_err("sync", e))?;
        drop(out);
        let sha256 = hex::encode(hasher.finalize());
        let target = self.dir.join(&sha256);
        if target.metadata().is_ok_and(|m| m.len() == length) {
            // The same bytes are already here: keep one file (the guard drops the copy).
            return Ok(Imported { sha256, length, created: false });
        }
        fs::rename(&tmp, &target).map_err(|e| write_err("rename", e))?;
        guard.0 = None;
        if let Err(e) = sync_dir(&self.dir) {
            // The rename may not survive a crash: undo it so the caller writes nothing.
            let _ = fs::remove_file(&target);
            return Err(write_err("sync folder", e));
        }
        Ok(Imported { sha256, length, created: true })
    }
}

/// SHA-256 of a file, read 64 KiB at a time.
pub(crate) fn hash_file(path: &Path) -> io::Result<(String, u64)> {
    let mut f = File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; BUF];
    let mut len = 0u64;
    loop {
        let n = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        h.update(&buf[..n]);
        len += n as u64;
    }
    Ok((hex::encode(h.finalize()), len))
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NO_LIMIT: Limits = Limits { max_bytes: u64::MAX, room: u64::MAX };

    fn src(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let p = dir.join(name);
        fs::write(&p, bytes).expect("write source");
        p
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> =
            fs::read_dir(dir).expect("list").flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    }

    #[test]
    fn import_hashes_while_copying_and_stores_same_bytes_once() {
        let t = tempfile::tempdir().expect("tmp");
        let blobs = BlobDir::open(&t.path().join("photos")).expect("open");
        // larger than one buffer, not a multiple of it
        let bytes: Vec<u8> = (0..200_001u32).map(|i| (i % 251) as u8).collect();
        let a = blobs.import(&src(t.path(), "a.jpg", &bytes), NO_LIMIT).expect("import");
        assert_eq!(a.sha256, hex::encode(Sha256::digest(&bytes)));
        assert_eq!((a.length, a.created), (bytes.len() as u64, true));
        assert_eq!(fs::read(blobs.existing(&a.sha256).expect("file")).expect("read"), bytes);
        let b = blobs.import(&src(t.path(), "b.jpg", &bytes), NO_LIMIT).expect("again");
        assert_eq!((b.sha256.as_str(), b.created), (a.sha256.as_str(), false));
        assert_eq!(names(&t.path().join("photos")), vec![a.sha256.clone()], "one file, no temp left");
        assert_eq!(blobs.used_bytes().expect("used"), bytes.len() as u64);
        assert_eq!(hash_file(&blobs.existing(&a.sha256).expect("file")).expect("hash"), (a.sha256.clone(), a.length));
        assert!(blobs.remove(&a.sha256).expect("remove"));
        assert!(!blobs.remove(&a.sha256).expect("gone"));
        assert!(blobs.path("../etc/passwd").is_none());
    }

    #[test]
    fn over_budget_or_too_large_leaves_nothing_behind() {
        let t = tempfile::tempdir().expect("tmp");
        let dir = t.path().join("photos");
        let blobs = BlobDir::open(&dir).expect("open");
        let s = src(t.path(), "big.jpg", &[7u8; 100_000]);
        let e = blobs.import(&s, Limits { max_bytes: u64::MAX, room: 99_999 }).expect_err("budget");
        assert!(matches!(e, Error::StorageFull(_)), "{e:?}");
        let e = blobs.import(&s, Limits { max_bytes: 1000, room: u64::MAX }).expect_err("size");
        assert!(matches!(e, Error::InvalidInput(_)), "{e:?}");
        let e = blobs.import(&t.path().join("missing.jpg"), NO_LIMIT).expect_err("missing");
        assert!(matches!(e, Error::InvalidInput(_)), "{e:?}");
        let e = blobs.import(&src(t.path(), "empty.jpg", b""), NO_LIMIT).expect_err("empty");
        assert!(matches!(e, Error::InvalidInput(_)), "{e:?}");
        assert!(names(&dir).is_empty(), "no temp file, no photo: {:?}", names(&dir));
    }

    #[test]
    fn disk_full_is_recognised_and_stale_temp_files_are_swept() {
        assert!(is_disk_full(&io::Error::from_raw_os_error(ENOSPC)));
        assert!(is_disk_full(&io::Error::from(ErrorKind::StorageFull)));
        assert!(!is_disk_full(&io::Error::from(ErrorKind::PermissionDenied)));
        assert!(matches!(write_err("write", io::Error::from_raw_os_error(ENOSPC)), Error::StorageFull(_)));
        let t = tempfile::tempdir().expect("tmp");
        fs::write(t.path().join(format!("{TMP_PREFIX}x")), b"half").expect("write");
        BlobDir::open(t.path()).expect("open");
        assert!(names(t.path()).is_empty());
    }
}
