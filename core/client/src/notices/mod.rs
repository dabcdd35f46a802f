//! Being told: after every sync the core works out, once, what is new for the
//! signed-in user — an escalation awaits their decision, their request was
//! decided, a case of theirs nears or passes its deadline, their case file was
//! returned, their subsidy was paid, a screening is due, their decision lost to
//! a colleague's — as typed [`Notice`]s with words from [`crate::messages`].
//!
//! Each event has a durable dedupe key (the record and the instance: the
//! escalation, the deadline's time, the review, the subsidy, the period). The
//! events are computed from the state on the phone, not from what a sync
//! brought, so a sync cut anywhere loses none: the next computation sees the
//! same state. New keys and their notices are written in one durable step
//! ([`book`]) under a lock, so two computations racing give each event once.
//! The app raises what [`FieldClient::pending_notices`] returns and then
//! acknowledges it; a crash between the two raises it again under the same key
//! (the platforms replace a notification of the same tag), never a second one.
//!
//! Tab counts and the global indicator come from here too: the apps count
//! nothing themselves.

mod book;
mod facts;
#[cfg(test)]
mod tests;
mod words;

use chrono::{DateTime, Duration, Utc};
use fengqiao_domain::ladder::{Grade, Level};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub(crate) use self::book::Book;
use self::book::StoredNotice;
use crate::client::FieldClient;
use crate::error::{ClientError, Error};
use crate::messages::locale;

/// Events older than this when first seen are recorded as seen without being
/// told (a phone signed in for the first time is not flooded with old news).
/// Events that are states (awaiting, deadlines, screenings) are told whatever
/// their age.
pub const NOTICE_HORIZON_DAYS: i64 = 30;

/// What a notice tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NoticeKind {
    /// An escalation awaits the user's decision.
    AwaitsDecision,
    /// The user's escalation request was decided.
    RequestDecided,
    /// A case the user handles nears its deadline.
    DeadlineApproaching,
    /// A case the user handles passed its deadline.
    DeadlineOverdue,
    /// The judicial office returned a case file of the user's.
    CaseFileReturned,
    /// The user's subsidy was paid.
    SubsidyPaid,
    /// A village of the user's owes its screening for the period.
    ScreeningDue,
    /// The user's decision lost to a colleague's, which stands.
    DecisionSuperseded,
}

/// Which tab of the apps a notice opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoticeTab {
    /// The approval inbox.
    Inbox,
    /// My disputes.
    Disputes,
    /// My subsidies.
    Subsidies,
    /// Prevention (screenings).
    Prevention,
}

/// The facts of a notice, kept with it and put into words when read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum NoticeData {
    Awaits { to_level: Level, grade: Grade, requester: Option<String> },
    Decided { approved: bool, to_level: Level, by: Option<String>, comment: String },
    Deadline { deadline: DateTime<Utc>, overdue: bool },
    Returned { reasons: Vec<String> },
    Paid { amount_fen: i64, paid_at: DateTime<Utc>, payment_ref: String },
    Screening { village: String, period: String },
    Superseded { approved: bool, by: Option<String> },
}

impl NoticeData {
    fn kind(&self) -> NoticeKind {
        match self {
            NoticeData::Awaits { .. } => NoticeKind::AwaitsDecision,
            NoticeData::Decided { .. } => NoticeKind::RequestDecided,
            NoticeData::Deadline { overdue: false, .. } => NoticeKind::DeadlineApproaching,
            NoticeData::Deadline { overdue: true, .. } => NoticeKind::DeadlineOverdue,
            NoticeData::Returned { .. } => NoticeKind::CaseFileReturned,
            NoticeData::Paid { .. } => NoticeKind::SubsidyPaid,
            NoticeData::Screening { .. } => NoticeKind::ScreeningDue,
            NoticeData::Superseded { .. } => NoticeKind::DecisionSuperseded,
        }
    }

    /// Whether this is news of a moment (told only when recent) rather than a state.
    fn is_news(&self) -> bool {
        matches!(
            self,
            NoticeData::Decided { .. }
                | NoticeData::Returned { .. }
                | NoticeData::Paid { .. }
                | NoticeData::Superseded { .. }
        )
    }
}

