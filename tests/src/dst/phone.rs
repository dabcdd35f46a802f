//! One simulated phone: a real phone core ([`FieldClient`]) on a memory store
//! that outlives its restarts, its own clock (simulated time, skewed), its
//! transport on the simulated network, and its user's field day drawn from
//! the seed: visits, reports, escalations, decisions, sessions, closings;
//! syncs now and then, some cut short by a crash of the app.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use fengqiao_core::{ClientOptions, FieldClient, MemoryClientStore, NewDispute, NewSession, NewVisit, RetryPolicy};
use fengqiao_domain::disputes::{Analysis, ClosingOutcome, Difficulty, EscalationReason, Party};
use fengqiao_domain::ladder::{Grade, Level};
use fengqiao_domain::{Role, VisitKind};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

use super::county::{County, Person, PASSWORD};
use super::net::{Cuts, SimTransport, SERVER};
use super::trace::Trace;

/// An op a phone's user made: who, which kind, on which record.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Made {
    /// The author.
    pub actor: Uuid,
    /// The op's kind on the wire (`record_visit`).
    pub kind: &'static str,
    /// The record it creates or changes.
    pub target: Uuid,
}

/// What all phones share with the simulator (one thread runs them all).
pub struct Shared {
    /// The trace.
    pub trace: Arc<Trace>,
    /// The county.
    pub county: Arc<County>,
    /// Length of the field day; after it the phones drain their queues.
    pub day: Duration,
    /// Wall-clock start of the phones' clocks (their simulated time adds to it).
    pub t0: DateTime<Utc>,
    /// Every op any phone's user made.
    pub made: Mutex<Vec<Made>>,
    /// Quarantined ops the users dropped at the end, with the server's code.
    pub dropped: Mutex<Vec<(Made, String)>>,
    /// Phones whose queue is empty after the day.
    pub drained: AtomicUsize,
    /// Phones in the run.
    pub phones: usize,
    /// Each phone's store and user at quiescence.
    pub finals: Mutex<Vec<(usize, Person, Arc<MemoryClientStore>)>>,
}

/// One phone's draws from the seed.
#[derive(Debug, Clone)]
pub struct PhoneSpec {
    /// Its index (and host name `phone<i>`).
    pub index: usize,
    /// Its user.
    pub person: Person,
    /// Seed of its user's choices and its transport's cuts.
    pub seed: u64,
    /// Its clock's skew from the others.
    pub skew: chrono::Duration,
    /// How its exchanges are cut.
    pub cuts: Cuts,
    /// Chance that the app restarts before an action.
    pub restart_chance: f64,
    /// Chance that a sync is cut short by the app's crash.
    pub crash_in_sync_chance: f64,
}

/// The phone's clock: the run's start plus simulated time plus its skew.
#[derive(Debug)]
struct SimClock {
    start: DateTime<Utc>,
    base: tokio::time::Instant,
}

impl fengqiao_core::Clock for SimClock {
    fn now(&self) -> DateTime<Utc> {
        let since = tokio::time::Instant::now().saturating_duration_since(self.base);
        self.start + chrono::Duration::from_std(since).unwrap_or_default()
    }
}

fn options(clock: Arc<SimClock>, transport: Arc<SimTransport>) -> ClientOptions {
    ClientOptions {
        retry: RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(4),
        },
        connect_timeout: Duration::from_secs(10),
        request_timeout: Duration::from_secs(30),
        clock,
        transport: Some(transport),
        // Decided on the phone against the server's policy once pulled.
        ..ClientOptions::default()
    }
}

