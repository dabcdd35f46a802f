//! Checking every row against the store and the rest of the file, and planning
//! what to write. Invalid rows never enter the plan; a row referring to a unit
//! that is unknown (or invalid) is itself invalid.

use std::collections::HashMap;

use fengqiao_domain::id_number::IdNumber;
use fengqiao_domain::policy::Policy;
use fengqiao_domain::{EntityKind, Household, OrgUnit, Record, Role, RoleGrant, UnitLevel};
use uuid::Uuid;

use super::read::{column_letter, Field, Table, LOSSY};
use super::{roles, ImportOptions, ImportProblem, Kind, Plan, PlannedUser, Status};
use crate::admin::users::check_username;
use crate::auth::password;
use crate::store::{Store, StoreResult};

/// Namespace of the ids an import derives (v5 of county id + kind + key).
pub const NAMESPACE: Uuid = Uuid::from_u128(0x5f1e_9a2c_7b3d_4e60_8f14_c0a5_d2b3_e4f6);

/// The stable id of an imported thing: the same county and key always give the same id.
pub fn derived_id(county: Uuid, what: &str, key: &str) -> Uuid {
    Uuid::new_v5(&NAMESPACE, format!("{county}/{what}/{key}").as_bytes())
}

fn level_zh(l: UnitLevel) -> &'static str {
    match l {
        UnitLevel::County => "旗(县)",
        UnitLevel::Town => "镇(乡/苏木/街道)",
        UnitLevel::Village => "村(嘎查/社区)",
        other => other.label_zh(),
    }
}

/// A role by code, Chinese label or common short name.
pub fn parse_role(s: &str) -> Option<Role> {
    let t = s.trim();
    let extra: &[(&str, Role)] = &[
        ("组长", Role::GroupLeader),
        ("网格员", Role::GroupLeader),
        ("村两委", Role::VillageCadre),
        ("调解员", Role::Mediator),
        ("调委会", Role::TownCommittee),
        ("管理员", Role::CountyAdmin),
    ];
    Role::ALL
        .into_iter()
        .find(|r| r.code().eq_ignore_ascii_case(t) || r.label_zh() == t)
        .or_else(|| extra.iter().find(|(n, _)| *n == t).map(|(_, r)| *r))
}

fn norm_path(s: &str) -> String {
    s.split(['/', '／']).map(str::trim).filter(|p| !p.is_empty()).collect::<Vec<_>>().join("/")
}

struct Rows<'a> {
    t: &'a Table,
    problems: &'a mut Vec<ImportProblem>,
}

impl Rows<'_> {
    fn get(&self, cells: &[String], f: Field) -> String {
        self.t.col(f).and_then(|c| cells.get(c)).cloned().unwrap_or_default()
    }
    fn report(&mut self, row: u32, f: Field, message: impl Into<String>) {
        let col = self.t.col(f);
        self.problems.push(ImportProblem {
            file: self.t.file.clone(),
            sheet: self.t.sheet.clone(),
            row,
            column: col.map(column_letter).unwrap_or_default(),
            header: col.and_then(|c| self.t.headers.get(c)).cloned().unwrap_or_default(),
            message: message.into(),
        });
    }
    /// A cell's text, reporting a number too long for the spreadsheet to keep.
    fn text(&mut self, row: u32, cells: &[String], f: Field) -> Option<String> {
        let v = self.get(cells, f);
        if v == LOSSY {
            self.report(row, f, "a number too long for a spreadsheet to keep exactly: format the cell as text");
            return None;
        }
        Some(v)
    }
    fn required(&mut self, row: u32, cells: &[String], f: Field, what: &str) -> Option<String> {
        let v = self.text(row, cells, f)?;
        if v.is_empty() {
            self.report(row, f, format!("{what} is missing"));
            return None;
        }
        if v.chars().count() > 64 {
            self.report(row, f, format!("{what}: at most 64 characters"));
            return None;
        }
        Some(v)
    }
}

/// Units by code path ("" is the county).
struct Tree {
    county: Option<OrgUnit>,
    by_path: HashMap<String, OrgUnit>,
    existing: HashMap<Uuid, OrgUnit>,
}

