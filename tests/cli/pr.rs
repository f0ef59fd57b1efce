//! `plan --baseline`: a pull request's edit told from drift in the org (docs/contract.md §8),
//! through the real binary.

use crate::support::*;
use crate::{assert_run, assert_text};
use scaling_emulator::OrgState;

/// The org of the pull request: bob is a member, hand@ was added by hand in the
/// dashboard, and carol was invited by hand already.
fn pr_org() -> OrgState {
    let mut o = OrgState::with_members(&[
        ("root@example.com", "org:admin"),
        ("bob@example.com", "org:member"),
        ("alice@example.com", "org:admin"),
        ("hand@example.com", "org:member"),
    ]);
    o.add_invitation("carol@example.com", "org:member");
    o
}

/// The base branch's copy of the file.
const BASE: &str = "version: 1
members:
  - email: root@example.com
    role: org:admin
  - email: bob@example.com
    role: org:member
  - email: alice@example.com
    role: org:admin
";

/// The pull request's copy: it promotes bob, adds carol (already invited) and invites erin.
const EDIT: &str = "version: 1
members:
  - email: root@example.com
    role: org:admin
  - email: bob@example.com
    role: org:admin
    reason: on-call lead
  - email: alice@example.com
    role: org:admin
  - email: carol@example.com
    role: org:member
  - email: erin@example.com
    role: org:member
    reason: new hire
";

/// The pull request's file in a world of [`pr_org`]; carol was invited six days ago.
fn world(file: &str) -> World {
    let w = World::new(pr_org(), file);
    w.emu
        .shared()
        .set_created_at("orginv_0001", Some("2027-03-25T10:00:00.000Z"));
    w
}

fn gets(w: &World) -> usize {
    w.emu
        .requests()
        .iter()
        .filter(|q| q.method == "GET")
        .count()
}

#[test]
fn a_pull_request_tells_its_change_from_drift_in_every_format() {
    let w = world(EDIT);
    w.write("base.yaml", BASE);
    for (name, format) in [
        ("pr_text", "text"),
        ("pr_markdown", "markdown"),
        ("pr_json", "json"),
    ] {
        let before = gets(&w);
        assert_run!(
            name,
            w.run(&["plan", "--baseline", "base.yaml", "--format", format])
        );
        assert_eq!(gets(&w), before + 1, "{format}: one list read, two plans");
    }
    assert_eq!(w.emu.write_count(), 0);
}

#[test]
fn a_directory_baseline_is_read_like_a_directory_given_to_f() {
    let w = world(EDIT);
    w.write("base.yaml", BASE);
    std::fs::create_dir(w.path("base")).unwrap();
    w.write(
        "base/00-root.yaml",
        "version: 1\nmembers:\n  - email: root@example.com\n    role: org:admin\n",
    );
    w.write(
        "base/team.yml",
        "version: 1\nmembers:\n  - email: bob@example.com\n    role: org:member\n  \
         - email: alice@example.com\n    role: org:admin\n",
    );
    let dir = w.run(&["plan", "--baseline", "base"]);
    assert_run!("pr_directory_baseline", dir);
    let file = w.run(&["plan", "--baseline", "base.yaml"]);
    assert_eq!(dir.stdout, file.stdout, "the same state, split in parts");
    let json = w.run(&["plan", "--baseline", "base", "--format", "json"]);
    let file_json = w.run(&["plan", "--baseline", "base.yaml", "--format", "json"]);
    assert_eq!(json.stdout, file_json.stdout);
}

#[test]
fn a_change_that_only_keeps_the_file_shows_the_drift_and_the_pointer() {
    // The pull request only adds a comment: everything the plan does is drift.
    let w = world(&format!("# who is who\n{BASE}"));
    w.write("base.yaml", BASE);
    assert_run!("pr_drift_only", w.run(&["plan", "--baseline", "base.yaml"]));
    assert_run!(
        "pr_drift_only_markdown",
        w.run(&["plan", "--baseline", "base.yaml", "--format", "markdown"])
    );
}

#[test]
fn an_org_that_matches_the_base_has_no_drift_and_no_pointer() {
    let mut org = pr_org();
    org.members.retain(|m| m.email != "hand@example.com");
    org.invitations.clear();
    let w = World::new(org, EDIT);
    w.write("base.yaml", BASE);
    assert_run!("pr_edit_only", w.run(&["plan", "--baseline", "base.yaml"]));
    assert_run!(
        "pr_edit_only_markdown",
        w.run(&["plan", "--baseline", "base.yaml", "--format", "markdown"])
    );
    // The same plan without the baseline keeps the pointer, and claims nothing about the org.
    let r = w.run(&["plan"]);
    has(
        &r.stdout,
        "If any of these removals, revocations or role changes undoes something done in the org on purpose, run `teamsync adopt`: it keeps that in teamsync.yaml instead.",
    );
}

