//! What an edit stops, and the rules it changes (docs/contract.md §8). Pure: the plan of the
//! file and the plan of the baseline (both made against one read of the org), the two desired
//! states and the two managed views of that read in; out:
//!
//! - **no longer done**: every change the baseline's plan makes that the edit's plan does not
//!   (an `ignore` or `protected` pattern added, an entry added for a member the base would
//!   remove, an invitee dropped …), each with its cause. Those that keep someone in the org
//!   or an admin an admin are what a reviewer must see;
//! - **rules changed**: every difference in `ignore`, `protected`, `allowed_domains`, `safety`
//!   and `invitations`, each with the org members and invitations it now matches or affects.

use crate::date::Date;
use crate::desired::{Desired, domain_allowed};
use crate::email::Email;
use crate::glob::Glob;
use crate::live::Managed;
use crate::plan::{
    BlockReason, Change, ExpiryChange, Invited, Key, NoLonger, Plan, RuleChange, StopCause, key,
};
use std::collections::{BTreeSet, HashMap};

/// The entries of `desired` whose `expires` differs from `base`'s entry for the email (or that
/// are new with one), sorted by email.
pub(crate) fn expiries_changed(desired: &Desired, base: &Desired) -> Vec<ExpiryChange> {
    let before: HashMap<&Email, Option<Date>> =
        base.members.iter().map(|m| (&m.email, m.expires)).collect();
    let mut out: Vec<ExpiryChange> = desired
        .members
        .iter()
        .filter_map(|m| {
            let was = before.get(&m.email).copied().flatten();
            (was != m.expires).then(|| ExpiryChange {
                email: m.email.clone(),
                role: m.role,
                before: was,
                after: m.expires,
            })
        })
        .collect();
    out.sort_by(|a, b| a.email.cmp(&b.email));
    out.dedup_by(|a, b| a.email == b.email);
    out
}

/// The changes of `baseline` (the base's plan) that `plan` (the edit's) does not make, in the
/// base's plan order, with why. A replaced invitation is one change: its revoke half is left
/// out, as the plans show it.
pub(crate) fn no_longer(
    plan: &Plan,
    baseline: &Plan,
    desired: &Desired,
    base: &Desired,
    today: Date,
) -> Vec<NoLonger> {
    let mut left: HashMap<Key<'_>, usize> = HashMap::new();
    for c in &plan.changes {
        *left.entry(key(&c.change)).or_default() += 1;
    }
    let protected: BTreeSet<Key<'_>> = plan
        .blocked
        .iter()
        .filter(|b| b.why == BlockReason::Protected)
        .map(|b| key(&b.change))
        .collect();
    let entry = |d: &'_ Desired, e: &Email| {
        d.members
            .iter()
            .rev()
            .find(|m| &m.email == e)
            .map(|m| (m.role, m.expires, m.is_expired(today)))
    };
    let mut out = Vec::new();
    for c in baseline
        .changes
        .iter()
        .map(|c| &c.change)
        .filter(|c| !c.is_replaced_revoke())
    {
        let k = key(c);
        if let Some(n) = left.get_mut(&k).filter(|n| **n > 0) {
            *n -= 1;
            continue;
        }
        let email = c.email();
        let newly_ignored = desired
            .ignore
            .iter()
            .find(|g| g.matches(email) && !base.ignore.iter().any(|b| b.matches(email)));
        let cause = if let Some(g) = newly_ignored {
            StopCause::Ignored {
                pattern: g.as_str().to_string(),
            }
        } else if protected.contains(&k) {
            StopCause::Protected
        } else {
            match (entry(desired, email), entry(base, email)) {
                (None, Some(_)) => StopCause::Dropped,
                (Some((_, expires, false)), Some((_, _, true))) => StopCause::Renewed { expires },
                (Some((role, _, false)), b) if b.is_none_or(|(r, _, _)| r != role) => {
                    StopCause::Listed { role }
                }
                _ if matches!(c, Change::Resend(_))
                    && desired.invitations.resend_after_days
                        != base.invitations.resend_after_days =>
                {
                    StopCause::ResendRule
                }
                _ => StopCause::Replaced,
            }
        };
        out.push(NoLonger {
            change: c.clone(),
            cause,
        });
    }
    out
}

