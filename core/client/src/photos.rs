//! Photos on the phone: attaching one to a record (copied into the phone's own
//! content-addressed folder, durable when the call returns), the persisted
//! upload queue's view for the app, and the folder's space budget.
//!
//! The bytes live in the photo folder ([`crate::photo_folder`]); the queue
//! lives in the [`crate::ClientStore`]; the sync's uploader
//! (`sync/upload.rs`) sends them after the records.

use std::collections::HashSet;
use std::path::Path;

use fengqiao_domain::policy::PhotoPurpose;
use fengqiao_domain::wire::Op;
use fengqiao_domain::{Attachment, EntityKind, Record};
use uuid::Uuid;

use crate::client::FieldClient;
use crate::error::{ClientError, Error};
use crate::ops::{typed, Enqueue};
use crate::photo_folder::{self, BlobDir, Limits};
use crate::photo_sizing::{self, Sized};
use crate::store::{ClientStore, PhotoUpload, RecordState, UploadState};

/// Stable reason (of `invalid_input`) for a photo source that is not a regular file.
pub const PHOTO_NOT_A_FILE: &str = photo_folder::NOT_A_FILE;
/// Stable reason (of `invalid_input`) for a photo source whose bytes are no JPEG, PNG, WebP or HEIC image.
pub const PHOTO_NOT_AN_IMAGE: &str = photo_folder::NOT_AN_IMAGE;
/// Stable reason (of `invalid_input`) for a JPEG or PNG that cannot be decoded (damaged, cut short).
pub const PHOTO_CORRUPT: &str = photo_sizing::CORRUPT;
/// Stable reason (of `invalid_input`) for a photo with more pixels than the phone sizes (64 megapixels).
pub const PHOTO_TOO_MANY_PIXELS: &str = photo_sizing::TOO_MANY_PIXELS;

/// A photo as the app hands it over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPhoto {
    /// Kind of the record it belongs to (a visit now).
    pub target_kind: EntityKind,
    /// That record's id (it must be on this phone).
    pub target_id: Uuid,
    /// Path of the image file, a regular file (`invalid_input`, reason
    /// `photo_not_a_file`, at once otherwise); the core copies it (the app may
    /// delete it after).
    pub source_path: String,
    /// `image/jpeg`, `image/png`, `image/heic` or `image/webp` as the app
    /// believes; the core records the type the bytes show (and refuses a file
    /// that is no such image: `invalid_input`, reason `photo_not_an_image`).
    pub content_type: String,
    /// Optional caption.
    pub caption: String,
}

/// Where one photo stands, for the sync screen ("2 photos pending").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoStatus {
    /// SHA-256 of its bytes, lowercase hex.
    pub sha256: String,
    /// Size in bytes.
    pub length: u64,
    /// Image type.
    pub content_type: String,
    /// Pending, uploading, done or failed (with the reason).
    pub state: UploadState,
    /// Bytes the server has confirmed (the length once done).
    pub bytes_done: u64,
    /// The original is still on this phone (see [`FieldClient::photo_bytes`]).
    pub local_file: bool,
    /// The server accepted the record saying where it belongs; until then the
    /// photo waits (records sync ahead of their photos).
    pub confirmed: bool,
}

impl PhotoStatus {
    /// Still to be uploaded (not done, not failed for good).
    pub fn is_pending(&self) -> bool {
        self.state.is_open()
    }
}

/// A photo attached to a record, as listed for that record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachedPhoto {
    /// The attachment record.
    pub attachment: Attachment,
    /// The attachment was made here and the server has not confirmed it yet.
    pub pending: bool,
    /// Its upload, if this phone queued it (`None` for photos pulled from others).
    pub status: Option<PhotoStatus>,
}

pub(crate) fn status_of(up: &PhotoUpload, blobs: Option<&BlobDir>) -> PhotoStatus {
    let bytes_done = match &up.state {
        UploadState::Uploading { bytes_done, .. } => *bytes_done,
        UploadState::Done => up.length,
        _ => 0,
    };
    PhotoStatus {
        sha256: up.sha256.clone(),
        length: up.length,
        content_type: up.content_type.clone(),
        state: up.state.clone(),
        bytes_done,
        local_file: blobs.is_some_and(|b| b.existing(&up.sha256).is_some()),
        confirmed: up.confirmed,
    }
}

