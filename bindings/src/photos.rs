//! Photos: attach one to a record from a file (the core copies it into its own
//! content-addressed folder; durable when the call returns), list a record's
//! photos with their upload state, and the upload queue for the sync screen.
//! Uploads run inside `sync`, after the records (progress phase `Uploading`).
//!
//! Record kinds cross the boundary as their wire names (`visit`, `household`, …),
//! as in [`RecordRef`](crate::sync::RecordRef).

use fengqiao_core::{AttachedPhoto as CoreAttached, NewPhoto as CoreNewPhoto, PhotoStatus as CoreStatus, UploadState};
use fengqiao_domain::{Attachment as DomAttachment, EntityKind};

use crate::client::FieldClient;
use crate::convert::{id, parse_id};
use crate::error::FengqiaoError;
use crate::runtime::guard;

/// A record kind from its wire name.
pub(crate) fn parse_kind(what: &str, kind: &str) -> Result<EntityKind, FengqiaoError> {
    serde_json::from_value(serde_json::Value::String(kind.trim().to_string())).map_err(|_| {
        FengqiaoError::invalid_input(
            "记录类型：本机不认识应用传来的记录类型，请更新应用",
            || format!("{what}: unknown record kind"),
        )
    })
}

/// The wire name of a record kind.
pub(crate) fn kind_name(kind: EntityKind) -> String {
    match serde_json::to_value(kind) {
        Ok(serde_json::Value::String(s)) => s,
        _ => format!("{kind:?}"),
    }
}

/// A photo as the app hands it over.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NewPhoto {
    /// Kind of the record it belongs to, e.g. `visit`.
    pub target_kind: String,
    /// That record's id (the record must be on this phone).
    pub target_id: String,
    /// Path of the image file; the core copies it (the app may delete it after).
    pub source_path: String,
    /// `image/jpeg`, `image/png`, `image/heic` or `image/webp`.
    pub content_type: String,
    /// Optional caption.
    #[uniffi(default = "")]
    pub caption: String,
}

/// The attachment record: which photo belongs to which record.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Attachment {
    /// Id (made on the phone).
    pub id: String,
    /// Kind of the record it is attached to.
    pub target_kind: String,
    /// That record's id.
    pub target_id: String,
    /// SHA-256 of the photo's bytes, lowercase hex (also its name on the server).
    pub sha256: String,
    /// Size in bytes.
    pub length: u64,
    /// Image type.
    pub content_type: String,
    /// Caption.
    pub caption: String,
    /// Who attached it.
    pub author_id: String,
}

impl From<DomAttachment> for Attachment {
    fn from(a: DomAttachment) -> Self {
        Attachment {
            id: id(a.id),
            target_kind: kind_name(a.target_kind),
            target_id: id(a.target_id),
            sha256: a.sha256,
            length: a.length,
            content_type: a.content_type,
            caption: a.caption,
            author_id: id(a.author),
        }
    }
}

/// Where a photo's upload stands.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum PhotoUploadState {
    /// Waiting: for its record to be confirmed, or for the next sync.
    Pending,
    /// Partly on the server; resumes from the server's offset.
    Uploading {
        /// Bytes the server has confirmed.
        bytes_done: u64,
        /// The photo's size.
        total: u64,
    },
    /// On the server, verified by hash.
    Done,
    /// Failed: `permanent` ones are not retried, others are on the next sync.
    Failed {
        /// Stable code, e.g. `photo_too_large`, `local_file_missing`.
        code: String,
        /// Readable message.
        message: String,
        /// Not retried.
        permanent: bool,
    },
}

impl From<UploadState> for PhotoUploadState {
    fn from(s: UploadState) -> Self {
        match s {
            UploadState::Pending => PhotoUploadState::Pending,
            UploadState::Uploading { bytes_done, total } => PhotoUploadState::Uploading { bytes_done, total },
            UploadState::Done => PhotoUploadState::Done,
            UploadState::Failed { code, message, permanent } => PhotoUploadState::Failed { code, message, permanent },
        }
    }
}