/// The rules the edit changes, each with the org members and invitations it now matches or
/// affects. `base_org` is the read as the base manages it (its `ignore` applied), `org` as the
/// edit does, `policy` (docs/contract.md §3) included.
pub(crate) fn rules_changed(
    desired: &Desired,
    base: &Desired,
    base_org: &Managed,
    org: &Managed,
    today: Date,
) -> Vec<RuleChange> {
    let mut out = Vec::new();
    let emails = |view: &Managed, hit: &dyn Fn(&Email) -> bool| -> Vec<Email> {
        let set: BTreeSet<&Email> = view
            .members
            .iter()
            .map(|m| &m.email)
            .chain(view.invitations.iter().map(|i| &i.email))
            .filter(|e| hit(e))
            .collect();
        set.into_iter().cloned().collect()
    };
    let both = |hit: &dyn Fn(&Email) -> bool| -> Vec<Email> {
        let mut all = emails(base_org, hit);
        all.extend(emails(org, hit));
        all.sort();
        all.dedup();
        all
    };
    // `ignore`: an added pattern hides what the base managed; a removed one hands back what
    // it hid.
    list_changed(
        "ignore",
        &base.ignore,
        &desired.ignore,
        Glob::as_str,
        &|g, added| emails(if added { base_org } else { org }, &|e| g.matches(e)),
        &mut out,
    );
    list_changed(
        "protected",
        &base.protected,
        &desired.protected,
        Email::as_str,
        &|p, _| both(&|e| e == p),
        &mut out,
    );
    list_changed(
        "allowed_domains",
        &base.allowed_domains,
        &desired.allowed_domains,
        String::as_str,
        &|d, _| both(&|e| domain_allowed(std::slice::from_ref(d), e)),
        &mut out,
    );
    let (b, d) = (base.safety, desired.safety);
    if b.max_removals != d.max_removals {
        out.push(RuleChange {
            rule: "safety.max_removals",
            before: b.max_removals.map(|m| m.to_string()),
            after: d.max_removals.map(|m| m.to_string()),
            members: Vec::new(),
        });
    }
    if b.min_admins != d.min_admins {
        out.push(RuleChange {
            rule: "safety.min_admins",
            before: Some(b.min_admins.to_string()),
            after: Some(d.min_admins.to_string()),
            members: Vec::new(),
        });
    }
    let (b, d) = (
        base.invitations.resend_after_days,
        desired.invitations.resend_after_days,
    );
    if b != d {
        // The pending invitations whose re-sending the change starts or stops.
        let due = |limit: Option<u64>, age: u64| limit.is_some_and(|l| age > l);
        let mut members: Vec<Email> = org
            .invitations
            .iter()
            .filter_map(|i| {
                let age = Invited::new(i.created_at.as_ref()?, today).age_days;
                (due(b, age) != due(d, age)).then(|| i.email.clone())
            })
            .collect();
        members.sort();
        members.dedup();
        out.push(RuleChange {
            rule: "invitations.resend_after_days",
            before: b.map(|n| n.to_string()),
            after: d.map(|n| n.to_string()),
            members,
        });
    }
    policy_changed(&base.policy, &desired.policy, &both, &mut out);
    out
}

/// The items of a list rule (`ignore`, `protected`, a domain list) that the edit adds (before:
/// none) or removes (after: none), each with the org's members it matches or affects;
/// `members` is told whether the item was added.
fn list_changed<T: PartialEq>(
    rule: &'static str,
    before: &[T],
    after: &[T],
    text: fn(&T) -> &str,
    members: &dyn Fn(&T, bool) -> Vec<Email>,
    out: &mut Vec<RuleChange>,
) {
    for t in after.iter().filter(|t| !before.contains(t)) {
        out.push(RuleChange {
            rule,
            before: None,
            after: Some(text(t).to_string()),
            members: members(t, true),
        });
    }
    for t in before.iter().filter(|t| !after.contains(t)) {
        out.push(RuleChange {
            rule,
            before: Some(text(t).to_string()),
            after: None,
            members: members(t, false),
        });
    }
}

/// The org's members and invitations (before and after the edit) an email test picks.
type Matching<'a> = dyn Fn(&dyn Fn(&Email) -> bool) -> Vec<Email> + 'a;

