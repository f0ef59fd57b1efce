//! The review engine: flags, history per line, the org's side, the counts; and the Markdown and
//! CSV views over one review.

use super::*;
use crate::date::Timestamp;
use crate::desired::validate;
use crate::live::{LiveInvitation, LiveMember, LiveState};
use crate::render::review::{Heading, csv, markdown};
use proptest::prelude::*;

fn today() -> Date {
    Date::parse("2027-03-31").unwrap()
}

fn commit(n: u8, date: &str, pr: Option<u64>) -> Commit {
    Commit {
        id: format!("{n}").repeat(40),
        date: Date::parse(date).unwrap(),
        author: format!("Dev{n} <dev{n}@example.com>"),
        pr,
    }
}

const FILE: &str = "version: 1
policy:
  internal_domains: [example.com]
  recertify_days: 180
members:
  - email: ana@example.com
    role: org:admin
    reason: founder
  - email: bo@example.com
    role: org:admin
  - email: cy@vendor.io
    role: org:member
  - email: di@vendor.io
    role: org:member
    expires: 2027-04-05
";

/// Lines 1–8 from commit 0 (2026-01-10, #3), lines 9–10 (bo) from commit 1 (2027-02-01, merge
/// of #12), bo's role changed by commit 2 (2027-03-01, #34), cy's lines not committed, di's
/// from commit 1.
fn history() -> History {
    let mut lines: Vec<Option<usize>> = vec![Some(0); 8];
    lines.extend([Some(1), Some(2), None, None, Some(1), Some(1), Some(1)]);
    History {
        commits: vec![
            commit(1, "2026-01-10", Some(3)),
            commit(2, "2027-02-01", Some(12)),
            commit(3, "2027-03-01", Some(34)),
        ],
        parts: vec![PartHistory::Blamed { lines }],
    }
}

fn reviewed(live: Option<&LiveState>) -> Review {
    let desired = validate(FILE, today()).desired.unwrap();
    review(
        &desired,
        &history(),
        live,
        &ReviewOptions {
            today: today(),
            file: "teamsync.yaml".into(),
        },
    )
}

fn flags_of(r: &Review) -> Vec<(String, Vec<&'static str>)> {
    r.entries
        .iter()
        .map(|e| {
            (
                e.email.to_string(),
                e.flags.iter().map(|f| f.name()).collect(),
            )
        })
        .collect()
}

#[test]
fn each_entry_has_its_added_and_role_set_commits_and_its_flags() {
    let r = reviewed(None);
    let bo = &r.entries[1];
    assert_eq!(bo.email.as_str(), "bo@example.com");
    assert_eq!(bo.added.as_ref().unwrap().pr, Some(12));
    assert_eq!(bo.role_set.as_ref().unwrap().pr, Some(34));
    assert_eq!(bo.changed.as_ref().unwrap().date.to_string(), "2027-03-01");
    let ana = &r.entries[0];
    assert_eq!(ana.added.as_ref().unwrap().pr, Some(3));
    assert_eq!(
        flags_of(&r),
        vec![
            ("ana@example.com".into(), vec!["not_recertified"]),
            ("bo@example.com".into(), vec!["admin_without_reason"]),
            ("cy@vendor.io".into(), vec!["external_without_expires"]),
            ("di@vendor.io".into(), vec!["expires_soon"]),
        ]
    );
    // cy's lines are not committed: unknown, and said so.
    assert_eq!(r.entries[2].added, None);
    assert_eq!(r.warnings, vec![Warning::Uncommitted { entries: 1 }]);
    assert_eq!(r.recertify_days, 180);
    assert_eq!(
        (r.summary.entries, r.summary.admins, r.summary.members),
        (4, 2, 2)
    );
    assert_eq!(r.summary.flagged, 4);
}

#[test]
fn without_history_dates_are_unknown_and_a_warning_says_so() {
    let desired = validate(FILE, today()).desired.unwrap();
    let history = History {
        commits: Vec::new(),
        parts: vec![PartHistory::Unknown("not in a git repository".into())],
    };
    let r = review(
        &desired,
        &history,
        None,
        &ReviewOptions {
            today: today(),
            file: "teamsync.yaml".into(),
        },
    );
    assert!(
        r.entries
            .iter()
            .all(|e| e.added.is_none() && e.role_set.is_none())
    );
    assert!(
        r.entries
            .iter()
            .all(|e| !e.flags.contains(&Flag::NotRecertified))
    );
    insta::assert_snapshot!(r.warnings[0].to_string(), @"no history for teamsync.yaml (not in a git repository): when each entry was added, its role set, by whom and in which pull request are unknown");
}

