//! The monthly analysis report (月度排查问题研判报告) of a village, town or the
//! county: counts, shares, changes, hotspots, screening completion, subsidies, a
//! 12-month trend, the village assessment, and a generated summary. Computed from
//! the flow table and records, never typed in; JSON, HTML, CSV and xlsx render this
//! one structure.
//!
//! A month still running is reported as of now: what is open and what is overdue
//! is counted at the report's `as_of` time, min(now, the month's end), so a
//! deadline later in the month is not overdue yet. A past month is reported as of
//! its end.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use fengqiao_domain::assessment::{assess, VillageMonth};
use fengqiao_domain::disputes::{ClosingOutcome, Dispute, Escalation, FlowEntry, FlowKind};
use fengqiao_domain::ladder::{DeadlineState, Level};
use fengqiao_domain::org::{OrgUnit, UnitLevel};
use fengqiao_domain::policy::Policy;
use fengqiao_domain::prevent::{periods_in_month, Screening};
use fengqiao_domain::subsidy::{is_overdue, Subsidy};
use fengqiao_domain::Record;
use serde::Serialize;
use uuid::Uuid;

use super::Month;
use crate::store::{Store, StoreResult};

/// A label and a count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Count {
    /// What is counted (Chinese label).
    pub label: String,
    /// How many.
    pub count: u32,
}

/// The core numbers of one month (also computed for the month before).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Numbers {
    /// Disputes registered in the month.
    pub new_disputes: u32,
    /// Disputes closed as resolved in the month.
    pub resolved: u32,
    /// Open at the report's `as_of` time (the month's end, or now in a running month).
    pub still_open: u32,
    /// Open and past their deadline at the `as_of` time.
    pub overdue: u32,
    /// Escalations asked for in the month.
    pub escalations_asked: u32,
    /// Escalations approved in the month.
    pub escalations_approved: u32,
    /// Escalations refused in the month.
    pub escalations_refused: u32,
    /// Of disputes closed in the month: resolved in the group or village (per mille).
    pub settled_locally_permille: u32,
    /// … resolved by the judicial office or the town committee (per mille).
    pub settled_by_town_permille: u32,
    /// … not resolved or referred to court: pushed beyond the town (per mille).
    pub pushed_beyond_permille: u32,
}

/// Something rising.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Hotspot {
    /// `village` or `kind`.
    pub what: String,
    /// Its name.
    pub name: String,
    /// What it is, in Chinese: a village-level unit's kind (村, 嘎查, 社区), or
    /// 类纠纷 for a kind of dispute.
    pub label: String,
    /// New disputes this month.
    pub this_month: u32,
    /// New disputes the month before.
    pub last_month: u32,
}

/// Screening completion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ScreeningCompletion {
    /// The month's screening periods.
    pub periods: Vec<String>,
    /// Villages in the unit.
    pub villages: u32,
    /// What the unit's village-level units are, in Chinese (村, 嘎查, 社区, or
    /// several joined by `/`, e.g. `村/嘎查`).
    pub villages_label: String,
    /// Villages that filed every period.
    pub complete: u32,
    /// Villages still missing a period (names).
    pub missing: Vec<String>,
}

/// Subsidy figures (integer fen).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SubsidyFigures {
    /// Accrued in the month: count.
    pub accrued_count: u32,
    /// Accrued in the month: fen.
    pub accrued_fen: i64,
    /// Paid in the month: count.
    pub paid_count: u32,
    /// Paid in the month: fen.
    pub paid_fen: i64,
    /// Overdue at the `as_of` time: count.
    pub overdue_count: u32,
    /// Overdue at the `as_of` time: fen.
    pub overdue_fen: i64,
}

/// A village's assessment (考核) from the month's numbers, by the rule of
/// [`fengqiao_domain::assessment`]: the score is the weighted mean of the parts
/// that apply (settled locally, screening filed, open disputes on time); a part
/// is `null` when it does not apply (nothing closed, no period, nothing open).
/// Screening earns points only for periods filed, so a village that did nothing
/// scores 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct VillageScore {
    /// Village name.
    pub village: String,
    /// What the village-level unit is, in Chinese (村, 嘎查 or 社区).
    pub kind: String,
    /// Score 0-1000.
    pub score: u32,
    /// Settled locally (per mille of disputes closed in the month); null if none closed.
    pub settled_locally_permille: Option<u32>,
    /// Screening completion (per mille of the month's periods filed).
    pub screening_permille: Option<u32>,
    /// Open disputes on time at `as_of` (per mille); null if none open.
    pub on_time_permille: Option<u32>,
}

