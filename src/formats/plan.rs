//! The JSON plan (`plan --format json`, `plan --out`; docs/contract.md §6), the stable
//! interface for scripts: the document and the wire view of the plan and of each change, guard
//! and pending invitation. Each is one flat object whose fields mean what the contract says; it
//! is how `--format json` and saved plans show a plan, and what a saved plan is compared with
//! when it is applied. The plan's own types are [`crate::plan`].

use crate::live::{LiveSource, ReadFrom};
use crate::origin::{AlreadyInOrg, Origin};
use crate::plan::{
    Action, BaselineName, Blocked, Change, Guard, GuardKind, LimitFrom, Pending, Plan, Planned,
    Summary, Warning,
};
use crate::plan::{ExpiryChange, NoLonger, RuleChange};
use crate::role::Role;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The version of the JSON plan's shape. Fields may be added within a version; none is removed
/// or changes meaning.
pub(crate) const FORMAT_VERSION: u32 = 1;

/// Fingerprints of what the plan was computed from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub(crate) struct Fingerprints {
    /// `sha256:` of the desired file's bytes.
    pub(crate) desired_file: String,
    /// `sha256:` of the live state's members, roles and pending invitations (ignored emails
    /// left out).
    pub(crate) live_state: String,
}

/// The JSON plan.
#[derive(Serialize, JsonSchema)]
pub(crate) struct PlanDocument<'a> {
    /// Always 1 for this shape.
    pub(crate) format_version: u32,
    /// The desired-state file the plan was made from, as given on the command line.
    pub(crate) desired_file: &'a str,
    /// The org the desired file names (its `org:`); absent when it names none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9._-]{1,64}$"))]
    pub(crate) org: Option<&'a str>,
    /// What the plan was made against and when it was read: the API (its base URL, never with
    /// credentials) or a snapshot (`plan --live`; docs/contract.md §9).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) live_source: Option<LiveSourceWire>,
    /// With `--baseline` only: the baseline compared with, its path as given and its
    /// `--baseline-label` (null without one; docs/contract.md §8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) baseline: Option<&'a BaselineName>,
    #[serde(flatten)]
    pub(crate) plan: PlanWire<'a>,
    pub(crate) fingerprints: &'a Fingerprints,
    /// Only in saved plans (`plan --out`): the live roster the plan was made against, one
    /// `kind email role id` line each, so a stale plan can say what changed.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        rename = "live_snapshot"
    )]
    pub(crate) live_roster: Option<&'a [String]>,
}

impl<'a> PlanDocument<'a> {
    /// The JSON plan of `plan`, made from `desired_file`, without a live roster.
    pub(crate) fn new(
        desired_file: &'a str,
        plan: &'a Plan,
        fingerprints: &'a Fingerprints,
    ) -> PlanDocument<'a> {
        PlanDocument {
            format_version: FORMAT_VERSION,
            desired_file,
            org: plan.org.as_deref(),
            live_source: plan.source.as_ref().map(LiveSourceWire::from),
            baseline: plan.baseline.as_ref(),
            plan: PlanWire::new(plan),
            fingerprints,
            live_roster: None,
        }
    }

    /// Pretty JSON with a final newline, as printed and saved.
    pub(crate) fn to_json(&self) -> String {
        // Serializing plain data to a string cannot fail.
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }
}

