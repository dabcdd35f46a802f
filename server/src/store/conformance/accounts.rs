//! Checks of users, refresh tokens (spending, reuse, the retry grace), signing
//! keys and the audit log.

use chrono::{Duration, Utc};
use fengqiao_domain::{Role, RoleGrant};
use uuid::Uuid;

use crate::store::{
    AccountStore, AuditAction, AuditEntry, AuditQuery, AuditStore, RefreshRecord, SigningKeyRecord, SpendOutcome,
    SpendRequest, StoreError, UserRecord,
};

use super::*;

pub(super) fn audit_log_appends_and_filters(store: &dyn AuditStore) {
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

pub(super) fn users(store: &dyn AccountStore) {
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

pub(super) fn refresh_tokens(store: &dyn AccountStore) {
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
pub(super) fn refresh_retry_grace(store: &dyn AccountStore) {
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

pub(super) fn signing_keys(store: &dyn AccountStore) {
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
