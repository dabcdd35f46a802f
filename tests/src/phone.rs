//! Helpers to drive real phone cores ([`FieldClient`] on a sled data dir).

use std::path::Path;
use std::time::Duration;

use fengqiao_core::{ClientOptions, FieldClient, NewVisit, RetryPolicy};
use fengqiao_domain::{Household, VisitKind};

/// `bytes` as a JPEG as far as the core can tell: the first three bytes are
/// the JPEG marker (the core records the type the bytes show and refuses
/// what is no image). The length is kept.
pub fn as_jpeg(mut bytes: Vec<u8>) -> Vec<u8> {
    for (b, m) in bytes.iter_mut().zip([0xFF, 0xD8, 0xFF]) {
        *b = m;
    }
    bytes
}

/// Options for tests: quick retries so faults resolve fast.
pub fn fast_options() -> ClientOptions {
    ClientOptions {
        retry: RetryPolicy {
            max_attempts: 2,
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(50),
        },
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(10),
        ..ClientOptions::default()
    }
}

/// The store key test phones use (an app keeps its own in the platform keystore).
pub const STORE_KEY: [u8; 32] = [42u8; 32];

/// [`STORE_KEY`] as `FieldClient::open` takes it.
pub fn store_key() -> Vec<u8> {
    STORE_KEY.to_vec()
}

/// A phone with its own sled store in `dir`, talking to `url`.
pub fn phone(dir: &Path, url: &str) -> FieldClient {
    phone_with(dir, url, fast_options())
}

/// [`phone`] with other options.
pub fn phone_with(dir: &Path, url: &str, options: ClientOptions) -> FieldClient {
    FieldClient::open(dir.to_string_lossy().into_owned(), url.to_string(), store_key(), options)
        .expect("open phone store")
}

/// A routine visit to a household.
pub fn routine_visit(household: &Household, notes: &str) -> NewVisit {
    NewVisit {
        household_id: household.id,
        body: None,
        kind: VisitKind::Routine,
        visited_at: None,
        notes: notes.to_string(),
        location: None,
        leads: vec![],
    }
}
