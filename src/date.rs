//! A calendar date (UTC), enough for `expires`: parsing `YYYY-MM-DD`, comparing, adding days and
//! reading today's date from the clock. Days-from-civil arithmetic, no time-zone database.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Date {
    /// Days since 1970-01-01.
    days: i64,
}

impl Date {
    /// 1970-01-01.
    pub(crate) const EPOCH: Date = Date { days: 0 };

    pub(crate) fn from_ymd(y: i64, m: u32, d: u32) -> Option<Date> {
        if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) || !(1..=9999).contains(&y) {
            return None;
        }
        Some(Date {
            days: days_from_civil(y, m, d),
        })
    }

    /// Parses exactly `YYYY-MM-DD`.
    pub(crate) fn parse(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let digits = |r: std::ops::Range<usize>| -> Option<i64> {
            let part = &s[r];
            if part.bytes().all(|c| c.is_ascii_digit()) {
                part.parse().ok()
            } else {
                None
            }
        };
        Date::from_ymd(digits(0..4)?, digits(5..7)? as u32, digits(8..10)? as u32)
    }

    /// Today in UTC from the system clock.
    pub(crate) fn today_utc() -> Date {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Date {
            days: secs.div_euclid(86_400),
        }
    }

    #[cfg(test)]
    pub(crate) fn add_days(self, n: i64) -> Date {
        Date {
            days: self.days + n,
        }
    }

    pub(crate) fn days_until(self, later: Date) -> i64 {
        later.days - self.days
    }

    pub(crate) fn ymd(self) -> (i64, u32, u32) {
        civil_from_days(self.days)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        _ => 28,
    }
}

// Howard Hinnant's algorithms.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::Date;

    #[test]
    fn parses_and_prints() {
        let d = Date::parse("2027-03-31").unwrap();
        assert_eq!(d.to_string(), "2027-03-31");
        assert_eq!(d.add_days(1).to_string(), "2027-04-01");
        assert_eq!(
            Date::parse("2024-02-29").unwrap().add_days(1).to_string(),
            "2024-03-01"
        );
        assert_eq!(
            Date::parse("1970-01-01").unwrap().add_days(-1).to_string(),
            "1969-12-31"
        );
    }

    #[test]
    fn rejects_impossible_dates() {
        for bad in [
            "2027-02-29",
            "2027-13-01",
            "2027-00-10",
            "27-03-31",
            "2027-3-31",
            "2027/03/31",
            "2027-03-3x",
            "",
        ] {
            assert!(Date::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn round_trips_every_day_of_four_centuries() {
        let start = Date::parse("1900-01-01").unwrap();
        for n in 0..146_097 {
            let d = start.add_days(n);
            assert_eq!(Date::parse(&d.to_string()), Some(d));
        }
    }

    #[test]
    fn today_is_plausible() {
        assert!(Date::today_utc() > Date::parse("2020-01-01").unwrap());
    }
}
