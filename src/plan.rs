//! The plan: typed data, not behaviour. The planner makes one; every renderer and the executor
//! read it. Each kind of change carries exactly its own fields; why a change is made, blocked or
//! warned about is a value, and the words shown for it are `crate::render`'s (`render/words.rs`,
//! `render/warnings.rs`; docs/contract.md §6), never the planner's or this module's.

use crate::date::{Date, Timestamp};
use crate::desired::MaxRemovals;
use crate::email::Email;
use crate::live::{InvitationId, LiveInvitation, LiveMember, LiveSource, Managed, MemberId};
use crate::role::{LiveRole, Role};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

mod origins;
mod warning;
pub(crate) use origins::{
    AlreadyInOrg, Compared, ExpiryChange, Key, NoLonger, Origin, RuleChange, StopCause, key,
};
pub(crate) use warning::{STALE_INVITATION_DAYS, Warning};

/// What a change does to the organization.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Action {
    /// Send an invitation (`POST team/members/invite`).
    Invite,
    /// Replace a stale pending invitation: revoke it, then invite again, as one step
    /// (docs/contract.md §4).
    Resend,
    /// Change a member's role (`PATCH team/members/{id}/role`).
    UpdateRole,
    /// Remove a member (`DELETE team/members/{id}`).
    Remove,
    /// Revoke a pending invitation (`DELETE team/members/invitations/{id}`).
    Revoke,
}

impl Action {
    /// In plan order.
    pub(crate) const ALL: [Action; 5] = [
        Action::Invite,
        Action::Resend,
        Action::UpdateRole,
        Action::Remove,
        Action::Revoke,
    ];
}

/// Why someone listed in the org is no longer wanted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Departure {
    /// The file does not list them.
    NotDesired,
    /// The file lists them with an `expires` date that has passed.
    Expired { on: Date },
}

/// When a pending invitation was sent and how many whole days it has waited by the plan's
/// "today" (docs/contract.md §4). An invitation whose `createdAt` is missing or unreadable has
/// no `Invited`: its age is unknown, and it is never re-sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Invited {
    pub(crate) at: Timestamp,
    /// Days from its UTC date to today; 0 for a date in the future (a skewed clock).
    pub(crate) age_days: u64,
    /// Its UTC date is after today: said as such, never as "today" (docs/contract.md §9).
    pub(crate) in_future: bool,
}

impl Invited {
    pub(crate) fn new(at: &Timestamp, today: Date) -> Invited {
        let days = at.date().days_until(today);
        Invited {
            at: at.clone(),
            age_days: days.max(0) as u64,
            in_future: days < 0,
        }
    }
}

/// Send an invitation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Invite {
    pub(crate) email: Email,
    pub(crate) role: Role,
    /// The file's `reason` for this member.
    pub(crate) reason: Option<String>,
    /// The part of a desired directory whose entry asks for it (docs/contract.md §10).
    pub(crate) part: Option<String>,
    /// The role of the pending invitation this one replaces (revoked first, in the same step),
    /// when there is one: invitations cannot be edited.
    pub(crate) replaces: Option<LiveRole>,
}

/// Change a member's role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct UpdateRole {
    pub(crate) email: Email,
    pub(crate) id: MemberId,
    pub(crate) from: LiveRole,
    pub(crate) to: Role,
    pub(crate) reason: Option<String>,
    /// The part of a desired directory whose entry asks for it (docs/contract.md §10).
    pub(crate) part: Option<String>,
}

/// Remove a member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Remove {
    pub(crate) email: Email,
    pub(crate) id: MemberId,
    /// The role that goes away.
    pub(crate) role: LiveRole,
    pub(crate) departure: Departure,
    /// The file's `reason` of an expired entry.
    pub(crate) reason: Option<String>,
    /// The part of a desired directory whose entry asks for it (docs/contract.md §10).
    pub(crate) part: Option<String>,
}

/// Why a pending invitation is revoked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RevokeCause {
    /// Its email is no longer wanted.
    Departed(Departure),
    /// The email already belongs to a member.
    AlreadyMember,
    /// Another pending invitation for the email is kept (`kept`), or all of them have another
    /// role and the first is replaced.
    Duplicate { kept: bool },
    /// Its role is wrong: it is replaced by a new invitation, in the same step.
    Replaced,
}

