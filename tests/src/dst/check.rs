//! The invariants, checked at quiescence (every queue drained, links healed,
//! every phone's last pull after the last push): each op applied exactly
//! once; nothing the users made lost; each phone's view equals the server's
//! view of its user's scope and holds nothing outside it; one level at a
//! time, the first decision wins, no one approves their own request; each
//! resolved case-payee accrued once with the splits summing to the amount.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use fengqiao_core::store::RecordState;
use fengqiao_core::ClientStore;
use fengqiao_domain::disputes::ClosingOutcome;
use fengqiao_domain::policy::Policy;
use fengqiao_domain::wire::ChangeAction;
use fengqiao_domain::{EntityKind, Record};
use fengqiao_server::store::{AccountStore, AuditAction, AuditQuery, AuditStore, MemoryStore, SyncStore};
use uuid::Uuid;

use super::phone::{Made, Shared};
use super::trace::Trace;

/// The kinds a phone may hold.
const KINDS: [EntityKind; 19] = [
    EntityKind::Unit,
    EntityKind::Household,
    EntityKind::Visit,
    EntityKind::Attachment,
    EntityKind::Dispute,
    EntityKind::Escalation,
    EntityKind::FlowEntry,
    EntityKind::MediationSession,
    EntityKind::Agreement,
    EntityKind::FollowUp,
    EntityKind::JudicialConfirmation,
    EntityKind::Subsidy,
    EntityKind::CaseReview,
    EntityKind::Consultation,
    EntityKind::PaymentBatch,
    EntityKind::VillageRules,
    EntityKind::Violation,
    EntityKind::HouseholdStanding,
    EntityKind::Screening,
];

/// One decided answer in the server's audit log.
#[derive(Debug, Clone)]
struct Decided {
    seq: u64,
    outcome: String,
}

/// Every invariant over the run's end state; each violation one line.
pub fn at_quiescence(store: &MemoryStore, shared: &Shared, policy: &Policy) -> anyhow::Result<Vec<String>> {
    let trace = &shared.trace;
    let mut out = Vec::new();
    let decided = decided_ops(store)?;
    exactly_once(&decided, shared, trace, &mut out);
    for (index, person, phone) in shared.finals.lock().unwrap_or_else(|p| p.into_inner()).iter() {
        same_view(store, phone.as_ref(), person.id, &person.username, *index, trace, &mut out)?;
    }
    ladder(store, &decided, trace, &mut out)?;
    subsidies(store, policy, trace, &mut out)?;
    Ok(out)
}

/// The audit's answers per op (author, kind, target), duplicates left out.
fn decided_ops(store: &MemoryStore) -> anyhow::Result<BTreeMap<Made, Vec<Decided>>> {
    let mut out: BTreeMap<Made, Vec<Decided>> = BTreeMap::new();
    let mut after = 0;
    loop {
        let page = store.audit(&AuditQuery {
            action: Some(AuditAction::SyncOp),
            after,
            limit: 10_000,
            ..Default::default()
        })?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for e in page {
            if e.outcome == "duplicate" {
                continue;
            }
            let kind = e.detail.split(' ').next().unwrap_or_default();
            let made = Made {
                actor: e.actor.unwrap_or_default(),
                kind: known_kind(kind),
                target: e.target.as_deref().and_then(|t| t.parse().ok()).unwrap_or_default(),
            };
            out.entry(made).or_default().push(Decided { seq: e.seq, outcome: e.outcome });
        }
    }
    Ok(out)
}

fn known_kind(kind: &str) -> &'static str {
    const KINDS: [&str; 6] = [
        "record_visit",
        "report_dispute",
        "request_escalation",
        "decide_escalation",
        "record_session",
        "close_dispute",
    ];
    KINDS.iter().find(|k| **k == kind).copied().unwrap_or("other")
}

fn describe(m: &Made, trace: &Trace) -> String {
    format!("{} {} by {}", m.kind, trace.known(m.target), trace.known(m.actor))
}