/// Frees room in the folder so that `need` more bytes fit in `budget`: removes
/// files no queue entry refers to, then originals of photos the server has
/// confirmed, oldest confirmed first. Never a photo not yet uploaded.
/// Returns the bytes still free within the budget.
pub(crate) fn make_room(store: &dyn ClientStore, blobs: &BlobDir, budget: u64, need: u64) -> Result<u64, Error> {
    let files = blobs.files()?;
    let mut used: u64 = files.iter().map(|(_, l)| l).sum();
    if used.saturating_add(need) <= budget {
        return Ok(budget - used);
    }
    let queue = store.photo_uploads()?;
    let by_name = blobs.names_for(queue.iter().map(|u| u.sha256.as_str()));
    let mut candidates: Vec<(u8, Option<chrono::DateTime<chrono::Utc>>, String, u64)> = Vec::new();
    for (name, len) in files {
        match by_name.get(&name).and_then(|sha| queue.iter().find(|u| u.sha256 == *sha)) {
            None => candidates.push((0, None, name, len)),
            Some(u) if u.state == UploadState::Done => candidates.push((1, u.done_at, name, len)),
            Some(_) => {}
        }
    }
    candidates.sort();
    for (_, _, name, len) in candidates {
        if used.saturating_add(need) <= budget {
            break;
        }
        if blobs.remove_file(&name)? {
            used = used.saturating_sub(len);
            tracing::info!(bytes = len, "evicted an uploaded photo's original");
        }
    }
    Ok(budget.saturating_sub(used))
}

impl FieldClient {
    fn blobs(&self) -> Result<&BlobDir, Error> {
        self.photos.as_ref().ok_or_else(|| Error::InvalidInput("no photo folder: set ClientOptions::photo_dir".into()))
    }

    /// Attaches a photo to a record on this phone: checks the attach by the
    /// domain's rule on the phone's view ([`crate::ops`]: the record is here and
    /// within the user's units, and the user may write it), sizes the photo by
    /// the county's policy (`photos.long_edge_px`, `jpeg_quality`, EXIF
    /// location and device fields dropped unless kept, upright; see
    /// `photo_sizing.rs`: a damaged JPEG or PNG is refused, reason
    /// `photo_corrupt`), copies it into the phone's photo folder
    /// (hashing while copying; the same bytes are kept once), then saves the
    /// attachment, its operation and the upload-queue entry, all or nothing.
    /// Durable when it returns. Out of space: [`ClientError::StorageFull`], and
    /// nothing written.
    pub fn attach_photo(&self, photo: NewPhoto) -> Result<Attachment, ClientError> {
        Ok(self.attach_photo_inner(photo, None)?)
    }

    /// Attaches a photo that files an item of a dispute's case-file checklist (e.g.
    /// `identity_documents`, `rights_notice`) to the dispute or one of its records.
    /// Its purpose is `case_file`: kept as taken where the policy's
    /// `photos.originals_for` names it. Otherwise as [`FieldClient::attach_photo`].
    pub fn attach_case_file_photo(&self, photo: NewPhoto, file_item: String) -> Result<Attachment, ClientError> {
        Ok(self.attach_photo_inner(photo, Some(file_item))?)
    }

    fn attach_photo_inner(&self, np: NewPhoto, file_item: Option<String>) -> Result<Attachment, Error> {
        let session = self.session()?;
        let now = self.options.clock.now();
        let source_meta = std::fs::metadata(&np.source_path).ok();
        let mut att = Attachment {
            id: fengqiao_domain::new_id(),
            target_kind: np.target_kind,
            target_id: np.target_id,
            // Decided again with the real hash, size and type once copied.
            sha256: "0".repeat(64),
            length: source_meta.as_ref().map(|m| m.len()).unwrap_or(1).max(1),
            content_type: np.content_type,
            caption: np.caption,
            author: session.user.id,
            file_item,
        };
        // The rules first, on the photo as declared: nothing is copied for an
        // attach the rules refuse.
        self.decide_locally(&session, Op::AttachPhoto(att.clone()), now)?;
        // A folder, a named pipe or a device is refused before the photo lock
        // is taken (the import checks the opened handle again).
        if source_meta.as_ref().is_some_and(|m| !m.is_file()) {
            return Err(photo_folder::not_a_file());
        }

        let blobs = self.blobs()?;
        let policy = self.policy();
        let rules = &policy.photos;
        let max_bytes = rules.max_bytes;
        let purpose = PhotoPurpose::of(att.file_item.as_deref());
        // Sized before the photo lock is taken (it is the slow part); a
        // damaged file is refused here, before anything is written.
        let sized = if rules.keeps_original(purpose) {
            None
        } else {
            let bytes = photo_folder::read_source(Path::new(&np.source_path), max_bytes)?;
            match photo_sizing::size(&bytes, &photo_sizing::Rules::from(rules))? {
                Sized::AsTaken => Some(bytes),
                Sized::Jpeg(jpeg) => Some(jpeg),
            }
        };
        // One import or eviction at a time: a file just copied is not yet in the
        // queue, and must not look like an orphan to the eviction.
        let _photos = self.photo_lock.lock().unwrap_or_else(|p| p.into_inner());
        let need = sized.as_ref().map_or(att.length, |b| b.len() as u64);
        self.ensure_photo_space(need)?;
        let room = make_room(self.store.as_ref(), blobs, self.options.photo_budget_bytes, need)?;
        let limits = Limits { max_bytes, room };
        let imported = match &sized {
            Some(bytes) => blobs.import_image_bytes(bytes, limits)?,
            // Kept as taken: copied a segment at a time, never whole in memory.
            None => blobs.import_image(Path::new(&np.source_path), limits)?,
        };
        let undo = |e: Error| {
            if imported.created {
                let _ = blobs.remove(&imported.sha256);
            }
            e
        };
        att.sha256 = imported.sha256.clone();
        att.length = imported.length;
        // The type the bytes show is recorded, whatever the app declared.
        att.content_type = imported.content_type.ok_or_else(photo_folder::not_an_image).map_err(undo)?.to_string();
        let d = self.decide_locally(&session, Op::AttachPhoto(att), now).map_err(undo)?;
        let att: Attachment = typed(d.record.clone()).map_err(undo)?;
        let entry = PhotoUpload::new(att.sha256.clone(), att.length, att.content_type.clone(), now);
        self.enqueue_decided(&d, Enqueue::Photo(&entry)).map_err(undo)?;
        tracing::info!(bytes = att.length, "photo attached");
        Ok(att)
    }

