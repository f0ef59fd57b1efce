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
    let label = ["--baseline-label", "0123abc"];
    let dir = w.run(&["plan", "--baseline", "base", label[0], label[1]]);
    assert_run!("pr_directory_baseline", dir);
    let file = w.run(&["plan", "--baseline", "base.yaml", label[0], label[1]]);
    assert_eq!(dir.stdout, file.stdout, "the same state, split in parts");
    let json = w.run(&["plan", "--baseline", "base", "--format", "json"]);
    let file_json = w.run(&["plan", "--baseline", "base.yaml", "--format", "json"]);
    assert_eq!(
        json.stdout
            .replace("\"path\": \"base\"", "\"path\": \"base.yaml\""),
        file_json.stdout
    );
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
        "- change `bob@example.com` from `org:member` to `org:admin`",
    );
    has(
        &r.stdout,
        "#### Drift in the org that applying also reverts (1 change)",
    );
    has(&r.stdout, "- remove `hand@example.com` (`org:member`)");
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

/// The base of the hostile pull request (docs/contract.md §8): intruder@ and hand@
/// were added in the dashboard, temp@'s entry expired, hire@ is still to be invited.
const HOSTILE_BASE: &str = "version: 1
members:
  - email: root@example.com
    role: org:admin
  - email: alice@example.com
    role: org:admin
  - email: temp@example.com
    role: org:member
    expires: 2027-03-01
  - email: hire@example.com
    role: org:member
";

/// The pull request: it sets `expires: <today>` on the owner, ignores `*@evil.io` (so the
/// base's removal of the intruder admin is no longer done), demotes alice with a 30,000-character reason that pings a team, drops the
/// invitee, and invites bob as an admin.
fn hostile_edit() -> String {
    let reason = format!("ping @acme/everyone `x` {}", "long ".repeat(6_000));
    format!(
        "version: 1
ignore:
  - \"*@evil.io\"
members:
  - email: root@example.com
    role: org:admin
    expires: 2027-03-31
  - email: alice@example.com
    role: org:member
    reason: \"{reason}\"
  - email: temp@example.com
    role: org:member
    expires: 2027-03-01
  - email: bob@example.com
    role: org:admin
"
    )
}

fn hostile_world() -> World {
    let org = OrgState::with_members(&[
        ("root@example.com", "org:admin"),
        ("alice@example.com", "org:admin"),
        ("temp@example.com", "org:member"),
        ("intruder@evil.io", "org:admin"),
        ("hand@example.com", "org:member"),
    ]);
    let w = World::new(org, &hostile_edit());
    w.write("base.yaml", HOSTILE_BASE);
    w
}

/// The "done": every removal, demotion, admin grant, access kept, rule changed and
/// expiry is in sight and correctly attributed, the expiry is never called drift, the long
/// reason is cut and nobody is mentioned; the baseline and the org's read are named.
#[test]
fn a_hostile_pull_request_hides_nothing_from_the_comment() {
    let w = hostile_world();
    let args = [
        "plan",
        "--baseline",
        "base.yaml",
        "--baseline-label",
        "4f2a9c1",
        "--format",
    ];
    let md = w.run(&[&args[..], &["markdown"]].concat());
    assert_run!("pr_hostile_markdown", md);
    let json = w.run(&[&args[..], &["json"]].concat());
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        doc["baseline"],
        serde_json::json!({"path": "base.yaml", "label": "4f2a9c1"})
    );
    assert_eq!(
        doc["no_longer"],
        serde_json::json!([
            {"action": "invite", "email": "hire@example.com", "role": "org:member",
             "cause": "no longer listed in the file", "keeps_access": false},
            {"action": "remove", "email": "intruder@evil.io", "role": "org:admin",
             "cause": "matches the ignore pattern *@evil.io", "keeps_access": true},
        ])
    );
    assert_eq!(
        doc["rules_changed"],
        serde_json::json!([{"rule": "ignore", "before": null, "after": "*@evil.io",
                            "members": ["intruder@evil.io"]}])
    );
    assert_eq!(
        doc["expiries_changed"],
        serde_json::json!([{"email": "root@example.com", "role": "org:admin",
                            "before": null, "after": "2027-03-31"}])
    );
    let origins: Vec<(String, String)> = doc["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["email"].as_str().unwrap().to_string(),
                c["origin"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        origins,
        [
            ("bob@example.com".to_string(), "edit".to_string()),
            ("alice@example.com".to_string(), "edit".to_string()),
            ("hand@example.com".to_string(), "drift".to_string()),
            ("temp@example.com".to_string(), "scheduled".to_string()),
        ]
    );
    assert_eq!(
        (
            &doc["summary"]["edit"],
            &doc["summary"]["drift"],
            &doc["summary"]["scheduled"]
        ),
        (
            &serde_json::json!(2),
            &serde_json::json!(1),
            &serde_json::json!(1)
        )
    );
    let text = w.run(&[&args[..], &["text"]].concat());
    assert_run!("pr_hostile_text", text);
}

/// docs/contract.md §5, §8: a plan after which teamsync's own account is the only admin says
/// so in every format, in sight in the comment.
#[test]
fn the_own_account_left_as_the_only_admin_is_said_in_every_format() {
    let org = OrgState::with_members(&[
        ("root@example.com", "org:admin"),
        ("alice@example.com", "org:admin"),
    ]);
    let w = World::new(
        org,
        "version: 1\nmembers:\n  - email: root@example.com\n    role: org:admin\n  \
         - email: alice@example.com\n    role: org:member\n",
    );
    let run = |format: &str| w.run(&["plan", "--self", "root@example.com", "--format", format]);
    let md = run("markdown");
    let json = run("json");
    let text = run("text");
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        doc["warnings"],
        serde_json::json!([
            "after this plan the only admin left is teamsync's own account root@example.com (--self): no person could administer the org; keep a person as org:admin in the file"
        ])
    );
    assert_run!("own_account_only_admin_markdown", md);
    assert_run!("own_account_only_admin_text", text);
}

/// apply with a baseline compares as plan does (one `Comparison`): its plan names the rules
/// the edit changes, as plan's does. Before, apply's copy of the comparison left them out.
#[test]
fn apply_with_a_baseline_names_the_rules_the_edit_changes_as_plan_does() {
    let w = hostile_world();
    let rules = |out: &str| -> Vec<String> {
        out.lines()
            .skip_while(|l| !l.starts_with("Rules changed"))
            .take_while(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    };
    let plan = w.run(&["plan", "--baseline", "base.yaml"]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    // Without --auto-approve and without a terminal, apply shows its plan and stops.
    let apply = w.run(&["apply", "--baseline", "base.yaml"]);
    assert_eq!(
        rules(&plan.stdout),
        [
            "Rules changed (1):",
            "  * ignore: added *@evil.io; now leaves alone 1: intruder@evil.io"
        ],
        "{}",
        plan.stdout
    );
    assert_eq!(rules(&apply.stdout), rules(&plan.stdout), "{}", apply.all());
}
