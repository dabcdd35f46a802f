//! The phone keeps villagers' data safe (issue 9): everything encrypted at rest
//! under the app's key, sessions that survive weeks offline, an offline PIN
//! lock, unsynced work kept per user, the county's "wipe this phone", device
//! revocation, and the low-storage guard. Real server, real sled phone stores,
//! real HTTP on loopback.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use fengqiao_core::{ClientError, ClientOptions, FieldClient, ManualClock, NewPhoto};
use fengqiao_domain::{EntityKind, Record, Visit};
use fengqiao_tests::api::ApiUser;
use fengqiao_tests::phone::{as_jpeg, fast_options, routine_visit, sign_in, store_key};
use fengqiao_tests::TestServer;
use serde_json::{json, Value};

fn open_with(dir: &Path, url: &str, key: Vec<u8>, opts: ClientOptions) -> Result<FieldClient, ClientError> {
    let mut last = None;
    for _ in 0..100 {
        match FieldClient::open(dir.to_string_lossy().into_owned(), url.to_string(), key.clone(), opts.clone()) {
            // sled lets go of a dropped store's lock a moment later
            Err(ClientError::Storage { message }) if message.contains("lock") || message.contains("temporarily") => {
                last = Some(ClientError::Storage { message });
                std::thread::sleep(Duration::from_millis(30));
            }
            other => return other,
        }
    }
    Err(last.unwrap_or(ClientError::Cancelled))
}

fn open(dir: &Path, url: &str, opts: ClientOptions) -> FieldClient {
    open_with(dir, url, store_key(), opts).unwrap()
}

fn server_has_visit(server: &TestServer, id: uuid::Uuid) -> bool {
    matches!(server.state().unwrap().store.record(EntityKind::Visit, id).unwrap(), Some(Record::Visit(_)))
}