#[test]
fn an_invalid_baseline_plans_without_origins_and_an_unreadable_one_is_an_error() {
    let w = world(EDIT);
    // The pull request fixes a broken base: it still gets its plan, which says why it does not
    // tell the edit from drift.
    w.write("base.yaml", "version: 2\nmembers:\n  - email: bob@\n");
    let text = w.run(&["plan", "--baseline", "base.yaml"]);
    let json = w.run(&["plan", "--baseline", "base.yaml", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert!(v.get("already_in_org").is_none(), "{v}");
    assert!(v["changes"][0].get("origin").is_none(), "{v}");
    assert!(v["summary"].get("edit").is_none(), "{v}");
    let missing = w.run(&["plan", "--baseline", "nope.yaml"]);
    std::fs::create_dir(w.path("empty")).unwrap();
    let empty = w.run(&["plan", "--baseline", "empty"]);
    assert_text!(
        "pr_bad_baselines",
        [
            ("--baseline base.yaml (invalid)", text),
            ("--baseline nope.yaml", missing),
            ("--baseline empty", empty),
        ]
        .iter()
        .map(|(what, r)| format!("$ teamsync plan {what}\n{}", r.whole()))
        .collect::<Vec<_>>()
        .join("\n")
    );
}

#[test]
fn a_saved_plan_keeps_its_origins_and_apply_ignores_them() {
    let w = world(EDIT);
    w.write("base.yaml", BASE);
    let r = w.run(&["plan", "--baseline", "base.yaml", "--out", "plan.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(w.path("plan.json")).unwrap()).unwrap();
    let origins: Vec<&str> = saved["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["origin"].as_str().unwrap())
        .collect();
    assert_eq!(origins, ["edit", "edit", "drift"]);
    let r = w.run(&["apply", "--auto-approve", "--parallelism", "1", "plan.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        w.roster(),
        [
            "alice@example.com org:admin",
            "bob@example.com org:admin",
            "carol@example.com org:member (invited)",
            "erin@example.com org:member (invited)",
            "root@example.com org:admin",
        ]
    );
}

/// The "done": a pull request that promotes bob while hand@ was added in the dashboard
/// gets a comment that says so, each apart, from a job that holds no key and sends nothing.
#[test]
fn the_pull_request_comment_from_a_job_without_a_key() {
    let w = world(EDIT);
    w.write("base.yaml", BASE);
    w.snapshot_at("snap.json", "2027-03-31T07:30:00.000Z");
    let before = w.emu.requests().len();
    let r = w.keyless(&[
        "plan",
        "--live",
        "snap.json",
        "--baseline",
        "base.yaml",
        "--format",
        "markdown",
    ]);
    has(&r.stdout, "#### This change (2 changes)");
    has(
        &r.stdout,
        "- change bob@example.com from org:member to org:admin",
    );
    has(
        &r.stdout,
        "#### Drift in the org that applying also reverts (1 change)",
    );
    has(&r.stdout, "- remove hand@example.com (org:member)");
    assert_run!("pr_keyless_markdown", r);
    assert_eq!(w.emu.requests().len(), before, "no request");
}

/// docs/contract.md §7: on the pull request's branch, `adopt --baseline` folds only the drift
/// (hand@, added in the dashboard) and leaves the edit's own entries as they are: bob's
/// promotion and erin's invitation, which plain `adopt` would undo.
#[test]
fn adopt_with_the_baseline_folds_only_the_drift() {
    let w = world(EDIT);
    w.write("base.yaml", BASE);
    let plain = w.run(&["adopt", "--check"]);
    assert_eq!(plain.code, 2, "{}", plain.all());
    has(&plain.stdout, "-  - email: erin@example.com");
    has(&plain.stdout, "-    role: org:admin");
    let r = w.run(&["adopt", "--baseline", "base.yaml"]);
    assert_run!("pr_adopt_baseline", r);
    let after = w.run(&["plan", "--baseline", "base.yaml", "--format", "json"]);
    let plan: serde_json::Value = serde_json::from_str(&after.stdout).unwrap();
    assert_eq!(plan["summary"]["drift"], 0, "{}", after.stdout);
    assert_eq!(plan["summary"]["edit"], 2, "the edit is untouched");
    // Nothing left to fold: exit 0, nothing written.
    let again = w.run(&["adopt", "--baseline", "base.yaml", "--check"]);
    assert_eq!(again.code, 0, "{}", again.all());
}

/// The pointer appears only for drift adopt would keep: someone added in the dashboard with an
/// address outside `allowed_domains` is drift that adopt never writes into the file.
#[test]
fn no_pointer_for_drift_adopt_would_not_keep() {
    let domains = |t: &str| t.replace("members:", "allowed_domains: [example.com]\nmembers:");
    let mut o = pr_org();
    o.add_member("guest@elsewhere.io", "org:member");
    let w = World::new(o, &domains(EDIT));
    w.write("base.yaml", &domains(BASE));
    let r = w.run(&["plan", "--baseline", "base.yaml"]);
    assert_eq!(r.code, 0, "{}", r.all());
    has(&r.stdout, "remove guest@elsewhere.io");
    has(&r.stdout, "for 1 email that `teamsync adopt` can keep");
    // hand@ adopted: the only drift left is one adopt leaves alone, and the pointer goes.
    let adopted = w.run(&["adopt", "--baseline", "base.yaml"]);
    assert_eq!(adopted.code, 0, "{}", adopted.all());
    let r = w.run(&["plan", "--baseline", "base.yaml"]);
    has(&r.stdout, "remove guest@elsewhere.io");
    assert!(!r.stdout.contains("teamsync adopt"), "{}", r.stdout);
}
