//! County administration against a real server on loopback: importing a workbook
//! (every problem located, nothing written; idempotent re-import; an edited
//! re-import reaches a group leader's phone by its normal pull), managing users
//! and devices (a disabled user's next request is refused), and the audit log
//! (an entry for every kind of action, queryable and exportable, without secrets).

use fengqiao_domain::{EntityKind, Record};
use fengqiao_tests::api::{login_answer, ApiUser};
use fengqiao_tests::phone::signed_in_synced;
use fengqiao_tests::workbook::workbook;
use fengqiao_tests::TestServer;
use serde_json::{json, Value};
use uuid::Uuid;

const UNITS: &[&str] = &["级别", "上级编码", "编码", "名称"];
const USERS: &[&str] = &["用户名", "姓名", "角色", "单位", "初始密码"];
// English aliases are accepted too.
const HOUSEHOLDS: &[&str] = &["household_code", "group", "户主", "address", "电话", "身份证号"];

/// The valid rows every version of the file shares, with `hh` as the household sheet.
fn good(hh: Vec<Vec<&'static str>>) -> Vec<u8> {
    workbook(&[
        ("组织", UNITS, vec![vec!["组", "T01/V01", "G04", "第四组"]]),
        ("用户", USERS, vec![vec!["zhao.liu", "赵六", "组长", "T01/V01/G04", "Zhao-initial-pw1"]]),
        ("户", HOUSEHOLDS, hh),
    ])
}

fn households() -> Vec<Vec<&'static str>> {
    vec![
        vec!["H001", "T01/V01/G01", "王一", "1号", "13911110001", "11010519491231002X"],
        vec!["H002", "T01/V01/G01", "王二", "2号", "13911110002", ""],
        vec!["H003", "T01/V01/G04", "王三", "1号", "", ""],
    ]
}