fn live() -> LiveState {
    LiveState {
        members: vec![
            LiveMember {
                id: "u1".into(),
                email: Email::new("ana@example.com"),
                role: LiveRole::parse("org:admin"),
            },
            LiveMember {
                id: "u2".into(),
                email: Email::new("bo@example.com"),
                role: LiveRole::parse("org:member"),
            },
        ],
        invitations: vec![
            LiveInvitation {
                id: "i1".into(),
                email: Email::new("di@vendor.io"),
                role: LiveRole::parse("org:member"),
                created_at: Timestamp::parse("2027-03-01T10:00:00Z"),
            },
            LiveInvitation {
                id: "i2".into(),
                email: Email::new("di@vendor.io"),
                role: LiveRole::parse("org:member"),
                created_at: Timestamp::parse("2027-03-21T10:00:00Z"),
            },
        ],
    }
}

#[test]
fn with_the_org_entries_are_flagged_absent_differing_or_pending() {
    let l = live();
    let r = reviewed(Some(&l));
    assert_eq!(
        flags_of(&r),
        vec![
            ("ana@example.com".into(), vec!["not_recertified"]),
            (
                "bo@example.com".into(),
                vec!["admin_without_reason", "role_differs"]
            ),
            (
                "cy@vendor.io".into(),
                vec!["external_without_expires", "not_in_org"]
            ),
            (
                "di@vendor.io".into(),
                vec!["expires_soon", "pending_invitation"]
            ),
        ]
    );
    // The newest invitation's age.
    match &r.entries[3].org {
        Some(InOrg::Invited {
            invited: Some(i), ..
        }) => assert_eq!(i.age_days, 10),
        other => panic!("{other:?}"),
    }
}

#[test]
fn markdown_puts_the_summary_on_top_and_flagged_entries_first() {
    let l = live();
    let r = reviewed(Some(&l));
    let md = markdown(
        &r,
        &Heading {
            file: "teamsync.yaml",
            generated_at: "2027-03-31T12:00:00Z",
            live: Some(("org.json", "2027-03-31T08:00:00Z")),
        },
    );
    insta::assert_snapshot!(md);
}