/// One photo of the upload queue ("2 photos pending").
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PhotoStatus {
    /// SHA-256 of its bytes, lowercase hex.
    pub sha256: String,
    /// Size in bytes.
    pub length: u64,
    /// Image type.
    pub content_type: String,
    /// Pending, uploading, done or failed.
    pub state: PhotoUploadState,
    /// Bytes the server has confirmed (the length once done).
    pub bytes_done: u64,
    /// Still to be uploaded (not done, not failed for good).
    pub pending: bool,
    /// The original is still on this phone (see `photo_bytes`).
    pub local_file: bool,
    /// The server accepted the record saying where it belongs.
    pub confirmed: bool,
}

impl From<CoreStatus> for PhotoStatus {
    fn from(s: CoreStatus) -> Self {
        let pending = s.is_pending();
        PhotoStatus {
            sha256: s.sha256,
            length: s.length,
            content_type: s.content_type,
            state: s.state.into(),
            bytes_done: s.bytes_done,
            pending,
            local_file: s.local_file,
            confirmed: s.confirmed,
        }
    }
}

/// A photo attached to a record, as listed for that record.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AttachedPhoto {
    /// The attachment record.
    pub attachment: Attachment,
    /// Made here and not yet confirmed by the server.
    pub pending: bool,
    /// Its upload, if this phone queued it (none for photos pulled from others).
    pub status: Option<PhotoStatus>,
}

impl From<CoreAttached> for AttachedPhoto {
    fn from(a: CoreAttached) -> Self {
        AttachedPhoto { attachment: a.attachment.into(), pending: a.pending, status: a.status.map(PhotoStatus::from) }
    }
}

/// The core's form of a new photo.
fn core_photo(photo: NewPhoto) -> Result<CoreNewPhoto, FengqiaoError> {
    Ok(CoreNewPhoto {
        target_kind: parse_kind("target_kind", &photo.target_kind)?,
        target_id: parse_id("target_id", &photo.target_id)?,
        source_path: photo.source_path,
        content_type: photo.content_type,
        caption: photo.caption,
    })
}

#[uniffi::export]
impl FieldClient {
    /// Attaches a photo to a record on this phone: copies the file into the
    /// phone's photo folder and queues the attachment and its upload. Durable
    /// when it returns. Out of space: `storage_full`, nothing written.
    pub fn attach_photo(&self, photo: NewPhoto) -> Result<Attachment, FengqiaoError> {
        guard(|| Ok(self.core().attach_photo(core_photo(photo)?)?.into()))
    }

    /// Attaches a photo that files an item of a dispute's case-file checklist
    /// (`identity_documents`, `rights_notice`, …) to the dispute or one of its records.
    pub fn attach_case_file_photo(&self, photo: NewPhoto, file_item: String) -> Result<Attachment, FengqiaoError> {
        guard(|| Ok(self.core().attach_case_file_photo(core_photo(photo)?, file_item)?.into()))
    }

    /// The photos attached to a record, oldest first, with their upload state.
    pub fn photos_for(&self, target_kind: String, target_id: String) -> Result<Vec<AttachedPhoto>, FengqiaoError> {
        guard(|| {
            let kind = parse_kind("target_kind", &target_kind)?;
            let target = parse_id("target_id", &target_id)?;
            Ok(self.core().photos_for(kind, target)?.into_iter().map(AttachedPhoto::from).collect())
        })
    }

    /// Every photo in the upload queue, in queue order.
    pub fn photo_states(&self) -> Result<Vec<PhotoStatus>, FengqiaoError> {
        guard(|| Ok(self.core().photo_states()?.into_iter().map(PhotoStatus::from).collect()))
    }

    /// A photo's bytes by its SHA-256, decrypted for showing it, if its
    /// original is on this phone (an uploaded photo's original may have been
    /// evicted to keep within budget). The file on disk stays encrypted.
    pub fn photo_bytes(&self, sha256: String) -> Result<Option<Vec<u8>>, FengqiaoError> {
        guard(|| Ok(self.core().photo_bytes(&sha256)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_kinds_cross_as_wire_names() {
        assert_eq!(kind_name(EntityKind::Visit), "visit");
        assert_eq!(parse_kind("k", "visit"), Ok(EntityKind::Visit));
        assert_eq!(parse_kind("k", "spaceship").unwrap_err().code(), "invalid_input");
    }
}
