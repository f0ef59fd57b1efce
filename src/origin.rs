//! Where each change of a plan comes from, given a baseline (docs/contract.md §8): the desired
//! state before the edit under review. Pure: two plans made against the same read of the org,
//! and the two desired states, in; the origin of every change and blocked change, and what the
//! edit asks for that the org already holds, out.
//!
//! - **drift**: the baseline's plan holds the same change (action, email and role): the org
//!   already differed from what was desired before the edit, so applying reverts something done
//!   outside teamsync (or finishes an earlier apply);
//! - **scheduled**: the baseline's plan holds it too, and the file's own clock causes it: a
//!   removal or revocation past `expires`, a re-send past `invitations.resend_after_days`.
//!   Nothing was done in the org: it is never called drift, never pointed to `teamsync adopt`;
//! - **edit**: every other change, the edit's own doing.
//!
//! A change is matched against the baseline's changes, a blocked change against its blocked
//! ones: a change the edit unblocks (it drops an email from `protected`) is the edit's doing,
//! and so is one it blocks.

use crate::date::Date;
use crate::desired::Desired;
use crate::email::Email;
use crate::plan::{Action, Blocked, Change, Key, Plan, key};
pub(crate) use crate::plan::{AlreadyInOrg, Compared, Origin};
use crate::role::Role;
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::{HashMap, HashSet};

impl Plan {
    /// Counts the origins in the summary as the plan's groups count them (a replaced
    /// invitation is one change): after each entry was given its origin.
    pub(crate) fn count_origins(&mut self) {
        let count = |origin: Origin| {
            let changes = self
                .changes
                .iter()
                .filter(|c| c.origin == Some(origin) && !c.change.is_replaced_revoke())
                .count();
            changes
                + self
                    .blocked
                    .iter()
                    .filter(|b| b.origin == Some(origin))
                    .count()
        };
        self.summary.edit = Some(count(Origin::Edit));
        self.summary.drift = Some(count(Origin::Drift));
        self.summary.scheduled = Some(count(Origin::Scheduled));
    }

    /// The changes and the blocked changes whose origin is `origin`, in plan order: the
    /// renderers' groups (docs/contract.md §8).
    pub(crate) fn of_origin(&self, origin: Origin) -> (Vec<&Change>, Vec<&Blocked>) {
        let changes = self
            .changes
            .iter()
            .filter(|c| c.origin == Some(origin))
            .map(|c| &c.change)
            .collect();
        let blocked = self
            .blocked
            .iter()
            .filter(|b| b.origin == Some(origin))
            .collect();
        (changes, blocked)
    }

    /// Counts the drifted emails that `teamsync adopt` would keep (`keeps`, from
    /// [`crate::adopt::keeps`]): a drift it leaves alone (protected, outside `allowed_domains`,
    /// the last admin) gets no pointer to it.
    pub(crate) fn set_adoptable(&mut self, keeps: &HashSet<Email>) {
        let n = self
            .drift_changes()
            .into_iter()
            .filter(|c| keeps.contains(c.email()))
            .map(Change::email)
            .collect::<HashSet<_>>()
            .len();
        if let Some(o) = &mut self.compared {
            o.adoptable_drift = n;
        }
    }

    #[cfg(test)]
    /// How many emails the drift that applying reverts concerns: the emails of the changes
    /// (not the blocked ones, which are never sent) whose origin is drift.
    pub(crate) fn drifted_emails(&self) -> usize {
        self.drift_changes()
            .into_iter()
            .map(Change::email)
            .collect::<HashSet<_>>()
            .len()
    }
}

/// What `apply --drift` does with the drift a plan would revert (docs/contract.md §5).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum DriftMode {
    /// Apply the whole plan: drift is reverted too.
    #[default]
    Revert,
    /// Apply every change but the drift, and list the drift left in place.
    Keep,
    /// Send nothing when the plan would revert drift (exit 3).
    Refuse,
}

impl Plan {
    /// The changes that revert drift (never a blocked one: those are never sent). Every other
    /// origin is the file's own doing, reviewed with the edit or scheduled by it.
    pub(crate) fn drift_changes(&self) -> Vec<&Change> {
        self.of_origin(Origin::Drift).0
    }

