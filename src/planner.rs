//! The planner: a pure function of desired state × live state × options → [`Plan`]. No I/O, no
//! clock, no HTTP types: everything it needs comes in through its arguments.

use crate::date::Date;
use crate::desired::{Desired, DesiredMember, MaxRemovals};
use crate::email::normalize;
use crate::model::{LiveInvitation, LiveMember, LiveState, Role};
use crate::plan::{Action, Change, Guard, GuardKind, Plan, Summary};
use std::collections::{BTreeMap, HashMap};

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

#[derive(Default)]
struct Live<'a> {
    members: Vec<&'a LiveMember>,
    invitations: Vec<&'a LiveInvitation>,
}

/// Computes the plan. Deterministic: the same inputs give the same plan, sorted by action then
/// email.
pub fn plan(desired: &Desired, live: &LiveState, options: &PlanOptions) -> Plan {
    let self_email = options.self_email.as_deref().map(normalize);
    let mut summary = Summary::default();

    // Live state by normalized email; ignored emails are dropped here and never seen again.
    let mut by_email: BTreeMap<String, Live> = BTreeMap::new();
    for m in &live.members {
        if desired.is_ignored(&m.email) {
            summary.ignored += 1;
            continue;
        }
        by_email
            .entry(normalize(&m.email))
            .or_default()
            .members
            .push(m);
    }
    for i in live.pending_invitations() {
        if desired.is_ignored(&i.email) {
            summary.ignored += 1;
            continue;
        }
        by_email
            .entry(normalize(&i.email))
            .or_default()
            .invitations
            .push(i);
    }

    // Desired members by email; expired ones are not desired.
    let mut wanted: HashMap<&str, &DesiredMember> = HashMap::with_capacity(desired.members.len());
    let mut expired: HashMap<&str, &DesiredMember> = HashMap::new();
    for m in &desired.members {
        match m.expires {
            Some(d) if options.today > d => expired.insert(&m.email, m),
            _ => wanted.insert(&m.email, m),
        };
    }

    let mut changes = Vec::new();
    let empty = Live::default();
    // Every email seen on either side, in a stable order.
    let mut keys: Vec<&str> = by_email.keys().map(String::as_str).collect();
    keys.extend(
        wanted
            .keys()
            .copied()
            .filter(|k| !by_email.contains_key(*k)),
    );
    keys.sort_unstable();

    for key in keys {
        let live = by_email.get(key).unwrap_or(&empty);
        let gone_reason = expired.get(key).map(|m| expiry_reason(m));
        match wanted.get(key) {
            Some(want) => plan_desired(want, live, &mut changes, &mut summary),
            None => plan_undesired(key, live, gone_reason, &mut changes),
        }
    }

    // Self and protected: such changes are blocked, not sent.
    let (mut to_send, mut blocked): (Vec<Change>, Vec<Change>) = (Vec::new(), Vec::new());
    let mut blocked_replacements: Vec<String> = Vec::new();
    for mut c in changes {
        if let Some(why) = block_reason(&c, desired, self_email.as_deref()) {
            if c.replaces_invitation {
                blocked_replacements.push(c.email.clone());
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
    let admins_after = admins_after(live, &to_send);
    let guards = guards(desired, options, live_members, admins_after, summary.remove);
    let mut warnings: Vec<String> = guards
        .iter()
        .filter(|g| g.tripped)
        .map(|g| g.message.clone())
        .collect();
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
    if let Some((first, others)) = live.members.split_first() {
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
        for other in others {
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
        for inv in &live.invitations {
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
        .position(|i| i.role == want.role.as_str());
    for (n, inv) in live.invitations.iter().enumerate() {
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
        from_role: live.invitations.first().map(|i| i.role.clone()),
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
    for m in &live.members {
        out.push(Change {
            role: Role::parse(&m.role),
            from_role: Some(m.role.clone()),
            id: Some(m.id.clone()),
            reason: gone.clone(),
            ..change(Action::Remove, email, cause)
        });
    }
    for inv in &live.invitations {
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
    let mut role: HashMap<&str, &str> = live
        .members
        .iter()
        .map(|m| (m.id.as_str(), m.role.as_str()))
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

fn guards(
    desired: &Desired,
    options: &PlanOptions,
    live_members: usize,
    admins_after: usize,
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
    let admins = admins_after as u64;
    let admin_tripped = admins < min;
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
        } else {
            format!("{admins} admin members after the plan; at least {min} required")
        },
    };
    vec![removal, admin]
}

#[cfg(test)]
#[path = "planner_tests.rs"]
mod tests;
