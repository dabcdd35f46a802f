//! The demo county: 2 towns × 3 villages × 3 groups, households, and at least one
//! user per role, with their passwords written to `demo-credentials.json` in the
//! data dir so a newcomer (or a script) can sign in as each role.

use std::path::Path;

use chrono::Utc;
use fengqiao_domain::{Household, OrgUnit, Record, Role, RoleGrant, UnitLevel};
use rand::distributions::Alphanumeric;
use rand::Rng;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::password;
use crate::store::{Store, UserRecord};

/// File name of the demo credentials inside the data dir.
pub const CREDENTIALS_FILE: &str = "demo-credentials.json";

/// One line of `demo-credentials.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoCredential {
    /// Sign-in name.
    pub username: String,
    /// Password (demo only).
    pub password: String,
    /// Role code, e.g. `group_leader`.
    pub role: String,
    /// The unit the role is bound to, as a path of names (e.g. `示范旗/红旗镇/东升村/第一组`).
    pub unit: String,
    /// The unit's id.
    pub unit_id: Uuid,
}

/// What the seed wrote.
#[derive(Debug, Clone, Copy)]
pub struct Seeded {
    /// Users created.
    pub users: usize,
    /// Households created.
    pub households: usize,
}

const TOWNS: [(&str, [&str; 3]); 2] =
    [("红旗镇", ["东升村", "前进村", "新华村"]), ("团结镇", ["永安村", "和平村", "兴隆村"])];
const GROUPS: [&str; 3] = ["第一组", "第二组", "第三组"];
const SURNAMES: [&str; 12] = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙"];
const GIVEN: [&str; 12] =
    ["建国", "秀英", "桂兰", "志强", "玉梅", "海军", "春花", "永福", "淑珍", "国华", "丽娟", "长林"];
/// Households per group in the demo.
pub const HOUSEHOLDS_PER_GROUP: usize = 5;

fn demo_password() -> String {
    rand::thread_rng().sample_iter(&Alphanumeric).take(14).map(char::from).collect()
}

