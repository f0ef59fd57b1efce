//! Hostile desired-state files (docs/contract.md §3, §10), through the real binary: parts that
//! are not regular files or are too large, extensions in capitals, a byte-order mark before a
//! `version` written otherwise than `1`, invisible characters in emails.

use crate::assert_run;
use crate::support::*;
use scaling_emulator::OrgState;
use std::time::{Duration, Instant};

/// Writes `text` at `rel` below the world's directory, creating folders.
fn put(w: &World, rel: &str, text: &str) {
    let p = w.path(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// Runs the binary and waits 20 s at most: a run that blocks (on a FIFO, say) fails the test
/// instead of hanging it.
fn run_within(w: &World, args: &[&str]) -> Run {
    let mut child = w.spawn(args);
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            let r: Run = child.wait_with_output().unwrap().into();
            panic!("teamsync {args:?} still ran after 20 s:\n{}", r.whole());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap().into()
}

const ROOT: &str = "version: 1\nmembers:\n  - email: root@example.com\n    role: org:admin\n";

fn small_org() -> OrgState {
    OrgState::with_members(&[
        ("root@example.com", "org:admin"),
        ("eng@example.com", "org:member"),
    ])
}

/// A FIFO among the parts is an error naming it, at once: before, `validate` waited forever
/// for a writer.
#[test]
fn a_fifo_part_is_an_error_not_a_hang() {
    let w = World::new(small_org(), "");
    put(&w, "org/a.yaml", ROOT);
    let made = std::process::Command::new("mkfifo")
        .arg(w.path("org/b.yaml"))
        .status()
        .expect("mkfifo is needed");
    assert!(made.success());
    assert_run!("parts_fifo", run_within(&w, &["validate", "-f", "org"]));
    // `-f` naming the FIFO itself.
    let r = run_within(&w, &["plan", "-f", "org/b.yaml"]);
    assert_eq!(r.code, 1, "{}", r.whole());
    has(
        &r.stderr,
        "org/b.yaml is not a regular file (it is a FIFO, a named pipe)",
    );
    assert!(w.emu.requests().is_empty(), "nothing was sent");
}

/// A part linked to `/dev/zero` (a pull request can commit such a link) is an error naming it:
/// before, `plan` read it until memory ran out.
#[test]
fn a_part_linked_to_a_device_is_an_error() {
    let w = World::new(small_org(), "");
    put(&w, "org/a.yaml", ROOT);
    std::os::unix::fs::symlink("/dev/zero", w.path("org/zero.yaml")).unwrap();
    assert_run!("parts_dev_zero", run_within(&w, &["plan", "-f", "org"]));
    assert!(w.emu.requests().is_empty(), "nothing was sent");
}

/// A part over 64 MiB is an error, told from its size before it is read (a sparse file here).
#[test]
fn a_part_over_64_mib_is_an_error() {
    let w = World::new(small_org(), "");
    put(&w, "org/a.yaml", ROOT);
    let f = std::fs::File::create(w.path("org/huge.yaml")).unwrap();
    f.set_len(64 * 1024 * 1024 + 1).unwrap();
    assert_run!(
        "parts_too_large",
        run_within(&w, &["validate", "-f", "org"])
    );
}

/// `Eng.YAML` is a part: before, it was skipped without a word and its members planned for
/// removal.
#[test]
fn an_extension_in_capitals_is_a_part() {
    let w = World::new(small_org(), "");
    put(&w, "org/a.yaml", ROOT);
    put(
        &w,
        "org/Eng.YAML",
        "version: 1\nmembers:\n  - email: eng@example.com\n    role: org:member\n",
    );
    assert_run!(
        "parts_capital_extension",
        run_within(&w, &["plan", "-f", "org", "--detailed-exitcode"])
    );
}

/// docs/contract.md §3: a byte-order mark changes no check. `version: 0x1` is refused after a
/// BOM as without one; the file without a BOM is read by the fast path, the one with it by
/// granit-parser, and both say the same.
#[test]
fn a_bom_does_not_hide_how_version_is_written() {
    let body = "version: 0x1\nmembers:\n  - email: root@example.com\n    role: org:admin\n";
    let w = World::new(OrgState::default(), &format!("\u{feff}{body}"));
    let with_bom = w.run(&["validate"]);
    assert_run!("validate_bom_version", with_bom);
    w.write("teamsync.yaml", body);
    assert_eq!(w.run(&["validate"]).whole(), with_bom.whole());
}

/// docs/contract.md §3: every Default_Ignorable_Code_Point and the Hangul fillers are errors in
/// an email, at the character's position. Before, U+3164 and U+115F made an address that looks
/// like `admin@x.io` and is valid.
#[test]
fn invisible_characters_in_emails_are_errors_at_their_position() {
    let file = "version: 1
protected: [\"root\u{2060}@example.com\"]
members:
  - email: root@example.com
    role: org:admin
  - email: admin\u{3164}@example.com
    role: org:member
  - {email: admin\u{115f}@example.com, role: org:member}
  - email: \"admin\\u200b@example.com\"
    role: org:member
  - email: ad\u{200e}min@example.com
    role: org:member
";
    let w = World::new(OrgState::default(), file);
    assert_run!("validate_invisible_emails", w.run(&["validate"]));
}

/// The other files teamsync reads get the parts' care: a saved plan or a snapshot linked to
/// `/dev/zero`, or a FIFO, is an error at once (before, `apply PLANFILE` read `/dev/zero` until
/// memory ran out, and a FIFO hung it).
#[test]
fn a_saved_plan_or_snapshot_that_is_a_device_or_a_fifo_is_an_error() {
    let w = World::new(small_org(), ROOT);
    std::os::unix::fs::symlink("/dev/zero", w.path("plan.json")).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(w.path("snapshot.json"))
        .status()
        .expect("mkfifo is needed");
    assert!(made.success());
    let r = run_within(&w, &["apply", "--auto-approve", "plan.json"]);
    assert_eq!(r.code, 1, "{}", r.whole());
    has(
        &r.stderr,
        "cannot read the saved plan plan.json: it is a character device, not a regular file",
    );
    let r = run_within(&w, &["plan", "--live", "snapshot.json"]);
    assert_eq!(r.code, 1, "{}", r.whole());
    has(
        &r.stderr,
        "cannot read the snapshot snapshot.json: it is a FIFO, a named pipe, not a regular file",
    );
    assert!(w.emu.requests().is_empty(), "nothing was sent");
}