/// Revoke a pending invitation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Revoke {
    pub(crate) email: Email,
    pub(crate) id: InvitationId,
    /// The role the invitation would have given.
    pub(crate) role: LiveRole,
    pub(crate) cause: RevokeCause,
    /// The file's `reason` for the email (of the expired entry, for an expiry).
    pub(crate) reason: Option<String>,
    /// The part of a desired directory whose entry asks for it (docs/contract.md §10).
    pub(crate) part: Option<String>,
    /// When it was sent; `None` when the API did not say (age unknown).
    pub(crate) invited: Option<Invited>,
}

/// Replace a pending invitation older than `invitations.resend_after_days`: revoke it, then
/// invite again with the same role, as one step (docs/contract.md §4). Only an invitation whose
/// age is known is ever re-sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Resend {
    pub(crate) email: Email,
    /// The stale invitation's id.
    pub(crate) id: InvitationId,
    /// Its role, which is the desired one (a wrong role is a replacement instead).
    pub(crate) role: Role,
    pub(crate) invited: Invited,
    /// The file's `resend_after_days`.
    pub(crate) after_days: u64,
    /// The file's `reason` for the member.
    pub(crate) reason: Option<String>,
    /// The part of a desired directory whose entry asks for it (docs/contract.md §10).
    pub(crate) part: Option<String>,
}

impl Resend {
    /// What a re-send is sent as, in order: a revoke of the old invitation, then an invite
    /// replacing it (the executor runs them as one step, with the usual retry rules each).
    pub(crate) fn parts(&self) -> (Revoke, Invite) {
        (
            Revoke {
                email: self.email.clone(),
                id: self.id.clone(),
                role: self.role.into(),
                cause: RevokeCause::Replaced,
                reason: self.reason.clone(),
                part: self.part.clone(),
                invited: Some(self.invited.clone()),
            },
            Invite {
                email: self.email.clone(),
                role: self.role,
                reason: self.reason.clone(),
                part: self.part.clone(),
                replaces: Some(self.role.into()),
            },
        )
    }
}

/// One change to the organization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Change {
    Invite(Invite),
    UpdateRole(UpdateRole),
    Remove(Remove),
    Revoke(Revoke),
    Resend(Resend),
}

/// A change the plan makes, with where it comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Planned {
    pub(crate) change: Change,
    /// With a baseline: the edit's, drift or scheduled (docs/contract.md §8), set by
    /// [`crate::origin::classify`]; `None` without one.
    pub(crate) origin: Option<Origin>,
}

impl Planned {
    /// A change with no origin yet, as the planner makes it.
    pub(crate) fn new(change: Change) -> Planned {
        Planned {
            change,
            origin: None,
        }
    }
}

/// The apply phases (docs/contract.md §5): each starts when the previous one has finished, so
/// the org never loses its last admin midway.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Phase {
    /// Invitations (replacements included) and promotions.
    Grant = 1,
    /// Demotions.
    Demote = 2,
    /// Revocations and removals.
    Remove = 3,
}

impl Phase {
    pub(crate) const ALL: [Phase; 3] = [Phase::Grant, Phase::Demote, Phase::Remove];
}

impl Change {
    pub(crate) fn action(&self) -> Action {
        match self {
            Change::Invite(_) => Action::Invite,
            Change::UpdateRole(_) => Action::UpdateRole,
            Change::Remove(_) => Action::Remove,
            Change::Revoke(_) => Action::Revoke,
            Change::Resend(_) => Action::Resend,
        }
    }

    pub(crate) fn email(&self) -> &Email {
        match self {
            Change::Invite(c) => &c.email,
            Change::UpdateRole(c) => &c.email,
            Change::Remove(c) => &c.email,
            Change::Revoke(c) => &c.email,
            Change::Resend(c) => &c.email,
        }
    }