fn load_tree(store: &dyn Store) -> StoreResult<Tree> {
    let units: Vec<OrgUnit> = store
        .records_of_kind(EntityKind::Unit)?
        .into_iter()
        .filter_map(|r| if let Record::Unit(u) = r { Some(u) } else { None })
        .collect();
    let existing: HashMap<Uuid, OrgUnit> = units.iter().map(|u| (u.id, u.clone())).collect();
    let county = units.iter().find(|u| u.level == UnitLevel::County && u.parent.is_none()).cloned();
    let mut by_path = HashMap::new();
    if let Some(c) = &county {
        by_path.insert(String::new(), c.clone());
        let mut frontier = vec![(c.id, String::new())];
        while let Some((id, path)) = frontier.pop() {
            for u in units.iter().filter(|u| u.parent == Some(id)) {
                let p = if path.is_empty() { u.code.clone() } else { format!("{path}/{}", u.code) };
                if !by_path.contains_key(&p) {
                    by_path.insert(p.clone(), u.clone());
                    frontier.push((u.id, p));
                }
            }
        }
    }
    Ok(Tree { county, by_path, existing })
}

fn status<T: PartialEq>(old: Option<&T>, new: &T) -> Status {
    match old {
        None => Status::Create,
        Some(o) if o == new => Status::Unchanged,
        Some(_) => Status::Update,
    }
}

#[path = "validate_units.rs"]
mod units;
use units::plan_units;

/// Checks every table and plans the writes. Problems are appended in file order.
pub fn plan(
    tables: &[Table],
    store: &dyn Store,
    policy: &Policy,
    opts: &ImportOptions,
    problems: &mut Vec<ImportProblem>,
) -> StoreResult<Plan> {
    let mut tree = load_tree(store)?;
    let mut plan = Plan::default();
    plan_units(tables, &mut tree, &mut plan, problems);
    let Some(county) = tree.county.clone() else {
        if let Some(t) = tables.first() {
            problems.push(ImportProblem {
                file: t.file.clone(),
                sheet: String::new(),
                row: 0,
                column: String::new(),
                header: String::new(),
                message: "the store has no county yet: add a unit row of level 旗 (county)".into(),
            });
        }
        return Ok(plan);
    };
    plan_households(tables, store, &tree, county.id, &mut plan, problems)?;
    plan_users(tables, store, policy, opts, &tree, county.id, &mut plan, problems)?;
    Ok(plan)
}

/// A path as people read it (the county is shown as 旗).
fn display_path(p: &str) -> String {
    if p.is_empty() {
        "(county)".into()
    } else {
        p.to_string()
    }
}

fn resolve<'t>(tree: &'t Tree, path: &str) -> Option<&'t OrgUnit> {
    tree.by_path.get(&norm_path(path))
}

