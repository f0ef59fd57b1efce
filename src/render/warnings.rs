//! The words of a plan's warnings (docs/contract.md §4, §6): each [`Warning`] as pieces of
//! teamsync's words and data, so that each view shows data its own way, and as one sentence.

use crate::plan::{STALE_INVITATION_DAYS, Warning};
use crate::words::plural;
use std::fmt;

/// A piece of a warning: teamsync's own words (which may hold code in backticks, such as
/// `invitations.resend_after_days`), or data from the file, the API or the command line. The
/// text view writes both as they are; the Markdown view writes data in code spans only
/// (docs/contract.md §6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Piece {
    Words(String),
    Data(String),
    /// A command to run, data in it: in backticks in text, a code span in Markdown.
    Code(String),
}

impl Warning {
    /// The warning as words and data, in order.
    pub(crate) fn pieces(&self) -> Vec<Piece> {
        let w = |s: &str| Piece::Words(s.to_string());
        let d = |s: &str| Piece::Data(s.to_string());
        match self {
            Warning::Guard(g) => vec![Piece::Words(g.to_string())],
            Warning::BelowMinAdmins { admins, min } => vec![Piece::Words(format!(
                "the org has {admins} admin member{}, fewer than min_admins {min}; pending admin invitations count once accepted",
                plural(*admins)
            ))],
            Warning::OnlyAdminIsSelf { email } => vec![
                w("after this plan the only admin left is teamsync's own account "),
                d(email.as_str()),
                w(
                    " (--self): no person could administer the org; keep a person as org:admin in the file",
                ),
            ],
            Warning::StaleInvitation {
                email,
                role,
                invited,
            } => vec![
                w("the invitation of "),
                d(email.as_str()),
                Piece::Words(format!(
                    " ({role}) is pending, {invited}, more than {STALE_INVITATION_DAYS} days; set `invitations.resend_after_days` to re-send stale invitations"
                )),
            ],
            Warning::ProtectedOldInvitation {
                email,
                role,
                invited,
                after_days,
            } => vec![
                w("the invitation of "),
                d(email.as_str()),
                Piece::Words(format!(
                    " ({role}) is old and protected: {invited}, more than `invitations.resend_after_days` ({after_days}); re-sending revokes it, which `protected` forbids, so it is kept as it is"
                )),
            ],
            Warning::SelfNotInOrg { email, from } => vec![
                Piece::Words(format!("{} ", from.name())),
                d(email.as_str()),
                w(
                    " is neither a member nor invited: check the email (it should be the API key's own account)",
                ),
            ],
            Warning::OldSnapshot {
                path,
                read_at,
                age_seconds,
            } => {
                // "7 days ago (more than 7)" reads as a contradiction: within the day after the
                // limit, the hours say how far past it (docs/contract.md §9).
                let (days, hours) = (age_seconds / 86_400, age_seconds % 86_400 / 3_600);
                let ago = if days > crate::live::OLD_SNAPSHOT_DAYS {
                    format!("{days} days ago")
                } else {
                    format!("{days} days and {hours} hour{} ago", plural(hours))
                };
                vec![
                    w("the snapshot "),
                    d(path),
                    Piece::Words(format!(
                        " was read at {}, {ago} (more than {} days): the org may have changed since; plan with the API key, or save a new snapshot with `teamsync snapshot`",
                        read_at.as_str(),
                        crate::live::OLD_SNAPSHOT_DAYS
                    )),
                ]
            }
            Warning::BaselineInvalid { path, problems } => vec![
                w("the baseline "),
                d(path),
                Piece::Words(format!(
                    " is not a valid desired state ({problems} problem{}; ",
                    plural(*problems)
                )),
                Piece::Code(format!("teamsync validate -f {path}")),
                w(" lists them): this plan does not tell the edit from drift"),
            ],
            Warning::Expiring(cohort) => expiring_pieces(cohort, false),
            Warning::RemovalsAhead(ahead) => {
                let n = ahead.removals;
                vec![Piece::Words(format!(
                    "{n} member{} whose entries expire on {} {} removed on {}, more than the removal limit {} ({}): that day's apply will be refused without --allow-mass-removal; spread the `expires` dates, or raise safety.max_removals before then",
                    plural(n),
                    ahead.on,
                    crate::words::one_or_many(n, "is", "are"),
                    ahead.on.add_days(1),
                    ahead.limit,
                    match ahead.rule {
                        Some(m) => format!("safety.max_removals: {m}"),
                        None => "the default".to_string(),
                    }
                ))]
            }
        }
    }
}

