//! Reports computed from the flow table and records (never typed in by hand): the
//! dispute flow table export now; the monthly analysis report later. One function
//! computes the rows; JSON, CSV and xlsx only render them.

pub mod blacklist;
pub mod flow;
pub mod html;
pub mod monthly;
pub mod render;
pub mod subsidies;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

/// A calendar month in the county's zone, as a UTC half-open range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Month {
    /// Year.
    pub year: i32,
    /// Month 1-12.
    pub month: u32,
}

impl Month {
    /// Parses `YYYY-MM`.
    pub fn parse(s: &str) -> Option<Month> {
        let (y, m) = s.split_once('-')?;
        if y.len() != 4 || m.len() != 2 {
            return None;
        }
        let (year, month) = (y.parse().ok()?, m.parse().ok()?);
        NaiveDate::from_ymd_opt(year, month, 1)?;
        Some(Month { year, month })
    }

    /// The month before.
    pub fn prev(self) -> Month {
        if self.month == 1 {
            Month { year: self.year - 1, month: 12 }
        } else {
            Month { year: self.year, month: self.month - 1 }
        }
    }

    /// `[start, end)` in UTC for the month in `zone`.
    pub fn range(self, zone: Tz) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let first = NaiveDate::from_ymd_opt(self.year, self.month, 1)?;
        let next = if self.month == 12 {
            NaiveDate::from_ymd_opt(self.year + 1, 1, 1)?
        } else {
            NaiveDate::from_ymd_opt(self.year, self.month + 1, 1)?
        };
        let at =
            |d: NaiveDate| zone.from_local_datetime(&d.and_hms_opt(0, 0, 0)?).earliest().map(|t| t.with_timezone(&Utc));
        Some((at(first)?, at(next)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_county_local() {
        let m = Month::parse("2026-03").unwrap();
        let (a, b) = m.range(chrono_tz::Asia::Shanghai).unwrap();
        assert_eq!(a, Utc.with_ymd_and_hms(2026, 2, 28, 16, 0, 0).unwrap());
        assert_eq!(b, Utc.with_ymd_and_hms(2026, 3, 31, 16, 0, 0).unwrap());
        assert!(Month::parse("2026-13").is_none() && Month::parse("26-01").is_none() && Month::parse("x").is_none());
        let dec = Month::parse("2026-12").unwrap().range(chrono_tz::Asia::Shanghai).unwrap();
        assert_eq!(dec.1, Utc.with_ymd_and_hms(2026, 12, 31, 16, 0, 0).unwrap());
    }
}
