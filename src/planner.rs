//! The planner: a pure function of desired state × live state × options → [`Plan`]. No I/O, no
//! clock, no HTTP types: everything it needs comes in through its arguments.

use crate::date::Date;
use crate::desired::{Desired, DesiredMember, MaxRemovals};
use crate::email::normalize;
use crate::model::{LiveInvitation, LiveMember, LiveState, Role};
use crate::plan::{Action, Change, Guard, GuardKind, Plan, Summary};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

/// Options that change what is planned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanOptions {
    /// The API key's own account: never demoted, promoted or removed.
    pub self_email: Option<String>,
    /// Today (UTC), for `expires`.
    pub today: Date,
    /// `--allow-mass-removal`: lifts the removal guard, never the admin guard.
    pub allow_mass_removal: bool,
}

impl PlanOptions {
    pub fn new(today: Date) -> PlanOptions {
        PlanOptions {
            self_email: None,
            today,
            allow_mass_removal: false,
        }
    }
}

/// The default removal limit when the file sets none: max(3, 25 % of current members).
pub const DEFAULT_REMOVAL_FLOOR: u64 = 3;
pub const DEFAULT_REMOVAL_PERCENT: u64 = 25;

/// A comparison key: the email trimmed and lower-cased ([`normalize`]), borrowed when the email
/// already is in that form (the common case), so most entries cost no allocation.
type Key<'a> = Cow<'a, str>;

fn key(email: &str) -> Key<'_> {
    let t = email.trim();
    if t.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()) {
        Cow::Borrowed(t)
    } else {
        Cow::Owned(normalize(t))
    }
}

/// The live entries of one email: runs of the sorted member and invitation lists.
struct Live<'a, 'b> {
    members: &'b [(Key<'a>, &'a LiveMember)],
    invitations: &'b [(Key<'a>, &'a LiveInvitation)],
}

/// The end of the run of equal keys that starts at `from`.
fn run_end<T>(v: &[(Key, T)], from: usize) -> usize {
    let k = &v[from].0;
    from + v[from..].iter().take_while(|(x, _)| x == k).count()
}

