//! The planner: a pure function of desired state × managed org × options → [`Plan`]
//! (docs/contract.md §4). No I/O, no clock, no HTTP, no command-line words: everything it needs
//! comes in through its arguments, and what it decides comes out as typed data.

use crate::date::Date;
use crate::desired::{Desired, DesiredMember, MaxRemovals};
use crate::email::Email;
use crate::live::{LiveInvitation, LiveMember, LiveSource, Managed, MemberId, ReadFrom};
use crate::plan::{
    Action, BaselineName, BlockReason, Blocked, Change, Departure, Guard, Invite, Invited, Pending,
    Plan, Planned, Remove, Resend, Revoke, RevokeCause, STALE_INVITATION_DAYS, SelfFrom, Summary,
    UpdateRole, Warning,
};
use crate::role::Role;
use std::collections::{HashMap, HashSet};

/// Options that change what is planned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PlanOptions {
    /// The API key's own account: never demoted, promoted or removed.
    pub(crate) self_email: Option<Email>,
    /// Where it was named, for messages.
    pub(crate) self_from: SelfFrom,
    /// Today (UTC), for `expires` and the age of pending invitations.
    pub(crate) today: Date,
    /// Lifts the removal guard, never the admin guard.
    pub(crate) allow_mass_removal: bool,
    /// What the org was read from and when (docs/contract.md §9): the plan carries it, and
    /// warns when it is an old snapshot. The reader measured its age; the planner reads no clock.
    pub(crate) source: Option<LiveSource>,
    /// `--baseline`, when the plan is compared with one (docs/contract.md §8).
    pub(crate) baseline: Option<BaselineGiven>,
}

impl PlanOptions {
    pub(crate) fn new(today: Date) -> PlanOptions {
        PlanOptions {
            self_email: None,
            self_from: SelfFrom::Flag,
            today,
            allow_mass_removal: false,
            source: None,
            baseline: None,
        }
    }
}

/// The baseline a plan is compared with, as the command read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BaselineGiven {
    pub(crate) name: BaselineName,
    /// Its problems when it is not a valid desired state: the plan then says that it cannot
    /// tell the edit from drift, and has no origins.
    pub(crate) problems: Option<usize>,
}

/// The default removal limit when the file sets none: max(3, 25 % of current members), capped at
/// 50 (docs/contract.md §5): a quarter of a 3,000-person org is not a slip a guard should let
/// through.
pub(crate) const DEFAULT_REMOVAL_FLOOR: u64 = 3;
pub(crate) const DEFAULT_REMOVAL_PERCENT: u64 = 25;
pub(crate) const DEFAULT_REMOVAL_CAP: u64 = 50;

/// The live entries of one email: runs of the managed org's sorted lists.
struct Live<'a> {
    members: &'a [LiveMember],
    invitations: &'a [LiveInvitation],
}

/// What planning one email needs besides its entries, and where kept invitations go.
struct Lifecycle {
    today: Date,
    /// The file's `invitations.resend_after_days`.
    resend_after_days: Option<u64>,
    /// Pending invitations kept as they are.
    pending: Vec<Pending>,
    /// Kept invitations older than [`STALE_INVITATION_DAYS`] when nothing re-sends them.
    stale: Vec<Warning>,
}

impl Lifecycle {
    fn invited(&self, inv: &LiveInvitation) -> Option<Invited> {
        inv.created_at
            .as_ref()
            .map(|at| Invited::new(at, self.today))
    }
}

/// The end of the run of entries with email `email` that starts at `from`.
fn run_end<T>(v: &[T], from: usize, email: &Email, key: impl Fn(&T) -> &Email) -> usize {
    from + v[from..].iter().take_while(|x| key(x) == email).count()
}