fn exactly_once(decided: &BTreeMap<Made, Vec<Decided>>, shared: &Shared, trace: &Trace, out: &mut Vec<String>) {
    let made: BTreeSet<Made> = shared.made.lock().unwrap_or_else(|p| p.into_inner()).iter().cloned().collect();
    let dropped: HashMap<Made, String> =
        shared.dropped.lock().unwrap_or_else(|p| p.into_inner()).iter().cloned().collect();
    for (op, answers) in decided {
        if answers.len() > 1 {
            let outcomes: Vec<_> = answers.iter().map(|a| a.outcome.as_str()).collect();
            out.push(format!(
                "exactly once: {} was decided {} times ({})",
                describe(op, trace),
                answers.len(),
                outcomes.join(", ")
            ));
        }
        if !made.contains(op) {
            out.push(format!("exactly once: the server applied {} that no phone made", describe(op, trace)));
        }
    }
    for op in &made {
        let Some(answers) = decided.get(op) else {
            out.push(format!("nothing lost: {} never reached the server", describe(op, trace)));
            continue;
        };
        let applied = answers.first().is_some_and(|a| a.outcome == "applied");
        match (applied, dropped.get(op)) {
            (true, Some(code)) => out.push(format!(
                "nothing lost: {} was applied, yet its phone held it as refused ({code})",
                describe(op, trace)
            )),
            (false, None) => out.push(format!(
                "nothing lost: {} was refused ({}) but its phone never showed it",
                describe(op, trace),
                answers[0].outcome
            )),
            _ => {}
        }
    }
}

/// What the server's feed gives `user` from the start, folded to the last state of each record.
fn server_view(store: &MemoryStore, user: Uuid) -> anyhow::Result<BTreeMap<(String, Uuid), Record>> {
    let grants = store.user(user)?.map(|u| u.grants).unwrap_or_default();
    let mut view = BTreeMap::new();
    let mut after = 0;
    loop {
        let page = store.pull(&grants, Some(user), after, 10_000)?;
        for c in &page.changes {
            let key = (format!("{:?}", c.entity), c.id);
            match (&c.action, &c.record) {
                (ChangeAction::Put, Some(r)) => {
                    view.insert(key, r.clone());
                }
                _ => {
                    view.remove(&key);
                }
            }
        }
        if !page.has_more || page.position <= after {
            break;
        }
        after = page.position;
    }
    Ok(view)
}

fn same_view(
    store: &MemoryStore,
    phone: &dyn ClientStore,
    user: Uuid,
    who: &str,
    index: usize,
    trace: &Trace,
    out: &mut Vec<String>,
) -> anyhow::Result<()> {
    let server = server_view(store, user)?;
    let mut held = BTreeMap::new();
    for kind in KINDS {
        for r in phone.list_records(kind, usize::MAX)? {
            if let RecordState::Pending { .. } = r.state {
                out.push(format!(
                    "view: {who} (phone{index}) still holds {kind:?} {} unconfirmed",
                    trace.known(r.record.id())
                ));
            }
            held.insert((format!("{kind:?}"), r.record.id()), r.record);
        }
    }
    for (key, r) in &held {
        match server.get(key) {
            None => {
                out.push(format!("scope: {who} holds {} {} outside its scope on the server", key.0, trace.known(key.1)))
            }
            Some(s) if s != r => out.push(format!(
                "view: {who}'s {} {} differs from the server's in {}",
                key.0,
                trace.known(key.1),
                differing_fields(r, s)
            )),
            Some(_) => {}
        }
    }
    for key in server.keys() {
        if !held.contains_key(key) {
            out.push(format!("view: {who} lacks {} {} that the server has in its scope", key.0, trace.known(key.1)));
        }
    }
    Ok(())
}

fn ladder(
    store: &MemoryStore,
    decided: &BTreeMap<Made, Vec<Decided>>,
    trace: &Trace,
    out: &mut Vec<String>,
) -> anyhow::Result<()> {
    let mut escalations = Vec::new();
    for r in store.records_of_kind(EntityKind::Escalation)? {
        if let Record::Escalation(e) = r {
            escalations.push(e);
        }
    }
    for r in store.records_of_kind(EntityKind::Dispute)? {
        let Record::Dispute(d) = r else { continue };
        let mine: Vec<_> = escalations.iter().filter(|e| e.dispute_id == d.id).collect();
        let waiting: Vec<_> = mine.iter().filter(|e| e.decision.is_none()).collect();
        if waiting.len() > 1 || waiting.first().map(|e| e.id) != d.pending_escalation {
            out.push(format!(
                "one level at a time: {} has {} waiting escalations (pending: {:?})",
                trace.known(d.id),
                waiting.len(),
                d.pending_escalation.map(|e| trace.known(e))
            ));
        }
        let last_approved = mine
            .iter()
            .filter(|e| e.decision.as_ref().is_some_and(|x| x.approved))
            .max_by_key(|e| e.decision.as_ref().map(|x| x.decided_at));
        if let Some(e) = last_approved {
            if d.level != e.to_level {
                out.push(format!(
                    "one level at a time: {} stands at {:?} but its last approved move was to {:?}",
                    trace.known(d.id),
                    d.level,
                    e.to_level
                ));
            }
        }
    }
    for e in &escalations {
        let Some(decision) = &e.decision else { continue };
        if decision.decided_by == e.requested_by {
            out.push(format!("no self-approval: {} was decided by its own requester", trace.known(e.id)));
        }
        // The first decision the server applied is the one that stands.
        let mut firsts: Vec<(u64, Uuid, &str)> = decided
            .iter()
            .filter(|(m, _)| m.kind == "decide_escalation" && m.target == e.id)
            .flat_map(|(m, a)| a.iter().map(move |d| (d.seq, m.actor, d.outcome.as_str())))
            .collect();
        firsts.sort();
        let applied: Vec<_> = firsts.iter().filter(|(_, _, o)| *o == "applied").collect();
        if applied.len() > 1 {
            out.push(format!("first decision wins: {} was decided {} times", trace.known(e.id), applied.len()));
        }
        if let Some((_, actor, _)) = applied.first() {
            if *actor != decision.decided_by {
                out.push(format!(
                    "first decision wins: {} stands decided by {} but {} decided first",
                    trace.known(e.id),
                    trace.known(decision.decided_by),
                    trace.known(*actor)
                ));
            }
        }
    }
    Ok(())
}

