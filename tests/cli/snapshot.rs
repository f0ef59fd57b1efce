//! `teamsync snapshot` and `plan --live SNAPSHOT`: plans without a key (docs/contract.md §9),
//! through the real binary.

use crate::support::*;
use crate::{assert_run, assert_text};

#[test]
fn snapshot_writes_the_org_as_read_and_nothing_else() {
    let w = World::new(org(), FILE);
    // One invitation whose age the API does not give in a readable form.
    w.emu
        .shared()
        .set_created_at("orginv_0002", Some("last spring"));
    let r = w.run(&["snapshot"]);
    assert_run!("snapshot_stdout", r);
    assert_run!("snapshot_to_file", w.run(&["snapshot", "-o", "snap.json"]));
    let written = std::fs::read_to_string(w.path("snap.json")).unwrap();
    assert_eq!(written, r.stdout, "the same document, to a file");
    for secret in [KEY, "Bearer", "127.0.0.1", "http", "TESTKEY"] {
        assert!(!written.contains(secret), "{secret} in {written}");
    }
    assert!(w.emu.requests().iter().all(|q| q.method == "GET"));
    assert_text!(
        "snapshot_schema_head",
        w.run(&["schema", "--snapshot"])
            .stdout
            .lines()
            .take(6)
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn plan_live_needs_no_key_and_sends_no_request() {
    let w = World::new(org(), FILE);
    w.snapshot_at("snap.json", "2027-03-31T09:00:00.000Z");
    let before = w.emu.requests().len();
    let text = w.keyless(&["plan", "--live", "snap.json"]);
    assert_run!("live_plan_text", text);
    assert_run!(
        "live_plan_markdown",
        w.keyless(&["plan", "--live", "snap.json", "--format", "markdown"])
    );
    let json = w.keyless(&["plan", "--live", "snap.json", "--format", "json"]);
    assert_run!("live_plan_json", json);
    assert_eq!(w.emu.requests().len(), before, "no request at all");
    // The same plan as from the API, said to come from the snapshot.
    let api = w.run(&["plan", "--format", "json"]);
    let (from_snapshot, from_api): (serde_json::Value, serde_json::Value) = (
        serde_json::from_str(&json.stdout).unwrap(),
        serde_json::from_str(&api.stdout).unwrap(),
    );
    for field in ["changes", "blocked", "summary", "fingerprints", "warnings"] {
        assert_eq!(from_snapshot[field], from_api[field], "{field}");
    }
    assert_eq!(
        from_api["live_source"]["read_at"], NOW,
        "a live read says when it started"
    );
}

#[test]
fn a_snapshot_older_than_seven_days_is_a_warning() {
    let w = World::new(org(), FILE);
    w.snapshot_at("old.json", "2027-03-20T12:00:00Z");
    w.snapshot_at("week.json", "2027-03-24T12:00:00Z");
    assert_run!(
        "live_plan_stale",
        w.keyless(&["plan", "--live", "old.json"])
    );
    let week = w.keyless(&["plan", "--live", "week.json"]);
    assert!(
        !week.stdout.contains("warning"),
        "7 days is not older than 7: {}",
        week.stdout
    );
    has(&week.stdout, "(7 days ago) from week.json.");
}

#[test]
fn a_plan_made_from_a_snapshot_is_checked_against_a_fresh_read_by_apply() {
    let w = World::new(org(), FILE);
    w.snapshot_at("snap.json", "2027-03-31T09:00:00.000Z");
    let r = w.keyless(&["plan", "--live", "snap.json", "--out", "plan.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    // Someone is added by hand after the snapshot: apply reads the org and refuses.
    let mut moved = org();
    moved.add_member("hand@example.com", "org:member");
    w.emu.set_state(moved);
    assert_run!(
        "live_plan_refused_by_apply",
        w.run(&["apply", "--auto-approve", "plan.json"])
    );
    assert_eq!(w.emu.write_count(), 0);
    // The org as the snapshot saw it: the saved plan applies.
    w.emu.set_state(org());
    let r = w.run(&["apply", "--auto-approve", "--parallelism", "1", "plan.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(w.roster(), WANT);
}

#[test]
fn what_is_not_a_snapshot_is_an_error_naming_the_file() {
    let w = World::new(org(), FILE);
    w.snapshot_at("snap.json", "2027-03-31T09:00:00.000Z");
    let good = std::fs::read_to_string(w.path("snap.json")).unwrap();
    w.write("cut.json", &good[..good.len() / 2]);
    w.write(
        "v2.json",
        &good.replace("\"format_version\": 1", "\"format_version\": 2"),
    );
    w.write(
        "no-members.json",
        r#"{"format": "teamsync-snapshot", "format_version": 1, "read_at": "2027-03-31T09:00:00Z", "invitations": []}"#,
    );
    w.write("plan.json", &w.run(&["plan", "--format", "json"]).stdout);
    let before = w.emu.requests().len();
    let mut shown = Vec::new();
    for file in [
        "cut.json",
        "v2.json",
        "no-members.json",
        "plan.json",
        "missing.json",
    ] {
        let r = w.keyless(&["plan", "--live", file]);
        assert_eq!(r.code, 1, "{file}: {}", r.all());
        shown.push(format!("$ teamsync plan --live {file}\n{}", r.whole()));
    }
    // apply never plans against a snapshot.
    shown.push(format!(
        "$ teamsync apply --live snap.json\n{}",
        w.run(&["apply", "--live", "snap.json"]).whole()
    ));
    assert_text!("live_not_a_snapshot", shown.join("\n"));
    assert_eq!(w.emu.requests().len(), before);
}