/// Computes the plan. Deterministic: the same inputs give the same plan, sorted by action then
/// email.
pub(crate) fn plan(desired: &Desired, org: &Managed, options: &PlanOptions) -> Plan {
    let mut summary = Summary {
        ignored: org.ignored,
        ..Summary::default()
    };

    // Desired members in sorted runs by email; the last entry of an email wins, and expired ones
    // are not desired.
    let mut wanted: Vec<&DesiredMember> = desired.members.iter().collect();
    wanted.sort_by(|a, b| a.email.cmp(&b.email));

    let mut changes = Vec::new();
    let mut lifecycle = Lifecycle {
        today: options.today,
        resend_after_days: desired.invitations.resend_after_days,
        pending: Vec::new(),
        stale: Vec::new(),
    };
    // Every email seen on either side, in order: a merge of the three sorted lists.
    let (members, invitations) = (&org.members, &org.invitations);
    let (mut mi, mut ii, mut wi) = (0, 0, 0);
    loop {
        let next = [
            members.get(mi).map(|m| &m.email),
            invitations.get(ii).map(|i| &i.email),
            wanted.get(wi).map(|m| &m.email),
        ]
        .into_iter()
        .flatten()
        .min();
        let Some(email) = next else { break };
        let m_end = run_end(members, mi, email, |m| &m.email);
        let i_end = run_end(invitations, ii, email, |i| &i.email);
        let w_end = run_end(&wanted, wi, email, |m| &m.email);
        let group = &wanted[wi..w_end];
        let live = Live {
            members: &members[mi..m_end],
            invitations: &invitations[ii..i_end],
        };
        match group.iter().rev().find(|m| !m.is_expired(options.today)) {
            Some(want) => plan_desired(
                want,
                desired,
                &live,
                &mut lifecycle,
                &mut changes,
                &mut summary,
            ),
            None => {
                let expired = group.iter().rev().find(|m| m.is_expired(options.today));
                plan_undesired(email, desired, &live, expired, &lifecycle, &mut changes)
            }
        }
        (mi, ii, wi) = (m_end, i_end, w_end);
    }

    let own = options.self_email.as_ref().map(|e| (e, options.self_from));
    let (to_send, blocked) = block(changes, desired, own);
    for c in &to_send {
        match c {
            Change::Invite(_) => summary.invite += 1,
            Change::UpdateRole(_) => summary.update_role += 1,
            Change::Remove(_) => summary.remove += 1,
            Change::Revoke(_) => summary.revoke += 1,
            Change::Resend(_) => summary.resend += 1,
        }
    }
    summary.blocked = crate::plan::blocked_entries(&blocked).len();

    let admins_before = org.admins();
    let admins_after = admins_after(org, to_send.iter());
    let guards = guards(
        desired,
        options,
        org.live_members,
        admins_before,
        admins_after,
        summary.remove,
    );
    let mut warnings: Vec<Warning> = guards
        .iter()
        .filter(|g| g.tripped())
        .cloned()
        .map(Warning::Guard)
        .collect();
    warnings.extend(about_inputs(options));
    // The only admin left is the key's own account (its role is never changed, so it is an
    // admin after the plan when it is one now): no person could administer the org
    // (docs/contract.md §5).
    if let Some(me) = &options.self_email {
        let self_admin = org
            .members
            .iter()
            .any(|m| &m.email == me && m.role.is(Role::Admin));
        if admins_after == 1 && self_admin {
            warnings.push(Warning::OnlyAdminIsSelf { email: me.clone() });
        }
    }
    let min = desired.safety.min_admins;
    if (admins_after as u64) < min && admins_after >= admins_before {
        warnings.push(Warning::BelowMinAdmins {
            admins: admins_after as u64,
            min,
        });
    }
    if let Some(me) = &options.self_email {
        let known = org.members.iter().any(|m| &m.email == me)
            || org.invitations.iter().any(|i| &i.email == me)
            || desired.ignore.iter().any(|g| g.matches(me));
        if !known {
            warnings.push(Warning::SelfNotInOrg {
                email: me.clone(),
                from: options.self_from,
            });
        }
    }
    warnings.extend(lifecycle.stale);
    warnings.extend(expiries(desired, org, options));
    Plan {
        changes: to_send.into_iter().map(Planned::new).collect(),
        blocked,
        pending_invitations: lifecycle.pending,
        guards,
        warnings,
        summary,
        live_members: org.live_members,
        admins_after,
        compared: None,
        source: options.source.clone(),
        org: desired.org.clone(),
        baseline: options.baseline.as_ref().map(|b| b.name.clone()),
    }
}

/// The warnings about what the plan was made from, said right after the tripped guards: a
/// baseline that is not valid, a snapshot read too long ago (docs/contract.md §8, §9).
fn about_inputs(options: &PlanOptions) -> Vec<Warning> {
    let mut out = Vec::new();
    if let Some(BaselineGiven {
        name,
        problems: Some(problems),
    }) = &options.baseline
    {
        out.push(Warning::BaselineInvalid {
            path: name.path.clone(),
            problems: *problems,
        });
    }
    if let Some(source) = options.source.as_ref().filter(|s| s.is_old_snapshot()) {
        if let ReadFrom::Snapshot { path } = &source.from {
            out.push(Warning::OldSnapshot {
                path: path.clone(),
                read_at: source.read_at.clone(),
                age_seconds: source.age_seconds,
            });
        }
    }
    out
}