/// Computes the plan. Deterministic: the same inputs give the same plan, sorted by action then
/// email.
pub fn plan(desired: &Desired, live: &LiveState, options: &PlanOptions) -> Plan {
    let self_email = options.self_email.as_deref().map(normalize);
    let mut summary = Summary::default();

    // Live state by normalized email, in sorted runs (a stable sort keeps the API's order
    // within one email); ignored emails are dropped here and never seen again.
    let mut members: Vec<(Key, &LiveMember)> = Vec::with_capacity(live.members.len());
    for m in &live.members {
        if desired.is_ignored(&m.email) {
            summary.ignored += 1;
            continue;
        }
        members.push((key(&m.email), m));
    }
    let mut invitations: Vec<(Key, &LiveInvitation)> = Vec::new();
    for i in live.pending_invitations() {
        if desired.is_ignored(&i.email) {
            summary.ignored += 1;
            continue;
        }
        invitations.push((key(&i.email), i));
    }
    members.sort_by(|a, b| a.0.cmp(&b.0));
    invitations.sort_by(|a, b| a.0.cmp(&b.0));

    // Desired members by email, in sorted runs; the last entry of an email wins, and expired
    // ones are not desired.
    let mut wanted: Vec<&DesiredMember> = desired.members.iter().collect();
    wanted.sort_by(|a, b| a.email.cmp(&b.email));

    let mut changes = Vec::new();
    // Every email seen on either side, in order: a merge of the three sorted lists.
    let (mut mi, mut ii, mut wi) = (0, 0, 0);
    loop {
        let mut next: Option<&str> = None;
        for k in [
            members.get(mi).map(|(k, _)| k.as_ref()),
            invitations.get(ii).map(|(k, _)| k.as_ref()),
            wanted.get(wi).map(|m| m.email.as_str()),
        ]
        .into_iter()
        .flatten()
        {
            if next.is_none_or(|n| k < n) {
                next = Some(k);
            }
        }
        let Some(k) = next else { break };
        let m_end = if members.get(mi).is_some_and(|(x, _)| x == k) {
            run_end(&members, mi)
        } else {
            mi
        };
        let i_end = if invitations.get(ii).is_some_and(|(x, _)| x == k) {
            run_end(&invitations, ii)
        } else {
            ii
        };
        let mut w_end = wi;
        while wanted.get(w_end).is_some_and(|m| m.email == k) {
            w_end += 1;
        }
        let group = &wanted[wi..w_end];
        let want = group.iter().rev().find(|m| !is_expired(m, options.today));
        let live_here = Live {
            members: &members[mi..m_end],
            invitations: &invitations[ii..i_end],
        };
        match want {
            Some(want) => plan_desired(want, &live_here, &mut changes, &mut summary),
            None => {
                let gone_reason = group
                    .iter()
                    .rev()
                    .find(|m| is_expired(m, options.today))
                    .map(|m| expiry_reason(m));
                plan_undesired(k, &live_here, gone_reason, &mut changes)
            }
        }
        (mi, ii, wi) = (m_end, i_end, w_end);
    }

    // Self and protected: such changes are blocked, not sent.
    let (mut to_send, mut blocked): (Vec<Change>, Vec<Change>) = (Vec::new(), Vec::new());
    let mut blocked_replacements: HashSet<String> = HashSet::new();
    for mut c in changes {
        if let Some(why) = block_reason(&c, desired, self_email.as_deref()) {
            if c.replaces_invitation {
                blocked_replacements.insert(c.email.clone());
            }
            c.blocked_reason = Some(why);
            blocked.push(c);
        } else {
            to_send.push(c);
        }
    }
    // A replacement is one step: when its revoke is blocked, its invite is too.
    if !blocked_replacements.is_empty() {
        let (keep, more): (Vec<Change>, Vec<Change>) = to_send
            .into_iter()
            .partition(|c| !(c.replaces_invitation && blocked_replacements.contains(&c.email)));
        to_send = keep;
        for mut c in more {
            c.blocked_reason = Some("part of an invitation replacement that is blocked".into());
            blocked.push(c);
        }
    }
    to_send.sort_by(|a, b| (a.action, &a.email).cmp(&(b.action, &b.email)));
    blocked.sort_by(|a, b| (a.action, &a.email).cmp(&(b.action, &b.email)));

    for c in &to_send {
        match c.action {
            Action::Invite => summary.invite += 1,
            Action::UpdateRole => summary.update_role += 1,
            Action::Remove => summary.remove += 1,
            Action::Revoke => summary.revoke += 1,
        }
    }
    summary.blocked = blocked.len();

    let live_members = live.members.len();
    let admins_before = live
        .members
        .iter()
        .filter(|m| m.role == Role::Admin.as_str())
        .count();
    let admins_after = admins_after(live, &to_send);
    let guards = guards(
        desired,
        options,
        live_members,
        Admins {
            before: admins_before,
            after: admins_after,
        },
        summary.remove,
    );
    let mut warnings: Vec<String> = guards
        .iter()
        .filter(|g| g.tripped)
        .map(|g| g.message.clone())
        .collect();
    let min = desired.safety.min_admins;
    if (admins_after as u64) < min && admins_after >= admins_before {
        // Below the minimum already, and the plan does not make it worse: not a reason to
        // refuse (the file may be inviting the admins it needs), but worth saying.
        warnings.push(format!(
            "the org has {admins_after} admin member{}, fewer than min_admins {min}; pending admin invitations count once accepted",
            if admins_after == 1 { "" } else { "s" }
        ));
    }
    for p in &desired.protected {
        if !desired.members.iter().any(|m| &m.email == p) {
            warnings.push(format!(
                "protected email {p} is not listed in members: it is kept, but not managed"
            ));
        }
    }
    Plan {
        changes: to_send,
        blocked,
        guards,
        warnings,
        summary,
        live_members,
        admins_after,
    }
}

fn is_expired(m: &DesiredMember, today: Date) -> bool {
    matches!(m.expires, Some(d) if today > d)
}

fn expiry_reason(m: &DesiredMember) -> String {
    let date = m.expires.map(|d| d.to_string()).unwrap_or_default();
    match &m.reason {
        Some(r) => format!("expired on {date}: {r}"),
        None => format!("expired on {date}"),
    }
}

fn change(action: Action, email: &str, cause: &str) -> Change {
    Change {
        action,
        email: email.to_string(),
        role: None,
        from_role: None,
        id: None,
        reason: None,
        cause: cause.to_string(),
        replaces_invitation: false,
        blocked_reason: None,
    }
}

