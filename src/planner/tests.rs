//! One test per row of the plan table (docs/contract.md §4), the self and protected rules,
//! expiry, and the guards of §5.

use super::*;
use crate::desired::{Desired, DesiredMember, MaxRemovals};
use crate::formats::plan::ChangeWire;
use crate::glob::Glob;
use crate::live::{LiveInvitation, LiveMember, LiveState};
use crate::plan::{Action, GuardKind, Phase, Plan, SelfFrom};

fn today() -> Date {
    Date::parse("2027-03-31").unwrap()
}

fn opts() -> PlanOptions {
    PlanOptions::new(today())
}

use super::plan_live as plan;

pub(crate) mod properties;

/// Splitting by action is the stable sort by (action, email), for changes made in email
/// order, and still sorted when they are not.
#[test]
fn plan_order_is_the_stable_sort_by_action_then_email() {
    let invite = |e: &str| {
        Change::Invite(Invite {
            email: Email::new(e),
            role: Role::Member,
            reason: Some(e.to_string()),
            part: None,
            replaces: None,
        })
    };
    let remove = |e: &str, id: &str| {
        Change::Remove(Remove {
            email: Email::new(e),
            id: id.into(),
            role: crate::role::LiveRole::parse("org:member"),
            departure: Departure::NotDesired,
            reason: None,
            part: None,
        })
    };
    let sorted = |v: &[Change]| {
        let mut v = v.to_vec();
        v.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        v
    };
    let in_email_order = vec![
        remove("a@x.io", "1"),
        invite("b@x.io"),
        remove("b@x.io", "2"),
        remove("b@x.io", "3"),
        invite("c@x.io"),
    ];
    assert_eq!(
        in_plan_order(in_email_order.clone()),
        sorted(&in_email_order)
    );
    let shuffled = vec![
        invite("c@x.io"),
        remove("b@x.io", "3"),
        invite("b@x.io"),
        remove("a@x.io", "1"),
    ];
    assert_eq!(in_plan_order(shuffled.clone()), sorted(&shuffled));
}

fn member(id: &str, email: &str, role: &str) -> LiveMember {
    LiveMember::new(id, email, role)
}

fn invitation(id: &str, email: &str, role: &str) -> LiveInvitation {
    LiveInvitation::new(id, email, role)
}

fn live(members: Vec<LiveMember>, invitations: Vec<LiveInvitation>) -> LiveState {
    LiveState {
        members,
        invitations,
    }
}

/// A change as the JSON plan shows it.
fn wire(c: &Change) -> ChangeWire {
    ChangeWire::from(c)
}

/// `(action, email, id)` of each change to send.
fn actions(p: &Plan) -> Vec<(Action, &str, Option<&str>)> {
    p.changes
        .iter()
        .map(|c| (c.change.action(), c.change.email().as_str(), c.change.id()))
        .collect()
}

const A: &str = "org:admin";
const M: &str = "org:member";

fn admin_live() -> LiveMember {
    member("u_root", "root@example.com", A)
}

fn with_root(mut list: Vec<(&str, Role)>) -> Desired {
    list.push(("root@example.com", Role::Admin));
    Desired::of(&list)
}

#[test]
fn desired_not_live_is_invited() {
    let p = plan(
        &with_root(vec![("jane@example.com", Role::Member)]),
        &live(vec![admin_live()], vec![]),
        &opts(),
    );
    assert_eq!(
        actions(&p),
        vec![(Action::Invite, "jane@example.com", None)]
    );
    assert_eq!(wire(&p.changes[0].change).role, Some(Role::Member));
    assert_eq!(p.summary.invite, 1);
    assert_eq!(p.summary.unchanged, 1);
}

#[test]
fn member_with_another_role_gets_update_role() {
    let l = live(
        vec![admin_live(), member("u1", "bob@example.com", M)],
        vec![],
    );
    let p = plan(
        &with_root(vec![("bob@example.com", Role::Admin)]),
        &l,
        &opts(),
    );
    assert_eq!(
        actions(&p),
        vec![(Action::UpdateRole, "bob@example.com", Some("u1"))]
    );
    assert_eq!(wire(&p.changes[0].change).from_role.as_deref(), Some(M));
    assert_eq!(wire(&p.changes[0].change).role, Some(Role::Admin));
    assert_eq!(
        p.changes[0].change.phase(),
        Phase::Grant,
        "a promotion runs first"
    );
}

#[test]
fn pending_invitation_with_the_same_role_is_left_alone() {
    let l = live(
        vec![admin_live()],
        vec![invitation("i1", "ann@example.com", M)],
    );
    let p = plan(
        &with_root(vec![("ann@example.com", Role::Member)]),
        &l,
        &opts(),
    );
    assert!(p.is_empty(), "{p:?}");
    assert_eq!(p.summary.unchanged, 2);
}

#[test]
fn pending_invitation_with_another_role_is_replaced() {
    let l = live(
        vec![admin_live()],
        vec![invitation("i1", "ann@example.com", M)],
    );
    let p = plan(
        &with_root(vec![("ann@example.com", Role::Admin)]),
        &l,
        &opts(),
    );
    assert_eq!(
        actions(&p),
        vec![
            (Action::Invite, "ann@example.com", None),
            (Action::Revoke, "ann@example.com", Some("i1"))
        ]
    );
    assert!(p.changes.iter().all(|c| c.change.is_replacement()));
    assert!(
        p.changes.iter().all(|c| c.change.phase() == Phase::Grant),
        "a replacement is one early step"
    );
    let steps = crate::executor::steps(&p);
    assert_eq!(steps.len(), 1);
    assert_eq!(
        steps[0].changes[0].action(),
        Action::Revoke,
        "revoke, then invite"
    );
}

