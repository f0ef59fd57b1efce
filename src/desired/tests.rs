//! Loader and validator tests: every field of the file, the policy fields and their
//! contradictions, the expiry notice boundary, and where each problem is reported.

use super::strings::not_utf8;
use super::*;

fn today() -> Date {
    Date::parse("2027-03-31").unwrap()
}

fn ok(text: &str) -> Desired {
    let l = validate(text, today());
    l.desired.unwrap_or_else(|e| panic!("{e:?}"))
}

fn errors(text: &str) -> Vec<String> {
    validate(text, today())
        .desired
        .expect_err("expected validation errors")
        .iter()
        .map(|d| format!("{}:{}: {}", d.line, d.column, d.message))
        .collect()
}

const HEAD: &str = "version: 1\nmembers:\n  - email: root@example.com\n    role: org:admin\n";

#[test]
fn invitations_resend_after_days_is_a_whole_number_of_days() {
    let with = |v: &str| format!("{HEAD}invitations:\n  resend_after_days: {v}\n");
    assert_eq!(ok(&with("30")).invitations.resend_after_days, Some(30));
    assert_eq!(ok(HEAD).invitations.resend_after_days, None);
    for bad in ["0", "-1", "'30'", "1.5", "36501"] {
        assert_eq!(
            errors(&with(bad)),
            ["6:22: `resend_after_days` must be a whole number of days, from 1 to 36500"],
            "{bad}"
        );
    }
    assert!(
        errors(&format!("{HEAD}invitations: {{resend: 3}}\n"))[0]
            .contains("unknown field `resend` in `invitations`")
    );
}

#[test]
fn control_characters_in_strings_are_errors_at_their_string() {
    let e = errors(&format!(
        "{HEAD}  - email: a@example.com\n    role: org:member\n    reason: \"new\\e[2Khire\"\n"
    ));
    assert_eq!(
        e,
        [
            "7:13: a string holds the control character U+001B; control characters (and bidirectional overrides) are not allowed in the file's strings"
        ]
    );
    let e = errors(&format!(
        "{HEAD}  - email: a@example.com\n    role: org:member\n    reason: \"x\\n::warning y\"\n"
    ));
    assert!(e[0].contains("U+000A"), "{e:?}");
    assert!(errors(&format!("{HEAD}ignore: [\"a\\u202e@x.io\"]\n"))[0].contains("U+202E"));
    // A block scalar's final line break, and surrounding blanks, are fine.
    let d = ok(&format!(
        "{HEAD}  - email: a@example.com\n    role: org:member\n    reason: |\n      new hire\n"
    ));
    assert_eq!(d.members[1].reason.as_deref(), Some("new hire"));
}

#[test]
fn version_must_be_written_as_1() {
    for v in ["0x1", "0o1", "+1"] {
        let e = errors(&format!(
            "version: {v}\nmembers:\n  - email: r@example.com\n    role: org:admin\n"
        ));
        assert_eq!(
            e,
            [format!(
                "1:10: unsupported version `{v}`; this teamsync reads `version: 1`, written as the integer 1"
            )],
            "{v}"
        );
    }
    ok("{version: 1, members: [{email: r@example.com, role: org:admin}]}");
    ok("version: 1 # the only one\nmembers:\n  - email: r@example.com\n    role: org:admin\n");
}

/// A byte-order mark changes no check (docs/contract.md §3): the version's column on the first
/// line does not count it, so `version: 0x1` after a BOM is refused as it is without one, by
/// either reader.
#[test]
fn a_bom_does_not_hide_how_version_is_written() {
    let body = "version: 0x1\nmembers:\n  - email: r@example.com\n    role: org:admin\n";
    let want = "1:10: unsupported version `0x1`; this teamsync reads `version: 1`, written as the integer 1";
    assert!(
        crate::yaml::read_by_fast_path(body),
        "the fast path reads the usual shape"
    );
    assert_eq!(errors(body), [want]);
    let bom = format!("\u{feff}{body}");
    assert!(
        !crate::yaml::read_by_fast_path(&bom),
        "granit-parser reads a BOM"
    );
    assert_eq!(errors(&bom), [want]);
    assert_eq!(errors(&bom.replace('\n', "\r\n")), [want]);
    // Anchors send the file to granit-parser too; a flow mapping on the BOM's line.
    let anchored =
        "\u{feff}version: 0x1\nmembers:\n  - &r {email: r@example.com, role: org:admin}\n";
    assert_eq!(errors(anchored), [want]);
    assert_eq!(
        errors("\u{feff}{version: 0o1, members: [{email: r@example.com, role: org:admin}]}"),
        [
            "1:11: unsupported version `0o1`; this teamsync reads `version: 1`, written as the integer 1"
        ]
    );
    // On a later line the BOM is not in the way; and `1` after a BOM is fine.
    assert_eq!(
        errors(&format!("\u{feff}# head\n{body}")),
        [want.replacen("1:10", "2:10", 1)]
    );
    ok(&format!("\u{feff}{HEAD}"));
}