    /// This plan without the changes that revert drift, for `apply --drift keep`, the origins
    /// counted again. A replaced invitation's revoke has its invitation's origin, so the two
    /// stay together. The guards are the caller's to check again.
    pub(crate) fn without_drift(&self) -> Plan {
        if self.compared.is_none() {
            return self.clone();
        }
        let mut plan = Plan {
            changes: self
                .changes
                .iter()
                .filter(|c| c.origin != Some(Origin::Drift))
                .cloned()
                .collect(),
            ..self.clone()
        };
        plan.count_origins();
        plan
    }

    /// Each change's origin by what it does, for the steps of an apply (`None` without a
    /// baseline).
    pub(crate) fn origin_index(&self) -> Option<OriginIndex> {
        self.compared.as_ref()?;
        let mut by = HashMap::with_capacity(self.changes.len());
        for c in &self.changes {
            let (action, email, role) = key(&c.change);
            if let Some(o) = c.origin {
                by.entry((action, email.clone(), role.to_string()))
                    .or_insert(o);
            }
        }
        Some(OriginIndex(by))
    }
}

/// The origin of each change of a plan, found by its action, email and role.
#[derive(Debug, Default)]
pub(crate) struct OriginIndex(HashMap<(Action, Email, String), Origin>);

impl OriginIndex {
    pub(crate) fn of(&self, c: &Change) -> Option<Origin> {
        let (action, email, role) = key(c);
        self.0
            .get(&(action, email.clone(), role.to_string()))
            .copied()
    }
}

/// Marks each of `ours` drift when `theirs` holds a change with its key (each of theirs matched
/// once), else edit. A replaced invitation is one change: its revoke takes the origin of the
/// invitation that replaces it (matched by key, the revoke could be drift while the new
/// invitation is the edit's, and neither group would show it).
fn match_up<'a>(
    ours: impl Iterator<Item = &'a Change> + Clone,
    theirs: impl Iterator<Item = &'a Change>,
) -> Vec<Origin> {
    let mut left: HashMap<Key<'a>, usize> = HashMap::new();
    for c in theirs {
        *left.entry(key(c)).or_default() += 1;
    }
    let mut origins: Vec<Origin> = ours
        .clone()
        .map(|c| match left.get_mut(&key(c)) {
            Some(n) if *n > 0 && !c.is_replaced_revoke() => {
                *n -= 1;
                Origin::shared(c)
            }
            _ => Origin::Edit,
        })
        .collect();
    let replacing: HashMap<&Email, Origin> = ours
        .clone()
        .zip(&origins)
        .filter(|(c, _)| matches!(c, Change::Invite(i) if i.replaces.is_some()))
        .map(|(c, o)| (c.email(), *o))
        .collect();
    for (c, o) in ours.zip(origins.iter_mut()) {
        if c.is_replaced_revoke() {
            *o = replacing.get(c.email()).copied().unwrap_or(*o);
        }
    }
    origins
}

