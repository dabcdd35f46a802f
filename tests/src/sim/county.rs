//! Where the simulated devices sign in: a server started in this process for a
//! self-contained run (with a county of one group and one grid head per device),
//! or an already running server whose demo credentials the devices share.

use std::path::{Path, PathBuf};

use chrono::Utc;
use fengqiao_domain::{EntityKind, Household, OrgUnit, Record, Role, RoleGrant, UnitLevel};
use fengqiao_server::demo::DemoCredential;
use fengqiao_server::store::{Store, UserRecord};
use uuid::Uuid;

use super::Login;
use crate::TestServer;

/// Password of the simulator's own grid heads (an in-process server only).
const SIM_PASSWORD: &str = "sim-password-2026";
/// Groups per simulated village.
const GROUPS_PER_VILLAGE: usize = 10;
/// Households per simulated group.
const HOUSEHOLDS_PER_GROUP: usize = 5;

/// The county policy of an in-process server: the sign-in rate limits are
/// lifted, since every simulated phone signs in from 127.0.0.1 at once (a real
/// county's phones come from many addresses).
pub const SIM_POLICY: &str = "[auth]\nlogin_per_account_per_minute = 0\nlogin_per_address_per_minute = 0\n";

/// A server run in this process on its own runtime (2 worker threads), so the
/// devices and the server share the machine as two processes would.
pub struct Spawned {
    /// The server (demo county plus the simulated town).
    pub server: TestServer,
    /// The simulated town: every device's group is under it.
    pub town: Uuid,
    /// The runtime the server runs on.
    pub runtime: tokio::runtime::Runtime,
}

impl Spawned {
    /// Starts a server on `data_dir` (demo county), adds a town with one group of
    /// five households and one grid head per device, and returns their sign-ins.
    pub fn start(data_dir: &Path, devices: usize) -> anyhow::Result<(Spawned, Vec<Login>)> {
        std::fs::create_dir_all(data_dir)?;
        std::fs::write(data_dir.join(fengqiao_server::app::POLICY_FILE), SIM_POLICY)?;
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(2).thread_name("server").enable_all().build()?;
        let server = runtime.block_on(TestServer::start(data_dir))?;
        let store = server.state()?.store.clone();
        let (town, logins) = add_sim_town(store.as_ref(), devices)?;
        Ok((Spawned { server, town, runtime }, logins))
    }

    /// Stops the server and closes its store.
    pub fn stop(mut self) -> anyhow::Result<()> {
        self.runtime.block_on(self.server.stop())
    }
}

fn county_id(store: &dyn Store) -> anyhow::Result<Uuid> {
    store
        .records_of_kind(EntityKind::Unit)?
        .into_iter()
        .find_map(|r| match r {
            Record::Unit(u) if u.level == UnitLevel::County => Some(u.id),
            _ => None,
        })
        .ok_or_else(|| anyhow::anyhow!("the server has no county"))
}

/// Writes the simulated town (through the store API) and one group leader per
/// device. Returns the town's id and the sign-ins, device by device.
fn add_sim_town(store: &dyn Store, devices: usize) -> anyhow::Result<(Uuid, Vec<Login>)> {
    let county = county_id(store)?;
    let town = OrgUnit {
        id: Uuid::now_v7(),
        code: "SIM".into(),
        name: "模拟镇".into(),
        level: UnitLevel::Town,
        parent: Some(county),
        kind: None,
        offices: vec![],
    };
    store.put_records(&[Record::Unit(town.clone())])?;
    let hash = fengqiao_server::auth::password::hash(SIM_PASSWORD).map_err(anyhow::Error::msg)?;
    let mut logins = Vec::with_capacity(devices);
    for (v, chunk) in (0..devices).collect::<Vec<_>>().chunks(GROUPS_PER_VILLAGE).enumerate() {
        let village = OrgUnit {
            id: Uuid::now_v7(),
            code: format!("V{v:03}"),
            name: format!("模拟{v}村"),
            level: UnitLevel::Village,
            parent: Some(town.id),
            kind: None,
            offices: vec![],
        };
        let mut records = vec![Record::Unit(village.clone())];
        let mut leaders = Vec::new();
        for &d in chunk {
            let group = OrgUnit {
                id: Uuid::now_v7(),
                code: format!("G{d:04}"),
                name: format!("第{d}组"),
                level: UnitLevel::Group,
                parent: Some(village.id),
                kind: None,
                offices: vec![],
            };
            records.push(Record::Unit(group.clone()));
            for h in 0..HOUSEHOLDS_PER_GROUP {
                records.push(Record::Household(Household {
                    id: Uuid::now_v7(),
                    group_id: group.id,
                    head_name: format!("户主{d}-{h}"),
                    address: format!("第{d}组{}号", h + 1),
                    phone: None,
                    code: None,
                    id_number: None,
                }));
            }
            leaders.push((d, group.id));
        }
        store.put_records(&records)?;
        for (d, group) in leaders {
            let username = format!("sim.leader{d:04}");
            let existing = store.user_by_username(&username)?;
            if existing.is_none() {
                store.create_user(&UserRecord {
                    id: Uuid::now_v7(),
                    username: username.clone(),
                    display_name: format!("模拟组长{d}"),
                    password_hash: hash.clone(),
                    grants: vec![RoleGrant { role: Role::GroupLeader, unit_id: group }],
                    disabled: false,
                    must_change_password: false,
                    created_at: Utc::now(),
                })?;
            }
            logins.push(Login { username, password: SIM_PASSWORD.into() });
        }
    }
    Ok((town.id, logins))
}

/// Sign-ins for `devices` phones on a running server: its demo group leaders
/// (`leader.t{t}v{v}g{g}` from `demo-credentials.json`), shared round robin.
/// Each phone still has its own store, device id and session.
pub fn demo_logins(credentials: &PathBuf, devices: usize) -> anyhow::Result<Vec<Login>> {
    let bytes = std::fs::read(credentials).map_err(|e| {
        anyhow::anyhow!("cannot read {}: {e} (pass --credentials <data>/demo-credentials.json)", credentials.display())
    })?;
    let creds: Vec<DemoCredential> = serde_json::from_slice(&bytes)?;
    let leaders: Vec<&DemoCredential> = creds.iter().filter(|c| c.role == Role::GroupLeader.code()).collect();
    if leaders.is_empty() {
        anyhow::bail!("{} has no group leaders", credentials.display());
    }
    Ok((0..devices)
        .map(|i| {
            let c = leaders[i % leaders.len()];
            Login { username: c.username.clone(), password: c.password.clone() }
        })
        .collect())
}
