//! The core's disk use ([`FieldClient::storage_usage`]) and the low-space
//! guard new photos pass ([`FieldClient::ensure_photo_space`]).

use crate::client::FieldClient;
use crate::error::{ClientError, Error};

/// The core's disk use and the space left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageUsage {
    /// Bytes of the store's files (records, outbox, journal).
    pub store_bytes: u64,
    /// Bytes of the photo folder.
    pub photo_bytes: u64,
    /// Bytes free for the core (the disk's free space, or what is left of
    /// `ClientOptions::storage_quota_bytes`, whichever is less).
    pub free_bytes: u64,
    /// Below this much free space new photos are refused (`storage_low`).
    pub min_free_bytes: u64,
    /// A new photo would be accepted now (space permitting its size).
    pub photos_allowed: bool,
}

impl FieldClient {
    /// The core's disk use and the space left.
    pub fn storage_usage(&self) -> Result<StorageUsage, ClientError> {
        Ok(self.storage_usage_inner()?)
    }

    pub(crate) fn storage_usage_inner(&self) -> Result<StorageUsage, Error> {
        let store_bytes = self.store.disk_bytes();
        let photo_bytes = match self.photos.as_ref() {
            Some(b) => b.files()?.iter().map(|(_, l)| l).sum(),
            None => 0,
        };
        let dir = self.data_dir.clone().or_else(|| self.options.photo_dir.clone());
        let disk_free = match dir {
            Some(d) => fs4::available_space(&d)
                .map_err(|e| Error::Store(crate::store::StoreError::Backend(format!("free space: {e}"))))?,
            None => u64::MAX,
        };
        let quota_free = self
            .options
            .storage_quota_bytes
            .map_or(u64::MAX, |q| q.saturating_sub(store_bytes.saturating_add(photo_bytes)));
        let free_bytes = disk_free.min(quota_free);
        Ok(StorageUsage {
            store_bytes,
            photo_bytes,
            free_bytes,
            min_free_bytes: self.options.min_free_bytes,
            photos_allowed: free_bytes > self.options.min_free_bytes,
        })
    }

    /// Before a photo of `len` bytes is copied in: enough free space must stay
    /// above the threshold. Evicts originals the server already has first;
    /// then refuses with [`Error::StorageLow`] (text records still save).
    /// Callers hold the photo lock.
    pub(crate) fn ensure_photo_space(&self, len: u64) -> Result<(), Error> {
        let usage = self.storage_usage_inner()?;
        let need = self.options.min_free_bytes.saturating_add(len);
        if usage.free_bytes >= need {
            return Ok(());
        }
        if let Some(blobs) = self.photos.as_ref() {
            let short = need - usage.free_bytes;
            let target = usage.photo_bytes.saturating_sub(short);
            crate::photos::make_room(self.store.as_ref(), blobs, target, 0)?;
        }
        let after = self.storage_usage_inner()?;
        if after.free_bytes >= need {
            return Ok(());
        }
        Err(Error::StorageLow(format!(
            "手机只剩 {} MB 空间，须保留 {} MB：同步或清理空间之前不能再拍新照片（文字记录照常保存）",
            after.free_bytes / 1_000_000,
            self.options.min_free_bytes / 1_000_000
        )))
    }
}
