//! The phone's photo folder: one file per photo, named by a keyed hash of the
//! SHA-256 of its bytes and encrypted (ADR 0010: 64 KiB segments, each
//! authenticated, readable from any offset). A photo comes in through a temp
//! file in the same folder, hashed while it is encrypted and copied (a segment
//! at a time, never whole in memory), synced, renamed into place and the folder
//! synced: a crash leaves either the whole photo or a temp file that the next
//! open sweeps away.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::store::vault::{SEGMENT, STREAM_PREFIX_LEN, TAG_LEN};
use crate::store::{StoreError, Vault};

/// Copy buffer size (one segment).
const BUF: usize = SEGMENT;
/// First bytes of a photo file (format 1).
const MAGIC: &[u8; 4] = b"FQP1";
/// Header: magic, nonce prefix, plaintext length.
const HEADER: u64 = 4 + STREAM_PREFIX_LEN as u64 + 8;
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
    /// The photo type its bytes show ([`fengqiao_domain::records::sniff_photo_type`]).
    pub content_type: Option<&'static str>,
}

/// Stable reason of a photo source that is not a regular file.
pub(crate) const NOT_A_FILE: &str = "photo_not_a_file";
/// Stable reason of a photo source whose bytes are not a JPEG, PNG, WebP or HEIC image.
pub(crate) const NOT_AN_IMAGE: &str = "photo_not_an_image";

/// A photo source that is a folder, a named pipe, a device, ...
pub(crate) fn not_a_file() -> Error {
    Error::BadInput {
        reason: NOT_A_FILE, message: "照片必须是一个普通文件（不能是文件夹、管道或设备）".into()
    }
}

/// A photo source whose bytes are no image the county takes.
pub(crate) fn not_an_image() -> Error {
    Error::BadInput {
        reason: NOT_AN_IMAGE,
        message: "文件内容不是照片：只接受 JPEG、PNG、WebP 或 HEIC 格式的图片".into(),
    }
}

/// Opens a photo source for reading without ever blocking: a named pipe (or
/// a device) would block the open, and the photo lock with it, until a
/// writer came. The type is checked on the opened handle, so a file swapped
/// for a pipe between a check and the open is refused too.
fn open_source(source: &Path) -> Result<File, Error> {
    let mut opts = OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NONBLOCK);
    }
    let src = opts.open(source).map_err(|e| match e.kind() {
        ErrorKind::NotFound => Error::InvalidInput("照片：文件不存在".into()),
        _ => Error::InvalidInput(format!("照片：文件读不出来（{}）", e.kind())),
    })?;
    let meta = src.metadata().map_err(|e| Error::InvalidInput(format!("照片：文件读不出来（{}）", e.kind())))?;
    if !meta.is_file() {
        return Err(not_a_file());
    }
    Ok(src)
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
        Error::StorageFull("手机存储空间已满".into())
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
    vault: Arc<Vault>,
}

