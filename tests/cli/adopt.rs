//! `teamsync adopt` through the real binary against the emulator (docs/contract.md §7): the
//! diff on stdout, what is left alone on stderr, the file written (or not), and `plan` after.

use crate::support::*;
use crate::{assert_run, assert_text};
use scaling_emulator::{Faults, OrgState};

/// The story: an owner added two people and promoted one from the dashboard.
const OWNED: &str = "# Who may use the Scaling org.
version: 1

members:
  # Founders
  - email: ada@example.com
    role: org:admin   # break-glass
  - email: bob@example.com
    role: org:member

  # Engineering
  - email: eve@example.com
    role: org:member
  - email: fay@example.com
    role: org:member
  - email: gus@example.com
    role: org:member
  - email: hal@example.com
    role: org:member
    reason: on-call rotation
  - email: ian@example.com
    role: org:member
  - email: jon@example.com
    role: org:member
  - email: kim@example.com   # intern
    role: org:member
";

fn dashboard_org() -> OrgState {
    let mut o = OrgState::with_members(&[
        ("ada@example.com", "org:admin"),
        ("bob@example.com", "org:member"),
        ("cal@example.com", "org:member"),
        ("eve@example.com", "org:member"),
        ("fay@example.com", "org:member"),
        ("gus@example.com", "org:member"),
        ("hal@example.com", "org:admin"),
        ("ian@example.com", "org:member"),
        ("jon@example.com", "org:member"),
        ("kim@example.com", "org:member"),
    ]);
    o.add_invitation("lea@example.com", "org:member");
    o
}

#[test]
fn adopt_writes_the_drift_and_the_next_plan_is_empty() {
    let w = World::new(dashboard_org(), OWNED);
    let r = w.run(&["adopt"]);
    assert_run!("adopt_dashboard", r);
    let text = std::fs::read_to_string(w.path("teamsync.yaml")).unwrap();
    assert_text!("adopt_dashboard_file", text);
    assert_eq!(
        r.stdout.matches("\n@@ ").count() + usize::from(r.stdout.starts_with("@@ ")),
        3,
        "three hunks:\n{}",
        r.stdout
    );
    let plan = w.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}", plan.whole());
    assert!(w.writes().is_empty(), "adopt and plan only read");
    // Adopting again changes nothing.
    assert_run!("adopt_again_nothing", w.run(&["adopt"]));
}

#[test]
fn check_writes_nothing_and_exits_2() {
    let w = World::new(dashboard_org(), OWNED);
    let r = w.run(&["adopt", "--check"]);
    assert_run!("adopt_check", r);
    assert_eq!(
        std::fs::read_to_string(w.path("teamsync.yaml")).unwrap(),
        OWNED
    );
    let r = w.run(&["adopt", "--check", "--only", "removed"]);
    assert_eq!(r.code, 0, "nothing to remove: {}", r.whole());
    assert_eq!(r.stdout, "");
}

#[test]
fn only_roles_promotes_and_adds_nobody() {
    let w = World::new(dashboard_org(), OWNED);
    let r = w.run(&["adopt", "--only", "roles"]);
    assert_run!("adopt_only_roles", r);
    let plan = w.run(&["plan"]);
    has(&plan.stdout, "cal@example.com");
    assert!(!plan.stdout.contains("hal@example.com"), "{}", plan.stdout);
}

#[test]
fn never_adopted_is_said_on_stderr_and_left() {
    let file = "version: 1
allowed_domains: [example.com]
ignore: [\"*@vendor.io\"]
protected: [root@example.com]
members:
  - email: root@example.com
    role: org:admin
  - email: me@example.com
    role: org:member
  - email: temp@example.com
    role: org:member
    expires: 2027-01-31
";
    let mut o = OrgState::with_members(&[
        ("root@example.com", "org:member"),
        ("me@example.com", "org:admin"),
        ("temp@example.com", "org:member"),
        ("support@vendor.io", "org:admin"),
        ("friend@gmail.com", "org:member"),
    ]);
    o.add_invitation("root2@example.com", "org:admin");
    let w = World::new(o, file);
    let r = w.run(&["adopt", "--self", "me@example.com"]);
    assert_run!("adopt_never", r);
    let text = std::fs::read_to_string(w.path("teamsync.yaml")).unwrap();
    assert_text!("adopt_never_file", text);
}

#[test]
fn a_read_only_file_fails_and_stays() {
    use std::os::unix::fs::PermissionsExt;
    let w = World::new(dashboard_org(), OWNED);
    let path = w.path("teamsync.yaml");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
    let r = w.run(&["adopt"]);
    assert_eq!(r.code, 1, "{}", r.whole());
    has(&r.stderr, "cannot write teamsync.yaml");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), OWNED);
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o444
    );
}

