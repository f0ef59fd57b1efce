//! Org identity (docs/contract.md §3, §9): the file's `org:` in snapshots, saved plans and
//! reports; a snapshot or a baseline of another org refused; snapshots that no read could have
//! made refused. Through the real binary.

use crate::assert_run;
use crate::support::*;

/// [`FILE`] naming its org.
fn named(org: &str) -> String {
    FILE.replacen("version: 1\n", &format!("version: 1\norg: {org}\n"), 1)
}

#[test]
fn a_snapshot_carries_the_files_org_and_a_plan_refuses_another_orgs() {
    let w = World::new(org(), &named("acme-prod"));
    // The default file is read when it exists: the snapshot names its org.
    let r = w.run_env(
        &["snapshot", "-o", "snap.json"],
        &[("TEAMSYNC_NOW", "2027-03-31T09:00:00.000Z")],
    );
    assert_run!("org_snapshot_written", r);
    let snap: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(w.path("snap.json")).unwrap()).unwrap();
    assert_eq!(snap["org"], "acme-prod");
    // The same org: planned as usual.
    assert_eq!(w.keyless(&["plan", "--live", "snap.json"]).code, 0);
    // The staging file against prod's snapshot: an error naming both, nothing planned.
    w.write("staging.yaml", &named("acme-staging"));
    assert_run!(
        "org_snapshot_of_another_org",
        w.keyless(&["plan", "-f", "staging.yaml", "--live", "snap.json"])
    );
    // A file that names no org plans against any snapshot (nothing to compare).
    w.write("plain.yaml", FILE);
    assert_eq!(
        w.keyless(&["plan", "-f", "plain.yaml", "--live", "snap.json"])
            .code,
        0
    );
}

#[test]
fn a_baseline_of_another_org_is_an_error_before_any_request() {
    let w = World::new(org(), &named("acme-prod"));
    w.write("base.yaml", &named("acme-staging"));
    let r = w.run(&["plan", "--baseline", "base.yaml"]);
    assert_run!("org_baseline_of_another_org", r);
    assert!(w.emu.requests().is_empty(), "nothing read");
    // The same refusal for apply, nothing sent.
    let r = w.run(&["apply", "--auto-approve", "--baseline", "base.yaml"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(w.emu.requests().is_empty());
}

#[test]
fn snapshot_reads_an_explicit_file_and_refuses_one_it_cannot_read() {
    let w = World::new(org(), FILE);
    assert_run!(
        "org_snapshot_missing_file",
        w.run(&["snapshot", "-f", "missing.yaml"])
    );
    w.write("bad.yaml", "version: 1\norg: acme prod\nmembers: []\n");
    assert_run!(
        "org_snapshot_invalid_file",
        w.run(&["snapshot", "-f", "bad.yaml"])
    );
    assert!(w.emu.requests().is_empty(), "nothing read");
    // Without -f and without teamsync.yaml, no org: the snapshot is written all the same.
    std::fs::remove_file(w.path("teamsync.yaml")).unwrap();
    let r = w.run(&["snapshot"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(!r.stdout.contains("\"org\""), "{}", r.stdout);
}

#[test]
fn snapshots_no_read_could_make_are_refused() {
    let w = World::new(org(), FILE);
    w.snapshot_at("snap.json", "2027-03-31T09:00:00.000Z");
    let good = std::fs::read_to_string(w.path("snap.json")).unwrap();
    // Two reads joined: one member twice.
    let doc: serde_json::Value = serde_json::from_str(&good).unwrap();
    let mut joined = doc.clone();
    let first = joined["members"][0].clone();
    joined["members"].as_array_mut().unwrap().push(first);
    w.write("joined.json", &joined.to_string());
    // A member's email twice under two ids (written in another case).
    let mut twice = doc.clone();
    twice["members"][1]["email"] = doc["members"][0]["email"]
        .as_str()
        .unwrap()
        .to_uppercase()
        .into();
    w.write("twice.json", &twice.to_string());
    // Read an hour after the command's clock.
    w.write(
        "future.json",
        &good.replace("2027-03-31T09:00:00.000Z", "2027-03-31T13:00:00.000Z"),
    );
    let runs: Vec<String> = ["joined.json", "twice.json", "future.json"]
        .iter()
        .map(|s| w.keyless(&["plan", "--live", s]).whole())
        .collect();
    insta::with_settings!({ prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!("org_snapshots_refused", runs.join("\n---\n"));
    });
}

#[test]
fn saved_plans_and_reports_carry_the_org() {
    let w = World::new(org(), &named("acme-prod"));
    let r = w.run(&["plan", "--out", "plan.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(w.path("plan.json")).unwrap()).unwrap();
    assert_eq!(saved["org"], "acme-prod");
    let json: serde_json::Value =
        serde_json::from_str(&w.run(&["plan", "--format", "json"]).stdout).unwrap();
    assert_eq!(json["org"], "acme-prod");
    // A saved plan of another org is refused before the org is read.
    let other = std::fs::read_to_string(w.path("plan.json"))
        .unwrap()
        .replace("\"acme-prod\"", "\"acme-staging\"");
    w.write("other.json", &other);
    let before = w.emu.requests().len();
    assert_run!(
        "org_saved_plan_of_another_org",
        w.run(&["apply", "--auto-approve", "other.json"])
    );
    assert_eq!(w.emu.requests().len(), before);
    let r = w.run(&[
        "apply",
        "--auto-approve",
        "--report",
        "report.json",
        "plan.json",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(w.report()["org"], "acme-prod");
}

#[test]
fn org_appears_in_one_part_only() {
    let w = World::new(org(), FILE);
    std::fs::create_dir(w.path("ts")).unwrap();
    w.write("ts/a.yaml", &named("acme-prod"));
    w.write("ts/b.yaml", "version: 1\norg: acme-prod\n");
    assert_run!("org_in_two_parts", w.run(&["validate", "-f", "ts"]));
}