fn plan_households(
    tables: &[Table],
    store: &dyn Store,
    tree: &Tree,
    county: Uuid,
    plan: &mut Plan,
    problems: &mut Vec<ImportProblem>,
) -> StoreResult<()> {
    if !tables.iter().any(|t| t.kind == Kind::Households) {
        return Ok(());
    }
    let existing: HashMap<Uuid, Household> = store
        .records_of_kind(EntityKind::Household)?
        .into_iter()
        .filter_map(|r| if let Record::Household(h) = r { Some((h.id, h)) } else { None })
        .collect();
    let mut phones: HashMap<String, (Uuid, Option<u32>)> = HashMap::new();
    let mut ids: HashMap<String, (Uuid, Option<u32>)> = HashMap::new();
    for h in existing.values() {
        if let Some(p) = &h.phone {
            phones.insert(p.clone(), (h.id, None));
        }
        if let Some(n) = &h.id_number {
            ids.insert(n.as_str().to_string(), (h.id, None));
        }
    }
    let mut codes: HashMap<String, u32> = HashMap::new();
    for t in tables.iter().filter(|t| t.kind == Kind::Households) {
        let mut r = Rows { t, problems };
        for (row, cells) in &t.rows {
            let row = *row;
            let before = r.problems.len();
            let code = r.required(row, cells, Field::HouseholdCode, "户编码 (household code)");
            let id = code.as_deref().map(|c| derived_id(county, "household", c));
            if let Some(c) = &code {
                match codes.get(c) {
                    Some(first) => {
                        r.report(row, Field::HouseholdCode, format!("duplicate household code {c} (also row {first})"))
                    }
                    None => {
                        codes.insert(c.clone(), row);
                    }
                }
            }
            let group = r.required(row, cells, Field::Group, "组 (group)").and_then(|g| match resolve(tree, &g) {
                Some(u) if u.level == UnitLevel::Group => Some(u.id),
                Some(u) => {
                    r.report(row, Field::Group, format!("{} is a {}, not a group", norm_path(&g), u.label_zh()));
                    None
                }
                None => {
                    r.report(row, Field::Group, format!("unknown group {}", norm_path(&g)));
                    None
                }
            });
            let head = r.required(row, cells, Field::HeadName, "户主 (head's name)");
            let address = r.text(row, cells, Field::Address).unwrap_or_default();
            let phone = r.text(row, cells, Field::Phone).filter(|p| !p.is_empty()).and_then(|p| {
                let digits: String = p.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
                if !(7..=12).contains(&digits.len()) || !digits.chars().all(|c| c.is_ascii_digit()) {
                    r.report(row, Field::Phone, "a phone number is 7 to 12 digits");
                    return None;
                }
                match phones.get(&digits) {
                    Some((other, Some(first))) if Some(*other) != id => {
                        r.report(row, Field::Phone, format!("duplicate phone (also row {first})"))
                    }
                    Some((other, None)) if Some(*other) != id => {
                        r.report(row, Field::Phone, "duplicate phone: another household already has it")
                    }
                    _ => {}
                }
                if let Some(id) = id {
                    phones.entry(digits.clone()).or_insert((id, Some(row)));
                }
                Some(digits)
            });
            let id_number =
                r.text(row, cells, Field::IdNumber).filter(|n| !n.is_empty()).and_then(|n| match IdNumber::parse(&n) {
                    Err(e) => {
                        r.report(row, Field::IdNumber, e.to_string());
                        None
                    }
                    Ok(n) => {
                        match ids.get(n.as_str()) {
                            Some((other, Some(first))) if Some(*other) != id => {
                                r.report(row, Field::IdNumber, format!("duplicate ID number (also row {first})"))
                            }
                            Some((other, None)) if Some(*other) != id => {
                                r.report(row, Field::IdNumber, "duplicate ID number: another household already has it")
                            }
                            _ => {}
                        }
                        if let Some(id) = id {
                            ids.entry(n.as_str().to_string()).or_insert((id, Some(row)));
                        }
                        Some(n)
                    }
                });
            match (r.problems.len() == before, id, code, group, head) {
                (true, Some(id), Some(code), Some(group_id), Some(head_name)) => {
                    let h = Household { id, group_id, head_name, address, phone, code: Some(code), id_number };
                    let st = status(existing.get(&id), &h);
                    plan.households.push((Record::Household(h), st));
                }
                _ => plan.invalid.households += 1,
            }
        }
    }
    Ok(())
}

/// A user's rows gathered: username, first row, display name, grants, password,
/// whether any row is invalid, and the index of the table of the first row.
type UserRows = (String, u32, String, Vec<RoleGrant>, String, bool, usize);