#[test]
fn the_file_keeps_its_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let w = World::new(dashboard_org(), OWNED);
    let path = w.path("teamsync.yaml");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    assert_eq!(w.run(&["adopt"]).code, 0);
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o640
    );
}

#[test]
fn an_api_failure_leaves_the_file() {
    let w = World::new(dashboard_org(), OWNED);
    w.emu.set_faults(Faults {
        error_5xx: 1.0,
        ..Faults::default()
    });
    let r = w.run(&["adopt"]);
    assert_eq!(r.code, 1, "{}", r.whole());
    assert_eq!(r.stdout, "");
    assert_eq!(
        std::fs::read_to_string(w.path("teamsync.yaml")).unwrap(),
        OWNED
    );
}

#[test]
fn an_invalid_file_is_not_touched() {
    let w = World::new(dashboard_org(), "version: 1\nmembers:\n  - email: nope\n");
    assert_run!("adopt_invalid_file", w.run(&["adopt"]));
}

#[test]
fn plans_that_undo_live_changes_point_to_adopt() {
    let w = World::new(dashboard_org(), OWNED);
    let text = w.run(&["plan"]);
    has(&text.stdout, "run `teamsync adopt`");
    let md = w.run(&["plan", "--format", "markdown"]);
    has(&md.stdout, "run `teamsync adopt`");
    // A plan that only invites undoes nothing.
    let w = World::new(
        OrgState::with_members(&[("ada@example.com", "org:admin")]),
        "version: 1\nmembers:\n  - email: ada@example.com\n    role: org:admin\n  - email: new@example.com\n    role: org:member\n",
    );
    let text = w.run(&["plan"]);
    assert!(!text.stdout.contains("teamsync adopt"), "{}", text.stdout);
}

/// docs/contract.md §7: a file that ends without a line break still does after adopt, and no
/// blank line appears where an entry went (before: deleting the only entry left a blank line
/// after `members:`, and deleting the last one added a final line break).
#[test]
fn a_file_without_a_final_line_break_keeps_its_layout() {
    let only = "version: 1\nmembers:\n  - email: ada@example.com\n    role: org:admin";
    let w = World::new(
        OrgState::with_members(&[("bea@example.com", "org:admin")]),
        only,
    );
    assert_run!("adopt_no_final_line_break", w.run(&["adopt"]));
    assert_eq!(
        std::fs::read_to_string(w.path("teamsync.yaml")).unwrap(),
        "version: 1\nmembers:\n  - email: bea@example.com\n    role: org:admin\n    reason: adopted from the org on 2027-03-31"
    );
    let last = "version: 1\nmembers:\n  - email: ada@example.com\n    role: org:admin\n  - email: cy@example.com\n    role: org:member  # gone";
    let w = World::new(
        OrgState::with_members(&[("ada@example.com", "org:admin")]),
        last,
    );
    assert_eq!(w.run(&["adopt"]).code, 0);
    assert_eq!(
        std::fs::read_to_string(w.path("teamsync.yaml")).unwrap(),
        "version: 1\nmembers:\n  - email: ada@example.com\n    role: org:admin"
    );
}

