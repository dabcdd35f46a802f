//! The dispute flow table (矛盾纠纷排查化解流向表) of a village or town for a month:
//! one row per registered step, with the seed's columns.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use fengqiao_domain::disputes::{Dispute, FlowEntry, FlowKind};
use fengqiao_domain::org::covers;
use fengqiao_domain::permissions::sees;
use fengqiao_domain::policy::Policy;
use fengqiao_domain::{EntityKind, Record, RoleGrant};
use serde::Serialize;
use uuid::Uuid;

use super::render::Cell;
use crate::store::{Store, StoreResult};

/// One row of the flow table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FlowRow {
    /// 案件编号
    pub case_number: String,
    /// 当事人
    pub parties: String,
    /// 纠纷类型
    pub kind: String,
    /// 等级
    pub grade: String,
    /// 发现日期 (county zone)
    pub found_on: String,
    /// 步骤
    pub step: u32,
    /// 流转事项
    pub action: String,
    /// 所处层级
    pub level: String,
    /// 承办单位
    pub handler: String,
    /// 经办人
    pub actor: String,
    /// 时间 (county zone)
    pub at: String,
    /// 结果/意见
    pub note: String,
}

/// Column headers, Chinese (the county office's spreadsheet).
pub const HEADERS: [&str; 12] = [
    "案件编号",
    "当事人",
    "纠纷类型",
    "等级",
    "发现日期",
    "步骤",
    "流转事项",
    "所处层级",
    "承办单位",
    "经办人",
    "时间",
    "结果/意见",
];

impl FlowRow {
    /// The row's cells in [`HEADERS`] order (the step a number, the rest text).
    pub fn cells(&self) -> Vec<Cell> {
        let t = |s: &String| Cell::Text(s.clone());
        vec![
            t(&self.case_number),
            t(&self.parties),
            t(&self.kind),
            t(&self.grade),
            t(&self.found_on),
            Cell::Int(self.step.into()),
            t(&self.action),
            t(&self.level),
            t(&self.handler),
            t(&self.actor),
            t(&self.at),
            t(&self.note),
        ]
    }
}

pub(crate) fn action_zh(k: FlowKind) -> &'static str {
    match k {
        FlowKind::Reported => "排查登记",
        FlowKind::EscalationRequested => "申请逐级上报",
        FlowKind::EscalationApproved => "批准上报",
        FlowKind::EscalationRefused => "不予上报",
        FlowKind::SessionRecorded => "调解笔录",
        FlowKind::AgreementRecorded => "达成调解协议",
        FlowKind::FollowUpRecorded => "回访",
        FlowKind::ConfirmationRecorded => "司法确认",
        FlowKind::Closed => "结案",
        FlowKind::Regraded => "重新定级研判",
        FlowKind::CaseReviewed => "案卷评查",
    }
}

/// The caller's grants narrowed to `unit`: for every grant covering the unit whose
/// role sees the flow table, the same role at that unit. Empty: no access.
pub fn narrowed_grants(store: &dyn Store, grants: &[RoleGrant], unit: Uuid) -> StoreResult<Vec<RoleGrant>> {
    let Some(scope) = unit_scope(store, unit)? else { return Ok(vec![]) };
    Ok(grants
        .iter()
        .filter(|g| covers(g.unit_id, &scope) && sees(g.role, EntityKind::FlowEntry))
        .map(|g| RoleGrant { role: g.role, unit_id: unit })
        .collect())
}

/// A unit and its ancestors, nearest first (`None` for an unknown unit).
pub(crate) fn unit_scope(store: &dyn Store, unit: Uuid) -> StoreResult<Option<Vec<Uuid>>> {
    let mut scope = Vec::new();
    let mut next = Some(unit);
    while let Some(id) = next.take() {
        match store.record(EntityKind::Unit, id)? {
            Some(Record::Unit(u)) if scope.len() < fengqiao_domain::apply::MAX_DEPTH => {
                scope.push(u.id);
                next = u.parent;
            }
            _ => return Ok(if scope.is_empty() { None } else { Some(scope) }),
        }
    }
    Ok(Some(scope))
}

/// The flow table rows for `grants` (already narrowed to the unit) between
/// `from` and `to`, sorted by case number and step.
pub fn flow_rows(
    store: &dyn Store,
    policy: &Policy,
    grants: &[RoleGrant],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> StoreResult<Vec<FlowRow>> {
    let zone = policy.zone();
    // each grant's unit, its role seeing flow entries (the pull's filter),
    // through the desk's index by time
    let mut entries: Vec<FlowEntry> = Vec::new();
    let mut units: Vec<Uuid> = Vec::new();
    for g in grants.iter().filter(|g| sees(g.role, EntityKind::FlowEntry)) {
        if !units.contains(&g.unit_id) {
            units.push(g.unit_id);
            entries.extend(crate::store::desk_index::flow_entries(store, g.unit_id, from, to)?);
        }
    }
    entries.sort_by(|a, b| (&a.case_number, a.step).cmp(&(&b.case_number, b.step)));
    entries.dedup_by_key(|e| e.id);
    let mut disputes: HashMap<Uuid, Option<Dispute>> = HashMap::new();
    let mut names: HashMap<Uuid, String> = HashMap::new();
    let mut rows = Vec::with_capacity(entries.len());
    for f in entries {
        let dispute = match disputes.get(&f.dispute_id) {
            Some(d) => d.clone(),
            None => {
                let d = match store.record(EntityKind::Dispute, f.dispute_id)? {
                    Some(Record::Dispute(d)) => Some(d),
                    _ => None,
                };
                disputes.insert(f.dispute_id, d.clone());
                d
            }
        };
        let handler = match names.get(&f.handler_unit) {
            Some(n) => n.clone(),
            None => {
                let n = match store.record(EntityKind::Unit, f.handler_unit)? {
                    Some(Record::Unit(u)) => u.name,
                    _ => String::new(),
                };
                names.insert(f.handler_unit, n.clone());
                n
            }
        };
        let actor = match names.get(&f.actor) {
            Some(n) => n.clone(),
            None => {
                let n = store.user(f.actor)?.map(|u| u.display_name).unwrap_or_default();
                names.insert(f.actor, n.clone());
                n
            }
        };
        let local = |t: DateTime<Utc>, fmt: &str| t.with_timezone(&zone).format(fmt).to_string();
        let (parties, kind, grade, found_on) = match &dispute {
            Some(d) => (
                d.parties.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join("、"),
                policy
                    .disputes
                    .kinds
                    .iter()
                    .find(|k| k.code == d.kind)
                    .map(|k| k.label_zh.clone())
                    .unwrap_or_else(|| d.kind.clone()),
                d.grade.label_zh().to_string(),
                local(d.found_at, "%Y-%m-%d"),
            ),
            None => Default::default(),
        };
        rows.push(FlowRow {
            case_number: f.case_number.clone(),
            parties,
            kind,
            grade,
            found_on,
            step: f.step,
            action: action_zh(f.kind).to_string(),
            level: f.level.label_zh().to_string(),
            handler,
            actor,
            at: local(f.at, "%Y-%m-%d %H:%M"),
            note: f.note.clone(),
        });
    }
    Ok(rows)
}
