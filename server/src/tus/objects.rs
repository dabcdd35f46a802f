//! [`ObjectBlobStore`]: photo bytes in an object store (the `object_store`
//! crate): a local folder by default, an S3-compatible bucket in a larger
//! deployment (ADR 0038). The keys, under the location's prefix:
//! - `blobs/<aa>/<sha256>`: a kept photo, named by its hash;
//! - `uploads/<id>/open`: an upload under way (its marker; without it the
//!   upload does not exist);
//! - `uploads/<id>/<offset, 20 digits>`: each chunk kept, one object each.
//!
//! A partial upload is its marker and the chunks that follow each other from
//! offset 0, so any server process that reads the same store can tell its
//! offset and continue it. A chunk is held in memory while its request is
//! taken in and judged, then written whole with "create only if absent": a
//! second process that took a chunk at the same offset meanwhile finds it
//! there and is refused (409), as a second writer in one process is (423).

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use object_store::buffered::BufWriter;
use object_store::local::LocalFileSystem;
use object_store::path::Path as Key;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

use super::blobs::{valid_sha, BlobReader, BlobStore, PartWriter};
use super::location::{PhotoLocation, S3Location};

/// Bytes a photo is copied in while its chunks become one blob (larger photos
/// go up as a multipart upload).
const ASSEMBLE_BUFFER: usize = 8 * 1024 * 1024;

/// Photo bytes in an object store.
pub struct ObjectBlobStore {
    objects: Arc<dyn ObjectStore>,
    prefix: String,
    location: PhotoLocation,
    /// The folder, when local: kept blobs are fsynced there.
    local_root: Option<PathBuf>,
    /// The chunk being taken in for each upload (one writer per upload in a
    /// process): its offset and bytes, until kept or dropped.
    pending: Mutex<HashMap<Uuid, (u64, Chunk)>>,
}

type Chunk = Arc<Mutex<Vec<u8>>>;

/// A chunk's bytes, held until the request is judged.
struct ChunkSink(Chunk);

impl io::Write for ChunkSink {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn io_err(e: object_store::Error) -> io::Error {
    match e {
        object_store::Error::NotFound { .. } => io::Error::new(io::ErrorKind::NotFound, e.to_string()),
        object_store::Error::AlreadyExists { .. } | object_store::Error::Precondition { .. } => {
            io::Error::new(io::ErrorKind::AlreadyExists, e.to_string())
        }
        other => io::Error::other(other.to_string()),
    }
}

impl ObjectBlobStore {
    /// Opens the photo store at `location`: a local folder (created, and its
    /// partial uploads of the older one-file layout moved to chunks), or an
    /// S3-compatible bucket (credentials from the environment).
    pub fn open(location: &PhotoLocation) -> io::Result<ObjectBlobStore> {
        match location {
            PhotoLocation::Local(root) => Self::open_local(root),
            PhotoLocation::S3(s3) => Self::open_s3(s3, location.clone()),
        }
    }

    fn open_local(root: &Path) -> io::Result<ObjectBlobStore> {
        std::fs::create_dir_all(root.join("uploads"))?;
        std::fs::create_dir_all(root.join("blobs"))?;
        let root = root.canonicalize()?;
        migrate_single_file_uploads(&root)?;
        let fs = LocalFileSystem::new_with_prefix(&root).map_err(io_err)?.with_automatic_cleanup(true);
        Ok(ObjectBlobStore {
            objects: Arc::new(fs),
            prefix: String::new(),
            location: PhotoLocation::Local(root.clone()),
            local_root: Some(root),
            pending: Mutex::default(),
        })
    }