    /// The photos attached to a record, oldest first, with their upload state.
    pub fn photos_for(&self, target_kind: EntityKind, target_id: Uuid) -> Result<Vec<AttachedPhoto>, ClientError> {
        Ok(self.photos_for_inner(target_kind, target_id)?)
    }

    pub(crate) fn photos_for_inner(
        &self,
        target_kind: EntityKind,
        target_id: Uuid,
    ) -> Result<Vec<AttachedPhoto>, Error> {
        let run = || -> Result<Vec<AttachedPhoto>, Error> {
            let user = self.session()?.user.id;
            let mut out: Vec<AttachedPhoto> = Vec::new();
            for r in self.store.list_records(EntityKind::Attachment, usize::MAX)?.into_iter().rev() {
                let Record::Attachment(a) = r.record else { continue };
                if a.target_kind != target_kind || a.target_id != target_id {
                    continue;
                }
                let pending = match r.state {
                    RecordState::Synced => false,
                    RecordState::Pending { author, .. } if author == user => true,
                    RecordState::Pending { .. } => continue,
                };
                let status = self.store.photo_upload(&a.sha256)?.map(|u| status_of(&u, self.photos.as_ref()));
                out.push(AttachedPhoto { attachment: a, pending, status });
            }
            Ok(out)
        };
        run()
    }

    /// The photos the signed-in user may see, by SHA-256: those of the
    /// attachments they may see as records (pulled for them, or made by them
    /// here and not yet synced). Another user's unsynced photos are not theirs
    /// to see, as their unsynced records are not. The device lock is checked
    /// (through [`FieldClient::session`]).
    pub(crate) fn visible_photos(&self) -> Result<HashSet<String>, Error> {
        let user = self.session()?.user.id;
        let mut out = HashSet::new();
        for r in self.store.list_records(EntityKind::Attachment, usize::MAX)? {
            if !r.shown_to(user) {
                continue;
            }
            let Record::Attachment(a) = r.record else { continue };
            out.insert(a.sha256);
        }
        Ok(out)
    }

    /// The signed-in user's photos in the upload queue (see
    /// [`FieldClient::photos_for`] for whose those are), in queue order.
    /// Nobody signed in: `not_logged_in`; lock closed: `locked`.
    pub fn photo_states(&self) -> Result<Vec<PhotoStatus>, ClientError> {
        let run = || -> Result<Vec<PhotoStatus>, Error> {
            let visible = self.visible_photos()?;
            Ok(self
                .store
                .photo_uploads()?
                .iter()
                .filter(|u| visible.contains(&u.sha256))
                .map(|u| status_of(u, self.photos.as_ref()))
                .collect())
        };
        Ok(run()?)
    }

    /// A photo's bytes, decrypted, for showing it to the signed-in user
    /// (`None` if its original is not on this phone, an uploaded photo's
    /// original may have been evicted to keep within the budget, or if it is
    /// not a photo this user may see). The file on disk stays encrypted.
    /// Nobody signed in: `not_logged_in`; lock closed: `locked`.
    pub fn photo_bytes(&self, sha256: &str) -> Result<Option<Vec<u8>>, ClientError> {
        let run = || -> Result<Option<Vec<u8>>, Error> {
            if !self.visible_photos()?.contains(sha256) {
                return Ok(None);
            }
            let Some(blobs) = self.photos.as_ref() else { return Ok(None) };
            blobs.read_all(sha256)
        };
        Ok(run()?)
    }

