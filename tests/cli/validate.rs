//! `teamsync validate`: the file alone, offline.

use crate::support::*;
use crate::{assert_run, assert_text};
use scaling_emulator::OrgState;

#[test]
fn validate_reports_every_problem_with_line_and_column() {
    let w = World::new(
        OrgState::default(),
        "version: 2\ncolour: blue\nallowed_domains: [example.com]\nmembers:\n  - email: jane@example.com\n    role: org:admin\n  - email: JANE@example.com \n    role: org:member\n  - email: bob@gmial.com\n    role: org:member\n  - email: not-an-email\n    role: admin\n    rol: x\n  - email: x@example.com\n    role: org:member\n    expires: 2027-02-30\n",
    );
    assert_run!("validate_errors", w.run(&["validate"]));
}

#[test]
fn validate_accepts_a_good_file_offline_and_warns_about_expiry() {
    let w = World::new(
        OrgState::default(),
        "version: 1\nmembers:\n  - email: jane@example.com\n    role: org:admin\n  - email: temp@example.com\n    role: org:member\n    expires: 2027-04-05\n",
    );
    // No API at all: validate must not need one.
    let r = w.run_env(
        &["validate"],
        &[
            ("SCALING_API_URL", "http://127.0.0.1:9/v1"),
            ("SCALING_API_KEY", ""),
        ],
    );
    assert_run!("validate_ok_offline", r);
    assert_eq!(w.emu.requests().len(), 0);
}

#[test]
fn validate_requires_an_admin_and_a_members_list() {
    let w = World::new(
        OrgState::default(),
        "version: 1\nmembers:\n  - email: a@example.com\n    role: org:member\n",
    );
    assert_run!("validate_no_admin", w.run(&["validate"]));
    w.write("teamsync.yaml", "version: 1\n");
    assert_run!("validate_no_members", w.run(&["validate"]));
}

#[test]
fn github_actions_gets_annotations() {
    let w = World::new(
        OrgState::default(),
        "version: 1\nmembers:\n  - email: jane@example.com\n    role: org:owner\n",
    );
    // On stderr, so the plan on stdout stays clean (the Markdown marker must be line 1).
    assert_run!(
        "validate_annotations",
        w.run_env(&["validate"], &[("GITHUB_ACTIONS", "true")])
    );
    assert_run!(
        "validate_no_annotations_outside_actions",
        w.run(&["validate"])
    );
    // A warning annotation does not disturb a Markdown plan.
    w.write(
        "teamsync.yaml",
        &format!("{FILE}protected: [glass@example.com]\n"),
    );
    assert_run!(
        "plan_markdown_with_annotations",
        w.run_env(
            &["plan", "--format", "markdown"],
            &[("GITHUB_ACTIONS", "true")],
        )
    );
}

/// The two YAML readers (docs/large-orgs.md, Speed): a file in the usual shape is read by the
/// fast path; the same file with CRLF line ends is read by granit-parser (the fast path declines
/// carriage returns). Both must report the same problems at the same lines and columns.
#[test]
fn both_yaml_readers_report_the_same_problems_at_the_same_places() {
    let text = "version: 1\n# the org\nmembers:\n  - email: jane@example.com\n    role: org:owner\n  -   email: 'Bob@Example.com'\n      role: org:member   # the default\n      reason: \"on call\"\n  - email: bob@example.com\n    role: org:admin\n    expires: 2027-02-30\n    colour: blue\n";
    let w = World::new(OrgState::default(), text);
    let fast = w.run(&["validate"]);
    w.write("teamsync.yaml", &text.replace('\n', "\r\n"));
    let full = w.run(&["validate"]);
    assert_eq!(fast.whole(), full.whole());
    assert_run!("validate_two_readers", fast);
}

/// An invalid file ends `plan` and `apply` before any request is sent (docs/decisions.md): the
/// org is read only once the file is known to be valid.
#[test]
fn an_invalid_file_sends_no_request() {
    let w = World::new(
        OrgState::default(),
        "version: 1\nmembers:\n  - email: jane@example.com\n    role: org:owner\n",
    );
    assert_run!("plan_invalid_file", w.run(&["plan"]));
    assert_eq!(w.run(&["apply", "--auto-approve"]).code, 1);
    assert_eq!(w.emu.requests().len(), 0);
}

/// docs/contract.md §1: `TEAMSYNC_FILE` sets the default of `-f`; `-f` wins; a file it names that is
/// missing is an error, as an explicit `-f` is.
#[test]
fn teamsync_file_sets_the_default_of_dash_f() {
    let w = World::new(OrgState::default(), "version: 1\nmembers: []\n");
    w.write(
        "org.yaml",
        "version: 1\nmembers:\n  - email: jane@example.com\n    role: org:admin\n",
    );
    let env = [("TEAMSYNC_FILE", "org.yaml")];
    let runs = [
        w.run_env(&["validate"], &env),
        w.run_env(&["validate", "-f", "teamsync.yaml"], &env),
        w.run_env(&["validate"], &[("TEAMSYNC_FILE", "missing.yaml")]),
    ];
    let all: Vec<String> = runs.iter().map(|r| r.whole()).collect();
    assert_text!("validate_teamsync_file", all.join("\n"));
}

/// docs/contract.md §1: `validate --format json` writes the validation document on stdout, every problem
/// with its file, line and column; exit 1 when not valid, 0 when valid; warnings stay on
/// stderr.
#[test]
fn validate_format_json_lists_every_problem_on_stdout() {
    let w = World::new(
        OrgState::default(),
        "version: 1\nmembers:\n  - email: jane@example.com\n    role: org:boss\n  - email: not-an-email\n    role: org:member\n",
    );
    w.write(
        "good.yaml",
        "version: 1\nmembers:\n  - email: jane@example.com\n    role: org:admin\n  - email: temp@example.com\n    role: org:member\n    expires: 2027-04-05\n",
    );
    let runs = [
        w.run(&["validate", "--format", "json"]),
        w.run(&["validate", "--format", "json", "-f", "good.yaml"]),
    ];
    let all: Vec<String> = runs.iter().map(|r| r.whole()).collect();
    assert_text!("validate_json", all.join("\n"));
}
