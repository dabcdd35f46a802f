//! The simulated county on the server's store: the demo county's shape (two
//! towns, three villages each, three groups a village, five households a
//! group; a user for every field role of every unit: 52 phones), every user with one password
//! hashed with argon2's lightest parameters so that signing fifty phones in
//! costs milliseconds, and the server's state built over that store.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use chrono::Utc;
use fengqiao_domain::policy::Policy;
use fengqiao_domain::{Household, OrgUnit, Record, Role, RoleGrant, UnitLevel};
use fengqiao_server::http::AppState;
use fengqiao_server::store::{AccountStore, MemoryStore, Store, SyncStore, UserRecord};
use uuid::Uuid;

/// Every simulated user's password.
pub const PASSWORD: &str = "dst-password-2026";

/// The county policy: sign-in limits lifted (each phone signs in once, but a
/// seed may sign many in at the same simulated instant).
pub const POLICY: &str = "[auth]\nlogin_per_account_per_minute = 0\nlogin_per_address_per_minute = 0\n";

/// A user of the county.
#[derive(Debug, Clone)]
pub struct Person {
    /// Sign-in name, e.g. `secretary.t1v2`.
    pub username: String,
    /// Id.
    pub id: Uuid,
    /// Role.
    pub role: Role,
    /// The unit of the role.
    pub unit: Uuid,
}

/// The county as written into the store.
#[derive(Debug, Clone)]
pub struct County {
    /// Every user, in a fixed order.
    pub people: Vec<Person>,
    /// Households by group.
    pub households: Vec<(Uuid, Vec<Uuid>)>,
}

impl County {
    /// The households of `group`.
    pub fn households_of(&self, group: Uuid) -> &[Uuid] {
        self.households.iter().find(|(g, _)| *g == group).map(|(_, h)| h.as_slice()).unwrap_or(&[])
    }
}

/// The policy the server applies.
pub fn policy() -> anyhow::Result<Arc<Policy>> {
    Ok(Arc::new(Policy::from_toml(POLICY).map_err(|e| anyhow::anyhow!("{e}"))?))
}

fn cheap_hash() -> anyhow::Result<String> {
    static HASH: OnceLock<String> = OnceLock::new();
    if let Some(h) = HASH.get() {
        return Ok(h.clone());
    }
    use argon2::password_hash::{PasswordHasher, SaltString};
    let params = argon2::Params::new(8, 1, 1, None).map_err(|e| anyhow::anyhow!("{e}"))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let salt = SaltString::encode_b64(b"fengqiao-dst-salt").map_err(|e| anyhow::anyhow!("{e}"))?;
    let h = argon.hash_password(PASSWORD.as_bytes(), &salt).map_err(|e| anyhow::anyhow!("{e}"))?.to_string();
    Ok(HASH.get_or_init(|| h).clone())
}

/// A fresh memory store holding the county.
pub fn seed() -> anyhow::Result<(Arc<MemoryStore>, County)> {
    let store = Arc::new(MemoryStore::new());
    let mut records = Vec::new();
    let mut people = Vec::new();
    let mut households = Vec::new();
    let unit = |code: String, name: String, level, parent| OrgUnit {
        id: Uuid::now_v7(),
        code,
        name,
        level,
        parent,
        kind: None,
        offices: vec![],
    };
    let county = unit("C01".into(), "模拟旗".into(), UnitLevel::County, None);
    records.push(Record::Unit(county.clone()));
    let mut person = |username: String, role, unit: Uuid| {
        people.push(Person { username, id: Uuid::now_v7(), role, unit });
    };
    for t in 1..=2 {
        let town = unit(format!("T{t:02}"), format!("模拟{t}镇"), UnitLevel::Town, Some(county.id));
        records.push(Record::Unit(town.clone()));
        for (role, who) in [(Role::JudicialOffice, "judicial"), (Role::TownCommittee, "committee")] {
            person(format!("{who}.t{t}"), role, town.id);
        }
        for v in 1..=3 {
            let village = unit(format!("V{v:02}"), format!("模拟{t}镇{v}村"), UnitLevel::Village, Some(town.id));
            records.push(Record::Unit(village.clone()));
            for (role, who) in [
                (Role::VillageSecretary, "secretary"),
                (Role::FirstSecretary, "firstsec"),
                (Role::VillageCadre, "cadre"),
                (Role::Mediator, "mediator"),
                (Role::LegalAdvisor, "advisor"),
            ] {
                person(format!("{who}.t{t}v{v}"), role, village.id);
            }
            for g in 1..=3 {
                let group = unit(format!("G{g:02}"), format!("第{g}组"), UnitLevel::Group, Some(village.id));
                records.push(Record::Unit(group.clone()));
                person(format!("leader.t{t}v{v}g{g}"), Role::GroupLeader, group.id);
                let mut hs = Vec::new();
                for h in 0..5 {
                    let id = Uuid::now_v7();
                    hs.push(id);
                    records.push(Record::Household(Household {
                        id,
                        group_id: group.id,
                        head_name: format!("户主{t}{v}{g}{h}"),
                        address: format!("第{g}组{}号", h + 1),
                        phone: None,
                        code: None,
                        id_number: None,
                    }));
                }
                households.push((group.id, hs));
            }
        }
    }
    store.put_records(&records)?;
    let hash = cheap_hash()?;
    for p in &people {
        store.create_user(&UserRecord {
            id: p.id,
            username: p.username.clone(),
            display_name: p.username.clone(),
            password_hash: hash.clone(),
            grants: vec![RoleGrant { role: p.role, unit_id: p.unit }],
            disabled: false,
            must_change_password: false,
            created_at: Utc::now(),
        })?;
    }
    Ok((store, County { people, households }))
}

/// The server's state over `store` (what a restart rebuilds; the store is
/// what survives it). `dir` holds the photo folder and the backup settings.
pub fn server_state(store: Arc<MemoryStore>, policy: Arc<Policy>, dir: &Path) -> anyhow::Result<AppState> {
    let store: Arc<dyn Store> = store;
    store.keep_policy(&policy)?;
    let auth = Arc::new(fengqiao_server::auth::AuthService::new(store.clone(), policy.clone())?);
    let blobs: Arc<dyn fengqiao_server::tus::BlobStore> = Arc::new(fengqiao_server::tus::ObjectBlobStore::open(
        &fengqiao_server::tus::PhotoLocation::Local(dir.join("photos")),
    )?);
    let backups = Arc::new(fengqiao_server::backup::schedule::Backups::new(dir));
    Ok(AppState {
        store,
        auth,
        blobs,
        busy: Arc::new(fengqiao_server::tus::Busy::default()),
        login_limiter: Arc::new(fengqiao_server::auth::ratelimit::LoginLimiter::new(&policy.auth)),
        disk: Arc::new(fengqiao_server::disk::DiskWatch::new(dir.to_path_buf(), policy.storage.clone())),
        metrics: Arc::new(fengqiao_server::metrics::Metrics::new(None)),
        backup_clock: backups.clone(),
        backups,
        bell: Arc::default(),
        desk: Arc::new(fengqiao_server::desk::session::DeskSessions::default()),
        policy,
    })
}
