//! The organization as the API lists it, the part of it teamsync manages, the two kinds of id
//! it names, and lookups into one read of it.

use crate::date::Timestamp;
use crate::email::Email;
use crate::glob::Glob;
use crate::role::{LiveRole, Role};
use std::fmt;

/// Declares an id newtype: a member id and an invitation id are both strings on the wire, and
/// one must never be passed where the other is meant (`DELETE team/members/{id}` with an
/// invitation's id would remove nobody, or worse, someone).
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub(crate) struct $name(String);

        impl $name {
            pub(crate) fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> $name {
                $name(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> $name {
                $name(id.to_string())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }
    };
}

id_type!(
    /// A member's id (`user_…`), as the API lists it.
    MemberId
);
id_type!(
    /// A pending invitation's id (`orginv_…`), as the API lists it.
    InvitationId
);

/// A member as the API lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LiveMember {
    pub(crate) id: MemberId,
    pub(crate) email: Email,
    pub(crate) role: LiveRole,
}

/// A pending invitation as the API lists it (invitations with another status are dropped where
/// the list is read: docs/contract.md §4 ignores them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LiveInvitation {
    pub(crate) id: InvitationId,
    pub(crate) email: Email,
    pub(crate) role: LiveRole,
    /// When it was sent (`createdAt`); `None` when missing or unreadable: its age is unknown.
    pub(crate) created_at: Option<Timestamp>,
}

impl LiveMember {
    pub(crate) fn new(id: &str, email: &str, role: &str) -> LiveMember {
        LiveMember {
            id: id.into(),
            email: Email::new(email),
            role: LiveRole::parse(role),
        }
    }
}

impl LiveInvitation {
    pub(crate) fn new(id: &str, email: &str, role: &str) -> LiveInvitation {
        LiveInvitation {
            id: id.into(),
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

/// An org of these members and invitations, each `(id, email, role)`, for tests.
#[cfg(test)]
impl LiveState {
    pub(crate) fn of(
        members: &[(&str, &str, &str)],
        invitations: &[(&str, &str, &str)],
    ) -> LiveState {
        LiveState {
            members: members
                .iter()
                .map(|(id, e, r)| LiveMember::new(id, e, r))
                .collect(),
            invitations: invitations
                .iter()
                .map(|(id, e, r)| LiveInvitation::new(id, e, r))
                .collect(),
        }
    }
}

impl LiveState {
    /// Admin members, ignored ones included (what `min_admins` counts).
    pub(crate) fn admins(&self) -> usize {
        self.members
            .iter()
            .filter(|m| m.role.is(Role::Admin))
            .count()
    }
}

/// Positions into one read of the org, each list sorted by its key: members by id and by
/// email, pending invitations by id and by email (list order kept among equal emails). Owned
/// and free of borrows, so that one index serves every step that waits on the same shared read
/// (docs/contract.md §5): with 50,000 members and 2,000 lost answers, each step indexing the
/// read it got cost 14 s of CPU. Built once per read in O(n log n); each question is a binary
/// search.
#[derive(Clone, Debug, Default)]
pub(crate) struct ReadIndex {
    member_ids: Vec<u32>,
    member_emails: Vec<u32>,
    invitation_ids: Vec<u32>,
    invitation_emails: Vec<u32>,
}

impl ReadIndex {
    pub(crate) fn new(live: &LiveState) -> ReadIndex {
        let positions = |n: usize| (0..n as u32).collect::<Vec<u32>>();
        let (m, i) = (&live.members, &live.invitations);
        let mut member_ids = positions(m.len());
        member_ids.sort_by(|a, b| m[*a as usize].id.cmp(&m[*b as usize].id));
        let mut member_emails = positions(m.len());
        member_emails.sort_by(|a, b| m[*a as usize].email.cmp(&m[*b as usize].email));
        let mut invitation_ids = positions(i.len());
        invitation_ids.sort_by(|a, b| i[*a as usize].id.cmp(&i[*b as usize].id));
        // Stable: list order among the invitations of one email.
        let mut invitation_emails = positions(i.len());
        invitation_emails.sort_by(|a, b| i[*a as usize].email.cmp(&i[*b as usize].email));
        ReadIndex {
            member_ids,
            member_emails,
            invitation_ids,
            invitation_emails,
        }
    }
}

/// The run of `sorted` (positions into `items`) whose key equals `key`.
fn run_of<'p, T, K: Ord + ?Sized>(
    sorted: &'p [u32],
    items: &[T],
    key: &K,
    key_of: impl Fn(&T) -> &K,
) -> &'p [u32] {
    let start = sorted.partition_point(|p| key_of(&items[*p as usize]) < key);
    let len = sorted[start..].partition_point(|p| key_of(&items[*p as usize]) == key);
    &sorted[start..start + len]
}

/// Questions about one read of the org, answered through its [`ReadIndex`] (built here, or
/// shared by every step that waits on the same read): is this member there, with which role,
/// is this invitation pending, how many are pending for an email. apply asks, for each of
/// thousands of steps, whether the org shows it done; a scan of the whole list per question
/// made 20,000 steps on 100,000 members quadratic (docs/contract.md §10).
pub(crate) struct Lookup<'a> {
    live: &'a LiveState,
    index: std::borrow::Cow<'a, ReadIndex>,
}

impl<'a> Lookup<'a> {
    pub(crate) fn new(live: &'a LiveState) -> Lookup<'a> {
        Lookup {
            live,
            index: std::borrow::Cow::Owned(ReadIndex::new(live)),
        }
    }

    /// Through `index`, which must be the index of `live`.
    pub(crate) fn with(live: &'a LiveState, index: &'a ReadIndex) -> Lookup<'a> {
        Lookup {
            live,
            index: std::borrow::Cow::Borrowed(index),
        }
    }

    /// The member with this id (the first listed, should the list repeat it).
    pub(crate) fn member(&self, id: &MemberId) -> Option<&'a LiveMember> {
        let m = &self.live.members;
        run_of(&self.index.member_ids, m, id, |x| &x.id)
            .iter()
            .min()
            .map(|p| &m[*p as usize])
    }

    /// The first member listed with this email.
    pub(crate) fn member_by_email(&self, email: &Email) -> Option<&'a LiveMember> {
        let m = &self.live.members;
        run_of(&self.index.member_emails, m, email, |x| &x.email)
            .iter()
            .min()
            .map(|p| &m[*p as usize])
    }

    /// Whether a member has this email.
    pub(crate) fn is_member(&self, email: &Email) -> bool {
        self.member_by_email(email).is_some()
    }

    /// Whether the invitation with this id is pending.
    pub(crate) fn is_pending(&self, id: &InvitationId) -> bool {
        let i = &self.live.invitations;
        !run_of(&self.index.invitation_ids, i, id, |x| &x.id).is_empty()
    }

    /// The pending invitations of `email`, in list order.
    pub(crate) fn invitations_of(&self, email: &Email) -> Vec<&'a LiveInvitation> {
        let i = &self.live.invitations;
        run_of(&self.index.invitation_emails, i, email, |x| &x.email)
            .iter()
            .map(|p| &i[*p as usize])
            .collect()
    }
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
pub(crate) const OLD_SNAPSHOT_DAYS: i64 = 7;

impl LiveSource {
    /// A snapshot read more than [`OLD_SNAPSHOT_DAYS`] ago.
    pub(crate) fn is_old_snapshot(&self) -> bool {
        matches!(self.from, ReadFrom::Snapshot { .. })
            && self.age_seconds > OLD_SNAPSHOT_DAYS * 86_400
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
