//! The organization as the API lists it, and the part of it teamsync manages.

use crate::date::Timestamp;
use crate::email::Email;
use crate::glob::Glob;
use crate::role::{LiveRole, Role};

/// A member as the API lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LiveMember {
    pub(crate) id: String,
    pub(crate) email: Email,
    pub(crate) role: LiveRole,
}

/// A pending invitation as the API lists it (invitations with another status are dropped where
/// the list is read: docs/contract.md §4 ignores them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LiveInvitation {
    pub(crate) id: String,
    pub(crate) email: Email,
    pub(crate) role: LiveRole,
    /// When it was sent (`createdAt`); `None` when missing or unreadable: its age is unknown.
    pub(crate) created_at: Option<Timestamp>,
}

impl LiveMember {
    pub(crate) fn new(id: &str, email: &str, role: &str) -> LiveMember {
        LiveMember {
            id: id.to_string(),
            email: Email::new(email),
            role: LiveRole::parse(role),
        }
    }
}

impl LiveInvitation {
    pub(crate) fn new(id: &str, email: &str, role: &str) -> LiveInvitation {
        LiveInvitation {
            id: id.to_string(),
            email: Email::new(email),
            role: LiveRole::parse(role),
            created_at: None,
        }
    }
}

/// Everything `GET team/members` returned, all pages joined: members and pending invitations.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct LiveState {
    pub(crate) members: Vec<LiveMember>,
    pub(crate) invitations: Vec<LiveInvitation>,
}

/// Where a plan's view of the org came from, and when it was read (docs/contract.md §9).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LiveSource {
    pub(crate) from: ReadFrom,
    /// When the org was read: the start of the list read, or the snapshot's `read_at`.
    pub(crate) read_at: Timestamp,
    /// Seconds from `read_at` to when the plan was made (the command's clock), for "N hours
    /// ago"; negative when the snapshot claims a time in the future.
    pub(crate) age_seconds: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ReadFrom {
    /// A list read of the API at this base URL (without credentials).
    Api { url: String },
    /// A snapshot document (`plan --live PATH`).
    Snapshot { path: String },
}

/// A snapshot older than this many days is a plan warning (docs/contract.md §9).
pub(crate) const STALE_SNAPSHOT_DAYS: i64 = 7;

impl LiveSource {
    /// A snapshot read more than [`STALE_SNAPSHOT_DAYS`] ago.
    pub(crate) fn is_stale_snapshot(&self) -> bool {
        matches!(self.from, ReadFrom::Snapshot { .. })
            && self.age_seconds > STALE_SNAPSHOT_DAYS * 86_400
    }
}

/// The part of the org teamsync manages: the live state without the emails `ignore` matches,
/// members and pending invitations each sorted by email (a stable sort keeps the API's order
/// within one email). Computed once per run; the planner, the diff view, saved plans and export
/// all read it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Managed {
    pub(crate) members: Vec<LiveMember>,
    pub(crate) invitations: Vec<LiveInvitation>,
    /// Members and pending invitations left out because `ignore` matches them.
    pub(crate) ignored: usize,
    /// Every live member, ignored ones included: the base of the removal limit.
    pub(crate) live_members: usize,
    /// Admin members that `ignore` matches: they stay admins whatever the plan does.
    pub(crate) ignored_admins: usize,
}

impl Managed {
    pub(crate) fn new(live: LiveState, ignore: &[Glob]) -> Managed {
        let ignored = |e: &Email| ignore.iter().any(|g| g.matches(e));
        let live_members = live.members.len();
        // In place: a million members are not moved into new lists.
        let (mut members, mut invitations) = (live.members, live.invitations);
        let (mut ignored_count, mut ignored_admins) = (0, 0);
        members.retain(|m| {
            let keep = !ignored(&m.email);
            if !keep {
                ignored_count += 1;
                ignored_admins += usize::from(m.role.is(Role::Admin));
            }
            keep
        });
        invitations.retain(|i| {
            let keep = !ignored(&i.email);
            ignored_count += usize::from(!keep);
            keep
        });
        members.sort_by(|a, b| a.email.cmp(&b.email));
        invitations.sort_by(|a, b| a.email.cmp(&b.email));
        Managed {
            members,
            invitations,
            ignored: ignored_count,
            live_members,
            ignored_admins,
        }
    }

    /// Admin members now, ignored ones included.
    pub(crate) fn admins(&self) -> usize {
        self.ignored_admins
            + self
                .members
                .iter()
                .filter(|m| m.role.is(Role::Admin))
                .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_managed_view_leaves_ignored_emails_out_and_sorts() {
        let live = LiveState {
            members: vec![
                LiveMember::new("u1", "Zed@x.com", "org:admin"),
                LiveMember::new("u2", "bot@vendor.io", "org:admin"),
                LiveMember::new("u3", "amy@x.com", "org:member"),
            ],
            invitations: vec![
                LiveInvitation::new("i1", "new@vendor.io", "org:member"),
                LiveInvitation::new("i2", "b@x.com", "org:member"),
            ],
        };
        let m = Managed::new(live, &[Glob::new("*@VENDOR.io")]);
        let emails: Vec<&str> = m.members.iter().map(|m| m.email.as_str()).collect();
        assert_eq!(emails, ["amy@x.com", "zed@x.com"]);
        assert_eq!(m.invitations.len(), 1);
        assert_eq!((m.ignored, m.live_members, m.ignored_admins), (2, 3, 1));
        assert_eq!(m.admins(), 2);
    }
}