    /// When the pending invitation a revocation or re-send concerns was sent.
    pub(crate) fn invited(&self) -> Option<&Invited> {
        match self {
            Change::Revoke(c) => c.invited.as_ref(),
            Change::Resend(c) => Some(&c.invited),
            _ => None,
        }
    }

    /// The member or invitation id the request names (none for an invitation yet to be sent).
    pub(crate) fn id(&self) -> Option<&str> {
        match self {
            Change::Invite(_) => None,
            Change::UpdateRole(c) => Some(c.id.as_str()),
            Change::Remove(c) => Some(c.id.as_str()),
            Change::Revoke(c) => Some(c.id.as_str()),
            Change::Resend(c) => Some(c.id.as_str()),
        }
    }

    /// The file's reason for this email, if it gave one.
    pub(crate) fn reason(&self) -> Option<&str> {
        match self {
            Change::Invite(c) => c.reason.as_deref(),
            Change::UpdateRole(c) => c.reason.as_deref(),
            Change::Remove(c) => c.reason.as_deref(),
            Change::Revoke(c) => c.reason.as_deref(),
            Change::Resend(c) => c.reason.as_deref(),
        }
    }

    /// The part of a desired directory whose entry asks for the change (JSON `part`).
    pub(crate) fn part(&self) -> Option<&str> {
        match self {
            Change::Invite(c) => c.part.as_deref(),
            Change::UpdateRole(c) => c.part.as_deref(),
            Change::Remove(c) => c.part.as_deref(),
            Change::Revoke(c) => c.part.as_deref(),
            Change::Resend(c) => c.part.as_deref(),
        }
    }

    /// True when this change takes admin rights away.
    pub(crate) fn is_demotion(&self) -> bool {
        matches!(self, Change::UpdateRole(c) if c.to != Role::Admin)
    }

    /// True for a demotion, removal or revocation (a re-send revokes first): what `protected`
    /// forbids.
    pub(crate) fn takes_away(&self) -> bool {
        matches!(
            self,
            Change::Remove(_) | Change::Revoke(_) | Change::Resend(_)
        ) || self.is_demotion()
    }

    /// True when the file's own clock causes the change, not a difference between the file and
    /// the org: a removal or revocation past the entry's `expires`, a re-send past
    /// `invitations.resend_after_days` (docs/contract.md §8).
    pub(crate) fn is_scheduled(&self) -> bool {
        match self {
            Change::Remove(r) => matches!(r.departure, Departure::Expired { .. }),
            Change::Revoke(r) => {
                matches!(r.cause, RevokeCause::Departed(Departure::Expired { .. }))
            }
            Change::Resend(_) => true,
            Change::Invite(_) | Change::UpdateRole(_) => false,
        }
    }

    /// Half of an invitation replacement (the revoke or the invite).
    pub(crate) fn is_replacement(&self) -> bool {
        match self {
            Change::Invite(c) => c.replaces.is_some(),
            Change::Revoke(c) => c.cause == RevokeCause::Replaced,
            _ => false,
        }
    }

    /// The revoke half of a replaced invitation: shown and counted with its new invitation,
    /// not among the revocations (docs/contract.md §6).
    pub(crate) fn is_replaced_revoke(&self) -> bool {
        matches!(self, Change::Revoke(c) if c.cause == RevokeCause::Replaced)
    }

    pub(crate) fn phase(&self) -> Phase {
        match self {
            Change::Invite(_) | Change::Resend(_) => Phase::Grant,
            Change::Revoke(c) if c.cause == RevokeCause::Replaced => Phase::Grant,
            Change::UpdateRole(_) if !self.is_demotion() => Phase::Grant,
            Change::UpdateRole(_) => Phase::Demote,
            Change::Revoke(_) | Change::Remove(_) => Phase::Remove,
        }
    }

    /// Plan order: by action, then email.
    pub(crate) fn sort_key(&self) -> (Action, &Email) {
        (self.action(), self.email())
    }
}

/// Where the API key's own account was named: `--self` or `TEAMSYNC_SELF`, so that a message
/// names what the user set (docs/contract.md §4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum SelfFrom {
    #[default]
    Flag,
    Env,
}

