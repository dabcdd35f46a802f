//! The import against a small world: unit rows refused for a `/` are counted,
//! and a file cannot quietly change an existing user's roles.

use fengqiao_domain::policy::Policy;
use fengqiao_domain::{Role, RoleGrant};
use uuid::Uuid;

use super::{run, ImportOptions, ImportReport, InputFile};
use crate::store::conformance::{small_world, COUNTY, GROUPS};
use crate::store::{MemoryStore, Store, UserRecord};

fn csv(name: &str, text: &str) -> InputFile {
    InputFile { name: name.into(), bytes: text.as_bytes().to_vec() }
}

fn import(store: &dyn Store, file: &InputFile, opts: ImportOptions) -> ImportReport {
    run(store, &Policy::default(), std::slice::from_ref(file), opts, &mut |_, _| {}).unwrap()
}

/// A group leader of the small world's first group.
fn leader(store: &dyn Store) -> UserRecord {
    let u = UserRecord {
        id: Uuid::now_v7(),
        username: "zhang.san".into(),
        display_name: "张三".into(),
        password_hash: "x".into(),
        grants: vec![RoleGrant { role: Role::GroupLeader, unit_id: GROUPS[0] }],
        disabled: false,
        must_change_password: false,
        created_at: chrono::Utc::now(),
    };
    store.create_user(&u).unwrap();
    u
}

#[test]
fn unit_rows_refused_for_a_slash_in_their_code_are_counted() {
    let store = MemoryStore::new();
    small_world(&store);
    let file = csv("units.csv", "级别,上级编码,编码,名称\n组,70/A0,G/9,坏组\n组,70/A0,G8,好组\n组,70/A0,G7／1,全角\n");
    let r = import(&store, &file, ImportOptions { dry_run: true, ..Default::default() });
    assert_eq!(r.problems.len(), 2, "{:?}", r.problems);
    assert_eq!((r.units.created, r.units.invalid), (1, 2), "every refused row is counted");
}

#[test]
fn a_role_change_needs_update_roles_and_shows_as_a_diff() {
    let store = MemoryStore::new();
    small_world(&store);
    let before = leader(&store);
    // the spreadsheet makes the group leader a county admin, and renames them
    let file = csv("users.csv", "用户名,姓名,角色,单位\nzhang.san,张三丰,管理员,\n");

    // dry run: the diff, refused, and the problem says how to allow it
    let dry = import(&store, &file, ImportOptions { dry_run: true, ..Default::default() });
    assert_eq!(dry.user_changes.len(), 1);
    let c = &dry.user_changes[0];
    assert_eq!((c.username.as_str(), c.new_user, c.allowed, c.row), ("zhang.san", false, false, 2));
    assert_eq!((c.display_name_from.as_deref(), c.display_name_to.as_deref()), (Some("张三"), Some("张三丰")));
    assert_eq!(
        c.roles_added.iter().map(|g| (g.role, g.unit_id)).collect::<Vec<_>>(),
        vec![(Role::CountyAdmin, COUNTY)]
    );
    assert_eq!(
        c.roles_removed.iter().map(|g| (g.role, g.unit.as_str())).collect::<Vec<_>>(),
        vec![(Role::GroupLeader, "70/A0/A1")]
    );
    assert_eq!(dry.problems.len(), 1);
    assert_eq!((dry.problems[0].row, dry.problems[0].column.as_str()), (2, "C"));
    assert!(dry.problems[0].message.contains("update_roles=true"), "{}", dry.problems[0].message);
    assert_eq!(dry.users.invalid, 1);

    // a real import without the flag (even skipping invalid rows) changes nothing for the user
    let r = import(&store, &file, ImportOptions { skip_invalid: true, ..Default::default() });
    assert!(!r.user_changes[0].allowed);
    assert_eq!(store.user(before.id).unwrap().unwrap(), before, "nothing changed for the user");

    // update_roles alone: an admin grant still needs its own confirmation
    let opts = ImportOptions { update_roles: true, ..Default::default() };
    let r = import(&store, &file, opts);
    assert!(!r.written && !r.user_changes[0].allowed);
    assert!(r.problems[0].message.contains("confirm_admin_grants=true"), "{}", r.problems[0].message);
    assert_eq!(store.user(before.id).unwrap().unwrap(), before);

    // confirmed: written, and audited by the caller from the report
    let opts = ImportOptions { update_roles: true, confirm_admin_grants: true, ..Default::default() };
    let r = import(&store, &file, opts);
    assert!(r.written && r.problems.is_empty() && r.user_changes[0].allowed, "{r:?}");
    let after = store.user(before.id).unwrap().unwrap();
    assert_eq!(after.grants, vec![RoleGrant { role: Role::CountyAdmin, unit_id: COUNTY }]);
    assert_eq!(after.display_name, "张三丰");
    let audit = super::roles::audit_entries(&r, None, None);
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].target.as_deref(), Some(before.id.to_string().as_str()));
    assert!(audit[0].detail.contains(&format!("+county_admin@{COUNTY}")), "{}", audit[0].detail);
    assert!(audit[0].detail.contains(&format!("-group_leader@{}", GROUPS[0])), "{}", audit[0].detail);
    assert!(!audit[0].detail.contains("zhang") && !audit[0].detail.contains("张"), "no names in the audit log");
}

#[test]
fn the_importing_admin_cannot_change_their_own_roles() {
    let store = MemoryStore::new();
    small_world(&store);
    let me = leader(&store);
    let file = csv("users.csv", "用户名,姓名,角色,单位\nzhang.san,张三,管理员,\n");
    let opts =
        ImportOptions { update_roles: true, confirm_admin_grants: true, actor: Some(me.id), ..Default::default() };
    let r = import(&store, &file, opts);
    assert!(!r.written && !r.user_changes[0].allowed, "{r:?}");
    assert!(r.problems[0].message.contains("cannot change their own roles"), "{}", r.problems[0].message);
    assert_eq!(store.user(me.id).unwrap().unwrap(), me);
}

#[test]
fn a_display_name_change_alone_is_allowed_and_a_new_admin_needs_confirmation() {
    let store = MemoryStore::new();
    small_world(&store);
    let before = leader(&store);
    let file = csv("users.csv", "用户名,姓名,角色,单位\nzhang.san,张三丰,组长,70/A0/A1\n");
    let r = import(&store, &file, ImportOptions::default());
    assert!(r.written && r.problems.is_empty(), "{r:?}");
    assert_eq!((r.user_changes.len(), r.user_changes[0].changes_roles()), (1, false));
    assert_eq!(store.user(before.id).unwrap().unwrap().grants, before.grants);
    assert!(super::roles::audit_entries(&r, None, None).is_empty(), "no role changed");

    let admin = csv("users.csv", "用户名,姓名,角色,单位,初始密码\nli.si,李四,county_admin,,Li-initial-pw-01\n");
    let r = import(&store, &admin, ImportOptions::default());
    assert!(!r.written && r.user_changes[0].new_user && !r.user_changes[0].allowed);
    assert!(store.user_by_username("li.si").unwrap().is_none());
    let r = import(&store, &admin, ImportOptions { confirm_admin_grants: true, ..Default::default() });
    assert!(r.written, "{r:?}");
    assert_eq!(super::roles::audit_entries(&r, None, None)[0].action, crate::store::AuditAction::UserCreate);
}
