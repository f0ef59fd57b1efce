//! The plan's words (docs/contract.md §6): how a change, a blocked change, a guard and an
//! invitation's age read, for every view (text, Markdown, the JSON plan's `cause` and
//! `reason`, the apply's lines). `crate::plan` is data only; these impls are its words.

use crate::desired::MaxRemovals;
use crate::plan::{BlockReason, Change, Departure, Guard, Invited, Revoke, RevokeCause, StopCause};
use crate::words::{one_or_many, plural};
use std::fmt;

impl fmt::Display for Invited {
    /// `invited 2026-04-05, 12 days ago`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invited {}, {}",
            self.at.date(),
            match self.age_days {
                _ if self.in_future => "in the future".to_string(),
                0 => "today".to_string(),
                1 => "1 day ago".to_string(),
                n => format!("{n} days ago"),
            }
        )
    }
}

/// How long an invitation has waited, in words: its [`Invited`], or "age unknown".
pub(crate) fn waited(invited: Option<&Invited>) -> String {
    match invited {
        Some(i) => i.to_string(),
        None => "invited on an unknown date (age unknown)".to_string(),
    }
}

impl fmt::Display for BlockReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let BlockReason::OwnRole(from) | BlockReason::OwnRemoval(from) = self {
            let what = match self {
                BlockReason::OwnRole(_) => "change its own role",
                _ => "remove it",
            };
            return write!(
                f,
                "this is the API key's own account ({}): the API refuses to {what}",
                from.name()
            );
        }
        f.write_str(match self {
            BlockReason::OwnRole(_) | BlockReason::OwnRemoval(_) => "",
            BlockReason::Protected => {
                "protected: listed under `protected`, never demoted, removed or revoked"
            }
            BlockReason::BlockedReplacement => "part of an invitation replacement that is blocked",
        })
    }
}

impl fmt::Display for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Guard::MaxRemovals {
                removals,
                members,
                tripped,
                allowed,
                ..
            } => {
                let limit = self.removal_limit().unwrap_or_default();
                if *tripped {
                    write!(
                        f,
                        "mass removal: the plan removes {removals} of {members} members; {limit}{}",
                        if *allowed {
                            " (allowed by --allow-mass-removal)"
                        } else {
                            ". apply will refuse without --allow-mass-removal"
                        }
                    )
                } else {
                    write!(
                        f,
                        "{removals} removal{} planned; {limit}",
                        plural(*removals)
                    )
                }
            }
            Guard::MinAdmins {
                admins,
                min,
                tripped,
            } => {
                if *tripped {
                    write!(
                        f,
                        "too few admins: the plan leaves {admins} admin member{} and at least {min} {} required (pending admin invitations do not count); apply will refuse",
                        plural(*admins),
                        one_or_many(*min, "is", "are")
                    )
                } else if admins < min {
                    write!(
                        f,
                        "{admins} admin members after the plan; at least {min} required, but the plan does not reduce them, so apply goes ahead"
                    )
                } else {
                    write!(
                        f,
                        "{admins} admin members after the plan; at least {min} required"
                    )
                }
            }
        }
    }
}

impl Guard {
    /// The removal limit and where it comes from, in words, as every plan that removes says it
    /// (docs/contract.md §5): `removal limit 50: the default, max(3, 25% of 2993 members) up to
    /// 50`, `removal limit 5: safety.max_removals`. `None` for the admin guard.
    pub(crate) fn removal_limit(&self) -> Option<String> {
        use crate::planner::{DEFAULT_REMOVAL_CAP, DEFAULT_REMOVAL_FLOOR, DEFAULT_REMOVAL_PERCENT};
        let Guard::MaxRemovals {
            members,
            limit,
            rule,
            ..
        } = self
        else {
            return None;
        };
        Some(match rule {
            Some(MaxRemovals::Count(_)) => format!("removal limit {limit}: safety.max_removals"),
            Some(MaxRemovals::Percent(p)) => format!(
                "removal limit {limit}: safety.max_removals, {p}% of {members} member{}",
                plural(*members)
            ),
            None => format!(
                "removal limit {limit}: the default, max({DEFAULT_REMOVAL_FLOOR}, {DEFAULT_REMOVAL_PERCENT}% of {members} member{}) up to {DEFAULT_REMOVAL_CAP}",
                plural(*members)
            ),
        })
    }
}

impl Change {
    /// Why the planner chose this change, in words (the JSON plan's `cause`).
    pub(crate) fn cause(&self) -> &'static str {
        let departed = |d: Departure| match d {
            Departure::NotDesired => "not in the desired file",
            Departure::Expired { .. } => "expired",
        };
        match self {
            Change::Invite(c) if c.replaces.is_some() => {
                "replaces a pending invitation with another role"
            }
            Change::Invite(_) => "not a member and not invited",
            Change::UpdateRole(_) => "member has another role",
            Change::Remove(c) => departed(c.departure),
            Change::Revoke(c) => match c.cause {
                RevokeCause::Departed(d) => departed(d),
                RevokeCause::AlreadyMember => "already a member; the invitation is redundant",
                RevokeCause::Duplicate { kept: true } => "duplicate pending invitation",
                RevokeCause::Duplicate { kept: false } => {
                    "duplicate pending invitation with another role"
                }
                RevokeCause::Replaced => {
                    "wrong role; invitations cannot be edited, so it is replaced"
                }
            },
            Change::Resend(_) => {
                "pending longer than invitations.resend_after_days; revoked and sent again"
            }
        }
    }

    /// The reason shown next to the change in text and Markdown: [`Change::reason_text`], and
    /// the part that asks for it (docs/contract.md §10: every plan reason names the part).
    pub(crate) fn shown_reason(&self) -> Option<String> {
        let part = match self {
            Change::Resend(_) => None,
            c => c.part(),
        };
        match (self.reason_text(), part) {
            (Some(r), Some(p)) => Some(format!("{r} (in {p})")),
            (None, Some(p)) => Some(format!("in {p}")),
            (r, None) => r,
        }
    }

    /// The JSON plan's `reason`: the file's reason, and for an expiry the date first; the part
    /// is its own field (`part`), never appended here.
    pub(crate) fn reason_text(&self) -> Option<String> {
        if let Change::Resend(c) = self {
            return Some(format!("pending for {} days", c.invited.age_days));
        }
        let departure = match self {
            Change::Remove(c) => Some(c.departure),
            Change::Revoke(Revoke {
                cause: RevokeCause::Departed(d),
                ..
            }) => Some(*d),
            _ => None,
        };
        match (departure, self.reason()) {
            (Some(Departure::Expired { on }), Some(r)) => Some(format!("expired on {on}: {r}")),
            (Some(Departure::Expired { on }), None) => Some(format!("expired on {on}")),
            (_, r) => r.map(str::to_owned),
        }
    }
}

impl StopCause {
    /// The JSON plan's `cause` (data, such as a pattern, is the view's to add).
    pub(crate) fn words(&self) -> String {
        match self {
            StopCause::Ignored { pattern } => format!("matches the ignore pattern {pattern}"),
            StopCause::Protected => "listed under protected".into(),
            StopCause::Listed { role } => format!("the file lists it as {role}"),
            StopCause::Renewed { expires: Some(d) } => format!("its expires moved to {d}"),
            StopCause::Renewed { expires: None } => "its expires was removed".into(),
            StopCause::Dropped => "no longer listed in the file".into(),
            StopCause::ResendRule => "invitations.resend_after_days changed".into(),
            StopCause::Replaced => "the plan makes another change for this email".into(),
        }
    }
}