/// Invisible characters in an email (docs/contract.md §3) are errors at the character's own
/// column when it is written there, at the email's otherwise.
#[test]
fn invisible_characters_in_emails_are_errors_at_their_position() {
    let e = errors(&format!(
        "{HEAD}  - email: admin\u{3164}@example.com\n    role: org:member\n  - {{email: 'b\u{115f}@x.io', role: org:member}}\n  - email: \"c\\u200b@x.io\"\n    role: org:member\nprotected: [root@example.com, \"d\u{ffa0}@x.io\"]\n"
    ));
    assert_eq!(
        e,
        [
            "5:17: `admin\\u{3164}@example.com` holds the invisible character U+3164 (character 6 of the address); an invisible character makes one address look like another: remove it",
            "7:15: `b\\u{115f}@x.io` holds the invisible character U+115F (character 2 of the address); an invisible character makes one address look like another: remove it",
            "8:12: `c\\u{200b}@x.io` holds the invisible character U+200B (character 2 of the address); an invisible character makes one address look like another: remove it",
            "10:33: protected: `d\\u{ffa0}@x.io` holds the invisible character U+FFA0 (character 2 of the address); an invisible character makes one address look like another: remove it",
        ]
    );
    // On the first line, after a BOM: the BOM is no column.
    let e = errors(
        "\u{feff}{version: 1, members: [{email: root@example.com, role: org:admin}, {email: x\u{200d}@x.io, role: org:member}]}",
    );
    assert!(e[0].starts_with("1:77: `x\\u{200d}@x.io`"), "{e:?}");
}

#[test]
fn invalid_utf8_is_an_error_at_its_position() {
    let mut bytes = HEAD.as_bytes().to_vec();
    bytes.extend_from_slice(b"  - email: caf\xe9@example.com\n    role: org:member\n");
    let e = not_utf8(&bytes, 0).unwrap();
    assert_eq!((e.line, e.column), (5, 15));
    assert!(
        e.message
            .starts_with("the file is not valid UTF-8 (byte 0xe9"),
        "{e:?}"
    );
    assert!(not_utf8(HEAD.as_bytes(), 0).is_none());
}

#[test]
fn decomposed_emails_are_refused_saying_so_and_composed_ones_load() {
    let nfd = format!("{HEAD}  - email: jose\u{301}@example.com\n    role: org:member\n");
    let e = errors(&nfd);
    assert!(
            e[0].starts_with("5:12: `jose\u{301}@example.com` holds the combining character U+0301: it is written in decomposed Unicode (NFD)"),
            "{e:?}"
        );
    let nfc = format!("{HEAD}  - email: jos\u{e9}@example.com\n    role: org:member\n");
    assert_eq!(ok(&nfc).members[1].email.as_str(), "jos\u{e9}@example.com");
    assert!(
        errors(&format!("{HEAD}protected: [\"jose\u{301}@example.com\"]\n"))[0].contains("NFD")
    );
}

#[test]
fn protected_takes_exact_emails_not_patterns() {
    let e = errors(&format!(
        "{HEAD}protected: ['*@example.com', root@example.co?]\n"
    ));
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(e[0].starts_with("5:13: protected: `*@example.com` contains `*` or `?`; `protected` takes exact emails, not patterns"), "{e:?}");
}