/// A photo file's name: 32 lowercase hex digits.
fn valid_file_name(name: &str) -> bool {
    name.len() == 32 && name.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Size on disk of a photo of `length` bytes.
fn sealed_len(length: u64) -> u64 {
    let segments = length.div_ceil(SEGMENT as u64).max(1);
    HEADER + length + segments * TAG_LEN as u64
}

fn corrupt() -> Error {
    Error::Store(StoreError::Corrupt("a photo file fails authentication (damaged or foreign)".into()))
}

impl BlobDir {
    /// Opens (creating) the folder and sweeps temp files a crash left behind.
    pub(crate) fn open(dir: &Path, vault: Arc<Vault>) -> Result<BlobDir, Error> {
        fs::create_dir_all(dir).map_err(|e| write_err("create", e))?;
        let me = BlobDir { dir: dir.to_path_buf(), vault };
        for entry in fs::read_dir(dir).map_err(|e| write_err("list", e))?.flatten() {
            if entry.file_name().to_string_lossy().starts_with(TMP_PREFIX) {
                let _ = fs::remove_file(entry.path());
            }
        }
        Ok(me)
    }

    /// The file name standing for a photo (a keyed hash of its SHA-256).
    pub(crate) fn name_of(&self, sha256: &str) -> String {
        hex::encode(self.vault.name(b"photo-file", sha256.as_bytes()))
    }

    /// Where a photo's file is (whether or not it exists).
    pub(crate) fn path(&self, sha256: &str) -> Option<PathBuf> {
        fengqiao_domain::records::is_sha256_hex(sha256).then(|| self.dir.join(self.name_of(sha256)))
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

    /// Every photo file: (file name, bytes on disk).
    pub(crate) fn files(&self) -> Result<Vec<(String, u64)>, Error> {
        let mut out = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(|e| write_err("list", e))?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if valid_file_name(&name) {
                if let Ok(m) = entry.metadata() {
                    out.push((name, m.len()));
                }
            }
        }
        Ok(out)
    }

    /// Removes a photo's file (`false` if it was not there).
    pub(crate) fn remove(&self, sha256: &str) -> Result<bool, Error> {
        match self.path(sha256) {
            Some(_) => self.remove_file(&self.name_of(sha256)),
            None => Ok(false),
        }
    }

    /// Removes a photo file by its name (`false` if it was not there).
    pub(crate) fn remove_file(&self, name: &str) -> Result<bool, Error> {
        if !valid_file_name(name) {
            return Ok(false);
        }
        match fs::remove_file(self.dir.join(name)) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
            Err(e) => Err(write_err("remove", e)),
        }
    }

    /// Copies `source` into the folder under its SHA-256, within `limits`.
    /// On any failure the temp file is removed and nothing else is changed.
    /// Only a regular file is read ([`NOT_A_FILE`] otherwise, at once).
    #[cfg(test)]
    pub(crate) fn import(&self, source: &Path, limits: Limits) -> Result<Imported, Error> {
        self.import_with(source, limits, false)
    }

    /// As [`import`](Self::import), refusing ([`NOT_AN_IMAGE`]) bytes that
    /// are not a photo type, before anything is written.
    pub(crate) fn import_image(&self, source: &Path, limits: Limits) -> Result<Imported, Error> {
        self.import_with(source, limits, true)
    }

    /// As [`import_image`](Self::import_image), from bytes in memory (a photo
    /// sized at capture).
    pub(crate) fn import_image_bytes(&self, bytes: &[u8], limits: Limits) -> Result<Imported, Error> {
        self.import_from(&mut io::Cursor::new(bytes), limits, true)
    }

    fn import_with(&self, source: &Path, limits: Limits, images_only: bool) -> Result<Imported, Error> {
        self.import_from(&mut open_source(source)?, limits, images_only)
    }

    fn import_from(&self, src: &mut impl Read, limits: Limits, images_only: bool) -> Result<Imported, Error> {
        let mut pending = read_segment(src)?;
        let content_type = fengqiao_domain::records::sniff_photo_type(&pending);
        if images_only && content_type.is_none() && !pending.is_empty() {
            return Err(not_an_image());
        }
        let tmp = self.dir.join(format!("{TMP_PREFIX}{}", fengqiao_domain::new_id()));
        let mut out = OpenOptions::new().write(true).create_new(true).open(&tmp).map_err(|e| write_err("create", e))?;
        let mut guard = TempGuard(Some(tmp.clone()));
        let mut hasher = Sha256::new();
        let prefix = Vault::photo_prefix();
        out.write_all(MAGIC).map_err(|e| write_err("write", e))?;
        out.write_all(&prefix).map_err(|e| write_err("write", e))?;
        // The length is written once known (the header is fixed-size).
        out.write_all(&0u64.to_be_bytes()).map_err(|e| write_err("write", e))?;
        let mut length: u64 = 0;
        let mut index: u32 = 0;
        loop {
            length += pending.len() as u64;
            if length > limits.max_bytes {
                return Err(Error::InvalidInput(format!("照片：超过本县照片大小上限 {} 字节", limits.max_bytes)));
            }
            if sealed_len(length) > limits.room {
                return Err(Error::StorageFull("照片空间已被尚未上传的照片占满：请先同步上传".into()));
            }
            hasher.update(&pending);
            let next = if pending.len() == BUF { read_segment(src)? } else { Vec::new() };
            let last = next.is_empty();
            if length == 0 {
                break;
            }
            self.vault.seal_segment(&prefix, index, last, &mut pending)?;
            out.write_all(&pending).map_err(|e| write_err("write", e))?;
            if last {
                break;
            }
            index = index.checked_add(1).ok_or_else(|| Error::InvalidInput("照片：文件太大".into()))?;
            pending = next;
        }
        if length == 0 {
            return Err(Error::InvalidInput("照片：文件是空的".into()));
        }
        out.seek(SeekFrom::Start(HEADER - 8)).map_err(|e| write_err("write", e))?;
        out.write_all(&length.to_be_bytes()).map_err(|e| write_err("write", e))?;
        out.sync_all().map_err(|e| write_err("sync", e))?;
        drop(out);
        let sha256 = hex::encode(hasher.finalize());
        let target = self.dir.join(self.name_of(&sha256));
        if target.metadata().is_ok_and(|m| m.len() == sealed_len(length)) {
            // The same bytes are already here: keep one file (the guard drops the copy).
            return Ok(Imported { sha256, length, created: false, content_type });
        }
        fs::rename(&tmp, &target).map_err(|e| write_err("rename", e))?;
        guard.0 = None;
        if let Err(e) = sync_dir(&self.dir) {
            // The rename may not survive a crash: undo it so the caller writes nothing.
            let _ = fs::remove_file(&target);
            return Err(write_err("sync folder", e));
        }
        Ok(Imported { sha256, length, created: true, content_type })
    }
}