#[allow(clippy::too_many_arguments)]
fn plan_users(
    tables: &[Table],
    store: &dyn Store,
    policy: &Policy,
    opts: &ImportOptions,
    tree: &Tree,
    county: Uuid,
    plan: &mut Plan,
    problems: &mut Vec<ImportProblem>,
) -> StoreResult<()> {
    let mut users: Vec<UserRows> = Vec::new();
    for (ti, t) in tables.iter().enumerate().filter(|(_, t)| t.kind == Kind::Users) {
        let mut r = Rows { t, problems };
        for (row, cells) in &t.rows {
            let row = *row;
            let before = r.problems.len();
            let username =
                r.required(row, cells, Field::Username, "用户名 (username)").filter(|u| match check_username(u) {
                    Ok(()) => true,
                    Err(m) => {
                        r.report(row, Field::Username, m);
                        false
                    }
                });
            let display = r.required(row, cells, Field::DisplayName, "姓名 (display name)");
            let role = r.required(row, cells, Field::Role, "角色 (role)").and_then(|s| {
                let role = parse_role(&s);
                if role.is_none() {
                    r.report(row, Field::Role, format!("unknown role {s}"));
                }
                role
            });
            let unit_path = r.text(row, cells, Field::Unit).unwrap_or_default();
            let unit = match resolve(tree, &unit_path) {
                Some(u) => Some(u.clone()),
                None => {
                    r.report(row, Field::Unit, format!("unknown unit {}", norm_path(&unit_path)));
                    None
                }
            };
            if let (Some(role), Some(u)) = (role, &unit) {
                if !role.valid_levels().contains(&u.level) {
                    let valid: Vec<&str> = role.valid_levels().iter().map(|l| level_zh(*l)).collect();
                    r.report(
                        row,
                        Field::Role,
                        format!(
                            "role {} is not valid at a {} (it binds to a {})",
                            role.label_zh(),
                            u.label_zh(),
                            valid.join(" or ")
                        ),
                    );
                }
            }
            let pw = r.text(row, cells, Field::Password).unwrap_or_default();
            let ok = r.problems.len() == before;
            let Some(name) = username else {
                plan.invalid.users += 1;
                continue;
            };
            let idx = match users.iter().position(|u| u.0 == name) {
                Some(i) => i,
                None => {
                    users.push((
                        name.clone(),
                        row,
                        display.clone().unwrap_or_default(),
                        vec![],
                        String::new(),
                        false,
                        ti,
                    ));
                    users.len() - 1
                }
            };
            let entry = &mut users[idx];
            if let Some(d) = &display {
                if ok && *d != entry.2 {
                    let first = entry.1;
                    r.report(row, Field::DisplayName, format!("display name differs from row {first} of this user"));
                    entry.5 = true;
                    plan.invalid.users += 1;
                    continue;
                }
            }
            if !pw.is_empty() && entry.4.is_empty() {
                entry.4 = pw;
            }
            match (ok, role, unit) {
                (true, Some(role), Some(u)) => entry.3.push(RoleGrant { role, unit_id: u.id }),
                _ => {
                    entry.5 = true;
                    plan.invalid.users += 1;
                }
            }
        }
    }
    let paths: HashMap<Uuid, String> = tree.by_path.iter().map(|(p, u)| (u.id, p.clone())).collect();
    for (username, row, display_name, mut grants, pw, invalid, ti) in users {
        if invalid {
            continue;
        }
        grants.sort();
        grants.dedup();
        let t = &tables[ti];
        let existing = store.user_by_username(&username)?;
        let (record, st) = match &existing {
            Some(old) => {
                let new = crate::store::UserRecord { display_name, grants, ..old.clone() };
                let st = status(Some(old), &new);
                (new, st)
            }
            None => {
                let msg = if pw.is_empty() {
                    Some("a new user needs an initial password (初始密码)".to_string())
                } else {
                    password::check_policy(policy, &username, &pw).err()
                };
                if let Some(m) = msg {
                    Rows { t, problems }.report(row, Field::Password, m);
                    plan.invalid.users += 1;
                    continue;
                }
                let record = crate::store::UserRecord {
                    id: derived_id(county, "user", &username),
                    username,
                    display_name,
                    password_hash: String::new(),
                    grants,
                    disabled: false,
                    must_change_password: true,
                    created_at: chrono::Utc::now(),
                };
                (record, Status::Create)
            }
        };
        let at = (t.file.clone(), t.sheet.clone(), row);
        let (change, refused) = roles::review(existing.as_ref(), &record, at, opts, &paths);
        plan.user_changes.extend(change);
        if let Some(m) = refused {
            Rows { t, problems }.report(row, Field::Role, m);
            plan.invalid.users += 1;
            continue;
        }
        plan.users.push(PlannedUser { record, status: st, password: (st == Status::Create).then_some(pw) });
    }
    Ok(())
}
