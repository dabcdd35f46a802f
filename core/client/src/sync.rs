//! The sync engine: push the signed-in user's outbox oldest first, then pull
//! the change feed page by page. Transient failures are retried with backoff;
//! permanent refusals go to quarantine so nothing behind them is blocked.

use std::sync::Arc;

use fengqiao_domain::wire::{Change, ChangeAction};
use uuid::Uuid;

use self::upload::Uploader;
use crate::api::Conditional;
use crate::error::Error;
use crate::photo_folder::BlobDir;
use crate::progress::{SyncPhase, SyncProgress, SyncReport};
use crate::session::{Authed, Ctx};
use crate::store::{ClientStore, OutboxEntry, PulledPage, QuarantineReason};

mod chunk_size;
mod disposition;
mod push;
mod upload;

/// The server's code for a pull cursor it did not give out (or no longer knows).
const INVALID_CURSOR: &str = "invalid_cursor";

/// One sync run.
pub(crate) struct Engine<'a> {
    pub ctx: &'a Ctx<'a>,
    /// The store `ctx` reads, shared with the push's blocking work.
    pub shared_store: Arc<dyn ClientStore>,
    pub progress: Option<&'a dyn SyncProgress>,
    pub push_batch: usize,
    /// Most bytes of encoded ops per push (under the server's body limit).
    pub push_bytes: usize,
    pub pull_limit: u32,
    /// The photo folder and the chunk size, if photos are enabled.
    pub photos: Option<(&'a BlobDir, usize)>,
}