impl SelfFrom {
    pub(crate) fn name(self) -> &'static str {
        match self {
            SelfFrom::Flag => "--self",
            SelfFrom::Env => "TEAMSYNC_SELF",
        }
    }
}

/// Why a change will not be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BlockReason {
    /// It would change the role of the API key's own account, which the API refuses.
    OwnRole(SelfFrom),
    /// It would remove the API key's own account, which the API refuses.
    OwnRemoval(SelfFrom),
    /// It would demote, remove or revoke a `protected` email.
    Protected,
    /// The other half of an invitation replacement is blocked.
    BlockedReplacement,
}

/// Drift that teamsync will not send, with why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Blocked {
    pub(crate) change: Change,
    pub(crate) why: BlockReason,
    /// With a baseline: where it comes from (docs/contract.md §8), as [`Planned::origin`].
    pub(crate) origin: Option<Origin>,
}

/// Blocked changes as they are listed and counted (docs/contract.md §4): a blocked invitation
/// replacement is one entry, its new invitation with the reason that blocked the pair (a
/// protected old invitation, say), as a replacement sent is one step. In the order given.
pub(crate) fn blocked_entries<'a>(
    blocked: impl IntoIterator<Item = &'a Blocked>,
) -> Vec<(&'a Change, BlockReason)> {
    let blocked: Vec<&Blocked> = blocked.into_iter().collect();
    // The real reason of each blocked replacement, by email: the half not blocked only for
    // being the other half.
    let mut pair_why: std::collections::HashMap<&Email, BlockReason> =
        std::collections::HashMap::new();
    let mut with_invite: std::collections::HashSet<&Email> = std::collections::HashSet::new();
    for b in &blocked {
        if b.change.is_replacement() {
            if b.why != BlockReason::BlockedReplacement {
                pair_why.insert(b.change.email(), b.why);
            }
            if !b.change.is_replaced_revoke() {
                with_invite.insert(b.change.email());
            }
        }
    }
    blocked
        .into_iter()
        .filter(|b| !(b.change.is_replaced_revoke() && with_invite.contains(b.change.email())))
        .map(|b| {
            let why = match b.why {
                BlockReason::BlockedReplacement if b.change.is_replacement() => {
                    pair_why.get(b.change.email()).copied().unwrap_or(b.why)
                }
                why => why,
            };
            (&b.change, why)
        })
        .collect()
}

/// A safety guard (docs/contract.md §5) and whether it trips.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Guard {
    /// The plan removes more members than the limit.
    MaxRemovals {
        removals: u64,
        /// Live members now, ignored ones included.
        members: u64,
        /// The most removals allowed.
        limit: u64,
        /// The file's `safety.max_removals`, or the default when `None`.
        rule: Option<MaxRemovals>,
        tripped: bool,
        /// `--allow-mass-removal` lifts it.
        allowed: bool,
    },
    /// The plan takes admins away and leaves fewer admin members than required.
    MinAdmins {
        /// Admin members after the plan (pending invitations do not count).
        admins: u64,
        min: u64,
        tripped: bool,
    },
}

/// Where a removal limit comes from: the JSON plan's `guards[].limit_from`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum LimitFrom {
    /// max(3, 25 % of current members), at most 50.
    Default,
    /// The file's `safety.max_removals`.
    File,
}

// Which guard: the JSON plan's `guards[].kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum GuardKind {
    MaxRemovals,
    MinAdmins,
}

impl Guard {
    pub(crate) fn kind(&self) -> GuardKind {
        match self {
            Guard::MaxRemovals { .. } => GuardKind::MaxRemovals,
            Guard::MinAdmins { .. } => GuardKind::MinAdmins,
        }
    }

    /// Whether applying the plan would cross the limit.
    pub(crate) fn tripped(&self) -> bool {
        match self {
            Guard::MaxRemovals { tripped, .. } | Guard::MinAdmins { tripped, .. } => *tripped,
        }
    }

    /// Tripped, but lifted by `--allow-mass-removal` (never the admin guard).
    pub(crate) fn overridden(&self) -> bool {
        matches!(
            self,
            Guard::MaxRemovals {
                tripped: true,
                allowed: true,
                ..
            }
        )
    }