fn plan_desired(want: &DesiredMember, live: &Live, out: &mut Vec<Change>, summary: &mut Summary) {
    let email = want.email.as_str();
    let reason = want.reason.clone();
    if let Some(((_, first), others)) = live.members.split_first() {
        // A member: reconcile the role; any invitation for the same email is redundant.
        if first.role != want.role.as_str() {
            out.push(Change {
                role: Some(want.role),
                from_role: Some(first.role.clone()),
                id: Some(first.id.clone()),
                reason: reason.clone(),
                ..change(Action::UpdateRole, email, "member has another role")
            });
        } else {
            summary.unchanged += 1;
        }
        // Two accounts with one email should not exist; reconcile each to the same role.
        for (_, other) in others {
            if other.role != want.role.as_str() {
                out.push(Change {
                    role: Some(want.role),
                    from_role: Some(other.role.clone()),
                    id: Some(other.id.clone()),
                    reason: reason.clone(),
                    ..change(Action::UpdateRole, email, "member has another role")
                });
            }
        }
        for (_, inv) in live.invitations {
            out.push(Change {
                role: Role::parse(&inv.role),
                from_role: Some(inv.role.clone()),
                id: Some(inv.id.clone()),
                reason: reason.clone(),
                ..change(
                    Action::Revoke,
                    email,
                    "already a member; the invitation is redundant",
                )
            });
        }
        return;
    }
    // Not a member: keep one pending invitation with the right role, revoke the rest.
    let keep = live
        .invitations
        .iter()
        .position(|(_, i)| i.role == want.role.as_str());
    for (n, (_, inv)) in live.invitations.iter().enumerate() {
        if Some(n) == keep {
            continue;
        }
        let replacing = keep.is_none() && n == 0;
        out.push(Change {
            role: Role::parse(&inv.role),
            from_role: Some(inv.role.clone()),
            id: Some(inv.id.clone()),
            reason: reason.clone(),
            replaces_invitation: replacing,
            ..change(
                Action::Revoke,
                email,
                if replacing {
                    "wrong role; invitations cannot be edited, so it is replaced"
                } else if keep.is_some() {
                    "duplicate pending invitation"
                } else {
                    "duplicate pending invitation with another role"
                },
            )
        });
    }
    if keep.is_some() {
        summary.unchanged += 1;
        return;
    }
    let replacing = !live.invitations.is_empty();
    out.push(Change {
        role: Some(want.role),
        from_role: live.invitations.first().map(|(_, i)| i.role.clone()),
        reason,
        replaces_invitation: replacing,
        ..change(
            Action::Invite,
            email,
            if replacing {
                "replaces a pending invitation with another role"
            } else {
                "not a member and not invited"
            },
        )
    });
}

fn plan_undesired(email: &str, live: &Live, gone: Option<String>, out: &mut Vec<Change>) {
    let cause = if gone.is_some() {
        "expired"
    } else {
        "not in the desired file"
    };
    for (_, m) in live.members {
        out.push(Change {
            role: Role::parse(&m.role),
            from_role: Some(m.role.clone()),
            id: Some(m.id.clone()),
            reason: gone.clone(),
            ..change(Action::Remove, email, cause)
        });
    }
    for (_, inv) in live.invitations {
        out.push(Change {
            role: Role::parse(&inv.role),
            from_role: Some(inv.role.clone()),
            id: Some(inv.id.clone()),
            reason: gone.clone(),
            ..change(Action::Revoke, email, cause)
        });
    }
}

fn block_reason(c: &Change, desired: &Desired, self_email: Option<&str>) -> Option<String> {
    if self_email == Some(c.email.as_str()) {
        match c.action {
            Action::UpdateRole => {
                return Some(
                    "this is the API key's own account (--self): the API refuses to change its own role"
                        .into(),
                );
            }
            Action::Remove => {
                return Some(
                    "this is the API key's own account (--self): the API refuses to remove it"
                        .into(),
                );
            }
            _ => {}
        }
    }
    let takes_away = match c.action {
        Action::Remove | Action::Revoke => true,
        Action::UpdateRole => c.is_demotion(),
        Action::Invite => false,
    };
    if takes_away && desired.is_protected(&c.email) {
        return Some(
            "protected: listed under `protected`, never demoted, removed or revoked".into(),
        );
    }
    None
}

