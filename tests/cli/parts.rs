//! `-f DIR`: one desired state in several parts (docs/contract.md §10), through the real binary.

use crate::support::*;
use crate::{assert_run, assert_text};
use scaling_emulator::OrgState;

/// Writes `text` at `rel` below the world's directory, creating folders.
fn put(w: &World, rel: &str, text: &str) {
    let p = w.path(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

const ROOT: &str = "version: 1
ignore: [\"*@vendor.io\"]
members:
  - email: root@example.com
    role: org:admin
";

const ENG: &str = "version: 1
members:
  - email: bob@example.com
    role: org:admin
    reason: on-call lead
  - email: alice@example.com
    role: org:member
";

const SALES: &str = "version: 1
members:
  - email: carol@example.com
    role: org:member
  - email: erin@example.com
    role: org:member
    reason: new hire
";

/// The test org's desired state (support's `FILE`) in three parts, with files that are not
/// parts beside them.
fn split_world() -> World {
    let w = World::new(org(), "");
    put(&w, "org/00-root.yaml", ROOT);
    put(&w, "org/eng/team.yaml", ENG);
    put(&w, "org/sales.yml", SALES);
    put(&w, "org/.draft.yaml", "not: [valid\n");
    put(&w, "org/.git/x.yaml", "not: [valid\n");
    put(&w, "org/README.md", "# the org\n");
    w
}

#[test]
fn a_directory_validates_plans_and_applies_as_one_file() {
    let w = split_world();
    assert_run!("parts_validate", w.run(&["validate", "-f", "org"]));
    assert_run!("parts_plan", w.run(&["plan", "-f", "org"]));
    assert_run!(
        "parts_plan_json",
        w.run(&["plan", "-f", "org", "--format", "json"])
    );
    let r = w.run(&["apply", "-f", "org", "--auto-approve"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(w.roster(), WANT);
    let r = w.run(&["plan", "-f", "org", "--detailed-exitcode"]);
    assert_eq!(r.code, 0, "{}", r.all());
}

#[test]
fn every_diagnostic_names_its_part() {
    let w = World::new(OrgState::default(), "");
    put(
        &w,
        "org/a.yaml",
        "version: 1\nsafety:\n  min_admins: 1\nmembers:\n  - email: root@example.com\n    role: org:admin\n  - email: dup@example.com\n    role: org:member\n",
    );
    put(
        &w,
        "org/b/c.yaml",
        "version: 1\nsafety:\n  min_admins: 2\nignore: ['root@*']\nmembers:\n  - email: DUP@example.com\n    role: org:member\n  - email: x@example.com\n    role: admin\n",
    );
    put(&w, "org/d.yaml", "members: []\n");
    put(&w, "org/e.yaml", "");
    assert_run!("parts_errors", w.run(&["validate", "-f", "org"]));
    // A part that cannot be parsed is reported with the others.
    put(&w, "org/f.yaml", "version: 1\nmembers: [\n");
    assert_run!(
        "parts_errors_annotations",
        w.run_env(&["validate", "-f", "org"], &[("GITHUB_ACTIONS", "true")])
    );
}

#[test]
fn a_directory_without_parts_is_a_clear_error() {
    let w = World::new(OrgState::default(), "");
    std::fs::create_dir(w.path("empty")).unwrap();
    assert_run!("parts_empty_dir", w.run(&["validate", "-f", "empty"]));
    put(&w, "noyaml/README.md", "# nothing\n");
    put(&w, "noyaml/.hidden.yaml", "version: 1\n");
    assert_run!("parts_no_yaml", w.run(&["plan", "-f", "noyaml"]));
    put(&w, "looped/a.yaml", ROOT);
    std::os::unix::fs::symlink("..", w.path("looped/sub")).unwrap();
    assert_run!("parts_symlink_loop", w.run(&["validate", "-f", "looped"]));
}

#[test]
fn a_saved_plan_goes_stale_when_a_part_is_added_edited_or_removed() {
    let w = split_world();
    let save = || {
        let r = w.run(&["plan", "-f", "org", "--out", "plan.json"]);
        assert_eq!(r.code, 0, "{}", r.all());
    };
    let apply = || w.run(&["apply", "plan.json", "--auto-approve"]);
    save();
    put(&w, "org/new.yaml", "version: 1\n");
    assert_run!("parts_stale_added", apply());
    save();
    std::fs::remove_file(w.path("org/new.yaml")).unwrap();
    let r = apply();
    assert_eq!(r.code, 1, "a removed part: {}", r.all());
    has(&r.stderr, "is stale");
    save();
    put(&w, "org/sales.yml", &format!("{SALES}# reviewed\n"));
    let r = apply();
    assert_eq!(r.code, 1, "an edited part: {}", r.all());
    has(&r.stderr, "is stale");
    // A hidden file is not a part: the plan still holds.
    save();
    put(&w, "org/.notes.yaml", "anything\n");
    let r = apply();
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(w.roster(), WANT);
    assert!(w.writes().len() > 1);
}

#[test]
fn export_split_by_domain_writes_parts_that_plan_empty() {
    let w = World::new(org(), "");
    assert_run!(
        "parts_export_split",
        w.run(&["export", "--split-by", "domain", "exported"])
    );
    let mut names: Vec<_> = std::fs::read_dir(w.path("exported"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["example.com.yaml", "vendor.io.yaml"]);
    assert_text!(
        "parts_export_split_example_com",
        std::fs::read_to_string(w.path("exported/example.com.yaml")).unwrap()
    );
    let r = w.run(&["plan", "-f", "exported", "--detailed-exitcode"]);
    assert_run!("parts_export_split_plan", r);
    // Never over an existing state.
    assert_run!(
        "parts_export_split_refused",
        w.run(&["export", "--split-by", "domain", "exported"])
    );
    assert!(w.writes().is_empty());
}

#[test]
fn adopt_edits_each_entry_in_its_own_part_and_adds_to_the_into_part() {
    let w = split_world();
    assert_run!(
        "parts_adopt_into",
        w.run(&["adopt", "-f", "org", "--into", "org/sales.yml"])
    );
    // Nothing else was touched: the root part is byte for byte the same.
    assert_eq!(
        std::fs::read_to_string(w.path("org/00-root.yaml")).unwrap(),
        ROOT
    );
    let r = w.run(&["plan", "-f", "org", "--detailed-exitcode"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(w.writes().is_empty(), "adopt and plan only read");
}

#[test]
fn adopt_into_must_name_a_part() {
    let w = split_world();
    assert_run!(
        "parts_adopt_into_not_a_part",
        w.run(&["adopt", "-f", "org", "--into", "org/README.md"])
    );
    assert_eq!(
        std::fs::read_to_string(w.path("org/sales.yml")).unwrap(),
        SALES
    );
}
