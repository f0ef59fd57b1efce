//! The planner's properties: applying any plan to a model of the org yields the desired
//! state, and a second plan is empty; blocked changes are all that remain; re-sends only of
//! known ages past the threshold. The generators and [`covering`] here serve the origin and
//! Markdown properties too (`origin.rs`, `render/markdown/tests.rs`).

use crate::date::Date;
use crate::desired::{Desired, DesiredMember};
use crate::email::Email;
use crate::glob::Glob;
use crate::live::{LiveInvitation, LiveMember, LiveState, Managed};
use crate::plan::simulate;
use crate::planner::{PlanOptions, plan};
use crate::role::{LiveRole, Role};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};

pub(crate) const EMAILS: &[&str] = &[
    "a@example.com",
    "B@example.com",
    "c@example.com",
    "d@example.com",
    "e@example.com",
    "f@example.com",
    "g@example.com",
    "h@example.com",
    "bot@vendor.io",
    "ops@vendor.io",
];

pub(crate) fn role() -> impl Strategy<Value = Role> {
    prop_oneof![Just(Role::Admin), Just(Role::Member)]
}

fn live_role() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => role().prop_map(|r| r.as_str().to_string()),
        1 => Just("org:billing".to_string()),
    ]
}

/// A live org as the client reads it: members (possibly two accounts for one email, in any case)
/// and pending invitations, several per email at times.
pub(crate) fn live_state() -> impl Strategy<Value = LiveState> {
    let members = prop::collection::vec((0..EMAILS.len(), live_role(), any::<bool>()), 0..10);
    let invitations = prop::collection::vec((0..EMAILS.len(), live_role()), 0..6);
    (members, invitations).prop_map(|(ms, is)| {
        let shout = |e: &str, up: bool| {
            if up {
                e.to_uppercase()
            } else {
                format!(" {e}")
            }
        };
        LiveState {
            members: ms
                .into_iter()
                .enumerate()
                .map(|(n, (e, r, up))| {
                    LiveMember::new(&format!("user_{n}"), &shout(EMAILS[e], up), &r)
                })
                .collect(),
            invitations: is
                .into_iter()
                .enumerate()
                .map(|(n, (e, r))| LiveInvitation::new(&format!("inv_{n}"), EMAILS[e], &r))
                .collect(),
        }
    })
}

pub(crate) fn desired_state() -> impl Strategy<Value = Desired> {
    (
        prop::collection::btree_map(0..EMAILS.len(), role(), 0..EMAILS.len()),
        any::<bool>(),
    )
        .prop_map(|(m, ignore_vendor)| {
            let mut d = Desired::new(
                m.into_iter()
                    .map(|(e, r)| DesiredMember::new(EMAILS[e], r))
                    .collect(),
            );
            if ignore_vendor {
                d.ignore.push(Glob::new("*@VENDOR.io"));
                d.members
                    .retain(|m| !m.email.as_str().ends_with("@vendor.io"));
            }
            d
        })
}

/// Everyone's final role by email (members win over invitations).
fn roster(org: &Managed) -> BTreeMap<Email, (LiveRole, bool)> {
    let mut out = BTreeMap::new();
    for i in &org.invitations {
        out.insert(i.email.clone(), (i.role.clone(), true));
    }
    for m in &org.members {
        out.insert(m.email.clone(), (m.role.clone(), false));
    }
    out
}

pub(crate) fn today() -> Date {
    Date::parse("2027-01-01").unwrap()
}