fn admins_after(live: &LiveState, to_send: &[Change]) -> usize {
    // Only ids that are admins now or that a change touches can be admins after: the map holds
    // just those, each with its role as last listed (ids no member has are dropped).
    let touched = |c: &&Change| matches!(c.action, Action::Remove | Action::UpdateRole);
    let mut listed: HashMap<&str, Option<&str>> = live
        .members
        .iter()
        .filter(|m| m.role == Role::Admin.as_str())
        .map(|m| m.id.as_str())
        .chain(
            to_send
                .iter()
                .filter(touched)
                .filter_map(|c| c.id.as_deref()),
        )
        .map(|id| (id, None))
        .collect();
    for m in &live.members {
        if let Some(slot) = listed.get_mut(m.id.as_str()) {
            *slot = Some(m.role.as_str());
        }
    }
    let mut role: HashMap<&str, &str> = listed
        .into_iter()
        .filter_map(|(id, r)| Some((id, r?)))
        .collect();
    for c in to_send {
        let Some(id) = c.id.as_deref() else { continue };
        match c.action {
            Action::Remove => {
                role.remove(id);
            }
            Action::UpdateRole => {
                if let (Some(slot), Some(r)) = (role.get_mut(id), c.role) {
                    *slot = r.as_str();
                }
            }
            _ => {}
        }
    }
    role.values()
        .filter(|r| **r == Role::Admin.as_str())
        .count()
}

/// The most removals allowed for `members` current members.
pub fn removal_limit(limit: Option<MaxRemovals>, members: usize) -> u64 {
    let members = members as u64;
    match limit {
        Some(MaxRemovals::Count(n)) => n,
        Some(MaxRemovals::Percent(p)) => members * p / 100,
        None => DEFAULT_REMOVAL_FLOOR.max(members * DEFAULT_REMOVAL_PERCENT / 100),
    }
}

/// Admin members before and after the plan (pending invitations do not count).
#[derive(Clone, Copy)]
struct Admins {
    before: usize,
    after: usize,
}

fn guards(
    desired: &Desired,
    options: &PlanOptions,
    live_members: usize,
    admins: Admins,
    removals: usize,
) -> Vec<Guard> {
    let limit = removal_limit(desired.safety.max_removals, live_members);
    let removals = removals as u64;
    // "More than N %" compares exactly, without rounding the percentage.
    let tripped = match desired.safety.max_removals {
        Some(MaxRemovals::Percent(p)) => removals * 100 > p * live_members as u64,
        None => {
            removals > DEFAULT_REMOVAL_FLOOR
                && removals * 100 > DEFAULT_REMOVAL_PERCENT * live_members as u64
        }
        Some(MaxRemovals::Count(n)) => removals > n,
    };
    let rule = match desired.safety.max_removals {
        Some(m) => format!("safety.max_removals is {m}"),
        None => "the default limit is max(3, 25% of current members)".to_string(),
    };
    let removal = Guard {
        kind: GuardKind::MaxRemovals,
        tripped,
        overridden: tripped && options.allow_mass_removal,
        value: removals,
        limit,
        message: if tripped {
            format!(
                "mass removal: the plan removes {removals} of {live_members} members; {rule}{}",
                if options.allow_mass_removal {
                    " (allowed by --allow-mass-removal)"
                } else {
                    ". apply will refuse without --allow-mass-removal"
                }
            )
        } else {
            format!(
                "{removals} removal{} planned; {rule}",
                if removals == 1 { "" } else { "s" }
            )
        },
    };
    let min = desired.safety.min_admins;
    let admins_reduced = admins.after < admins.before;
    let admins = admins.after as u64;
    // Only a plan that takes admins away (demotes or removes them) and leaves fewer than the
    // minimum trips: an org already below it, with a plan that does not lower the count, must
    // stay appliable, or a file inviting the missing admins could never be applied.
    let admin_tripped = admins_reduced && admins < min;
    let admin = Guard {
        kind: GuardKind::MinAdmins,
        tripped: admin_tripped,
        overridden: false,
        value: admins,
        limit: min,
        message: if admin_tripped {
            format!(
                "too few admins: the plan leaves {admins} admin member{} and at least {min} {} required (pending admin invitations do not count); apply will refuse",
                if admins == 1 { "" } else { "s" },
                if min == 1 { "is" } else { "are" }
            )
        } else if admins < min {
            format!(
                "{admins} admin members after the plan; at least {min} required, but the plan does not reduce them, so apply goes ahead"
            )
        } else {
            format!("{admins} admin members after the plan; at least {min} required")
        },
    };
    vec![removal, admin]
}

#[cfg(test)]
#[path = "planner_tests.rs"]
mod tests;
