//! The Markdown plan's tests (`render::markdown::tests`), apart so that mod.rs stays short.

use super::*;
use crate::date::Date;
use crate::desired::{Desired, DesiredMember};
use crate::email::Email;
use crate::live::{LiveInvitation, LiveMember, LiveState};
use crate::planner::{PlanOptions, plan_live as plan};
use crate::role::Role;

fn opts() -> PlanOptions {
    PlanOptions::new(Date::parse("2027-03-31").unwrap())
}

fn root() -> LiveMember {
    LiveMember::new("user_root", "root@example.com", "org:admin")
}

#[test]
fn no_changes_is_a_short_comment() {
    let d = Desired::new(vec![DesiredMember::new("root@example.com", Role::Admin)]);
    let live = LiveState {
        members: vec![root()],
        invitations: vec![],
    };
    let md = markdown(&plan(&d, &live, &opts()), "teamsync.yaml");
    assert!(md.len() < 200, "{md}");
    insta::assert_snapshot!("markdown_no_changes", md);
}

#[test]
fn three_changes_with_reasons_and_a_blocked_one() {
    let mut carol = DesiredMember::new("carol@example.com", Role::Member);
    carol.reason = Some("new SRE <script> | *starts* Monday".into());
    let mut d = Desired::new(vec![
        DesiredMember::new("root@example.com", Role::Admin),
        carol,
        DesiredMember::new("bob@example.com", Role::Admin),
    ]);
    d.protected.push(Email::new("glass@example.com"));
    let live = LiveState {
        members: vec![
            root(),
            LiveMember::new("u2", "bob@example.com", "org:member"),
            LiveMember::new("u3", "glass@example.com", "org:admin"),
        ],
        invitations: vec![LiveInvitation::new("i1", "old@example.com", "org:member")],
    };
    let md = markdown(&plan(&d, &live, &opts()), "teamsync.yaml");
    assert!(md.starts_with(MARKER));
    assert!(
        md.contains("reason `new SRE <script> | *starts* Monday`"),
        "reasons are code: {md}"
    );
    insta::assert_snapshot!("markdown_three_changes", md);
}

#[test]
fn three_thousand_changes_stay_under_githubs_limit_with_guards_first() {
    let mut members = vec![root()];
    for i in 0..1500 {
        members.push(LiveMember::new(
            &format!("u{i}"),
            &format!("leaving.person.{i:04}@example.com"),
            "org:member",
        ));
    }
    let mut want = vec![DesiredMember::new("root@example.com", Role::Admin)];
    for i in 0..1500 {
        let mut m = DesiredMember::new(
            &format!("new.person.with.a.long.name.{i:04}@example.com"),
            Role::Member,
        );
        m.reason = Some(format!(
            "hired in batch {i} for the incident response rotation"
        ));
        want.push(m);
    }
    let p = plan(
        &Desired::new(want),
        &LiveState {
            members,
            invitations: vec![],
        },
        &opts(),
    );
    assert_eq!(p.changes.len(), 3000);
    let md = markdown(&p, "teamsync.yaml");
    assert!(
        md.chars().count() < MAX_COMMENT_CHARS,
        "{} characters",
        md.chars().count()
    );
    assert!(
        md.len() > 50_000,
        "the budget is used, not wasted: {}",
        md.len()
    );
    let head: String = md.lines().take(6).collect::<Vec<_>>().join("\n");
    assert!(
        head.contains("[!CAUTION]") && head.contains("mass removal"),
        "guards come first: {head}"
    );
    // The removals in sight, as many as fit; the invitations collapsed, given way first, down
    // to 20; each cut with its own count.
    let rem = md
        .find("#### Removals (1500)")
        .expect("removals are never pushed out");
    let details = md.find("<details>").expect("a collapsed section");
    let inv = md.find("#### Invitations (1500)").expect("invitations");
    assert!(rem < details && details < inv, "{md}");
    let (rems, invs) = (&md[rem..details], &md[inv..]);
    for (part, verb) in [(rems, "- remove "), (invs, "- invite ")] {
        let shown = part.lines().filter(|l| l.starts_with(verb)).count();
        if verb == "- remove " {
            assert!(shown > 100, "{shown}");
        } else {
            assert_eq!(shown, MUST_SEE_MAX);
        }
        let more = part
            .lines()
            .find(|l| l.starts_with("- … and "))
            .expect("a truncation line");
        assert_eq!(
            more,
            format!(
                "- … and {} more (run `teamsync plan` for the full list)",
                1500 - shown
            )
        );
    }
    assert!(md.trim_end().ends_with("</details>"));
    insta::assert_snapshot!(
        "markdown_3000_head",
        md.lines().take(20).collect::<Vec<_>>().join("\n")
    );
}