/// The planner on a whole live state, through the managed view as the commands do.
#[cfg(test)]
pub(crate) fn plan_live(
    desired: &Desired,
    live: &crate::live::LiveState,
    options: &PlanOptions,
) -> Plan {
    plan(
        desired,
        &Managed::new(live.clone(), &desired.ignore),
        options,
    )
}

fn plan_desired(
    want: &DesiredMember,
    desired: &Desired,
    live: &Live,
    lifecycle: &mut Lifecycle,
    out: &mut Vec<Change>,
    summary: &mut Summary,
) {
    let email = &want.email;
    // Made for each change only: most members need none.
    let reason = || desired.reason_of(want);
    let part = || desired.part_of(want);
    if let Some((first, others)) = live.members.split_first() {
        // A member: reconcile the role; any invitation for the same email is redundant.
        if first.role.is(want.role) {
            summary.unchanged += 1;
        }
        // Two accounts with one email should not exist; reconcile each to the same role.
        for m in std::iter::once(first).chain(others) {
            if !m.role.is(want.role) {
                out.push(Change::UpdateRole(UpdateRole {
                    email: email.clone(),
                    id: m.id.clone(),
                    from: m.role.clone(),
                    to: want.role,
                    reason: reason(),
                    part: part(),
                }));
            }
        }
        for inv in live.invitations {
            out.push(Change::Revoke(Revoke {
                email: email.clone(),
                id: inv.id.clone(),
                role: inv.role.clone(),
                cause: RevokeCause::AlreadyMember,
                reason: reason(),
                part: part(),
                invited: lifecycle.invited(inv),
            }));
        }
        return;
    }
    // Not a member: keep the newest pending invitation with the right role (docs/contract.md
    // §4: the one whose link was sent last is the one the person most likely still has), revoke
    // the rest; with none right, the first is replaced. An invitation of unknown age counts as
    // the oldest; among equals, the one listed last.
    let keep = live
        .invitations
        .iter()
        .enumerate()
        .filter(|(_, i)| i.role.is(want.role))
        .max_by_key(|(n, i)| (i.created_at.as_ref().map(|t| t.unix()), *n))
        .map(|(n, _)| n);
    for (n, inv) in live.invitations.iter().enumerate() {
        if Some(n) == keep {
            continue;
        }
        let cause = match keep {
            None if n == 0 => RevokeCause::Replaced,
            kept => RevokeCause::Duplicate {
                kept: kept.is_some(),
            },
        };
        out.push(Change::Revoke(Revoke {
            email: email.clone(),
            id: inv.id.clone(),
            role: inv.role.clone(),
            cause,
            reason: reason(),
            part: part(),
            invited: lifecycle.invited(inv),
        }));
    }
    if let Some(kept) = keep.map(|n| &live.invitations[n]) {
        keep_invitation(want, desired, kept, lifecycle, out, summary);
        return;
    }
    out.push(Change::Invite(Invite {
        email: email.clone(),
        role: want.role,
        reason: reason(),
        part: part(),
        replaces: live.invitations.first().map(|i| i.role.clone()),
    }));
}

/// The one pending invitation of a desired email with the right role (docs/contract.md §4):
/// re-sent when older than `resend_after_days`, else kept (and a warning when older than
/// [`STALE_INVITATION_DAYS`] and nothing re-sends it). An unknown age is never re-sent.
fn keep_invitation(
    want: &DesiredMember,
    desired: &Desired,
    kept: &LiveInvitation,
    lifecycle: &mut Lifecycle,
    out: &mut Vec<Change>,
    summary: &mut Summary,
) {
    let invited = lifecycle.invited(kept);
    if let (Some(after_days), Some(invited)) = (lifecycle.resend_after_days, &invited) {
        // A protected invitation is never revoked, so it is never re-sent either: a warning,
        // not a blocked change, so a nightly `plan --detailed-exitcode` does not exit 2 for it
        // forever (docs/contract.md §9).
        if invited.age_days > after_days && desired.is_protected(&want.email) {
            lifecycle.stale.push(Warning::ProtectedOldInvitation {
                email: want.email.clone(),
                role: want.role,
                invited: invited.clone(),
                after_days,
            });
        } else if invited.age_days > after_days {
            out.push(Change::Resend(Resend {
                email: want.email.clone(),
                id: kept.id.clone(),
                role: want.role,
                invited: invited.clone(),
                after_days,
                reason: desired.reason_of(want),
                part: desired.part_of(want),
            }));
            return;
        }
    }
    summary.unchanged += 1;
    if let Some(i) = &invited {
        if lifecycle.resend_after_days.is_none() && i.age_days > STALE_INVITATION_DAYS {
            lifecycle.stale.push(Warning::StaleInvitation {
                email: want.email.clone(),
                role: want.role,
                invited: i.clone(),
            });
        }
    }
    lifecycle.pending.push(Pending {
        email: want.email.clone(),
        role: want.role,
        invited,
    });
}