    /// Tripped and not lifted: apply refuses (exit 3).
    pub(crate) fn refuses(&self) -> bool {
        self.tripped() && !self.overridden()
    }

    /// The measured value: removals planned, or admin members left.
    pub(crate) fn value(&self) -> u64 {
        match self {
            Guard::MaxRemovals { removals, .. } => *removals,
            Guard::MinAdmins { admins, .. } => *admins,
        }
    }

    /// Where the removal limit comes from: `safety.max_removals`, or the default (`None` for
    /// the admin guard).
    pub(crate) fn limit_from(&self) -> Option<LimitFrom> {
        match self {
            Guard::MaxRemovals { rule: Some(_), .. } => Some(LimitFrom::File),
            Guard::MaxRemovals { rule: None, .. } => Some(LimitFrom::Default),
            Guard::MinAdmins { .. } => None,
        }
    }

    /// The limit: most removals allowed, or fewest admins required.
    pub(crate) fn limit(&self) -> u64 {
        match self {
            Guard::MaxRemovals { limit, .. } => *limit,
            Guard::MinAdmins { min, .. } => *min,
        }
    }
}

/// Counts by action, for summaries.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub(crate) struct Summary {
    pub(crate) invite: usize,
    pub(crate) update_role: usize,
    pub(crate) remove: usize,
    pub(crate) revoke: usize,
    /// Stale invitations re-sent (revoke, then invite again).
    #[serde(default)]
    pub(crate) resend: usize,
    pub(crate) blocked: usize,
    /// Live members and pending invitations left alone because they match `ignore`.
    pub(crate) ignored: usize,
    /// Desired members that already match the org.
    pub(crate) unchanged: usize,
    /// With `--baseline` only: changes and blocked changes the edit asks for
    /// (docs/contract.md §8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) edit: Option<usize>,
    /// With `--baseline` only: changes and blocked changes that the baseline's plan holds too:
    /// drift in the org.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) drift: Option<usize>,
    /// With `--baseline` only: changes and blocked changes that the baseline's plan holds too
    /// and that the file's own clock causes (an `expires` passed, a re-send due).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) scheduled: Option<usize>,
}

/// The result of planning. Its JSON view is [`crate::formats::plan::PlanWire`], field for field
/// (docs/contract.md §6).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Changes apply will send, sorted by action then email, each with its origin.
    pub(crate) changes: Vec<Planned>,
    /// Drift that will not be sent (the key's own account, protected emails), with the reason.
    pub(crate) blocked: Vec<Blocked>,
    /// Pending invitations the plan keeps as they are, with how long each has waited
    /// (docs/contract.md §4), sorted by email.
    pub(crate) pending_invitations: Vec<Pending>,
    /// What a reviewer should know; tripped guards come first.
    pub(crate) warnings: Vec<Warning>,
    /// Safety guards, tripped or not.
    pub(crate) guards: Vec<Guard>,
    pub(crate) summary: Summary,
    /// Live members before the plan, ignored ones included.
    pub(crate) live_members: usize,
    /// Admin members after the plan (pending invitations do not count).
    pub(crate) admins_after: usize,
    /// With `--baseline`: what comparing with the baseline's plan finds besides each entry's
    /// origin (docs/contract.md §8). Set with the origins by [`crate::origin::classify`], never
    /// by the planner.
    pub(crate) compared: Option<Compared>,
    /// What the plan was made against and when it was read (docs/contract.md §9), as the
    /// planner was told ([`crate::planner::PlanOptions::source`]).
    pub(crate) source: Option<LiveSource>,
    /// The org the desired file names (`org:`, docs/contract.md §3), for the documents that
    /// carry it (saved plans, reports).
    pub(crate) org: Option<String>,
    /// With `--baseline`: what it was compared with (docs/contract.md §8), as the planner was
    /// told.
    pub(crate) baseline: Option<BaselineName>,
}

/// The baseline a plan was compared with: its path as given, and `--baseline-label`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub(crate) struct BaselineName {
    /// The `--baseline` path, as given on the command line.
    pub(crate) path: String,
    /// `--baseline-label` (in the Action, the base commit's SHA); null without one.
    pub(crate) label: Option<String>,
}