/// Reads a whole photo source into memory, a regular file of at most
/// `max_bytes` (for sizing it; checked as [`BlobDir::import_image`] does).
pub(crate) fn read_source(source: &Path, max_bytes: u64) -> Result<Vec<u8>, Error> {
    let src = open_source(source)?;
    let mut out = Vec::new();
    src.take(max_bytes.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| Error::InvalidInput(format!("photo: cannot read the file: {e}")))?;
    if out.len() as u64 > max_bytes {
        return Err(Error::InvalidInput(format!("photo: larger than {max_bytes} bytes")));
    }
    if out.is_empty() {
        return Err(Error::InvalidInput("photo: the file is empty".into()));
    }
    if fengqiao_domain::records::sniff_photo_type(&out).is_none() {
        return Err(not_an_image());
    }
    Ok(out)
}

/// Reads up to one segment from `src` (short only at the end).
fn read_segment(src: &mut impl Read) -> Result<Vec<u8>, Error> {
    let mut buf = vec![0u8; BUF];
    let mut filled = 0;
    while filled < BUF {
        match src.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::InvalidInput(format!("照片：文件读不出来（{}）", e.kind()))),
        }
    }
    buf.truncate(filled);
    Ok(buf)
}

/// An open photo file, decrypted a segment at a time.
pub(crate) struct PhotoReader {
    file: File,
    vault: Arc<Vault>,
    prefix: [u8; STREAM_PREFIX_LEN],
    /// The photo's length in bytes.
    pub length: u64,
    /// One segment's sealed bytes, then its plaintext (reused from segment to segment).
    buf: Vec<u8>,
}

impl PhotoReader {
    /// Bytes `offset..offset + len` of the photo (`len` is cut at its end).
    pub(crate) fn read_range(&mut self, offset: u64, len: usize) -> Result<Vec<u8>, Error> {
        let mut out = Vec::with_capacity(self.clipped(offset, len));
        self.read_into(offset, len, &mut out, |_| {})?;
        Ok(out)
    }

    fn clipped(&self, offset: u64, len: usize) -> usize {
        let end = offset.saturating_add(len as u64).min(self.length);
        usize::try_from(end.saturating_sub(offset)).unwrap_or(usize::MAX)
    }

    /// Appends bytes `offset..offset + len` of the photo (`len` is cut at its
    /// end) to `out`, decrypting each segment once and showing each piece to
    /// `seen` as it is appended (to hash it while it is in the cache).
    /// Returns how many bytes were appended.
    pub(crate) fn read_into(
        &mut self,
        offset: u64,
        len: usize,
        out: &mut Vec<u8>,
        mut seen: impl FnMut(&[u8]),
    ) -> Result<usize, Error> {
        let end = offset.saturating_add(len as u64).min(self.length);
        let seg = SEGMENT as u64;
        let mut index = offset / seg;
        let mut appended = 0;
        while index * seg < end {
            self.segment(index)?;
            let start = ((index * seg).max(offset) - index * seg) as usize;
            let stop = (((index + 1) * seg).min(end) - index * seg) as usize;
            let piece = &self.buf[start..stop];
            out.extend_from_slice(piece);
            seen(piece);
            appended += piece.len();
            index += 1;
        }
        Ok(appended)
    }

