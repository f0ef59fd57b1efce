//! Property tests. The planner: applying any plan to a model of the live state yields the
//! desired state, and a second plan is empty. The parsers: no input makes them panic.

use crate::date::Date;
use crate::desired::{self, Desired, DesiredMember};
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

const EMAILS: &[&str] = &[
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

fn role() -> impl Strategy<Value = Role> {
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
fn live_state() -> impl Strategy<Value = LiveState> {
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

fn desired_state() -> impl Strategy<Value = Desired> {
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

fn today() -> Date {
    Date::parse("2027-01-01").unwrap()
}

/// Runs `check` on `cases` cases of `strategy` (`PROPTEST_CASES` may ask for another number),
/// and fails unless each branch of `floors` was hit by at least that share of the cases, as
/// `yaml/fast.rs`'s `agrees_on` does: a generator that drifted into trivial cases (no
/// removals, no re-sends, no drift) would otherwise pass while testing little. `check` says
/// which branches its case hit. Beside each floor is the share measured when it was set; the
/// floors sit about five standard deviations below it, since the seed changes from run to run.
fn covering<S: Strategy>(
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
        .map(|c| match c.action() {
            Action::Invite if c.is_replacement() => "replacement",
            Action::Invite => "invite",
            Action::Resend => "resend",
            Action::UpdateRole => "update_role",
            Action::Remove => "remove",
            Action::Revoke => "revoke",
        })
        .collect()
}

/// The origins a plan's entries have: "edit", "drift", "scheduled".
fn origins_hit(p: &crate::plan::Plan) -> Vec<&'static str> {
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
                prop_assert!(!d.is_ignored(c.email()));
            }
            for m in live.members.iter().filter(|m| d.is_ignored(&m.email)) {
                prop_assert!(p.changes.iter().all(|c| c.id() != Some(m.id.as_str())));
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

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn the_loader_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = desired::validate(&String::from_utf8_lossy(&bytes), today());
    }

    #[test]
    fn the_loader_never_panics_on_mutated_documents(
        cuts in prop::collection::vec((0usize..400, 0usize..6, any::<u8>()), 1..6)
    ) {
        let mut text = VALID.as_bytes().to_vec();
        for (at, kind, byte) in cuts {
            let at = at % (text.len() + 1);
            match kind {
                0 => { text.insert(at, byte); }
                1 => { if at < text.len() { text.remove(at); } }
                2 => { let s = b"&a [*a, *a, {k: *a}]"; for (i, b) in s.iter().enumerate() { text.insert((at + i).min(text.len()), *b); } }
                3 => { for (i, b) in "\u{feff}\u{0}\t\"'".bytes().enumerate() { text.insert((at + i).min(text.len()), b); } }
                4 => { text.truncate(at); }
                _ => { let copy = text[..at].to_vec(); text.extend_from_slice(&copy); }
            }
        }
        let _ = desired::validate(&String::from_utf8_lossy(&text), today());
    }

    #[test]
    fn the_list_parser_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..1024)) {
        let _ = crate::api::parse_list_page(&bytes);
    }

    #[test]
    fn the_list_parser_never_panics_on_mutated_json(at in 0usize..300, byte in any::<u8>(), drop in any::<bool>()) {
        let mut text = LIST.as_bytes().to_vec();
        let at = at % text.len();
        if drop { text.remove(at); } else { text[at] = byte; }
        let _ = crate::api::parse_list_page(&text);
    }
}

const VALID: &str = "version: 1
allowed_domains: [example.com, '*.example.org']
ignore: ['*@vendor.io']
protected: [root@example.com]
safety: {max_removals: '10%', min_admins: 1}
members:
  - email: root@example.com
    role: org:admin
  - email: b@x.example.org
    role: org:member
    reason: hello
    expires: 2027-03-31
";

const LIST: &str = r#"{"data":{"members":[{"id":"user_1","email":"a@b.co","role":"org:admin","imageUrl":null}],"invitations":[{"id":"orginv_1","emailAddress":"c@d.co","role":"org:member","status":"pending"}],"nextCursor":null}}"#;

#[test]
fn valid_fixture_loads() {
    let l = desired::validate(VALID, today());
    assert!(l.desired.is_ok(), "{:?}", l.desired);
    assert!(crate::api::parse_list_page(LIST.as_bytes()).is_ok());
}