/// One thing the user is told, in the core's locale.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    /// Durable dedupe key (also the platform notification's tag).
    pub key: String,
    /// What it tells.
    pub kind: NoticeKind,
    /// The tab it opens.
    pub tab: NoticeTab,
    /// The dispute it concerns, if any (opens its case).
    pub dispute_id: Option<Uuid>,
    /// The record it is about: the escalation, review, subsidy or village.
    pub subject_id: Option<Uuid>,
    /// The case number (empty for a screening).
    pub case_number: String,
    /// When the event happened (or the deadline, for a deadline).
    pub at: DateTime<Utc>,
    /// The title, e.g. `待您审批`.
    pub title: String,
    /// The text, naming the case and what happened.
    pub body: String,
    /// For a paid subsidy: the amount in fen.
    pub amount_fen: Option<i64>,
    /// For a paid subsidy: the payment reference.
    pub payment_ref: Option<String>,
}

/// Counts for the apps' tabs, computed by the core.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TabCounts {
    /// Escalations awaiting the user's decision.
    pub inbox: u32,
    /// The user's open cases near or past their deadline.
    pub my_disputes: u32,
    /// The user's subsidies whose case file was returned (waiting on them).
    pub subsidies: u32,
    /// Case files waiting for the user's review (judicial office).
    pub reviews: u32,
    /// Screenings the user's villages owe for the period.
    pub screenings: u32,
    /// Notices given and not yet acknowledged.
    pub notices: u32,
}

/// The global indicator: what waits to be sent, when the phone last synced,
/// and whether anything needs the user.
#[derive(Debug, Clone, PartialEq)]
pub struct Indicator {
    /// The user's operations waiting to be sent.
    pub pending_ops: u64,
    /// The user's photos still to upload.
    pub photos_pending: u64,
    /// When the last sync completed.
    pub last_sync_at: Option<DateTime<Utc>>,
    /// The user's refused operations waiting for them.
    pub quarantined: u32,
    /// The server ended the session (sign in again to sync).
    pub session_expired: bool,
    /// Notices not yet acknowledged.
    pub unread_notices: u32,
    /// Anything needing the user: a refused operation, an ended session, an
    /// unread notice, or a decision or review waiting on them.
    pub needs_user: bool,
    /// One line for the screen, in the core's locale.
    pub summary: String,
}

fn render(n: &StoredNotice, client: &FieldClient) -> Notice {
    let kind = n.data.kind();
    let (title, body) = words::text(&n.data, &n.case_number, client, locale());
    let tab = match kind {
        NoticeKind::AwaitsDecision | NoticeKind::DecisionSuperseded => NoticeTab::Inbox,
        NoticeKind::RequestDecided | NoticeKind::DeadlineApproaching | NoticeKind::DeadlineOverdue => {
            NoticeTab::Disputes
        }
        NoticeKind::CaseFileReturned | NoticeKind::SubsidyPaid => NoticeTab::Subsidies,
        NoticeKind::ScreeningDue => NoticeTab::Prevention,
    };
    let (amount_fen, payment_ref) = match &n.data {
        NoticeData::Paid { amount_fen, payment_ref, .. } => (Some(*amount_fen), Some(payment_ref.clone())),
        _ => (None, None),
    };
    Notice {
        key: n.key.clone(),
        kind,
        tab,
        dispute_id: n.dispute_id,
        subject_id: n.subject_id,
        case_number: n.case_number.clone(),
        at: n.at,
        title,
        body,
        amount_fen,
        payment_ref,
    }
}

impl FieldClient {
    /// Works out what is new for the signed-in user since the core last told
    /// them (see the module's documentation) and keeps it to be shown: the
    /// notices this call added, oldest first. `sync` runs it after every sync;
    /// the app calls it after unlocking or on a timer (deadlines pass offline).
    /// Two calls at once give each event once.
    pub fn refresh_notices(&self) -> Result<Vec<Notice>, ClientError> {
        Ok(self.refresh_notices_inner()?.iter().map(|n| render(n, self)).collect())
    }

