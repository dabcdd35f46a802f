//! The consistency check: the server holds exactly what the devices recorded —
//! every record once, nothing missing, nothing extra.
//!
//! The server's side is read from its change feed before and after the run (the
//! records new in it are the run's), either straight from the store of an
//! in-process server or over HTTP as each user the devices signed in as.

use std::collections::{BTreeMap, HashMap, HashSet};

use fengqiao_domain::wire::{Change, ChangeAction};
use fengqiao_domain::{EntityKind, Role, RoleGrant};
use fengqiao_server::store::Store;
use serde_json::Value;
use uuid::Uuid;

use super::Login;

/// Puts seen in a feed, per record.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    puts: HashMap<(EntityKind, Uuid), u64>,
}

impl Snapshot {
    fn add(&mut self, c: &Change) {
        if c.action == ChangeAction::Put {
            *self.puts.entry((c.entity, c.id)).or_default() += 1;
        }
    }

    /// Merges another user's view (scopes may overlap: the larger count wins).
    fn merge(&mut self, other: Snapshot) {
        for (k, n) in other.puts {
            let e = self.puts.entry(k).or_default();
            *e = (*e).max(n);
        }
    }

    /// Records seen.
    pub fn len(&self) -> usize {
        self.puts.len()
    }

    /// True when nothing was seen.
    pub fn is_empty(&self) -> bool {
        self.puts.is_empty()
    }
}

/// Everything under `unit` in the store's feed, as a group leader there sees it
/// (visits, disputes, photos' attachments, units, households).
pub fn snapshot_store(store: &dyn Store, unit: Uuid) -> anyhow::Result<Snapshot> {
    let grants = [RoleGrant { role: Role::GroupLeader, unit_id: unit }];
    let mut snap = Snapshot::default();
    let mut after = 0;
    loop {
        let page = store.pull(&grants, None, after, 1000)?;
        for c in &page.changes {
            snap.add(c);
        }
        after = page.position;
        if !page.has_more {
            return Ok(snap);
        }
    }
}

/// Each distinct user's whole feed over HTTP (`/v1/sync/pull` from the start).
pub async fn snapshot_api(url: &str, logins: &[Login]) -> anyhow::Result<Snapshot> {
    let http = reqwest::Client::new();
    let mut users: Vec<&Login> = logins.iter().collect();
    users.sort_by(|a, b| a.username.cmp(&b.username));
    users.dedup_by(|a, b| a.username == b.username);
    let mut all = Snapshot::default();
    for login in users {
        let token = sign_in(&http, url, login).await?;
        let mut snap = Snapshot::default();
        let mut cursor = String::new();
        loop {
            let page: Value = http
                .get(format!("{url}/v1/sync/pull"))
                .query(&[("cursor", cursor.as_str()), ("limit", "1000")])
                .bearer_auth(&token)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            for v in page["changes"].as_array().cloned().unwrap_or_default() {
                if let Some(c) = Change::from_json_lenient(v) {
                    snap.add(&c);
                }
            }
            cursor = page["next_cursor"].as_str().unwrap_or_default().to_string();
            if !page["has_more"].as_bool().unwrap_or(false) {
                break;
            }
        }
        all.merge(snap);
    }
    Ok(all)
}

async fn sign_in(http: &reqwest::Client, url: &str, login: &Login) -> anyhow::Result<String> {
    for _ in 0..120 {
        let res = crate::api::send_login(http, url, &login.username, &login.password, None).await?;
        if res.status() == reqwest::StatusCode::TOO_MANY_REQUESTS {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            continue;
        }
        let body: Value = res.error_for_status()?.json().await?;
        return body["access_token"].as_str().map(String::from).ok_or_else(|| anyhow::anyhow!("no access token"));
    }
    anyhow::bail!("sign-in of {} stayed rate-limited", login.username)
}

/// The kinds the simulated phones record. Records of other kinds new on the
/// server are derived by it (a dispute's flow-table entry) and only counted.
pub const DEVICE_KINDS: [EntityKind; 3] = [EntityKind::Visit, EntityKind::Dispute, EntityKind::Attachment];

/// The check's result.
#[derive(Debug, Clone, Default)]
pub struct Consistency {
    /// Records the devices recorded.
    pub recorded: usize,
    /// Records of the phones' kinds new on the server since the run began.
    pub new_on_server: usize,
    /// Recorded but not on the server.
    pub missing: Vec<(EntityKind, Uuid)>,
    /// New on the server but recorded by no device.
    pub unexpected: Vec<(EntityKind, Uuid)>,
    /// Recorded once but fed more than once (applied twice).
    pub duplicated: Vec<(EntityKind, Uuid)>,
    /// New records by kind (derived kinds included).
    pub by_kind: BTreeMap<String, usize>,
    /// New records of kinds the server derives (not compared).
    pub derived: usize,
}

impl Consistency {
    /// True when the server holds exactly what the devices recorded.
    pub fn ok(&self) -> bool {
        self.missing.is_empty() && self.unexpected.is_empty() && self.duplicated.is_empty()
    }
}

/// Compares the records new between `before` and `after` with what was recorded.
pub fn compare(before: &Snapshot, after: &Snapshot, recorded: &[(EntityKind, Uuid)]) -> Consistency {
    let recorded_set: HashSet<(EntityKind, Uuid)> = recorded.iter().copied().collect();
    let mut out = Consistency { recorded: recorded_set.len(), ..Consistency::default() };
    for (key, puts) in &after.puts {
        if before.puts.contains_key(key) {
            continue;
        }
        *out.by_kind.entry(format!("{:?}", key.0)).or_default() += 1;
        if !DEVICE_KINDS.contains(&key.0) {
            out.derived += 1;
            continue;
        }
        out.new_on_server += 1;
        if !recorded_set.contains(key) {
            out.unexpected.push(*key);
        } else if *puts > 1 {
            out.duplicated.push(*key);
        }
    }
    for key in &recorded_set {
        if !after.puts.contains_key(key) {
            out.missing.push(*key);
        }
    }
    if recorded_set.len() != recorded.len() {
        // The same id recorded twice on the phones would itself be a bug.
        let mut seen = HashSet::new();
        out.duplicated.extend(recorded.iter().filter(|k| !seen.insert(**k)).copied());
    }
    out
}
