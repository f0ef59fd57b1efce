//! Golden files (tests/golden/adopt/<case>/: before.yaml, org.json, after.yaml and skipped.txt,
//! each asserted whole, byte for byte; `UPDATE_GOLDEN=1` rewrites them for review), the
//! never-adopted cases, and the property that `plan` right after `adopt` shows none of it.

use super::*;
use crate::live::{LiveInvitation, LiveMember, Managed};
use crate::planner::{self, PlanOptions};
use std::path::{Path, PathBuf};

const TODAY: &str = "2027-03-31";

fn all_kinds() -> Vec<Kind> {
    vec![Kind::Added, Kind::Roles, Kind::Removed]
}

fn options(today: &str, self_email: Option<&str>, kinds: Vec<Kind>) -> AdoptOptions {
    AdoptOptions {
        only: None,
        kinds,
        today: Date::parse(today).unwrap(),
        self_email: self_email.map(Email::new),
        self_from: crate::plan::SelfFrom::Flag,
    }
}

fn load(text: &str, today: Date) -> Desired {
    desired::validate(text, today)
        .desired
        .unwrap_or_else(|e| panic!("{text}\ndoes not validate: {e:?}"))
}

fn run(text: &str, live: &LiveState, options: &AdoptOptions) -> Adopted {
    let desired = load(text, options.today);
    adopt(text, &desired, live, options).unwrap_or_else(|e| panic!("{e:?}"))
}

/// What a golden case's `skipped.txt` holds.
fn skipped_text(adopted: &Adopted) -> String {
    adopted
        .skipped
        .iter()
        .map(|s| format!("{} ({:?}): {}\n", s.email, s.kind, s.why))
        .collect()
}

/// `plan` right after: no change about an adopted email (blocked ones included).
fn assert_nothing_adopted_left(text: &str, live: &LiveState, adopted: &Adopted, o: &AdoptOptions) {
    let desired = load(text, o.today);
    let plan = planner::plan(
        &desired,
        &Managed::new(live.clone(), &desired.ignore),
        &PlanOptions {
            self_email: o.self_email.clone(),
            ..PlanOptions::new(o.today)
        },
    );
    for a in &adopted.adopted {
        let left: Vec<_> = plan
            .changes
            .iter()
            .map(|c| &c.change)
            .chain(plan.blocked.iter().map(|b| &b.change))
            .filter(|c| c.email() == a.email())
            // Redundant invitations are the org's own mess, not drift of the file.
            .filter(|c| {
                !matches!(
                    c,
                    crate::plan::Change::Revoke(crate::plan::Revoke {
                        cause: crate::plan::RevokeCause::Duplicate { .. }
                            | crate::plan::RevokeCause::AlreadyMember,
                        ..
                    })
                )
            })
            .collect();
        assert!(
            left.is_empty(),
            "{a:?} adopted, but plan still has {left:?}\n{text}"
        );
    }
}

fn org_from(json: &serde_json::Value) -> LiveState {
    let list = |k: &str| json[k].as_array().cloned().unwrap_or_default();
    LiveState {
        members: list("members")
            .iter()
            .enumerate()
            .map(|(n, m)| {
                LiveMember::new(
                    &format!("u{n}"),
                    m["email"].as_str().unwrap(),
                    m["role"].as_str().unwrap(),
                )
            })
            .collect(),
        invitations: list("invitations")
            .iter()
            .enumerate()
            .map(|(n, m)| {
                LiveInvitation::new(
                    &format!("i{n}"),
                    m["email"].as_str().unwrap(),
                    m["role"].as_str().unwrap(),
                )
            })
            .collect(),
    }
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/adopt")
}

/// Compares `actual` with the file, or writes it with `UPDATE_GOLDEN=1`.
fn assert_golden(path: &Path, actual: &str, failures: &mut Vec<String>) {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(path, actual).unwrap();
        return;
    }
    let expected = std::fs::read(path).unwrap_or_default();
    if expected != actual.as_bytes() {
        failures.push(format!(
            "{}: expected\n{}\n----- got -----\n{}",
            path.display(),
            String::from_utf8_lossy(&expected),
            actual
        ));
    }
}