fn plan_undesired(
    email: &Email,
    desired: &Desired,
    live: &Live,
    expired: Option<&&DesiredMember>,
    lifecycle: &Lifecycle,
    out: &mut Vec<Change>,
) {
    let departure = match expired.and_then(|m| m.expires) {
        Some(on) => Departure::Expired { on },
        None => Departure::NotDesired,
    };
    let reason = expired.and_then(|m| desired.reason_of(m));
    let part = expired.and_then(|m| desired.part_of(m));
    for m in live.members {
        out.push(Change::Remove(Remove {
            email: email.clone(),
            id: m.id.clone(),
            role: m.role.clone(),
            departure,
            reason: reason.clone(),
            part: part.clone(),
        }));
    }
    for inv in live.invitations {
        out.push(Change::Revoke(Revoke {
            email: email.clone(),
            id: inv.id.clone(),
            role: inv.role.clone(),
            cause: RevokeCause::Departed(departure),
            reason: reason.clone(),
            part: part.clone(),
            invited: lifecycle.invited(inv),
        }));
    }
}

/// Splits the changes into those to send and those blocked (self, protected); a replacement is
/// one step, so when one half is blocked the other is too. Both lists come out in plan order.
fn block(
    changes: Vec<Change>,
    desired: &Desired,
    self_email: Option<(&Email, SelfFrom)>,
) -> (Vec<Change>, Vec<Blocked>) {
    let (mut to_send, mut blocked) = (Vec::new(), Vec::new());
    let mut blocked_replacements: HashSet<Email> = HashSet::new();
    for c in changes {
        match block_reason(&c, desired, self_email) {
            Some(why) => {
                if c.is_replacement() {
                    blocked_replacements.insert(c.email().clone());
                }
                blocked.push(Blocked {
                    change: c,
                    why,
                    origin: None,
                });
            }
            None => to_send.push(c),
        }
    }
    if !blocked_replacements.is_empty() {
        let (keep, more): (Vec<Change>, Vec<Change>) = to_send
            .into_iter()
            .partition(|c| !(c.is_replacement() && blocked_replacements.contains(c.email())));
        to_send = keep;
        blocked.extend(more.into_iter().map(|change| Blocked {
            change,
            why: BlockReason::BlockedReplacement,
            origin: None,
        }));
    }
    let to_send = in_plan_order(to_send);
    blocked.sort_by(|a, b| a.change.sort_key().cmp(&b.change.sort_key()));
    (to_send, blocked)
}

/// `changes` in plan order, action then email, as a stable sort would put them. The planner
/// makes changes in email order, so splitting them by action keeps each action's in email
/// order: one pass instead of a sort (5 % of planning a million members). Checked, and sorted
/// after all should that ever not hold.
fn in_plan_order(changes: Vec<Change>) -> Vec<Change> {
    let mut by_action: [Vec<Change>; Action::ALL.len()] = Default::default();
    for c in changes {
        let i = Action::ALL
            .iter()
            .position(|a| *a == c.action())
            .unwrap_or(0);
        by_action[i].push(c);
    }
    let mut ordered: Vec<Change> = by_action.into_iter().flatten().collect();
    if !ordered.is_sorted_by(|a, b| a.sort_key() <= b.sort_key()) {
        ordered.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    }
    ordered
}

fn block_reason(
    c: &Change,
    desired: &Desired,
    self_email: Option<(&Email, SelfFrom)>,
) -> Option<BlockReason> {
    if let Some((_, from)) = self_email.filter(|(me, _)| *me == c.email()) {
        match c {
            Change::UpdateRole(_) => return Some(BlockReason::OwnRole(from)),
            Change::Remove(_) => return Some(BlockReason::OwnRemoval(from)),
            _ => {}
        }
    }
    if c.takes_away() && desired.is_protected(c.email()) {
        return Some(BlockReason::Protected);
    }
    None
}

