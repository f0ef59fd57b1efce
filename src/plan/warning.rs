//! A plan's warnings (docs/contract.md §4, §6): what a reviewer should know before applying,
//! as data. Their words are `crate::render`'s (`render/warnings.rs`).

use super::{Guard, Invited, SelfFrom};
use crate::date::Timestamp;
use crate::email::Email;
use crate::role::Role;

/// Something a reviewer should know before applying.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Warning {
    /// A guard trips (these come first).
    Guard(Guard),
    /// The org has fewer admin members than `min_admins` already, and the plan does not lower
    /// the count: not a reason to refuse (the file may be inviting the admins it needs).
    BelowMinAdmins { admins: u64, min: u64 },
    /// After the plan, the only admin left is teamsync's own account (`--self`): no person
    /// could administer the org (docs/contract.md §5). Shown in sight, with the guards.
    OnlyAdminIsSelf { email: Email },
    /// A pending invitation kept by the plan has waited longer than
    /// [`STALE_INVITATION_DAYS`], and the file sets no `invitations.resend_after_days`.
    StaleInvitation {
        email: Email,
        role: Role,
        invited: Invited,
    },
    /// A protected pending invitation is older than `invitations.resend_after_days`: it is not
    /// re-sent (that revokes it), so it is kept, and said (docs/contract.md §9).
    ProtectedOldInvitation {
        email: Email,
        role: Role,
        invited: Invited,
        after_days: u64,
    },
    /// `--self` names an email that is neither a member nor invited: the protection of the
    /// key's own account rests on it, so a typo matters.
    SelfNotInOrg { email: Email, from: SelfFrom },
    /// The plan was made against a snapshot read more than
    /// [`crate::live::OLD_SNAPSHOT_DAYS`] days ago (docs/contract.md §9).
    OldSnapshot {
        path: String,
        read_at: Timestamp,
        /// Seconds from `read_at` to the plan: more than [`crate::live::OLD_SNAPSHOT_DAYS`]
        /// days.
        age_seconds: i64,
    },
    /// `--baseline` names a desired state that is not valid: the plan does not tell the edit
    /// from drift (docs/contract.md §8).
    BaselineInvalid { path: String, problems: usize },
    /// Entries that expire on one date within the notice window (docs/contract.md §4): one
    /// warning per date, naming at most ten emails (the JSON plan names every one).
    Expiring(crate::desired::Expiring),
    /// The members one date's expiries remove are more than the removal limit (docs/contract.md
    /// §4): the apply of the next day will be refused unless something changes.
    RemovalsAhead(crate::desired::RemovalsAhead),
}

/// Without `invitations.resend_after_days`, a pending invitation older than this many days is
/// a plan warning (docs/contract.md §4).
pub(crate) const STALE_INVITATION_DAYS: u64 = 30;
