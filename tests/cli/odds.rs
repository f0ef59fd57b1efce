//! Issue 28's last odds through the real binary against the emulator: adopt's diff deletes an
//! entry whole (docs/contract.md §7), and an invitation goes to the address as the file writes
//! it, compared by ASCII case folding only (docs/contract.md §3).

use crate::assert_run;
use crate::support::*;
use scaling_emulator::OrgState;

/// Two entries of people no longer in the org: the line diff alone prints the second one as
/// its neighbour's `role:` line and its own `- email:` line; each is deleted whole.
#[test]
fn adopt_deletes_a_middle_entry_whole() {
    let file = "version: 1
members:
  - email: ada@example.com
    role: org:admin
  - email: bob@example.com
    role: org:member
  - email: eve@example.com
    role: org:member
  - email: fay@example.com
    role: org:member
  - email: gus@example.com
    role: org:member
  - email: hal@example.com
    role: org:member
";
    let org = OrgState::with_members(&[
        ("ada@example.com", "org:admin"),
        ("eve@example.com", "org:member"),
        ("gus@example.com", "org:member"),
        ("hal@example.com", "org:member"),
    ]);
    let w = World::new(org, file);
    assert_run!("odds_adopt_middle_entry", w.run(&["adopt"]));
    let plan = w.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}", plan.whole());
}

/// An address the file writes with ASCII capitals is invited as written; the org's copy is then
/// the file's entry (no second invitation), and a look-alike (KELVIN SIGN) is another address,
/// for the emulator too.
#[test]
fn an_invitation_goes_to_the_address_as_written() {
    let org = OrgState::with_members(&[("root@example.com", "org:admin")]);
    let file = "version: 1
members:
  - email: root@example.com
    role: org:admin
  - email: Kim.Lee@Example.com
    role: org:member
  - email: \"\\u212Aim@example.com\"
    role: org:member
  - email: kim@example.com
    role: org:member
";
    let w = World::new(org, file);
    assert_run!("odds_written_plan", w.run(&["plan"]));
    // One request at a time: the progress lines come in plan order.
    let apply = w.run(&["apply", "--auto-approve", "--parallelism", "1"]);
    assert_run!("odds_written_apply", apply);
    let mut sent: Vec<String> = w
        .emu
        .state()
        .invitations
        .into_iter()
        .map(|i| i.email_address)
        .collect();
    sent.sort();
    assert_eq!(
        sent,
        [
            "Kim.Lee@Example.com",
            "kim@example.com",
            "\u{212a}im@example.com"
        ]
    );
    assert_eq!(
        w.emu.invites_committed().into_iter().collect::<Vec<_>>(),
        [
            ("kim.lee@example.com".to_string(), 1),
            ("kim@example.com".to_string(), 1),
            ("\u{212a}im@example.com".to_string(), 1),
        ]
    );
    let again = w.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}", again.whole());
}
