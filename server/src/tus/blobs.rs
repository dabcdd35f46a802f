//! Where photo bytes live, behind [`BlobStore`]: files under the data dir by
//! default, an S3-compatible bucket in a larger deployment (both through the
//! `object_store` crate: [`super::objects::ObjectBlobStore`], ADR 0038).
//! Partial uploads and complete blobs are kept apart; a blob is named by the
//! SHA-256 of its bytes, so the same photo uploaded by two phones is kept once.

use std::io;
use std::pin::Pin;

use tokio::io::AsyncRead;
use uuid::Uuid;

use super::location::PhotoLocation;

/// The writer of one chunk of a partial upload. Blocking: it is fed on a
/// blocking thread, batch by batch (see [`super::ingest`]); what it takes
/// becomes part of the upload only when [`BlobStore::keep_chunk`] is called.
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
    /// A writer of the chunk that starts at `offset` of the partial upload.
    async fn write_partial(&self, upload: Uuid, offset: u64) -> io::Result<PartWriter>;
    /// Makes the chunk written at `offset` part of the upload (its bytes now
    /// count in [`BlobStore::partial_len`], for every server process reading the
    /// same store). `AlreadyExists` if another process kept a chunk there first.
    async fn keep_chunk(&self, upload: Uuid, offset: u64) -> io::Result<()>;
    /// Discards the chunk written at `offset` (a refused chunk leaves nothing).
    async fn drop_chunk(&self, upload: Uuid, offset: u64) -> io::Result<()>;
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
    /// Where the bytes live (a backup carries local photos and lists remote ones).
    fn location(&self) -> &PhotoLocation;
    /// Checks that the store answers (a wrong endpoint, bucket or credential
    /// stops the server at start rather than at the first photo).
    async fn check(&self) -> io::Result<()>;
}

/// Refuses a name that is not a lowercase SHA-256 (no key outside the blobs).
pub(crate) fn valid_sha(sha: &str) -> io::Result<()> {
    if sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(io::Error::new(io::ErrorKind::InvalidInput, "not a lowercase SHA-256"))
    }
}
