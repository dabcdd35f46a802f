//! Being told: the notices the core works out after every sync (once each,
//! durably), the counts on the apps' tabs and the global indicator. The app
//! raises each notice (tag: its `key`), then acknowledges it.

use fengqiao_core::{
    Indicator as CoreIndicator, Notice as CoreNotice, NoticeKind as CoreKind, NoticeTab as CoreTab,
    TabCounts as CoreCounts,
};

use crate::client::FieldClient;
use crate::convert::{id, millis, mirror_enum};
use crate::error::FengqiaoError;
use crate::runtime::guard;

/// What a notice tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
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
mirror_enum!(NoticeKind <=> CoreKind {
    AwaitsDecision,
    RequestDecided,
    DeadlineApproaching,
    DeadlineOverdue,
    CaseFileReturned,
    SubsidyPaid,
    ScreeningDue,
    DecisionSuperseded,
});

/// Which tab of the app a notice opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
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
mirror_enum!(NoticeTab <=> CoreTab { Inbox, Disputes, Subsidies, Prevention });

/// One thing the user is told, in the core's locale.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Notice {
    /// Durable dedupe key: the platform notification's tag, and what to acknowledge.
    pub key: String,
    /// What it tells.
    pub kind: NoticeKind,
    /// The tab it opens.
    pub tab: NoticeTab,
    /// The dispute it concerns (opens its case), if any.
    pub dispute_id: Option<String>,
    /// The record it is about (escalation, review, subsidy or village).
    pub subject_id: Option<String>,
    /// The case number (empty for a screening).
    pub case_number: String,
    /// When it happened, or the deadline (ms, UTC).
    pub at_ms: i64,
    /// The title.
    pub title: String,
    /// The text.
    pub body: String,
    /// For a paid subsidy: the amount in fen.
    pub amount_fen: Option<i64>,
    /// For a paid subsidy: the payment reference.
    pub payment_ref: Option<String>,
}

impl From<CoreNotice> for Notice {
    fn from(n: CoreNotice) -> Self {
        Notice {
            key: n.key,
            kind: n.kind.into(),
            tab: n.tab.into(),
            dispute_id: n.dispute_id.map(id),
            subject_id: n.subject_id.map(id),
            case_number: n.case_number,
            at_ms: millis(n.at),
            title: n.title,
            body: n.body,
            amount_fen: n.amount_fen,
            payment_ref: n.payment_ref,
        }
    }
}

/// The counts on the app's tabs.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct TabCounts {
    /// Escalations awaiting the user's decision.
    pub inbox: u32,
    /// The user's open cases near or past their deadline.
    pub my_disputes: u32,
    /// The user's subsidies whose file was returned.
    pub subsidies: u32,
    /// Case files waiting for the user's review (judicial office).
    pub reviews: u32,
    /// Screenings the user's villages owe.
    pub screenings: u32,
    /// Notices not yet acknowledged.
    pub notices: u32,
}

impl From<CoreCounts> for TabCounts {
    fn from(c: CoreCounts) -> Self {
        TabCounts {
            inbox: c.inbox,
            my_disputes: c.my_disputes,
            subsidies: c.subsidies,
            reviews: c.reviews,
            screenings: c.screenings,
            notices: c.notices,
        }
    }
}

/// The global indicator.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Indicator {
    /// The user's operations waiting to be sent.
    pub pending_ops: u64,
    /// The user's photos still to upload.
    pub photos_pending: u64,
    /// When the last sync completed (ms, UTC).
    pub last_sync_at_ms: Option<i64>,
    /// The user's refused operations waiting for them.
    pub quarantined: u32,
    /// The server ended the session.
    pub session_expired: bool,
    /// Notices not yet acknowledged.
    pub unread_notices: u32,
    /// Anything needing the user.
    pub needs_user: bool,
    /// One line for the screen, in the core's locale.
    pub summary: String,
}

impl From<CoreIndicator> for Indicator {
    fn from(i: CoreIndicator) -> Self {
        Indicator {
            pending_ops: i.pending_ops,
            photos_pending: i.photos_pending,
            last_sync_at_ms: i.last_sync_at.map(millis),
            quarantined: i.quarantined,
            session_expired: i.session_expired,
            unread_notices: i.unread_notices,
            needs_user: i.needs_user,
            summary: i.summary,
        }
    }
}

#[uniffi::export]
impl FieldClient {
    /// Works out what is new for the signed-in user and keeps it to be shown;
    /// the notices this call added (sync does it after every sync; call it
    /// after unlocking or on a timer, as deadlines pass offline). Each event
    /// is given once, even across restarts and racing calls.
    pub fn refresh_notices(&self) -> Result<Vec<Notice>, FengqiaoError> {
        guard(|| Ok(self.core().refresh_notices()?.into_iter().map(Notice::from).collect()))
    }

    /// The notices given and not yet acknowledged, oldest first. Offline.
    pub fn pending_notices(&self) -> Result<Vec<Notice>, FengqiaoError> {
        guard(|| Ok(self.core().pending_notices()?.into_iter().map(Notice::from).collect()))
    }

    /// Marks notices shown (by key): never given again. Returns how many were removed.
    pub fn acknowledge_notices(&self, keys: Vec<String>) -> Result<u32, FengqiaoError> {
        guard(|| Ok(self.core().acknowledge_notices(keys)?))
    }

    /// The counts on the app's tabs. Offline.
    pub fn tab_counts(&self) -> Result<TabCounts, FengqiaoError> {
        guard(|| Ok(self.core().tab_counts()?.into()))
    }

    /// The global indicator: what waits to be sent, the last sync, anything
    /// needing the user, and one line in words. Offline.
    pub fn indicator(&self) -> Result<Indicator, FengqiaoError> {
        guard(|| Ok(self.core().indicator()?.into()))
    }
}