/// A pull request (docs/contract.md §8): the edit removes carol, demotes ann and promotes
/// bob; in the org, 25 people were added by hand and a protected admin was demoted.
#[test]
fn with_a_baseline_the_edit_comes_first_and_what_must_not_be_missed_is_in_sight() {
    use crate::origin::classify;
    let mut base = Desired::new(vec![
        DesiredMember::new("root@example.com", Role::Admin),
        DesiredMember::new("ann@example.com", Role::Admin),
        DesiredMember::new("bob@example.com", Role::Member),
        DesiredMember::new("carol@example.com", Role::Member),
        DesiredMember::new("glass@example.com", Role::Member),
    ]);
    base.protected.push(Email::new("glass@example.com"));
    let mut file = base.clone();
    file.members
        .retain(|m| m.email.as_str() != "carol@example.com");
    file.members[1].role = Role::Member;
    file.members[2].role = Role::Admin;
    file.members
        .push(DesiredMember::new("dan@example.com", Role::Member));
    let mut members = vec![
        root(),
        LiveMember::new("u1", "ann@example.com", "org:admin"),
        LiveMember::new("u2", "bob@example.com", "org:member"),
        LiveMember::new("u3", "carol@example.com", "org:member"),
        LiveMember::new("u4", "glass@example.com", "org:admin"),
    ];
    for i in 0..25 {
        members.push(LiveMember::new(
            &format!("h{i}"),
            &format!("hand{i:02}@example.com"),
            "org:member",
        ));
    }
    let live = LiveState {
        members,
        invitations: vec![],
    };
    let mut p = plan(&file, &live, &opts());
    let b = plan(&base, &live, &opts());
    classify(&mut p, &b, &file, &base, opts().today);
    p.set_adoptable(&crate::adopt::keeps(&file, &live, opts().today, None));
    let md = markdown(&p, "teamsync.yaml");
    let at = |needle: &str| {
        md.find(needle)
            .unwrap_or_else(|| panic!("no {needle:?} in:\n{md}"))
    };
    let order = [
        at("#### This change (4 changes)"),
        at("##### Removals (1)\n\n- remove `carol@example.com`"),
        at("##### Demotions (1)\n\n- change `ann@example.com`"),
        at("##### Admin grants (1)\n\n- change `bob@example.com`"),
        at("<details><summary>This change: 1 invitation</summary>"),
        at("#### Drift in the org that applying also reverts (26 changes)"),
        at(
            "Drift: applying also reverts what was done in the org, outside this change, for 25 emails that `teamsync adopt` can keep.",
        ),
        at("##### Removals (25)"),
        at("- remove `hand24@example.com`"),
        at("##### Blocked, not sent (1)"),
    ];
    assert!(order.is_sorted(), "{order:?}\n{md}");
    assert_eq!(
        md.lines()
            .filter(|l| l.starts_with("- remove `hand"))
            .count(),
        25,
        "every removal fits"
    );
    assert!(!md.contains("\\`"), "no escaped backticks: {md}");
    insta::assert_snapshot!("markdown_baseline", md);
}

/// A plan with `n` warnings (the same one, for the budget's sake) and the `extra` members.
fn with_warnings(n: usize, extra: Vec<DesiredMember>) -> Plan {
    let mut want = vec![DesiredMember::new("root@example.com", Role::Admin)];
    want.extend(extra);
    let live = LiveState {
        members: vec![root()],
        invitations: vec![],
    };
    let mut p = plan(&Desired::new(want), &live, &opts());
    p.warnings = vec![Warning::BelowMinAdmins { admins: 1, min: 2 }; n];
    p
}