fn subsidies(store: &MemoryStore, policy: &Policy, trace: &Trace, out: &mut Vec<String>) -> anyhow::Result<()> {
    let mut by_case: HashMap<Uuid, Vec<fengqiao_domain::subsidy::Subsidy>> = HashMap::new();
    for r in store.records_of_kind(EntityKind::Subsidy)? {
        if let Record::Subsidy(s) = r {
            if let Some(d) = s.dispute_id {
                by_case.entry(d).or_default().push(s);
            }
        }
    }
    for r in store.records_of_kind(EntityKind::Dispute)? {
        let Record::Dispute(d) = r else { continue };
        let subs = by_case.remove(&d.id).unwrap_or_default();
        let resolved = d.closing.as_ref().is_some_and(|c| c.outcome == ClosingOutcome::Resolved);
        if !resolved {
            if !subs.is_empty() {
                out.push(format!("paid once: {} is not resolved yet has {} subsidies", trace.known(d.id), subs.len()));
            }
            continue;
        }
        let payees: BTreeSet<Uuid> = subs.iter().map(|s| s.payee).collect();
        if payees.len() != subs.len() || payees != d.payees.iter().copied().collect() {
            out.push(format!(
                "paid once: {} has {} subsidies for {} payees (named {})",
                trace.known(d.id),
                subs.len(),
                payees.len(),
                d.payees.len()
            ));
        }
        // Each payee owed their share of the case's amount (a level with
        // nobody paid keeps its share), and the shares sum to what is paid.
        let owed = fengqiao_domain::subsidy::estimate_fen(&d, policy)
            .and_then(|amount| fengqiao_domain::model::credit::case_payee_shares(&d, amount, policy));
        let mut owed: Vec<(Uuid, i64)> = owed.unwrap_or_default();
        let mut paid: Vec<(Uuid, i64)> = subs.iter().map(|s| (s.payee, s.amount_fen)).collect();
        owed.sort();
        paid.sort();
        if owed != paid {
            let sum = |v: &[(Uuid, i64)]| v.iter().map(|(_, a)| a).sum::<i64>();
            out.push(format!(
                "splits: {}'s subsidies ({} fen to {}) differ from its shares ({} fen to {})",
                trace.known(d.id),
                sum(&paid),
                paid.len(),
                sum(&owed),
                owed.len()
            ));
        }
    }
    Ok(())
}

/// The top-level fields in which two records differ, with the phone's and the server's values.
fn differing_fields(phone: &Record, server: &Record) -> String {
    let (mut a, mut b) =
        (serde_json::to_value(phone).unwrap_or_default(), serde_json::to_value(server).unwrap_or_default());
    // A record is `{"kind", "data"}`: compare the data's fields.
    if let (Some(da), Some(db)) = (a.get("data").cloned(), b.get("data").cloned()) {
        (a, b) = (da, db);
    }
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else { return "its shape".into() };
    let mut out = Vec::new();
    for (k, va) in a {
        let vb = b.get(k).cloned().unwrap_or_default();
        if *va != vb {
            let short = |v: &serde_json::Value| v.to_string().chars().take(80).collect::<String>();
            out.push(format!("{k} (phone {}, server {})", short(va), short(&vb)));
        }
    }
    for k in b.keys() {
        if !a.contains_key(k) {
            out.push(format!("{k} (server only)"));
        }
    }
    out.join("; ")
}