/// The plan itself, as the JSON plan shows it: [`Plan`] field for field, each change and blocked
/// change with its `origin` when there is a baseline (docs/contract.md §8).
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "Plan")]
pub(crate) struct PlanWire<'a> {
    /// Changes apply will send, sorted by action then email.
    #[schemars(with = "Vec<EntryWire>")]
    changes: Entries<'a, Planned>,
    /// Drift that will not be sent (the key's own account, protected emails), with the reason.
    #[schemars(with = "Vec<EntryWire>")]
    blocked: Entries<'a, Blocked>,
    /// With `--baseline` only: entries the edit adds or changes that need no change, because
    /// the org already holds them, sorted by email.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<Vec<AlreadyInOrgWire>>")]
    already_in_org: Option<&'a [AlreadyInOrg]>,
    /// With `--baseline` only: the changes the baseline's plan makes and this plan does not,
    /// each with why (docs/contract.md §8).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<Vec<NoLongerWire>>")]
    no_longer: Option<&'a [NoLonger]>,
    /// With `--baseline` only: the rules (`ignore`, `protected`, `allowed_domains`, `safety`,
    /// `invitations`) the edit changes, each with the org members it now matches or affects.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<Vec<RuleChangeWire>>")]
    rules_changed: Option<&'a [RuleChange]>,
    /// With `--baseline` only: the entries whose `expires` the edit sets, moves or removes
    /// (sorted by email), whether or not anything is due yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<Vec<ExpiryChangeWire>>")]
    expiries_changed: Option<&'a [ExpiryChange]>,
    /// Pending invitations the plan keeps as they are, with how long each has waited
    /// (docs/contract.md §4), sorted by email.
    #[schemars(with = "Vec<PendingWire>")]
    pending_invitations: &'a [Pending],
    /// What a reviewer should know; tripped guards come first.
    #[schemars(with = "Vec<String>")]
    warnings: &'a [Warning],
    /// Safety guards, tripped or not.
    #[schemars(with = "Vec<GuardWire>")]
    guards: &'a [Guard],
    summary: &'a Summary,
    /// Live members before the plan, ignored ones included.
    live_members: usize,
    /// Admin members after the plan (pending invitations do not count).
    admins_after: usize,
}

impl<'a> PlanWire<'a> {
    pub(crate) fn new(plan: &'a Plan) -> PlanWire<'a> {
        let compared = plan.compared.as_ref();
        PlanWire {
            changes: Entries(&plan.changes),
            blocked: Entries(&plan.blocked),
            already_in_org: compared.map(|o| o.already_in_org.as_slice()),
            no_longer: compared.map(|o| o.no_longer.as_slice()),
            rules_changed: compared.map(|o| o.rules_changed.as_slice()),
            expiries_changed: compared.map(|o| o.expiries.as_slice()),
            pending_invitations: &plan.pending_invitations,
            warnings: &plan.warnings,
            guards: &plan.guards,
            summary: &plan.summary,
            live_members: plan.live_members,
            admins_after: plan.admins_after,
        }
    }
}

/// One change or blocked change. `email` is the key: trimmed and lower-cased.
// A saved plan is read back as `ChangeWire`s, without the origin: apply compares the changes
// alone.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "PlanChange")]
pub(crate) struct EntryWire {
    #[serde(flatten)]
    change: ChangeWire,
    /// With `--baseline` only: `edit` (the edit under review asks for it), `drift` (the
    /// baseline's plan holds it too: the org differs from what was desired before the edit)
    /// or `scheduled` (the baseline's plan holds it too, and the file's own clock causes it:
    /// an `expires` passed, a re-send due).
    #[serde(skip_serializing_if = "Option::is_none")]
    origin: Option<Origin>,
}

/// Changes or blocked changes, each written as an [`EntryWire`], one at a time (a plan of
/// 100,000 changes is not copied into wire values first).
struct Entries<'a, T>(&'a [T]);

/// A change or a blocked change, with its origin.
trait Entry {
    fn origin(&self) -> Option<Origin>;
}

impl Entry for Planned {
    fn origin(&self) -> Option<Origin> {
        self.origin
    }
}

impl Entry for Blocked {
    fn origin(&self) -> Option<Origin> {
        self.origin
    }
}

impl<T: Entry> Serialize for Entries<'_, T>
where
    for<'x> ChangeWire: From<&'x T>,
{
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for item in self.0 {
            seq.serialize_element(&EntryWire {
                change: ChangeWire::from(item),
                origin: item.origin(),
            })?;
        }
        seq.end()
    }
}

/// Where the org was read from (docs/contract.md §9).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
#[schemars(rename = "LiveSource")]
pub(crate) enum LiveSourceWire {
    /// A list read of the API.
    Api {
        /// The API's base URL (never with a user name or password).
        api: String,
        /// When the read started (RFC 3339, UTC).
        read_at: String,
    },
    /// A snapshot document (`plan --live SNAPSHOT`).
    Snapshot {
        /// The snapshot's path, as given on the command line.
        snapshot: String,
        /// The snapshot's `read_at`.
        read_at: String,
    },
}