/// The problems the loader finds in `text`, each as `LINE:COL: message`.
fn problems(text: &str) -> Vec<String> {
    match desired::validate(text, today()).desired {
        Ok(_) => panic!("{:?} was accepted", &text[..text.len().min(80)]),
        Err(errors) => errors
            .iter()
            .map(|d| format!("{}:{}: {}", d.line, d.column, d.message))
            .collect(),
    }
}

#[test]
fn hostile_documents_are_refused_without_panicking() {
    // Deep nesting.
    let deep = format!(
        "version: 1\nmembers: {}{}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    // granit-parser's own limit comes first in flow style; teamsync's (32 levels) in block style.
    assert_eq!(
        problems(&deep),
        ["2:265: invalid YAML: recursion limit exceeded at line 2, column 265"]
    );
    let deep_block: String = (0..5000)
        .map(|i| format!("{}- \n", "  ".repeat(i)))
        .collect();
    assert_eq!(
        problems(&deep_block),
        [
            "33:65: invalid YAML: lists and mappings are nested more than 32 levels deep at line 33, column 65"
        ]
    );
    // An alias bomb.
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..30 {
        bomb.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n",
            p = i - 1
        ));
    }
    assert_eq!(
        problems(&bomb),
        [
            "7:20: invalid YAML: the document has more than 4000000 values (counting each use of an alias) at line 7, column 20"
        ]
    );
    // A huge string, binary, an empty document, a document that is just a scalar.
    let huge = format!(
        "version: 1\nmembers:\n  - email: {}@example.com\n    role: org:admin\n",
        "a".repeat(5_000_000)
    );
    assert_eq!(
        problems(&huge),
        ["3:12: email is 5000012 characters long; the API accepts at most 320"]
    );
    for (text, want) in [
        (
            "\u{0}\u{1}\u{2}\u{ff}",
            &["1:1: invalid YAML: unexpected character: `\\u{0}' at line 1, column 1"][..],
        ),
        (
            "",
            &["1:1: the file is empty; it needs `version: 1` and a `members` list"],
        ),
        (
            "~",
            &["1:1: the file is empty; it needs `version: 1` and a `members` list"],
        ),
        ("42", &["1:1: the file must be a mapping, found a number"]),
        (
            "- a\n- b",
            &["1:1: the file must be a mapping, found a list"],
        ),
        (
            "version: 1\nmembers: 7",
            &["2:10: `members` must be a list, found a number"],
        ),
        (
            "? [a]\n: b",
            &[
                "1:1: missing required field `members` (a list of `email` and `role`)",
                "1:1: missing required field `version` (use `version: 1`)",
                "1:3: the file has a key that is a list, not a field name",
            ],
        ),
    ] {
        assert_eq!(problems(text), want, "{text:?}");
    }
}

#[test]
fn a_50_mb_file_is_refused_or_read_without_panicking() {
    let mut text = String::with_capacity(51 << 20);
    text.push_str("version: 1\nmembers:\n");
    let mut n = 0;
    while text.len() < 50 << 20 {
        text.push_str(&format!(
            "  - email: user{n}@example.com\n    role: org:member\n    reason: {}\n",
            "r".repeat(400)
        ));
        n += 1;
    }
    // There is no admin in it: that error, reached without crashing.
    assert_eq!(
        problems(&text),
        ["3:3: no member has role `org:admin`; the API requires at least one admin"]
    );
}