/// The `policy` rules the edit changes (docs/contract.md §8): `internal_domains` with the org's
/// members and invitations in each added or removed domain (who becomes external or internal);
/// the switches and limits with their values (the file's validation enforces them on entries).
fn policy_changed(
    base: &crate::desired::Policy,
    desired: &crate::desired::Policy,
    both: &Matching<'_>,
    out: &mut Vec<RuleChange>,
) {
    let value = |rule: &'static str, before: Option<String>, after: Option<String>| {
        (before != after).then_some(RuleChange {
            rule,
            before,
            after,
            members: Vec::new(),
        })
    };
    let flag = |on: bool| on.then(|| "true".to_string());
    out.extend(value(
        "policy.admins_need_reason",
        flag(base.admins_need_reason),
        flag(desired.admins_need_reason),
    ));
    list_changed(
        "policy.internal_domains",
        &base.internal_domains,
        &desired.internal_domains,
        String::as_str,
        &|d, _| both(&|e| domain_allowed(std::slice::from_ref(d), e)),
        out,
    );
    let days = |n: Option<u64>| n.map(|n| n.to_string());
    out.extend(value(
        "policy.external_max_days",
        days(base.external_max_days),
        days(desired.external_max_days),
    ));
    out.extend(value(
        "policy.max_admins",
        days(base.max_admins.map(|(n, _)| n)),
        days(desired.max_admins.map(|(n, _)| n)),
    ));
    out.extend(value(
        "policy.recertify_days",
        days(base.recertify_days),
        days(desired.recertify_days),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::DesiredMember;
    use crate::glob::Glob;
    use crate::live::LiveState;
    use crate::planner::{PlanOptions, plan};
    use crate::role::Role;

    fn today() -> Date {
        Date::parse("2027-03-31").unwrap()
    }

    fn desired(members: &[(&str, Role)]) -> Desired {
        Desired::of(members)
    }

    fn stopped(file: &Desired, base: &Desired, live: &LiveState) -> Vec<(String, bool, String)> {
        let opts = PlanOptions::new(today());
        let p = plan(file, &Managed::new(live.clone(), &file.ignore), &opts);
        let b = plan(base, &Managed::new(live.clone(), &base.ignore), &opts);
        no_longer(&p, &b, file, base, today())
            .into_iter()
            .map(|n| {
                (
                    format!("{:?} {}", n.change.action(), n.change.email()),
                    n.keeps_access(),
                    n.cause.words(),
                )
            })
            .collect()
    }

    fn org() -> LiveState {
        LiveState::of(
            &[
                ("u1", "root@x.com", "org:admin"),
                ("u2", "intruder@evil.io", "org:admin"),
                ("u3", "ann@x.com", "org:admin"),
            ],
            &[("i1", "newbie@x.com", "org:member")],
        )
    }

    /// The hostile pull request: an `ignore` pattern that cancels the base's removal
    /// of an intruder admin.
    #[test]
    fn an_added_ignore_pattern_stops_a_removal_and_names_who_it_hides() {
        use Role::*;
        let base = desired(&[
            ("root@x.com", Admin),
            ("ann@x.com", Admin),
            ("newbie@x.com", Member),
        ]);
        let mut file = base.clone();
        file.ignore.push(Glob::new("*@evil.io"));
        assert_eq!(
            stopped(&file, &base, &org()),
            [(
                "Remove intruder@evil.io".to_string(),
                true,
                "matches the ignore pattern *@evil.io".to_string()
            )]
        );
        let live = org();
        let rules = rules_changed(
            &file,
            &base,
            &Managed::new(live.clone(), &base.ignore),
            &Managed::new(live, &file.ignore),
            today(),
        );
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].rule, "ignore");
        assert_eq!(rules[0].after.as_deref(), Some("*@evil.io"));
        assert_eq!(rules[0].members, [Email::new("intruder@evil.io")]);
    }

    #[test]
    fn each_cause_of_what_the_edit_stops() {
        use Role::*;
        let base = desired(&[("root@x.com", Admin), ("newbie@x.com", Member)]);
        // The base removes intruder@ and ann@; the edit lists ann, protects intruder, and
        // drops the invitee.
        let mut file = desired(&[("root@x.com", Admin), ("ann@x.com", Admin)]);
        file.protected.push(Email::new("intruder@evil.io"));
        let got = stopped(&file, &base, &org());
        assert_eq!(
            got,
            [
                (
                    "Remove ann@x.com".to_string(),
                    true,
                    "the file lists it as org:admin".to_string()
                ),
                (
                    "Remove intruder@evil.io".to_string(),
                    true,
                    "listed under protected".to_string()
                ),
            ]
        );
        // Dropping an invitee the base would invite: the invitation is no longer sent, and
        // that keeps no access.
        let live = LiveState::of(&[("u1", "root@x.com", "org:admin")], &[]);
        let base = desired(&[("root@x.com", Admin), ("hire@x.com", Member)]);
        let file = desired(&[("root@x.com", Admin)]);
        assert_eq!(
            stopped(&file, &base, &live),
            [(
                "Invite hire@x.com".to_string(),
                false,
                "no longer listed in the file".to_string()
            )]
        );
        // The edit renews an expired entry.
        let live = LiveState::of(
            &[
                ("u1", "root@x.com", "org:admin"),
                ("u2", "temp@x.com", "org:member"),
            ],
            &[],
        );
        let mut base = desired(&[("root@x.com", Admin), ("temp@x.com", Member)]);
        base.members[1].expires = Date::parse("2027-01-01");
        let mut file = base.clone();
        file.members[1].expires = Date::parse("2027-12-31");
        assert_eq!(
            stopped(&file, &base, &live),
            [(
                "Remove temp@x.com".to_string(),
                true,
                "its expires moved to 2027-12-31".to_string()
            )]
        );
        // The same file stops nothing.
        assert!(stopped(&base, &base, &live).is_empty());
    }

    /// The issue's `expires: <today>` on the owner: nothing is due yet, but the change says
    /// when access ends; a removed or moved date is said too.
    #[test]
    fn expiries_the_edit_sets_moves_or_removes() {
        use Role::*;
        let mut base = desired(&[
            ("root@x.com", Admin),
            ("ann@x.com", Member),
            ("t@x.com", Member),
        ]);
        base.members[2].expires = Date::parse("2027-05-01");
        let mut file = base.clone();
        file.members[0].expires = Date::parse("2027-03-31");
        file.members[2].expires = None;
        file.members.push(DesiredMember::new("new@x.com", Member));
        let got: Vec<String> = expiries_changed(&file, &base)
            .iter()
            .map(|e| {
                format!(
                    "{} {:?} -> {:?}",
                    e.email,
                    e.before.map(|d| d.to_string()),
                    e.after.map(|d| d.to_string())
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                "root@x.com None -> Some(\"2027-03-31\")",
                "t@x.com Some(\"2027-05-01\") -> None",
            ]
        );
        assert!(expiries_changed(&base, &base).is_empty());
    }

    #[test]
    fn rules_changed_name_what_they_now_match() {
        use Role::*;
        let live = LiveState::of(
            &[
                ("u1", "root@x.com", "org:admin"),
                ("u2", "bob@y.com", "org:member"),
            ],
            &[("i1", "old@y.com", "org:member")],
        );
        let base = desired(&[("root@x.com", Admin), ("bob@y.com", Member)]);
        let mut file = base.clone();
        file.protected.push(Email::new("bob@y.com"));
        file.allowed_domains.push("y.com".into());
        file.safety.min_admins = 2;
        file.policy.internal_domains.push("x.com".into());
        file.policy.max_admins = Some((8, crate::yaml::Loc::default()));
        let rules = rules_changed(
            &file,
            &base,
            &Managed::new(live.clone(), &base.ignore),
            &Managed::new(live, &file.ignore),
            today(),
        );
        let shown: Vec<String> = rules
            .iter()
            .map(|r| {
                format!(
                    "{} {:?}->{:?} {:?}",
                    r.rule,
                    r.before,
                    r.after,
                    r.members.iter().map(Email::as_str).collect::<Vec<_>>()
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                "protected None->Some(\"bob@y.com\") [\"bob@y.com\"]",
                "allowed_domains None->Some(\"y.com\") [\"bob@y.com\", \"old@y.com\"]",
                "safety.min_admins Some(\"1\")->Some(\"2\") []",
                "policy.internal_domains None->Some(\"x.com\") [\"root@x.com\"]",
                "policy.max_admins None->Some(\"8\") []",
            ]
        );
        assert!(
            rules_changed(
                &base,
                &base,
                &Managed::new(LiveState::default(), &[]),
                &Managed::new(LiveState::default(), &[]),
                today()
            )
            .is_empty()
        );
    }
}