    fn open_s3(s3: &S3Location, location: PhotoLocation) -> io::Result<ObjectBlobStore> {
        use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
        let mut b = AmazonS3Builder::from_env().with_bucket_name(&s3.bucket);
        for (k, v) in &s3.settings {
            let key: AmazonS3ConfigKey = k
                .parse()
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, format!("--photos: unknown setting {k}")))?;
            b = b.with_config(key, v);
        }
        let objects = b.build().map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        Ok(ObjectBlobStore {
            objects: Arc::new(objects),
            prefix: s3.prefix.clone(),
            location,
            local_root: None,
            pending: Mutex::default(),
        })
    }

    fn key(&self, rest: &str) -> Key {
        if self.prefix.is_empty() {
            Key::from(rest)
        } else {
            Key::from(format!("{}/{rest}", self.prefix))
        }
    }

    fn blob_key(&self, sha: &str) -> io::Result<Key> {
        valid_sha(sha)?;
        Ok(self.key(&format!("blobs/{}/{sha}", &sha[..2])))
    }

    fn marker(&self, upload: Uuid) -> Key {
        self.key(&format!("uploads/{upload}/open"))
    }

    fn part_key(&self, upload: Uuid, offset: u64) -> Key {
        self.key(&format!("uploads/{upload}/{offset:020}"))
    }

    /// The upload's chunks that follow each other from offset 0 (offset, key,
    /// length), or `None` if the upload has no marker.
    async fn parts(&self, upload: Uuid) -> io::Result<Option<Vec<(u64, Key, u64)>>> {
        let mut open = false;
        let mut parts = Vec::new();
        let mut list = self.objects.list(Some(&self.key(&format!("uploads/{upload}"))));
        while let Some(meta) = list.next().await {
            let meta = meta.map_err(io_err)?;
            match meta.location.filename() {
                Some("open") => open = true,
                Some(name) => {
                    if let Ok(offset) = name.parse::<u64>() {
                        parts.push((offset, meta.location.clone(), meta.size));
                    }
                }
                None => {}
            }
        }
        if !open {
            return Ok(None);
        }
        parts.sort_by_key(|(o, _, _)| *o);
        let mut end = 0;
        let mut chain = Vec::new();
        for (offset, key, len) in parts {
            if offset != end {
                break;
            }
            end += len;
            chain.push((offset, key, len));
        }
        Ok(Some(chain))
    }

    /// Feeds each byte of the upload's chunks, in order, to `each`.
    async fn read_parts(&self, parts: &[(u64, Key, u64)], each: &mut (dyn FnMut(Bytes) + Send)) -> io::Result<()> {
        for (_, key, _) in parts {
            let mut stream = self.objects.get(key).await.map_err(io_err)?.into_stream();
            while let Some(piece) = stream.next().await {
                each(piece.map_err(io_err)?);
            }
        }
        Ok(())
    }

    /// Makes a kept local blob durable (the file and its folder).
    async fn sync_local(&self, key: &Key) -> io::Result<()> {
        let Some(root) = &self.local_root else { return Ok(()) };
        let path = root.join(key.as_ref());
        tokio::task::spawn_blocking(move || {
            std::fs::File::open(&path)?.sync_all()?;
            #[cfg(unix)]
            if let Some(dir) = path.parent() {
                std::fs::File::open(dir)?.sync_all()?;
            }
            Ok(())
        })
        .await
        .map_err(io::Error::other)?
    }
}

/// Moves each partial upload of the one-file layout (`uploads/<id>.part`) to
/// its chunk layout (`uploads/<id>/open` and `uploads/<id>/000…0`), so that an
/// upload under way when the server was upgraded goes on where it was.
fn migrate_single_file_uploads(root: &Path) -> io::Result<()> {
    for entry in std::fs::read_dir(root.join("uploads"))? {
        let path = entry?.path();
        let Some(id) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".part")) else {
            continue;
        };
        let Ok(id) = Uuid::parse_str(id) else { continue };
        let dir = root.join("uploads").join(id.to_string());
        std::fs::create_dir_all(&dir)?;
        std::fs::File::create(dir.join("open"))?;
        if std::fs::metadata(&path)?.len() > 0 {
            std::fs::rename(&path, dir.join(format!("{:020}", 0)))?;
        } else {
            std::fs::remove_file(&path)?;
        }
    }
    Ok(())
}

#[async_trait::async_trait]
impl BlobStore for ObjectBlobStore {
    async fn create_partial(&self, upload: Uuid) -> io::Result<()> {
        self.objects.put(&self.marker(upload), PutPayload::new()).await.map_err(io_err).map(drop)
    }

    async fn partial_len(&self, upload: Uuid) -> io::Result<Option<u64>> {
        Ok(self.parts(upload).await?.map(|parts| parts.iter().map(|(_, _, len)| len).sum()))
    }