#[test]
fn member_not_desired_is_removed() {
    let l = live(
        vec![admin_live(), member("u9", "eve@example.com", M)],
        vec![],
    );
    let p = plan(&with_root(vec![]), &l, &opts());
    assert_eq!(
        actions(&p),
        vec![(Action::Remove, "eve@example.com", Some("u9"))]
    );
    assert_eq!(wire(&p.changes[0].change).cause, "not in the desired file");
    assert_eq!(p.changes[0].change.phase(), Phase::Remove);
}

#[test]
fn invitation_not_desired_is_revoked() {
    let l = live(
        vec![admin_live()],
        vec![invitation("i5", "old@example.com", M)],
    );
    let p = plan(&with_root(vec![]), &l, &opts());
    assert_eq!(
        actions(&p),
        vec![(Action::Revoke, "old@example.com", Some("i5"))]
    );
    assert_eq!(p.summary.revoke, 1);
}

#[test]
fn member_and_invitation_for_one_email_reconcile_the_member_and_revoke_the_invitation() {
    let l = live(
        vec![admin_live(), member("u1", "bob@example.com", M)],
        vec![invitation("i1", "BOB@example.com", A)],
    );
    let p = plan(
        &with_root(vec![("bob@example.com", Role::Admin)]),
        &l,
        &opts(),
    );
    assert_eq!(
        actions(&p),
        vec![
            (Action::UpdateRole, "bob@example.com", Some("u1")),
            (Action::Revoke, "bob@example.com", Some("i1"))
        ]
    );
}

#[test]
fn several_invitations_keep_one_that_matches_and_revoke_the_rest() {
    let l = live(
        vec![admin_live()],
        vec![
            invitation("i1", "ann@example.com", A),
            invitation("i2", "ann@example.com", M),
            invitation("i3", "Ann@Example.com", M),
        ],
    );
    let p = plan(
        &with_root(vec![("ann@example.com", Role::Member)]),
        &l,
        &opts(),
    );
    // Ages unknown: the one listed last (the API lists in creation order) is kept.
    assert_eq!(
        actions(&p),
        vec![
            (Action::Revoke, "ann@example.com", Some("i1")),
            (Action::Revoke, "ann@example.com", Some("i2"))
        ]
    );
    assert!(p.changes.iter().all(|c| !c.change.is_replacement()));
}

/// docs/contract.md §4: of several fitting invitations the newest is kept, whatever the list
/// order; one of unknown age counts as the oldest. Keeping the oldest re-sent it and killed
/// the link just sent (issue 28 item 3).
#[test]
fn several_fitting_invitations_keep_the_newest() {
    let l = live(
        vec![admin_live()],
        vec![
            aged("old", "ann@example.com", M, Some(60)),
            aged("new", "ann@example.com", M, Some(1)),
            aged("mid", "ann@example.com", M, Some(20)),
            aged("unknown", "ann@example.com", M, None),
        ],
    );
    let mut d = with_root(vec![("ann@example.com", Role::Member)]);
    d.invitations.resend_after_days = Some(30);
    let p = plan(&d, &l, &opts());
    assert_eq!(
        actions(&p),
        vec![
            (Action::Revoke, "ann@example.com", Some("old")),
            (Action::Revoke, "ann@example.com", Some("mid")),
            (Action::Revoke, "ann@example.com", Some("unknown")),
        ]
    );
    assert_eq!(
        p.summary.resend, 0,
        "the kept one is fresh: nothing re-sent"
    );
    assert_eq!(p.pending_invitations.len(), 1);
    assert_eq!(
        p.pending_invitations[0].invited.as_ref().unwrap().age_days,
        1
    );
}

#[test]
fn several_invitations_none_matching_are_replaced_by_one_invite() {
    let l = live(
        vec![admin_live()],
        vec![
            invitation("i1", "ann@example.com", A),
            invitation("i2", "ann@example.com", A),
        ],
    );
    let p = plan(
        &with_root(vec![("ann@example.com", Role::Member)]),
        &l,
        &opts(),
    );
    assert_eq!(p.summary.invite, 1);
    assert_eq!(p.summary.revoke, 2);
    assert_eq!(
        crate::executor::steps(&p).len(),
        2,
        "one replacement step and one plain revocation"
    );
}

#[test]
fn ignored_emails_are_never_touched_and_counted() {
    let mut d = with_root(vec![]);
    d.ignore.push(Glob::new("*@Vendor.IO"));
    let l = live(
        vec![admin_live(), member("u7", "Support@vendor.io", A)],
        vec![invitation("i7", "bot@VENDOR.io", M)],
    );
    let p = plan(&d, &l, &opts());
    assert!(p.is_empty(), "{p:?}");
    assert_eq!(p.summary.ignored, 2);
}