impl From<&LiveSource> for LiveSourceWire {
    fn from(s: &LiveSource) -> LiveSourceWire {
        let read_at = s.read_at.as_str().to_string();
        match &s.from {
            ReadFrom::Api { url } => LiveSourceWire::Api {
                api: url.clone(),
                read_at,
            },
            ReadFrom::Snapshot { path } => LiveSourceWire::Snapshot {
                snapshot: path.clone(),
                read_at,
            },
        }
    }
}

/// An entry the edit adds or changes that the org already holds.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "AlreadyInOrg")]
pub(crate) struct AlreadyInOrgWire {
    /// The normalized email.
    pub(crate) email: String,
    /// The role the edit asks for, which the member or pending invitation already has.
    pub(crate) role: Role,
}

impl Serialize for AlreadyInOrg {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        AlreadyInOrgWire {
            email: self.email.to_string(),
            role: self.role,
        }
        .serialize(s)
    }
}

/// A change the baseline's plan makes and the edit's plan does not.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "NoLonger")]
pub(crate) struct NoLongerWire {
    pub(crate) action: Action,
    pub(crate) email: String,
    /// The role after the change, or the role that goes away.
    pub(crate) role: Option<Role>,
    /// Why the edit's plan no longer makes it.
    pub(crate) cause: String,
    /// True when not making it keeps someone in the org (a removal or revocation not done)
    /// or an admin an admin (a demotion not done).
    pub(crate) keeps_access: bool,
}

impl Serialize for NoLonger {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        NoLongerWire {
            action: self.change.action(),
            email: self.change.email().to_string(),
            role: self.change.role(),
            cause: self.cause.words(),
            keeps_access: self.keeps_access(),
        }
        .serialize(s)
    }
}

/// An entry whose `expires` the edit sets, moves or removes.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "ExpiryChange")]
pub(crate) struct ExpiryChangeWire {
    pub(crate) email: String,
    pub(crate) role: Role,
    /// The baseline's date (YYYY-MM-DD); null when it had none, or no entry.
    pub(crate) before: Option<String>,
    /// The edit's date; null when the edit removed it.
    pub(crate) after: Option<String>,
}

impl Serialize for ExpiryChange {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ExpiryChangeWire {
            email: self.email.to_string(),
            role: self.role,
            before: self.before.map(|d| d.to_string()),
            after: self.after.map(|d| d.to_string()),
        }
        .serialize(s)
    }
}

/// A rule the edit changes.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "RuleChange")]
pub(crate) struct RuleChangeWire<'a> {
    /// `ignore`, `protected`, `allowed_domains`, `safety.max_removals`, `safety.min_admins`,
    /// `invitations.resend_after_days`, or a `policy.` rule (`policy.internal_domains`,
    /// `policy.admins_need_reason`, `policy.external_max_days`, `policy.max_admins`,
    /// `policy.recertify_days`).
    pub(crate) rule: &'a str,
    /// The pattern, email, domain or value before the edit; null when added or unset.
    pub(crate) before: Option<&'a str>,
    /// After the edit; null when removed or unset.
    pub(crate) after: Option<&'a str>,
    /// The org's members and pending invitations it now matches or affects, sorted.
    pub(crate) members: Vec<&'a str>,
}

impl Serialize for RuleChange {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        RuleChangeWire {
            rule: self.rule,
            before: self.before.as_deref(),
            after: self.after.as_deref(),
            members: self.members.iter().map(|e| e.as_str()).collect(),
        }
        .serialize(s)
    }
}