/// The report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MonthlyReport {
    /// Unit id.
    pub unit_id: Uuid,
    /// Unit name.
    pub unit_name: String,
    /// What the unit is, in Chinese (旗, 镇, 乡, 苏木, 街道, 司法所, 村, 嘎查, 社区, …).
    pub unit_kind: String,
    /// For a judicial office unit: the names of the towns it serves (in code
    /// order), whose disputes, screenings and subsidies the report counts
    /// together (ADR 0028); absent for other units.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub towns: Vec<String>,
    /// `YYYY-MM`.
    pub month: String,
    /// The time the report counts open and overdue at: the month's end, or the
    /// time of the request while the month is still running.
    pub as_of: DateTime<Utc>,
    /// This month's numbers.
    pub numbers: Numbers,
    /// The month before.
    pub previous: Numbers,
    /// New disputes by kind.
    pub new_by_kind: Vec<Count>,
    /// New disputes by grade.
    pub new_by_grade: Vec<Count>,
    /// New disputes by the level they were registered at.
    pub new_by_level: Vec<Count>,
    /// Resolved in the month, by the level that resolved them.
    pub resolved_by_level: Vec<Count>,
    /// Villages and kinds rising.
    pub hotspots: Vec<Hotspot>,
    /// Screening completion.
    pub screening: ScreeningCompletion,
    /// Subsidies.
    pub subsidies: SubsidyFigures,
    /// New disputes per month, the 12 months ending with this one.
    pub trend: Vec<Count>,
    /// Village assessment, best first.
    pub ranking: Vec<VillageScore>,
    /// A short summary generated from the numbers.
    pub summary: String,
}

/// The latest version of every record in a unit's subtree (aggregates only: the
/// caller has already been checked against the unit).
fn unit_records(store: &dyn Store, unit: Uuid) -> StoreResult<Vec<Record>> {
    let mut latest: HashMap<(u8, Uuid), Record> = HashMap::new();
    let mut cursor = 0;
    loop {
        // The unit's own feed, unfiltered by role: every record whose scope holds it.
        let page = store.pull(&[], Some(unit), cursor, 1000)?;
        for c in page.changes {
            if let Some(r) = c.record {
                latest.insert((r.kind().tag(), r.id()), r);
            }
        }
        cursor = page.position;
        if !page.has_more {
            break;
        }
    }
    Ok(latest.into_values().collect())
}

/// The records a report is computed from.
#[derive(Default)]
struct Data {
    disputes: Vec<Dispute>,
    escalations: Vec<Escalation>,
    flows: Vec<FlowEntry>,
    screenings: Vec<Screening>,
    subsidies: Vec<Subsidy>,
    villages: Vec<OrgUnit>,
    units: HashMap<Uuid, OrgUnit>,
}

fn permille(part: u32, whole: u32) -> u32 {
    (part * 1000).checked_div(whole).unwrap_or(0)
}

fn inside(t: DateTime<Utc>, (a, b): (DateTime<Utc>, DateTime<Utc>)) -> bool {
    t >= a && t < b
}

/// The month's numbers; open and overdue are counted at `as_of`.
fn numbers(d: &Data, range: (DateTime<Utc>, DateTime<Utc>), as_of: DateTime<Utc>, policy: &Policy) -> Numbers {
    let mut n = Numbers::default();
    let (mut local, mut town, mut beyond, mut closed) = (0, 0, 0, 0);
    for x in &d.disputes {
        if inside(x.registered_at, range) {
            n.new_disputes += 1;
        }
        let closed_at = x.closing.as_ref().map(|c| c.closed_at);
        if let Some(c) = &x.closing {
            if inside(c.closed_at, range) {
                closed += 1;
                match (c.outcome, c.level) {
                    (ClosingOutcome::Resolved, Level::Group | Level::Village) => local += 1,
                    (ClosingOutcome::Resolved, _) => town += 1,
                    _ => beyond += 1,
                }
                if c.outcome == ClosingOutcome::Resolved {
                    n.resolved += 1;
                }
            }
        }
        let open_at = x.registered_at < as_of && closed_at.is_none_or(|t| t >= as_of);
        if open_at {
            n.still_open += 1;
            // by the deadlines it was registered under: a later change does not re-date past months
            if x.deadline_state(as_of, policy) == DeadlineState::Overdue {
                n.overdue += 1;
            }
        }
    }
    for e in &d.escalations {
        if inside(e.requested_at, range) {
            n.escalations_asked += 1;
        }
        if let Some(dec) = &e.decision {
            if inside(dec.decided_at, range) {
                if dec.approved {
                    n.escalations_approved += 1;
                } else {
                    n.escalations_refused += 1;
                }
            }
        }
    }
    n.settled_locally_permille = permille(local, closed);
    n.settled_by_town_permille = permille(town, closed);
    n.pushed_beyond_permille = permille(beyond, closed);
    n
}