    async fn write_partial(&self, upload: Uuid, offset: u64) -> io::Result<PartWriter> {
        let chunk = Chunk::default();
        // A chunk left by a request that was dropped before it was judged is
        // replaced: one writer per upload in a process.
        self.pending.lock().unwrap_or_else(|p| p.into_inner()).insert(upload, (offset, chunk.clone()));
        Ok(Box::new(ChunkSink(chunk)))
    }

    async fn keep_chunk(&self, upload: Uuid, offset: u64) -> io::Result<()> {
        let taken = self.pending.lock().unwrap_or_else(|p| p.into_inner()).remove(&upload);
        let Some((at, chunk)) = taken.filter(|(at, _)| *at == offset) else {
            return Err(io::Error::new(io::ErrorKind::NotFound, "no chunk taken in at this offset"));
        };
        let bytes = std::mem::take(&mut *chunk.lock().unwrap_or_else(|p| p.into_inner()));
        if bytes.is_empty() {
            return Ok(());
        }
        let opts = PutOptions { mode: PutMode::Create, ..PutOptions::default() };
        self.objects.put_opts(&self.part_key(upload, at), Bytes::from(bytes).into(), opts).await.map_err(io_err)?;
        Ok(())
    }

    async fn drop_chunk(&self, upload: Uuid, offset: u64) -> io::Result<()> {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        if pending.get(&upload).is_some_and(|(at, _)| *at == offset) {
            pending.remove(&upload);
        }
        Ok(())
    }

