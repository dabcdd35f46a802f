//! The conformance suite every [`Store`] backend runs. Each check starts from an
//! empty store it is given and asserts observable behaviour only.

use chrono::{Duration, Utc};
use fengqiao_domain::permissions::Actor;
use fengqiao_domain::policy::Policy;
use fengqiao_domain::wire::{ChangeAction, Op, OpEnvelope, Outcome};
use fengqiao_domain::{
    EntityKind, Household, OrgUnit, Record, RejectionCode, Role, RoleGrant, UnitLevel, Visit, VisitKind,
};
use uuid::Uuid;

use super::{
    AuditAction, AuditEntry, AuditQuery, PhotoRecord, RefreshRecord, SigningKeyRecord, SpendOutcome, SpendRequest,
    Store, StoreError, UploadRecord, UserRecord,
};

/// The county of the small world.
pub const COUNTY: Uuid = Uuid::from_u128(0xC0);
/// Town.
pub const TOWN: Uuid = Uuid::from_u128(0x70);
/// Village A and B.
pub const VILLAGES: [Uuid; 2] = [Uuid::from_u128(0xA0), Uuid::from_u128(0xB0)];
/// One group in each village (A1, B1) and a second in village A (A2).
pub const GROUPS: [Uuid; 3] = [Uuid::from_u128(0xA1), Uuid::from_u128(0xB1), Uuid::from_u128(0xA2)];
/// One household in each group, same order as [`GROUPS`].
pub const HOUSEHOLDS: [Uuid; 3] = [Uuid::from_u128(0x1A1), Uuid::from_u128(0x1B1), Uuid::from_u128(0x1A2)];

/// What [`small_world`] wrote.
pub struct World {
    /// Last feed sequence after seeding.
    pub last_seq: u64,
}

fn unit(id: Uuid, level: UnitLevel, parent: Option<Uuid>) -> Record {
    Record::Unit(OrgUnit {
        id,
        code: format!("{:X}", id.as_u128()),
        name: format!("unit-{:x}", id.as_u128()),
        level,
        parent,
    })
}

/// Household record in a group.
pub fn household(id: Uuid, group: Uuid) -> Record {
    Record::Household(Household {
        id,
        group_id: group,
        head_name: "王五".into(),
        address: "3号".into(),
        phone: Some("13800000000".into()),
        code: None,
        id_number: None,
    })
}

/// Seeds county > town > villages A, B > groups A1, B1, A2 > one household each.
pub fn small_world(store: &dyn Store) -> World {
    let mut records = vec![
        unit(COUNTY, UnitLevel::County, None),
        unit(TOWN, UnitLevel::Town, Some(COUNTY)),
        unit(VILLAGES[0], UnitLevel::Village, Some(TOWN)),
        unit(VILLAGES[1], UnitLevel::Village, Some(TOWN)),
        unit(GROUPS[0], UnitLevel::Group, Some(VILLAGES[0])),
        unit(GROUPS[1], UnitLevel::Group, Some(VILLAGES[1])),
        unit(GROUPS[2], UnitLevel::Group, Some(VILLAGES[0])),
    ];
    for (h, g) in HOUSEHOLDS.iter().zip(GROUPS) {
        records.push(household(*h, g));
    }
    let last_seq = store.put_records(&records).expect("seed the small world");
    World { last_seq }
}

/// An actor with one grant.
pub fn actor(role: Role, unit: Uuid) -> Actor {
    Actor { user_id: Uuid::now_v7(), grants: vec![RoleGrant { role, unit_id: unit }] }
}

/// A record-visit op by `author` for `household`.
pub fn visit_op(author: Uuid, household: Uuid) -> OpEnvelope {
    OpEnvelope {
        op_id: Uuid::now_v7(),
        v: 1,
        author,
        created_at: Utc::now(),
        op: Op::RecordVisit(Visit {
            id: Uuid::now_v7(),
            household_id: household,
            visitor_id: author,
            visited_at: Utc::now(),
            kind: VisitKind::Routine,
            notes: "走访正常".into(),
            location: None,
            leads: vec![],
            group_id: None,
            body: None,
        }),
        seen: None,
    }
}