/// Every file under `dir`, recursively.
fn all_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(all_bytes(&p));
        } else {
            out.push((p.to_string_lossy().into_owned(), std::fs::read(&p).unwrap()));
        }
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Known names, phone numbers, notes, ids and photo bytes written through the
/// core are found nowhere in the raw sled files, the journal or the photo
/// folder; a wrong key is refused and changes nothing; a rotated key opens the
/// store and the old one no longer does.
#[tokio::test]
async fn nothing_readable_at_rest_and_the_key_guards_the_store() {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let url = server.url();
    let (visit, household, photo_marker) = {
        let p = open(dirs[1].path(), &url, fast_options());
        sign_in(&p, &server, "leader.t1v1g1").await;
        p.sync().await.unwrap();
        let h = p.households().unwrap().remove(0);
        // a pulled household (name, phone) and a pending visit with notes
        let pending = p.record_visit(routine_visit(&h, "王秀英说院墙倒塌 联系电话13912345678")).unwrap();
        let synced = p.record_visit(routine_visit(&h, "第二次走访：调解协议已签")).unwrap();
        p.sync().await.unwrap();
        let _ = synced;
        let marker: Vec<u8> = as_jpeg((0..300_000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect());
        let src = dirs[1].path().join("src.jpg");
        std::fs::write(&src, &marker).unwrap();
        p.attach_photo(NewPhoto {
            target_kind: EntityKind::Visit,
            target_id: pending.id,
            source_path: src.to_string_lossy().into_owned(),
            content_type: "image/jpeg".into(),
            caption: "倒塌的院墙".into(),
        })
        .unwrap();
        std::fs::remove_file(&src).unwrap();
        // one more queued op so the outbox and its journal hold something
        let queued = p.record_visit(routine_visit(&h, "王秀英再次反映")).unwrap();
        (queued, h, marker)
    };
    let mut needles: Vec<(&str, Vec<u8>)> = vec![
        ("household name", household.head_name.as_bytes().to_vec()),
        ("notes", "王秀英".as_bytes().to_vec()),
        ("phone number", b"13912345678".to_vec()),
        ("caption", "倒塌的院墙".as_bytes().to_vec()),
        ("visit id (text)", visit.id.to_string().into_bytes()),
        ("visit id (bytes)", visit.id.as_bytes().to_vec()),
        ("household id (bytes)", household.id.as_bytes().to_vec()),
        ("photo bytes", photo_marker[1000..1064].to_vec()),
        ("leader's username", b"leader.t1v1g1".to_vec()),
    ];
    if let Some(phone) = household.phone.as_ref().filter(|p| p.len() >= 6) {
        needles.push(("household phone", phone.as_bytes().to_vec()));
    }
    let files = all_bytes(dirs[1].path());
    assert!(files.len() >= 5, "sled, journal, key file, photo: {:?}", files.iter().map(|f| &f.0).collect::<Vec<_>>());
    for (what, needle) in &needles {
        for (name, bytes) in &files {
            assert!(!contains(bytes, needle), "{what} found in plain bytes of {name}");
        }
    }

    // a wrong key: a clear error, nothing changed
    let err = open_with(dirs[1].path(), &url, vec![1u8; 32], fast_options()).unwrap_err();
    assert_eq!(err.code(), "wrong_store_key", "{err:?}");
    let err = open_with(dirs[1].path(), &url, vec![1u8; 7], fast_options()).unwrap_err();
    assert_eq!(err.code(), "invalid_input");
    let after: Vec<(String, Vec<u8>)> = all_bytes(dirs[1].path());
    assert_eq!(after.len(), files.len(), "a refused key creates nothing");

    // rotation: the new key opens it, the old one no longer does
    let new_key = vec![99u8; 32];
    {
        let p = open(dirs[1].path(), &url, fast_options());
        p.rotate_store_key(vec![5u8; 32], new_key.clone()).map(|_| ()).expect_err("the current key must match");
        p.rotate_store_key(store_key(), new_key.clone()).unwrap();
    }
    assert_eq!(open_with(dirs[1].path(), &url, store_key(), fast_options()).unwrap_err().code(), "wrong_store_key");
    let p = open_with(dirs[1].path(), &url, new_key, fast_options()).unwrap();
    let visits = p.list_visits(10).unwrap();
    assert!(visits.iter().any(|v| v.visit.id == visit.id && v.pending), "the data is all there");
    assert_eq!(p.photo_bytes(&p.photo_states().unwrap()[0].sha256).unwrap().unwrap(), photo_marker);
    assert_eq!(p.sync().await.unwrap().pushed_applied, 2, "the photo and the queued visit go up after rotation");
    assert!(server_has_visit(&server, visit.id));
}

/// Weeks offline: the refresh token lapses, work goes on, the next online
/// moment asks only for the password, and the queued work goes as that user.
#[tokio::test]
async fn weeks_offline_then_only_the_password_again() {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let opts = ClientOptions { clock: clock.clone(), ..fast_options() };
    let p = open(dirs[1].path(), &server.url(), opts.clone());
    sign_in(&p, &server, "leader.t2v1g2").await;
    p.sync().await.unwrap();
    let h = p.households().unwrap().remove(0);
    let mut ids = Vec::new();
    for week in 0..9 {
        clock.advance(chrono::Duration::days(7));
        ids.push(p.record_visit(routine_visit(&h, &format!("第{week}周走访"))).unwrap().id);
    }
    // 63 days on: past the refresh token's 60 days, without asking the server
    let err = p.sync().await.unwrap_err();
    assert_eq!(err, ClientError::SessionExpired);
    assert!(p.sync_status().unwrap().session_expired);
    ids.push(p.record_visit(routine_visit(&h, "过期后继续记录")).unwrap().id);
    assert_eq!(p.current_user().unwrap().username, "leader.t2v1g2", "still known offline");
    drop(p);
    // an app restart in between changes nothing
    let p = open(dirs[1].path(), &server.url(), opts);
    assert_eq!(p.sync_status().unwrap().pending_ops, 10);
    sign_in(&p, &server, "leader.t2v1g2").await;
    let report = p.sync().await.unwrap();
    assert_eq!(report.pushed_applied, 10);
    assert!(ids.iter().all(|id| server_has_visit(&server, *id)));
    let store = server.state().unwrap().store.clone();
    let me = p.current_user().unwrap().id;
    for id in &ids {
        let Some(Record::Visit(v)) = store.record(EntityKind::Visit, *id).unwrap() else { panic!("missing") };
        assert_eq!(v.visitor_id, me, "sent as the same user");
    }
}

/// A shared phone: a PIN closes the user's data offline (wrong PINs wait,
/// then only the password opens it), a biometric result may open it, and it
/// stays closed across restarts.
#[tokio::test]
async fn the_pin_lock_holds_offline_with_limits() {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let opts = ClientOptions { clock: clock.clone(), ..fast_options() };
    let p = open(dirs[1].path(), &server.url(), opts.clone());
    sign_in(&p, &server, "leader.t1v2g1").await;
    p.sync().await.unwrap();
    assert_eq!(p.set_pin("12ab".into(), false).unwrap_err().code(), "invalid_input");
    p.set_pin("2468".into(), true).unwrap();
    let h = p.households().unwrap().remove(0);
    p.record_visit(routine_visit(&h, "上锁前")).unwrap();
    p.lock();
    assert!(p.lock_status().unwrap().locked);
    for blocked in [
        p.list_visits(10).map(|_| ()),
        p.households().map(|_| ()),
        p.record_visit(routine_visit(&h, "锁着")).map(|_| ()),
        p.sync_status().map(|_| ()),
        p.photo_states().map(|_| ()),
    ] {
        assert_eq!(blocked.unwrap_err(), ClientError::Locked);
    }
    // a locked phone in a pocket still sends its work when signal returns
    assert_eq!(p.sync().await.unwrap().pushed_applied, 1);
    // not a PIN at all: refused by the core's rule, no attempt spent
    assert_eq!(p.unlock("12".into()).unwrap_err().code(), "invalid_input");
    assert_eq!(p.lock_status().unwrap().attempts_left, 10);
    // five free wrong PINs, then waits
    for i in 0..5u32 {
        match p.unlock("0000".into()).unwrap_err() {
            ClientError::WrongPin { attempts_left, retry_after_secs } => {
                assert_eq!(attempts_left, 10 - i - 1);
                assert_eq!(retry_after_secs > 0, i == 4, "the fifth wrong PIN starts the wait");
            }
            e => panic!("{e:?}"),
        }
    }
    let ClientError::WrongPin { retry_after_secs, .. } = p.unlock("2468".into()).unwrap_err() else { panic!() };
    assert!(retry_after_secs >= 1, "even the right PIN waits out the delay");
    clock.advance(chrono::Duration::seconds(31));
    p.unlock("2468".into()).unwrap();
    assert_eq!(p.list_visits(10).unwrap().len(), 1);
    assert_eq!(p.lock_status().unwrap().attempts_left, 10, "a right PIN resets the count");
    drop(p);

    // closed again after a restart; the biometric result opens it
    let p = open(dirs[1].path(), &server.url(), opts.clone());
    assert_eq!(p.list_visits(10).unwrap_err(), ClientError::Locked);
    assert_eq!(p.unlock_with_biometric(false).unwrap_err(), ClientError::Locked);
    p.unlock_with_biometric(true).unwrap();
    assert_eq!(p.list_visits(10).unwrap().len(), 1);

    // ten wrong PINs: only the password opens it now
    p.lock();
    for _ in 0..10 {
        clock.advance(chrono::Duration::days(1));
        let _ = p.unlock("1357".into());
    }
    clock.advance(chrono::Duration::days(1));
    assert_eq!(p.unlock("2468".into()).unwrap_err(), ClientError::WrongPin { attempts_left: 0, retry_after_secs: 0 });
    sign_in(&p, &server, "leader.t1v2g1").await;
    assert_eq!(p.list_visits(10).unwrap().len(), 1, "the online login opened it; nothing was lost");
}

/// Another user on the same phone: the first user's unsynced work stays,
/// apart (not shown to the second, not sent as them), the app is told how
/// much waits, and it goes up when its user next logs in.
#[tokio::test]
async fn a_second_user_never_deletes_or_sees_the_first_users_work() {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut server = TestServer::start(dirs[0].path()).await.unwrap();
    let url = server.url();
    let p = open(dirs[1].path(), &url, fast_options());
    sign_in(&p, &server, "leader.t1v1g1").await;
    p.sync().await.unwrap();
    let h = p.households().unwrap().remove(0);
    server.stop().await.unwrap();
    let a_visits: Vec<Visit> =
        (0..3).map(|i| p.record_visit(routine_visit(&h, &format!("甲的走访{i}"))).unwrap()).collect();
    p.logout().await.unwrap();
    assert!(p.current_user().is_none());
    let waiting = p.waiting_work().unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!((waiting[0].ops, waiting[0].username.as_deref()), (3, Some("leader.t1v1g1")));
    server.restart().await.unwrap();

    // the second user signs in on the same data dir
    sign_in(&p, &server, "leader.t1v1g2").await;
    p.sync().await.unwrap();
    assert!(p.list_visits(100).unwrap().iter().all(|v| !a_visits.iter().any(|a| a.id == v.visit.id)), "not shown");
    assert!(a_visits.iter().all(|v| !server_has_visit(&server, v.id)), "not sent as the second user");
    let waiting = p.waiting_work().unwrap();
    let a = waiting.iter().find(|w| w.username.as_deref() == Some("leader.t1v1g1")).unwrap();
    assert_eq!((a.ops, a.is_current), (3, false));
    assert_eq!(p.sync_status().unwrap().waiting_for_other_users, 3);
    p.logout().await.unwrap();

    // the first user comes back: their work goes up, as them
    sign_in(&p, &server, "leader.t1v1g1").await;
    assert_eq!(p.sync().await.unwrap().pushed_applied, 3);
    assert!(a_visits.iter().all(|v| server_has_visit(&server, v.id)));
    assert!(p.waiting_work().unwrap().is_empty());
}

/// "Wipe this phone": county admins only, refused while work is unsynced
/// unless forced, and it reports what was lost.
#[tokio::test]
async fn only_a_county_admin_wipes_and_is_told_what_is_lost() {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let p = open(dirs[1].path(), &server.url(), fast_options());
    sign_in(&p, &server, "leader.t2v2g1").await;
    p.sync().await.unwrap();
    let h = p.households().unwrap().remove(0);
    let kept = p.record_visit(routine_visit(&h, "同步了的")).unwrap();
    p.sync().await.unwrap();
    p.record_visit(routine_visit(&h, "未同步一")).unwrap();
    p.record_visit(routine_visit(&h, "未同步二")).unwrap();
    let err = p.wipe_phone(true).unwrap_err();
    assert_eq!((err.code(), err.to_string().contains("管理员")), ("rejected", true));
    p.logout().await.unwrap();
    sign_in(&p, &server, "admin").await;
    assert_eq!(p.wipe_phone(false).unwrap_err(), ClientError::UnsyncedWork { ops: 2, photos: 0 });
    assert_eq!(p.waiting_work().unwrap()[0].ops, 2, "a refused wipe changes nothing");
    let report = p.wipe_phone(true).unwrap();
    assert_eq!((report.ops_lost, report.quarantined_lost, report.photos_lost), (2, 0, 0));
    assert!(report.records_removed >= 2);
    assert!(p.current_user().is_none() && p.waiting_work().unwrap().is_empty());
    assert!(server_has_visit(&server, kept.id), "what was synced is safe on the server");
    // the wiped phone is a new device: the leader can sign in again
    sign_in(&p, &server, "leader.t2v2g1").await;
    assert_eq!(p.sync().await.unwrap().pushed_applied, 0);
}

/// A lost phone: the county revokes the device; on its next contact the core
/// sends what the server still takes, then drops that user's data.
#[tokio::test]
async fn a_revoked_device_sends_what_it_can_then_forgets_the_user() {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let p = open(dirs[1].path(), &server.url(), fast_options());
    sign_in(&p, &server, "leader.t1v3g1").await;
    p.sync().await.unwrap();
    let h = p.households().unwrap().remove(0);
    let offline: Vec<Visit> =
        (0..2).map(|i| p.record_visit(routine_visit(&h, &format!("丢失前{i}"))).unwrap()).collect();

    let admin = ApiUser::login(&server, "admin").await;
    let leader = ApiUser::login(&server, "leader.t1v3g1").await;
    let devs: Value = admin.get(&format!("/v1/admin/users/{}/devices", leader.id)).await.json().await.unwrap();
    let device = devs.as_array().unwrap().iter().find(|d| !d["device_id"].is_null()).unwrap()["device_id"].clone();
    let device = device.as_str().unwrap();
    let r = admin.post(&format!("/v1/admin/users/{}/devices/{device}/revoke", leader.id), json!({})).await;
    assert_eq!(r.status(), 204);

    assert_eq!(p.sync().await.unwrap_err(), ClientError::DeviceRevoked);
    assert!(offline.iter().all(|v| server_has_visit(&server, v.id)), "what the phone held was sent first");
    assert!(p.current_user().is_none(), "the user's session is gone");
    assert!(p.waiting_work().unwrap().is_empty());
    assert!(p.households().is_err());
    // the local records of that user are gone from the store itself
    drop(p);
    let p = open(dirs[1].path(), &server.url(), fast_options());
    assert_eq!(p.list_visits(10).unwrap_err(), ClientError::NotLoggedIn);
    sign_in(&p, &server, "leader.t1v3g1").await;
    assert!(p.list_visits(10).unwrap().is_empty(), "nothing of the old session remained before a new pull");
}

/// Storage pressure: below the threshold new photos are refused with a clear
/// error while text still saves; uploaded originals are evicted first.
#[tokio::test]
async fn low_storage_refuses_photos_not_text_and_evicts_uploaded_first() {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    const MB: u64 = 1_000_000;
    let (used, visit) = {
        let p = open(dirs[1].path(), &server.url(), fast_options());
        sign_in(&p, &server, "leader.t2v3g2").await;
        p.sync().await.unwrap();
        let h = p.households().unwrap().remove(0);
        let v = p.record_visit(routine_visit(&h, "空间测试")).unwrap();
        p.sync().await.unwrap();
        let u = p.storage_usage().unwrap();
        assert!(u.store_bytes > 0 && u.free_bytes > 0 && u.photos_allowed);
        (u.store_bytes + u.photo_bytes, v)
    };
    let opts = ClientOptions { storage_quota_bytes: Some(used + 8 * MB), min_free_bytes: 4 * MB, ..fast_options() };
    let p = open(dirs[1].path(), &server.url(), opts);
    let photo = |n: u8| {
        let path = dirs[1].path().join(format!("p{n}.jpg"));
        let bytes: Vec<u8> =
            as_jpeg((0..2_500_000u32).map(|i| (i.wrapping_mul(31).wrapping_add(u32::from(n)) >> 3) as u8).collect());
        std::fs::write(&path, bytes).unwrap();
        NewPhoto {
            target_kind: EntityKind::Visit,
            target_id: visit.id,
            source_path: path.to_string_lossy().into_owned(),
            content_type: "image/jpeg".into(),
            caption: String::new(),
        }
    };
    let first = p.attach_photo(photo(1)).unwrap();
    assert_eq!(p.sync().await.unwrap().photos_uploaded, 1);
    // the second fits only once the first (uploaded) original is evicted
    p.attach_photo(photo(2)).unwrap();
    assert!(p.photo_bytes(&first.sha256).unwrap().is_none(), "the uploaded original made room");
    // the third does not fit: the second is not uploaded and is never evicted
    let err = p.attach_photo(photo(3)).unwrap_err();
    assert_eq!(err.code(), "storage_low", "{err:?}");
    let usage = p.storage_usage().unwrap();
    assert!(!usage.photos_allowed || usage.free_bytes < usage.min_free_bytes + 2_500_000, "{usage:?}");
    // text records still save
    let h = p.households().unwrap().remove(0);
    p.record_visit(routine_visit(&h, "空间不足时的文字记录")).unwrap();
    assert_eq!(p.photo_states().unwrap().len(), 2, "the refused photo left nothing behind");
}

/// Photos follow their user and the lock like records (issue 18): while the
/// lock is closed they are not shown and the user cannot be signed out
/// without their password; signed out, nobody sees them; another user of the
/// phone sees none of them; their user, back, sees them again.
#[tokio::test]
async fn photos_follow_their_user_and_a_locked_phone_signs_out_only_with_the_password() {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut server = TestServer::start(dirs[0].path()).await.unwrap();
    let url = server.url();
    let p = open(dirs[1].path(), &url, fast_options());
    sign_in(&p, &server, "leader.t1v1g3").await;
    p.sync().await.unwrap();
    let h = p.households().unwrap().remove(0);
    let visit = p.record_visit(routine_visit(&h, "身份证照片")).unwrap();
    let src = dirs[1].path().join("id-card.jpg");
    let bytes = as_jpeg((0..40_004u32).map(|i| (i.wrapping_mul(7) >> 2) as u8).collect());
    std::fs::write(&src, &bytes).unwrap();
    let att = p
        .attach_photo(NewPhoto {
            target_kind: EntityKind::Visit,
            target_id: visit.id,
            source_path: src.to_string_lossy().into_owned(),
            content_type: "image/jpeg".into(),
            caption: String::new(),
        })
        .unwrap();
    p.set_pin("1357".into(), false).unwrap();
    p.lock();
    assert_eq!(p.logout().await.unwrap_err(), ClientError::Locked, "a locked phone does not sign out");
    assert!(p.current_user().is_some());
    assert_eq!(p.photo_states().unwrap_err(), ClientError::Locked);
    assert_eq!(p.photo_bytes(&att.sha256).unwrap_err(), ClientError::Locked);

    let me = server.cred("leader.t1v1g3").unwrap();
    server.stop().await.unwrap();
    assert_eq!(p.logout_with_password(me.password.clone()).await.unwrap_err().code(), "network");
    server.restart().await.unwrap();
    assert_eq!(p.logout_with_password("not-the-password".into()).await.unwrap_err(), ClientError::InvalidCredentials);
    assert!(p.current_user().is_some(), "a wrong password signs nobody out");
    p.logout_with_password(me.password.clone()).await.unwrap();
    assert!(p.current_user().is_none());
    assert_eq!(p.photo_states().unwrap_err(), ClientError::NotLoggedIn);
    assert_eq!(p.photo_bytes(&att.sha256).unwrap_err(), ClientError::NotLoggedIn);

    sign_in(&p, &server, "leader.t1v1g2").await;
    assert!(p.photo_states().unwrap().is_empty(), "the first user's queued photo is not the second's");
    assert_eq!(p.sync_status().unwrap().photos_pending, 0, "nor counted as the second's");
    assert_eq!(p.photo_bytes(&att.sha256).unwrap(), None);
    p.sync().await.unwrap();
    assert!(p.photo_states().unwrap().is_empty(), "nor after the second user's sync");
    p.logout().await.unwrap();

    sign_in(&p, &server, "leader.t1v1g3").await;
    assert_eq!(
        p.photo_states().unwrap().iter().map(|s| s.sha256.clone()).collect::<Vec<_>>(),
        vec![att.sha256.clone()]
    );
    assert_eq!(p.photo_bytes(&att.sha256).unwrap(), Some(bytes));
    assert_eq!(p.sync_status().unwrap().photos_pending, 1);
}
