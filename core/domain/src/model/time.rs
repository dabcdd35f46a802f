//! Time: everything is stored in UTC; the county's zone is for display and for
//! the local calendar (a report's month, a screening's day, a case number's year).
//!
//! The one home of the county's zone is [`Policy::zone`]: every caller on the
//! phone and the server asks it, so all read the same zone from the same policy.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::policy::Policy;

/// The zone used when a zone name cannot be read: China Standard Time. A served
/// or loaded policy never carries such a name (`Policy::from_toml` refuses it);
/// a policy built in code or adopted from JSON might.
pub const FALLBACK_ZONE: Tz = chrono_tz::Asia::Shanghai;

/// The IANA zone named `name`, or [`FALLBACK_ZONE`] if the build does not know it.
pub fn zone_named(name: &str) -> Tz {
    name.parse().unwrap_or(FALLBACK_ZONE)
}

impl Policy {
    /// The county's zone (`county.timezone`; [`FALLBACK_ZONE`] if unreadable).
    pub fn zone(&self) -> Tz {
        zone_named(&self.county.timezone)
    }
}

/// `YYYY-MM` of an instant in `zone` (the month a subsidy accrued in, for example).
pub fn local_month(at: DateTime<Utc>, zone: Tz) -> String {
    at.with_timezone(&zone).format("%Y-%m").to_string()
}

/// Formats a UTC instant in the county's zone (e.g. `Asia/Shanghai`) as
/// `YYYY-MM-DD HH:MM`. An unknown zone name falls back to [`FALLBACK_ZONE`].
pub fn display_local(at: DateTime<Utc>, zone: &str) -> String {
    at.with_timezone(&zone_named(zone)).format("%Y-%m-%d %H:%M").to_string()
}

/// Formats a UTC instant's day in the county's zone as `YYYY-MM-DD`.
pub fn display_local_date(at: DateTime<Utc>, zone: &str) -> String {
    at.with_timezone(&zone_named(zone)).format("%Y-%m-%d").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn displays_in_county_zone() {
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 16, 30, 0).unwrap();
        assert_eq!(display_local(at, "Asia/Shanghai"), "2026-03-02 00:30");
        assert_eq!(display_local(at, "not/a-zone"), "2026-03-02 00:30");
        assert_eq!(display_local_date(at, "Asia/Shanghai"), "2026-03-02");
        assert_eq!(display_local_date(at, "Asia/Urumqi"), "2026-03-01", "22:30 in Urumqi (UTC+6)");
    }

    #[test]
    fn the_policy_names_the_zone_and_an_unreadable_name_falls_back() {
        let mut p = Policy::default();
        assert_eq!(p.zone(), chrono_tz::Asia::Shanghai);
        p.county.timezone = "Asia/Urumqi".into();
        assert_eq!(p.zone(), chrono_tz::Asia::Urumqi);
        let at = Utc.with_ymd_and_hms(2026, 5, 31, 17, 0, 0).unwrap();
        assert_eq!(local_month(at, p.zone()), "2026-05", "01:00 in Urumqi (UTC+6) is still May");
        p.county.timezone = "Mars/Base".into();
        assert_eq!(p.zone(), FALLBACK_ZONE);
        assert_eq!(local_month(at, p.zone()), "2026-06");
        assert!(Policy::from_toml("[county]\ntimezone = \"Mars/Base\"\n").is_err(), "loading refuses it");
    }
}
