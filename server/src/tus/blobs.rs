//! Where photo bytes live: files under the data dir now, an S3-compatible bucket in
//! a larger deployment — behind [`BlobStore`]. Partial uploads and complete blobs
//! are kept apart; a blob is named by the SHA-256 of its bytes, so the same photo
//! uploaded by two phones is kept once.

use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;

use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncSeekExt};
use uuid::Uuid;

/// A writer at an offset of a partial upload. Blocking: it is fed on a
/// blocking thread, batch by batch (see [`super::ingest`]).
pub type PartWriter = Box<dyn std::io::Write + Send>;
/// A reader of a range of a blob.
pub type BlobReader = Pin<Box<dyn AsyncRead + Send>>;

/// Photo bytes storage.
#[async_trait::async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Creates an empty partial upload.
    async fn create_partial(&self, upload: Uuid) -> io::Result<()>;
    /// How many bytes a partial upload holds (`None` if it does not exist).
    async fn partial_len(&self, upload: Uuid) -> io::Result<Option<u64>>;
    /// A writer positioned at `offset` of the partial upload.
    async fn write_partial(&self, upload: Uuid, offset: u64) -> io::Result<PartWriter>;
    /// Cuts a partial upload back to `len` bytes (a refused chunk is discarded).
    async fn truncate_partial(&self, upload: Uuid, len: u64) -> io::Result<()>;
    /// Makes the partial upload's bytes durable.
    async fn sync_partial(&self, upload: Uuid) -> io::Result<()>;
    /// SHA-256 of the partial upload's bytes, lowercase hex (streamed, not loaded).
    async fn hash_partial(&self, upload: Uuid) -> io::Result<String>;
    /// Turns a complete partial upload into the blob `sha256` (or drops it if that
    /// blob exists already).
    async fn promote(&self, upload: Uuid, sha256: &str) -> io::Result<()>;
    /// Removes a partial upload (missing is fine).
    async fn remove_partial(&self, upload: Uuid) -> io::Result<()>;
    /// Length of a blob (`None` if absent).
    async fn blob_len(&self, sha256: &str) -> io::Result<Option<u64>>;
    /// Reads `len` bytes of a blob from `start`.
    async fn read_blob(&self, sha256: &str, start: u64, len: u64) -> io::Result<BlobReader>;
}

/// Blobs as files: `<root>/uploads/<id>.part` and `<root>/blobs/<aa>/<sha256>`.
pub struct FsBlobStore {
    root: PathBuf,
}

fn valid_sha(sha: &str) -> io::Result<()> {
    if sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(io::Error::new(io::ErrorKind::InvalidInput, "not a lowercase SHA-256"))
    }
}

impl FsBlobStore {
    /// Opens (creating) the folders under `root`.
    pub fn open(root: &Path) -> io::Result<FsBlobStore> {
        std::fs::create_dir_all(root.join("uploads"))?;
        std::fs::create_dir_all(root.join("blobs"))?;
        Ok(FsBlobStore { root: root.to_path_buf() })
    }

    fn part(&self, upload: Uuid) -> PathBuf {
        self.root.join("uploads").join(format!("{upload}.part"))
    }

    fn blob(&self, sha: &str) -> io::Result<PathBuf> {
        valid_sha(sha)?;
        Ok(self.root.join("blobs").join(&sha[..2]).join(sha))
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)?.sync_all()?;
    }
    let _ = dir;
    Ok(())
}

#[async_trait::async_trait]
impl BlobStore for FsBlobStore {
    async fn create_partial(&self, upload: Uuid) -> io::Result<()> {
        // Not synced: lost in a crash, the upload answers 404 and the phone
        // starts a new one (its bytes were never vouched for anyway).
        tokio::fs::File::create(self.part(upload)).await.map(drop)
    }