#[test]
fn a_thousand_warnings_stay_under_the_limit_with_the_marker_first() {
    let invite = DesiredMember::new("new@example.com", Role::Member);
    for (p, kind) in [
        (with_warnings(1000, vec![]), "no changes"),
        (with_warnings(1000, vec![invite]), "changes"),
    ] {
        assert_eq!(p.warnings.len(), 1000, "{kind}");
        assert_eq!(p.is_empty(), kind == "no changes");
        let md = markdown(&p, "teamsync.yaml");
        let chars = md.chars().count();
        assert!(chars < MAX_COMMENT_CHARS, "{kind}: {chars} characters");
        assert_eq!(md.lines().next(), Some(MARKER), "{kind}");
        let shown = md
            .lines()
            .filter(|l| l.contains("fewer than min\\_admins"))
            .count();
        assert!((MIN_SHOWN..1000).contains(&shown), "{kind}: {shown}");
        assert!(
            md.contains(&format!(
                "- … and {} more (run `teamsync plan` for the full list)",
                1000 - shown
            )),
            "{kind}: {md}"
        );
        assert!(
            !md.contains("The comment was cut"),
            "{kind}: fits without the last resort"
        );
    }
    let md = markdown(
        &with_warnings(
            1000,
            vec![DesiredMember::new("new@example.com", Role::Member)],
        ),
        "teamsync.yaml",
    );
    let invite = md
        .find("- invite `new@example.com` as `org:member`")
        .expect("the invitation");
    assert!(invite < md.find("#### Warnings (1000)").unwrap(), "{md}");
}

#[test]
fn long_warnings_reasons_and_file_names_are_cut() {
    let p = with_warnings(0, vec![DesiredMember::new("new@example.com", Role::Member)]);
    let md = markdown(&p, &"dir/".repeat(20_000));
    let chars = md.chars().count();
    assert!(chars < 5_000, "{chars} characters");
    assert_eq!(md.lines().next(), Some(MARKER));
    let w = Warning::SelfNotInOrg {
        email: Email::new(&"é".repeat(70_000)),
        from: crate::plan::SelfFrom::Flag,
    };
    assert_eq!(
        warning(&w),
        format!(
            "\\-\\-self `{}…` is neither a member nor invited: check the email (it should be the API key's own account)",
            "é".repeat(MAX_NAME_CHARS - 1)
        )
        .replace("\\-\\-", "--")
    );
    // A 30,000-character reason: the item stays, its reason cut at 200 characters.
    let mut m = DesiredMember::new("new@example.com", Role::Member);
    m.reason = Some("x".repeat(30_000));
    let md = markdown(&with_warnings(0, vec![m]), "teamsync.yaml");
    let line = md
        .lines()
        .find(|l| l.starts_with("- invite `new@example.com`"))
        .expect("the item stays");
    assert!(
        line.ends_with(&format!("reason `{}…`", "x".repeat(MAX_REASON_CHARS - 1))),
        "{line}"
    );
}

#[test]
fn the_last_resort_cuts_at_a_line_and_closes_the_details() {
    let mut text = format!("{MARKER}\n### head\n\n<details><summary>x</summary>\n\n");
    for i in 0..1000 {
        text.push_str(&format!("- item {i} ééé\n"));
    }
    text.push_str("\n</details>\n");
    let out = fit(text.clone(), 1_000);
    assert!(out.chars().count() < 1_000, "{}", out.chars().count());
    assert!(out.starts_with(&format!("{MARKER}\n### head\n")), "{out}");
    assert!(
        out.ends_with(
            "\n</details>\n\n**The comment was cut to stay under GitHub's size limit; run `teamsync plan` for the full plan.**\n"
        ),
        "{out}"
    );
    let last_item = out.lines().rfind(|l| l.starts_with("- item ")).unwrap();
    assert!(
        last_item.ends_with(" ééé"),
        "cut at a line break: {last_item}"
    );
    // Nothing to close when no section was opened; nothing changes when it fits.
    let plain = format!("{MARKER}\n{}", "word ".repeat(1_000));
    let out = fit(plain, 1_000);
    assert!(out.chars().count() < 1_000);
    assert!(
        out.starts_with(MARKER) && !out.contains("</details>"),
        "{out}"
    );
    assert_eq!(fit(text.clone(), text.chars().count() + 1), text);
    // Text without a line break is cut too.
    let out = fit("x".repeat(500), 200);
    assert!(out.chars().count() < 200, "{out}");
}