/// Gives each entry of `plan` (made from `desired`) its origin given `baseline`, the plan of
/// `base` against the same read of the org with the same options (`today` among them), counts
/// them, and records what else the comparison finds in [`Plan::compared`] (its
/// `rules_changed` and `adoptable_drift` are the caller's to add).
pub(crate) fn classify(
    plan: &mut Plan,
    baseline: &Plan,
    desired: &Desired,
    base: &Desired,
    today: Date,
) {
    let changes = match_up(
        plan.changes.iter().map(|c| &c.change),
        baseline.changes.iter().map(|c| &c.change),
    );
    let blocked = match_up(
        plan.blocked.iter().map(|b| &b.change),
        baseline.blocked.iter().map(|b| &b.change),
    );
    for (c, o) in plan.changes.iter_mut().zip(changes) {
        c.origin = Some(o);
    }
    for (b, o) in plan.blocked.iter_mut().zip(blocked) {
        b.origin = Some(o);
    }
    // Entries the edit adds or gives another role, that the plan leaves alone: the org holds
    // them already.
    let before: HashMap<&Email, Role> = base
        .members
        .iter()
        .filter(|m| !m.is_expired(today))
        .map(|m| (&m.email, m.role))
        .collect();
    let touched: HashSet<&Email> = plan
        .changes
        .iter()
        .map(|c| &c.change)
        .chain(plan.blocked.iter().map(|b| &b.change))
        .map(Change::email)
        .collect();
    let mut already_in_org: Vec<AlreadyInOrg> = desired
        .members
        .iter()
        .filter(|m| !m.is_expired(today))
        .filter(|m| before.get(&m.email) != Some(&m.role))
        .filter(|m| !touched.contains(&m.email))
        .map(|m| AlreadyInOrg {
            email: m.email.clone(),
            role: m.role,
        })
        .collect();
    already_in_org.sort_by(|a, b| a.email.cmp(&b.email));
    already_in_org.dedup_by(|a, b| a.email == b.email);
    let compared = Compared {
        already_in_org,
        adoptable_drift: 0,
        drift_kept: false,
        no_longer: crate::stops::no_longer(plan, baseline, desired, base, today),
        rules_changed: Vec::new(),
        expiries: crate::stops::expiries_changed(desired, base),
    };
    plan.compared = Some(compared);
    plan.count_origins();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::DesiredMember;
    use crate::live::{LiveInvitation, LiveMember, LiveState};
    use crate::planner::{PlanOptions, plan_live};

    fn today() -> Date {
        Date::parse("2027-03-31").unwrap()
    }

    fn desired(members: &[(&str, Role)]) -> Desired {
        Desired::of(members)
    }

    /// Plans `file` with `base` as the baseline against `live`, as `plan --baseline` does.
    fn planned(file: &Desired, base: &Desired, live: &LiveState, opts: &PlanOptions) -> Plan {
        let mut p = plan_live(file, live, opts);
        let b = plan_live(base, live, opts);
        classify(&mut p, &b, file, base, opts.today);
        p
    }

    fn shown(p: &Plan) -> Vec<String> {
        p.changes
            .iter()
            .map(|c| {
                format!(
                    "{:?} {:?} {}",
                    c.origin.unwrap(),
                    c.change.action(),
                    c.change.email()
                )
            })
            .chain(
                p.blocked
                    .iter()
                    .map(|b| format!("{:?} blocked {}", b.origin.unwrap(), b.change.email())),
            )
            .collect()
    }

    /// The pull request: it promotes Bob, while hand@ was added in the dashboard and
    /// carol, whom the edit adds, was invited by hand already.
    #[test]
    fn the_edit_the_drift_and_what_the_org_already_holds() {
        use Role::*;
        let base = desired(&[("root@x.com", Admin), ("bob@x.com", Member)]);
        let file = desired(&[
            ("root@x.com", Admin),
            ("bob@x.com", Admin),
            ("carol@x.com", Member),
        ]);
        let live = LiveState {
            members: vec![
                LiveMember::new("u1", "root@x.com", "org:admin"),
                LiveMember::new("u2", "bob@x.com", "org:member"),
                LiveMember::new("u3", "hand@x.com", "org:member"),
            ],
            invitations: vec![LiveInvitation::new("i1", "carol@x.com", "org:member")],
        };
        let p = planned(&file, &base, &live, &PlanOptions::new(today()));
        assert_eq!(
            shown(&p),
            ["Edit UpdateRole bob@x.com", "Drift Remove hand@x.com"]
        );
        let o = p.compared.as_ref().unwrap();
        assert_eq!(
            o.already_in_org,
            [AlreadyInOrg {
                email: Email::new("carol@x.com"),
                role: Member
            }]
        );
        assert_eq!((p.summary.edit, p.summary.drift), (Some(1), Some(1)));
        assert_eq!(p.drifted_emails(), 1);
    }

    /// carol was invited by hand as a member and the base does not list her; the edit adds her
    /// as an admin. The base's plan revokes her invitation (not desired), the edit's replaces it:
    /// the replacement is one change, the edit's, revoke and invite alike, counted once.
    #[test]
    fn a_replaced_invitation_is_one_change_with_one_origin() {
        use Role::*;
        let base = desired(&[("root@x.com", Admin)]);
        let file = desired(&[("root@x.com", Admin), ("carol@x.com", Admin)]);
        let live = LiveState::of(
            &[("u1", "root@x.com", "org:admin")],
            &[("i1", "carol@x.com", "org:member")],
        );
        let p = planned(&file, &base, &live, &PlanOptions::new(today()));
        assert_eq!(
            shown(&p),
            ["Edit Invite carol@x.com", "Edit Revoke carol@x.com"]
        );
        assert_eq!((p.summary.edit, p.summary.drift), (Some(1), Some(0)));
        assert_eq!(p.drifted_emails(), 0);
    }

    #[test]
    fn the_same_email_with_another_role_is_the_edits_doing() {
        use Role::*;
        // The org has ann as an admin; the base wants her a member (drift: a demotion).
        let live = LiveState {
            members: vec![
                LiveMember::new("u1", "root@x.com", "org:admin"),
                LiveMember::new("u2", "ann@x.com", "org:admin"),
            ],
            invitations: vec![],
        };
        let base = desired(&[("root@x.com", Admin), ("ann@x.com", Member)]);
        let opts = PlanOptions::new(today());
        // The edit keeps the demotion, with the same role: drift.
        let same = planned(&base, &base, &live, &opts);
        assert_eq!(shown(&same), ["Drift UpdateRole ann@x.com"]);
        assert!(same.compared.unwrap().already_in_org.is_empty());
        // The edit accepts the org's admin: nothing left to do, and ann is already in the org.
        let accept = desired(&[("root@x.com", Admin), ("ann@x.com", Admin)]);
        let p = planned(&accept, &base, &live, &opts);
        assert!(p.changes.is_empty());
        assert_eq!(p.compared.as_ref().unwrap().already_in_org.len(), 1);
        // The edit removes her: a removal, not the base's demotion.
        let gone = desired(&[("root@x.com", Admin)]);
        assert_eq!(
            shown(&planned(&gone, &base, &live, &opts)),
            ["Edit Remove ann@x.com"]
        );
    }

    #[test]
    fn blocked_changes_match_blocked_ones_only() {
        use Role::*;
        let live = LiveState {
            members: vec![
                LiveMember::new("u1", "root@x.com", "org:admin"),
                LiveMember::new("u2", "glass@x.com", "org:admin"),
            ],
            invitations: vec![],
        };
        let mut base = desired(&[("root@x.com", Admin), ("glass@x.com", Member)]);
        base.protected.push(Email::new("glass@x.com"));
        let opts = PlanOptions::new(today());
        // Still protected: the blocked demotion is drift.
        assert_eq!(
            shown(&planned(&base, &base, &live, &opts)),
            ["Drift blocked glass@x.com"]
        );
        // The edit drops the protection: the demotion it lets through is its own doing.
        let mut file = base.clone();
        file.protected.clear();
        assert_eq!(
            shown(&planned(&file, &base, &live, &opts)),
            ["Edit UpdateRole glass@x.com"]
        );
    }

    #[test]
    fn an_expiry_that_passed_before_the_edit_is_scheduled_not_drift() {
        use Role::*;
        let live = LiveState {
            members: vec![
                LiveMember::new("u1", "root@x.com", "org:admin"),
                LiveMember::new("u2", "temp@x.com", "org:member"),
            ],
            invitations: vec![],
        };
        let mut base = desired(&[("root@x.com", Admin), ("temp@x.com", Member)]);
        base.members[1].expires = Date::parse("2027-01-01");
        let opts = PlanOptions::new(today());
        // The edit touches someone else only: the expiry is not its doing.
        let mut file = base.clone();
        file.members.push(DesiredMember::new("new@x.com", Member));
        assert_eq!(
            shown(&planned(&file, &base, &live, &opts)),
            ["Edit Invite new@x.com", "Scheduled Remove temp@x.com"]
        );
        // The edit extends the entry: temp@ stays, already in the org.
        let mut renewed = base.clone();
        renewed.members[1].expires = Date::parse("2027-12-31");
        let p = planned(&renewed, &base, &live, &opts);
        assert!(p.is_empty());
        assert_eq!(p.compared.unwrap().already_in_org.len(), 1);
    }

    #[test]
    fn two_equal_changes_are_matched_once_each() {
        let theirs = [Change::Invite(crate::plan::Invite {
            email: Email::new("a@x.com"),
            role: Role::Member,
            reason: None,
            part: None,
            replaces: None,
        })];
        let ours = [theirs[0].clone(), theirs[0].clone()];
        assert_eq!(
            match_up(ours.iter(), theirs.iter()),
            [Origin::Drift, Origin::Edit]
        );
    }

    /// The origins' properties, over the planner's generators.
    mod properties {
        use crate::email::Email;
        use crate::live::Managed;
        use crate::plan::simulate;
        use crate::planner::tests::properties::{
            EMAILS, covering, desired_state, live_state, origins_hit, today,
        };
        use crate::planner::{PlanOptions, plan};
        use proptest::prelude::*;
        use std::collections::BTreeMap;

        /// The key two plans' changes are matched on (docs/contract.md §8), written out again here so
        /// that the property below does not lean on the code it checks.
        fn origin_key(c: &crate::plan::Change) -> (crate::plan::Action, String, String) {
            use crate::plan::Change::*;
            let role = match c {
                Invite(c) => c.role.as_str().to_string(),
                UpdateRole(c) => c.to.as_str().to_string(),
                Resend(c) => c.role.as_str().to_string(),
                Remove(c) => c.role.as_str().to_string(),
                Revoke(c) => c.role.as_str().to_string(),
            };
            (c.action(), c.email().to_string(), role)
        }

        /// `plan --baseline` (docs/contract.md §8), for any org, file, baseline and `--self`:
        /// every entry gets one origin; an entry is drift exactly as often as the baseline's plan
        /// holds the same action, email and role, and a replaced invitation's revoke has the origin
        /// of the invitation replacing it; what is "already in the org" is in the org.
        #[test]
        fn origins_match_the_baselines_plan_and_nothing_else() {
            use crate::origin::{Origin, classify};
            let floors = [
                ("edit", 0.85),           // 0.96
                ("drift", 0.85),          // 0.94
                ("blocked", 0.08),        // 0.14
                ("already in org", 0.22), // 0.31
            ];
            let cases = (
                live_state(),
                desired_state(),
                desired_state(),
                prop::option::of(0..EMAILS.len()),
            );
            covering(1000, cases, &floors, |(live, d, b, who)| {
                let mut opts = PlanOptions::new(today());
                opts.self_email = who.map(|w| Email::new(EMAILS[w]));
                let org = Managed::new(live.clone(), &d.ignore);
                let mut p = plan(&d, &org, &opts);
                let base = plan(&b, &Managed::new(live, &b.ignore), &opts);
                classify(&mut p, &base, &d, &b, today());
                let (changes, blocked) = (
                    p.changes
                        .iter()
                        .map(|c| c.origin)
                        .collect::<Option<Vec<Origin>>>(),
                    p.blocked
                        .iter()
                        .map(|b| b.origin)
                        .collect::<Option<Vec<Origin>>>(),
                );
                let (Some(changes), Some(blocked)) = (changes, blocked) else {
                    return Err(TestCaseError::fail("an entry without an origin"));
                };
                let count = |cs: &mut dyn Iterator<Item = &crate::plan::Change>| {
                    let mut m: BTreeMap<_, usize> = BTreeMap::new();
                    for c in cs {
                        *m.entry(origin_key(c)).or_default() += 1;
                    }
                    m
                };
                let sides = [
                    (
                        p.changes.iter().map(|c| &c.change).collect::<Vec<_>>(),
                        &changes,
                        base.changes.iter().map(|c| &c.change).collect::<Vec<_>>(),
                    ),
                    (
                        p.blocked.iter().map(|b| &b.change).collect(),
                        &blocked,
                        base.blocked.iter().map(|b| &b.change).collect(),
                    ),
                ];
                for (ours, origins, theirs) in sides {
                    // A replaced invitation's revoke takes the origin of the invitation replacing it.
                    for (c, o) in ours.iter().zip(origins) {
                        if c.is_replaced_revoke() {
                            let invite = ours.iter().zip(origins).find(|(i, _)| {
                                matches!(i, crate::plan::Change::Invite(v) if v.replaces.is_some())
                                    && i.email() == c.email()
                            });
                            prop_assert_eq!(invite.map(|(_, o)| *o), Some(*o), "{}", c.email());
                        }
                    }
                    let keyed = || {
                        ours.iter()
                            .zip(origins)
                            .filter(|(c, _)| !c.is_replaced_revoke())
                    };
                    let all = count(&mut keyed().map(|(c, _)| *c));
                    let drift = count(
                        &mut keyed()
                            .filter(|(_, o)| **o == Origin::Drift)
                            .map(|(c, _)| *c),
                    );
                    let theirs = count(&mut theirs.iter().copied());
                    for (key, n) in &all {
                        let want = (*n).min(theirs.get(key).copied().unwrap_or(0));
                        prop_assert_eq!(drift.get(key).copied().unwrap_or(0), want, "{:?}", key);
                    }
                }
                for a in &p.compared.as_ref().unwrap().already_in_org {
                    let held = org
                        .members
                        .iter()
                        .any(|m| m.email == a.email && m.role.is(a.role))
                        || org
                            .invitations
                            .iter()
                            .any(|i| i.email == a.email && i.role.is(a.role));
                    prop_assert!(held, "{} ({}) is not in the org", a.email, a.role);
                    prop_assert!(
                        b.members
                            .iter()
                            .all(|m| m.email != a.email || m.role != a.role)
                    );
                }
                let mut hit = origins_hit(&p);
                hit.extend((!p.blocked.is_empty()).then_some("blocked"));
                hit.extend(
                    (!p.compared.as_ref().unwrap().already_in_org.is_empty())
                        .then_some("already in org"),
                );
                Ok(hit)
            });
        }

        /// A file planned with itself as the baseline is all drift; an org that matches the
        /// baseline has none.
        #[test]
        fn no_edit_is_all_drift_and_an_org_as_the_base_wants_it_has_none() {
            use crate::origin::{Origin, classify};
            let floors = [
                ("drift", 0.9), // 1.0
                ("edit", 0.9),  // 0.99
            ];
            covering(
                1000,
                (live_state(), desired_state(), desired_state()),
                &floors,
                |(live, d, b)| {
                    let opts = PlanOptions::new(today());
                    let org = Managed::new(live, &b.ignore);
                    let p = plan(&b, &org, &opts);
                    let mut same = p.clone();
                    classify(&mut same, &p, &b, &b, today());
                    let origins = |p: &crate::plan::Plan| -> Vec<Option<Origin>> {
                        p.changes
                            .iter()
                            .map(|c| c.origin)
                            .chain(p.blocked.iter().map(|b| b.origin))
                            .collect()
                    };
                    prop_assert!(origins(&same).iter().all(|o| *o == Some(Origin::Drift)));
                    prop_assert!(same.compared.as_ref().unwrap().already_in_org.is_empty());
                    // The org once the base is applied; the file judged against it (same `ignore`).
                    let mut d = d;
                    d.ignore = b.ignore.clone();
                    d.members
                        .retain(|m| !d.ignore.iter().any(|g| g.matches(&m.email)));
                    let after = simulate(&org, p.changes.iter().map(|c| &c.change));
                    let mut edit = plan(&d, &after, &opts);
                    classify(&mut edit, &plan(&b, &after, &opts), &d, &b, today());
                    prop_assert!(origins(&edit).iter().all(|o| *o == Some(Origin::Edit)));
                    let mut hit = origins_hit(&same);
                    hit.extend(origins_hit(&edit));
                    Ok(hit)
                },
            );
        }
    }
}
