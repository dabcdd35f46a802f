//! What holds now for the signed-in user that they are to be told of, each
//! with its durable dedupe key. Computed from the records on the phone with the
//! core's own lists (the inbox, "my disputes", my subsidies, the screening due),
//! so what is told and what the tabs show never disagree.

use std::collections::HashMap;

use fengqiao_domain::ladder::DeadlineState;
use fengqiao_domain::subsidy::SubsidyStatus;
use fengqiao_domain::{EntityKind, Record};
use uuid::Uuid;

use super::book::StoredNotice;
use super::NoticeData;
use crate::client::FieldClient;
use crate::error::Error;
use crate::store::{RecordState, StoredSession};

impl FieldClient {
    /// Every event that holds now for the user (told or not).
    pub(super) fn notice_facts(&self, session: &StoredSession) -> Result<Vec<StoredNotice>, Error> {
        let user = session.user.id;
        let mut out = Vec::new();
        let case_numbers = self.case_numbers(user)?;
        let number = |d: Uuid| case_numbers.get(&d).cloned().unwrap_or_default();

        // an escalation awaits my decision
        for i in self.escalation_inbox_inner()? {
            let e = &i.escalation;
            out.push(StoredNotice {
                key: format!("awaits:{}", e.id),
                dispute_id: Some(e.dispute_id),
                subject_id: Some(e.id),
                case_number: i.dispute.dispute.case_number.clone(),
                at: e.requested_at,
                data: NoticeData::Awaits {
                    to_level: e.to_level,
                    grade: e.grade,
                    requester: self.display_name_inner(e.requested_by)?,
                },
            });
        }

        // my request was decided (as the server has it)
        for local in self.store.list_records(EntityKind::Escalation, usize::MAX)? {
            if local.state != RecordState::Synced {
                continue;
            }
            let Record::Escalation(e) = local.record else { continue };
            let Some(dec) = e.decision.as_ref().filter(|_| e.requested_by == user) else { continue };
            out.push(StoredNotice {
                key: format!("decided:{}", e.id),
                dispute_id: Some(e.dispute_id),
                subject_id: Some(e.id),
                case_number: number(e.dispute_id),
                at: dec.decided_at,
                data: NoticeData::Decided {
                    approved: dec.approved,
                    to_level: e.to_level,
                    by: self.display_name_inner(dec.decided_by)?,
                    comment: dec.comment.clone(),
                },
            });
        }

        // a case I handle nears or passes its deadline (each deadline once per state)
        for i in self.dispute_items(session, crate::DisputeFilter::Mine)? {
            if !i.handled_by_me || i.pending {
                continue;
            }
            let overdue = match i.deadline_state {
                Some(DeadlineState::Approaching) => false,
                Some(DeadlineState::Overdue) => true,
                _ => continue,
            };
            let state = if overdue { "overdue" } else { "approaching" };
            out.push(StoredNotice {
                key: format!("deadline:{}:{state}:{}", i.dispute.id, i.deadline.timestamp_millis()),
                dispute_id: Some(i.dispute.id),
                subject_id: Some(i.dispute.id),
                case_number: i.dispute.case_number.clone(),
                at: i.deadline,
                data: NoticeData::Deadline { deadline: i.deadline, overdue },
            });
        }

        // my case file was returned (the latest review of a case I am paid or credited for)
        let mut latest: HashMap<Uuid, fengqiao_domain::subsidy::CaseReview> = HashMap::new();
        for local in self.store.list_records(EntityKind::CaseReview, usize::MAX)? {
            if !local.shown_to(user) {
                continue;
            }
            let Record::CaseReview(r) = local.record else { continue };
            let newer = latest.get(&r.dispute_id).is_none_or(|l| (l.reviewed_at, l.id) < (r.reviewed_at, r.id));
            if newer {
                latest.insert(r.dispute_id, r);
            }
        }
        for r in latest.into_values().filter(|r| !r.passed) {
            let Some(Record::Dispute(d)) = self.store.get_record(EntityKind::Dispute, r.dispute_id)?.map(|l| l.record)
            else {
                continue;
            };
            if !(d.payees.contains(&user) || d.credited.contains(&user) || d.reported_by == user) {
                continue;
            }
            out.push(StoredNotice {
                key: format!("returned:{}", r.id),
                dispute_id: Some(d.id),
                subject_id: Some(r.id),
                case_number: d.case_number.clone(),
                at: r.reviewed_at,
                data: NoticeData::Returned { reasons: r.reasons.clone() },
            });
        }

        // my subsidy was paid
        for s in self.my_subsidies_inner(user)?.items.into_iter().map(|i| i.subsidy) {
            let (SubsidyStatus::Paid, Some(paid_at)) = (s.status, s.paid_at) else { continue };
            out.push(StoredNotice {
                key: format!("paid:{}", s.id),
                dispute_id: s.dispute_id,
                subject_id: Some(s.id),
                case_number: s.case_number.clone(),
                at: paid_at,
                data: NoticeData::Paid { amount_fen: s.amount_fen, paid_at, payment_ref: s.payment_ref.clone() },
            });
        }

        // a screening is due
        if let Some(due) = self.screening_due_inner()? {
            out.push(StoredNotice {
                key: format!("screening:{}:{}", due.village_id, due.period),
                dispute_id: None,
                subject_id: Some(due.village_id),
                case_number: String::new(),
                at: self.options.clock.now(),
                data: NoticeData::Screening { village: due.village_name, period: due.period },
            });
        }

        // my decision lost to a colleague's
        for lost in self.lost_decisions(user)? {
            out.push(StoredNotice {
                key: format!("superseded:{}", lost.op_id),
                dispute_id: Some(lost.dispute_id),
                subject_id: Some(lost.escalation_id),
                case_number: number(lost.dispute_id),
                at: lost.standing.decided_at,
                data: NoticeData::Superseded {
                    approved: lost.standing.approved,
                    by: self.display_name_inner(lost.standing.decided_by)?,
                },
            });
        }
        Ok(out)
    }

    /// Case numbers of the disputes the user sees, by id.
    pub(crate) fn case_numbers(&self, user: Uuid) -> Result<HashMap<Uuid, String>, Error> {
        Ok(self
            .store
            .list_records(EntityKind::Dispute, usize::MAX)?
            .into_iter()
            .filter(|r| r.shown_to(user))
            .filter_map(|r| match r.record {
                Record::Dispute(d) => Some((d.id, d.case_number)),
                _ => None,
            })
            .collect())
    }
}
