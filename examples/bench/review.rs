//! The review row (docs/contract.md §6): `teamsync review` of a 5,000-entry file whose git
//! history has 2,000 commits on the main line (squash merges `(#N)` and merges `Merge pull
//! request #N`, entries added over time and roles changed in place), built in a temp dir with
//! `git fast-import`. Goal (issue 29): under 5 s.

use super::*;
use std::io::Write as _;

const ENTRIES: usize = 5_000;
const COMMITS: usize = 2_000;

/// The file after `added` entries, with every entry `i < changed` that is a multiple of 7
/// promoted.
fn file(added: usize, changed: usize) -> String {
    let mut s = String::from(
        "version: 1\nmembers:\n  - email: root@example.com\n    role: org:admin\n    reason: founder\n",
    );
    for i in 0..added {
        let role = if i % 7 == 0 && i < changed {
            "org:admin"
        } else {
            "org:member"
        };
        s.push_str(&format!(
            "  - email: user{i:05}@example.com\n    role: {role}\n    reason: team {}\n",
            i % 40
        ));
    }
    s
}

/// A repository in `dir` whose `teamsync.yaml` has [`COMMITS`] commits and [`ENTRIES`] entries.
fn build_repository(dir: &Path) {
    let git = |args: &[&str]| {
        let status = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .stdout(Stdio::null())
            .status()
            .expect("git is needed for the review row");
        assert!(status.success(), "git {args:?}");
    };
    git(&["init", "-q", "-b", "main"]);
    let mut child = Command::new("git")
        .args(["fast-import", "--quiet"])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .spawn()
        .expect("git fast-import");
    let mut stdin = std::io::BufWriter::new(child.stdin.take().expect("stdin"));
    let start = 1_700_000_000u64;
    for c in 0..COMMITS {
        let added = (c + 1) * ENTRIES / COMMITS;
        // Every third commit promotes what the earlier ones added, in place.
        let changed = if c % 3 == 0 {
            added / 2
        } else {
            c * ENTRIES / COMMITS / 2
        };
        let text = file(added, changed);
        let message = if c % 5 == 0 {
            format!("Merge pull request #{} from acme/change-{c}", c + 1)
        } else {
            format!("Change {c} (#{})", c + 1)
        };
        let when = start + c as u64 * 3_600;
        let _ = write!(
            stdin,
            "commit refs/heads/main\ncommitter Dev{} <dev{}@example.com> {when} +0000\ndata {}\n{message}\nM 100644 inline teamsync.yaml\ndata {}\n{text}\n",
            c % 9,
            c % 9,
            message.len(),
            text.len()
        );
    }
    drop(stdin);
    assert!(child.wait().expect("fast-import").success());
    git(&["checkout", "-q", "-f", "main"]);
}

pub(super) fn bench_review(bin: &Path, rows: &mut Vec<Row>) {
    let dir = tempfile::tempdir().expect("a temp dir");
    build_repository(dir.path());
    let (mut walls, mut cpus) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        let run = run_binary(
            bin,
            &["review", "--format", "json", "-o", "review.json"],
            "http://127.0.0.1:9/v1",
            dir.path(),
        );
        if run.code != 0 {
            let err = std::fs::read_to_string(dir.path().join("stderr")).unwrap_or_default();
            panic!("teamsync review exited {}: {err}", run.code);
        }
        walls.push(run.wall);
        // The child's rusage includes the git it waited for.
        cpus.push(run.user + run.sys);
    }
    let review: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("review.json")).expect("the review"),
    )
    .expect("JSON");
    let entries = review["entries"].as_array().map_or(0, Vec::len);
    assert_eq!(entries, ENTRIES + 1, "every entry reviewed");
    assert!(
        review["entries"][1]["added"]["pr"].is_u64(),
        "the history was read"
    );
    let wall = median(walls);
    rows.push(Row {
        bench: "review (git history)".into(),
        size: format!("{} entries, {} commits", size(ENTRIES), size(COMMITS)),
        figure: ms(wall),
        extra: format!(
            "`git blame --first-parent` and the review, JSON to a file; CPU (git's included) {}",
            ms(median(cpus))
        ),
        goal: "< 5 s".into(),
        met: Some(wall < Duration::from_secs(5)),
    });
}
