//! A phone shared in the field: each user's unsynced work waits for them
//! ([`FieldClient::waiting_work`]), the county admin's "wipe this phone", and
//! the drop of a user's data when the server revoked the device.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use fengqiao_domain::permissions::{may, Action};
use fengqiao_domain::wire::{Op, UserInfo};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::lock::lock_name;
use crate::client::FieldClient;
use crate::error::{ClientError, Error};
use crate::store::{WipeCounts, WipeScope};

/// Local value holding the users known on this phone.
const KNOWN_USERS: &str = "known_users";

/// A user known on this phone (from their logins), for the "waiting" screen.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct KnownUser {
    username: String,
    display_name: String,
}

/// Unsynced work one user left on this phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingWork {
    /// The user.
    pub user_id: Uuid,
    /// Their username, if they logged in on this phone.
    pub username: Option<String>,
    /// Their display name, if known.
    pub display_name: Option<String>,
    /// Operations queued for the server.
    pub ops: u64,
    /// Operations the server refused, waiting for them.
    pub quarantined: u64,
    /// Of those, photos attached.
    pub photos: u64,
    /// The signed-in user.
    pub is_current: bool,
}

/// What a wipe removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WipeReport {
    /// Queued operations the server never received (lost).
    pub ops_lost: u64,
    /// Quarantined operations (lost).
    pub quarantined_lost: u64,
    /// Photos not uploaded yet (lost).
    pub photos_lost: u64,
    /// Local records removed (pulled ones come back with a sync).
    pub records_removed: u64,
    /// Photo files removed.
    pub photo_files_removed: u64,
}

impl WipeReport {
    fn from_counts(c: WipeCounts, files: u64) -> WipeReport {
        WipeReport {
            ops_lost: c.ops,
            quarantined_lost: c.quarantined,
            photos_lost: c.photos,
            records_removed: c.records,
            photo_files_removed: files,
        }
    }
}

impl FieldClient {
    /// Remembers a user who logged in here, for the "waiting" screen.
    pub(super) fn remember_user(&self, user: &UserInfo) -> Result<(), Error> {
        let mut known = self.known_users()?;
        known.insert(user.id, KnownUser { username: user.username.clone(), display_name: user.display_name.clone() });
        let bytes = serde_json::to_vec(&known).map_err(|e| Error::Protocol(e.to_string()))?;
        self.store.save_local_value(KNOWN_USERS, Some(&bytes))?;
        Ok(())
    }

    fn known_users(&self) -> Result<BTreeMap<Uuid, KnownUser>, Error> {
        Ok(match self.store.local_value(KNOWN_USERS)? {
            Some(b) => serde_json::from_slice(&b).unwrap_or_default(),
            None => BTreeMap::new(),
        })
    }

    /// Unsynced work on this phone per user (the signed-in one and anyone
    /// who logged out or was replaced): each user's work waits for them and
    /// is sent when they next log in. Readable while locked: it shows counts
    /// and names only.
    pub fn waiting_work(&self) -> Result<Vec<WaitingWork>, ClientError> {
        let run = || -> Result<Vec<WaitingWork>, Error> {
            let current = self.store.load_session()?.map(|s| s.user.id);
            let known = self.known_users()?;
            let mut by_user: BTreeMap<Uuid, WaitingWork> = BTreeMap::new();
            let entry = |m: &mut BTreeMap<Uuid, WaitingWork>, u: Uuid| {
                m.entry(u)
                    .or_insert_with(|| WaitingWork {
                        user_id: u,
                        username: known.get(&u).map(|k| k.username.clone()),
                        display_name: known.get(&u).map(|k| k.display_name.clone()),
                        ops: 0,
                        quarantined: 0,
                        photos: 0,
                        is_current: current == Some(u),
                    })
                    .clone()
            };
            for e in self.store.outbox(None, usize::MAX)? {
                let mut w = entry(&mut by_user, e.op.author);
                w.ops += 1;
                w.photos += u64::from(matches!(e.op.op, Op::AttachPhoto(_)));
                by_user.insert(w.user_id, w);
            }
            for q in self.store.quarantined()? {
                let mut w = entry(&mut by_user, q.op.author);
                w.quarantined += 1;
                w.photos += u64::from(matches!(q.op.op, Op::AttachPhoto(_)));
                by_user.insert(w.user_id, w);
            }
            Ok(by_user.into_values().collect())
        };
        Ok(run()?)
    }

    /// "Wipe this phone", for a county admin signed in on it: removes every
    /// user's data, photos and the session, and reports what was lost.
    /// Refuses with [`ClientError::UnsyncedWork`] while anything is not synced,
    /// unless `force`.
    pub fn wipe_phone(&self, force: bool) -> Result<WipeReport, ClientError> {
        let run = || -> Result<WipeReport, Error> {
            self.gate()?;
            let session = self.session()?;
            if !session.user.roles.iter().any(|g| may(g.grant.role, Action::Administer)) {
                return Err(Error::Rejected(fengqiao_domain::Rejection::new(
                    fengqiao_domain::RejectionCode::RoleNotAllowed,
                    "权限：只有县里的管理员才能清除手机上的数据",
                )));
            }
            let ops = self.store.outbox_len(None)? + self.store.quarantined()?.len() as u64;
            let photos =
                self.store.photo_uploads()?.iter().filter(|u| u.state != crate::store::UploadState::Done).count()
                    as u64;
            if !force && ops + photos > 0 {
                return Err(Error::UnsyncedWork { ops, photos });
            }
            self.wipe_store(WipeScope::All)
        };
        Ok(run()?)
    }

    /// Wipes the store (one user's data, or all) and the photo files no
    /// remaining queue entry refers to, closes the lock, and logs the counts.
    fn wipe_store(&self, scope: WipeScope) -> Result<WipeReport, Error> {
        let _photos = self.photo_lock.lock().unwrap_or_else(|p| p.into_inner());
        let counts = self.store.wipe(scope)?;
        if let WipeScope::User(user) = scope {
            self.store.save_local_value(&lock_name(user), None)?;
            crate::notices::Book::remove(self.store.as_ref(), user)?;
            self.forget_lost_decisions(user)?;
        }
        let mut files = 0;
        if let Some(blobs) = self.photos.as_ref() {
            let queue = self.store.photo_uploads()?;
            let referenced = blobs.names_for(queue.iter().map(|u| u.sha256.as_str()));
            for (name, _) in blobs.files()? {
                if !referenced.contains_key(&name) {
                    files += u64::from(blobs.remove_file(&name)?);
                }
            }
        }
        self.unlocked.store(false, Ordering::Release);
        let report = WipeReport::from_counts(counts, files);
        tracing::warn!(
            whole_phone = matches!(scope, WipeScope::All),
            ops_lost = report.ops_lost,
            quarantined_lost = report.quarantined_lost,
            photos_lost = report.photos_lost,
            records = report.records_removed,
            "local data wiped (a county admin's wipe, or a revoked device)"
        );
        Ok(report)
    }

    /// The server revoked this device: drops the user's data (after the sync
    /// sent what the server still took) and their photo files nothing else
    /// refers to.
    pub(crate) fn wipe_revoked(&self, user: Uuid) -> Result<WipeReport, Error> {
        self.wipe_store(WipeScope::User(user))
    }
}
