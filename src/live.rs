//! The organization as the API lists it, the part of it teamsync manages, the two kinds of id
//! it names, and lookups into one read of it.

use crate::date::Timestamp;
use crate::email::Email;
use crate::glob::Glob;
use crate::role::{LiveRole, Role};
use std::collections::{HashMap, HashSet};
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
    /// The first member with this email.
    pub(crate) fn member_by_email(&self, email: &Email) -> Option<&LiveMember> {
        self.members.iter().find(|m| &m.email == email)
    }

    /// Admin members, ignored ones included (what `min_admins` counts).
    pub(crate) fn admins(&self) -> usize {
        self.members
            .iter()
            .filter(|m| m.role.is(Role::Admin))
            .count()
    }
}

type Fast = foldhash::fast::RandomState;

/// The pending invitations of one email in a [`Lookup`]: almost always one, so one needs no
/// list of its own.
enum Invitations<'a> {
    One(&'a LiveInvitation),
    Many(Vec<&'a LiveInvitation>),
}

/// Lookups into one read of the org, built once for that read: by member id, by member email,
/// by invitation id and by invitation email. apply asks, for each of thousands of steps,
/// whether the org shows it done, and for each email it invited how many invitations are
/// pending; a scan of the whole list per question made 20,000 steps on 100,000 members
/// quadratic (docs/contract.md §10). The ids and emails are borrowed, not copied; the hash is
/// foldhash, seeded per process.
pub(crate) struct Lookup<'a> {
    members: HashMap<&'a MemberId, &'a LiveMember, Fast>,
    member_emails: HashSet<&'a Email, Fast>,
    invitations: HashSet<&'a InvitationId, Fast>,
    by_email: HashMap<&'a Email, Invitations<'a>, Fast>,
}

impl<'a> Lookup<'a> {
    pub(crate) fn new(live: &'a LiveState) -> Lookup<'a> {
        let (m, i) = (live.members.len(), live.invitations.len());
        let mut lookup = Lookup {
            members: HashMap::with_capacity_and_hasher(m, Fast::default()),
            member_emails: HashSet::with_capacity_and_hasher(m, Fast::default()),
            invitations: HashSet::with_capacity_and_hasher(i, Fast::default()),
            by_email: HashMap::with_capacity_and_hasher(i, Fast::default()),
        };
        for member in &live.members {
            lookup.members.entry(&member.id).or_insert(member);
            lookup.member_emails.insert(&member.email);
        }
        for inv in &live.invitations {
            lookup.invitations.insert(&inv.id);
            match lookup.by_email.get_mut(&inv.email) {
                None => {
                    lookup.by_email.insert(&inv.email, Invitations::One(inv));
                }
                Some(Invitations::One(first)) => {
                    let first = *first;
                    lookup
                        .by_email
                        .insert(&inv.email, Invitations::Many(vec![first, inv]));
                }
                Some(Invitations::Many(all)) => all.push(inv),
            }
        }
        lookup
    }

    /// The member with this id.
    pub(crate) fn member(&self, id: &MemberId) -> Option<&'a LiveMember> {
        self.members.get(id).copied()
    }

    /// Whether a member has this email.
    pub(crate) fn is_member(&self, email: &Email) -> bool {
        self.member_emails.contains(email)
    }

    /// Whether the invitation with this id is pending.
    pub(crate) fn is_pending(&self, id: &InvitationId) -> bool {
        self.invitations.contains(id)
    }

    /// The pending invitations of `email`, in list order.
    pub(crate) fn invitations_of(&self, email: &Email) -> &[&'a LiveInvitation] {
        match self.by_email.get(email) {
            None => &[],
            Some(Invitations::One(one)) => std::slice::from_ref(one),
            Some(Invitations::Many(all)) => all,
        }
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