    /// Decrypts segment `index` into `self.buf`.
    fn segment(&mut self, index: u64) -> Result<(), Error> {
        let seg = SEGMENT as u64;
        let last_index = self.length.div_ceil(seg).max(1) - 1;
        if index > last_index {
            return Err(corrupt());
        }
        let plain_len = if index == last_index { self.length - index * seg } else { seg };
        self.buf.resize(plain_len as usize + TAG_LEN, 0);
        let at = HEADER + index * (seg + TAG_LEN as u64);
        self.file.seek(SeekFrom::Start(at)).map_err(|_| corrupt())?;
        self.file.read_exact(&mut self.buf).map_err(|_| corrupt())?;
        let idx = u32::try_from(index).map_err(|_| corrupt())?;
        self.vault.open_segment(&self.prefix, idx, index == last_index, &mut self.buf)?;
        Ok(())
    }

    /// SHA-256 and length of the whole photo, decrypted a segment at a time.
    pub(crate) fn hash(&mut self) -> Result<(String, u64), Error> {
        let mut h = Sha256::new();
        let segments = self.length.div_ceil(SEGMENT as u64);
        for i in 0..segments {
            self.segment(i)?;
            h.update(&self.buf);
        }
        Ok((hex::encode(h.finalize()), self.length))
    }
}

