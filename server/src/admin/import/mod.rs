//! Importing a county's org units, users and households from its spreadsheets.
//!
//! The column layout (Chinese headers, English aliases) is in [`read::COLUMNS`]
//! and in the README; `fengqiao-server template` writes files with it. Every
//! file is read and every row checked first ([`validate`]); nothing is written
//! unless everything is valid, or the caller asked to skip invalid rows. Ids are
//! derived from the county and each row's key (unit code path, household code,
//! username), so importing the same file twice changes nothing and an edited
//! file changes only the edited rows. Records go through
//! [`Store::put_records`], so phones get the changes — including drops when a
//! household moves to another group — by their normal pull.
//!
//! A row for an existing username updates that user; its roles change only when
//! asked to, and an admin role only when confirmed ([`roles`]).

pub mod read;
pub mod roles;
pub mod validate;

#[cfg(test)]
mod tests;

use fengqiao_domain::policy::Policy;
use fengqiao_domain::Record;
use serde::{Deserialize, Serialize};

use super::{AdminError, AdminResult};
use crate::auth::password;
use crate::store::{Store, StoreError, UserRecord};

/// What a table holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Org units (sheet 组织).
    Units,
    /// Users and their roles (sheet 用户).
    Users,
    /// Households (sheet 户).
    Households,
}

/// One problem, located as a person would look for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImportProblem {
    /// File name as given.
    pub file: String,
    /// Sheet name (a CSV file's name without extension); empty for the whole file.
    pub sheet: String,
    /// Row number as the spreadsheet shows it (1 is the header); 0 for the whole sheet.
    pub row: u32,
    /// Column letter (`A`, `B`, ...); empty when no single column is at fault.
    pub column: String,
    /// The column's header as written in the file.
    pub header: String,
    /// What is wrong, in plain words (never repeats a phone, ID number or password).
    pub message: String,
}

impl std::fmt::Display for ImportProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file)?;
        if !self.sheet.is_empty() {
            write!(f, " [{}]", self.sheet)?;
        }
        if self.row > 0 {
            write!(f, " row {}", self.row)?;
        }
        if !self.column.is_empty() {
            write!(f, " column {} ({})", self.column, self.header)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Whether a planned row creates, updates or leaves a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    /// New.
    Create,
    /// Changed.
    Update,
    /// Identical to what is stored.
    Unchanged,
}

/// Row counts of one kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Counts {
    /// New records.
    pub created: usize,
    /// Changed records.
    pub updated: usize,
    /// Rows identical to what is stored.
    pub unchanged: usize,
    /// Rows with problems (not written).
    pub invalid: usize,
}

/// Invalid row counts while planning.
#[derive(Debug, Clone, Copy, Default)]
pub struct Invalid {
    /// Unit rows.
    pub units: usize,
    /// Household rows.
    pub households: usize,
    /// User rows.
    pub users: usize,
}

/// A user to write; `password` only for a new user (hashed when written).
#[derive(Debug, Clone)]
pub struct PlannedUser {
    /// The record (empty hash when new).
    pub record: UserRecord,
    /// Create, update or unchanged.
    pub status: Status,
    /// Initial password of a new user.
    pub password: Option<String>,
}

/// What the valid rows would write.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Units, parents first.
    pub units: Vec<(Record, Status)>,
    /// Households.
    pub households: Vec<(Record, Status)>,
    /// Users.
    pub users: Vec<PlannedUser>,
    /// What the file changes of existing users (and admin grants to new ones),
    /// allowed or refused.
    pub user_changes: Vec<roles::UserChange>,
    /// Rows left out.
    pub invalid: Invalid,
}

/// How to import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct ImportOptions {
    /// Check and report only; write nothing.
    pub dry_run: bool,
    /// Write the valid rows even if some are invalid (they are reported).
    pub skip_invalid: bool,
    /// Let rows change the roles of existing users (else such rows are problems).
    pub update_roles: bool,
    /// Let rows grant an admin role (county admin) — the importing admin's
    /// explicit confirmation (else such rows are problems).
    pub confirm_admin_grants: bool,
    /// The importing admin (`None`: the command line): their own roles never
    /// change by import, as they never change by their own hand.
    #[serde(skip)]
    pub actor: Option<uuid::Uuid>,
}

