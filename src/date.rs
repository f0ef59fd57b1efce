//! A calendar date (UTC), enough for `expires`: parsing `YYYY-MM-DD`, comparing, adding days and
//! reading today's date from the clock; and a point in time as RFC 3339 text ([`Timestamp`],
//! [`rfc3339`]) for invitation ages and snapshot ages. Days-from-civil arithmetic, no time-zone
//! database.

use std::fmt;
use std::time::SystemTime;

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

/// A point in time as the API writes it (RFC 3339, e.g. `2026-04-05T10:00:00.000Z`): kept as
/// written, for showing, with its UTC date, for ages in days, and its second since the Unix epoch,
/// for ages in hours.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Timestamp {
    text: String,
    date: Date,
    /// Whole seconds since 1970-01-01T00:00:00Z (a fraction dropped).
    unix: i64,
}

impl Timestamp {
    /// Reads an RFC 3339 date-time (`YYYY-MM-DDTHH:MM:SS`, optional fraction, `Z` or an
    /// offset); anything else is `None`, which callers show as "unknown".
    pub(crate) fn parse(text: &str) -> Option<Timestamp> {
        let t = text.trim();
        let b = t.as_bytes();
        let digits = |r: std::ops::Range<usize>| -> Option<i64> {
            let part = t.get(r)?;
            if !part.is_empty() && part.bytes().all(|c| c.is_ascii_digit()) {
                part.parse().ok()
            } else {
                None
            }
        };
        let date = Date::parse(t.get(..10)?)?;
        if !matches!(b.get(10), Some(b'T' | b't' | b' ')) || b.get(13) != Some(&b':') {
            return None;
        }
        let (h, m) = (digits(11..13)?, digits(14..16)?);
        if b.get(16) != Some(&b':') {
            return None;
        }
        let s = digits(17..19)?;
        if h > 23 || m > 59 || s > 60 {
            return None;
        }
        let mut rest = &t[19..];
        if let Some(frac) = rest.strip_prefix('.') {
            let n = frac.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 {
                return None;
            }
            rest = &frac[n..];
        }
        // The offset moves the instant; the UTC date is what ages are counted in.
        let offset_minutes = match rest {
            "Z" | "z" => 0,
            o if o.len() == 6 && matches!(&o[..1], "+" | "-") && &o[3..4] == ":" => {
                let (oh, om) = (o[1..3].parse::<i64>().ok()?, o[4..6].parse::<i64>().ok()?);
                if oh > 23 || om > 59 {
                    return None;
                }
                let sign = if o.starts_with('-') { -1 } else { 1 };
                sign * (oh * 60 + om)
            }
            _ => return None,
        };
        let minutes_utc = h * 60 + m - offset_minutes;
        Some(Timestamp {
            text: t.to_string(),
            date: Date {
                days: date.days + minutes_utc.div_euclid(24 * 60),
            },
            unix: (date.days * 24 * 60 + minutes_utc) * 60 + s,
        })
    }

    /// The instant `t`, written as [`rfc3339`] writes it.
    pub(crate) fn from_system_time(t: SystemTime) -> Timestamp {
        let text = rfc3339(t);
        let secs = t
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        Timestamp {
            text,
            date: Date {
                days: secs.div_euclid(86_400),
            },
            unix: secs,
        }
    }

    /// Whole seconds from this instant to `later` (negative when `later` is earlier).
    pub(crate) fn seconds_until(&self, later: &Timestamp) -> i64 {
        later.unix - self.unix
    }

    /// Whole seconds since the Unix epoch: what orders two timestamps in time.
    pub(crate) fn unix(&self) -> i64 {
        self.unix
    }

    /// As the API wrote it.
    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    /// The UTC calendar date.
    pub(crate) fn date(&self) -> Date {
        self.date
    }
}

/// `2026-11-28T02:09:22.123Z`: RFC 3339, UTC, with milliseconds.
pub(crate) fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (y, m, day) = Date::EPOCH.add_days(secs.div_euclid(86_400)).ymd();
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        s / 3600,
        s / 60 % 60,
        s % 60,
        d.subsec_millis()
    )
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
    fn timestamps_are_rfc_3339_with_a_utc_date() {
        let t = super::Timestamp::parse("2026-04-05T10:00:00.000Z").unwrap();
        assert_eq!(
            (t.as_str(), t.date().to_string().as_str()),
            ("2026-04-05T10:00:00.000Z", "2026-04-05")
        );
        let late = super::Timestamp::parse("2026-04-05T23:30:00-02:00").unwrap();
        assert_eq!(late.date().to_string(), "2026-04-06", "the UTC date");
        let early = super::Timestamp::parse("2026-04-05T00:30:00+01:00").unwrap();
        assert_eq!(early.date().to_string(), "2026-04-04");
        assert!(super::Timestamp::parse("2026-04-05T10:00:00Z").is_some());
        for bad in [
            "",
            "x",
            "2026-04-05",
            "2026-04-05T10:00Z",
            "2026-13-05T10:00:00Z",
            "2026-04-05T25:00:00Z",
            "2026-04-05T10:00:00",
            "2026-04-05T10:00:00.Z",
            "2026-04-05T10:00:00+5:00",
        ] {
            assert!(super::Timestamp::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn timestamps_count_seconds_across_offsets_and_round_trip_the_clock() {
        let t = |s: &str| super::Timestamp::parse(s).unwrap();
        let read = t("2027-03-31T09:00:00.000Z");
        assert_eq!(
            read.seconds_until(&t("2027-03-31T12:30:59Z")),
            3 * 3600 + 30 * 60 + 59
        );
        assert_eq!(read.seconds_until(&t("2027-03-31T10:00:00+01:00")), 0);
        assert_eq!(read.seconds_until(&t("2027-03-30T09:00:00Z")), -86_400);
        let clock =
            std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_795_837_762_123);
        let now = super::Timestamp::from_system_time(clock);
        assert_eq!(now.as_str(), "2026-11-28T03:49:22.123Z");
        assert_eq!(super::Timestamp::parse(now.as_str()), Some(now.clone()));
        assert_eq!(now.date().to_string(), "2026-11-28");
    }

    #[test]
    fn today_is_plausible() {
        assert!(Date::today_utc() > Date::parse("2020-01-01").unwrap());
    }
}