/// One change. `email` is the key: trimmed and lower-cased.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "Change")]
pub(crate) struct ChangeWire {
    pub(crate) action: Action,
    /// The normalized email this change is about.
    pub(crate) email: String,
    /// The role after the change (`invite`, `update_role`), or the role that goes away
    /// (`remove`, `revoke`).
    pub(crate) role: Option<Role>,
    /// For `update_role`: the role the member has now (a string: the API may know roles
    /// teamsync does not).
    pub(crate) from_role: Option<String>,
    /// The member id (`update_role`, `remove`) or invitation id (`revoke`).
    pub(crate) id: Option<String>,
    /// The file's `reason` for this member, or why an expired member leaves.
    pub(crate) reason: Option<String>,
    /// With a desired directory (`-f DIR`): the part whose entry asks for the change, as
    /// named in diagnostics (never appended to `reason`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) part: Option<String>,
    /// Why the planner chose this change.
    pub(crate) cause: String,
    /// Set on the `revoke` and `invite` of an invitation replaced because its role is wrong:
    /// they run as one step, revoke then invite.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) replaces_invitation: bool,
    /// On `revoke` and `resend`: when the pending invitation was sent (the API's `createdAt`,
    /// as written); absent when its age is unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) invited_at: Option<String>,
    /// Why the change will not be sent (self, protected). Only on entries of `Plan::blocked`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) blocked_reason: Option<String>,
}

impl From<&Change> for ChangeWire {
    fn from(c: &Change) -> ChangeWire {
        ChangeWire {
            action: c.action(),
            email: c.email().to_string(),
            role: c.role(),
            from_role: c.role_before().map(|r| r.as_str().to_string()),
            id: c.id().map(str::to_owned),
            reason: c.reason_text(),
            part: c.part().map(str::to_owned),
            cause: c.cause().to_string(),
            replaces_invitation: c.is_replacement(),
            invited_at: c.invited().map(|i| i.at.as_str().to_string()),
            blocked_reason: None,
        }
    }
}

impl From<&Planned> for ChangeWire {
    fn from(c: &Planned) -> ChangeWire {
        ChangeWire::from(&c.change)
    }
}

impl From<&Blocked> for ChangeWire {
    fn from(b: &Blocked) -> ChangeWire {
        ChangeWire {
            blocked_reason: Some(b.why.to_string()),
            ..ChangeWire::from(&b.change)
        }
    }
}

/// A safety guard (docs/contract.md §5) and whether it trips.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "Guard")]
pub(crate) struct GuardWire {
    /// `max_removals` or `min_admins`.
    kind: GuardKind,
    /// Whether applying the plan would cross the limit.
    tripped: bool,
    /// Whether `--allow-mass-removal` lifts it (never for `min_admins`).
    overridden: bool,
    /// The measured value: removals planned, or admin members left after the plan.
    value: u64,
    /// The limit: most removals allowed, or fewest admins required.
    limit: u64,
    /// `max_removals` only: where its limit comes from, `default` (max(3, 25 % of current
    /// members), at most 50) or `file` (`safety.max_removals`).
    #[serde(skip_serializing_if = "Option::is_none")]
    limit_from: Option<LimitFrom>,
    message: String,
}

impl Serialize for Guard {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        GuardWire {
            kind: self.kind(),
            tripped: self.tripped(),
            overridden: self.overridden(),
            value: self.value(),
            limit: self.limit(),
            limit_from: self.limit_from(),
            message: self.to_string(),
        }
        .serialize(s)
    }
}

/// A kept pending invitation in the JSON plan.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "PendingInvitation")]
pub(crate) struct PendingWire {
    pub(crate) email: String,
    pub(crate) role: Role,
    /// The API's `createdAt`, as it wrote it; null when missing or unreadable.
    pub(crate) invited_at: Option<String>,
    /// Whole days since `invited_at` (UTC dates); null when the age is unknown.
    pub(crate) age_days: Option<u64>,
}

impl Serialize for Pending {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        PendingWire {
            email: self.email.to_string(),
            role: self.role,
            invited_at: self.invited.as_ref().map(|i| i.at.as_str().to_string()),
            age_days: self.invited.as_ref().map(|i| i.age_days),
        }
        .serialize(s)
    }
}

impl Serialize for Warning {
    /// The sentence, in its full form: an expiry cohort names every email here, not only the
    /// first ten (docs/contract.md §6).
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{self:#}"))
    }
}