/// The phone's whole run: sign in, the day, the drain, the end.
pub async fn life(spec: PhoneSpec, shared: Arc<Shared>) -> turmoil::Result {
    let name = spec.person.username.clone();
    let trace = shared.trace.clone();
    let store = Arc::new(MemoryClientStore::new());
    let since = turmoil::sim_elapsed().unwrap_or_default();
    let clock = Arc::new(SimClock {
        start: shared.t0 + spec.skew + chrono::Duration::from_std(since).unwrap_or_default(),
        base: tokio::time::Instant::now(),
    });
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let transport =
        Arc::new(SimTransport::new(name.clone(), spec.cuts, StdRng::seed_from_u64(spec.seed ^ 0x5eed), trace.clone()));
    let open = || {
        FieldClient::with_store(store.clone(), format!("http://{SERVER}"), options(clock.clone(), transport.clone()))
    };
    let mut client = open()?;
    // Phones come into the day over its first hundredth; each user acts every
    // 1/200 to 1/25 of the day (every 2 to 19 minutes of an eight-hour day):
    // a shorter day is the same work, denser.
    let day_ms = shared.day.as_millis().max(200) as u64;
    tokio::time::sleep(Duration::from_millis(rng.gen_range(0..day_ms / 100))).await;
    loop {
        match client.login(name.clone(), PASSWORD.into()).await {
            Ok(_) => break,
            Err(e) => {
                trace.event(&name, format!("sign-in failed: {}", e.code()));
                tokio::time::sleep(Duration::from_secs(30)).await;
            }
        }
    }
    trace.event(&name, "signed in");
    let user = User { name: name.clone(), person: spec.person.clone(), shared: shared.clone() };
    while elapsed() < shared.day {
        let think = rng.gen_range(day_ms / 200..day_ms / 25);
        tokio::time::sleep(Duration::from_millis(think)).await;
        if elapsed() >= shared.day {
            break;
        }
        if rng.gen_bool(spec.restart_chance) {
            drop(client);
            trace.event(&name, "app restarted");
            client = open()?;
        }
        user.act(&client, &mut rng);
        if rng.gen_bool(0.6) {
            let crash = rng.gen_bool(spec.crash_in_sync_chance).then(|| Duration::from_millis(rng.gen_range(0..3000)));
            let crashed = user.sync(&client, crash).await;
            if crashed {
                drop(client);
                // The phone comes back a moment later (what the store held survives).
                tokio::time::sleep(Duration::from_secs(2)).await;
                client = open()?;
                trace.event(&name, "app reopened after the crash");
            }
        }
    }
    // The day is over: every queue drains, links healed.
    loop {
        let failed = user.sync(&client, None).await;
        let left = client.sync_status().map(|s| s.pending_ops).unwrap_or(u64::MAX);
        if !failed && left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_secs(20)).await;
    }
    trace.event(&name, "drained");
    shared.drained.fetch_add(1, Ordering::SeqCst);
    while shared.drained.load(Ordering::SeqCst) < shared.phones {
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
    // What the server refused is the user's to see and drop.
    for q in client.quarantined()? {
        let made = Made { actor: spec.person.id, kind: kind_name(&q.kind), target: q.record_id.unwrap_or_default() };
        trace.event(&name, format!("drops quarantined {} {} ({})", q.kind, trace.known(made.target), q.code));
        shared.dropped.lock().unwrap_or_else(|p| p.into_inner()).push((made, q.code.clone()));
        client.discard_quarantined(q.op_id)?;
    }
    while user.sync(&client, None).await {
        tokio::time::sleep(Duration::from_secs(20)).await;
    }
    trace.event(&name, "final pull done");
    shared.finals.lock().unwrap_or_else(|p| p.into_inner()).push((spec.index, spec.person.clone(), store.clone()));
    Ok(())
}

fn elapsed() -> Duration {
    turmoil::sim_elapsed().unwrap_or_default()
}

fn kind_name(kind: &str) -> &'static str {
    const KINDS: [&str; 7] = [
        "record_visit",
        "report_dispute",
        "request_escalation",
        "decide_escalation",
        "record_session",
        "close_dispute",
        "attach_photo",
    ];
    KINDS.iter().find(|k| **k == kind).copied().unwrap_or("other")
}

struct User {
    name: String,
    person: Person,
    shared: Arc<Shared>,
}

impl User {
    fn made(&self, kind: &'static str, target: Uuid) {
        self.shared.made.lock().unwrap_or_else(|p| p.into_inner()).push(Made { actor: self.person.id, kind, target });
    }

    /// Syncs; with `crash`, the app dies that long into it. True: an error
    /// (or the crash) ended it.
    async fn sync(&self, client: &FieldClient, crash: Option<Duration>) -> bool {
        let trace = &self.shared.trace;
        let fut = client.sync();
        tokio::pin!(fut);
        let res = match crash {
            None => fut.await,
            Some(after) => tokio::select! {
                biased;
                r = &mut fut => r,
                () = tokio::time::sleep(after) => {
                    trace.event(&self.name, format!("app crashed {} ms into a sync", after.as_millis()));
                    return true;
                }
            },
        };
        match res {
            Ok(r) => {
                trace.event(
                    &self.name,
                    format!(
                        "sync: {} applied, {} duplicate, {} refused, {} conflicts, {} pulled",
                        r.pushed_applied, r.pushed_duplicate, r.rejected, r.conflicts, r.pulled
                    ),
                );
                false
            }
            Err(e) => {
                trace.event(&self.name, format!("sync failed: {}", e.code()));
                true
            }
        }
    }