#[test]
fn emails_match_trimmed_and_case_insensitively() {
    let l = live(vec![member("u1", "  Jane@Example.COM ", A)], vec![]);
    let p = plan(
        &Desired::of(&[(" jane@EXAMPLE.com", Role::Admin)]),
        &l,
        &opts(),
    );
    assert!(p.is_empty(), "{p:?}");
}

#[test]
fn unknown_live_role_is_reconciled_to_the_desired_one() {
    let l = live(
        vec![admin_live(), member("u1", "bob@example.com", "org:billing")],
        vec![],
    );
    let p = plan(
        &with_root(vec![("bob@example.com", Role::Member)]),
        &l,
        &opts(),
    );
    assert_eq!(
        actions(&p),
        vec![(Action::UpdateRole, "bob@example.com", Some("u1"))]
    );
    assert_eq!(
        wire(&p.changes[0].change).from_role.as_deref(),
        Some("org:billing")
    );
}

#[test]
fn self_is_never_demoted_promoted_or_removed() {
    let mut o = opts();
    o.self_email = Some(Email::new("Me@Example.com"));
    let l = live(
        vec![admin_live(), member("u_me", "me@example.com", A)],
        vec![],
    );
    let p = plan(&with_root(vec![("me@example.com", Role::Member)]), &l, &o);
    assert!(p.changes.is_empty());
    assert_eq!(p.blocked.len(), 1);
    assert_eq!(p.blocked[0].why, BlockReason::OwnRole(SelfFrom::Flag));
    assert!(!p.is_empty(), "a blocked change is still drift");

    let p = plan(&with_root(vec![]), &l, &o);
    assert!(p.changes.is_empty());
    assert_eq!(p.blocked[0].change.action(), Action::Remove);

    let l = live(
        vec![admin_live(), member("u_me", "me@example.com", M)],
        vec![],
    );
    let p = plan(&with_root(vec![("me@example.com", Role::Admin)]), &l, &o);
    assert_eq!(p.blocked.len(), 1, "the API refuses promotion of self too");
}

#[test]
fn protected_emails_are_never_demoted_removed_or_revoked_but_may_be_promoted() {
    let mut d = with_root(vec![("glass@example.com", Role::Member)]);
    d.protected.push(Email::new("glass@example.com"));
    d.protected.push(Email::new("vault@example.com"));
    let l = live(
        vec![
            admin_live(),
            member("u1", "glass@example.com", A),
            member("u2", "vault@example.com", M),
        ],
        vec![],
    );
    let p = plan(&d, &l, &opts());
    assert!(p.changes.is_empty(), "{:?}", p.changes);
    assert_eq!(p.blocked.len(), 2);
    assert!(p.blocked.iter().all(|b| b.why == BlockReason::Protected));
    // A protected email missing from `members` is the loader's warning, with its position;
    // the plan does not say it again.
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);

    let mut d = with_root(vec![("glass@example.com", Role::Admin)]);
    d.protected.push(Email::new("glass@example.com"));
    let l = live(
        vec![admin_live(), member("u1", "glass@example.com", M)],
        vec![invitation("i1", "glass@example.com", M)],
    );
    let p = plan(&d, &l, &opts());
    assert_eq!(
        actions(&p),
        vec![(Action::UpdateRole, "glass@example.com", Some("u1"))]
    );
    assert_eq!(
        p.blocked.len(),
        1,
        "the redundant invitation is not revoked either"
    );
}

#[test]
fn protected_invitation_replacement_is_blocked_as_a_whole() {
    let mut d = with_root(vec![("glass@example.com", Role::Admin)]);
    d.protected.push(Email::new("glass@example.com"));
    let l = live(
        vec![admin_live()],
        vec![invitation("i1", "glass@example.com", M)],
    );
    let p = plan(&d, &l, &opts());
    assert!(p.changes.is_empty(), "{:?}", p.changes);
    assert_eq!(p.blocked.len(), 2);
}

fn expiring(email: &str, date: &str, reason: Option<&str>) -> DesiredMember {
    let mut m = DesiredMember::new(email, Role::Member);
    m.expires = Date::parse(date);
    m.reason = reason.map(str::to_owned);
    m
}

#[test]
fn expires_keeps_through_the_day_and_removes_from_the_next() {
    let l = live(vec![admin_live(), member("u1", "c@example.com", M)], vec![]);
    for (date, removed) in [
        ("2027-03-30", true),
        ("2027-03-31", false),
        ("2027-04-01", false),
    ] {
        let mut d = with_root(vec![]);
        d.members
            .push(expiring("c@example.com", date, Some("Acme contract")));
        let p = plan(&d, &l, &opts());
        if removed {
            assert_eq!(
                actions(&p),
                vec![(Action::Remove, "c@example.com", Some("u1"))],
                "{date}"
            );
            assert_eq!(
                wire(&p.changes[0].change).reason.as_deref(),
                Some(format!("expired on {date}: Acme contract").as_str())
            );
        } else {
            assert!(p.is_empty(), "{date}: {p:?}");
        }
    }
}

