//! Expiries ahead of time (docs/contract.md §4): the entries whose `expires` falls within the
//! next [`EXPIRY_NOTICE_DAYS`] days, one cohort per date rather than one line per entry, so
//! that 150 interns leaving on one day are one line, not 150.

use super::{Desired, DesiredMember, EXPIRY_NOTICE_DAYS, MaxRemovals};
use crate::date::Date;
use crate::email::Email;

/// Most emails a cohort names in a line; the rest are counted ("and N more"). The JSON plan
/// names every one (the warning's alternate form, `{:#}`: `crate::plan::Warning`).
pub(crate) const SHOWN_EMAILS: usize = 10;

/// The entries that expire on one date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Expiring {
    /// Their last day (UTC); they are removed from the next.
    pub(crate) on: Date,
    /// Days from today to `on` (0: today).
    pub(crate) days: i64,
    /// Their emails, sorted.
    pub(crate) emails: Vec<Email>,
}

/// The live members whose entries expire on `on` are more than the removal limit: the apply
/// of the next day will be refused by the removal guard unless something changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RemovalsAhead {
    pub(crate) on: Date,
    /// Live members removed the day after `on` (not protected, not the key's own account).
    pub(crate) removals: u64,
    /// The removal limit as the guard computes it for the org as it is now.
    pub(crate) limit: u64,
    /// The file's `safety.max_removals`, or the default when `None`.
    pub(crate) rule: Option<MaxRemovals>,
}

impl Desired {
    /// The entries that expire within the next [`EXPIRY_NOTICE_DAYS`] days (today included),
    /// one cohort per date, in date order; with each, the entry written first in the file (for
    /// a position to point at).
    pub(crate) fn expiring(&self, today: Date) -> Vec<(Expiring, &DesiredMember)> {
        let mut soon: Vec<(Date, &DesiredMember)> = self
            .members
            .iter()
            .filter_map(|m| m.expires.map(|d| (d, m)))
            .filter(|(d, _)| (0..EXPIRY_NOTICE_DAYS).contains(&today.days_until(*d)))
            .collect();
        soon.sort_by(|(a, m), (b, n)| a.cmp(b).then(m.email.cmp(&n.email)));
        let mut out: Vec<(Expiring, &DesiredMember)> = Vec::new();
        for (d, m) in soon {
            match out.last_mut() {
                Some((c, first)) if c.on == d => {
                    c.emails.push(m.email.clone());
                    let key = |m: &DesiredMember| (m.loc.part, m.loc.line, m.loc.column);
                    if key(m) < key(first) {
                        *first = m;
                    }
                }
                _ => out.push((
                    Expiring {
                        on: d,
                        days: today.days_until(d),
                        emails: vec![m.email.clone()],
                    },
                    m,
                )),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::role::Role;
    use proptest::prelude::*;

    fn today() -> Date {
        Date::parse("2027-03-31").unwrap()
    }

    proptest! {
        /// Every entry expiring in the window is in exactly one cohort, that of its date; no
        /// other entry is; cohorts are in date order, one per date.
        #[test]
        fn cohorts_partition_the_entries_in_the_window(offsets in proptest::collection::vec(proptest::option::of(-3i64..20), 0..40)) {
            let members: Vec<DesiredMember> = offsets.iter().enumerate().map(|(i, o)| {
                let mut m = DesiredMember::new(&format!("p{i}@x.io"), Role::Member);
                m.expires = o.map(|d| today().add_days(d));
                m
            }).collect();
            let desired = Desired::new(members.clone());
            let cohorts = desired.expiring(today());
            let in_window = offsets.iter().filter(|o| matches!(o, Some(d) if (0..14).contains(d))).count();
            prop_assert_eq!(cohorts.iter().map(|(c, _)| c.emails.len()).sum::<usize>(), in_window);
            prop_assert!(cohorts.windows(2).all(|w| w[0].0.on < w[1].0.on));
            for (c, first) in &cohorts {
                prop_assert_eq!(c.days, today().days_until(c.on));
                prop_assert_eq!(first.expires, Some(c.on));
                for e in &c.emails {
                    let m = members.iter().find(|m| &m.email == e).unwrap();
                    prop_assert_eq!(m.expires, Some(c.on));
                }
            }
        }
    }
}