fn village_of(d: &Data, unit: Uuid) -> Option<Uuid> {
    let mut next = Some(unit);
    while let Some(id) = next {
        let u = d.units.get(&id)?;
        if u.level == UnitLevel::Village {
            return Some(u.id);
        }
        next = u.parent;
    }
    None
}

fn counts(map: BTreeMap<String, u32>) -> Vec<Count> {
    map.into_iter().filter(|(_, c)| *c > 0).map(|(label, count)| Count { label, count }).collect()
}

/// The time a month is reported as of: its end, or `now` while it runs.
pub fn as_of(range: (DateTime<Utc>, DateTime<Utc>), now: DateTime<Utc>) -> DateTime<Utc> {
    now.min(range.1)
}

/// The units whose records a report of `unit` counts: a judicial office's
/// served towns (its disputes stay indexed under their towns), by code; any
/// other unit itself.
fn report_sources(store: &dyn Store, unit: &OrgUnit) -> StoreResult<Vec<OrgUnit>> {
    if unit.level != UnitLevel::JudicialOffice {
        return Ok(vec![unit.clone()]);
    }
    let mut towns: Vec<OrgUnit> = store
        .records_of_kind(fengqiao_domain::EntityKind::Unit)?
        .into_iter()
        .filter_map(|r| match r {
            Record::Unit(u) if u.level == UnitLevel::Town && u.offices.contains(&unit.id) => Some(u),
            _ => None,
        })
        .collect();
    towns.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(towns)
}

