//! Time: everything is stored in UTC; the county's zone is for display only.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// Formats a UTC instant in the county's zone (e.g. `Asia/Shanghai`) as
/// `YYYY-MM-DD HH:MM`. An unknown zone name falls back to UTC+8 (China Standard Time).
pub fn display_local(at: DateTime<Utc>, zone: &str) -> String {
    let tz: Tz = zone.parse().unwrap_or(chrono_tz::Asia::Shanghai);
    at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
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
    }
}