#[test]
fn a_full_file_loads_every_field() {
    let d = ok("version: 1
allowed_domains: [Example.com, '*.example.org']
ignore: ['*@Vendor.io', 'bot?@example.com']
protected: [Root@Example.com]
safety:
  max_removals: 10%
  min_admins: 2
members:
  - email: ' Root@Example.com '
    role: org:admin
    reason: owner
  - email: b@eu.example.org
    role: org:member
    expires: 2027-06-30
");
    assert_eq!(d.allowed_domains, vec!["example.com", "*.example.org"]);
    assert!(
        d.is_ignored(&Email::new("support@VENDOR.IO"))
            && d.is_ignored(&Email::new("bot1@example.com"))
            && !d.is_ignored(&Email::new("bot12@example.com"))
    );
    assert!(d.is_protected(&Email::new("ROOT@example.com")));
    assert_eq!(
        d.safety,
        Safety {
            max_removals: Some(MaxRemovals::Percent(10)),
            min_admins: 2
        }
    );
    assert_eq!(d.members[0].email.as_str(), "root@example.com");
    assert_eq!(d.members[0].reason.as_deref(), Some("owner"));
    assert_eq!((d.members[0].loc.line, d.members[0].loc.column), (9, 12));
    assert_eq!(d.members[1].expires, Date::parse("2027-06-30"));
}

#[test]
fn max_removals_takes_a_number_or_a_percentage() {
    let with = |v: &str| format!("{HEAD}safety:\n  max_removals: {v}\n");
    assert_eq!(
        ok(&with("5")).safety.max_removals,
        Some(MaxRemovals::Count(5))
    );
    assert_eq!(
        ok(&with("\"25 %\"")).safety.max_removals,
        Some(MaxRemovals::Percent(25))
    );
    for bad in ["-1", "150%", "lots", "1.5"] {
        assert!(
            errors(&with(bad))[0].contains("`max_removals` must be"),
            "{bad}"
        );
    }
    assert!(errors(&format!("{HEAD}safety:\n  min_admins: -2\n"))[0].contains("`min_admins`"));
    assert!(
        errors(&format!("{HEAD}safety:\n  max_admins: 2\n"))[0]
            .contains("unknown field `max_admins` in `safety`")
    );
}

#[test]
fn an_ignore_pattern_matching_a_member_is_a_contradiction() {
    let e = errors(&format!("{HEAD}ignore: ['ROOT@*']\n"));
    assert_eq!(
        e,
        vec![
            "5:10: ignore pattern `root@*` matches `root@example.com` listed at line 3: teamsync cannot both manage and ignore it"
        ]
    );
    assert!(errors(&format!("{HEAD}ignore: ['']\n"))[0].contains("empty"));
}

#[test]
fn allowed_domains_exact_and_subdomains() {
    let file = |email: &str| {
        format!(
            "version: 1\nallowed_domains: [example.com, '*.corp.example.org']\nmembers:\n  - email: {email}\n    role: org:admin\n"
        )
    };
    ok(&file("a@example.com"));
    ok(&file("a@EU.corp.example.org"));
    for bad in [
        "a@gmial.com",
        "a@sub.example.com",
        "a@corp.example.org",
        "a@evilcorp.example.org",
    ] {
        let e = errors(&file(bad));
        assert!(e[0].starts_with("4:12: domain"), "{bad}: {e:?}");
        assert!(e[0].contains("is not in allowed_domains"), "{e:?}");
    }
    assert!(
        errors("version: 1\nallowed_domains: ['@x.com']\nmembers: []\n")[0]
            .contains("is not a domain")
    );
}

#[test]
fn protected_must_be_emails_and_missing_ones_warn() {
    assert!(errors(&format!("{HEAD}protected: [not-an-email]\n"))[0].contains("protected:"));
    let l = validate(&format!("{HEAD}protected: [glass@example.com]\n"), today());
    assert!(l.desired.is_ok());
    assert_eq!(l.warnings.len(), 1);
    assert!(
        l.warnings[0]
            .message
            .contains("glass@example.com` is not listed"),
        "{:?}",
        l.warnings
    );
}

#[test]
fn expiry_notice_covers_the_next_14_days_only() {
    let with = |date: &str| {
        validate(
            &format!(
                "{HEAD}  - email: temp@example.com\n    role: org:member\n    expires: {date}\n"
            ),
            today(),
        )
        .desired
        .unwrap()
    };
    let notice = |date: &str| {
        with(date)
            .expiring(today())
            .iter()
            .map(|(c, _)| crate::plan::Warning::Expiring(c.clone()).to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        notice("2027-03-31"),
        vec!["1 entry expires on 2027-03-31, today (removed from tomorrow): temp@example.com"]
    );
    assert_eq!(
        notice("2027-04-01"),
        vec!["1 entry expires on 2027-04-01, tomorrow: temp@example.com"]
    );
    assert_eq!(
        notice("2027-04-13"),
        vec!["1 entry expires on 2027-04-13, in 13 days: temp@example.com"]
    );
    assert!(
        notice("2027-04-14").is_empty(),
        "14 days ahead is outside the notice window"
    );
    assert!(
        notice("2027-03-30").is_empty(),
        "already expired: the plan removes it, validate says nothing more"
    );
    let d = with("2027-04-01");
    let (_, first) = &d.expiring(today())[0];
    assert_eq!((first.loc.line, first.loc.column), (5, 12));
    assert!(
        validate(
            &format!(
                "{HEAD}  - email: temp@example.com\n    role: org:member\n    expires: 2027-04-01\n"
            ),
            today()
        )
        .warnings
        .is_empty(),
        "the loader says nothing per entry: the commands say it once per date"
    );
}

#[test]
fn every_problem_is_reported_at_once_in_line_order() {
    let e = errors(
        "version: 3
members:
  - email: a@example.com
    role: org:admin
  - email: A@EXAMPLE.COM
    role: org:member
  - role: org:member
  - email: x@example.com
  - email: 42
    role: org:member
  - just a string
",
    );
    assert_eq!(
        e,
        vec![
            "1:10: unsupported version; this teamsync reads `version: 1`",
            "5:12: duplicate email `a@example.com`: already listed at line 3 (emails are compared case-insensitively)",
            "7:5: member is missing required field `email`",
            "8:5: member is missing required field `role` (org:admin or org:member)",
            "9:12: `email` must be a string, found a number",
            "11:5: a member must be a mapping, found a string",
        ]
    );
}

#[test]
fn yaml_syntax_errors_have_a_position() {
    let e = errors("version: 1\nmembers:\n  - email: a@example.com\n   role: [\n");
    assert_eq!(e.len(), 1);
    assert!(e[0].contains("invalid YAML"), "{e:?}");
    assert!(!e[0].starts_with("0:"), "{e:?}");
}

#[test]
fn aliases_work_for_shared_values() {
    let d = ok(
        "version: 1\nmembers:\n  - email: a@example.com\n    role: &admin org:admin\n  - email: b@example.com\n    role: *admin\n",
    );
    assert_eq!(d.members[1].role, Role::Admin);
}

#[test]
fn domain_allowed_rules() {
    let allowed = vec!["example.com".to_string(), "*.example.org".to_string()];
    assert!(domain_allowed(&allowed, &Email::new("a@example.com")));
    assert!(!domain_allowed(&allowed, &Email::new("a@xexample.com")));
    assert!(domain_allowed(&allowed, &Email::new("a@x.example.org")));
    assert!(!domain_allowed(&allowed, &Email::new("a@example.org")));
    assert!(!domain_allowed(&allowed, &Email::new("a@xexample.org")));
}

#[test]
fn duplicates_are_found_even_in_entries_with_other_problems() {
    let e = errors(
        "version: 1
allowed_domains: [example.com]
members:
  - email: a@example.com
    role: org:admin
  - email: A@Example.com
    role: admin
  - email: b@example.org
    role: org:member
  - email: B@example.org
    role: org:member
    expires: someday
  - email: a@EXAMPLE.com
    role: org:member
    colour: blue
",
    );
    assert_eq!(
        e,
        vec![
            "6:12: duplicate email `a@example.com`: already listed at line 4 (emails are compared case-insensitively)",
            "7:11: unknown role `admin`; use `org:admin` or `org:member`",
            "8:12: domain `example.org` of `b@example.org` is not in allowed_domains (example.com); is it a typo?",
            "10:12: domain `example.org` of `b@example.org` is not in allowed_domains (example.com); is it a typo?",
            "10:12: duplicate email `b@example.org`: already listed at line 8 (emails are compared case-insensitively)",
            "12:14: `expires` must be a date written YYYY-MM-DD (kept through that day, UTC)",
            "13:12: duplicate email `a@example.com`: already listed at line 4 (emails are compared case-insensitively)",
            "15:5: unknown field `colour` in a member; expected one of: email, role, reason, expires",
        ]
    );
}

#[test]
fn a_missing_admin_is_reported_with_other_problems_unless_a_role_is_unreadable() {
    let e = errors(
        "version: 2
members:
  - email: a@example.com
    role: org:member
  - email: not-an-email
    role: org:member
",
    );
    assert_eq!(
        e,
        vec![
            "1:10: unsupported version; this teamsync reads `version: 1`",
            "3:3: no member has role `org:admin`; the API requires at least one admin",
            "5:12: `not-an-email` is not a valid email address (Missing separator character '@'.)",
        ]
    );
    // An admin entry with another problem still counts as the admin.
    let e = errors("version: 1\nmembers:\n  - email: a@localhost\n    role: org:admin\n");
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].starts_with("3:12: `a@localhost` is not a valid"),
        "{e:?}"
    );
    // A role that is missing, invalid or unreadable may be the admin: not reported.
    for entry in [
        "  - email: b@example.com\n",
        "  - email: b@example.com\n    role: org:owner\n",
        "  - just a string\n",
    ] {
        let e = errors(&format!(
            "version: 1\nmembers:\n  - email: a@example.com\n    role: org:member\n{entry}"
        ));
        assert!(!e.iter().any(|m| m.contains("no member has role")), "{e:?}");
        assert_eq!(e.len(), 1, "{e:?}");
    }
}