/// Admin members once `changes` are applied: ignored admins, plus managed members whose role is
/// admin after the changes (pending invitations do not count).
fn admins_after<'a>(org: &Managed, changes: impl Iterator<Item = &'a Change> + Clone) -> usize {
    if changes
        .clone()
        .all(|c| !matches!(c, Change::Remove(_) | Change::UpdateRole(_)))
    {
        return org.admins();
    }
    // Only the few members a change touches need a lookup; every member is looked up, so the
    // hash is foldhash (seeded per process), not SipHash.
    let mut after: HashMap<&MemberId, Option<Role>, foldhash::fast::RandomState> =
        HashMap::with_hasher(foldhash::fast::RandomState::default());
    for c in changes {
        match c {
            Change::Remove(r) => {
                after.insert(&r.id, None);
            }
            Change::UpdateRole(u) => {
                after.insert(&u.id, Some(u.to));
            }
            _ => {}
        }
    }
    org.ignored_admins
        + org
            .members
            .iter()
            .filter(|m| match after.get(&m.id) {
                Some(role) => *role == Some(Role::Admin),
                None => m.role.is(Role::Admin),
            })
            .count()
}

/// The safety guards for sending `changes` to `org` as it is now, by the rules the plan used:
/// apply's re-check before its demotion and removal phases (docs/contract.md §5). Removals of
/// members already gone do not count. Linear in members and changes: the members' ids are
/// hashed once, not scanned once per removal (docs/contract.md §10).
pub(crate) fn guards_now<'a>(
    desired: &Desired,
    org: &Managed,
    changes: impl Iterator<Item = &'a Change> + Clone,
    options: &PlanOptions,
) -> Vec<Guard> {
    let ids: HashSet<&MemberId, foldhash::fast::RandomState> =
        org.members.iter().map(|m| &m.id).collect();
    let removals = changes
        .clone()
        .filter(|c| matches!(c, Change::Remove(r) if ids.contains(&r.id)))
        .count();
    let after = admins_after(org, changes);
    guards(
        desired,
        options,
        org.live_members,
        org.admins(),
        after,
        removals,
    )
}

/// The entries that expire soon, one warning per date (docs/contract.md §4), each followed by
/// a warning when the live members it removes the next day are more than the removal limit the
/// guard applies to the org as it is now: said ahead, so that the apply of that day is not
/// refused by surprise. Protected emails and the key's own account are never removed, so they
/// do not count.
fn expiries(desired: &Desired, org: &Managed, options: &PlanOptions) -> Vec<Warning> {
    let rule = desired.safety.max_removals;
    let limit = removal_limit(rule, org.live_members);
    let mut out = Vec::new();
    for (cohort, _) in desired.expiring(options.today) {
        let removals = cohort
            .emails
            .iter()
            .filter(|e| !desired.is_protected(e) && options.self_email.as_ref() != Some(*e))
            .filter(|e| org.members.binary_search_by(|m| m.email.cmp(e)).is_ok())
            .count() as u64;
        let on = cohort.on;
        out.push(Warning::Expiring(cohort));
        if removals > limit {
            out.push(Warning::RemovalsAhead(crate::desired::RemovalsAhead {
                on,
                removals,
                limit,
                rule,
            }));
        }
    }
    out
}

/// The most removals allowed for `members` current members.
fn removal_limit(limit: Option<MaxRemovals>, members: usize) -> u64 {
    let members = members as u64;
    match limit {
        Some(MaxRemovals::Count(n)) => n,
        Some(MaxRemovals::Percent(p)) => members * p / 100,
        None => DEFAULT_REMOVAL_FLOOR
            .max(members * DEFAULT_REMOVAL_PERCENT / 100)
            .min(DEFAULT_REMOVAL_CAP),
    }
}

fn guards(
    desired: &Desired,
    options: &PlanOptions,
    live_members: usize,
    admins_before: usize,
    admins_after: usize,
    removals: usize,
) -> Vec<Guard> {
    let rule = desired.safety.max_removals;
    let removals = removals as u64;
    let members = live_members as u64;
    // "More than N %" compares exactly, without rounding the percentage.
    let tripped = match rule {
        Some(MaxRemovals::Percent(p)) => removals * 100 > p * members,
        None => {
            removals > DEFAULT_REMOVAL_CAP
                || (removals > DEFAULT_REMOVAL_FLOOR
                    && removals * 100 > DEFAULT_REMOVAL_PERCENT * members)
        }
        Some(MaxRemovals::Count(n)) => removals > n,
    };
    let removal = Guard::MaxRemovals {
        removals,
        members,
        limit: removal_limit(rule, live_members),
        rule,
        tripped,
        allowed: options.allow_mass_removal,
    };
    // Only a plan that takes admins away (demotes or removes them) and leaves fewer than the
    // minimum trips: an org already below it, with a plan that does not lower the count, must
    // stay appliable, or a file inviting the missing admins could never be applied.
    let min = desired.safety.min_admins;
    let admin = Guard::MinAdmins {
        admins: admins_after as u64,
        min,
        tripped: admins_after < admins_before && (admins_after as u64) < min,
    };
    vec![removal, admin]
}

#[cfg(test)]
pub(crate) mod tests;