async fn import(admin: &ApiUser, name: &str, query: &str, bytes: Vec<u8>) -> Value {
    let r = reqwest::Client::new()
        .post(format!("{}/v1/admin/import?name={name}{query}", admin.url))
        .bearer_auth(&admin.token)
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn feed_seq(server: &TestServer) -> u64 {
    let v: Value = reqwest::get(format!("{}/healthz", server.url())).await.unwrap().json().await.unwrap();
    v["feed_seq"].as_u64().unwrap()
}

#[tokio::test]
async fn import_checks_everything_first_is_idempotent_and_edits_reach_phones() {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let admin = ApiUser::login(&server, "admin").await;

    // A workbook with deliberate errors: exactly these problems, nothing written.
    let bad = workbook(&[
        (
            "组织",
            UNITS,
            vec![
                vec!["组", "T01/V01", "G04", "第四组"],
                vec!["组", "T01/V09", "G01", "幽灵组"],
                vec!["市", "T01", "V07", "某村"],
            ],
        ),
        (
            "用户",
            USERS,
            vec![
                vec!["zhao.liu", "赵六", "组长", "T01/V01/G04", "Zhao-initial-pw1"],
                vec!["qian.qi", "钱七", "组长", "T01/V01", "Qian-initial-pw1"],
                vec!["sun.ba", "孙八", "村长", "T01/V01", "Sun-initial-pw01"],
            ],
        ),
        (
            "户",
            HOUSEHOLDS,
            vec![
                vec!["H001", "T01/V01/G01", "王一", "1号", "13911110001", "11010519491231002X"],
                vec!["H002", "T01/V01/G01", "王二", "2号", "13911110002", ""],
                vec!["H003", "T01/V01/G09", "王三", "3号", "", ""],
                vec!["H004", "T01/V01/G01", "王四", "4号", "139-1111-0001", ""],
                vec!["H005", "T01/V01/G01", "王五", "5号", "", "110105194912310021"],
                vec!["H001", "T01/V01/G01", "王六", "6号", "", ""],
            ],
        ),
    ]);
    let before = feed_seq(&server).await;
    let report = import(&admin, "bad.xlsx", "", bad.clone()).await;
    let got: Vec<(String, u64, String, String, String)> = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert_eq!(p["file"], "bad.xlsx");
            (
                p["sheet"].as_str().unwrap().to_string(),
                p["row"].as_u64().unwrap(),
                p["column"].as_str().unwrap().to_string(),
                p["header"].as_str().unwrap().to_string(),
                p["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: Vec<(&str, u64, &str, &str, &str)> = vec![
        ("组织", 3, "B", "上级编码", "unknown parent unit T01/V09"),
        ("组织", 4, "A", "级别", "unknown level: use 旗, 镇/乡/苏木/街道, 司法所, 村/嘎查/社区 or 组"),
        ("用户", 3, "C", "角色", "role 组长/网格员 is not valid at a 村 (it binds to a 组)"),
        ("用户", 4, "C", "角色", "unknown role 村长"),
        ("户", 4, "B", "group", "unknown group T01/V01/G09"),
        ("户", 5, "E", "电话", "duplicate phone (also row 2)"),
        ("户", 6, "F", "身份证号", "the ID number's check character does not match (a typing mistake?)"),
        ("户", 7, "A", "household_code", "duplicate household code H001 (also row 2)"),
    ];
    let want: Vec<(String, u64, String, String, String)> =
        want.into_iter().map(|(s, r, c, h, m)| (s.into(), r, c.into(), h.into(), m.into())).collect();
    assert_eq!(got, want);
    assert_eq!(report["written"], false);
    assert_eq!(feed_seq(&server).await, before, "an invalid file writes nothing");
    let store = server.state().unwrap().store.clone();
    assert!(store.user_by_username("zhao.liu").unwrap().is_none());
    // nothing personal is echoed in problems
    assert!(!report.to_string().contains("13911110001") && !report.to_string().contains("110105194912310021"));

    // --dry-run of a valid file reports without writing
    let v1 = good(households());
    let dry = import(&admin, "county.xlsx", "&dry_run=true", v1.clone()).await;
    assert_eq!((dry["written"].as_bool(), dry["households"]["created"].as_u64()), (Some(false), Some(3)));
    assert_eq!(feed_seq(&server).await, before);

    // the real import; the group leader's phone pulls the new households
    let r = import(&admin, "county.xlsx", "", v1.clone()).await;
    assert_eq!(r["written"], true, "{r}");
    assert_eq!(r["units"]["created"], 1);
    assert_eq!(r["users"]["created"], 1);
    assert_eq!(r["households"]["created"], 3);
    let leader = signed_in_synced(dirs[1].path(), &server.url(), &server, "leader.t1v1g1").await;
    let names = |hh: Vec<fengqiao_domain::Household>| {
        let mut v: Vec<(Option<String>, String)> =
            hh.into_iter().filter(|h| h.code.is_some()).map(|h| (h.code, h.head_name)).collect();
        v.sort();
        v
    };
    let seen = names(leader.households().unwrap());
    assert_eq!(seen, vec![(Some("H001".into()), "王一".into()), (Some("H002".into()), "王二".into())]);
    let imported = store.user_by_username("zhao.liu").unwrap().unwrap();
    assert!(imported.must_change_password, "imported users choose their own password");

    // the same file again changes nothing
    let after_first = feed_seq(&server).await;
    let again = import(&admin, "county.xlsx", "", v1).await;
    assert_eq!(again["households"]["unchanged"], 3, "{again}");
    assert_eq!(again["units"]["unchanged"], 1);
    assert_eq!(again["users"]["unchanged"], 1);
    assert_eq!(feed_seq(&server).await, after_first, "an identical re-import adds nothing to the feed");

    // edited: H001 renamed, H002 moved to group 2; only those rows change
    let mut edited = households();
    edited[0][2] = "王壹";
    edited[1][1] = "T01/V01/G02";
    let r = import(&admin, "county.xlsx", "", good(edited)).await;
    assert_eq!((r["households"]["updated"].as_u64(), r["households"]["unchanged"].as_u64()), (Some(2), Some(1)), "{r}");
    // put + put + one drop (H002 left group 1)
    assert_eq!(feed_seq(&server).await, after_first + 3);
    leader.sync().await.unwrap();
    assert_eq!(names(leader.households().unwrap()), vec![(Some("H001".into()), "王壹".into())]);
    let Some(Record::Household(h1)) = store
        .records_of_kind(EntityKind::Household)
        .unwrap()
        .into_iter()
        .find(|r| matches!(r, Record::Household(h) if h.code.as_deref() == Some("H001")))
    else {
        panic!("H001 stored")
    };
    assert_eq!(h1.id_number.map(|n| n.as_str().to_string()), Some("11010519491231002X".to_string()));

    // --skip-invalid writes the valid rows of the bad file and reports the rest
    let r = import(&admin, "bad.xlsx", "&skip_invalid=true", bad).await;
    assert_eq!(r["written"], true);
    assert_eq!(r["problems"].as_array().unwrap().len(), 8);
    assert!(store.user_by_username("qian.qi").unwrap().is_none());

    // non-admins do not see the endpoint at all
    let l = ApiUser::login(&server, "leader.t1v1g1").await;
    let r = reqwest::Client::new()
        .post(format!("{}/v1/admin/import?name=x.csv", l.url))
        .bearer_auth(&l.token)
        .body("户编码,组,户主\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

async fn status_of(server: &TestServer, token: &str, path: &str) -> (u16, Value) {
    let r = reqwest::Client::new().get(format!("{}{path}", server.url())).bearer_auth(token).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn users_devices_and_the_audit_log() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await.unwrap();
    let admin = ApiUser::login(&server, "admin").await;
    let http = reqwest::Client::new();
    let group = server.cred("leader.t1v1g1").unwrap().unit_id;
    let village = server.cred("secretary.t1v1").unwrap().unit_id;

    // outsiders see no admin surface
    let leader = ApiUser::login(&server, "leader.t1v1g1").await;
    assert_eq!(leader.get("/v1/admin/users").await.status(), 404);
    assert_eq!(leader.get("/v1/admin/audit").await.status(), 404);

    // create: weak password and a role at the wrong level are refused
    let body = |pw: &str, unit: Uuid| {
        json!({"username": "wu.jiu", "display_name": "吴九", "password": pw,
            "grants": [{"role": "group_leader", "unit_id": unit}]})
    };
    let r = admin.post("/v1/admin/users", body("short", group)).await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "weak_password");
    let r = admin.post("/v1/admin/users", body("Wu-initial-pw-1", village)).await;
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "role_not_valid_at_level");
    let r = admin.post("/v1/admin/users", body("Wu-initial-pw-1", group)).await;
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    assert!(created.get("password_hash").is_none() && created.get("password").is_none());
    let wu: Uuid = created["id"].as_str().unwrap().parse().unwrap();

    // first sign-in must change the password; until then only /v1/me and the change work
    let device = Uuid::now_v7();
    let (s, t) = login_answer(&http, &server.url(), "wu.jiu", "Wu-initial-pw-1", Some(device)).await;
    assert_eq!((s, t["must_change_password"].as_bool()), (200, Some(true)));
    let token = t["access_token"].as_str().unwrap().to_string();
    let (s, e) = status_of(&server, &token, "/v1/sync/pull").await;
    assert_eq!((s, e["code"].as_str()), (403, Some("password_change_required")));
    assert_eq!(status_of(&server, &token, "/v1/me").await.0, 200);
    let change = |old: &str, new: &str| json!({"old_password": old, "new_password": new});
    let r = http
        .post(format!("{}/v1/auth/password", server.url()))
        .bearer_auth(&token)
        .json(&change("Wu-initial-pw-1", "short"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = http
        .post(format!("{}/v1/auth/password", server.url()))
        .bearer_auth(&token)
        .json(&change("Wu-initial-pw-1", "Wu-own-password-2"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(status_of(&server, &token, "/v1/sync/pull").await.0, 200);
    let (s, t) = login_answer(&http, &server.url(), "wu.jiu", "Wu-own-password-2", Some(device)).await;
    assert_eq!((s, t["must_change_password"].as_bool()), (200, Some(false)));
    let token = t["access_token"].as_str().unwrap().to_string();
    let refresh = t["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(login_answer(&http, &server.url(), "wu.jiu", "wrong-password-x", None).await.0, 401);
    assert_eq!(login_answer(&http, &server.url(), "no.such.user", "wrong-password-x", None).await.0, 401);

    // devices: listed, and revoking one stops its tokens at once
    let devs: Value = admin.get(&format!("/v1/admin/users/{wu}/devices")).await.json().await.unwrap();
    assert_eq!(devs.as_array().unwrap().len(), 1);
    assert_eq!(devs[0]["device_id"], device.to_string());
    assert!(devs[0]["active_sessions"].as_u64().unwrap() >= 1);
    let r = admin.post(&format!("/v1/admin/users/{wu}/devices/{device}/revoke"), json!({})).await;
    assert_eq!(r.status(), 204);
    assert_eq!(status_of(&server, &token, "/v1/sync/pull").await.0, 401);
    let r = http.post(format!("{}/v1/auth/refresh", server.url())).json(&json!({"refresh_token": refresh})).send();
    assert_eq!(r.await.unwrap().status(), 401);

    // disable: the next request is refused, and so is signing in; enable restores sign-in
    let (_, t) = login_answer(&http, &server.url(), "wu.jiu", "Wu-own-password-2", None).await;
    let token = t["access_token"].as_str().unwrap().to_string();
    let refresh = {
        let first = t["refresh_token"].as_str().unwrap().to_string();
        let r: Value = http
            .post(format!("{}/v1/auth/refresh", server.url()))
            .json(&json!({"refresh_token": first}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["refresh_token"].as_str().unwrap().to_string()
    };
    assert_eq!(status_of(&server, &token, "/v1/sync/pull").await.0, 200);
    assert_eq!(admin.post(&format!("/v1/admin/users/{wu}/disable"), json!({})).await.status(), 200);
    assert_eq!(status_of(&server, &token, "/v1/sync/pull").await.0, 401);
    assert_eq!(login_answer(&http, &server.url(), "wu.jiu", "Wu-own-password-2", None).await.0, 401);
    let r = http.post(format!("{}/v1/auth/refresh", server.url())).json(&json!({"refresh_token": refresh})).send();
    assert_eq!(r.await.unwrap().status(), 401, "a disabled user's refresh token is dead");
    assert_eq!(admin.post(&format!("/v1/admin/users/{wu}/enable"), json!({})).await.status(), 200);
    assert_eq!(status_of(&server, &token, "/v1/sync/pull").await.0, 401, "old sessions stay revoked");
    assert_eq!(login_answer(&http, &server.url(), "wu.jiu", "Wu-own-password-2", None).await.0, 200);

    // roles: moved to village secretary; a role at the wrong level is refused
    let r = http
        .patch(format!("{}/v1/admin/users/{wu}", server.url()))
        .bearer_auth(&admin.token)
        .json(&json!({"grants": [{"role": "village_secretary", "unit_id": village}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = http
        .patch(format!("{}/v1/admin/users/{wu}", server.url()))
        .bearer_auth(&admin.token)
        .json(&json!({"grants": [{"role": "group_leader", "unit_id": village}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let u: Value = admin.get(&format!("/v1/admin/users/{wu}")).await.json().await.unwrap();
    assert_eq!(u["grants"][0]["role"], "village_secretary");

    // reset: signing in says the password must change
    let r = admin.post(&format!("/v1/admin/users/{wu}/password"), json!({"new_password": "Temp-password-77"})).await;
    assert_eq!(r.status(), 204);
    let (s, t) = login_answer(&http, &server.url(), "wu.jiu", "Temp-password-77", None).await;
    assert_eq!((s, t["must_change_password"].as_bool()), (200, Some(true)));

    // a sync op, a refresh reuse, a logout and an import, for the log
    let store = server.state().unwrap().store.clone();
    let hh = store
        .records_of_kind(EntityKind::Household)
        .unwrap()
        .into_iter()
        .find(|r| matches!(r, Record::Household(h) if h.group_id == group))
        .unwrap();
    let visit = Uuid::now_v7();
    let out = leader
        .push(
            "record_visit",
            json!({"id": visit, "household_id": hh.id(), "visitor_id": leader.id, "visited_at": chrono::Utc::now(),
                "kind": "routine", "notes": "走访", "leads": []}),
        )
        .await;
    assert_eq!(out["status"], "applied", "{out}");
    let c = server.cred("mediator.t1v1").unwrap();
    let t: Value = login_answer(&http, &server.url(), &c.username, &c.password, None).await.1;
    let first = t["refresh_token"].as_str().unwrap().to_string();
    let rot = http.post(format!("{}/v1/auth/refresh", server.url())).json(&json!({"refresh_token": first}));
    let second: Value = rot.send().await.unwrap().json().await.unwrap();
    let reuse = http.post(format!("{}/v1/auth/refresh", server.url())).json(&json!({"refresh_token": first}));
    assert_eq!(reuse.send().await.unwrap().status(), 401);
    let out =
        http.post(format!("{}/v1/auth/logout", server.url())).json(&json!({"refresh_token": second["refresh_token"]}));
    assert_eq!(out.send().await.unwrap().status(), 204);
    let r = http
        .post(format!("{}/v1/admin/import?name=hh.csv", server.url()))
        .bearer_auth(&admin.token)
        .body("户编码,组,户主\nH9,T01/V01/G01,李九\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["written"], true);

    // the log: every kind of action, filterable, exportable, and without secrets
    let all: Value = admin.get("/v1/admin/audit?limit=10000").await.json().await.unwrap();
    let actions: std::collections::BTreeSet<String> =
        all.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_string()).collect();
    for a in [
        "sync_op",
        "login",
        "login_failed",
        "refresh_reuse",
        "logout",
        "password_change",
        "user_create",
        "user_disable",
        "user_enable",
        "password_reset",
        "user_update",
        "device_revoke",
        "import",
    ] {
        assert!(actions.contains(a), "no audit entry for {a}: {actions:?}");
    }
    let text = all.to_string();
    for secret in ["Wu-initial-pw-1", "Wu-own-password-2", "Temp-password-77", "wu.jiu", "no.such.user", "吴九"] {
        assert!(!text.contains(secret), "the audit log holds {secret}");
    }
    let sync: Value = admin.get(&format!("/v1/admin/audit?action=sync_op&target={visit}")).await.json().await.unwrap();
    assert_eq!(sync.as_array().unwrap().len(), 1);
    assert_eq!(sync[0]["actor"], leader.id);
    assert_eq!((sync[0]["outcome"].as_str(), sync[0]["detail"].as_str()), (Some("applied"), Some("record_visit")));
    let about_wu: Value = admin.get(&format!("/v1/admin/audit?target={wu}")).await.json().await.unwrap();
    let kinds: Vec<&str> = about_wu.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(
        kinds.contains(&"user_disable") && kinds.contains(&"login") && kinds.contains(&"login_failed"),
        "{kinds:?}"
    );
    let admin_id = admin.id.clone();
    let by_admin: Value = admin.get(&format!("/v1/admin/audit?actor={admin_id}")).await.json().await.unwrap();
    assert!(by_admin.as_array().unwrap().iter().all(|e| e["actor"] == admin_id.as_str()));
    let failed: Value = admin.get("/v1/admin/audit?action=login_failed").await.json().await.unwrap();
    assert!(failed.as_array().unwrap().iter().any(|e| e["detail"] == "unknown user" && e["target"].is_null()));
    let future = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let none: Value =
        admin.get(&format!("/v1/admin/audit?from={}", future.replace('+', "%2B"))).await.json().await.unwrap();
    assert!(none.as_array().unwrap().is_empty());
    let csv = admin.get("/v1/admin/audit?format=csv").await;
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let body = csv.text().await.unwrap();
    let lines: Vec<&str> = body.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines[0], "seq,at,actor,device,action,target,outcome,detail");
    assert_eq!(lines.len(), all.as_array().unwrap().len() + 1);
}

/// An admin cannot lock themselves out through the admin endpoints (found by
/// schemathesis: resetting one's own password ended every session of the only admin).
#[tokio::test]
async fn an_admin_cannot_reset_disable_or_demote_themselves() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await.unwrap();
    let admin = ApiUser::login(&server, "admin").await;
    let me = admin.id.clone();
    let r = admin
        .post(&format!("/v1/admin/users/{me}/password"), serde_json::json!({"new_password": "Another-long-pass-1"}))
        .await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "invalid_target");
    assert_eq!(admin.post(&format!("/v1/admin/users/{me}/disable"), serde_json::json!({})).await.status(), 400);
    let patch = reqwest::Client::new()
        .patch(format!("{}/v1/admin/users/{me}", server.url()))
        .bearer_auth(&admin.token)
        .json(&serde_json::json!({"grants": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(patch.status(), 400);
    // still an admin, still signed in
    assert_eq!(admin.get("/v1/admin/users").await.status(), 200);
    // and a non-admin trying the same on themselves learns nothing
    let leader = ApiUser::login(&server, "leader.t1v1g1").await;
    let r = leader
        .post(
            &format!("/v1/admin/users/{}/password", leader.id),
            serde_json::json!({"new_password": "Another-long-pass-1"}),
        )
        .await;
    assert_eq!(r.status(), 404);
}

/// The user's role codes, as the admin API shows them.
async fn roles_of(admin: &ApiUser, id: &str) -> Vec<String> {
    let u: Value = admin.get(&format!("/v1/admin/users/{id}")).await.json().await.unwrap();
    u["grants"].as_array().unwrap().iter().map(|g| g["role"].as_str().unwrap().to_string()).collect()
}

/// An import cannot quietly change an existing user's roles: over HTTP the dry
/// run shows the diff and the change needs `update_roles=true`, a county-admin
/// grant also `confirm_admin_grants=true`; on the command line the same with
/// `--update-roles` and `--confirm-admin-grants`. Each role change is audited.
#[tokio::test]
async fn an_import_changes_roles_only_when_asked_and_admin_grants_only_when_confirmed() {
    const SERVER: &str = env!("CARGO_BIN_EXE_test_server");
    let dir = tempfile::tempdir().unwrap();
    let mut server = TestServer::start(dir.path()).await.unwrap();
    let admin = ApiUser::login(&server, "admin").await;
    let leader = ApiUser::login(&server, "leader.t1v1g1").await;
    let users: Value = admin.get("/v1/admin/users").await.json().await.unwrap();
    let user = |name: &str| users.as_array().unwrap().iter().find(|u| u["username"] == name).unwrap().clone();
    let name = user("leader.t1v1g1")["display_name"].as_str().unwrap().to_string();
    // a group leader made county admin by a spreadsheet row
    let file = format!("用户名,姓名,角色,单位\nleader.t1v1g1,{name},管理员,\n");

    let dry = import(&admin, "users.csv", "&dry_run=true", file.clone().into_bytes()).await;
    let c = &dry["user_changes"][0];
    assert_eq!(
        (c["username"].as_str(), c["allowed"].as_bool(), c["new_user"].as_bool()),
        (Some("leader.t1v1g1"), Some(false), Some(false))
    );
    assert_eq!(c["roles_added"][0]["role"], "county_admin");
    assert_eq!(
        (c["roles_removed"][0]["role"].as_str(), c["roles_removed"][0]["unit"].as_str()),
        (Some("group_leader"), Some("T01/V01/G01"))
    );
    assert!(c["display_name_from"].is_null(), "the name does not change");
    assert!(dry["problems"][0]["message"].as_str().unwrap().contains("update_roles=true"), "{dry}");

    for query in ["", "&skip_invalid=true", "&update_roles=true"] {
        let r = import(&admin, "users.csv", query, file.clone().into_bytes()).await;
        assert_eq!(r["user_changes"][0]["allowed"], false, "{query}: {r}");
        assert_eq!(roles_of(&admin, &leader.id).await, vec!["group_leader"], "{query}: nothing changed for the user");
    }
    let r = import(&admin, "users.csv", "&update_roles=true", file.clone().into_bytes()).await;
    assert!(r["problems"][0]["message"].as_str().unwrap().contains("confirm_admin_grants=true"), "{r}");

    let r = import(&admin, "users.csv", "&update_roles=true&confirm_admin_grants=true", file.into_bytes()).await;
    assert_eq!((r["written"].as_bool(), r["user_changes"][0]["allowed"].as_bool()), (Some(true), Some(true)), "{r}");
    assert_eq!(roles_of(&admin, &leader.id).await, vec!["county_admin"]);
    let audit: Value =
        admin.get(&format!("/v1/admin/audit?action=user_update&target={}", leader.id)).await.json().await.unwrap();
    assert_eq!(audit.as_array().unwrap().len(), 1, "{audit}");
    assert_eq!(audit[0]["actor"], admin.id);
    let detail = audit[0]["detail"].as_str().unwrap();
    assert!(detail.starts_with("import: roles +county_admin@") && detail.contains("-group_leader@"), "{detail}");

    // the command line, with the server stopped: a village cadre made a group leader
    let cadre = user("cadre.t1v1");
    let cadre_name = cadre["display_name"].as_str().unwrap();
    let csv = dir.path().join("cadre.csv");
    std::fs::write(&csv, format!("用户名,姓名,角色,单位\ncadre.t1v1,{cadre_name},组长,T01/V01/G01\n")).unwrap();
    server.stop().await.unwrap();
    let cli = |flags: &[&str]| {
        let out = std::process::Command::new(SERVER)
            .args(["import", "--data"])
            .arg(dir.path())
            .args(flags)
            .arg(&csv)
            .env_remove("FENGQIAO_POLICY")
            .output()
            .unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let (ok, out) = cli(&[]);
    assert!(!ok, "{out}");
    assert!(out.contains("--update-roles") && out.contains("[refused]"), "{out}");
    let (ok, out) = cli(&["--dry-run", "--update-roles"]);
    assert!(ok, "{out}");
    assert!(out.contains("user cadre.t1v1") && out.contains("roles added: 组长/网格员 at T01/V01/G01"), "{out}");
    assert!(out.contains("roles removed: 村两委 at T01/V01"), "{out}");
    let (ok, out) = cli(&["--update-roles"]);
    assert!(ok, "{out}");
    server.restart().await.unwrap();
    let admin = ApiUser::login(&server, "admin").await;
    let cadre_id = cadre["id"].as_str().unwrap();
    assert_eq!(roles_of(&admin, cadre_id).await, vec!["group_leader"]);
    let audit: Value =
        admin.get(&format!("/v1/admin/audit?action=user_update&target={cadre_id}")).await.json().await.unwrap();
    assert_eq!(audit.as_array().unwrap().len(), 1, "{audit}");
    assert!(audit[0]["actor"].is_null(), "the command line");
    assert!(audit[0]["detail"].as_str().unwrap().contains("+group_leader@"));

    // and an admin grant on the command line needs its confirmation too
    server.stop().await.unwrap();
    std::fs::write(&csv, format!("用户名,姓名,角色,单位\ncadre.t1v1,{cadre_name},county_admin,\n")).unwrap();
    let (ok, out) = cli(&["--update-roles"]);
    assert!(!ok && out.contains("--confirm-admin-grants"), "{out}");
    let (ok, out) = cli(&["--update-roles", "--confirm-admin-grants"]);
    assert!(ok, "{out}");
}