#[test]
fn csv_has_a_header_and_a_row_per_entry_quoted_and_safe_in_spreadsheets() {
    let text = "version: 1
members:
  - email: ana@example.com
    role: org:admin
    reason: '=HYPERLINK(\"http://x\"), \"quoted\"'
";
    let desired = validate(text, today()).desired.unwrap();
    let history = History {
        commits: vec![commit(1, "2027-01-02", None)],
        parts: vec![PartHistory::Blamed {
            lines: vec![Some(0); 5],
        }],
    };
    let r = review(
        &desired,
        &history,
        None,
        &ReviewOptions {
            today: today(),
            file: "teamsync.yaml".into(),
        },
    );
    insta::assert_snapshot!(csv(&r).replace("\r\n", "⏎\n"), @r#"
    email,role,reason,expires,part,added_date,added_commit,added_author,added_pr,role_set_date,role_set_commit,role_set_author,role_set_pr,last_changed_date,flags,org_status,org_role,invited_at,invitation_age_days⏎
    ana@example.com,org:admin,"'=HYPERLINK(""http://x""), ""quoted""",,,2027-01-02,1111111111111111111111111111111111111111,Dev1 <dev1@example.com>,,2027-01-02,1111111111111111111111111111111111111111,Dev1 <dev1@example.com>,,2027-01-02,,,,,⏎
    "#);
}

#[test]
fn markdown_shows_data_only_in_code_spans_and_stays_under_the_limit() {
    let mut text = String::from("version: 1\nmembers:\n");
    for i in 0..3000 {
        text.push_str(&format!(
            "  - email: user{i:04}@example.com\n    role: org:admin\n    reason: '@team `x` <b>|{i}'\n"
        ));
    }
    let desired = validate(&text, today()).desired.unwrap();
    let r = review(
        &desired,
        &History::default(),
        None,
        &ReviewOptions {
            today: today(),
            file: "teamsync.yaml".into(),
        },
    );
    let md = markdown(
        &r,
        &Heading {
            file: "teamsync.yaml",
            generated_at: "2027-03-31T12:00:00Z",
            live: None,
        },
    );
    assert!(md.chars().count() < 65_000, "{}", md.chars().count());
    assert!(md.starts_with("<!-- teamsync:review -->\n"));
    assert!(
        md.contains("more entries not shown here"),
        "the cut is announced"
    );
    // A reason with a mention, backticks, HTML and a pipe: inside a longer fence, the pipe
    // escaped for the table.
    assert!(md.contains("| ``@team `x` <b>\\|1`` |"), "{}", &md[..2000]);
    assert!(
        !md.lines().any(|l| l.starts_with("| user")),
        "emails are code"
    );
}

proptest! {
    /// For any roster and any history: every entry is reviewed once, sorted by email; the
    /// summary counts what the entries say; `added` is the commit of the email's line and
    /// `role_set` that of the role's line; the flags that need no history or org follow from
    /// the entry alone.
    #[test]
    fn the_review_is_a_function_of_each_entry_and_its_lines(
        entries in proptest::collection::vec(
            (any::<bool>(), any::<bool>(), any::<bool>(), proptest::option::of(-3i64..30)),
            1..20,
        ),
        commits in proptest::collection::vec(0i64..800, 1..5),
        blame_seed in proptest::collection::vec(proptest::option::of(0usize..5), 200),
    ) {
        let mut text = String::from("version: 1\npolicy:\n  internal_domains: [example.com]\nmembers:\n  - email: root@example.com\n    role: org:admin\n    reason: root\n");
        for (i, (admin, reason, external, expires)) in entries.iter().enumerate() {
            let domain = if *external { "vendor.io" } else { "example.com" };
            text.push_str(&format!("  - email: p{i:02}@{domain}\n    role: {}\n", if *admin { "org:admin" } else { "org:member" }));
            if *reason {
                text.push_str("    reason: because\n");
            }
            if let Some(d) = expires {
                text.push_str(&format!("    expires: {}\n", today().add_days(*d)));
            }
        }
        let desired = validate(&text, today()).desired.unwrap();
        let history = History {
            commits: commits.iter().enumerate().map(|(n, d)| Commit {
                id: format!("{n:040}"),
                date: today().add_days(-d),
                author: "A <a@example.com>".into(),
                pr: Some(n as u64),
            }).collect(),
            parts: vec![PartHistory::Blamed {
                lines: blame_seed.iter().map(|c| c.filter(|c| *c < commits.len())).collect(),
            }],
        };
        let r = review(&desired, &history, None, &ReviewOptions { today: today(), file: "teamsync.yaml".into() });
        prop_assert_eq!(r.entries.len(), desired.members.len());
        prop_assert!(r.entries.windows(2).all(|w| w[0].email < w[1].email));
        prop_assert_eq!(r.summary.flagged, r.entries.iter().filter(|e| !e.flags.is_empty()).count());
        for (flag, n) in &r.summary.flags {
            prop_assert_eq!(*n, r.entries.iter().filter(|e| e.flags.contains(flag)).count());
        }
        let PartHistory::Blamed { lines } = &history.parts[0] else { unreachable!() };
        let at = |line: u32| lines.get(line as usize - 1).copied().flatten().map(|i| history.commits[i].clone());
        for m in &desired.members {
            let e = r.entries.iter().find(|e| e.email == m.email).unwrap();
            prop_assert_eq!(&e.added, &at(m.loc.line));
            prop_assert_eq!(&e.role_set, &at(m.lines.role));
            prop_assert_eq!(e.flags.contains(&Flag::AdminWithoutReason), m.role == Role::Admin && m.reason.is_none());
            prop_assert_eq!(
                e.flags.contains(&Flag::ExternalWithoutExpires),
                m.email.domain() == "vendor.io" && m.expires.is_none()
            );
            prop_assert_eq!(
                e.flags.contains(&Flag::ExpiresSoon),
                m.expires.is_some_and(|d| (0..14).contains(&today().days_until(d)))
            );
            if let Some(c) = &e.changed {
                prop_assert_eq!(e.flags.contains(&Flag::NotRecertified), c.date.days_until(today()) > 365);
                prop_assert!(e.added.as_ref().is_none_or(|a| a.date <= c.date));
            } else {
                prop_assert!(!e.flags.contains(&Flag::NotRecertified));
            }
        }
    }
}
