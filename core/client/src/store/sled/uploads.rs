//! The photo upload queue in the `uploads` tree: reading entries, saving an
//! upload's progress (without waiting for the disk while it is under way), and
//! confirming a photo when the server took its attach op.

use sled::transaction::TransactionalTree;

use super::{backend, SledClientStore, TxResult, Versioned, T_UPLOADS};
use crate::store::{PhotoUpload, StoreResult, UploadState, STORE_FORMAT_VERSION};

impl SledClientStore {
    /// Marks the photo of a confirmed attach op as confirmed, inside a transaction.
    pub(super) fn tx_confirm_photo(&self, uploads: &TransactionalTree, sha: &str) -> TxResult<()> {
        let key = self.pk(sha);
        if let Some(v) = uploads.get(key)? {
            let mut cur: Versioned<PhotoUpload> = self.tx_unseal("upload", T_UPLOADS, &key, &v)?;
            if !cur.value.confirmed {
                cur.value.confirmed = true;
                uploads.insert(&key, self.tx_seal(T_UPLOADS, &key, &cur)?)?;
            }
        }
        Ok(())
    }

    pub(super) fn read_upload(&self, sha256: &str) -> StoreResult<Option<PhotoUpload>> {
        self.live()?;
        let key = self.pk(sha256);
        match self.uploads.get(key).map_err(backend)? {
            Some(v) => Ok(Some(self.unseal::<Versioned<PhotoUpload>>("upload", T_UPLOADS, &key, &v)?.value)),
            None => Ok(None),
        }
    }

    pub(super) fn read_uploads(&self) -> StoreResult<Vec<PhotoUpload>> {
        self.live()?;
        let mut out = Vec::new();
        for item in self.uploads.iter() {
            let (k, v) = item.map_err(backend)?;
            match self.unseal::<Versioned<PhotoUpload>>("upload", T_UPLOADS, &k, &v) {
                Ok(u) => out.push(u.value),
                Err(e) => tracing::warn!(error = %e, "skipping unreadable upload entry"),
            }
        }
        out.sort_by(|a, b| (a.seq, &a.sha256).cmp(&(b.seq, &b.sha256)));
        Ok(out)
    }

    pub(super) fn write_upload(&self, upload: &PhotoUpload) -> StoreResult<bool> {
        let key = self.pk(&upload.sha256);
        // One key, read and written under the writer lock: no sled transaction,
        // whose commit rolls sled's log buffer and syncs the log file twice
        // (ADR 0017) — once per uploaded chunk, on the path to the next one.
        let _w = self.write()?;
        let Some(v) = self.uploads.get(key).map_err(backend)? else { return Ok(false) };
        let cur: Versioned<PhotoUpload> = self.unseal("upload", T_UPLOADS, &key, &v)?;
        let next = PhotoUpload { seq: cur.value.seq, confirmed: cur.value.confirmed, ..upload.clone() };
        // While an upload is under way, what changes is the server's to tell
        // again (bytes sent: HEAD before every resume) or cheap to lose (an
        // attempt count): no wait for the disk. A new upload URL (so a
        // restarted app resumes rather than starts over) and an upload that
        // ends (done, failed) do wait.
        let under_way = |s: &UploadState| matches!(s, UploadState::Pending | UploadState::Uploading { .. });
        let progress_only =
            cur.value.upload_url == next.upload_url && under_way(&cur.value.state) && under_way(&next.state);
        let sealed = self.seal(T_UPLOADS, &key, &Versioned { fv: STORE_FORMAT_VERSION, value: next })?;
        self.uploads.insert(key, sealed).map_err(backend)?;
        if !progress_only {
            self.flush()?;
        }
        Ok(true)
    }
}