/// Runs every check on a fresh store per check family (the caller gives one empty
/// store; checks that need isolation use distinct ids).
pub fn run_all(store: &dyn Store) {
    assert!(store.is_empty().unwrap(), "conformance needs an empty store");
    users(store);
    refresh_tokens(store);
    refresh_retry_grace(store);
    signing_keys(store);
    small_world(store);
    unknown_unit_writes_nothing(store);
    ops_apply_once_and_answer_in_order(store);
    pull_is_scoped_by_unit_and_role(store);
    pull_pages_without_skips_or_repeats(store);
    moved_record_is_dropped_where_it_left(store);
    uploads_and_photos(store);
    case_blocks_are_unique_per_year(store);
    records_of_kind_lists_current_records(store);
    audit_log_appends_and_filters(store);
}

fn records_of_kind_lists_current_records(store: &dyn Store) {
    let units = store.records_of_kind(EntityKind::Unit).unwrap();
    assert_eq!(units.len(), 7, "the small world's units");
    assert!(units.iter().all(|r| r.kind() == EntityKind::Unit));
    let hh = store.records_of_kind(EntityKind::Household).unwrap();
    assert!(HOUSEHOLDS.iter().all(|h| hh.iter().any(|r| r.id() == *h)));
    assert!(hh.iter().all(|r| r.kind() == EntityKind::Household));
}

fn audit_log_appends_and_filters(store: &dyn Store) {
    let all = |limit| AuditQuery { limit, ..AuditQuery::default() };
    assert!(store.audit(&all(100)).unwrap().is_empty());
    let (alice, bob) = (Uuid::now_v7(), Uuid::now_v7());
    let t0 = Utc::now() - Duration::hours(2);
    let mut e1 = AuditEntry::new(AuditAction::Login, Some(alice), Some(alice.to_string()), "ok");
    e1.at = t0;
    e1.seq = 999; // ignored: the store assigns positions
    let e2 = AuditEntry::new(AuditAction::SyncOp, Some(alice), Some("rec-1".into()), "applied").detail("record_visit");
    let e3 = AuditEntry::new(AuditAction::UserDisable, Some(bob), Some(alice.to_string()), "ok").device(Some(bob));
    store.append_audit(&[e1.clone()]).unwrap();
    store.append_audit(&[e2.clone(), e3.clone()]).unwrap();
    let got = store.audit(&all(100)).unwrap();
    assert_eq!(got.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2, 3], "positions in append order");
    assert_eq!(got[1], AuditEntry { seq: 2, ..e2 });
    assert_eq!(got[2].device, Some(bob));
    // by actor, target, action, period; paging by position
    let q = |f: fn(&mut AuditQuery)| {
        let mut q = all(100);
        f(&mut q);
        q
    };
    let seqs = |q: AuditQuery| store.audit(&q).unwrap().iter().map(|e| e.seq).collect::<Vec<_>>();
    let mut by_actor = all(100);
    by_actor.actor = Some(bob);
    assert_eq!(seqs(by_actor), vec![3]);
    let mut by_target = all(100);
    by_target.target = Some(alice.to_string());
    assert_eq!(seqs(by_target), vec![1, 3]);
    assert_eq!(seqs(q(|q| q.action = Some(AuditAction::SyncOp))), vec![2]);
    let mut recent = all(100);
    recent.from = Some(t0 + Duration::hours(1));
    assert_eq!(seqs(recent), vec![2, 3]);
    let mut old = all(100);
    old.to = Some(t0 + Duration::hours(1));
    assert_eq!(seqs(old), vec![1]);
    assert_eq!(seqs(all(2)), vec![1, 2]);
    assert_eq!(seqs(q(|q| q.after = 2)), vec![3]);
    assert!(seqs(all(0)).is_empty());
}