    /// Evicts uploaded originals until the photo folder is within its budget.
    pub(crate) fn enforce_photo_budget(&self) -> Result<(), Error> {
        let Some(blobs) = self.photos.as_ref() else { return Ok(()) };
        let _photos = self.photo_lock.lock().unwrap_or_else(|p| p.into_inner());
        make_room(self.store.as_ref(), blobs, self.options.photo_budget_bytes, 0).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryClientStore;
    use chrono::{Duration, Utc};
    use fengqiao_domain::wire::{Op, OpEnvelope};

    /// Imports `bytes` and queues them as confirmed, in `state`, done at `done_at`.
    fn queued(
        s: &MemoryClientStore,
        blobs: &BlobDir,
        dir: &Path,
        bytes: &[u8],
        state: UploadState,
        age: i64,
    ) -> String {
        let src = dir.join(format!("src-{}", bytes[0]));
        std::fs::write(&src, bytes).expect("write");
        let imp = blobs.import(&src, Limits { max_bytes: u64::MAX, room: u64::MAX }).expect("import");
        let me = Uuid::from_u128(1);
        let att = Attachment {
            id: Uuid::now_v7(),
            target_kind: EntityKind::Visit,
            target_id: Uuid::now_v7(),
            sha256: imp.sha256.clone(),
            length: imp.length,
            content_type: "image/png".into(),
            caption: String::new(),
            author: me,
            file_item: None,
        };
        let op = OpEnvelope {
            op_id: Uuid::now_v7(),
            v: 1,
            author: me,
            created_at: Utc::now(),
            op: Op::AttachPhoto(att.clone()),
            seen: None,
        };
        let mut up = PhotoUpload::new(imp.sha256.clone(), imp.length, "image/png".into(), Utc::now());
        s.enqueue_photo(&Record::Attachment(att), &op, &up, Utc::now()).expect("enqueue");
        s.complete_op(op.op_id).expect("confirm");
        up.state = state;
        up.done_at = Some(Utc::now() - Duration::minutes(age));
        s.save_photo_upload(&up).expect("save");
        imp.sha256
    }

    #[test]
    fn make_room_evicts_orphans_then_oldest_uploaded_never_pending() {
        let t = tempfile::tempdir().expect("tmp");
        let blobs = BlobDir::open(&t.path().join("photos"), std::sync::Arc::new(crate::store::Vault::ephemeral()))
            .expect("open");
        let s = MemoryClientStore::new();
        let old_done = queued(&s, &blobs, t.path(), &[1u8; 100], UploadState::Done, 60);
        let new_done = queued(&s, &blobs, t.path(), &[2u8; 100], UploadState::Done, 1);
        let pending =
            queued(&s, &blobs, t.path(), &[3u8; 100], UploadState::Uploading { bytes_done: 10, total: 100 }, 0);
        let failed = queued(
            &s,
            &blobs,
            t.path(),
            &[4u8; 100],
            UploadState::Failed { code: "x".into(), message: "y".into(), permanent: false },
            0,
        );
        let orphan_src = t.path().join("orphan");
        std::fs::write(&orphan_src, [5u8; 100]).expect("write");
        let orphan = blobs.import(&orphan_src, Limits { max_bytes: u64::MAX, room: u64::MAX }).expect("import").sha256;

        // Five files of `f` bytes on disk each (100 bytes sealed), budget 5f:
        // room for 2f more takes two evictions (orphan, oldest done).
        let f = blobs.used_bytes().expect("used") / 5;
        assert!(f > 100);
        assert_eq!(make_room(&s, &blobs, 5 * f, 2 * f).expect("room"), 2 * f);
        assert!(blobs.existing(&orphan).is_none() && blobs.existing(&old_done).is_none());
        assert!(blobs.existing(&new_done).is_some());
        // asking for more than the uploaded ones can free: never touches the others
        assert_eq!(make_room(&s, &blobs, 3 * f, 2 * f + 10).expect("room"), f);
        assert!(blobs.existing(&new_done).is_none());
        assert!(blobs.existing(&pending).is_some() && blobs.existing(&failed).is_some());
        let statuses: Vec<PhotoStatus> =
            s.photo_uploads().expect("all").iter().map(|u| status_of(u, Some(&blobs))).collect();
        assert_eq!(statuses.iter().filter(|p| p.local_file).count(), 2);
        assert_eq!(statuses.iter().filter(|p| p.is_pending()).count(), 2);
        assert_eq!(statuses.iter().find(|p| p.sha256 == pending).map(|p| p.bytes_done), Some(10));
    }
}
