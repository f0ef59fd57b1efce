//! `teamsync review` (docs/contract.md §6) through the real binary, in a git repository built
//! by the test with real commits: a merge commit "Merge pull request #12 from …", a squash
//! commit "(#34)", a commit on a branch that only its merge brought to the main line, and an
//! uncommitted edit. Authors and dates are pinned, so the history is the same on every run.

use crate::support::*;
use crate::{assert_run, assert_text};
use std::process::Command;

/// Runs git in the world's directory as `who`, at `date` (both author and committer).
fn git(w: &World, who: &str, date: &str, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(w.dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", w.dir.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", who)
        .env(
            "GIT_AUTHOR_EMAIL",
            format!("{}@example.com", who.to_lowercase()),
        )
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_NAME", who)
        .env(
            "GIT_COMMITTER_EMAIL",
            format!("{}@example.com", who.to_lowercase()),
        )
        .env("GIT_COMMITTER_DATE", date)
        .output()
        .expect("git is needed for the review tests");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

const START: &str = "version: 1
policy:
  internal_domains: [example.com]
  recertify_days: 180
members:
  - email: root@example.com
    role: org:admin
    reason: founder
  - email: bob@example.com
    role: org:member
";

const INTERNS: &str = "  - email: ian@example.com
    role: org:member
    expires: 2027-04-05
  - email: ivy@example.com
    role: org:member
    expires: 2027-04-05
";

/// main: the file (#1, 2026-01-05); a branch adds two interns (2026-05-20), merged into main as
/// pull request #12 (2026-06-01); bob promoted and a contractor added by a squash merge (#34,
/// 2027-03-01); then an uncommitted entry.
pub(crate) fn repository() -> World {
    let w = World::new(org(), START);
    git(
        &w,
        "Ana",
        "2026-01-05T10:00:00Z",
        &["init", "-q", "-b", "main"],
    );
    git(&w, "Ana", "2026-01-05T10:00:00Z", &["add", "teamsync.yaml"]);
    git(
        &w,
        "Ana",
        "2026-01-05T10:00:00Z",
        &["commit", "-q", "-m", "Start the org file (#1)"],
    );
    git(
        &w,
        "Bo",
        "2026-05-20T10:00:00Z",
        &["checkout", "-q", "-b", "interns"],
    );
    w.write("teamsync.yaml", &format!("{START}{INTERNS}"));
    git(
        &w,
        "Bo",
        "2026-05-20T10:00:00Z",
        &["commit", "-q", "-am", "Add the summer interns"],
    );
    git(
        &w,
        "Cy",
        "2026-06-01T10:00:00Z",
        &["checkout", "-q", "main"],
    );
    git(
        &w,
        "Cy",
        "2026-06-01T10:00:00Z",
        &[
            "merge",
            "-q",
            "--no-ff",
            "interns",
            "-m",
            "Merge pull request #12 from acme/interns",
        ],
    );
    let promoted = format!(
        "{}{INTERNS}  - email: pat@partner.io\n    role: org:member\n    reason: auditor's contractor\n",
        START.replace(
            "  - email: bob@example.com\n    role: org:member\n",
            "  - email: bob@example.com\n    role: org:admin\n"
        )
    );
    w.write("teamsync.yaml", &promoted);
    git(
        &w,
        "Di",
        "2027-03-01T10:00:00Z",
        &[
            "commit",
            "-q",
            "-am",
            "Promote bob, add the contractor (#34)",
        ],
    );
    w.write(
        "teamsync.yaml",
        &format!(
            "{promoted}  - email: erin@example.com\n    role: org:member\n    reason: new hire\n"
        ),
    );
    w
}

/// The binary, with a PATH to find git, and without the API key: review needs none.
pub(crate) fn review(w: &World, args: &[&str]) -> Run {
    let mut c = w.cmd(args);
    c.env_remove("SCALING_API_KEY")
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    c.output().unwrap().into()
}

/// Commit hashes depend on git's object format; the dates, authors and pull requests name the
/// commits in the snapshots.
fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() == 40 || run.len() == 64 {
            out.push_str("[COMMIT]");
        } else if run.len() == 12 {
            out.push_str("[SHORT]");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_hexdigit() && c.is_ascii_lowercase() || c.is_ascii_digit() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[test]
fn review_names_when_and_in_which_pull_request_each_entry_came_in_every_format() {
    let w = repository();
    let md = review(&w, &["review"]);
    assert_text!("review_markdown", redact(&md.whole()));
    let csv = review(&w, &["review", "--format", "csv"]);
    assert_text!("review_csv", redact(&csv.whole()));
    let json = review(&w, &["review", "--format", "json"]);
    assert_text!("review_json", redact(&json.whole()));
    // The JSON is what its schema says, and `added` comes from the merge along first parents.
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let ian = doc["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["email"] == "ian@example.com")
        .unwrap();
    assert_eq!(ian["added"]["pr"], 12);
    assert_eq!(ian["added"]["author"], "Cy <cy@example.com>");
    assert_eq!(w.emu.requests().len(), 0, "no request");
}

#[test]
fn review_with_a_snapshot_shows_the_orgs_side_and_writes_to_a_file() {
    let w = repository();
    w.snapshot_at("snap.json", "2027-03-31T09:00:00.000Z");
    let sent = w.emu.requests().len();
    let r = review(
        &w,
        &[
            "review",
            "--live",
            "snap.json",
            "--format",
            "csv",
            "-o",
            "review.csv",
        ],
    );
    assert_run!("review_live_to_file", r);
    assert_text!(
        "review_live_csv",
        redact(&std::fs::read_to_string(w.path("review.csv")).unwrap())
    );
    assert_eq!(w.emu.requests().len(), sent, "no request");
    // -o never replaces an input.
    assert_run!(
        "review_output_is_input",
        review(&w, &["review", "-o", "snap.json", "--live", "snap.json"])
    );
}

#[test]
fn review_outside_git_says_the_dates_are_unknown() {
    let w = World::new(org(), START);
    let mut c = w.cmd(&["review", "--format", "json"]);
    c.env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("GIT_CEILING_DIRECTORIES", w.dir.path().parent().unwrap());
    let r: Run = c.output().unwrap().into();
    assert_run!("review_outside_git", r);
}

#[test]
fn review_schema_is_printed() {
    let w = World::new(org(), START);
    let r = w.run(&["schema", "--review"]);
    assert_eq!(r.code, 0);
    assert_eq!(
        r.stdout,
        std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/schema/review.schema.json"
        ))
        .unwrap()
    );
}

/// A directory of parts: each part's lines from its own history, each entry naming its part.
#[test]
fn review_of_a_directory_names_each_entrys_part() {
    let w = World::new(org(), START);
    std::fs::create_dir(w.path("org")).unwrap();
    w.write(
        "org/admins.yaml",
        "version: 1\nmembers:\n  - email: root@example.com\n    role: org:admin\n    reason: founder\n",
    );
    w.write(
        "org/team.yaml",
        "version: 1\nmembers:\n  - email: bo@example.com\n    role: org:member\n",
    );
    git(
        &w,
        "Ana",
        "2026-01-05T10:00:00Z",
        &["init", "-q", "-b", "main"],
    );
    git(&w, "Ana", "2026-01-05T10:00:00Z", &["add", "org"]);
    git(
        &w,
        "Ana",
        "2026-01-05T10:00:00Z",
        &["commit", "-q", "-m", "The org in parts (#7)"],
    );
    w.write(
        "org/team.yaml",
        "version: 1\nmembers:\n  - email: bo@example.com\n    role: org:member\n  - email: cy@example.com\n    role: org:member\n",
    );
    git(
        &w,
        "Bo",
        "2027-02-01T10:00:00Z",
        &["commit", "-q", "-am", "Add cy (#8)"],
    );
    assert_text!(
        "review_directory_csv",
        redact(&review(&w, &["review", "-f", "org", "--format", "csv"]).whole())
    );
}
