//! `teamsync export`, `schema` and `completions`.

use crate::assert_run;
use crate::support::*;
use scaling_emulator::OrgState;
use std::path::Path;

#[test]
fn export_writes_a_file_whose_plan_is_empty() {
    let w = World::new(org(), FILE);
    assert_run!("export_to_file", w.run(&["export", "-o", "exported.yaml"]));
    let text = std::fs::read_to_string(w.path("exported.yaml")).unwrap();
    crate::assert_text!("export", text);
    assert_eq!(w.run(&["validate", "-f", "exported.yaml"]).code, 0);
    assert_run!(
        "export_plan_is_empty",
        w.run(&["plan", "-f", "exported.yaml", "--detailed-exitcode"])
    );
    let r = w.run(&["export"]);
    assert_eq!(r.stdout, text, "stdout without -o");
}

#[test]
fn schema_command_prints_the_committed_schema() {
    let w = World::new(OrgState::default(), FILE);
    let committed = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/teamsync.schema.json"),
    )
    .unwrap();
    assert_eq!(w.run(&["schema"]).stdout, committed);
    let r = w.run(&["completions", "bash"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("teamsync") && r.stdout.contains("--detailed-exitcode"));
}