#[test]
fn expired_invitation_is_revoked_and_expired_absentee_is_not_invited() {
    let mut d = with_root(vec![]);
    d.members
        .push(expiring("c@example.com", "2027-01-01", None));
    d.members
        .push(expiring("never@example.com", "2027-01-01", None));
    let l = live(
        vec![admin_live()],
        vec![invitation("i1", "c@example.com", M)],
    );
    let p = plan(&d, &l, &opts());
    assert_eq!(
        actions(&p),
        vec![(Action::Revoke, "c@example.com", Some("i1"))]
    );
    assert_eq!(
        wire(&p.changes[0].change).reason.as_deref(),
        Some("expired on 2027-01-01")
    );
}

#[test]
fn reasons_from_the_file_ride_on_changes() {
    let mut d = with_root(vec![]);
    let mut m = DesiredMember::new("carol@example.com", Role::Member);
    m.reason = Some("new SRE".into());
    d.members.push(m);
    let p = plan(&d, &live(vec![admin_live()], vec![]), &opts());
    assert_eq!(
        wire(&p.changes[0].change).reason.as_deref(),
        Some("new SRE")
    );
}

fn org_of(n: usize) -> LiveState {
    let mut members = vec![admin_live()];
    for i in 1..n {
        members.push(member(&format!("u{i}"), &format!("m{i}@example.com"), M));
    }
    live(members, vec![])
}

fn keep_first(n_keep: usize, org: &LiveState) -> Desired {
    Desired::of(
        &org.members
            .iter()
            .take(n_keep)
            .map(|m| {
                (
                    m.email.as_str(),
                    if m.role.is(Role::Admin) {
                        Role::Admin
                    } else {
                        Role::Member
                    },
                )
            })
            .collect::<Vec<_>>(),
    )
}

fn guard(p: &Plan, kind: GuardKind) -> &crate::plan::Guard {
    p.guards.iter().find(|g| g.kind() == kind).unwrap()
}

#[test]
fn default_removal_guard_is_max_of_three_and_a_quarter() {
    // 12 members: the limit is max(3, 3) = 3.
    let org = org_of(12);
    let p = plan(&keep_first(9, &org), &org, &opts());
    assert_eq!(p.summary.remove, 3);
    assert!(!guard(&p, GuardKind::MaxRemovals).tripped());
    let p = plan(&keep_first(8, &org), &org, &opts());
    assert!(guard(&p, GuardKind::MaxRemovals).tripped());
    assert_eq!(p.refusing_guards().count(), 1);
    assert!(
        p.warnings[0].to_string().starts_with("mass removal"),
        "{:?}",
        p.warnings
    );
    // 40 members: the limit is 10.
    let org = org_of(40);
    assert!(
        !guard(
            &plan(&keep_first(30, &org), &org, &opts()),
            GuardKind::MaxRemovals
        )
        .tripped()
    );
    assert!(
        guard(
            &plan(&keep_first(29, &org), &org, &opts()),
            GuardKind::MaxRemovals
        )
        .tripped()
    );
    // 4 members: removing 3 is allowed by the floor of 3.
    let org = org_of(4);
    assert!(
        !guard(
            &plan(&keep_first(1, &org), &org, &opts()),
            GuardKind::MaxRemovals
        )
        .tripped()
    );
}

#[test]
fn default_removal_guard_is_capped_at_fifty() {
    // 2,993 members: a quarter is 748, the cap 50; 302 removals are refused by default.
    let org = org_of(2993);
    let p = plan(&keep_first(2691, &org), &org, &opts());
    assert_eq!(p.summary.remove, 302);
    let g = guard(&p, GuardKind::MaxRemovals);
    assert!(g.tripped());
    assert_eq!(g.limit(), 50);
    assert_eq!(g.limit_from(), Some(crate::plan::LimitFrom::Default));
    assert!(
        g.removal_limit()
            .unwrap()
            .starts_with("removal limit 50: the default"),
        "{g}"
    );
    // 50 of them pass, 51 do not.
    assert!(
        !guard(
            &plan(&keep_first(2943, &org), &org, &opts()),
            GuardKind::MaxRemovals
        )
        .tripped()
    );
    assert!(
        guard(
            &plan(&keep_first(2942, &org), &org, &opts()),
            GuardKind::MaxRemovals
        )
        .tripped()
    );
    // Below 200 members the quarter is the limit, as before: 160 members allow 40.
    let org = org_of(160);
    let p = plan(&keep_first(120, &org), &org, &opts());
    let g = guard(&p, GuardKind::MaxRemovals);
    assert!(!g.tripped());
    assert_eq!(g.limit(), 40);
    // The file's own limit is not capped.
    let org = org_of(2993);
    let mut d = keep_first(2691, &org);
    d.safety.max_removals = Some(MaxRemovals::Count(400));
    let p = plan(&d, &org, &opts());
    let g = guard(&p, GuardKind::MaxRemovals);
    assert!(!g.tripped());
    assert_eq!(g.limit_from(), Some(crate::plan::LimitFrom::File));
    assert_eq!(
        g.removal_limit().unwrap(),
        "removal limit 400: safety.max_removals"
    );
}

#[test]
fn removal_guard_counts_only_removals_of_members() {
    let org = org_of(4);
    let mut l = org.clone();
    for i in 0..10 {
        l.invitations.push(invitation(
            &format!("i{i}"),
            &format!("inv{i}@example.com"),
            M,
        ));
    }
    let mut d = keep_first(4, &org);
    d.ignore.push(Glob::new("m3@example.com"));
    d.members.retain(|m| m.email.as_str() != "m3@example.com");
    let p = plan(&d, &l, &opts());
    assert_eq!(p.summary.revoke, 10);
    assert_eq!(p.summary.remove, 0);
    assert!(!guard(&p, GuardKind::MaxRemovals).tripped());
}

