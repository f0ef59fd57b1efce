//! Data from the API or the file never reaches a terminal or a CI log as control characters:
//! an escape sequence could erase the line `- remove ceo@example.com` at the apply prompt, and a
//! newline could start a GitHub workflow command.

use crate::assert_run;
use crate::support::*;
use scaling_emulator::OrgState;

/// An org whose list carries a hostile email and role (the API is not trusted to be sane).
fn hostile_org() -> OrgState {
    let mut o = OrgState::with_members(&[
        ("root@example.com", "org:admin"),
        ("ceo@example.com", "org:admin"),
        ("x\u{1b}[2K\u{1b}[1A@evil.io", "org:member"),
        ("y@evil.io", "org:member\n::warning title=owned::pwned"),
    ]);
    o.add_invitation("z\r@evil.io", "org:member");
    o
}

const KEEP_ROOT: &str = "version: 1\nmembers:\n  - email: root@example.com\n    role: org:admin\n";

#[test]
fn hostile_emails_and_roles_from_the_api_are_escaped_in_every_format() {
    let w = World::new(hostile_org(), KEEP_ROOT);
    for format in ["text", "diff", "markdown"] {
        let r = w.run(&["plan", "--format", format]);
        assert!(!r.all().contains('\u{1b}'), "{format}: {:?}", r.all());
        assert!(!r.all().contains('\r'), "{format}: {:?}", r.all());
        assert!(
            r.all().lines().all(|l| !l.starts_with("::warning")),
            "{format}: a line that GitHub would run: {:?}",
            r.all()
        );
    }
    assert_run!("hostile_plan_text", w.run(&["plan"]));
    assert_run!("hostile_plan_diff", w.run(&["plan", "--format", "diff"]));
    assert_run!(
        "hostile_apply",
        w.run(&[
            "apply",
            "--auto-approve",
            "--allow-mass-removal",
            "--parallelism",
            "1"
        ])
    );
}