#[test]
fn an_admin_whose_expiry_has_passed_does_not_count() {
    let file = |expires: &str| {
        format!(
            "version: 1\nmembers:\n  - email: a@example.com\n    role: org:admin\n    expires: {expires}\n  - email: b@example.com\n    role: org:member\n"
        )
    };
    assert_eq!(
        errors(&file("2027-03-30")),
        vec![
            "3:3: no member has role `org:admin` that has not expired; the API requires at least one admin (the admin listed is past its `expires` date)"
        ]
    );
    // Kept through its last day (UTC).
    assert_eq!(ok(&file("2027-03-31")).members.len(), 2);
    // Another admin that has not expired is enough.
    ok(&format!(
        "{}  - email: c@example.com\n    role: org:admin\n    expires: 2027-04-30\n",
        file("2027-01-01")
    ));
    let e = errors(&format!(
        "{}  - email: c@example.com\n    role: org:admin\n    expires: 2026-12-31\n",
        file("2027-01-01")
    ));
    assert_eq!(
        e,
        vec![
            "3:3: no member has role `org:admin` that has not expired; the API requires at least one admin (the 2 admins listed are past their `expires` date)"
        ]
    );
}

/// `org` (docs/contract.md §3): 1 to 64 letters, digits, `-`, `_`, `.`; anything else an error
/// at the value, which is never echoed (it may hold what a terminal would act on).
#[test]
fn org_is_a_short_plain_name() {
    let with = |v: &str| format!("{HEAD}org: {v}\n");
    assert_eq!(ok(HEAD).org, None);
    assert_eq!(ok(&with("acme-prod")).org.as_deref(), Some("acme-prod"));
    assert_eq!(ok(&with("A.b_9")).org.as_deref(), Some("A.b_9"));
    assert_eq!(ok(&with(&"x".repeat(64))).org.map(|o| o.len()), Some(64));
    assert_eq!(
        errors(&with(&"x".repeat(65))),
        [
            "5:6: `org` has 65 characters; an org name has 1 to 64 letters, digits, `-`, `_` or `.`, such as `acme-prod`"
        ]
    );
    assert_eq!(
        errors(&with("''")),
        [
            "5:6: `org` is empty; name the org with 1 to 64 letters, digits, `-`, `_` or `.`, such as `acme-prod`"
        ]
    );
    for bad in ["acme prod", "acme/prod", "\"acmé\"", "'@acme'"] {
        assert_eq!(
            errors(&with(bad)),
            [
                "5:6: `org` may hold only 1 to 64 letters, digits, `-`, `_` or `.`, such as `acme-prod`"
            ],
            "{bad}"
        );
    }
    assert_eq!(
        errors(&with("[a]")),
        [
            "5:6: `org` must be a string of 1 to 64 letters, digits, `-`, `_` or `.`, such as `acme-prod`, found a list"
        ]
    );
}