#[test]
fn safety_max_removals_count_and_percent_and_override() {
    let org = org_of(20);
    let mut d = keep_first(18, &org);
    d.safety.max_removals = Some(MaxRemovals::Count(1));
    let p = plan(&d, &org, &opts());
    assert!(guard(&p, GuardKind::MaxRemovals).tripped());
    assert_eq!(guard(&p, GuardKind::MaxRemovals).limit(), 1);
    d.safety.max_removals = Some(MaxRemovals::Percent(10));
    assert!(
        !guard(&plan(&d, &org, &opts()), GuardKind::MaxRemovals).tripped(),
        "2 of 20 is 10%"
    );
    d.members.pop();
    let p = plan(&d, &org, &opts());
    assert!(
        guard(&p, GuardKind::MaxRemovals).tripped(),
        "3 of 20 is more than 10%"
    );
    let mut o = opts();
    o.allow_mass_removal = true;
    let p = plan(&d, &org, &o);
    let g = guard(&p, GuardKind::MaxRemovals);
    assert!(g.tripped() && g.overridden());
    assert_eq!(p.refusing_guards().count(), 0);
}

#[test]
fn min_admins_guard_counts_admin_members_after_the_plan_not_invitations() {
    let l = live(
        vec![
            member("u1", "a@example.com", A),
            member("u2", "b@example.com", A),
        ],
        vec![],
    );
    let mut d = Desired::of(&[
        ("a@example.com", Role::Admin),
        ("b@example.com", Role::Member),
        ("new@example.com", Role::Admin),
    ]);
    d.safety.min_admins = 2;
    let mut o = opts();
    o.allow_mass_removal = true;
    let p = plan(&d, &l, &o);
    assert_eq!(p.admins_after, 1);
    let g = guard(&p, GuardKind::MinAdmins);
    assert!(
        g.tripped() && !g.overridden(),
        "--allow-mass-removal never lifts the admin guard"
    );
    assert_eq!(p.refusing_guards().count(), 1);
    d.safety.min_admins = 1;
    assert_eq!(plan(&d, &l, &o).refusing_guards().count(), 0);
}

#[test]
fn min_admins_guard_trips_when_the_plan_removes_or_demotes_admins_below_the_minimum() {
    let l = live(
        vec![
            member("u1", "a@example.com", A),
            member("u2", "b@example.com", A),
            member("u3", "c@example.com", A),
        ],
        vec![],
    );
    // b is removed (not listed), c demoted: 3 admins become 1.
    let mut d = Desired::of(&[
        ("a@example.com", Role::Admin),
        ("c@example.com", Role::Member),
    ]);
    d.safety.min_admins = 2;
    let p = plan(&d, &l, &opts());
    assert_eq!(p.admins_after, 1);
    let g = guard(&p, GuardKind::MinAdmins);
    assert!(g.tripped() && !g.overridden(), "{g:?}");
    assert_eq!((g.value(), g.limit()), (1, 2));
    assert!(
        p.warnings[0]
            .to_string()
            .starts_with("too few admins: the plan leaves 1 admin member"),
        "{:?}",
        p.warnings
    );
    assert_eq!(p.refusing_guards().count(), 1);
    // Reducing, but not below the minimum: no trip, no warning.
    d.members
        .push(DesiredMember::new("b@example.com", Role::Admin));
    let p = plan(&d, &l, &opts());
    assert_eq!(p.admins_after, 2);
    assert!(!guard(&p, GuardKind::MinAdmins).tripped());
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    // Already below the minimum and the plan lowers it further: still refused, even with
    // --allow-mass-removal.
    d.safety.min_admins = 4;
    let mut o = opts();
    o.allow_mass_removal = true;
    let p = plan(&d, &l, &o);
    let g = guard(&p, GuardKind::MinAdmins);
    assert!(g.tripped() && !g.overridden(), "{g:?}");
    assert_eq!(p.refusing_guards().count(), 1);
}

#[test]
fn min_admins_already_below_without_a_reduction_warns_and_does_not_trip() {
    // The file raises min_admins to 2 and invites a second admin: the invitation does not
    // count until accepted, but the plan takes no admin away, so apply must go ahead.
    let l = live(
        vec![admin_live(), member("u1", "bob@example.com", M)],
        vec![],
    );
    let mut d = with_root(vec![
        ("bob@example.com", Role::Member),
        ("second@example.com", Role::Admin),
    ]);
    d.safety.min_admins = 2;
    let p = plan(&d, &l, &opts());
    assert_eq!(p.admins_after, 1);
    let g = guard(&p, GuardKind::MinAdmins);
    assert!(!g.tripped(), "{g:?}");
    assert_eq!(p.refusing_guards().count(), 0);
    assert_eq!(
        p.warnings,
        vec![Warning::BelowMinAdmins { admins: 1, min: 2 }]
    );
    assert_eq!(
        p.warnings[0].to_string(),
        "the org has 1 admin member, fewer than min_admins 2; pending admin invitations count once accepted"
    );
    // The same with nothing to do at all (the invitation is pending): still a warning only.
    let pending = live(
        vec![admin_live(), member("u1", "bob@example.com", M)],
        vec![invitation("i1", "second@example.com", A)],
    );
    let p = plan(&d, &pending, &opts());
    assert!(p.is_empty(), "{p:?}");
    assert_eq!(p.refusing_guards().count(), 0);
    assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
    // A promotion that raises the count, still short of the minimum: a warning, no trip.
    d.members[0].role = Role::Admin;
    d.safety.min_admins = 3;
    let p = plan(&d, &l, &opts());
    assert_eq!(p.admins_after, 2);
    assert_eq!(p.refusing_guards().count(), 0);
    assert_eq!(
        p.warnings,
        vec![Warning::BelowMinAdmins { admins: 2, min: 3 }]
    );
}