    async fn partial_len(&self, upload: Uuid) -> io::Result<Option<u64>> {
        match tokio::fs::metadata(self.part(upload)).await {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn write_partial(&self, upload: Uuid, offset: u64) -> io::Result<PartWriter> {
        let mut f = tokio::fs::OpenOptions::new().write(true).open(self.part(upload)).await?;
        f.seek(io::SeekFrom::Start(offset)).await?;
        // Written in batches of a few hundred KiB straight from the request's
        // buffers, on a blocking thread: no buffer of its own.
        Ok(Box::new(f.into_std().await))
    }

    async fn truncate_partial(&self, upload: Uuid, len: u64) -> io::Result<()> {
        let f = tokio::fs::OpenOptions::new().write(true).open(self.part(upload)).await?;
        f.set_len(len).await?;
        f.sync_all().await
    }

    async fn sync_partial(&self, upload: Uuid) -> io::Result<()> {
        tokio::fs::OpenOptions::new().write(true).open(self.part(upload)).await?.sync_data().await
    }

    async fn hash_partial(&self, upload: Uuid) -> io::Result<String> {
        let path = self.part(upload);
        tokio::task::spawn_blocking(move || {
            use std::io::Read;
            let mut f = std::fs::File::open(path)?;
            let mut h = Sha256::new();
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = f.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                h.update(&buf[..n]);
            }
            Ok(hex::encode(h.finalize()))
        })
        .await
        .map_err(io::Error::other)?
    }

    async fn promote(&self, upload: Uuid, sha256: &str) -> io::Result<()> {
        let target = self.blob(sha256)?;
        let part = self.part(upload);
        if tokio::fs::try_exists(&target).await? {
            return self.remove_partial(upload).await;
        }
        let dir = target.parent().map(Path::to_path_buf).unwrap_or_else(|| self.root.clone());
        tokio::fs::create_dir_all(&dir).await?;
        tokio::fs::OpenOptions::new().write(true).open(&part).await?.sync_all().await?;
        tokio::fs::rename(&part, &target).await?;
        tokio::task::spawn_blocking(move || sync_dir(&dir)).await.map_err(io::Error::other)?
    }

    async fn remove_partial(&self, upload: Uuid) -> io::Result<()> {
        match tokio::fs::remove_file(self.part(upload)).await {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    async fn blob_len(&self, sha256: &str) -> io::Result<Option<u64>> {
        match tokio::fs::metadata(self.blob(sha256)?).await {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn read_blob(&self, sha256: &str, start: u64, len: u64) -> io::Result<BlobReader> {
        use tokio::io::AsyncReadExt;
        let mut f = tokio::fs::File::open(self.blob(sha256)?).await?;
        f.seek(io::SeekFrom::Start(start)).await?;
        Ok(Box::pin(f.take(len)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn partial_write_truncate_hash_promote_read() {
        let dir = tempfile::tempdir().unwrap();
        let b = FsBlobStore::open(dir.path()).unwrap();
        let id = Uuid::now_v7();
        assert_eq!(b.partial_len(id).await.unwrap(), None);
        b.create_partial(id).await.unwrap();
        let mut w = b.write_partial(id, 0).await.unwrap();
        std::io::Write::write_all(&mut w, b"hello world, garbage").unwrap();
        drop(w);
        b.truncate_partial(id, 11).await.unwrap();
        assert_eq!(b.partial_len(id).await.unwrap(), Some(11));
        let sha = b.hash_partial(id).await.unwrap();
        assert_eq!(sha, hex::encode(Sha256::digest(b"hello world")));
        b.promote(id, &sha).await.unwrap();
        assert_eq!(b.partial_len(id).await.unwrap(), None);
        assert_eq!(b.blob_len(&sha).await.unwrap(), Some(11));
        let mut r = b.read_blob(&sha, 6, 5).await.unwrap();
        let mut s = String::new();
        r.read_to_string(&mut s).await.unwrap();
        assert_eq!(s, "world");
        // a second upload of the same bytes leaves one blob
        let id2 = Uuid::now_v7();
        b.create_partial(id2).await.unwrap();
        b.promote(id2, &sha).await.unwrap();
        assert_eq!(b.partial_len(id2).await.unwrap(), None);
        assert!(b.blob_len("../../etc/passwd").await.is_err(), "names are hashes only");
    }
}