impl BlobDir {
    /// Opens a photo for reading (`None` if its file is not here).
    pub(crate) fn reader(&self, sha256: &str) -> Result<Option<PhotoReader>, Error> {
        let Some(path) = self.path(sha256) else { return Ok(None) };
        let mut file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(write_err("open", e)),
        };
        let mut header = [0u8; HEADER as usize];
        file.read_exact(&mut header).map_err(|_| corrupt())?;
        if &header[..4] != MAGIC {
            return Err(corrupt());
        }
        let mut prefix = [0u8; STREAM_PREFIX_LEN];
        prefix.copy_from_slice(&header[4..4 + STREAM_PREFIX_LEN]);
        let mut len = [0u8; 8];
        len.copy_from_slice(&header[4 + STREAM_PREFIX_LEN..]);
        let length = u64::from_be_bytes(len);
        let on_disk = file.metadata().map_err(|e| write_err("open", e))?.len();
        if length == 0 || on_disk != sealed_len(length) {
            return Err(corrupt());
        }
        Ok(Some(PhotoReader { file, vault: self.vault.clone(), prefix, length, buf: Vec::new() }))
    }

    /// The whole photo, decrypted (for showing it; `None` if not here).
    pub(crate) fn read_all(&self, sha256: &str) -> Result<Option<Vec<u8>>, Error> {
        match self.reader(sha256)? {
            Some(mut r) => {
                let len = usize::try_from(r.length).map_err(|_| corrupt())?;
                Ok(Some(r.read_range(0, len)?))
            }
            None => Ok(None),
        }
    }

    /// Names of the photo files standing for these photos, to theirs.
    pub(crate) fn names_for<'a>(&self, shas: impl Iterator<Item = &'a str>) -> HashMap<String, &'a str> {
        shas.map(|s| (self.name_of(s), s)).collect()
    }
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

    fn folder(t: &tempfile::TempDir) -> BlobDir {
        BlobDir::open(&t.path().join("photos"), Arc::new(Vault::ephemeral())).expect("open")
    }

    /// The handle is checked, not only the path: a pipe reaching the import
    /// (e.g. swapped in after the caller's check) is refused at once, a
    /// folder too, and nothing is left in the photo folder.
    #[cfg(unix)]
    #[test]
    fn a_pipe_or_folder_is_refused_at_once_and_leaves_nothing() {
        let t = tempfile::tempdir().expect("tmp");
        let blobs = folder(&t);
        let pipe = t.path().join("pipe.jpg");
        crate::testutil::mkfifo(&pipe);
        let (tx, rx) = std::sync::mpsc::channel();
        let b = blobs.clone();
        let p = pipe.clone();
        std::thread::spawn(move || {
            let _ = tx.send(b.import_image(&p, NO_LIMIT).map(|_| ()));
        });
        let got = rx.recv_timeout(std::time::Duration::from_secs(5)).expect("the import of a pipe returns promptly");
        assert!(matches!(got, Err(Error::BadInput { reason: NOT_A_FILE, .. })), "{got:?}");
        let got = blobs.import_image(t.path(), NO_LIMIT).map(|_| ());
        assert!(matches!(got, Err(Error::BadInput { reason: NOT_A_FILE, .. })), "{got:?}");
        assert!(names(&t.path().join("photos")).is_empty());
    }

    #[test]
    fn an_image_import_refuses_other_bytes_and_reports_the_type_they_show() {
        let t = tempfile::tempdir().expect("tmp");
        let blobs = folder(&t);
        let text = src(t.path(), "notes.jpg", "这不是照片，是一段文字".as_bytes());
        let got = blobs.import_image(&text, NO_LIMIT).map(|_| ());
        assert!(matches!(got, Err(Error::BadInput { reason: NOT_AN_IMAGE, .. })), "{got:?}");
        assert!(names(&t.path().join("photos")).is_empty(), "nothing written");
        let png = src(t.path(), "p.jpg", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR-rest");
        assert_eq!(blobs.import_image(&png, NO_LIMIT).expect("png").content_type, Some("image/png"));
    }

    #[test]
    fn import_hashes_while_encrypting_and_stores_same_bytes_once() {
        let t = tempfile::tempdir().expect("tmp");
        let blobs = folder(&t);
        // several segments, the last one short
        let bytes: Vec<u8> = (0..200_001u32).map(|i| (i % 251) as u8).collect();
        let a = blobs.import(&src(t.path(), "a.jpg", &bytes), NO_LIMIT).expect("import");
        assert_eq!(a.sha256, hex::encode(Sha256::digest(&bytes)));
        assert_eq!((a.length, a.created), (bytes.len() as u64, true));
        let on_disk = fs::read(blobs.existing(&a.sha256).expect("file")).expect("read");
        assert!(!on_disk.windows(64).any(|w| bytes.windows(64).take(1000).any(|b| b == w)), "no plaintext on disk");
        assert_eq!(blobs.read_all(&a.sha256).expect("read").expect("present"), bytes);
        let mut r = blobs.reader(&a.sha256).expect("reader").expect("present");
        assert_eq!(r.read_range(65_530, 20).expect("range"), bytes[65_530..65_550].to_vec(), "across a segment edge");
        assert_eq!(r.read_range(199_990, 100).expect("tail"), bytes[199_990..].to_vec(), "cut at the end");
        assert_eq!(r.hash().expect("hash"), (a.sha256.clone(), a.length));
        let (mut tail, mut seen) = (Vec::new(), Vec::new());
        let n = r.read_into(130_000, usize::MAX, &mut tail, |p| seen.extend_from_slice(p)).expect("read");
        assert_eq!(tail, bytes[130_000..].to_vec(), "from an offset across segments to the end");
        assert_eq!((n, seen), (tail.len(), tail.clone()), "every piece shown as appended");
        let b = blobs.import(&src(t.path(), "b.jpg", &bytes), NO_LIMIT).expect("again");
        assert_eq!((b.sha256.as_str(), b.created), (a.sha256.as_str(), false));
        assert_eq!(names(&t.path().join("photos")), vec![blobs.name_of(&a.sha256)], "one file, no temp left");
        assert!(!names(&t.path().join("photos"))[0].contains(&a.sha256[..16]), "the name hides the hash");
        assert_eq!(blobs.used_bytes().expect("used"), sealed_len(bytes.len() as u64));
        assert!(blobs.remove(&a.sha256).expect("remove"));
        assert!(!blobs.remove(&a.sha256).expect("gone"));
        assert!(blobs.path("../etc/passwd").is_none());
    }

    #[test]
    fn exact_segment_multiples_and_tampering() {
        let t = tempfile::tempdir().expect("tmp");
        let blobs = folder(&t);
        let bytes = vec![9u8; SEGMENT * 2];
        let a = blobs.import(&src(t.path(), "a.jpg", &bytes), NO_LIMIT).expect("import");
        assert_eq!(blobs.read_all(&a.sha256).expect("read").expect("present"), bytes);
        let path = blobs.existing(&a.sha256).expect("file");
        let mut raw = fs::read(&path).expect("raw");
        raw[HEADER as usize + 10] ^= 1;
        fs::write(&path, &raw).expect("write");
        assert!(blobs.read_all(&a.sha256).is_err(), "a flipped byte fails authentication");
        raw.truncate(raw.len() - 5);
        fs::write(&path, &raw).expect("write");
        assert!(blobs.reader(&a.sha256).is_err(), "a cut file is refused");
        let other = BlobDir::open(&t.path().join("photos"), Arc::new(Vault::ephemeral())).expect("open");
        assert!(other.read_all(&a.sha256).expect("other key").is_none(), "another key finds no file by name");
    }

    #[test]
    fn over_budget_or_too_large_leaves_nothing_behind() {
        let t = tempfile::tempdir().expect("tmp");
        let dir = t.path().join("photos");
        let blobs = folder(&t);
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
        BlobDir::open(t.path(), Arc::new(Vault::ephemeral())).expect("open");
        assert!(names(t.path()).is_empty());
    }
}