#[test]
fn blocked_changes_do_not_count_toward_guards() {
    let l = live(
        vec![
            member("u1", "me@example.com", A),
            member("u2", "b@example.com", M),
        ],
        vec![],
    );
    let d = Desired::of(&[
        ("b@example.com", Role::Member),
        ("c@example.com", Role::Admin),
    ]);
    let mut o = opts();
    o.self_email = Some(Email::new("me@example.com"));
    let p = plan(&d, &l, &o);
    assert_eq!(
        p.admins_after, 1,
        "the blocked removal of self keeps its admin"
    );
    assert_eq!(p.summary.remove, 0);
    assert!(p.refusing_guards().next().is_none());
}

/// An invitation sent `age` days before [`today`] (docs/contract.md §4).
fn aged(id: &str, email: &str, role: &str, age: Option<i64>) -> LiveInvitation {
    let mut i = invitation(id, email, role);
    i.created_at = age.and_then(|a| {
        crate::date::Timestamp::parse(&format!("{}T23:59:59.000Z", today().add_days(-a)))
    });
    i
}

/// An org whose members-to-be each have one pending invitation (`i1`, `i2`, …) of the
/// given age in days (`None`: unknown), and a file that wants each of them as a member.
fn invited_with_ages(ages: &[(&str, Option<i64>)]) -> (LiveState, Desired) {
    let invitations = (1..)
        .zip(ages)
        .map(|(n, (email, age))| aged(&format!("i{n}"), email, M, *age))
        .collect();
    let want = ages
        .iter()
        .map(|(email, _)| (*email, Role::Member))
        .collect();
    (live(vec![admin_live()], invitations), with_root(want))
}

#[test]
fn a_kept_invitation_older_than_resend_after_days_is_re_sent_as_one_change() {
    let (l, mut d) = invited_with_ages(&[
        ("old@example.com", Some(31)),
        ("edge@example.com", Some(30)),
        ("unknown@example.com", None),
    ]);
    d.invitations.resend_after_days = Some(30);
    let p = plan(&d, &l, &opts());
    assert_eq!(
        actions(&p),
        vec![(Action::Resend, "old@example.com", Some("i1"))]
    );
    let w = wire(&p.changes[0].change);
    assert_eq!(w.reason.as_deref(), Some("pending for 31 days"));
    assert_eq!(w.role, Some(Role::Member));
    assert_eq!(w.invited_at.as_deref(), Some("2027-02-28T23:59:59.000Z"));
    assert_eq!(p.changes[0].change.phase(), Phase::Grant);
    assert_eq!((p.summary.resend, p.summary.unchanged), (1, 3));
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    // The other two are kept, with their ages (unknown for one).
    let kept: Vec<_> = p
        .pending_invitations
        .iter()
        .map(|k| (k.email.as_str(), k.invited.as_ref().map(|i| i.age_days)))
        .collect();
    assert_eq!(
        kept,
        [
            ("edge@example.com", Some(30)),
            ("unknown@example.com", None)
        ]
    );
    // The executor sends a re-send as a revoke then an invite.
    let Change::Resend(resend) = &p.changes[0].change else {
        panic!("not a re-send: {:?}", p.changes[0]);
    };
    let (revoke, invite) = resend.parts();
    let parts: Vec<_> = [Change::Revoke(revoke), Change::Invite(invite)]
        .iter()
        .map(|c| (c.action(), c.id().map(str::to_owned)))
        .collect();
    assert_eq!(
        parts,
        [(Action::Revoke, Some("i1".into())), (Action::Invite, None)]
    );
}

#[test]
fn without_resend_after_days_invitations_older_than_30_days_are_warnings() {
    let (l, d) = invited_with_ages(&[
        ("old@example.com", Some(31)),
        ("edge@example.com", Some(30)),
        ("unknown@example.com", None),
        ("future@example.com", Some(-3)),
    ]);
    let p = plan(&d, &l, &opts());
    assert!(p.is_empty(), "{p:?}");
    assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
    assert_eq!(
        p.warnings[0].to_string(),
        "the invitation of old@example.com (org:member) is pending, invited 2027-02-28, 31 days ago, more than 30 days; set `invitations.resend_after_days` to re-send stale invitations"
    );
    assert_eq!(p.pending_invitations.len(), 4);
    let future = p
        .pending_invitations
        .iter()
        .find(|k| k.email.as_str() == "future@example.com")
        .unwrap();
    assert_eq!(future.invited.as_ref().map(|i| i.age_days), Some(0));
}

