//! Conversions shared by the feature modules. The boundary's conventions:
//!
//! - **Ids** are strings: the canonical lowercase hyphenated UUID
//!   (`0190f3c2-…`). An id argument that is not a UUID is refused with
//!   [`FengqiaoError::InvalidInput`] and reason `invalid_id`.
//! - **Times** are `i64` milliseconds since the Unix epoch, UTC (Kotlin:
//!   `Instant.ofEpochMilli`, Swift: `Date(timeIntervalSince1970: ms / 1000)`).
//!   They come from device clocks and are shown, never used to order anything.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::FengqiaoError;

/// Mirrors a domain enum of unit variants in a UniFFI enum with the same
/// variant names: `From` both ways, each an exhaustive `match` (a variant added
/// on either side fails the build here instead of crossing the boundary wrong).
macro_rules! mirror_enum {
    ($ours:ident <=> $theirs:ident { $($v:ident),+ $(,)? }) => {
        impl From<$theirs> for $ours {
            fn from(x: $theirs) -> Self {
                match x {
                    $($theirs::$v => $ours::$v,)+
                }
            }
        }
        impl From<$ours> for $theirs {
            fn from(x: $ours) -> Self {
                match x {
                    $($ours::$v => $theirs::$v,)+
                }
            }
        }
    };
}
pub(crate) use mirror_enum;

/// Ids for the foreign side.
pub(crate) fn ids(us: impl IntoIterator<Item = Uuid>) -> Vec<String> {
    us.into_iter().map(id).collect()
}

/// Ids from the foreign side; `what` names the argument in the error.
pub(crate) fn parse_ids(what: &str, ss: &[String]) -> Result<Vec<Uuid>, FengqiaoError> {
    ss.iter().map(|s| parse_id(what, s)).collect()
}

/// An optional time from the foreign side.
pub(crate) fn opt_from_millis(what: &str, ms: Option<i64>) -> Result<Option<DateTime<Utc>>, FengqiaoError> {
    ms.map(|ms| from_millis(what, ms)).transpose()
}

/// An id for the foreign side.
pub(crate) fn id(u: Uuid) -> String {
    u.to_string()
}

/// An id from the foreign side; `what` names the argument in the error.
pub(crate) fn parse_id(what: &str, s: &str) -> Result<Uuid, FengqiaoError> {
    Uuid::parse_str(s.trim()).map_err(|_| FengqiaoError::invalid_id(what))
}

/// A time for the foreign side.
pub(crate) fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// A time from the foreign side; `what` names the argument in the error.
pub(crate) fn from_millis(what: &str, ms: i64) -> Result<DateTime<Utc>, FengqiaoError> {
    DateTime::<Utc>::from_timestamp_millis(ms).ok_or_else(|| {
        FengqiaoError::invalid_input("时间：超出可用范围", || format!("{what}: time out of range"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_times_roundtrip_and_bad_ones_are_typed_errors() {
        let u = Uuid::now_v7();
        assert_eq!(parse_id("x", &id(u)), Ok(u));
        let e = parse_id("household_id", "not-a-uuid");
        assert!(matches!(e, Err(FengqiaoError::InvalidInput { ref reason, .. }) if reason == "invalid_id"));
        let t = DateTime::<Utc>::from_timestamp_millis(1_767_225_600_123).unwrap();
        assert_eq!(millis(t), 1_767_225_600_123);
        assert_eq!(from_millis("t", millis(t)), Ok(t));
        assert!(from_millis("t", i64::MAX).is_err());
    }
}
