//! Files written (docs/contract.md §6): no output overwrites an input, `export -o` replaces a
//! file only with `--force`, special files are written to and never renamed over, and a report
//! that cannot be written makes apply fail.

use crate::assert_run;
use crate::support::*;

/// Like `assert_run!`, with the report's times and version redacted too (a report printed on
/// stdout).
macro_rules! assert_run_with_report {
    ($name:expr, $run:expr) => {{
        let mut filters = filters();
        filters.push((r#""(started_at|finished_at)": "[^"]+""#, r#""$1": "[time]""#));
        filters.push((r#""teamsync_version": "[^"]+""#, r#""teamsync_version": "[version]""#));
        insta::with_settings!({
            filters => filters,
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_snapshot!($name, $run.whole());
        })
    }};
}

fn read(w: &World, name: &str) -> String {
    std::fs::read_to_string(w.path(name)).unwrap()
}

#[test]
fn apply_report_naming_the_desired_file_is_refused_with_nothing_sent() {
    let w = World::new(org(), FILE);
    assert_run!(
        "output_report_is_the_desired_file",
        w.run(&["apply", "--auto-approve", "--report", "teamsync.yaml"])
    );
    // Other spellings of the same file: `./`, a hard link, a symbolic link.
    std::fs::hard_link(w.path("teamsync.yaml"), w.path("hard.yaml")).unwrap();
    let mut spellings = vec!["./teamsync.yaml", "hard.yaml"];
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("teamsync.yaml", w.path("link.json")).unwrap();
        spellings.push("link.json");
    }
    for report in spellings {
        let r = w.run(&["apply", "--auto-approve", "--report", report]);
        assert_eq!(r.code, 1, "{report}: {}", r.all());
        has(&r.stderr, "it is the desired-state file");
    }
    assert_eq!(
        w.emu.requests().len(),
        0,
        "nothing was sent, not even a read"
    );
    assert_eq!(read(&w, "teamsync.yaml"), FILE, "the file is intact");
}

#[test]
fn apply_report_naming_the_saved_plan_is_refused() {
    let w = World::new(org(), FILE);
    assert_eq!(w.run(&["plan", "--out", "plan.json"]).code, 0);
    let saved = read(&w, "plan.json");
    let before = w.emu.requests().len();
    assert_run!(
        "output_report_is_the_plan_file",
        w.run(&[
            "apply",
            "--auto-approve",
            "--report",
            "plan.json",
            "plan.json"
        ])
    );
    assert_eq!(w.emu.requests().len(), before, "nothing was sent");
    assert_eq!(read(&w, "plan.json"), saved, "the plan is intact");
}

#[test]
fn plan_out_naming_a_part_of_the_desired_directory_is_refused() {
    let w = World::new(org(), "");
    std::fs::create_dir_all(w.path("org/eng")).unwrap();
    w.write("org/root.yaml", FILE);
    let eng = "version: 1\nmembers:\n  - email: dave@example.com\n    role: org:member\n";
    w.write("org/eng/team.yaml", eng);
    assert_run!(
        "output_out_is_a_part",
        w.run(&["plan", "-f", "org", "--out", "org/eng/team.yaml"])
    );
    // A new YAML file in the directory would be read as a part by the next plan.
    assert_run!(
        "output_out_would_be_a_part",
        w.run(&["plan", "-f", "org", "--out", "org/eng/plan.yaml"])
    );
    assert_eq!(w.emu.requests().len(), 0, "nothing was sent");
    assert_eq!(read(&w, "org/eng/team.yaml"), eng);
    assert!(!w.path("org/eng/plan.yaml").exists());
    // Beside the parts, a file that is not one is fine.
    let r = w.run(&["plan", "-f", "org", "--out", "org/plan.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
}

#[test]
fn export_replaces_an_existing_file_only_with_force() {
    let w = World::new(org(), FILE);
    let hand_written = "# written by hand\nversion: 1\nmembers: []\n";
    w.write("org.yaml", hand_written);
    assert_run!("output_export_exists", w.run(&["export", "-o", "org.yaml"]));
    assert_eq!(w.emu.requests().len(), 0, "the org was not read");
    assert_eq!(read(&w, "org.yaml"), hand_written);
    assert_run!(
        "output_export_forced",
        w.run(&["export", "-o", "org.yaml", "--force"])
    );
    assert_eq!(read(&w, "org.yaml"), w.run(&["export"]).stdout);
    // The desired file is an input, --force or not.
    let r = w.run(&["export", "-o", "teamsync.yaml", "--force"]);
    assert_eq!(r.code, 1, "{}", r.all());
    has(&r.stderr, "it is the desired-state file");
    assert_eq!(read(&w, "teamsync.yaml"), FILE);
    // A new file needs no --force.
    assert_eq!(w.run(&["export", "-o", "new.yaml"]).code, 0);
    let r = w.run(&["export", "--force"]);
    assert_eq!(
        r.code,
        1,
        "--force without -o is a usage error: {}",
        r.all()
    );
}

#[test]
fn a_report_to_dev_stdout_follows_the_plan_on_stdout() {
    let org = scaling_emulator::OrgState::with_members(&[("root@example.com", "org:admin")]);
    let file = "version: 1\nmembers:\n  - email: root@example.com\n    role: org:admin\n  - email: erin@example.com\n    role: org:member\n";
    let w = World::new(org, file);
    assert_run_with_report!(
        "output_report_dev_stdout",
        w.run(&["apply", "--auto-approve", "--report", "/dev/stdout"])
    );
    assert_eq!(w.writes(), ["POST /v1/team/members/invite"]);
}

#[cfg(unix)]
#[test]
fn a_report_to_a_fifo_is_written_into_it_and_the_fifo_stays() {
    use std::os::unix::fs::FileTypeExt as _;
    let w = World::new(org(), FILE);
    let fifo = w.path("report.fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.expect("mkfifo is needed").success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let r = w.run(&["apply", "--auto-approve", "--report", "report.fifo"]);
    assert_eq!(r.code, 0, "{}", r.all());
    // Checked first: had the FIFO been renamed over, the reader would wait forever.
    let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
    assert!(kind.is_fifo(), "still a FIFO, not renamed over");
    let report: serde_json::Value = serde_json::from_str(&reader.join().unwrap()).unwrap();
    assert_eq!(report["ending"], "succeeded");
    assert_eq!(report["counts"]["done"], 6);
}

#[cfg(unix)]
#[test]
fn a_report_through_a_link_replaces_the_linked_file_and_keeps_the_link() {
    let w = World::new(org(), FILE);
    std::fs::create_dir(w.path("audit")).unwrap();
    w.write("audit/last.json", "{}");
    std::os::unix::fs::symlink("audit/last.json", w.path("report.json")).unwrap();
    assert_eq!(w.run(APPLY_REPORTED).code, 0);
    let link = std::fs::symlink_metadata(w.path("report.json")).unwrap();
    assert!(link.file_type().is_symlink(), "the link stays");
    let v: serde_json::Value = serde_json::from_str(&read(&w, "audit/last.json")).unwrap();
    assert_eq!(v["ending"], "succeeded");
}

#[test]
fn a_report_that_cannot_be_written_makes_the_exit_code_1() {
    let w = World::new(org(), FILE);
    w.write("report.json", "{}");
    let mut perms = std::fs::metadata(w.path("report.json"))
        .unwrap()
        .permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(w.path("report.json"), perms).unwrap();
    // Found before any request that changes the org (docs/contract.md §6): nothing is sent.
    assert_run!("output_report_read_only", w.run(APPLY_REPORTED));
    assert!(w.writes().is_empty(), "nothing was sent");
    assert_eq!(read(&w, "report.json"), "{}");
}

#[cfg(target_os = "linux")]
#[test]
fn a_report_to_a_full_device_makes_the_exit_code_1_and_the_device_stays() {
    use std::os::unix::fs::FileTypeExt as _;
    let w = World::new(org(), FILE);
    let r = w.run(&["apply", "--auto-approve", "--report", "/dev/full"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert_eq!(
        r.stderr.lines().last(),
        Some("error: cannot write /dev/full: No space left on device (os error 28)")
    );
    assert!(w.writes().is_empty(), "found before the first write");
    let kind = std::fs::symlink_metadata("/dev/full").unwrap().file_type();
    assert!(kind.is_char_device(), "/dev/full is still the device");
}

#[cfg(unix)]
#[test]
fn adopt_through_a_link_edits_the_linked_file_and_keeps_the_link() {
    let w = World::new(org(), "");
    std::fs::create_dir(w.path("real")).unwrap();
    w.write("real/org.yaml", FILE);
    std::fs::remove_file(w.path("teamsync.yaml")).unwrap();
    std::os::unix::fs::symlink("real/org.yaml", w.path("teamsync.yaml")).unwrap();
    let r = w.run(&["adopt"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let link = std::fs::symlink_metadata(w.path("teamsync.yaml")).unwrap();
    assert!(link.file_type().is_symlink(), "the link stays");
    let edited = read(&w, "real/org.yaml");
    assert_ne!(edited, FILE, "the linked file was edited");
    has(&edited, "dave@example.com");
}

#[test]
fn snapshot_output_naming_the_desired_file_is_refused_with_nothing_sent() {
    let w = World::new(org(), FILE);
    assert_run!(
        "output_snapshot_is_the_desired_file",
        w.run(&["snapshot", "-o", "./teamsync.yaml"])
    );
    assert_eq!(w.emu.requests().len(), 0, "the org was not read");
    assert_eq!(read(&w, "teamsync.yaml"), FILE, "the file is intact");
    // Anywhere else it is written, and it is a snapshot of the org.
    assert_eq!(w.run(&["snapshot", "-o", "snapshot.json"]).code, 0);
    let doc: serde_json::Value = serde_json::from_str(&read(&w, "snapshot.json")).unwrap();
    assert_eq!(doc["format"], "teamsync-snapshot");
}

#[test]
fn plan_out_naming_the_snapshot_or_the_baseline_is_refused() {
    let w = World::new(org(), FILE);
    assert_eq!(w.run(&["snapshot", "-o", "snapshot.json"]).code, 0);
    let snapshot = read(&w, "snapshot.json");
    std::fs::write(w.path("base.yaml"), FILE).unwrap();
    let before = w.emu.requests().len();
    let r = w.run(&["plan", "--live", "snapshot.json", "--out", "snapshot.json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    has(&r.stderr, "it is the snapshot planned against");
    let r = w.run(&["plan", "--baseline", "base.yaml", "--out", "./base.yaml"]);
    assert_eq!(r.code, 1, "{}", r.all());
    has(&r.stderr, "it is the --baseline file");
    assert_eq!(w.emu.requests().len(), before, "nothing was sent");
    assert_eq!(read(&w, "snapshot.json"), snapshot);
    assert_eq!(read(&w, "base.yaml"), FILE);
}

/// `export --split-by domain DIR` inside the desired directory would write a second copy of
/// every member as new parts: refused before the org is read, a folder deep or not yet made.
#[test]
fn export_split_into_the_desired_directory_is_refused() {
    let w = World::new(org(), "");
    std::fs::create_dir_all(w.path("org")).unwrap();
    w.write("org/root.yaml", FILE);
    assert_run!(
        "output_split_into_desired",
        w.run(&[
            "-f",
            "org",
            "export",
            "--split-by",
            "domain",
            "org/imported"
        ])
    );
    let r = w.run(&["-f", "org", "export", "--split-by", "domain", "./org/a/b"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert_eq!(w.emu.requests().len(), 0, "the org was not read");
    assert!(!w.path("org/imported").exists() && !w.path("org/a").exists());
    // A hidden folder is not read for parts; a folder beside the directory is fine.
    let r = w.run(&[
        "-f",
        "org",
        "export",
        "--split-by",
        "domain",
        "org/.cache/x",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    let r = w.run(&["-f", "org", "export", "--split-by", "domain", "split"]);
    assert_eq!(r.code, 0, "{}", r.all());
}
