//! The backup file's frames (ADR 0032): a gzip stream of
//!
//! ```text
//! magic "FQBACKUP" · u32 archive format
//! 'H' u32 len  header JSON            what wrote it, the store format
//! 'T' u16 len  tree name              the entries after it belong to this tree
//! 'K' u32 len  key · u32 len  value   one entry
//! 'F' u16 len  path · u64 len  bytes  one file of the data dir
//! 'M' u32 len  manifest JSON          counts, last feed sequence, checksums
//! 'Z' 32 bytes                        SHA-256 of every byte before the 'Z'
//! ```
//!
//! Integers are big-endian. The reader checks the closing digest, so a
//! truncated or altered file is refused whatever part was hit.

use std::io::{self, Read, Write};

use sha2::{Digest, Sha256};

/// The file's first bytes.
pub const MAGIC: &[u8; 8] = b"FQBACKUP";
/// Version of the frame layout.
pub const ARCHIVE_FORMAT: u32 = 1;

/// Longest value of a length-prefixed field a reader accepts before it stops
/// trusting the file (a photo is limited far below this by the policy).
const MAX_FIELD: u64 = 1 << 32;

/// Writes frames, hashing every byte.
pub struct FrameWriter<W: Write> {
    out: W,
    hash: Sha256,
}

impl<W: Write> FrameWriter<W> {
    /// Starts a stream: the magic and the format.
    pub fn new(out: W) -> io::Result<Self> {
        let mut w = FrameWriter { out, hash: Sha256::new() };
        w.raw(MAGIC)?;
        w.raw(&ARCHIVE_FORMAT.to_be_bytes())?;
        Ok(w)
    }

    fn raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.hash.update(bytes);
        self.out.write_all(bytes)
    }

    fn short(&mut self, tag: u8, bytes: &[u8]) -> io::Result<()> {
        let len = u16::try_from(bytes.len()).map_err(|_| invalid("a name is too long"))?;
        self.raw(&[tag])?;
        self.raw(&len.to_be_bytes())?;
        self.raw(bytes)
    }

    fn long(&mut self, bytes: &[u8]) -> io::Result<()> {
        let len = u32::try_from(bytes.len()).map_err(|_| invalid("a value is too long"))?;
        self.raw(&len.to_be_bytes())?;
        self.raw(bytes)
    }

    /// The header (JSON).
    pub fn header(&mut self, json: &[u8]) -> io::Result<()> {
        self.raw(b"H")?;
        self.long(json)
    }

    /// The start of a tree.
    pub fn tree(&mut self, name: &str) -> io::Result<()> {
        self.short(b'T', name.as_bytes())
    }

    /// One entry of the current tree.
    pub fn entry(&mut self, key: &[u8], value: &[u8]) -> io::Result<()> {
        self.raw(b"K")?;
        self.long(key)?;
        self.long(value)
    }

    /// One file: its path in the data dir and its bytes.
    pub fn file(&mut self, path: &str, bytes: &[u8]) -> io::Result<()> {
        self.short(b'F', path.as_bytes())?;
        self.raw(&(bytes.len() as u64).to_be_bytes())?;
        self.raw(bytes)
    }

    /// The manifest (JSON), then the closing digest; the inner writer back.
    pub fn finish(mut self, manifest: &[u8]) -> io::Result<W> {
        self.raw(b"M")?;
        self.long(manifest)?;
        let digest = self.hash.finalize_reset();
        self.out.write_all(b"Z")?;
        self.out.write_all(&digest)?;
        Ok(self.out)
    }

    /// The stream without a manifest (a dump read back by this process only).
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// One frame read back.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// The header JSON.
    Header(Vec<u8>),
    /// A tree starts.
    Tree(String),
    /// An entry of the current tree.
    Entry(Vec<u8>, Vec<u8>),
    /// A file of the data dir.
    File(String, Vec<u8>),
    /// The manifest JSON (the digest after it was checked).
    Manifest(Vec<u8>),
}

/// Reads frames, hashing every byte, and checks the closing digest.
pub struct FrameReader<R: Read> {
    inp: R,
    hash: Sha256,
    done: bool,
}

fn invalid(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_string())
}