    /// One action of the user's, drawn from what their role may do now.
    fn act(&self, client: &FieldClient, rng: &mut StdRng) {
        let trace = &self.shared.trace;
        let r: f64 = rng.gen();
        if self.person.role == Role::GroupLeader && r < 0.4 {
            let hs = self.shared.county.households_of(self.person.unit);
            if hs.is_empty() {
                return;
            }
            let h = hs[rng.gen_range(0..hs.len())];
            let v = NewVisit {
                household_id: h,
                body: None,
                kind: VisitKind::Routine,
                visited_at: None,
                notes: "走访：家中无事".into(),
                location: None,
                leads: vec![],
            };
            match client.record_visit(v) {
                Ok(v) => {
                    let n = trace.name("V", v.id);
                    trace.event(&self.name, format!("records visit {n}"));
                    self.made("record_visit", v.id);
                }
                Err(e) => trace.event(&self.name, format!("visit refused: {}", e.code())),
            }
            return;
        }
        if self.person.role == Role::GroupLeader && r < 0.6 {
            let d = NewDispute {
                kind: "neighbour".into(),
                origin_unit: self.person.unit,
                parties: vec![
                    Party { name: "李四".into(), household_id: None, phone: None },
                    Party { name: "赵六".into(), household_id: None, phone: None },
                ],
                summary: "宅基地界址争议".into(),
                grade: Grade::General,
                analysis: Analysis {
                    cause: "界址不清".into(),
                    consequences: "可能动手".into(),
                    difficulty: Difficulty::Medium,
                },
                found_at: None,
                lead_id: None,
                level: None,
            };
            match client.report_dispute(d) {
                Ok(d) => {
                    let n = trace.name("D", d.id);
                    trace.event(&self.name, format!("reports dispute {n}"));
                    self.made("report_dispute", d.id);
                }
                Err(e) => trace.event(&self.name, format!("report refused: {}", e.code())),
            }
            return;
        }
        // Decide a waiting escalation (two approvers may race for it).
        // Choices are drawn from lists ordered by the trace's names (record ids
        // are random, so their order is not the seed's).
        if let Ok(mut inbox) = client.escalation_inbox() {
            inbox.sort_by_cached_key(|i| label_key(&trace.known(i.escalation.id)));
            if !inbox.is_empty() && rng.gen_bool(0.7) {
                let item = &inbox[rng.gen_range(0..inbox.len())];
                let approve = rng.gen_bool(0.8);
                let e = item.escalation.id;
                match client.decide_escalation(e, approve, if approve { "同意" } else { "不同意" }.into()) {
                    Ok(_) => {
                        let verb = if approve { "approves" } else { "refuses" };
                        trace.event(&self.name, format!("{verb} escalation {}", trace.known(e)));
                        self.made("decide_escalation", e);
                    }
                    Err(err) => trace.event(&self.name, format!("decision refused: {}", err.code())),
                }
                return;
            }
        }
        // Work on a dispute the user handles.
        let Ok(disputes) = client.list_disputes() else { return };
        let mut open: Vec<_> = disputes.iter().filter(|d| d.dispute.closing.is_none() && !d.quarantined).collect();
        open.sort_by_cached_key(|d| label_key(&trace.known(d.dispute.id)));
        if open.is_empty() {
            return;
        }
        let d = open[rng.gen_range(0..open.len())].dispute.id;
        let Ok(actions) = client.allowed_actions(d) else { return };
        let dn = trace.known(d);
        let pick: f64 = rng.gen();
        if !actions.escalate_to.is_empty() && pick < 0.35 {
            let to = actions.escalate_to[0];
            if to == Level::Group {
                return;
            }
            match client.request_escalation(d, to, EscalationReason::OutsideLevelScope, String::new()) {
                Ok(e) => {
                    let n = trace.name("E", e.id);
                    trace.event(&self.name, format!("asks to move {dn} up to {to:?} ({n})"));
                    self.made("request_escalation", e.id);
                }
                Err(err) => trace.event(&self.name, format!("escalation refused: {}", err.code())),
            }
        } else if actions.close && pick < 0.6 {
            let outcome = if rng.gen_bool(0.7) { ClosingOutcome::Resolved } else { ClosingOutcome::NotResolved };
            match client.close_dispute(d, outcome, "结案".into()) {
                Ok(_) => {
                    trace.event(&self.name, format!("closes {dn} as {outcome:?}"));
                    self.made("close_dispute", d);
                }
                Err(err) => trace.event(&self.name, format!("closing refused: {}", err.code())),
            }
        } else if actions.record {
            let s = NewSession {
                dispute_id: d,
                held_at: None,
                place: "村委会".into(),
                mediators: vec![],
                participants: vec!["老党员".into()],
                record: "双方陈述，初步达成意向".into(),
                agreed: rng.gen_bool(0.5),
            };
            match client.record_session(s) {
                Ok(s) => {
                    let n = trace.name("S", s.id);
                    trace.event(&self.name, format!("records session {n} on {dn}"));
                    self.made("record_session", s.id);
                }
                Err(err) => trace.event(&self.name, format!("session refused: {}", err.code())),
            }
        }
    }
}

/// `D12` sorts after `D9`.
fn label_key(label: &str) -> (String, u64, String) {
    let digits = label.trim_start_matches(|c: char| !c.is_ascii_digit());
    let prefix = label[..label.len() - digits.len()].to_string();
    (prefix, digits.parse().unwrap_or(u64::MAX), label.to_string())
}