/// Computes the report of `unit` (a village, town, judicial office — its served
/// towns together — or the county) for `month`, as of `now` (the caller's
/// clock: the request's time on the server).
pub fn monthly_report(
    store: &dyn Store,
    policy: &Policy,
    unit: &OrgUnit,
    month: Month,
    now: DateTime<Utc>,
) -> StoreResult<MonthlyReport> {
    let zone = policy.zone();
    let mut d = Data::default();
    d.units.insert(unit.id, unit.clone());
    let sources = report_sources(store, unit)?;
    let mut records: HashMap<(u8, Uuid), Record> = HashMap::new();
    for s in &sources {
        for r in unit_records(store, s.id)? {
            records.insert((r.kind().tag(), r.id()), r);
        }
    }
    for r in records.into_values() {
        match r {
            Record::Dispute(x) => d.disputes.push(x),
            Record::Escalation(x) => d.escalations.push(x),
            Record::FlowEntry(x) => d.flows.push(x),
            Record::Screening(x) => d.screenings.push(x),
            Record::Subsidy(x) => d.subsidies.push(x),
            Record::Unit(u) => {
                if u.level == UnitLevel::Village {
                    d.villages.push(u.clone());
                }
                d.units.insert(u.id, u);
            }
            _ => {}
        }
    }
    d.villages.sort_by(|a, b| a.code.cmp(&b.code));
    let empty = (DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MIN_UTC);
    let this = month.range(zone).unwrap_or(empty);
    let prev_month = month.prev();
    let prev = prev_month.range(zone).unwrap_or(empty);
    let this_as_of = as_of(this, now);
    let now_numbers = numbers(&d, this, this_as_of, policy);
    let previous = numbers(&d, prev, as_of(prev, now), policy);

    let kind_label = |k: &str| {
        policy.disputes.kinds.iter().find(|x| x.code == k).map(|x| x.label_zh.clone()).unwrap_or_else(|| k.to_string())
    };
    let (mut by_kind, mut by_grade, mut by_level, mut resolved_by_level) =
        (BTreeMap::new(), BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    let (mut kind_prev, mut village_now, mut village_prev): (
        BTreeMap<String, u32>,
        BTreeMap<Uuid, u32>,
        BTreeMap<Uuid, u32>,
    ) = Default::default();
    let reported_level: HashMap<Uuid, Level> =
        d.flows.iter().filter(|f| f.kind == FlowKind::Reported).map(|f| (f.dispute_id, f.level)).collect();
    for x in &d.disputes {
        if inside(x.registered_at, this) {
            *by_kind.entry(kind_label(&x.kind)).or_insert(0) += 1;
            *by_grade.entry(x.grade.label_zh().to_string()).or_insert(0) += 1;
            let lvl = reported_level.get(&x.id).copied().unwrap_or(x.level);
            *by_level.entry(format!("{}", level_index(lvl))).or_insert(0) += 1;
            if let Some(v) = village_of(&d, x.origin_unit) {
                *village_now.entry(v).or_insert(0) += 1;
            }
        }
        if inside(x.registered_at, prev) {
            *kind_prev.entry(kind_label(&x.kind)).or_insert(0) += 1;
            if let Some(v) = village_of(&d, x.origin_unit) {
                *village_prev.entry(v).or_insert(0) += 1;
            }
        }
        if let Some(c) = &x.closing {
            if c.outcome == ClosingOutcome::Resolved && inside(c.closed_at, this) {
                *resolved_by_level.entry(format!("{}", level_index(c.level))).or_insert(0) += 1;
            }
        }
    }
    let level_counts = |m: BTreeMap<String, u32>| -> Vec<Count> {
        Level::ALL
            .iter()
            .map(|l| Count {
                label: l.label_zh().into(),
                count: m.get(&format!("{}", level_index(*l))).copied().unwrap_or(0),
            })
            .collect()
    };

    let mut hotspots = Vec::new();
    for v in &d.villages {
        let (a, b) = (village_now.get(&v.id).copied().unwrap_or(0), village_prev.get(&v.id).copied().unwrap_or(0));
        if a > b {
            hotspots.push(Hotspot {
                what: "village".into(),
                name: v.name.clone(),
                label: v.label_zh().into(),
                this_month: a,
                last_month: b,
            });
        }
    }
    for (k, a) in &by_kind {
        let b = kind_prev.get(k).copied().unwrap_or(0);
        if *a > b {
            hotspots.push(Hotspot {
                what: "kind".into(),
                name: k.clone(),
                label: "类纠纷".into(),
                this_month: *a,
                last_month: b,
            });
        }
    }
    hotspots
        .sort_by(|x, y| (y.this_month - y.last_month).cmp(&(x.this_month - x.last_month)).then(x.name.cmp(&y.name)));

    let periods = periods_in_month(month.year, month.month, policy);
    let filed = |v: Uuid| {
        periods.iter().filter(|p| d.screenings.iter().any(|s| s.village_id == v && &s.period == *p)).count() as u32
    };
    let complete = d.villages.iter().filter(|v| filed(v.id) as usize == periods.len()).count() as u32;
    let missing =
        d.villages.iter().filter(|v| (filed(v.id) as usize) < periods.len()).map(|v| v.name.clone()).collect();
    let mut labels: Vec<&str> = d.villages.iter().map(|v| v.label_zh()).collect();
    labels.sort_by_key(|l| ["村", "嘎查", "社区"].iter().position(|x| x == l));
    labels.dedup();
    let villages_label = if labels.is_empty() { "村".to_string() } else { labels.join("/") };
    let screening = ScreeningCompletion {
        periods: periods.clone(),
        villages: d.villages.len() as u32,
        villages_label,
        complete,
        missing,
    };

    let mut subsidies = SubsidyFigures::default();
    for s in &d.subsidies {
        if inside(s.accrued_at, this) {
            subsidies.accrued_count += 1;
            subsidies.accrued_fen += s.amount_fen;
        }
        if s.paid_at.is_some_and(|t| inside(t, this)) {
            subsidies.paid_count += 1;
            subsidies.paid_fen += s.amount_fen;
        }
        if is_overdue(s, this_as_of, policy) {
            subsidies.overdue_count += 1;
            subsidies.overdue_fen += s.amount_fen;
        }
    }

    let mut trend = Vec::with_capacity(12);
    let mut m = month;
    for _ in 0..12 {
        let r = m.range(zone).unwrap_or(empty);
        let c = d.disputes.iter().filter(|x| inside(x.registered_at, r)).count() as u32;
        trend.push(Count { label: format!("{:04}-{:02}", m.year, m.month), count: c });
        m = m.prev();
    }
    trend.reverse();

    let mut ranking: Vec<VillageScore> = d
        .villages
        .iter()
        .map(|v| {
            let sub = Data {
                disputes: d.disputes.iter().filter(|x| village_of(&d, x.origin_unit) == Some(v.id)).cloned().collect(),
                ..Data::default()
            };
            let n = numbers(&sub, this, this_as_of, policy);
            let closed = sub.disputes.iter().filter(|x| x.closing.as_ref().is_some_and(|c| inside(c.closed_at, this)));
            let closed_locally = closed
                .clone()
                .filter(|x| {
                    x.closing.as_ref().is_some_and(|c| {
                        c.outcome == ClosingOutcome::Resolved && matches!(c.level, Level::Group | Level::Village)
                    })
                })
                .count() as u32;
            let a = assess(
                &VillageMonth {
                    closed: closed.count() as u32,
                    closed_locally,
                    periods: periods.len() as u32,
                    periods_filed: filed(v.id),
                    open: n.still_open,
                    overdue: n.overdue,
                },
                &policy.screening.assessment,
            );
            VillageScore {
                village: v.name.clone(),
                kind: v.label_zh().into(),
                score: a.score,
                settled_locally_permille: a.settled_locally_permille,
                screening_permille: a.screening_permille,
                on_time_permille: a.on_time_permille,
            }
        })
        .collect();
    ranking.sort_by(|a, b| b.score.cmp(&a.score).then(a.village.cmp(&b.village)));

    let running = (this_as_of < this.1).then(|| this_as_of.with_timezone(&zone).format("%-m月%-d日").to_string());
    let summary = summarise(&now_numbers, &previous, &hotspots, &screening, running.as_deref());
    Ok(MonthlyReport {
        unit_id: unit.id,
        unit_name: unit.name.clone(),
        unit_kind: unit.label_zh().into(),
        towns: if unit.level == UnitLevel::JudicialOffice {
            sources.iter().map(|t| t.name.clone()).collect()
        } else {
            vec![]
        },
        month: format!("{:04}-{:02}", month.year, month.month),
        as_of: this_as_of,
        numbers: now_numbers,
        previous,
        new_by_kind: counts(by_kind),
        new_by_grade: counts(by_grade),
        new_by_level: level_counts(by_level),
        resolved_by_level: level_counts(resolved_by_level),
        hotspots,
        screening,
        subsidies,
        trend,
        ranking,
        summary,
    })
}

fn level_index(l: Level) -> usize {
    Level::ALL.iter().position(|x| *x == l).unwrap_or(0)
}

fn pct(pm: u32) -> String {
    format!("{}.{}%", pm / 10, pm % 10)
}

/// The qualitative summary, generated from the numbers; `running`: the day (county
/// zone) a running month is reported as of.
fn summarise(n: &Numbers, p: &Numbers, hot: &[Hotspot], s: &ScreeningCompletion, running: Option<&str>) -> String {
    let change = |a: u32, b: u32| match a.cmp(&b) {
        std::cmp::Ordering::Greater => format!("较上月增加{}件", a - b),
        std::cmp::Ordering::Less => format!("较上月减少{}件", b - a),
        std::cmp::Ordering::Equal => "与上月持平".to_string(),
    };
    let open_at = match running {
        Some(day) => format!("截至{day}"),
        None => "月末".to_string(),
    };
    let mut out = format!(
        "本月新增矛盾纠纷{}件，{}；化解{}件，{}。{}在办{}件，其中超期{}件。",
        n.new_disputes,
        change(n.new_disputes, p.new_disputes),
        n.resolved,
        change(n.resolved, p.resolved),
        open_at,
        n.still_open,
        n.overdue
    );
    if n.settled_locally_permille + n.settled_by_town_permille + n.pushed_beyond_permille > 0 {
        out.push_str(&format!(
            "本月结案中，组、村两级化解占{}，镇级化解占{}，未能在镇内化解占{}。",
            pct(n.settled_locally_permille),
            pct(n.settled_by_town_permille),
            pct(n.pushed_beyond_permille)
        ));
    }
    if n.escalations_asked > 0 {
        out.push_str(&format!(
            "申请逐级上报{}件，批准{}件，不予上报{}件。",
            n.escalations_asked, n.escalations_approved, n.escalations_refused
        ));
    }
    if let Some(h) = hot.first() {
        out.push_str(&format!("需重点关注：{}（{}）由{}件增至{}件。", h.name, h.label, h.last_month, h.this_month));
    }
    if s.villages > 0 {
        out.push_str(&format!("排查完成{}/{}个{}", s.complete, s.villages, s.villages_label));
        if !s.missing.is_empty() {
            out.push_str(&format!("，未完成：{}", s.missing.join("、")));
        }
        out.push('。');
    }
    out
}

#[cfg(test)]
#[path = "monthly_tests.rs"]
mod tests;