/// The loader never panics: on random bytes, on a valid file mutated, on hostile documents
/// (deep nesting, alias bombs, huge strings) and on a 50 MB file.
mod properties {
    use crate::date::Date;
    use crate::desired;
    use proptest::prelude::*;

    fn today() -> Date {
        Date::parse("2027-01-01").unwrap()
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

    #[test]
    fn valid_fixture_loads() {
        let l = desired::validate(VALID, today());
        assert!(l.desired.is_ok(), "{:?}", l.desired);
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
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]

    /// `validate_parts` skips the walk over the strings for an ASCII text the fast path read:
    /// on such a tree, the walk never finds a forbidden character, whatever control
    /// characters, tabs or escapes the text was written with.
    #[test]
    fn the_string_walk_finds_nothing_where_it_is_skipped(
        text in "(([a-z\t\\\\\x1b\x7f]{1,4}: |  - |- )([ -~\t\r\x0b\x1b\x7f]|\\\\t){0,12}\n){1,8}",
    ) {
        if let (Ok(root), true) = crate::yaml::parse_part_noting_reader(&text, 0) {
            if text.is_ascii() {
                let mut found = Vec::new();
                strings::control_characters(&root, &mut found);
                proptest::prop_assert!(found.is_empty(), "{:?}: {:?}", text, found);
            }
        }
    }
}