/// The outcome of an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImportReport {
    /// Nothing was written because it was a dry run.
    pub dry_run: bool,
    /// Whether anything was written.
    pub written: bool,
    /// Org units.
    pub units: Counts,
    /// Users.
    pub users: Counts,
    /// Households.
    pub households: Counts,
    /// Every existing user the file changes, as a diff (display name, roles added
    /// and removed), and every new user it makes an admin; `allowed: false` when
    /// refused (see `problems`).
    pub user_changes: Vec<roles::UserChange>,
    /// Every problem found, in file order.
    pub problems: Vec<ImportProblem>,
}

impl ImportReport {
    /// Counts as a short non-personal line (for the audit log and the CLI).
    pub fn summary(&self) -> String {
        let c = |n: &str, c: &Counts| {
            format!("{n}: {} new, {} changed, {} unchanged, {} invalid", c.created, c.updated, c.unchanged, c.invalid)
        };
        format!("{}; {}; {}", c("units", &self.units), c("households", &self.households), c("users", &self.users))
    }
}

/// One input file.
#[derive(Debug, Clone)]
pub struct InputFile {
    /// Name (for problem locations and to name a CSV's sheet).
    pub name: String,
    /// Contents.
    pub bytes: Vec<u8>,
}

/// Progress of the writing phase: rows written so far and in all.
pub type Progress<'a> = &'a mut dyn FnMut(u64, u64);

/// Households written per store transaction.
pub const CHUNK: usize = 1000;

fn count<'a>(statuses: impl Iterator<Item = &'a Status>, invalid: usize) -> Counts {
    let mut c = Counts { invalid, ..Counts::default() };
    for s in statuses {
        match s {
            Status::Create => c.created += 1,
            Status::Update => c.updated += 1,
            Status::Unchanged => c.unchanged += 1,
        }
    }
    c
}

/// Reads, checks and (unless a dry run, or invalid without `skip_invalid`)
/// writes. The caller records the audit entry.
pub fn run(
    store: &dyn Store,
    policy: &Policy,
    files: &[InputFile],
    opts: ImportOptions,
    progress: Progress<'_>,
) -> AdminResult<ImportReport> {
    let mut problems = Vec::new();
    let mut tables = Vec::new();
    for f in files {
        tables.extend(read::read_file(&f.name, &f.bytes, &mut problems));
    }
    let plan = validate::plan(&tables, store, policy, &opts, &mut problems)?;
    // Problems in file order: file, then sheet as read, then row, then column.
    let sheet_pos = |p: &ImportProblem| tables.iter().position(|t| t.file == p.file && t.sheet == p.sheet);
    let file_pos = |p: &ImportProblem| files.iter().position(|f| f.name == p.file);
    problems.sort_by_key(|p| (file_pos(p), sheet_pos(p), p.row, p.column.len(), p.column.clone()));
    let mut report = ImportReport {
        dry_run: opts.dry_run,
        written: false,
        units: count(plan.units.iter().map(|(_, s)| s), plan.invalid.units),
        users: count(plan.users.iter().map(|u| &u.status), plan.invalid.users),
        households: count(plan.households.iter().map(|(_, s)| s), plan.invalid.households),
        user_changes: plan.user_changes.clone(),
        problems,
    };
    if opts.dry_run || (!report.problems.is_empty() && !opts.skip_invalid) {
        return Ok(report);
    }
    write(store, &plan, progress)?;
    report.written = true;
    Ok(report)
}

/// Writes a plan: units, then households in chunks, then users.
fn write(store: &dyn Store, plan: &Plan, progress: Progress<'_>) -> AdminResult<()> {
    let changed = |v: &[(Record, Status)]| -> Vec<Record> {
        v.iter().filter(|(_, s)| *s != Status::Unchanged).map(|(r, _)| r.clone()).collect()
    };
    let units = changed(&plan.units);
    let households = changed(&plan.households);
    let users: Vec<&PlannedUser> = plan.users.iter().filter(|u| u.status != Status::Unchanged).collect();
    let total = (units.len() + households.len() + users.len()) as u64;
    let mut done = 0u64;
    progress(done, total);
    if !units.is_empty() {
        store.put_records(&units)?;
        done += units.len() as u64;
        progress(done, total);
    }
    for chunk in households.chunks(CHUNK) {
        store.put_records(chunk)?;
        done += chunk.len() as u64;
        progress(done, total);
    }
    for u in users {
        match (&u.status, &u.password) {
            (Status::Create, Some(pw)) => {
                let mut rec = u.record.clone();
                rec.password_hash = password::hash(pw).map_err(AdminError::Internal)?;
                match store.create_user(&rec) {
                    Ok(()) | Err(StoreError::AlreadyExists(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            _ => store.update_user(&u.record)?,
        }
        done += 1;
        progress(done, total);
    }
    Ok(())
}
