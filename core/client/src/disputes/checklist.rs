//! A dispute's case-file checklist (案卷材料) as the mediator sees it: every
//! item of the county's checklist with its Chinese label and whether the file
//! holds it, the required ones still missing, and the last review of the file
//! (评查) with its reasons in Chinese. A returned file is fixed by
//! photographing each missing paper (`attach_case_file_photo` with the item's
//! code); once nothing required is missing the file waits for the judicial
//! office's review again.

use std::collections::HashSet;

use fengqiao_domain::policy::Policy;
use fengqiao_domain::subsidy::{missing_items, FileItem};
use fengqiao_domain::{EntityKind, Record};
use uuid::Uuid;

use crate::client::FieldClient;
use crate::error::{ClientError, Error};
use crate::review::ReviewView;
use crate::store::RecordState;

/// One item of the county's checklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecklistLine {
    /// Stable code (the `file_item` a photo files it under).
    pub code: String,
    /// Chinese label from the county's policy.
    pub label: String,
    /// Required in every file.
    pub required: bool,
    /// The file holds it (a record or a photo), on this phone.
    pub present: bool,
}

/// Where a dispute's case file stands.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseFileCheck {
    /// The dispute.
    pub dispute_id: Uuid,
    /// Every checklist item, in the county's order.
    pub items: Vec<ChecklistLine>,
    /// The required items still missing, in the same order.
    pub missing: Vec<ChecklistLine>,
    /// The last review, if any reached this phone, its reasons in words.
    pub last_review: Option<ReviewView>,
    /// The last review returned the file and nothing required is missing any
    /// more: it waits for the judicial office's review again.
    pub ready_for_review: bool,
}

impl FieldClient {
    /// Checklist papers photographed on this phone for the dispute (or one of
    /// its records) whose attach the server has not confirmed yet.
    fn unsynced_papers(&self, dispute_id: Uuid, user: Uuid) -> Result<Vec<FileItem>, Error> {
        let mut targets: HashSet<Uuid> = HashSet::from([dispute_id]);
        for kind in [
            EntityKind::MediationSession,
            EntityKind::Agreement,
            EntityKind::FollowUp,
            EntityKind::JudicialConfirmation,
        ] {
            for r in self.store.list_records(kind, usize::MAX)? {
                if r.record.dispute_id() == Some(dispute_id) {
                    targets.insert(r.record.id());
                }
            }
        }
        Ok(self
            .store
            .list_records(EntityKind::Attachment, usize::MAX)?
            .into_iter()
            .filter(|r| matches!(r.state, RecordState::Pending { .. }) && r.shown_to(user))
            .filter_map(|r| match r.record {
                Record::Attachment(a) if targets.contains(&a.target_id) => {
                    a.file_item.map(|item| FileItem { item, kind: EntityKind::Attachment, id: a.id })
                }
                _ => None,
            })
            .collect())
    }

    /// Where a dispute's case file stands: its checklist, the required items
    /// missing (by their Chinese labels), the last review and its reasons in
    /// Chinese. Offline; a photo filed here counts at once.
    pub fn case_file_check(&self, dispute_id: Uuid) -> Result<CaseFileCheck, ClientError> {
        let item = self.dispute(dispute_id)?;
        let run = || -> Result<CaseFileCheck, Error> {
            let user = self.session()?.user.id;
            let policy = self.policy();
            let d = &item.dispute;
            // the file as the server keeps it, plus the papers photographed here and
            // not yet synced (the server adds their lines when it takes the photo)
            let mut file = d.case_file.clone();
            file.extend(self.unsynced_papers(dispute_id, user)?);
            let missing_codes = missing_items(&file, &policy);
            let items = checklist_lines(&file, &policy);
            let missing = items.iter().filter(|l| missing_codes.contains(&l.code)).cloned().collect();
            let last_review = self.reviews_of(dispute_id, user)?.pop();
            let ready_for_review = last_review.as_ref().is_some_and(|r| !r.review.passed) && missing_codes.is_empty();
            Ok(CaseFileCheck { dispute_id, items, missing, last_review, ready_for_review })
        };
        Ok(run()?)
    }
}

/// The county's checklist over a file: every item, in the policy's order,
/// with its label and whether the file holds it.
pub(crate) fn checklist_lines(file: &[FileItem], policy: &Policy) -> Vec<ChecklistLine> {
    policy
        .subsidy
        .checklist
        .iter()
        .map(|c| ChecklistLine {
            code: c.code.clone(),
            label: c.label_zh.clone(),
            required: c.required,
            present: file.iter().any(|f| f.item == c.code),
        })
        .collect()
}