/// An expiry cohort as pieces: the words, then each email as data; at most
/// [`crate::desired::SHOWN_EMAILS`] emails and "and N more" unless `all`.
fn expiring_pieces(cohort: &crate::desired::Expiring, all: bool) -> Vec<Piece> {
    let n = cohort.emails.len();
    let when = match cohort.days {
        0 => "today (removed from tomorrow)".to_string(),
        1 => "tomorrow".to_string(),
        d => format!("in {d} days"),
    };
    let mut out = vec![Piece::Words(format!(
        "{n} entr{} expire{} on {}, {when}: ",
        crate::words::one_or_many(n, "y", "ies"),
        crate::words::one_or_many(n, "s", ""),
        cohort.on
    ))];
    let shown = if all {
        n
    } else {
        n.min(crate::desired::SHOWN_EMAILS)
    };
    for (i, e) in cohort.emails.iter().take(shown).enumerate() {
        if i > 0 {
            out.push(Piece::Words(", ".into()));
        }
        out.push(Piece::Data(e.as_str().to_string()));
    }
    if shown < n {
        out.push(Piece::Words(format!(" and {} more", n - shown)));
    }
    out
}

impl fmt::Display for Warning {
    /// The warning in words; `{:#}` names every email of an expiry cohort (the JSON plan).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pieces = match self {
            Warning::Expiring(cohort) if f.alternate() => expiring_pieces(cohort, true),
            _ => self.pieces(),
        };
        for p in pieces {
            match p {
                Piece::Words(s) | Piece::Data(s) => f.write_str(&s)?,
                Piece::Code(s) => write!(f, "`{s}`")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::date::Date;
    use crate::desired::Expiring;
    use crate::email::Email;

    fn today() -> Date {
        Date::parse("2027-03-31").unwrap()
    }

    fn cohort(n: usize, days: i64) -> Expiring {
        Expiring {
            on: today().add_days(days),
            days,
            emails: (0..n)
                .map(|i| Email::new(&format!("p{i:02}@x.io")))
                .collect(),
        }
    }

    #[test]
    fn a_cohort_is_one_line_with_at_most_ten_emails() {
        assert_eq!(
            Warning::Expiring(cohort(1, 0)).to_string(),
            "1 entry expires on 2027-03-31, today (removed from tomorrow): p00@x.io"
        );
        assert_eq!(
            Warning::Expiring(cohort(2, 1)).to_string(),
            "2 entries expire on 2027-04-01, tomorrow: p00@x.io, p01@x.io"
        );
        insta::assert_snapshot!(Warning::Expiring(cohort(12, 10)).to_string(), @"12 entries expire on 2027-04-10, in 10 days: p00@x.io, p01@x.io, p02@x.io, p03@x.io, p04@x.io, p05@x.io, p06@x.io, p07@x.io, p08@x.io, p09@x.io and 2 more");
        insta::assert_snapshot!(format!("{:#}", Warning::Expiring(cohort(12, 10))), @"12 entries expire on 2027-04-10, in 10 days: p00@x.io, p01@x.io, p02@x.io, p03@x.io, p04@x.io, p05@x.io, p06@x.io, p07@x.io, p08@x.io, p09@x.io, p10@x.io, p11@x.io");
    }
}