#[test]
fn revocations_carry_the_invitations_age_and_wrong_roles_are_replaced_not_re_sent() {
    let l = live(
        vec![admin_live()],
        vec![
            aged("i1", "gone@example.com", M, Some(90)),
            aged("i2", "wrong@example.com", M, Some(90)),
        ],
    );
    let mut d = with_root(vec![("wrong@example.com", Role::Admin)]);
    d.invitations.resend_after_days = Some(7);
    let p = plan(&d, &l, &opts());
    assert_eq!(
        actions(&p),
        vec![
            (Action::Invite, "wrong@example.com", None),
            (Action::Revoke, "gone@example.com", Some("i1")),
            (Action::Revoke, "wrong@example.com", Some("i2")),
        ]
    );
    assert_eq!(
        wire(&p.changes[1].change).invited_at.as_deref(),
        Some("2026-12-31T23:59:59.000Z")
    );
    assert_eq!(p.summary.resend, 0);
}

#[test]
fn a_protected_stale_invitation_is_not_re_sent() {
    let l = live(
        vec![admin_live()],
        vec![aged("i1", "glass@example.com", M, Some(90))],
    );
    let mut d = with_root(vec![("glass@example.com", Role::Member)]);
    d.protected.push(Email::new("glass@example.com"));
    d.invitations.resend_after_days = Some(30);
    let p = plan(&d, &l, &opts());
    assert!(p.changes.is_empty(), "{:?}", p.changes);
    // Not a blocked change (a nightly --detailed-exitcode would exit 2 forever): kept, and a
    // warning says it is old and protected (docs/contract.md §9).
    assert!(p.blocked.is_empty(), "{:?}", p.blocked);
    assert_eq!(p.pending_invitations.len(), 1);
    assert!(matches!(
        &p.warnings[..],
        [Warning::ProtectedOldInvitation { after_days: 30, .. }]
    ));
    assert!(p.warnings[0].to_string().contains("old and protected"));
}

#[test]
fn a_self_that_is_neither_member_nor_invited_is_a_warning() {
    let l = live(
        vec![admin_live()],
        vec![invitation("i1", "inv@example.com", M)],
    );
    let d = with_root(vec![("inv@example.com", Role::Member)]);
    let with_self = |e: &str| {
        let mut o = opts();
        o.self_email = Some(Email::new(e));
        plan(&d, &l, &o).warnings
    };
    // A member, compared normalized; the only admin, so it says that too.
    assert_eq!(
        with_self("ROOT@example.com "),
        vec![Warning::OnlyAdminIsSelf {
            email: Email::new("root@example.com")
        }],
    );
    assert_eq!(with_self("inv@example.com"), vec![]);
    let w = with_self("roto@example.com");
    assert_eq!(
        w[0].to_string(),
        "--self roto@example.com is neither a member nor invited: check the email (it should be the API key's own account)"
    );
}

#[test]
fn plans_are_sorted_and_deterministic() {
    let l = live(
        vec![
            admin_live(),
            member("u2", "zed@example.com", M),
            member("u3", "amy@example.com", M),
        ],
        vec![invitation("i1", "old@example.com", M)],
    );
    let d = with_root(vec![
        ("new@example.com", Role::Member),
        ("amy@example.com", Role::Admin),
    ]);
    let p = plan(&d, &l, &opts());
    let order: Vec<_> = p
        .changes
        .iter()
        .map(|c| (c.change.action(), c.change.email().clone()))
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);
    assert_eq!(p, plan(&d, &l, &opts()));
}