impl Engine<'_> {
    fn progress(&self, phase: SyncPhase, done: u64, total: u64) {
        if let Some(p) = self.progress {
            p.on_progress(phase, done, total);
        }
    }

    fn check_cancel(&self) -> Result<(), Error> {
        match self.ctx.cancel {
            Some(c) if c.is_cancelled() => Err(Error::Cancelled),
            _ => Ok(()),
        }
    }

    /// Keeps the county's policy as the server serves it, so the phone guides its
    /// user with the server's numbers (deadlines, kinds, limits). Fetched only when
    /// the pull named a tag other than the kept copy's (a server that names none
    /// is asked with `If-None-Match`, answered `304` while unchanged). Best effort:
    /// an older server without the endpoint, or a policy this build cannot read,
    /// leaves the one the phone had.
    async fn refresh_policy(&self, auth: &mut Authed<'_>, named: Option<&str>) -> Result<(), Error> {
        let api = self.ctx.api;
        let meta = self.ctx.store.sync_meta()?;
        let kept = meta.county_policy.as_ref().and(meta.county_policy_etag.clone());
        if let (Some(named), Some(kept)) = (named, kept.as_deref()) {
            if kept.trim_start_matches("W/").trim_matches('"') == named {
                return Ok(());
            }
        }
        let tag = kept.as_deref();
        match auth.call(move |tok| async move { api.policy(&tok, tag).await }).await {
            Ok(Conditional::NotModified { .. }) => Ok(()),
            Ok(Conditional::Fresh { value, etag, .. }) => {
                let text = serde_json::to_string(&value).map_err(|e| Error::Protocol(e.to_string()))?;
                let mut meta = self.ctx.store.sync_meta()?;
                if meta.county_policy.as_deref() != Some(text.as_str()) || meta.county_policy_etag != etag {
                    meta.county_policy = Some(text);
                    meta.county_policy_etag = etag;
                    self.ctx.store.save_sync_meta(&meta)?;
                }
                Ok(())
            }
            Err(Error::Cancelled) => Err(Error::Cancelled),
            Err(e) => {
                tracing::warn!(error = %e, "could not refresh the county policy; keeping the one on the phone");
                Ok(())
            }
        }
    }

    /// Push, pull, then upload photos (records sync ahead of their photos).
    pub(crate) async fn run(&self) -> Result<SyncReport, Error> {
        let mut auth = Authed::begin(self.ctx)?;
        let user = auth.user_id();
        let mut report = SyncReport::default();
        self.push(&mut auth, user, &mut report).await?;
        self.ctx.store.tidy();
        let policy_tag = match self.pull(&mut auth, user, &mut report).await {
            Ok(tag) => tag,
            Err(e) => {
                if matches!(e, Error::DeviceRevoked) {
                    // A revoked device still sends what the server takes (its
                    // photos) before its data is removed.
                    if let Some((blobs, chunk)) = self.photos {
                        let uploader = Uploader { ctx: self.ctx, blobs, chunk, progress: self.progress };
                        if let Err(up) = uploader.run(&mut auth, &mut report).await {
                            tracing::info!(error = %up, "photos of a revoked device not all sent");
                        }
                    }
                }
                return Err(e);
            }
        };
        crate::case_blocks::top_up(self.ctx, &mut auth, user).await?;
        self.refresh_policy(&mut auth, policy_tag.as_deref()).await?;
        crate::names::refresh(self.ctx, &mut auth, user, report.pulled > 0 || report.reset).await?;
        if let Some((blobs, chunk)) = self.photos {
            let uploader = Uploader { ctx: self.ctx, blobs, chunk, progress: self.progress };
            uploader.run(&mut auth, &mut report).await?;
        }
        let store = self.ctx.store;
        report.waiting_for_other_users = store.outbox_len(None)?.saturating_sub(store.outbox_len(Some(user))?);
        tracing::info!(
            applied = report.pushed_applied,
            duplicate = report.pushed_duplicate,
            rejected = report.rejected,
            conflicts = report.conflicts,
            malformed = report.malformed,
            pulled = report.pulled,
            skipped = report.skipped_unknown,
            reset = report.reset,
            photos_uploaded = report.photos_uploaded,
            photos_failed = report.photos_failed,
            "sync done"
        );
        Ok(report)
    }

    fn quarantine(&self, entry: &OutboxEntry, code: &str, message: String) -> Result<(), Error> {
        tracing::warn!(op_id = %entry.op.op_id, code, "operation quarantined");
        let reason = QuarantineReason { code: code.into(), message, current: None };
        self.ctx.store.quarantine_op(entry.op.op_id, &reason, self.ctx.clock.now())?;
        Ok(())
    }

    /// Pulls to the end of the feed, each page kept with its cursor (a cut or a
    /// restart resumes after the last page kept); the policy tag the last page named.
    async fn pull(&self, auth: &mut Authed<'_>, user: Uuid, report: &mut SyncReport) -> Result<Option<String>, Error> {
        let store = self.ctx.store;
        let mut cursor = match store.pull_state()? {
            Some(s) if s.user == user => s.cursor,
            Some(_) => {
                // Pulled for someone else: their records are not this user's to see.
                store.reset_pulled()?;
                String::new()
            }
            None => String::new(),
        };
        // Set when the server no longer knows our cursor: start over, and drop
        // the old pulled records together with the first new page.
        let mut force_reset = false;
        loop {
            self.check_cancel()?;
            let api = self.ctx.api;
            let (cur, limit) = (cursor.as_str(), self.pull_limit.max(1));
            let page = match auth.call(move |tok| async move { api.pull(&tok, cur, limit).await }).await {
                Ok(p) => p,
                Err(Error::Refused { status: 400, body })
                    if body.code == INVALID_CURSOR && !cursor.is_empty() && !force_reset =>
                {
                    tracing::warn!("the server does not know this cursor; pulling from the start");
                    cursor.clear();
                    force_reset = true;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let reset = page.reset || std::mem::take(&mut force_reset);
            let raw = page.changes.len();
            let mut changes: Vec<Change> = Vec::with_capacity(raw);
            for v in page.changes {
                match Change::from_json_lenient(v) {
                    Some(c) => changes.push(c),
                    None => report.skipped_unknown += 1,
                }
            }
            report.pulled += changes.len() as u64;
            report.dropped += changes.iter().filter(|c| c.action == ChangeAction::Drop).count() as u64;
            report.reset |= reset;
            report.pages += 1;
            if reset {
                tracing::info!("server reset the scope; replacing pulled records");
            }
            let applied = PulledPage { reset, changes, next_cursor: page.next_cursor };
            // The page and its cursor land together: a crash or cancel before
            // this line leaves the old cursor, so the page is fetched again.
            store.apply_pulled(user, &applied)?;
            match page.head {
                0 => self.progress(SyncPhase::Pulling, report.pulled, 0),
                head => self.progress(SyncPhase::Pulling, page.position.min(head), head),
            }
            if !page.has_more {
                return Ok(page.policy_tag);
            }
            if raw == 0 && applied.next_cursor == cursor {
                return Err(Error::Protocol("the server repeats an empty page with more to come".into()));
            }
            cursor = applied.next_cursor;
        }
    }
}