fn case_blocks_are_unique_per_year(store: &dyn Store) {
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let p = Policy::default();
    let x = store.reserve_case_block(a, 2026, &p).unwrap();
    let y = store.reserve_case_block(b, 2026, &p).unwrap();
    let z = store.reserve_case_block(a, 2027, &p).unwrap();
    assert_ne!(x, y);
    assert_eq!(z, 1, "each year numbers its blocks from 1");
    assert!(x >= 1 && y >= 1);
    // outstanding blocks per user and year are capped by policy
    let mut capped = Policy::default();
    capped.disputes.max_open_case_blocks = 2;
    store.reserve_case_block(a, 2030, &capped).unwrap();
    store.reserve_case_block(a, 2030, &capped).unwrap();
    assert!(matches!(store.reserve_case_block(a, 2030, &capped), Err(StoreError::TooManyBlocks(2))));
    store.reserve_case_block(b, 2030, &capped).expect("another user's cap is their own");
    store.reserve_case_block(a, 2031, &capped).expect("another year's cap is its own");
}

fn uploads_and_photos(store: &dyn Store) {
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

    // an attachment op indexes its photo for download checks, with the visit's scope
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

fn user(name: &str) -> UserRecord {
    UserRecord {
        id: Uuid::now_v7(),
        username: name.into(),
        display_name: name.into(),
        password_hash: "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA".into(),
        grants: vec![RoleGrant { role: Role::CountyAdmin, unit_id: COUNTY }],
        disabled: false,
        must_change_password: false,
        created_at: Utc::now(),
    }
}

fn users(store: &dyn Store) {
    let u = user("conf.alice");
    store.create_user(&u).unwrap();
    assert_eq!(store.user(u.id).unwrap().as_ref(), Some(&u));
    assert_eq!(store.user_by_username("conf.alice").unwrap().as_ref(), Some(&u));
    let mut twin = user("conf.alice");
    twin.display_name = "imposter".into();
    assert!(matches!(store.create_user(&twin), Err(StoreError::AlreadyExists(_))));
    assert_eq!(store.user(twin.id).unwrap(), None, "a refused user is not stored");
    let mut changed = u.clone();
    changed.disabled = true;
    store.update_user(&changed).unwrap();
    assert!(store.user_by_username("conf.alice").unwrap().unwrap().disabled);
    assert_eq!(store.user_by_username("nobody").unwrap(), None);
    let bob = user("conf.bob");
    store.create_user(&bob).unwrap();
    let names: Vec<String> = store.users().unwrap().into_iter().map(|u| u.username).collect();
    assert_eq!(names, vec!["conf.alice".to_string(), "conf.bob".to_string()], "every user, by username");
    // the reset flag survives a round trip
    let mut reset = bob.clone();
    reset.must_change_password = true;
    store.update_user(&reset).unwrap();
    assert!(store.user(bob.id).unwrap().unwrap().must_change_password);
}

fn refresh(family: Uuid, hash: &str, expires_in: Duration) -> RefreshRecord {
    RefreshRecord {
        token_hash: hash.into(),
        family,
        user_id: Uuid::now_v7(),
        device_id: None,
        issued_at: Utc::now(),
        expires_at: Utc::now() + expires_in,
        spent: false,
        spent_at: None,
        successor: None,
    }
}

/// A spend without grace, issuing `successor`.
fn plain(successor: &str) -> SpendRequest {
    SpendRequest { successor: successor.into(), device: None, grace: Duration::zero() }
}

fn refresh_tokens(store: &dyn Store) {
    let now = Utc::now();
    let fam = Uuid::now_v7();
    store.insert_refresh(&refresh(fam, "h1", Duration::days(1))).unwrap();
    assert!(matches!(store.spend_refresh("h1", now, &plain("h2")).unwrap(), SpendOutcome::Spent(r) if r.family == fam));
    // its successor in the same family
    store.insert_refresh(&refresh(fam, "h2", Duration::days(1))).unwrap();
    // reuse of the spent one revokes the family, successor included
    assert_eq!(store.spend_refresh("h1", now, &plain("next")).unwrap(), SpendOutcome::Reused { family: fam });
    assert!(store.family_revoked(fam).unwrap());
    assert_eq!(store.spend_refresh("h2", now, &plain("next")).unwrap(), SpendOutcome::Invalid);
    // expired and unknown
    store.insert_refresh(&refresh(Uuid::now_v7(), "h3", Duration::seconds(-1))).unwrap();
    assert_eq!(store.spend_refresh("h3", now, &plain("next")).unwrap(), SpendOutcome::Invalid);
    assert_eq!(store.spend_refresh("nope", now, &plain("next")).unwrap(), SpendOutcome::Invalid);
    // explicit revocation (logout)
    let fam2 = Uuid::now_v7();
    store.insert_refresh(&refresh(fam2, "h4", Duration::days(1))).unwrap();
    store.revoke_family(fam2).unwrap();
    assert_eq!(store.spend_refresh("h4", now, &plain("next")).unwrap(), SpendOutcome::Invalid);
    assert_eq!(store.refresh("h4").unwrap().map(|r| r.family), Some(fam2));
    assert!(!store.family_device_revoked(fam2).unwrap(), "a logout is not a device revocation");
    // revocation with the device (a lost phone): revoked, and told apart
    let fam3 = Uuid::now_v7();
    store.insert_refresh(&refresh(fam3, "h5", Duration::days(1))).unwrap();
    assert!(!store.family_device_revoked(fam3).unwrap());
    store.revoke_device_family(fam3).unwrap();
    assert!(store.family_revoked(fam3).unwrap() && store.family_device_revoked(fam3).unwrap());
    assert_eq!(store.spend_refresh("h5", now, &plain("next")).unwrap(), SpendOutcome::Invalid);
    // a user's tokens across families and devices (to list and revoke devices)
    let (carol, phone_a, phone_b) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let mine = |hash: &str, fam: Uuid, device: Uuid, age: i64| RefreshRecord {
        user_id: carol,
        device_id: Some(device),
        issued_at: now - Duration::minutes(age),
        ..refresh(fam, hash, Duration::days(1))
    };
    let (fa, fb) = (Uuid::now_v7(), Uuid::now_v7());
    store.insert_refresh(&mine("c1", fa, phone_a, 30)).unwrap();
    store.insert_refresh(&mine("c2", fa, phone_a, 20)).unwrap();
    store.insert_refresh(&mine("c3", fb, phone_b, 10)).unwrap();
    let got = store.refresh_of_user(carol).unwrap();
    assert_eq!(got.iter().map(|r| r.token_hash.as_str()).collect::<Vec<_>>(), vec!["c1", "c2", "c3"], "oldest first");
    assert_eq!(got[2].device_id, Some(phone_b));
    assert!(store.refresh_of_user(Uuid::now_v7()).unwrap().is_empty());
}

/// A spent token presented again by its own device within the grace, before its
/// successor was used, is a retry: answered again, the unused successor spent.
/// From another device, without a device, after the grace, or once the
/// successor was used, it is reuse: the family is revoked.
fn refresh_retry_grace(store: &dyn Store) {
    let now = Utc::now();
    let phone = Uuid::now_v7();
    let grace = |successor: &str, device: Option<Uuid>| SpendRequest {
        successor: successor.into(),
        device,
        grace: Duration::seconds(60),
    };
    let family = |first: &str| {
        let fam = Uuid::now_v7();
        store
            .insert_refresh(&RefreshRecord { device_id: Some(phone), ..refresh(fam, first, Duration::days(1)) })
            .unwrap();
        fam
    };
    let issue = |fam: Uuid, hash: &str| {
        store
            .insert_refresh(&RefreshRecord { device_id: Some(phone), ..refresh(fam, hash, Duration::days(1)) })
            .unwrap()
    };
    // the answer to g1's rotation (g2) is lost; the phone presents g1 again
    let fam = family("g1");
    assert!(matches!(store.spend_refresh("g1", now, &grace("g2", Some(phone))).unwrap(), SpendOutcome::Spent(_)));
    issue(fam, "g2");
    let later = now + Duration::seconds(5);
    assert!(matches!(store.spend_refresh("g1", later, &grace("g3", Some(phone))).unwrap(),
        SpendOutcome::Retried(r) if r.family == fam && r.successor.as_deref() == Some("g3")));
    issue(fam, "g3");
    assert!(!store.family_revoked(fam).unwrap());
    assert!(store.refresh("g2").unwrap().unwrap().spent, "the lost successor is spent");
    // the lost one surfacing later is reuse
    let fam_b = family("b1");
    store.spend_refresh("b1", now, &grace("b2", Some(phone))).unwrap();
    issue(fam_b, "b2");
    store.spend_refresh("b1", later, &grace("b3", Some(phone))).unwrap();
    issue(fam_b, "b3");
    assert_eq!(
        store.spend_refresh("b2", later, &grace("b4", Some(phone))).unwrap(),
        SpendOutcome::Reused { family: fam_b }
    );
    assert!(store.family_revoked(fam_b).unwrap());
    // the retry's own answer goes on as usual
    assert!(matches!(store.spend_refresh("g3", later, &grace("g4", Some(phone))).unwrap(), SpendOutcome::Spent(_)));
    issue(fam, "g4");
    // once the successor was used, presenting g1 again is reuse
    assert_eq!(
        store.spend_refresh("g1", later, &grace("x", Some(phone))).unwrap(),
        SpendOutcome::Reused { family: fam }
    );
    assert!(store.family_revoked(fam).unwrap());
    // another device, no device, or after the grace: reuse
    for (device, at) in [(Some(Uuid::now_v7()), later), (None, later), (Some(phone), now + Duration::seconds(61))] {
        let f = family("o1");
        store.spend_refresh("o1", now, &grace("o2", Some(phone))).unwrap();
        issue(f, "o2");
        assert_eq!(store.spend_refresh("o1", at, &grace("o3", device)).unwrap(), SpendOutcome::Reused { family: f });
        assert!(store.family_revoked(f).unwrap());
        assert_eq!(store.spend_refresh("o2", at, &grace("o3", Some(phone))).unwrap(), SpendOutcome::Invalid);
    }
}

fn signing_keys(store: &dyn Store) {
    assert!(store.signing_keys().unwrap().is_empty());
    let k = |kid: &str, age: i64| SigningKeyRecord {
        kid: kid.into(),
        private_pkcs8_b64: "cHJpdg".into(),
        public_x: "cHVi".into(),
        created_at: Utc::now() - Duration::days(age),
    };
    store.add_signing_key(&k("new", 0)).unwrap();
    store.add_signing_key(&k("old", 10)).unwrap();
    let kids: Vec<String> = store.signing_keys().unwrap().into_iter().map(|k| k.kid).collect();
    assert_eq!(kids, vec!["old".to_string(), "new".to_string()], "oldest first");
}

fn unknown_unit_writes_nothing(store: &dyn Store) {
    let before = store.last_seq().unwrap();
    let good = household(Uuid::now_v7(), GROUPS[0]);
    let bad = household(Uuid::now_v7(), Uuid::now_v7());
    assert!(matches!(store.put_records(&[good.clone(), bad]), Err(StoreError::InvalidRecord(_))));
    assert_eq!(store.last_seq().unwrap(), before);
    assert_eq!(store.record(EntityKind::Household, good.id()).unwrap(), None, "the whole batch rolled back");
}

fn ops_apply_once_and_answer_in_order(store: &dyn Store) {
    let policy = Policy::default();
    let leader = actor(Role::GroupLeader, GROUPS[0]);
    let ok = visit_op(leader.user_id, HOUSEHOLDS[0]);
    let outside = visit_op(leader.user_id, HOUSEHOLDS[1]);
    let ok2 = visit_op(leader.user_id, HOUSEHOLDS[0]);
    let before = store.last_seq().unwrap();
    let answers = store.apply_ops(&leader, &policy, &[ok.clone(), outside.clone(), ok2.clone()], Utc::now()).unwrap();
    assert_eq!(answers.iter().map(|a| a.op_id).collect::<Vec<_>>(), vec![ok.op_id, outside.op_id, ok2.op_id]);
    assert!(matches!(answers[0].outcome, Outcome::Applied { seq } if seq > before));
    assert!(matches!(&answers[1].outcome, Outcome::Rejected { code: RejectionCode::NotInJurisdiction, .. }));
    assert!(matches!(answers[2].outcome, Outcome::Applied { .. }));
    assert_eq!(store.last_seq().unwrap(), before + 2, "one change per applied visit, none for the rejected");

    // replaying the whole batch changes nothing and returns the original answers
    let again = store.apply_ops(&leader, &policy, &[ok.clone(), outside.clone(), ok2], Utc::now()).unwrap();
    for (first, second) in answers.iter().zip(&again) {
        assert_eq!(second.outcome, Outcome::Duplicate { original: Box::new(first.outcome.clone()) });
    }
    assert_eq!(store.last_seq().unwrap(), before + 2);

    // the same op id twice within one batch applies once
    let twice = visit_op(leader.user_id, HOUSEHOLDS[0]);
    let a = store.apply_ops(&leader, &policy, &[twice.clone(), twice], Utc::now()).unwrap();
    assert!(matches!(a[0].outcome, Outcome::Applied { .. }));
    assert!(matches!(a[1].outcome, Outcome::Duplicate { .. }));

    // another user replaying someone's op id gets nothing of it
    let other = actor(Role::GroupLeader, GROUPS[0]);
    let mut stolen = ok.clone();
    stolen.author = other.user_id;
    let a = store.apply_ops(&other, &policy, &[stolen], Utc::now()).unwrap();
    assert!(matches!(&a[0].outcome, Outcome::Rejected { code: RejectionCode::AuthorMismatch, .. }));

    // the stored visit carries the server's view: visitor and group
    let Op::RecordVisit(v) = &ok.op else { unreachable!() };
    let Some(Record::Visit(stored)) = store.record(EntityKind::Visit, v.id).unwrap() else { panic!("visit stored") };
    assert_eq!(stored.visitor_id, leader.user_id);
    assert_eq!(stored.group_id, Some(GROUPS[0]));
}

fn visits_seen(store: &dyn Store, grants: &[RoleGrant]) -> Vec<Uuid> {
    let page = store.pull(grants, None, 0, 10_000).unwrap();
    assert!(!page.has_more);
    page.changes.iter().filter(|c| c.entity == EntityKind::Visit).map(|c| c.id).collect()
}

fn pull_is_scoped_by_unit_and_role(store: &dyn Store) {
    let policy = Policy::default();
    let b_leader = actor(Role::GroupLeader, GROUPS[1]);
    let op = visit_op(b_leader.user_id, HOUSEHOLDS[1]);
    store.apply_ops(&b_leader, &policy, std::slice::from_ref(&op), Utc::now()).unwrap();
    let Op::RecordVisit(v) = &op.op else { unreachable!() };

    let sec_a = [RoleGrant { role: Role::VillageSecretary, unit_id: VILLAGES[0] }];
    let sec_b = [RoleGrant { role: Role::VillageSecretary, unit_id: VILLAGES[1] }];
    let leader_a2 = [RoleGrant { role: Role::GroupLeader, unit_id: GROUPS[2] }];
    let mediator_b = [RoleGrant { role: Role::Mediator, unit_id: VILLAGES[1] }];
    assert!(visits_seen(store, &sec_b).contains(&v.id));
    assert!(!visits_seen(store, &sec_a).contains(&v.id), "village A does not see village B");
    assert!(visits_seen(store, &leader_a2).is_empty(), "no visits were made in group A2");
    assert!(visits_seen(store, &mediator_b).is_empty(), "mediators do not see visit logs");
    // but the mediator sees the households of their village, and none beside it
    let page = store.pull(&mediator_b, None, 0, 10_000).unwrap();
    let hh: Vec<Uuid> = page.changes.iter().filter(|c| c.entity == EntityKind::Household).map(|c| c.id).collect();
    assert_eq!(hh, vec![HOUSEHOLDS[1]]);
    // a user with two grants sees the union, each change once
    let both: Vec<RoleGrant> = sec_a.iter().chain(sec_b.iter()).copied().collect();
    let page = store.pull(&both, None, 0, 10_000).unwrap();
    let mut seqs: Vec<u64> = page.changes.iter().map(|c| c.seq).collect();
    let n = seqs.len();
    seqs.dedup();
    assert_eq!(seqs.len(), n);
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
}

fn pull_pages_without_skips_or_repeats(store: &dyn Store) {
    let grants = [
        RoleGrant { role: Role::VillageSecretary, unit_id: VILLAGES[0] },
        RoleGrant { role: Role::Mediator, unit_id: VILLAGES[1] },
    ];
    let full = store.pull(&grants, None, 0, 10_000).unwrap();
    let mut got = Vec::new();
    let mut cursor = 0;
    let mut pages = 0;
    loop {
        let page = store.pull(&grants, None, cursor, 2).unwrap();
        assert!(page.changes.len() <= 2);
        got.extend(page.changes.iter().map(|c| c.seq));
        assert!(page.position >= cursor);
        cursor = page.position;
        pages += 1;
        if !page.has_more {
            break;
        }
        assert!(pages < 1000);
    }
    assert_eq!(got, full.changes.iter().map(|c| c.seq).collect::<Vec<_>>());
    assert!(pages > 1);
    // a no-op pull from the end returns nothing and stays put
    let page = store.pull(&grants, None, cursor, 2).unwrap();
    assert!(page.changes.is_empty() && !page.has_more);
    assert_eq!(page.position, cursor);
    assert_eq!(cursor, store.last_seq().unwrap());
    assert!(!page.beyond_end);
    // a position past the end (a restored server, a forged cursor) is not taken up
    let page = store.pull(&grants, None, cursor + 1_000, 2).unwrap();
    assert!(page.beyond_end && page.changes.is_empty() && !page.has_more);
    assert_eq!(page.position, cursor);
}

fn moved_record_is_dropped_where_it_left(store: &dyn Store) {
    let h = Uuid::now_v7();
    store.put_records(&[household(h, GROUPS[0])]).unwrap();
    let a1 = [RoleGrant { role: Role::GroupLeader, unit_id: GROUPS[0] }];
    let a2 = [RoleGrant { role: Role::GroupLeader, unit_id: GROUPS[2] }];
    let va = [RoleGrant { role: Role::VillageSecretary, unit_id: VILLAGES[0] }];
    let (c1, c2, cv) = (store.last_seq().unwrap(), store.last_seq().unwrap(), store.last_seq().unwrap());
    // moves from group A1 to A2 (same village)
    store.put_records(&[household(h, GROUPS[2])]).unwrap();
    let p1 = store.pull(&a1, None, c1, 100).unwrap();
    assert_eq!(p1.changes.len(), 1);
    assert_eq!((p1.changes[0].action, p1.changes[0].id), (ChangeAction::Drop, h));
    let p2 = store.pull(&a2, None, c2, 100).unwrap();
    assert_eq!(p2.changes.len(), 1);
    assert_eq!(p2.changes[0].action, ChangeAction::Put);
    // the village still holds it: one put, no drop
    let pv = store.pull(&va, None, cv, 100).unwrap();
    assert_eq!(pv.changes.iter().map(|c| c.action).collect::<Vec<_>>(), vec![ChangeAction::Put]);
    // writing the identical record again changes nothing
    let before = store.last_seq().unwrap();
    store.put_records(&[household(h, GROUPS[2])]).unwrap();
    assert_eq!(store.last_seq().unwrap(), before);
}
