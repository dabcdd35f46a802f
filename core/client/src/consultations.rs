//! Legal consultations (法律咨询) a village's legal advisor logs on the phone,
//! offline: the villager's question, the advice, what came of it and the
//! villager's satisfaction. The server accrues the advisor's consultation
//! subsidy at the estimate of that outcome and satisfaction (it reaches the
//! advisor's "my subsidies" and the county's ledger); the judicial office's
//! review makes it final.

use chrono::{DateTime, Utc};
use fengqiao_domain::disputes::Satisfaction;
use fengqiao_domain::subsidy::{Consultation, ConsultationOutcome};
use fengqiao_domain::wire::Op;
use fengqiao_domain::{EntityKind, Record};
use uuid::Uuid;

use crate::client::FieldClient;
use crate::error::{ClientError, Error};
use crate::store::RecordState;

/// A consultation as the advisor enters it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConsultation {
    /// The advisor's village.
    pub village_id: Uuid,
    /// The villager's question (personal data).
    pub question: String,
    /// The advice given.
    pub answer: String,
    /// What came of it.
    pub outcome: ConsultationOutcome,
    /// The villager's satisfaction.
    pub satisfaction: Satisfaction,
    /// When it was held; `None`: now.
    pub at: Option<DateTime<Utc>>,
}

/// A consultation on the phone with where it stands with the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsultationItem {
    /// The consultation (with the judicial office's review once it has one).
    pub consultation: Consultation,
    /// Logged here and not yet confirmed by the server.
    pub pending: bool,
}

impl FieldClient {
    /// Logs a legal consultation offline (the village's legal advisor), checked
    /// by the domain's rule like every op.
    pub fn record_consultation(&self, new: NewConsultation) -> Result<Consultation, ClientError> {
        self.submit(|a| {
            Op::RecordConsultation(Consultation {
                id: fengqiao_domain::new_id(),
                village_id: new.village_id,
                at: new.at.unwrap_or(a.now),
                question: new.question,
                answer: new.answer,
                satisfaction: new.satisfaction,
                advisor: a.user,
                outcome: Some(new.outcome),
                review: None,
            })
        })
    }

    /// The consultations the signed-in user logged, newest first. Offline.
    pub fn my_consultations(&self) -> Result<Vec<ConsultationItem>, ClientError> {
        let run = || -> Result<Vec<ConsultationItem>, Error> {
            let user = self.session()?.user.id;
            let mut out: Vec<ConsultationItem> = self
                .store
                .list_records(EntityKind::Consultation, usize::MAX)?
                .into_iter()
                .filter(|r| r.shown_to(user))
                .filter_map(|r| match r.record {
                    Record::Consultation(c) if c.advisor == user => Some(ConsultationItem {
                        consultation: c,
                        pending: matches!(r.state, RecordState::Pending { .. }),
                    }),
                    _ => None,
                })
                .collect();
            out.sort_by_key(|i| std::cmp::Reverse((i.consultation.at, i.consultation.id)));
            Ok(out)
        };
        Ok(run()?)
    }
}