    pub(crate) fn refresh_notices_inner(&self) -> Result<Vec<StoredNotice>, Error> {
        let _only_one = self.notice_lock.lock().unwrap_or_else(|p| p.into_inner());
        let session = self.session()?;
        let user = session.user.id;
        self.settle_lost_decisions(&session)?;
        let now = self.options.clock.now();
        let current = self.notice_facts(&session)?;
        let mut book = Book::load(self.store.as_ref(), user)?;
        let horizon = now - Duration::days(NOTICE_HORIZON_DAYS);
        let mut added = Vec::new();
        let mut dirty = false;
        for n in &current {
            if book.seen.contains_key(&n.key) {
                continue;
            }
            book.seen.insert(n.key.clone(), now);
            dirty = true;
            if n.data.is_news() && n.at < horizon {
                continue;
            }
            added.push(n.clone());
        }
        let keys = current.iter().map(|n| n.key.clone()).collect();
        let before = book.seen.len();
        book.prune(&keys, now);
        if !dirty && before == book.seen.len() {
            // nothing new: no write (a quiet periodic sync costs no flush here)
            return Ok(added);
        }
        added.sort_by(|a, b| (a.at, &a.key).cmp(&(b.at, &b.key)));
        book.pending.extend(added.iter().cloned());
        book.save(self.store.as_ref(), user)?;
        if !added.is_empty() {
            tracing::info!(count = added.len(), "new notices");
        }
        Ok(added)
    }

    /// The notices given and not yet acknowledged, oldest first, in the
    /// core's locale. Offline.
    pub fn pending_notices(&self) -> Result<Vec<Notice>, ClientError> {
        let run = || -> Result<Vec<Notice>, Error> {
            let user = self.session()?.user.id;
            Ok(Book::load(self.store.as_ref(), user)?.pending.iter().map(|n| render(n, self)).collect())
        };
        Ok(run()?)
    }

    /// Marks notices as shown (by key): they leave
    /// [`pending_notices`](Self::pending_notices) and are never given again.
    /// Unknown keys are ignored. Returns how many were removed.
    pub fn acknowledge_notices(&self, keys: Vec<String>) -> Result<u32, ClientError> {
        let run = || -> Result<u32, Error> {
            let _only_one = self.notice_lock.lock().unwrap_or_else(|p| p.into_inner());
            let user = self.session()?.user.id;
            let mut book = Book::load(self.store.as_ref(), user)?;
            let before = book.pending.len();
            book.pending.retain(|n| !keys.contains(&n.key));
            let removed = before - book.pending.len();
            if removed > 0 {
                book.save(self.store.as_ref(), user)?;
            }
            Ok(u32::try_from(removed).unwrap_or(u32::MAX))
        };
        Ok(run()?)
    }

    /// The counts on the apps' tabs. Offline.
    pub fn tab_counts(&self) -> Result<TabCounts, ClientError> {
        let run = || -> Result<TabCounts, Error> {
            let session = self.session()?;
            let c = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
            let mine = self.dispute_items(&session, crate::DisputeFilter::Mine)?;
            let attention = mine
                .iter()
                .filter(|i| {
                    i.handled_by_me
                        && i.dispute.closing.is_none()
                        && matches!(
                            i.deadline_state,
                            Some(fengqiao_domain::ladder::DeadlineState::Approaching)
                                | Some(fengqiao_domain::ladder::DeadlineState::Overdue)
                        )
                })
                .count();
            let subsidies = self
                .my_subsidies_inner(session.user.id)?
                .items
                .iter()
                .filter(|i| i.subsidy.status == fengqiao_domain::subsidy::SubsidyStatus::UnderReview)
                .count();
            let unread = Book::load(self.store.as_ref(), session.user.id)?.pending.len();
            Ok(TabCounts {
                inbox: c(self.escalation_inbox_inner()?.len()),
                my_disputes: c(attention),
                subsidies: c(subsidies),
                reviews: c(self.review_queue_inner()?.len()),
                screenings: c(usize::from(self.screening_due_inner()?.is_some())),
                notices: c(unread),
            })
        };
        Ok(run()?)
    }

    /// The global indicator (see [`Indicator`]). Offline.
    pub fn indicator(&self) -> Result<Indicator, ClientError> {
        let status = self.sync_status()?;
        let counts = self.tab_counts()?;
        let quarantined = u32::try_from(status.quarantined.len()).unwrap_or(u32::MAX);
        let needs_user =
            quarantined > 0 || status.session_expired || counts.notices > 0 || counts.inbox > 0 || counts.reviews > 0;
        let mut ind = Indicator {
            pending_ops: status.pending_ops,
            photos_pending: status.photos_pending,
            last_sync_at: status.last_sync_at,
            quarantined,
            session_expired: status.session_expired,
            unread_notices: counts.notices,
            needs_user,
            summary: String::new(),
        };
        ind.summary = words::indicator(&ind, &counts, self, locale());
        Ok(ind)
    }
}
