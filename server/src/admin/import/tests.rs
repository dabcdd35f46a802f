//! The import against a small world: unit rows refused for a `/` are counted,
//! and a file cannot quietly change an existing user's roles.

use fengqiao_domain::policy::Policy;
use fengqiao_domain::{Role, RoleGrant};
use uuid::Uuid;

use super::{run, ImportOptions, ImportReport, InputFile};
use crate::store::conformance::{small_world, COUNTY, GROUPS, TOWN};
use crate::store::{AccountStore, MemoryStore, Store, UserRecord};

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

fn unit_of(store: &dyn Store, id: Uuid) -> fengqiao_domain::OrgUnit {
    match store.record(fengqiao_domain::EntityKind::Unit, id).unwrap() {
        Some(fengqiao_domain::Record::Unit(u)) => u,
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_kind_of_town_and_village_and_the_offices_serving_towns_are_imported() {
    use fengqiao_domain::{UnitKind, UnitLevel};
    let store = MemoryStore::new();
    small_world(&store);
    let file = csv(
        "units.csv",
        "级别,上级编码,编码,名称,服务乡镇\n\
         苏木,,S1,巴音苏木,\n\
         乡,,X1,团结乡,\n\
         subdistrict,,J1,城关街道,\n\
         镇,,Z1,陕坝镇,\n\
         嘎查,S1,G1,巴音嘎查,\n\
         gacha,S1,G2,乌兰嘎查,\n\
         社区,J1,C1,新华社区,\n\
         community,J1,C2,东风社区,\n\
         村,X1,V1,永丰村,\n\
         sumu,,S2,沙日苏木,\n\
         township,,X2,和胜乡,\n\
         组,S1/G1,G01,一组,\n\
         中心司法所,,SF1,中心司法所,S1、X1、70\n\
         judicial_office,,SF2,城关司法所,\"J1,70\"\n",
    );
    let r = import(&store, &file, ImportOptions::default());
    assert!(r.written && r.problems.is_empty(), "{:?}", r.problems);
    assert_eq!(r.units.created, 14);
    let county = |key: &str| super::validate::derived_id(COUNTY, "unit", key);
    let kinds = [
        ("S1", UnitLevel::Town, Some(UnitKind::Sumu), "苏木"),
        ("X1", UnitLevel::Town, Some(UnitKind::Township), "乡"),
        ("J1", UnitLevel::Town, Some(UnitKind::Subdistrict), "街道"),
        ("Z1", UnitLevel::Town, None, "镇"),
        ("S1/G1", UnitLevel::Village, Some(UnitKind::Gacha), "嘎查"),
        ("S1/G2", UnitLevel::Village, Some(UnitKind::Gacha), "嘎查"),
        ("J1/C1", UnitLevel::Village, Some(UnitKind::Community), "社区"),
        ("J1/C2", UnitLevel::Village, Some(UnitKind::Community), "社区"),
        ("X1/V1", UnitLevel::Village, None, "村"),
        ("S2", UnitLevel::Town, Some(UnitKind::Sumu), "苏木"),
        ("X2", UnitLevel::Town, Some(UnitKind::Township), "乡"),
        ("SF1", UnitLevel::JudicialOffice, None, "司法所"),
    ];
    for (path, level, kind, label) in kinds {
        let u = unit_of(&store, county(path));
        assert_eq!((u.level, u.kind, u.label_zh()), (level, kind, label), "{path}");
    }
    let (sf1, sf2) = (county("SF1"), county("SF2"));
    assert_eq!(unit_of(&store, sf1).parent, Some(COUNTY), "an office hangs under the county");
    let mut both = vec![sf1, sf2];
    both.sort();
    assert_eq!(unit_of(&store, TOWN).offices, both, "an existing town served by two offices");
    assert_eq!(unit_of(&store, county("S1")).offices, vec![sf1]);
    assert_eq!(unit_of(&store, county("X1")).offices, vec![sf1]);
    assert_eq!(unit_of(&store, county("J1")).offices, vec![sf2]);
    assert!(unit_of(&store, county("Z1")).offices.is_empty(), "no office unit: the town stands for its office");

    // staff bind to an office
    let users = csv("users.csv", "用户名,姓名,角色,单位,初始密码\nsf.wang,王司法,司法所,SF1,Sf-initial-pw-01\n");
    let r = import(&store, &users, ImportOptions::default());
    assert!(r.written, "{:?}", r.problems);
    let staff = store.user_by_username("sf.wang").unwrap().unwrap();
    assert_eq!(staff.grants, vec![RoleGrant { role: Role::JudicialOffice, unit_id: sf1 }]);

    // the same file again changes nothing; an office's row states all it serves
    let again = import(&store, &file, ImportOptions::default());
    assert_eq!((again.units.created, again.units.updated), (0, 0), "{:?}", again.units);
    let fewer = csv("units.csv", "级别,上级编码,编码,名称,服务乡镇\n司法所,,SF1,中心司法所,S1\n");
    let r = import(&store, &fewer, ImportOptions::default());
    assert!(r.written && r.problems.is_empty(), "{:?}", r.problems);
    assert_eq!(unit_of(&store, TOWN).offices, vec![sf2], "SF1 no longer serves town 70; SF2 still does");
    assert!(unit_of(&store, county("X1")).offices.is_empty());
    assert_eq!(unit_of(&store, county("S1")).offices, vec![sf1]);
}

#[test]
fn office_rows_name_towns_only_and_only_office_rows_name_towns() {
    let store = MemoryStore::new();
    small_world(&store);
    let file = csv(
        "units.csv",
        "级别,上级编码,编码,名称,服务乡镇\n\
         司法所,,SF1,一所,70/A0\n\
         司法所,,SF2,二所,\n\
         嘎查,70,G9,某嘎查,70\n\
         司法所,70,SF3,三所,70\n\
         司法所,,SF4,四所,NOPE\n",
    );
    let r = import(&store, &file, ImportOptions { dry_run: true, ..Default::default() });
    let msgs: Vec<(u32, &str)> = r.problems.iter().map(|p| (p.row, p.message.as_str())).collect();
    assert_eq!(r.units.invalid, 5, "{msgs:?}");
    assert!(msgs.iter().any(|(row, m)| *row == 2 && m.contains("not a town")), "{msgs:?}");
    assert!(msgs.iter().any(|(row, m)| *row == 3 && m.contains("at least one town")), "{msgs:?}");
    assert!(msgs.iter().any(|(row, m)| *row == 4 && m.contains("only a 司法所")), "{msgs:?}");
    assert!(msgs.iter().any(|(row, m)| *row == 5 && m.contains("belongs under")), "{msgs:?}");
    assert!(msgs.iter().any(|(row, m)| *row == 6 && m.contains("not a town")), "{msgs:?}");
}