/// Controls, bidirectional overrides and invisible characters from the file or the API reach
/// the comment as visible escapes (`\\u{202e}` renders as `\u{202e}`), never as themselves: a
/// reviewer sees `admin\u{3164}@x.io`, not a look-alike of `admin@x.io`.
#[test]
fn unsafe_characters_are_shown_as_escapes() {
    assert_eq!(esc("abc\u{202e}fed"), "abc\\\\u{202e}fed");
    assert_eq!(esc("admin\u{3164}@x.io"), "admin\\\\u{3164}@x.io");
    assert_eq!(esc("bell\u{7}"), "bell\\\\u{7}");
    assert_eq!(esc("two\nlines"), "two lines");
    assert_eq!(
        esc("on call \u{1f9d1}\u{200d}\u{1f4bb}"),
        "on call \u{1f9d1}\u{200d}\u{1f4bb}"
    );
}

/// docs/contract.md §6: when 20 items per group cannot fit, collapsed lists give way first,
/// then revocations, then the rest in sight, removals last, each down to 5 and no further.
#[test]
fn groups_give_way_in_order_down_to_five() {
    let lines = |n: usize| -> Vec<String> { (0..n).map(|i| format!("- {i:0>96}")).collect() };
    let blocks = || {
        vec![
            list(Some("R".into()), lines(40), Yield::Last),
            list(Some("V".into()), lines(40), Yield::Revocations),
            list(Some("B".into()), lines(40), Yield::Rest),
            list(Some("C".into()), lines(40), Yield::Collapsed),
        ]
    };
    // Room for everything: nothing is cut.
    assert_eq!(shown_counts(&blocks(), 1_000_000), [40, 40, 40, 40]);
    // Room for 20 each and a little more: the collapsed list and the revocations gave way to
    // 20 first, then the rest in sight as far as needed; the removals keep all.
    let twenty_each = 4 * (2 + 20 * 100 + 80) + 2_000;
    let got = shown_counts(&blocks(), twenty_each);
    assert_eq!((got[0], got[1], got[3]), (40, 20, 20), "{got:?}");
    assert!(got[2] > 20 && got[2] < 40, "{got:?}");
    // Less room: the collapsed list and the revocations go down to 5 before the rest in
    // sight and the removals give up any of their 20.
    let got = shown_counts(&blocks(), 4 * (2 + 5 * 100 + 80) + 2 * 1_500);
    assert_eq!(got, [20, 5, 20, 5]);
    // Less still: the rest, then the removals.
    let got = shown_counts(&blocks(), 4 * (2 + 5 * 100 + 80) + 900);
    assert_eq!((got[1], got[2], got[3]), (5, 5, 5), "{got:?}");
    assert!(got[0] > 5 && got[0] < 20, "{got:?}");
    // No room at all: never fewer than 5 (the last resort cuts the text instead).
    assert_eq!(shown_counts(&blocks(), 0), [5, 5, 5, 5]);
}

/// The comment's property, over the planner's generators.
mod properties {
    use crate::date::Date;
    use crate::desired::Desired;
    use crate::email::Email;
    use crate::live::{LiveState, Managed};
    use crate::planner::tests::properties::{
        EMAILS, covering, desired_state, live_state, origins_hit, today,
    };
    use crate::planner::{PlanOptions, plan};
    use crate::role::Role;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

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
            for c in p.changes.iter().filter(|c| must_see(&c.change)) {
                prop_assert!(
                    sight.contains(&code(c.change.email().as_str())),
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
            prop_assert!(md.chars().count() < super::super::MAX_COMMENT_CHARS);
            // The counts: the heading's against the JSON plan's.
            let fp = Fingerprints {
                desired_file: String::new(),
                live_state: String::new(),
            };
            let json: serde_json::Value =
                serde_json::from_str(&PlanDocument::new("teamsync.yaml", &p, &fp).to_json())
                    .unwrap();
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
}
