//! Where each change comes from, given a baseline, and what the edit stops: the data
//! (docs/contract.md §8). Each change and blocked change carries its own [`Origin`]. [`crate::origin`] and [`crate::stops`] compute it.

use super::{Change, Role};
use crate::date::Date;
use crate::email::Email;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The origin of one change or blocked change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Origin {
    /// The edit under review asks for it.
    Edit,
    /// The baseline's plan holds it too: the org differs from what was desired already.
    Drift,
    /// The baseline's plan holds it too, and the file's own clock causes it: an `expires`
    /// that passed, an invitation older than `invitations.resend_after_days`
    /// (docs/contract.md §8).
    Scheduled,
}

impl Origin {
    /// In the order the text and Markdown plans show their groups.
    pub(crate) const ALL: [Origin; 3] = [Origin::Edit, Origin::Drift, Origin::Scheduled];

    /// What a change the baseline's plan makes too is: scheduled when the file's clock causes
    /// it, else drift.
    pub(crate) fn shared(c: &Change) -> Origin {
        if c.is_scheduled() {
            Origin::Scheduled
        } else {
            Origin::Drift
        }
    }
}

/// What makes two changes "the same" across two plans: action, email and role (the role after
/// the change, or the role that goes away, as the API lists it).
pub(crate) type Key<'a> = (super::Action, &'a Email, &'a str);

/// The [`Key`] of a change.
pub(crate) fn key(c: &Change) -> Key<'_> {
    let role = match c {
        Change::Invite(c) => c.role.as_str(),
        Change::UpdateRole(c) => c.to.as_str(),
        Change::Resend(c) => c.role.as_str(),
        Change::Remove(c) => c.role.as_str(),
        Change::Revoke(c) => c.role.as_str(),
    };
    (c.action(), c.email(), role)
}

/// An entry the edit adds or changes that needs no change: the org already holds it (a member
/// with that role, or a pending invitation with it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AlreadyInOrg {
    pub(crate) email: Email,
    pub(crate) role: Role,
}

/// What comparing a plan with the baseline's finds besides each entry's origin (which each
/// change and blocked change carries): what the edit asks for that the org holds already, what
/// it stops, the rules and expiries it changes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Compared {
    /// Sorted by email.
    pub(crate) already_in_org: Vec<AlreadyInOrg>,
    /// What the baseline's plan makes and the edit's does not.
    pub(crate) no_longer: Vec<NoLonger>,
    /// The rules the edit changes.
    pub(crate) rules_changed: Vec<RuleChange>,
    /// The entries whose `expires` the edit sets, moves or removes.
    pub(crate) expiries: Vec<ExpiryChange>,
    /// How many emails of the drift `teamsync adopt` would keep in the file (set by
    /// `Plan::set_adoptable`): the pointer to adopt names these only (docs/contract.md §8).
    pub(crate) adoptable_drift: usize,
    /// Set by `apply --drift keep`: the drift is left in place, not reverted, so the plan shows
    /// it as such and points nowhere (docs/contract.md §5).
    pub(crate) drift_kept: bool,
}

/// A change the baseline's plan makes and the edit's plan does not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NoLonger {
    pub(crate) change: Change,
    pub(crate) cause: StopCause,
}

impl NoLonger {
    /// Whether not making the change keeps someone in the org (a removal or a revocation not
    /// done) or an admin an admin (a demotion not done).
    pub(crate) fn keeps_access(&self) -> bool {
        match &self.change {
            Change::Remove(_) | Change::Revoke(_) => true,
            c => c.is_demotion(),
        }
    }
}

/// Why the edit's plan no longer makes a change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum StopCause {
    /// The edit's `ignore` has a pattern that matches the email (the base's did not).
    Ignored { pattern: String },
    /// The edit's `protected` lists the email: the change is blocked.
    Protected,
    /// The edit lists the email with this role (the base did not, or with another role).
    Listed { role: Role },
    /// The edit moved the entry's `expires` (to this date, or removed it).
    Renewed { expires: Option<Date> },
    /// The edit no longer lists the email.
    Dropped,
    /// The edit changed `invitations.resend_after_days`.
    ResendRule,
    /// The edit's plan makes another change for the email instead.
    Replaced,
}

/// One rule the edit changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RuleChange {
    /// `ignore`, `protected`, `allowed_domains`, `safety.max_removals`, `safety.min_admins`,
    /// `invitations.resend_after_days`, or a `policy.` rule.
    pub(crate) rule: &'static str,
    /// The entry or value before the edit (`None`: added, or unset).
    pub(crate) before: Option<String>,
    /// After the edit (`None`: removed, or unset).
    pub(crate) after: Option<String>,
    /// The org's members and pending invitations it now matches or affects, sorted.
    pub(crate) members: Vec<Email>,
}

/// An entry whose `expires` the edit sets, moves or removes: when access ends, decided in this
/// change, shown even while nothing is due yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ExpiryChange {
    pub(crate) email: Email,
    pub(crate) role: Role,
    /// The base's date (`None`: no entry, or no `expires`).
    pub(crate) before: Option<Date>,
    /// The edit's date (`None`: removed).
    pub(crate) after: Option<Date>,
}