#[test]
fn golden_files() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 8, "{cases:?}");
    let mut failures = Vec::new();
    for case in &cases {
        let before = String::from_utf8(std::fs::read(case.join("before.yaml")).unwrap()).unwrap();
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(case.join("org.json")).unwrap()).unwrap();
        let live = org_from(&json);
        let o = options(
            json["today"].as_str().unwrap_or(TODAY),
            json["self"].as_str(),
            all_kinds(),
        );
        let adopted = run(&before, &live, &o);
        assert_golden(&case.join("after.yaml"), &adopted.text, &mut failures);
        assert_golden(
            &case.join("skipped.txt"),
            &skipped_text(&adopted),
            &mut failures,
        );
        assert_eq!(
            adopted.changed(),
            adopted.text != before,
            "{}: text changed iff something was adopted",
            case.display()
        );
        assert_nothing_adopted_left(&adopted.text, &live, &adopted, &o);
        // Adopting again adopts nothing.
        let again = run(&adopted.text, &live, &o);
        assert!(
            !again.changed(),
            "{}: a second adopt changed {:?}",
            case.display(),
            again.adopted
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_dashboard_story_is_three_hunks() {
    let dir = golden_dir().join("dashboard");
    let before = std::fs::read_to_string(dir.join("before.yaml")).unwrap();
    let after = std::fs::read_to_string(dir.join("after.yaml")).unwrap();
    let diff = similar::TextDiff::from_lines(&before, &after);
    let hunks = diff.unified_diff().context_radius(1).iter_hunks().count();
    assert_eq!(hunks, 3);
}

const SMALL: &str = "version: 1\nmembers:\n  - email: a@x.io\n    role: org:admin\n  - email: c@x.io\n    role: org:member\n";

fn org(members: &[(&str, &str)], invitations: &[(&str, &str)]) -> LiveState {
    LiveState {
        members: members
            .iter()
            .enumerate()
            .map(|(n, (e, r))| LiveMember::new(&format!("u{n}"), e, r))
            .collect(),
        invitations: invitations
            .iter()
            .enumerate()
            .map(|(n, (e, r))| LiveInvitation::new(&format!("i{n}"), e, r))
            .collect(),
    }
}

#[test]
fn only_chooses_the_kinds() {
    let live = org(&[("a@x.io", "org:admin"), ("b@x.io", "org:member")], &[]);
    // c@x.io is gone, b@x.io is new.
    let added = run(SMALL, &live, &options(TODAY, None, vec![Kind::Added]));
    assert_eq!(
        added.adopted,
        [Adoption::Add {
            email: Email::new("b@x.io"),
            role: Role::Member
        }]
    );
    assert!(added.text.contains("c@x.io"));
    let removed = run(SMALL, &live, &options(TODAY, None, vec![Kind::Removed]));
    assert_eq!(removed.adopted.len(), 1);
    assert!(!removed.text.contains("c@x.io") && !removed.text.contains("b@x.io"));
    let roles = run(SMALL, &live, &options(TODAY, None, vec![Kind::Roles]));
    assert!(!roles.changed());
    assert_eq!(roles.text, SMALL);
}

#[test]
fn a_new_entry_has_the_reason_with_todays_date() {
    let live = org(
        &[("a@x.io", "org:admin"), ("c@x.io", "org:member")],
        &[("b@x.io", "org:admin")],
    );
    let out = run(SMALL, &live, &options("2026-11-28", None, all_kinds()));
    assert_eq!(
        out.text,
        "version: 1\nmembers:\n  - email: a@x.io\n    role: org:admin\n  - email: b@x.io\n    role: org:admin\n    reason: adopted from the org on 2026-11-28\n  - email: c@x.io\n    role: org:member\n"
    );
}

#[test]
fn a_pending_invitation_with_another_role_is_a_role_change() {
    let live = org(&[("a@x.io", "org:admin")], &[("c@x.io", "org:admin")]);
    let out = run(SMALL, &live, &options(TODAY, None, all_kinds()));
    assert_eq!(
        out.adopted,
        [Adoption::Role {
            email: Email::new("c@x.io"),
            from: Role::Member,
            to: Role::Admin
        }]
    );
    assert_nothing_adopted_left(&out.text, &live, &out, &options(TODAY, None, all_kinds()));
}

#[test]
fn never_adopted_each_with_its_reason() {
    let cases: [(&str, &str, LiveState, Option<&str>, Why); 7] = [
        (
            "ignored",
            "ignore: ['*@vendor.io']\n",
            org(
                &[
                    ("a@x.io", "org:admin"),
                    ("c@x.io", "org:member"),
                    ("bot@vendor.io", "org:member"),
                ],
                &[],
            ),
            None,
            Why::Ignored("*@vendor.io".into()),
        ),
        (
            "protected demotion",
            "protected: [a@x.io]\n",
            org(&[("a@x.io", "org:member"), ("c@x.io", "org:member")], &[]),
            None,
            Why::Protected,
        ),
        (
            "protected removal",
            "protected: [c@x.io]\n",
            org(&[("a@x.io", "org:admin")], &[]),
            None,
            Why::Protected,
        ),
        (
            "outside allowed_domains",
            "allowed_domains: [x.io]\n",
            org(
                &[
                    ("a@x.io", "org:admin"),
                    ("c@x.io", "org:member"),
                    ("p@gmail.com", "org:member"),
                ],
                &[],
            ),
            None,
            Why::OutsideDomains,
        ),
        (
            "own account",
            "",
            org(&[("a@x.io", "org:admin"), ("c@x.io", "org:admin")], &[]),
            Some("c@x.io"),
            Why::OwnAccount(crate::plan::SelfFrom::Flag),
        ),
        (
            "last admin",
            "",
            org(&[("c@x.io", "org:member")], &[]),
            None,
            Why::LastAdmin,
        ),
        (
            "unknown live role",
            "",
            org(&[("a@x.io", "org:admin"), ("c@x.io", "org:billing")], &[]),
            None,
            Why::UnknownRole("org:billing".into()),
        ),
    ];
    for (name, extra, live, me, why) in cases {
        let text = format!("{SMALL}{extra}");
        let out = run(&text, &live, &options(TODAY, me, all_kinds()));
        assert_eq!(out.text, text, "{name}: the file is left as it is");
        assert!(!out.changed(), "{name}: {:?}", out.adopted);
        assert_eq!(
            out.skipped.iter().map(|s| &s.why).collect::<Vec<_>>(),
            [&why],
            "{name}"
        );
    }
}

#[test]
fn an_expired_entry_is_left_alone() {
    let text =
        format!("{SMALL}  - email: old@x.io\n    role: org:admin\n    expires: 2027-01-01\n");
    // Live: plan removes it; adopt does not bring it back.
    let live = org(
        &[
            ("a@x.io", "org:admin"),
            ("c@x.io", "org:member"),
            ("old@x.io", "org:member"),
        ],
        &[],
    );
    let out = run(&text, &live, &options(TODAY, None, all_kinds()));
    assert_eq!(out.text, text);
    assert_eq!(
        out.skipped[0].why,
        Why::Expired(Date::parse("2027-01-01").unwrap())
    );
    // Not live: no drift at all, nothing said.
    let live = org(&[("a@x.io", "org:admin"), ("c@x.io", "org:member")], &[]);
    let out = run(&text, &live, &options(TODAY, None, all_kinds()));
    assert!(!out.changed() && out.skipped.is_empty(), "{out:?}");
}

#[test]
fn an_entry_written_with_an_alias_is_left_for_a_human() {
    let text = "version: 1\nbase: &m {email: c@x.io, role: org:member}\nmembers:\n  - email: a@x.io\n    role: org:admin\n  - *m\n";
    // `base` is not a known field: this file does not validate; use a merge-free alias inside
    // the list instead.
    assert!(
        desired::validate(text, Date::parse(TODAY).unwrap())
            .desired
            .is_err()
    );
    let text = "version: 1\nmembers:\n  - &a {email: a@x.io, role: org:admin}\n  - email: c@x.io\n    <<: {role: org:member}\n";
    let live = org(&[("a@x.io", "org:admin"), ("c@x.io", "org:admin")], &[]);
    let out = run(text, &live, &options(TODAY, None, all_kinds()));
    assert_eq!(out.text, text);
    assert_eq!(out.skipped[0].why, Why::NotEditable);
}

/// docs/contract.md §7: an entry that shares a node with another entry (an anchor one refers
/// to, an alias or merge key to one elsewhere) is left alone, whatever the change, and the
/// file is as it was.
#[test]
fn entries_sharing_a_node_are_left_alone_in_every_shape() {
    let head = "version: 1\nmembers:\n  - email: root@x.io\n    role: org:admin\n";
    let both = |a: &str, b: &str| {
        org(
            &[("root@x.io", "org:admin"), ("a@x.io", a), ("b@x.io", b)],
            &[],
        )
    };
    let only_b = org(&[("root@x.io", "org:admin"), ("b@x.io", "org:member")], &[]);
    let only_a = org(&[("root@x.io", "org:admin"), ("a@x.io", "org:member")], &[]);
    let cases: Vec<(&str, String, LiveState, Vec<&str>)> = vec![
        (
            "the anchor of a shared role",
            format!(
                "{head}  - email: a@x.io\n    role: &m org:member\n  - email: b@x.io\n    role: *m\n"
            ),
            both("org:admin", "org:member"),
            vec!["a@x.io"],
        ),
        (
            "the alias of a shared role",
            format!(
                "{head}  - email: a@x.io\n    role: &m org:member\n  - email: b@x.io\n    role: *m\n"
            ),
            both("org:member", "org:admin"),
            vec!["b@x.io"],
        ),
        (
            "deleting the entry that holds the anchor",
            format!(
                "{head}  - email: a@x.io\n    role: &m org:member\n  - email: b@x.io\n    role: *m\n"
            ),
            only_b.clone(),
            vec!["a@x.io"],
        ),
        (
            "deleting the entry that holds the alias",
            format!(
                "{head}  - email: a@x.io\n    role: &m org:member\n  - email: b@x.io\n    role: *m\n"
            ),
            only_a,
            vec!["b@x.io"],
        ),
        (
            "a mapping merged into another",
            format!(
                "{head}  - &t {{email: a@x.io, role: org:member}}\n  - email: b@x.io\n    <<: *t\n"
            ),
            both("org:admin", "org:member"),
            vec!["a@x.io"],
        ),
        (
            "a block mapping merged, with a role of its own in the other",
            format!(
                "{head}  - &t\n    email: a@x.io\n    role: org:member\n    reason: team\n  - <<: *t\n    email: b@x.io\n    role: org:member\n"
            ),
            both("org:admin", "org:admin"),
            vec!["a@x.io", "b@x.io"],
        ),
        (
            "a tagged anchor",
            format!(
                "{head}  - {{email: a@x.io, role: !!str &m org:member}}\n  - {{email: b@x.io, role: *m}}\n"
            ),
            both("org:admin", "org:member"),
            vec!["a@x.io"],
        ),
        (
            "an email that `protected` refers to",
            format!("{head}  - email: &e a@x.io\n    role: org:member\nprotected: [*e]\n"),
            org(&[("root@x.io", "org:admin"), ("a@x.io", "org:admin")], &[]),
            vec!["a@x.io"],
        ),
        (
            "a reason another entry refers to",
            format!(
                "{head}  - email: a@x.io\n    role: org:member\n    reason: &r contractor\n  - email: b@x.io\n    role: org:member\n    reason: *r\n"
            ),
            only_b,
            vec!["a@x.io"],
        ),
    ];
    for (name, text, live, alone) in cases {
        let out = run(&text, &live, &options(TODAY, None, all_kinds()));
        assert_eq!(out.text, text, "{name}: the file is as it was");
        let shared: Vec<&str> = out
            .skipped
            .iter()
            .filter(|s| s.why == Why::Shared)
            .map(|s| s.email.as_str())
            .collect();
        assert_eq!(shared, alone, "{name}: {:?}", out.skipped);
    }
    // An anchor used only inside its own entry is shared with nobody: the entry is edited.
    let text = format!("{head}  - {{email: a@x.io, role: &m org:member, reason: *m}}\n");
    let out = run(
        &text,
        &org(&[("root@x.io", "org:admin"), ("a@x.io", "org:admin")], &[]),
        &options(TODAY, None, all_kinds()),
    );
    assert_eq!(out.adopted.len(), 1, "{:?}", out.skipped);
    assert!(out.text.contains("role: &m org:admin"), "{}", out.text);
}

/// The net under every adoption (docs/contract.md §7): an edit whose plan changes an email
/// that was not adopted, or still changes one that was, is refused, naming them. Here the
/// edit adopt made before shared anchors were left alone: the anchor rewritten, so that b@
/// reads as admin too.
#[test]
fn the_replan_net_refuses_an_edit_that_changes_another_entry() {
    let before = "version: 1\nmembers:\n  - email: root@x.io\n    role: org:admin\n  - email: a@x.io\n    role: &m org:member\n  - email: b@x.io\n    role: *m\nignore: ['*@vendor.io']\n";
    let live = org(
        &[
            ("root@x.io", "org:admin"),
            ("a@x.io", "org:admin"),
            ("b@x.io", "org:member"),
        ],
        &[],
    );
    let o = options(TODAY, None, all_kinds());
    let adopted = [Adoption::Role {
        email: Email::new("a@x.io"),
        from: Role::Member,
        to: Role::Admin,
    }];
    let old = load(before, o.today);
    let check = |after: &str| replan::check(&old, &load(after, o.today), &live, &adopted, &o);
    let rewritten = before.replace("&m org:member", "&m org:admin");
    let e = check(&rewritten).unwrap_err();
    assert_eq!(
        e,
        Replanned {
            still: vec![],
            changed: vec![Email::new("b@x.io")],
            fields: vec![],
        }
    );
    assert_eq!(
        AdoptError::Replanned(e).to_string(),
        "a plan of the edited file against the org just read would change how b@x.io reads, which it did not adopt (a bug in adopt: please report it with the file's shape)"
    );
    // Nothing changed at all: the adopted email is still planned.
    let e = check(before).unwrap_err();
    assert_eq!(e.still, [Email::new("a@x.io")]);
    assert!(e.changed.is_empty());
    // A reason changed, which no plan shows today; and a top-level field.
    let reason = before.replace("role: *m\n", "role: *m\n    reason: x\n");
    let reason = reason.replace(
        "&m org:member",
        "&m org:admin\n  - email: c@x.io\n    role: org:member",
    );
    let e = check(&reason.replace("*@vendor.io", "*@other.io")).unwrap_err();
    assert_eq!(
        (e.changed, e.fields),
        (
            vec![Email::new("b@x.io"), Email::new("c@x.io")],
            vec!["ignore"]
        )
    );
    // The right edit passes.
    let right = "version: 1\nmembers:\n  - email: root@x.io\n    role: org:admin\n  - email: a@x.io\n    role: org:admin\n  - email: b@x.io\n    role: org:member\nignore: ['*@vendor.io']\n";
    assert_eq!(check(right), Ok(()));
}

#[test]
fn emails_that_need_quotes_get_them() {
    assert_eq!(edit::quoted("a@x.io", edit::Quote::Plain), "a@x.io");
    assert_eq!(
        edit::quoted("o'neil@x.io", edit::Quote::Plain),
        "\"o'neil@x.io\""
    );
    assert_eq!(
        edit::quoted("o'neil@x.io", edit::Quote::Single),
        "'o''neil@x.io'"
    );
    assert_eq!(
        edit::quoted("a\u{1b}@x.io", edit::Quote::Single),
        "\"a\\u001b@x.io\""
    );
}

mod properties {
    //! For generated files (every style the editor knows, and entries that share nodes through
    //! anchors, aliases and merge keys) and orgs: `adopt` then `plan` has no adopted change
    //! left, the result validates, no email that was not adopted reads otherwise, and every
    //! line that is not part of an entry of an adopted email is still there, in order.
    use super::*;
    use proptest::prelude::*;

    const EMAILS: &[&str] = &[
        "a@x.io",
        "b@x.io",
        "c@x.io",
        "d@x.io",
        "e@x.io",
        "f@x.io",
        "bot@vendor.io",
    ];

    #[derive(Clone, Debug)]
    struct Entry {
        email: usize,
        role: Role,
        flow: bool,
        quoted: bool,
        comment_above: bool,
        trailing: bool,
        blank_before: bool,
        expires: bool,
        reason: bool,
        share: Share,
    }

    /// How an entry shares a node with the entry before it.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum Share {
        None,
        /// `role: *rN`, the role of an earlier entry (`role: &rN …`).
        RoleAlias,
        /// The same, the anchor tagged (`role: !!str &rN …`).
        TaggedAlias,
        /// `<<: *tN`, the whole mapping of the entry before (`- &tN …`), no role of its own.
        Merge,
    }

    fn entry() -> impl Strategy<Value = Entry> {
        (
            0..EMAILS.len() - 1,
            prop_oneof![Just(Role::Admin), Just(Role::Member)],
            any::<[bool; 7]>(),
            prop_oneof![
                5 => Just(Share::None),
                1 => Just(Share::RoleAlias),
                1 => Just(Share::TaggedAlias),
                1 => Just(Share::Merge),
            ],
        )
            .prop_map(|(email, role, b, share)| Entry {
                email,
                role,
                flow: b[0],
                quoted: b[1],
                comment_above: b[2],
                trailing: b[3],
                blank_before: b[4],
                expires: b[5] && b[6],
                reason: b[6],
                share,
            })
    }

    /// The file as chunks: `(Some(email), lines)` for an entry (its comment above included),
    /// `(None, lines)` for everything else.
    type Chunks = Vec<(Option<usize>, Vec<String>)>;

    fn file(entries: &[Entry], indent: usize, sorted: bool, protect: bool) -> Chunks {
        let mut seen = std::collections::BTreeSet::new();
        let mut list: Vec<&Entry> = entries.iter().filter(|e| seen.insert(e.email)).collect();
        if sorted {
            list.sort_by_key(|e| e.email);
        }
        let pad = " ".repeat(indent);
        let mut chunks: Chunks = vec![(
            None,
            vec![
                "# generated".into(),
                "version: 1".into(),
                "ignore: ['*@vendor.io']".into(),
            ],
        )];
        if protect {
            chunks.push((None, vec!["protected: [a@x.io]".into()]));
        }
        chunks.push((None, vec!["members:".into()]));
        // Which entry's role anchor each role alias refers to (an alias cannot hold an anchor:
        // the entry before's source, when its role is an alias itself); which roles are
        // anchored, tagged or not; which mappings are merged into the next.
        let n = list.len();
        let mut source: Vec<Option<usize>> = vec![None; n];
        let mut role_anchor = vec![None::<bool>; n];
        let mut merged = vec![false; n];
        // The first entry shares nothing with an entry before it; a role alias after an entry
        // whose role is merged in has no role to refer to.
        let mut share = vec![Share::None; n];
        for i in 1..n {
            share[i] = match list[i].share {
                Share::RoleAlias | Share::TaggedAlias if share[i - 1] == Share::Merge => {
                    Share::None
                }
                s => s,
            };
        }
        for i in 1..n {
            match share[i] {
                Share::RoleAlias | Share::TaggedAlias => {
                    let h = source[i - 1].unwrap_or(i - 1);
                    source[i] = Some(h);
                    let tagged = share[i] == Share::TaggedAlias;
                    role_anchor[h] = Some(role_anchor[h].unwrap_or(false) || tagged);
                }
                Share::Merge => merged[i - 1] = true,
                Share::None => {}
            }
        }
        // The first entry is a current admin, so that the file validates.
        for (n, e) in list.iter().enumerate() {
            let email = EMAILS[e.email];
            let role = if n == 0 { Role::Admin } else { e.role };
            let merge = share[n] == Share::Merge;
            let role_text = match (source[n], role_anchor[n]) {
                (Some(h), _) => format!("*r{h}"),
                (None, Some(true)) => format!("!!str &r{n} {role}"),
                (None, Some(false)) => format!("&r{n} {role}"),
                (None, None) => role.to_string(),
            };
            let anchor = if merged[n] {
                format!("&t{n} ")
            } else {
                String::new()
            };
            if e.blank_before && n > 0 {
                chunks.push((None, vec![String::new()]));
            }
            let mut lines = Vec::new();
            if e.comment_above {
                lines.push(format!("{pad}# about {email}"));
            }
            let shown = if e.quoted {
                format!("\"{email}\"")
            } else {
                email.to_string()
            };
            let trailing = if e.trailing { "  # trailing" } else { "" };
            let mut extra = Vec::new();
            if e.reason {
                extra.push(("reason", "'kept for a reason'".to_string()));
            }
            if e.expires && n > 0 {
                extra.push(("expires", "2027-01-01".to_string()));
            }
            let role_field = if merge {
                format!("<<: *t{}", n - 1)
            } else {
                format!("role: {role_text}")
            };
            if e.flow {
                let more: String = extra.iter().map(|(k, v)| format!(", {k}: {v}")).collect();
                lines.push(format!(
                    "{pad}- {anchor}{{email: {shown}, {role_field}{more}}}{trailing}"
                ));
            } else {
                if merged[n] {
                    lines.push(format!("{pad}- &t{n}"));
                    lines.push(format!("{pad}  email: {shown}{trailing}"));
                } else {
                    lines.push(format!("{pad}- email: {shown}{trailing}"));
                }
                lines.push(format!("{pad}  {role_field}"));
                for (k, v) in extra {
                    lines.push(format!("{pad}  {k}: {v}"));
                }
            }
            chunks.push((Some(e.email), lines));
        }
        chunks
    }

    fn text_of(chunks: &Chunks, crlf: bool) -> String {
        let nl = if crlf { "\r\n" } else { "\n" };
        chunks
            .iter()
            .flat_map(|(_, lines)| lines.iter())
            .map(|l| format!("{l}{nl}"))
            .collect()
    }

    fn org_of(members: &[(usize, Role)], invited: &[(usize, Role)]) -> LiveState {
        // One account per email: two accounts with one email are not drift of the file.
        let mut seen = std::collections::BTreeSet::new();
        LiveState {
            members: members
                .iter()
                .filter(|(e, _)| seen.insert(*e))
                .enumerate()
                .map(|(n, (e, r))| LiveMember::new(&format!("u{n}"), EMAILS[*e], r.as_str()))
                .collect(),
            invitations: invited
                .iter()
                .enumerate()
                .map(|(n, (e, r))| LiveInvitation::new(&format!("i{n}"), EMAILS[*e], r.as_str()))
                .collect(),
        }
    }

    fn live_pairs() -> impl Strategy<Value = Vec<(usize, Role)>> {
        prop::collection::vec(
            (
                0..EMAILS.len(),
                prop_oneof![Just(Role::Admin), Just(Role::Member)],
            ),
            0..6,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        #[test]
        fn adopt_then_plan_has_nothing_adopted_left(
            entries in prop::collection::vec(entry(), 1..7),
            indent in prop_oneof![Just(0usize), Just(2), Just(4)],
            sorted in any::<bool>(),
            crlf in any::<bool>(),
            protect in any::<bool>(),
            members in live_pairs(),
            invited in live_pairs(),
            me in prop::option::of(0..EMAILS.len()),
            kinds in prop::sample::subsequence(vec![Kind::Added, Kind::Roles, Kind::Removed], 1..=3),
        ) {
            let chunks = file(&entries, indent, sorted, protect);
            let text = text_of(&chunks, crlf);
            let live = org_of(&members, &invited);
            let o = options(TODAY, me.map(|e| EMAILS[e]), kinds);
            let desired = load(&text, o.today);
            let out = adopt(&text, &desired, &live, &o);
            let out = match out {
                Ok(out) => out,
                Err(e) => return Err(TestCaseError::fail(format!("{e:?}\n{text}"))),
            };
            // It validates (adopt checks; check again), and plan has none of it left.
            prop_assert!(desired::validate(&out.text, o.today).desired.is_ok());
            assert_nothing_adopted_left(&out.text, &live, &out, &o);
            // No email that adopt did not adopt reads otherwise: role, reason, expiry, and the
            // top-level fields.
            let after = load(&out.text, o.today);
            let reading = |d: &Desired, e: &Email| {
                d.members
                    .iter()
                    .filter(|m| &m.email == e)
                    .map(|m| (m.role, m.reason.clone(), m.expires))
                    .collect::<Vec<_>>()
            };
            let adopted: Vec<&Email> = out.adopted.iter().map(Adoption::email).collect();
            for e in desired.members.iter().chain(&after.members).map(|m| &m.email) {
                if !adopted.contains(&e) {
                    prop_assert_eq!(reading(&desired, e), reading(&after, e), "{} reads otherwise:\n{}--- after\n{}", e, text, out.text);
                }
            }
            prop_assert_eq!(
                (&desired.ignore, &desired.protected, &desired.allowed_domains),
                (&after.ignore, &after.protected, &after.allowed_domains)
            );
            prop_assert_eq!(out.changed(), out.text != text);
            // Every line outside the entries of adopted emails is still there, in order.
            let touched: Vec<Email> = out.adopted.iter().map(|a| a.email().clone()).collect();
            let nl = if crlf { "\r\n" } else { "\n" };
            let kept: Vec<String> = chunks
                .iter()
                .filter(|(e, _)| !e.is_some_and(|e| touched.contains(&Email::new(EMAILS[e]))))
                .flat_map(|(_, lines)| lines.iter().map(|l| format!("{l}{nl}")))
                .collect();
            let after: Vec<&str> = out.text.split_inclusive('\n').collect();
            let mut at = 0;
            for line in &kept {
                match after[at..].iter().position(|l| l == line) {
                    Some(p) => at += p + 1,
                    None => return Err(TestCaseError::fail(format!(
                        "line {line:?} lost\n--- before\n{text}--- after\n{}", out.text
                    ))),
                }
            }
            // Added lines belong to added entries: in the file's line ends, at the list's
            // indentation or deeper.
            for line in &after {
                prop_assert!(!crlf || line.ends_with("\r\n"), "{:?}", line);
            }
            // Adopting again adopts nothing.
            let again = adopt(&out.text, &load(&out.text, o.today), &live, &o).unwrap();
            prop_assert!(!again.changed(), "{:?}\n{}", again.adopted, out.text);
        }
    }
}