/// Runs `check` on `cases` cases of `strategy` (`PROPTEST_CASES` may ask for another number),
/// and fails unless each branch of `floors` was hit by at least that share of the cases, as
/// `yaml/fast.rs`'s `agrees_on` does: a generator that drifted into trivial cases (no
/// removals, no re-sends, no drift) would otherwise pass while testing little. `check` says
/// which branches its case hit. Beside each floor is the share measured when it was set; the
/// floors sit about five standard deviations below it, since the seed changes from run to run.
pub(crate) fn covering<S: Strategy>(
    cases: u32,
    strategy: S,
    floors: &[(&'static str, f64)],
    check: impl Fn(S::Value) -> Result<Vec<&'static str>, TestCaseError>,
) {
    let mut config = ProptestConfig {
        source_file: Some(file!()),
        ..ProptestConfig::default()
    };
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    let (n, hits) = (Cell::new(0u32), RefCell::new(BTreeMap::<&str, u32>::new()));
    let outcome = TestRunner::new(config).run(&strategy, |value| {
        let hit: BTreeSet<&'static str> = check(value)?.into_iter().collect();
        n.set(n.get() + 1);
        for b in hit {
            *hits.borrow_mut().entry(b).or_default() += 1;
        }
        Ok(())
    });
    if let Err(e) = outcome {
        panic!("{e}");
    }
    let (n, hits) = (n.get(), hits.into_inner());
    let share = |b: &str| f64::from(hits.get(b).copied().unwrap_or(0)) / f64::from(n.max(1));
    let short: Vec<String> = floors
        .iter()
        .filter(|(b, floor)| share(b) < *floor)
        .map(|(b, floor)| format!("{b} {:.3} (floor {floor})", share(b)))
        .collect();
    // A share is only meaningful over many cases.
    assert!(
        n < 400 || short.is_empty(),
        "of {n} generated cases, too few hit {}: the generator no longer makes the cases the \
         property is about (all: {hits:?})",
        short.join(", ")
    );
}

/// A floor not reached fails the test, naming the branch and its share.
#[test]
fn coverage_floors_fail_when_the_cases_miss_a_branch() {
    let missed = std::panic::catch_unwind(|| {
        covering(500, 0..10u32, &[("small", 0.5), ("any", 1.0)], |n| {
            Ok([Some("any"), (n < 2).then_some("small")]
                .into_iter()
                .flatten()
                .collect())
        })
    });
    let message = missed
        .expect_err("a floor was missed")
        .downcast::<String>()
        .unwrap();
    assert!(
        message.starts_with("of 500 generated cases, too few hit small 0."),
        "{message}"
    );
}

/// The actions a plan's changes take, and "replacement" for a replaced invitation.
fn actions(p: &crate::plan::Plan) -> Vec<&'static str> {
    use crate::plan::Action;
    p.changes
        .iter()
        .map(|c| match c.change.action() {
            Action::Invite if c.change.is_replacement() => "replacement",
            Action::Invite => "invite",
            Action::Resend => "resend",
            Action::UpdateRole => "update_role",
            Action::Remove => "remove",
            Action::Revoke => "revoke",
        })
        .collect()
}

/// The origins a plan's entries have: "edit", "drift", "scheduled".
pub(crate) fn origins_hit(p: &crate::plan::Plan) -> Vec<&'static str> {
    use crate::origin::Origin;
    p.changes
        .iter()
        .map(|c| c.origin)
        .chain(p.blocked.iter().map(|b| b.origin))
        .flatten()
        .map(|o| match o {
            Origin::Edit => "edit",
            Origin::Drift => "drift",
            Origin::Scheduled => "scheduled",
        })
        .collect()
}

#[test]
fn applying_a_plan_yields_the_desired_state_and_a_second_plan_is_empty() {
    let floors = [
        ("invite", 0.6),        // 0.73
        ("update_role", 0.38),  // 0.48
        ("remove", 0.7),        // 0.82
        ("revoke", 0.7),        // 0.81
        ("replacement", 0.15),  // 0.23
        ("ignored", 0.25),      // 0.35
        ("guard tripped", 0.4), // 0.49
    ];
    covering(
        2000,
        (live_state(), desired_state()),
        &floors,
        |(live, d)| {
            let opts = PlanOptions::new(today());
            let org = Managed::new(live.clone(), &d.ignore);
            let p = plan(&d, &org, &opts);
            prop_assert!(p.blocked.is_empty());
            let after = simulate(&org, p.changes.iter().map(|c| &c.change));
            // Exactly the desired people, each with the desired role.
            let got = roster(&after);
            let want: BTreeMap<Email, LiveRole> = d
                .members
                .iter()
                .map(|m| (m.email.clone(), m.role.into()))
                .collect();
            prop_assert_eq!(
                got.keys().collect::<Vec<_>>(),
                want.keys().collect::<Vec<_>>()
            );
            for (email, (role, _)) in &got {
                prop_assert_eq!(role, &want[email]);
            }
            // Every account with a desired email has the desired role; no duplicate invitations.
            for m in &after.members {
                if let Some(r) = want.get(&m.email) {
                    prop_assert_eq!(&m.role, r);
                }
            }
            let mut pending: Vec<&Email> = after.invitations.iter().map(|i| &i.email).collect();
            let n = pending.len();
            pending.dedup();
            prop_assert_eq!(n, pending.len(), "one pending invitation per email at most");
            // Ignored accounts are untouched.
            for c in &p.changes {
                prop_assert!(!d.is_ignored(c.change.email()));
            }
            for m in live.members.iter().filter(|m| d.is_ignored(&m.email)) {
                prop_assert!(
                    p.changes
                        .iter()
                        .all(|c| c.change.id() != Some(m.id.as_str()))
                );
            }
            // And the plan against the result is empty.
            let again = plan(&d, &after, &opts);
            prop_assert!(again.is_empty(), "second plan: {:?}", again.changes);
            let mut hit = actions(&p);
            hit.extend((p.summary.ignored > 0).then_some("ignored"));
            hit.extend(
                p.guards
                    .iter()
                    .any(|g| g.tripped())
                    .then_some("guard tripped"),
            );
            Ok(hit)
        },
    );
}