    async fn hash_partial(&self, upload: Uuid) -> io::Result<String> {
        let parts = self.parts(upload).await?.ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))?;
        let mut h = Sha256::new();
        self.read_parts(&parts, &mut |piece| h.update(&piece)).await?;
        Ok(hex::encode(h.finalize()))
    }

    async fn promote(&self, upload: Uuid, sha256: &str) -> io::Result<()> {
        let target = self.blob_key(sha256)?;
        if self.blob_len(sha256).await?.is_some() {
            return self.remove_partial(upload).await;
        }
        let parts = self.parts(upload).await?.ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))?;
        if let [(_, only, _)] = parts.as_slice() {
            // One chunk (most photos): the blob is that object, copied within
            // the store.
            self.objects.copy(only, &target).await.map_err(io_err)?;
        } else {
            let mut w = BufWriter::with_capacity(self.objects.clone(), target.clone(), ASSEMBLE_BUFFER);
            for (_, key, _) in &parts {
                let mut stream = self.objects.get(key).await.map_err(io_err)?.into_stream();
                while let Some(piece) = stream.next().await {
                    w.write_all(&piece.map_err(io_err)?).await?;
                }
            }
            w.shutdown().await?;
        }
        self.sync_local(&target).await?;
        self.remove_partial(upload).await
    }

    async fn remove_partial(&self, upload: Uuid) -> io::Result<()> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner()).remove(&upload);
        // The marker first: without it the upload is gone, whatever is left.
        match self.objects.delete(&self.marker(upload)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(io_err(e)),
        }
        let keys: Vec<Key> = self
            .objects
            .list(Some(&self.key(&format!("uploads/{upload}"))))
            .map_ok(|m| m.location)
            .try_collect()
            .await
            .map_err(io_err)?;
        for key in keys {
            match self.objects.delete(&key).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(io_err(e)),
            }
        }
        Ok(())
    }

    async fn blob_len(&self, sha256: &str) -> io::Result<Option<u64>> {
        match self.objects.head(&self.blob_key(sha256)?).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(io_err(e)),
        }
    }

    async fn read_blob(&self, sha256: &str, start: u64, len: u64) -> io::Result<BlobReader> {
        let key = self.blob_key(sha256)?;
        if len == 0 {
            return Ok(Box::pin(tokio::io::empty()));
        }
        let opts = GetOptions { range: Some(GetRange::Bounded(start..start + len)), ..GetOptions::default() };
        let got = self.objects.get_opts(&key, opts).await.map_err(io_err)?;
        let stream = got.into_stream().map_err(io_err);
        Ok(Box::pin(tokio_util::io::StreamReader::new(stream)))
    }

    fn location(&self) -> &PhotoLocation {
        &self.location
    }

    async fn check(&self) -> io::Result<()> {
        // A listing of the uploads under way: the bucket exists and we may read it.
        let mut list = self.objects.list(Some(&self.key("uploads")));
        match list.next().await {
            Some(Err(e)) => Err(io_err(e)),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use tokio::io::AsyncReadExt;

    async fn chunk(b: &ObjectBlobStore, id: Uuid, offset: u64, bytes: &[u8]) {
        let mut w = b.write_partial(id, offset).await.unwrap();
        w.write_all(bytes).unwrap();
        drop(w);
        b.keep_chunk(id, offset).await.unwrap();
    }

    #[tokio::test]
    async fn chunks_hash_promote_read_and_one_blob_per_content() {
        let dir = tempfile::tempdir().unwrap();
        let b = ObjectBlobStore::open(&PhotoLocation::Local(dir.path().join("photos"))).unwrap();
        b.check().await.unwrap();
        let id = Uuid::now_v7();
        assert_eq!(b.partial_len(id).await.unwrap(), None);
        b.create_partial(id).await.unwrap();
        assert_eq!(b.partial_len(id).await.unwrap(), Some(0));
        chunk(&b, id, 0, b"hello ").await;
        // A refused chunk leaves nothing.
        let mut w = b.write_partial(id, 6).await.unwrap();
        w.write_all(b"garbage").unwrap();
        b.drop_chunk(id, 6).await.unwrap();
        assert!(b.keep_chunk(id, 6).await.is_err(), "a dropped chunk cannot be kept");
        assert_eq!(b.partial_len(id).await.unwrap(), Some(6));
        chunk(&b, id, 6, b"world").await;
        assert_eq!(b.partial_len(id).await.unwrap(), Some(11));
        // A second writer at a taken offset is refused.
        let mut w = b.write_partial(id, 6).await.unwrap();
        w.write_all(b"WORLD").unwrap();
        assert_eq!(b.keep_chunk(id, 6).await.unwrap_err().kind(), io::ErrorKind::AlreadyExists);
        let sha = b.hash_partial(id).await.unwrap();
        assert_eq!(sha, hex::encode(Sha256::digest(b"hello world")));
        b.promote(id, &sha).await.unwrap();
        assert_eq!(b.partial_len(id).await.unwrap(), None);
        assert_eq!(b.blob_len(&sha).await.unwrap(), Some(11));
        let on_disk = dir.path().join("photos/blobs").join(&sha[..2]).join(&sha);
        assert_eq!(std::fs::read(on_disk).unwrap(), b"hello world", "the data dir's layout is kept");
        let mut s = String::new();
        b.read_blob(&sha, 6, 5).await.unwrap().read_to_string(&mut s).await.unwrap();
        assert_eq!(s, "world");
        // a second upload of the same bytes leaves one blob
        let id2 = Uuid::now_v7();
        b.create_partial(id2).await.unwrap();
        chunk(&b, id2, 0, b"hello world").await;
        b.promote(id2, &sha).await.unwrap();
        assert_eq!(b.partial_len(id2).await.unwrap(), None);
        assert!(b.blob_len("../../etc/passwd").await.is_err(), "names are hashes only");
        let left = std::fs::read_dir(dir.path().join("photos/uploads")).map(|d| d.count()).unwrap_or(0);
        assert_eq!(left, 0, "no chunk is left once kept");
    }

    #[tokio::test]
    async fn an_upload_of_the_one_file_layout_goes_on_after_the_upgrade() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("photos");
        std::fs::create_dir_all(root.join("uploads")).unwrap();
        let id = Uuid::now_v7();
        std::fs::write(root.join("uploads").join(format!("{id}.part")), b"hello ").unwrap();
        let empty = Uuid::now_v7();
        std::fs::write(root.join("uploads").join(format!("{empty}.part")), b"").unwrap();
        let b = ObjectBlobStore::open(&PhotoLocation::Local(root.clone())).unwrap();
        assert_eq!(b.partial_len(id).await.unwrap(), Some(6));
        assert_eq!(b.partial_len(empty).await.unwrap(), Some(0));
        chunk(&b, id, 6, b"world").await;
        assert_eq!(b.hash_partial(id).await.unwrap(), hex::encode(Sha256::digest(b"hello world")));
        assert!(!root.join("uploads").join(format!("{id}.part")).exists());
    }
}