/// docs/contract.md §7: adopt never changes how another entry reads. Each file shares a node
/// between a@ and b@; a@ was promoted in the dashboard. Before, adopt rewrote the shared node
/// (one line in the diff, "1 role changed", `validate` passed) and the next plan promoted b@.
/// Now a@ is left alone, saying why, and the file is as it was.
#[test]
fn an_entry_sharing_an_anchor_is_left_alone() {
    let shapes = [
        (
            "role_anchor",
            "version: 1
members:
  - email: root@example.com
    role: org:admin
  - email: a@example.com
    role: &m org:member
  - email: b@example.com
    role: *m
",
        ),
        (
            "merge_key",
            "version: 1
members:
  - email: root@example.com
    role: org:admin
  - &t {email: a@example.com, role: org:member}
  - email: b@example.com
    <<: *t
",
        ),
        (
            "tagged_anchor",
            "version: 1
members:
  - email: root@example.com
    role: org:admin
  - {email: a@example.com, role: !!str &m org:member}
  - {email: b@example.com, role: *m}
",
        ),
    ];
    for (name, file) in shapes {
        let w = World::new(
            OrgState::with_members(&[
                ("root@example.com", "org:admin"),
                ("a@example.com", "org:admin"),
                ("b@example.com", "org:member"),
            ]),
            file,
        );
        assert_run!(format!("adopt_shared_{name}"), w.run(&["adopt"]));
        assert_eq!(
            std::fs::read_to_string(w.path("teamsync.yaml")).unwrap(),
            file,
            "{name}: the file is as it was"
        );
        let plan = w.run(&["plan", "--format", "json"]);
        let json: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
        let changes: Vec<String> = json["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| format!("{} {}", c["action"], c["email"]))
            .collect();
        assert_eq!(
            changes,
            ["\"update_role\" \"a@example.com\""],
            "{name}: b@ is not promoted"
        );
    }
}

/// docs/contract.md §7: an edit made to the file while adopt waits for the org is never lost.
/// Before, with a slow list, an entry appended meanwhile was gone after adopt (exit 0).
#[test]
fn a_file_changed_while_adopt_reads_the_org_is_not_written() {
    let w = World::new(dashboard_org(), OWNED);
    w.latency(1500);
    let child = w.spawn(&["adopt"]);
    w.wait_for("the list request", |q| q.method == "GET");
    let edited = format!("{OWNED}  # reviewed by ops\n");
    w.write("teamsync.yaml", &edited);
    let r: Run = child.wait_with_output().unwrap().into();
    assert_run!("adopt_changed_meanwhile", r);
    assert_eq!(
        std::fs::read_to_string(w.path("teamsync.yaml")).unwrap(),
        edited,
        "the edit made meanwhile is kept"
    );
    // Run again, it adopts into the edited file.
    w.latency(0);
    let r = w.run(&["adopt"]);
    assert_eq!(r.code, 0, "{}", r.whole());
    has(
        &std::fs::read_to_string(w.path("teamsync.yaml")).unwrap(),
        "# reviewed by ops",
    );
}

/// docs/contract.md §7: a symlinked desired file is edited at its target, and stays a link.
/// Before, the rename replaced the link with a regular file.
#[test]
fn a_symlinked_file_is_edited_at_its_target() {
    let w = World::new(dashboard_org(), "");
    std::fs::remove_file(w.path("teamsync.yaml")).unwrap();
    std::fs::create_dir(w.path("shared")).unwrap();
    w.write("shared/org.yaml", OWNED);
    std::os::unix::fs::symlink("shared/org.yaml", w.path("teamsync.yaml")).unwrap();
    let r = w.run(&["adopt"]);
    assert_eq!(r.code, 0, "{}", r.whole());
    let link = std::fs::symlink_metadata(w.path("teamsync.yaml")).unwrap();
    assert!(
        link.file_type().is_symlink(),
        "teamsync.yaml is still a link"
    );
    let text = std::fs::read_to_string(w.path("shared/org.yaml")).unwrap();
    assert_text!("adopt_dashboard_file", text);
    let names: Vec<_> = std::fs::read_dir(w.path("shared"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["org.yaml"], "no temporary file is left");
}

/// docs/contract.md §7: in a file that is sorted by email — as `export` writes it, pending-invitation
/// comments included — adopt inserts a new entry in its sorted place, not at the end.
#[test]
fn adopt_inserts_in_sorted_place_in_an_exported_file() {
    let mut org = OrgState::with_members(&[
        ("ada@example.com", "org:admin"),
        ("dan@example.com", "org:member"),
        ("zoe@example.com", "org:member"),
    ]);
    org.add_invitation("fin@example.com", "org:member");
    let w = World::new(org, "");
    let r = w.run(&["export", "-o", "org.yaml"]);
    assert_eq!(r.code, 0, "{}", r.whole());
    let mut org = w.emu.shared().state();
    org.add_member("bea@example.com", "org:member");
    org.add_member("gil@example.com", "org:admin");
    w.emu.shared().set_state(org);
    let r = w.run(&["adopt", "-f", "org.yaml"]);
    assert_eq!(r.code, 0, "{}", r.whole());
    let text = std::fs::read_to_string(w.path("org.yaml")).unwrap();
    let order: Vec<&str> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- email: "))
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted, "{text}");
    assert_text!("adopt_sorted_place_file", text);
}