#[test]
fn blocked_changes_are_all_that_remain() {
    let floors = [
        ("blocked", 0.2),      // 0.29
        ("own role", 0.05),    // 0.09
        ("own removal", 0.14), // 0.2
    ];
    let cases = (live_state(), desired_state(), 0..EMAILS.len());
    covering(2000, cases, &floors, |(live, d, who)| {
        let mut opts = PlanOptions::new(today());
        opts.self_email = Some(Email::new(EMAILS[who]));
        let org = Managed::new(live, &d.ignore);
        let p = plan(&d, &org, &opts);
        let after = simulate(&org, p.changes.iter().map(|c| &c.change));
        let again = plan(&d, &after, &opts);
        prop_assert!(again.changes.is_empty(), "{:?}", again.changes);
        prop_assert_eq!(again.blocked.len(), p.blocked.len());
        let mut hit = Vec::new();
        hit.extend((!p.blocked.is_empty()).then_some("blocked"));
        for b in &p.blocked {
            hit.push(match b.why {
                crate::plan::BlockReason::OwnRole(_) => "own role",
                crate::plan::BlockReason::OwnRemoval(_) => "own removal",
                _ => "other",
            });
        }
        Ok(hit)
    });
}

/// docs/contract.md §4: invitations get ages (some unknown), the file may set
/// `resend_after_days`. A re-send only ever replaces an invitation whose age is known and
/// greater than the threshold; a kept invitation never is; the plan still converges.
#[test]
fn resends_only_known_ages_past_the_threshold() {
    let floors = [
        // Rare: a re-send needs a desired email whose one invitation has the right role and a
        // known age past the threshold.
        ("resend", 0.01),             // 0.027
        ("kept, aged", 0.035),        // 0.066
        ("kept, age unknown", 0.065), // 0.1
        ("stale warning", 0.012),     // 0.032
    ];
    let cases = (
        live_state(),
        desired_state(),
        prop::collection::vec(prop::option::of(0i64..120), 6),
        prop::option::of(1u64..90),
    );
    covering(2000, cases, &floors, |(live, d, ages, after)| {
        let mut live = live;
        for (inv, age) in live.invitations.iter_mut().zip(&ages) {
            inv.created_at = age.and_then(|a| {
                crate::date::Timestamp::parse(&format!("{}T12:00:00Z", today().add_days(-a)))
            });
        }
        let mut d = d;
        d.invitations.resend_after_days = after;
        let opts = PlanOptions::new(today());
        let org = Managed::new(live, &d.ignore);
        let p = plan(&d, &org, &opts);
        let age_of = |id: &crate::live::InvitationId| {
            org.invitations
                .iter()
                .find(|i| &i.id == id)
                .map(|i| i.created_at.as_ref().map(|t| t.date().days_until(today())))
        };
        for c in &p.changes {
            if let crate::plan::Change::Resend(r) = &c.change {
                let threshold = after.expect("no threshold, no re-send");
                let age = age_of(&r.id)
                    .expect("a live invitation")
                    .expect("never an unknown age");
                prop_assert!(
                    age > threshold as i64,
                    "age {} re-sent at threshold {}",
                    age,
                    threshold
                );
                prop_assert_eq!(r.invited.age_days as i64, age);
            }
        }
        for k in &p.pending_invitations {
            if let (Some(i), Some(t)) = (&k.invited, after) {
                prop_assert!(
                    i.age_days <= t,
                    "a kept invitation older than the threshold"
                );
            }
            let stale = p.warnings.iter().any(|w| matches!(w, crate::plan::Warning::StaleInvitation { email, .. } if email == &k.email));
            let old = k
                .invited
                .as_ref()
                .is_some_and(|i| i.age_days > crate::plan::STALE_INVITATION_DAYS);
            prop_assert_eq!(stale, after.is_none() && old);
        }
        // Re-sent invitations are new (age unknown in the model): the next plan is empty.
        let again = plan(
            &d,
            &simulate(&org, p.changes.iter().map(|c| &c.change)),
            &opts,
        );
        prop_assert!(again.is_empty(), "second plan: {:?}", again.changes);
        let mut hit = Vec::new();
        hit.extend((p.summary.resend > 0).then_some("resend"));
        for k in &p.pending_invitations {
            hit.push(if k.invited.is_some() {
                "kept, aged"
            } else {
                "kept, age unknown"
            });
        }
        let stale =
            |w: &crate::plan::Warning| matches!(w, crate::plan::Warning::StaleInvitation { .. });
        hit.extend(p.warnings.iter().any(stale).then_some("stale warning"));
        Ok(hit)
    });
}