/// Seeds the demo county into `store` and writes the credentials file into `data_dir`.
pub fn seed(store: &dyn Store, data_dir: &Path) -> anyhow::Result<Seeded> {
    let mut records = Vec::new();
    let mut people: Vec<(String, String, Role, Uuid, String)> = Vec::new(); // username, display, role, unit, unit path
    let county_name = "示范旗";
    let county = OrgUnit {
        id: Uuid::now_v7(),
        code: "C01".into(),
        name: county_name.into(),
        level: UnitLevel::County,
        parent: None,
        kind: None,
        offices: vec![],
    };
    people.push(("admin".into(), "旗管理员".into(), Role::CountyAdmin, county.id, county_name.into()));
    records.push(Record::Unit(county.clone()));
    let mut households = 0;
    for (ti, (town_name, villages)) in TOWNS.iter().enumerate() {
        let t = ti + 1;
        let town = OrgUnit {
            id: Uuid::now_v7(),
            code: format!("T{t:02}"),
            name: (*town_name).into(),
            level: UnitLevel::Town,
            parent: Some(county.id),
            kind: None,
            offices: vec![],
        };
        let town_path = format!("{county_name}/{town_name}");
        for (role, who) in
            [(Role::JudicialOffice, "judicial"), (Role::TownCommittee, "committee"), (Role::Mediator, "mediator")]
        {
            people.push((
                format!("{who}.t{t}"),
                format!("{town_name}{}", role.label_zh()),
                role,
                town.id,
                town_path.clone(),
            ));
        }
        records.push(Record::Unit(town.clone()));
        for (vi, village_name) in villages.iter().enumerate() {
            let v = vi + 1;
            let village = OrgUnit {
                id: Uuid::now_v7(),
                code: format!("V{v:02}"),
                name: (*village_name).into(),
                level: UnitLevel::Village,
                parent: Some(town.id),
                kind: None,
                offices: vec![],
            };
            let village_path = format!("{town_path}/{village_name}");
            for (role, who) in [
                (Role::VillageSecretary, "secretary"),
                (Role::FirstSecretary, "firstsec"),
                (Role::VillageCadre, "cadre"),
                (Role::Mediator, "mediator"),
                (Role::LegalAdvisor, "advisor"),
            ] {
                people.push((
                    format!("{who}.t{t}v{v}"),
                    format!("{village_name}{}", role.label_zh()),
                    role,
                    village.id,
                    village_path.clone(),
                ));
            }
            records.push(Record::Unit(village.clone()));
            for (gi, group_name) in GROUPS.iter().enumerate() {
                let g = gi + 1;
                let group = OrgUnit {
                    id: Uuid::now_v7(),
                    code: format!("G{g:02}"),
                    name: (*group_name).into(),
                    level: UnitLevel::Group,
                    parent: Some(village.id),
                    kind: None,
                    offices: vec![],
                };
                people.push((
                    format!("leader.t{t}v{v}g{g}"),
                    format!("{village_name}{group_name}组长"),
                    Role::GroupLeader,
                    group.id,
                    format!("{village_path}/{group_name}"),
                ));
                records.push(Record::Unit(group.clone()));
                for h in 0..HOUSEHOLDS_PER_GROUP {
                    let n = (ti * 9 + vi * 3 + gi) * HOUSEHOLDS_PER_GROUP + h;
                    let name =
                        format!("{}{}", SURNAMES[n % SURNAMES.len()], GIVEN[(n / SURNAMES.len() + n) % GIVEN.len()]);
                    records.push(Record::Household(Household {
                        id: Uuid::now_v7(),
                        group_id: group.id,
                        head_name: name,
                        address: format!("{group_name}{}号", h + 1),
                        phone: Some(format!("1390000{:04}", n)),
                        code: None,
                        id_number: None,
                    }));
                    households += 1;
                }
            }
        }
    }
    store.put_records(&records)?;

    let mut creds = Vec::with_capacity(people.len());
    for (username, display_name, role, unit_id, unit) in people {
        let pw = demo_password();
        let hash = password::hash(&pw).map_err(anyhow::Error::msg)?;
        store.create_user(&UserRecord {
            id: Uuid::now_v7(),
            username: username.clone(),
            display_name,
            password_hash: hash,
            grants: vec![RoleGrant { role, unit_id }],
            disabled: false,
            must_change_password: false,
            created_at: Utc::now(),
        })?;
        creds.push(DemoCredential { username, password: pw, role: role.code().into(), unit, unit_id });
    }
    write_credentials(data_dir, &creds)?;
    Ok(Seeded { users: creds.len(), households })
}

fn write_credentials(data_dir: &Path, creds: &[DemoCredential]) -> anyhow::Result<()> {
    let path = data_dir.join(CREDENTIALS_FILE);
    let json = serde_json::to_vec_pretty(creds)?;
    let tmp = data_dir.join(format!("{CREDENTIALS_FILE}.tmp"));
    std::fs::write(&tmp, json)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
    }
    std::fs::rename(&tmp, &path)?;
    Ok(())
}

/// Reads `demo-credentials.json` from a data dir.
pub fn read_credentials(data_dir: &Path) -> anyhow::Result<Vec<DemoCredential>> {
    let bytes = std::fs::read(data_dir.join(CREDENTIALS_FILE))?;
    Ok(serde_json::from_slice(&bytes)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{AccountStore, MemoryStore, SyncStore};
    use fengqiao_domain::EntityKind;

    #[test]
    fn demo_has_every_role_and_the_credentials_work() {
        let dir = tempfile::tempdir().unwrap();
        let store = MemoryStore::new();
        let s = seed(&store, dir.path()).unwrap();
        assert_eq!(s.households, 2 * 3 * 3 * HOUSEHOLDS_PER_GROUP);
        let creds = read_credentials(dir.path()).unwrap();
        assert_eq!(creds.len(), s.users);
        for role in Role::ALL {
            assert!(creds.iter().any(|c| c.role == role.code()), "no demo user for {role:?}");
        }
        let c = creds.iter().find(|c| c.username == "leader.t1v1g1").unwrap();
        let u = store.user_by_username(&c.username).unwrap().unwrap();
        assert!(password::verify(&c.password, &u.password_hash));
        assert_eq!(u.grants[0].unit_id, c.unit_id);
        assert!(matches!(
            store.record(EntityKind::Unit, c.unit_id).unwrap(),
            Some(Record::Unit(OrgUnit { level: UnitLevel::Group, .. }))
        ));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(CREDENTIALS_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "credentials readable only by the owner");
        }
    }
}