impl BaselineName {
    /// The label, or the path without one.
    pub(crate) fn name(&self) -> &str {
        self.label.as_deref().unwrap_or(&self.path)
    }
}

/// A pending invitation that the plan keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pending {
    pub(crate) email: Email,
    pub(crate) role: Role,
    /// `None`: the API gave no readable `createdAt`, the age is unknown.
    pub(crate) invited: Option<Invited>,
}

impl Plan {
    /// True when there is nothing to send and nothing blocked: the org matches the file.
    pub(crate) fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.blocked.is_empty()
    }

    /// The changes as a person counts them, and as apply runs them, one step each: a replaced
    /// invitation (its revoke and its new invite, two entries of `changes`) is one change,
    /// as a re-send is (docs/contract.md §6).
    pub(crate) fn count(&self) -> usize {
        self.changes.len() - self.replacements()
    }

    /// Revocations as a person counts them: the revokes of replaced invitations are counted
    /// with their new invitations.
    pub(crate) fn revocations(&self) -> usize {
        self.summary.revoke.saturating_sub(self.replacements())
    }

    /// Invitations replaced by one with another role: each is two entries of `changes`, a
    /// `revoke` and an `invite` with `replaces`.
    pub(crate) fn replacements(&self) -> usize {
        self.changes
            .iter()
            .filter(|c| matches!(&c.change, Change::Invite(i) if i.replaces.is_some()))
            .count()
    }

    /// Guards that trip and are not overridden: apply refuses (exit 3).
    pub(crate) fn refusing_guards(&self) -> impl Iterator<Item = &Guard> {
        self.guards.iter().filter(|g| g.refuses())
    }
}

impl Change {
    /// The role after the change, or the role that goes away (the JSON plan's `role`).
    pub(crate) fn role(&self) -> Option<Role> {
        match self {
            Change::Invite(c) => Some(c.role),
            Change::UpdateRole(c) => Some(c.to),
            Change::Remove(c) => c.role.known(),
            Change::Revoke(c) => c.role.known(),
            Change::Resend(c) => Some(c.role),
        }
    }

    /// The role before the change: the member's, the revoked invitation's, or the replaced
    /// invitation's (the JSON plan's `from_role`).
    pub(crate) fn role_before(&self) -> Option<&LiveRole> {
        match self {
            Change::Invite(c) => c.replaces.as_ref(),
            Change::UpdateRole(c) => Some(&c.from),
            Change::Remove(c) => Some(&c.role),
            Change::Revoke(c) => Some(&c.role),
            Change::Resend(_) => None,
        }
    }
}

/// The managed org as it will be once `changes` are applied: the model the diff view and the
/// property tests use. New invitations get the id `(planned)`.
pub(crate) fn simulate<'a>(
    org: &Managed,
    changes: impl IntoIterator<Item = &'a Change> + Clone,
) -> Managed {
    let mut after = org.clone();
    // Revocations first, so a replacement's new invitation is not taken for the old one.
    for c in changes.clone() {
        if let Change::Revoke(r) = c {
            after.invitations.retain(|i| i.id != r.id);
        }
    }
    for c in changes {
        match c {
            Change::Invite(c) => after.invitations.push(LiveInvitation {
                id: "(planned)".into(),
                email: c.email.clone(),
                role: c.role.into(),
                created_at: None,
            }),
            Change::UpdateRole(c) => {
                for m in after.members.iter_mut().filter(|m| m.id == c.id) {
                    m.role = c.to.into();
                }
            }
            Change::Remove(c) => after.members.retain(|m: &LiveMember| m.id != c.id),
            Change::Revoke(_) => {}
            // The same invitation, sent again today: a new id, and (here) no known age.
            Change::Resend(c) => {
                for i in after.invitations.iter_mut().filter(|i| i.id == c.id) {
                    i.id = "(planned)".into();
                    i.created_at = None;
                }
            }
        }
    }
    after.members.sort_by(|a, b| a.email.cmp(&b.email));
    after.invitations.sort_by(|a, b| a.email.cmp(&b.email));
    after
}
