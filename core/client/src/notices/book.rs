//! The notices' book: what the core has already told the signed-in user (the
//! durable dedupe keys) and what it has computed but the app has not yet shown,
//! kept per user as one sealed local value, written in one durable step.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::NoticeData;
use crate::error::Error;
use crate::store::ClientStore;

/// How long a key no longer current is kept (an event that stops and starts
/// again within this time is not told twice; dedupe keys carry the instance,
/// so one that recurs later is a new event anyway).
const FORGET_AFTER_DAYS: i64 = 180;

/// A notice as kept: its facts, rendered into words when read (in the locale
/// of that moment).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredNotice {
    pub key: String,
    pub dispute_id: Option<Uuid>,
    pub subject_id: Option<Uuid>,
    pub case_number: String,
    pub at: DateTime<Utc>,
    pub data: NoticeData,
}

/// One user's book.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Book {
    /// Every key already given (or passed over as too old), with when first seen.
    #[serde(default)]
    pub seen: BTreeMap<String, DateTime<Utc>>,
    /// Given by the core, not yet acknowledged by the app (oldest first).
    #[serde(default)]
    pub pending: Vec<StoredNotice>,
}

fn name(user: Uuid) -> String {
    format!("notices/{user}")
}

impl Book {
    pub fn load(store: &dyn ClientStore, user: Uuid) -> Result<Book, Error> {
        match store.local_value(&name(user))? {
            // an unreadable book (a newer format) starts afresh rather than failing the sync
            Some(bytes) => Ok(serde_json::from_slice(&bytes).unwrap_or_default()),
            None => Ok(Book::default()),
        }
    }

    pub fn save(&self, store: &dyn ClientStore, user: Uuid) -> Result<(), Error> {
        let bytes = serde_json::to_vec(self).map_err(|e| Error::Protocol(e.to_string()))?;
        store.save_local_value(&name(user), Some(&bytes))?;
        Ok(())
    }

    pub fn remove(store: &dyn ClientStore, user: Uuid) -> Result<(), Error> {
        store.save_local_value(&name(user), None)?;
        Ok(())
    }

    /// Forgets keys neither current nor recent.
    pub fn prune(&mut self, current: &std::collections::HashSet<String>, now: DateTime<Utc>) {
        let horizon = now - Duration::days(FORGET_AFTER_DAYS);
        self.seen.retain(|k, first| current.contains(k) || *first > horizon);
    }
}