/// Expiries ahead of time (docs/contract.md §4): one warning per date, and a warning when the
/// members leaving on one date are more than the removal limit the guard would apply, naming
/// the date, the count and the limit; protected emails and those not in the org do not count.
#[test]
fn expiries_are_one_warning_per_date_and_a_cohort_over_the_limit_is_said_ahead() {
    let org = org_of(12);
    let mut d = keep_first(12, &org);
    // Five members leave after 2027-04-05 (removed from the 6th), two after 2027-04-02.
    for m in d.members.iter_mut().skip(1).take(5) {
        m.expires = Date::parse("2027-04-05");
    }
    for m in d.members.iter_mut().skip(6).take(2) {
        m.expires = Date::parse("2027-04-02");
    }
    // Not in the org: announced, not counted as a removal.
    d.members
        .push(expiring("new@example.com", "2027-04-05", None));
    // Outside the 14-day window: not announced.
    d.members[8].expires = Date::parse("2027-04-14");
    let p = plan(&d, &org, &opts());
    let words: Vec<String> = p.warnings.iter().map(ToString::to_string).collect();
    insta::assert_snapshot!(words.join("\n"), @r"
    2 entries expire on 2027-04-02, in 2 days: m6@example.com, m7@example.com
    6 entries expire on 2027-04-05, in 5 days: m1@example.com, m2@example.com, m3@example.com, m4@example.com, m5@example.com, new@example.com
    5 members whose entries expire on 2027-04-05 are removed on 2027-04-06, more than the removal limit 3 (the default): that day's apply will be refused without --allow-mass-removal; spread the `expires` dates, or raise safety.max_removals before then
    ");
    // The limit is the guard's: with the file's own, the same cohort is within it.
    d.safety.max_removals = Some(MaxRemovals::Count(5));
    assert!(
        plan(&d, &org, &opts())
            .warnings
            .iter()
            .all(|w| !matches!(w, crate::plan::Warning::RemovalsAhead(_)))
    );
    // A protected member is never removed: four left, within a limit of 4.
    d.safety.max_removals = Some(MaxRemovals::Count(4));
    d.protected.push(Email::new("m1@example.com"));
    assert!(
        plan(&d, &org, &opts())
            .warnings
            .iter()
            .all(|w| !matches!(w, crate::plan::Warning::RemovalsAhead(_)))
    );
    d.protected.clear();
    let over = plan(&d, &org, &opts());
    assert!(over.warnings.iter().any(|w| matches!(
        w,
        crate::plan::Warning::RemovalsAhead(a) if (a.removals, a.limit) == (5, 4)
    )));
}

/// On the day the cohort's removal is planned, the guard trips with the same limit the
/// warning named ahead.
#[test]
fn the_limit_said_ahead_is_the_one_the_guard_applies_on_the_day() {
    let org = org_of(12);
    let mut d = keep_first(12, &org);
    for m in d.members.iter_mut().skip(1).take(5) {
        m.expires = Date::parse("2027-04-05");
    }
    let ahead = plan(&d, &org, &opts());
    let said = ahead
        .warnings
        .iter()
        .find_map(|w| match w {
            crate::plan::Warning::RemovalsAhead(a) => Some((a.removals, a.limit)),
            _ => None,
        })
        .expect("said ahead");
    let mut day = opts();
    day.today = Date::parse("2027-04-06").unwrap();
    let on_the_day = plan(&d, &org, &day);
    let g = guard(&on_the_day, GuardKind::MaxRemovals);
    assert!(g.tripped());
    assert_eq!((g.value(), g.limit()), said);
}

/// docs/contract.md §5: a plan after which the only admin left is teamsync's own account
/// warns so; another admin, kept or ignored, or no `--self`, and it does not.
#[test]
fn the_own_account_left_as_the_only_admin_is_a_warning() {
    let l = live(
        vec![admin_live(), member("u2", "ann@example.com", A)],
        vec![],
    );
    let with = |d: &Desired, me: Option<&str>| {
        let mut o = opts();
        o.self_email = me.map(Email::new);
        plan(d, &l, &o)
            .warnings
            .into_iter()
            .filter(|w| matches!(w, Warning::OnlyAdminIsSelf { .. }))
            .count()
    };
    let demoted = with_root(vec![("ann@example.com", Role::Member)]);
    assert_eq!(with(&demoted, Some("root@example.com")), 1);
    assert_eq!(with(&demoted, None), 0);
    let kept = with_root(vec![("ann@example.com", Role::Admin)]);
    assert_eq!(with(&kept, Some("root@example.com")), 0);
    let mut ignored = with_root(vec![]);
    ignored.ignore.push(crate::glob::Glob::new("ann@*"));
    assert_eq!(with(&ignored, Some("root@example.com")), 0);
    let w = Warning::OnlyAdminIsSelf {
        email: Email::new("root@example.com"),
    };
    assert_eq!(
        w.to_string(),
        "after this plan the only admin left is teamsync's own account root@example.com (--self): no person could administer the org; keep a person as org:admin in the file"
    );
}

/// The plan is complete when the planner returns it (docs/contract.md §8, §9): it carries the
/// source and the baseline it was given, and warns about an old snapshot and an invalid
/// baseline right after the tripped guards, before the rest.
#[test]
fn the_plan_carries_its_source_and_baseline_and_warns_about_them_after_the_guards() {
    use crate::date::Timestamp;
    use crate::live::{LiveSource, ReadFrom};
    use crate::plan::BaselineName;
    let org = org_of(12);
    // Eight of twelve removed: the removal guard trips. The self is not in the org.
    let d = keep_first(4, &org);
    let snapshot = |days: i64| LiveSource {
        from: ReadFrom::Snapshot {
            path: "org.json".into(),
        },
        read_at: Timestamp::parse("2027-03-20T00:00:00Z").unwrap(),
        age_seconds: days * 86_400,
    };
    let name = BaselineName {
        path: "base.yaml".into(),
        label: None,
    };
    let mut o = opts();
    o.self_email = Some(Email::new("nobody@example.com"));
    o.source = Some(snapshot(11));
    o.baseline = Some(BaselineGiven {
        name: name.clone(),
        problems: Some(2),
    });
    let p = plan(&d, &org, &o);
    assert_eq!((&p.source, &p.baseline), (&o.source, &Some(name.clone())));
    let kinds: Vec<&str> = p
        .warnings
        .iter()
        .map(|w| match w {
            Warning::Guard(_) => "guard",
            Warning::BaselineInvalid { .. } => "baseline",
            Warning::OldSnapshot { .. } => "snapshot",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["guard", "baseline", "snapshot", "other"]);
    // A snapshot of the week, and a valid baseline: nothing said about them.
    o.source = Some(snapshot(6));
    o.baseline = Some(BaselineGiven {
        name,
        problems: None,
    });
    let p = plan(&d, &org, &o);
    assert!(p.warnings.iter().all(|w| !matches!(
        w,
        Warning::BaselineInvalid { .. } | Warning::OldSnapshot { .. }
    )));
    assert!(p.baseline.is_some() && p.source.is_some());
}