impl<R: Read> FrameReader<R> {
    /// Checks the magic and the format.
    pub fn new(inp: R) -> io::Result<Self> {
        let mut r = FrameReader { inp, hash: Sha256::new(), done: false };
        let mut magic = [0u8; 8];
        r.exact(&mut magic).map_err(|_| invalid("not a Fengqiao backup (too short)"))?;
        if &magic != MAGIC {
            return Err(invalid("not a Fengqiao backup (wrong magic bytes)"));
        }
        let format = r.u32()?;
        if format != ARCHIVE_FORMAT {
            return Err(invalid(&format!(
                "backup file format {format} is not one this server reads ({ARCHIVE_FORMAT})"
            )));
        }
        Ok(r)
    }

    fn exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        self.inp.read_exact(buf).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => invalid("the backup ends too early (truncated)"),
            _ => e,
        })?;
        self.hash.update(&*buf);
        Ok(())
    }

    fn u32(&mut self) -> io::Result<u32> {
        let mut b = [0u8; 4];
        self.exact(&mut b)?;
        Ok(u32::from_be_bytes(b))
    }

    fn bytes(&mut self, len: u64) -> io::Result<Vec<u8>> {
        if len > MAX_FIELD {
            return Err(invalid("the backup is damaged (a length is out of range)"));
        }
        // Read as it comes, not allocated up front: a damaged length must not
        // ask for gigabytes.
        let mut v = Vec::with_capacity(len.min(1 << 20) as usize);
        (&mut self.inp).take(len).read_to_end(&mut v)?;
        if v.len() as u64 != len {
            return Err(invalid("the backup ends too early (truncated)"));
        }
        self.hash.update(&v);
        Ok(v)
    }

    fn short(&mut self) -> io::Result<String> {
        let mut b = [0u8; 2];
        self.exact(&mut b)?;
        let v = self.bytes(u64::from(u16::from_be_bytes(b)))?;
        String::from_utf8(v).map_err(|_| invalid("the backup is damaged (a name is not UTF-8)"))
    }

    fn long(&mut self) -> io::Result<Vec<u8>> {
        let len = self.u32()?;
        self.bytes(u64::from(len))
    }

    /// The next frame; `None` after the manifest (whose digest was checked).
    pub fn next_frame(&mut self) -> io::Result<Option<Frame>> {
        if self.done {
            return Ok(None);
        }
        let mut tag = [0u8; 1];
        self.exact(&mut tag)?;
        Ok(Some(match tag[0] {
            b'H' => Frame::Header(self.long()?),
            b'T' => Frame::Tree(self.short()?),
            b'K' => {
                let k = self.long()?;
                Frame::Entry(k, self.long()?)
            }
            b'F' => {
                let path = self.short()?;
                let mut b = [0u8; 8];
                self.exact(&mut b)?;
                Frame::File(path, self.bytes(u64::from_be_bytes(b))?)
            }
            b'M' => {
                let manifest = self.long()?;
                let expected = self.hash.finalize_reset();
                let mut z = [0u8; 33];
                self.inp.read_exact(&mut z).map_err(|_| invalid("the backup ends too early (no closing digest)"))?;
                if z[0] != b'Z' || z[1..] != expected[..] {
                    return Err(invalid("the backup is damaged (its closing digest does not match its content)"));
                }
                self.done = true;
                Frame::Manifest(manifest)
            }
            _ => return Err(invalid("the backup is damaged (unknown frame)")),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let mut w = FrameWriter::new(Vec::new()).unwrap();
        w.header(b"{}").unwrap();
        w.tree("meta").unwrap();
        w.entry(b"k", b"v").unwrap();
        w.file("policy.toml", b"x = 1").unwrap();
        w.finish(b"{\"m\":1}").unwrap()
    }

    fn read_all(bytes: &[u8]) -> io::Result<Vec<Frame>> {
        let mut r = FrameReader::new(bytes)?;
        let mut out = Vec::new();
        while let Some(f) = r.next_frame()? {
            out.push(f);
        }
        Ok(out)
    }

    #[test]
    fn frames_read_back_in_order() {
        let frames = read_all(&sample()).unwrap();
        assert_eq!(
            frames,
            vec![
                Frame::Header(b"{}".to_vec()),
                Frame::Tree("meta".into()),
                Frame::Entry(b"k".to_vec(), b"v".to_vec()),
                Frame::File("policy.toml".into(), b"x = 1".to_vec()),
                Frame::Manifest(b"{\"m\":1}".to_vec()),
            ]
        );
    }

    #[test]
    fn any_changed_or_missing_byte_is_refused() {
        let good = sample();
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x20;
            assert!(read_all(&bad).is_err(), "byte {i} changed went unnoticed");
            assert!(read_all(&good[..i]).is_err(), "cut at {i} went unnoticed");
        }
    }
}