#[test]
fn a_list_of_200k_members_parses() {
    let mut body = String::from(r#"{"data":{"members":["#);
    for i in 0..200_000 {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&format!(r#"{{"id":"user_{i}","email":"u{i}@example.com","firstName":"U","lastName":null,"imageUrl":null,"role":"org:member","joinedAt":"2025-01-15T09:30:00.000Z"}}"#));
    }
    body.push_str(r#"],"invitations":[],"nextCursor":null}}"#);
    let (state, next) = crate::api::parse_list_page(body.as_bytes()).unwrap();
    assert_eq!(state.members.len(), 200_000);
    assert!(next.is_none());
}

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
            (!p.compared.as_ref().unwrap().already_in_org.is_empty()).then_some("already in org"),
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

/// Reasons a hostile or careless author might write: mentions, markup, backticks, length.
const REASONS: &[&str] = &[
    "ping @acme/everyone",
    "see <img src=x onerror=alert(1)> @bob",
    "``code`` and `more` @x",
    "[link](https://evil.io) &#64;team \\@team",
    "# heading\n- list @y",
];

/// A desired state as [`desired_state`] makes one, with what a pull request may also touch:
/// reasons (hostile ones among them), `expires` in the past or the future, `protected`,
/// `invitations.resend_after_days` and `safety.min_admins`.
fn rich_desired() -> impl Strategy<Value = Desired> {
    (
        desired_state(),
        prop::collection::vec((0..REASONS.len() + 2, 0..4u8, any::<bool>()), EMAILS.len()),
        prop::option::of(0..EMAILS.len()),
        prop::option::of(prop_oneof![Just(10u64), Just(60u64)]),
        1..3u64,
    )
        .prop_map(|(mut d, extras, protect, resend, min_admins)| {
            for (m, (reason, expires, long)) in d.members.iter_mut().zip(extras) {
                m.reason = REASONS.get(reason).map(|r| {
                    if long {
                        format!("{r} {}", "y".repeat(400))
                    } else {
                        r.to_string()
                    }
                });
                m.expires = match expires {
                    0 => Date::parse("2026-12-01"),
                    1 => Date::parse("2027-06-01"),
                    _ => None,
                };
            }
            d.protected.extend(protect.map(|p| Email::new(EMAILS[p])));
            d.invitations.resend_after_days = resend;
            d.safety.min_admins = min_admins;
            d
        })
}

/// [`live_state`] with some invitations' ages known, so that re-sends happen.
fn aged_live() -> impl Strategy<Value = LiveState> {
    (live_state(), prop::collection::vec(any::<bool>(), 6)).prop_map(|(mut l, old)| {
        for (i, old) in l.invitations.iter_mut().zip(old) {
            let at = if old {
                "2026-09-01T00:00:00Z"
            } else {
                "2026-12-28T00:00:00Z"
            };
            i.created_at = crate::date::Timestamp::parse(at);
        }
        l
    })
}

/// The comment with every `<details>` section taken out: what a reviewer reads without
/// opening anything.
fn outside_details(md: &str) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    for line in md.lines() {
        if line.starts_with("<details>") {
            depth += 1;
        } else if line.starts_with("</details>") {
            depth = depth.saturating_sub(1);
        } else if depth == 0 {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The text outside code spans, as CommonMark reads them: a run of N backticks opens a span
/// that the next run of exactly N closes (an unclosed run is literal).
fn outside_code(text: &str) -> String {
    let b = text.as_bytes();
    let run = |at: usize| b[at..].iter().take_while(|c| **c == b'`').count();
    let mut out = String::new();
    let mut i = 0;
    let mut from = 0;
    while i < b.len() {
        if b[i] != b'`' {
            i += 1;
            continue;
        }
        let n = run(i);
        let mut j = i + n;
        let close = loop {
            if j >= b.len() {
                break None;
            }
            if b[j] == b'`' {
                let m = run(j);
                if m == n {
                    break Some(j);
                }
                j += m;
            } else {
                j += 1;
            }
        };
        match close {
            Some(j) => {
                out.push_str(&text[from..i]);
                i = j + n;
                from = i;
            }
            None => i += n,
        }
    }
    out.push_str(&text[from..]);
    out
}

/// Every count the Markdown heading gives, by name, as the numbers before each word.
fn heading_counts(md: &str) -> BTreeMap<String, usize> {
    let head = md.lines().nth(1).unwrap_or_default();
    let inner = head
        .rsplit_once('(')
        .map_or("", |(_, r)| r.trim_end_matches(')'));
    inner
        .split([',', ';'])
        .filter_map(|part| {
            let mut words = part.split_whitespace();
            let n: usize = words.next()?.parse().ok()?;
            Some((words.collect::<Vec<_>>().join(" "), n))
        })
        .collect()
}

/// docs/contract.md §6, §8: for any baseline, edit and org, the pull-request comment read
/// outside `<details>` names (in a code span) every email whose change is a removal, a
/// demotion, a revocation, an admin grant or blocked, and every "no longer done" entry
/// that keeps access; nothing outside a code span can mention anyone (`@`); and its counts
/// are the JSON plan's.
#[test]
fn the_comment_in_sight_names_everything_a_reviewer_must_see() {
    let floors = [
        ("edit", 0.85),      // 0.94
        ("drift", 0.8),      // 0.9
        ("scheduled", 0.13), // 0.22
        // Rare (12 of 500): the floor catches re-sends disappearing altogether.
        ("resend", 0.004),                // 0.024
        ("blocked", 0.2),                 // 0.31
        ("no longer, keeps access", 0.5), // 0.62
        ("rules changed", 0.9),           // 0.98
    ];
    let cases = (
        aged_live(),
        rich_desired(),
        rich_desired(),
        prop::option::of(0..EMAILS.len()),
    );
    covering(500, cases, &floors, |(live, d, b, who)| {
        use crate::formats::plan::Fingerprints;
        use crate::formats::plan::PlanDocument;
        use crate::plan::Change;
        use crate::render::markdown_code as code;
        let mut opts = PlanOptions::new(today());
        opts.self_email = who.map(|w| Email::new(EMAILS[w]));
        let org = Managed::new(live.clone(), &d.ignore);
        let base_org = Managed::new(live, &b.ignore);
        let mut p = plan(&d, &org, &opts);
        let base = plan(&b, &base_org, &opts);
        crate::origin::classify(&mut p, &base, &d, &b, today());
        if let Some(c) = &mut p.compared {
            c.rules_changed = crate::stops::rules_changed(&d, &b, &base_org, &org, today());
        }
        p.baseline = Some(crate::plan::BaselineName {
            path: "base.yaml".into(),
            label: Some("@evil `sha`".into()),
        });
        let md = crate::render::markdown(&p, "teamsync.yaml");
        let sight = outside_details(&md);
        let must_see = |c: &Change| match c {
            Change::Remove(_) | Change::Revoke(_) => !c.is_replaced_revoke(),
            Change::UpdateRole(_) => true,
            Change::Invite(i) => {
                i.role == Role::Admin || i.replaces.as_ref().is_some_and(|r| r.is(Role::Admin))
            }
            Change::Resend(r) => r.role == Role::Admin,
        };
        for c in p.changes.iter().filter(|c| must_see(c)) {
            prop_assert!(
                sight.contains(&code(c.email().as_str())),
                "{:?} not in sight:\n{}",
                c,
                md
            );
        }
        for bl in &p.blocked {
            prop_assert!(
                sight.contains(&code(bl.change.email().as_str())),
                "blocked {:?}:\n{}",
                bl,
                md
            );
        }
        for n in p
            .compared
            .as_ref()
            .unwrap()
            .no_longer
            .iter()
            .filter(|n| n.keeps_access())
        {
            prop_assert!(
                sight.contains(&code(n.change.email().as_str())),
                "no longer {:?}:\n{}",
                n,
                md
            );
        }
        prop_assert!(
            !outside_code(&md).contains('@'),
            "a mention outside code:\n{}",
            md
        );
        prop_assert!(md.chars().count() < 65_000);
        // The counts: the heading's against the JSON plan's.
        let fp = Fingerprints {
            desired_file: String::new(),
            live_state: String::new(),
        };
        let json: serde_json::Value =
            serde_json::from_str(&PlanDocument::new("teamsync.yaml", &p, &fp).to_json()).unwrap();
        let s = &json["summary"];
        let n = |k: &str| s[k].as_u64().unwrap_or(0) as usize;
        let replaced = json["changes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["action"] == "invite" && c["replaces_invitation"] == true)
            .count();
        let got = heading_counts(&md);
        if !p.is_empty() {
            let one = |a: &str, b: &str| got.get(a).or(got.get(b)).copied();
            prop_assert_eq!(one("invite", "invites"), Some(n("invite")), "{}", md);
            prop_assert_eq!(one("role change", "role changes"), Some(n("update_role")));
            prop_assert_eq!(one("removal", "removals"), Some(n("remove")));
            prop_assert_eq!(
                one("revocation", "revocations"),
                Some(n("revoke") - replaced)
            );
            prop_assert_eq!(got.get("blocked").copied(), Some(n("blocked")));
            prop_assert_eq!(got.get("re-sent").copied().unwrap_or(0), n("resend"));
            prop_assert_eq!(got.get("from this change").copied(), Some(n("edit")));
            prop_assert_eq!(got.get("drift").copied(), Some(n("drift")));
            prop_assert_eq!(got.get("scheduled").copied(), Some(n("scheduled")));
        }
        let compared = p.compared.as_ref().unwrap();
        let mut hit = origins_hit(&p);
        hit.extend((p.summary.resend > 0).then_some("resend"));
        hit.extend((!p.blocked.is_empty()).then_some("blocked"));
        let keeps = compared.no_longer.iter().any(|n| n.keeps_access());
        hit.extend(keeps.then_some("no longer, keeps access"));
        hit.extend((!compared.rules_changed.is_empty()).then_some("rules changed"));
        Ok(hit)
    });
}
