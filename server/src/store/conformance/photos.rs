//! Checks of uploads, photos, their holders and the records that reference them
//! (the last spans the photo and sync concerns).

use chrono::{Duration, Utc};
use fengqiao_domain::policy::Policy;
use fengqiao_domain::wire::{Op, OpEnvelope, Outcome};
use fengqiao_domain::{EntityKind, Role, RoleGrant};
use uuid::Uuid;

use crate::store::{PhotoRecord, PhotoStore, Store, UploadRecord};

use super::*;

pub(super) fn uploads_and_photos(store: &dyn PhotoStore) {
    let now = Utc::now();
    let up = |age_h: i64| UploadRecord {
        id: Uuid::now_v7(),
        owner: Uuid::now_v7(),
        sha256: "ab".repeat(32),
        length: 10,
        created_at: now - Duration::hours(age_h),
        expires_at: now - Duration::hours(age_h) + Duration::hours(24),
        completed: false,
    };
    let (fresh, stale) = (up(1), up(30));
    store.put_upload(&fresh).unwrap();
    store.put_upload(&stale).unwrap();
    assert_eq!(store.upload(fresh.id).unwrap().as_ref(), Some(&fresh));
    let expired: Vec<Uuid> = store.expired_uploads(now).unwrap().into_iter().map(|u| u.id).collect();
    assert_eq!(expired, vec![stale.id]);
    store.delete_upload(stale.id).unwrap();
    assert_eq!(store.upload(stale.id).unwrap(), None);
    assert!(store.expired_uploads(now).unwrap().is_empty());

    let p = PhotoRecord { sha256: "cd".repeat(32), length: 10, created_at: now };
    store.put_photo(&p).unwrap();
    // a second upload of the same bytes keeps the first record
    store.put_photo(&PhotoRecord { created_at: now + Duration::hours(1), ..p.clone() }).unwrap();
    assert_eq!(store.photo(&p.sha256).unwrap(), Some(p));
    assert_eq!(store.photo(&"ef".repeat(32)).unwrap(), None);

    // a completed upload: the photo, its owner as a holder, and the upload kept
    // (marked complete) until it expires; nobody else holds the photo
    let done = UploadRecord { sha256: "5a".repeat(32), ..up(2) };
    store.put_upload(&done).unwrap();
    let kept = PhotoRecord { sha256: done.sha256.clone(), length: 10, created_at: now };
    assert!(!store.photo_held_by(&done.sha256, done.owner).unwrap());
    store.complete_upload(&kept, &done).unwrap();
    assert_eq!(store.photo(&done.sha256).unwrap(), Some(kept.clone()));
    assert_eq!(store.upload(done.id).unwrap(), Some(UploadRecord { completed: true, ..done.clone() }));
    assert!(store.photo_held_by(&done.sha256, done.owner).unwrap());
    assert!(!store.photo_held_by(&done.sha256, fresh.owner).unwrap(), "only the uploader holds it");
    assert!(!store.photo_held_by(&"cd".repeat(32), done.owner).unwrap(), "only the photo uploaded");
    // another user's upload of the same bytes makes them a holder too (idempotent)
    store.put_photo_holder(&done.sha256, fresh.owner).unwrap();
    store.put_photo_holder(&done.sha256, fresh.owner).unwrap();
    assert!(store.photo_held_by(&done.sha256, fresh.owner).unwrap());
    // a completed upload is swept when it expires, like any other
    let later: Vec<Uuid> = store.expired_uploads(done.expires_at).unwrap().into_iter().map(|u| u.id).collect();
    assert!(later.contains(&done.id), "{later:?}");
    store.delete_upload(done.id).unwrap();
    assert!(store.photo_held_by(&done.sha256, done.owner).unwrap(), "holding outlives the upload record");
}

/// An attachment op indexes its photo for download checks, with the visit's scope.
pub(super) fn attachments_index_their_photos(store: &dyn Store) {
    let now = Utc::now();
    let policy = Policy::default();
    let leader = actor(Role::GroupLeader, GROUPS[0]);
    let visit = visit_op(leader.user_id, HOUSEHOLDS[0]);
    store.apply_ops(&leader, &policy, std::slice::from_ref(&visit), Utc::now()).unwrap();
    let Op::RecordVisit(v) = &visit.op else { unreachable!() };
    let sha = "9f".repeat(32);
    let att = OpEnvelope {
        op_id: Uuid::now_v7(),
        v: 1,
        author: leader.user_id,
        created_at: now,
        op: Op::AttachPhoto(fengqiao_domain::Attachment {
            id: Uuid::now_v7(),
            target_kind: EntityKind::Visit,
            target_id: v.id,
            sha256: sha.clone(),
            length: 99,
            content_type: "image/jpeg".into(),
            caption: String::new(),
            author: leader.user_id,
            file_item: None,
        }),
        seen: None,
    };
    let a = store.apply_ops(&leader, &policy, &[att], Utc::now()).unwrap();
    assert!(matches!(a[0].outcome, Outcome::Applied { .. }), "{a:?}");
    let refs = store.photo_refs(&sha).unwrap();
    assert_eq!(refs.len(), 1);
    assert_eq!(refs[0].scope[0], GROUPS[0]);
    assert!(store.photo_refs(&"00".repeat(32)).unwrap().is_empty());
    // visible to the village secretary's pull as a photo of a visit, not to the mediator
    let sec = [RoleGrant { role: Role::VillageSecretary, unit_id: VILLAGES[0] }];
    let med = [RoleGrant { role: Role::Mediator, unit_id: VILLAGES[0] }];
    let count = |g: &[RoleGrant]| {
        store.pull(g, None, 0, 10_000).unwrap().changes.iter().filter(|c| c.entity == EntityKind::Attachment).count()
    };
    assert_eq!((count(&sec), count(&med)), (1, 0));
}
