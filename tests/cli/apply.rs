//! `teamsync apply`: phases, guards, self, confirmation.

use crate::assert_run;
use crate::support::*;
use scaling_emulator::OrgState;

#[test]
fn apply_converges_and_a_second_apply_sends_nothing() {
    let w = World::new(org(), FILE);
    // One request at a time, so the progress lines come in a fixed order.
    assert_run!(
        "apply_converges",
        w.run(&["apply", "--auto-approve", "--parallelism", "1"])
    );
    assert_eq!(w.roster(), WANT);
    let writes = w.emu.write_count();
    assert_run!(
        "apply_again_sends_nothing",
        w.run(&["apply", "--auto-approve"])
    );
    assert_eq!(w.emu.write_count(), writes, "a second apply sends nothing");
}

#[test]
fn apply_at_full_parallelism_reports_every_step() {
    let w = World::new(org(), FILE);
    let r = w.run(&["apply", "--auto-approve"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(w.roster(), WANT);
    // Steps within a phase finish in any order: compare the progress lines as a set.
    let mut progress: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.starts_with('['))
        .map(|l| l.split_once("] ").map_or(l, |(_, rest)| rest))
        .collect();
    progress.sort_unstable();
    assert_eq!(
        progress,
        [
            "+ invite erin@example.com as org:member: done",
            "+ revoke the invitation of carol@example.com (org:admin), then invite carol@example.com as org:member (replacing the org:admin invitation): done",
            "- remove dave@example.com (org:member): done",
            "- revoke the invitation of old@example.com (org:member): done",
            "~ change alice@example.com from org:admin to org:member: done",
            "~ change bob@example.com from org:member to org:admin: done",
        ]
    );
}

#[test]
fn apply_runs_promotions_before_demotions_before_removals() {
    let w = World::new(org(), FILE);
    assert_eq!(
        w.run(&["apply", "--auto-approve", "--parallelism", "1"])
            .code,
        0
    );
    let writes = w.writes();
    let pos = |needle: &str| {
        writes
            .iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle} in {writes:?}"))
    };
    let promote = pos("user_0002/role");
    let demote = pos("user_0003/role");
    let remove = pos("DELETE /v1/team/members/user_0004");
    let invite = pos("POST");
    assert!(
        promote < demote && invite < demote && demote < remove,
        "{writes:?}"
    );
}

#[test]
fn apply_without_a_terminal_or_auto_approve_refuses_and_sends_nothing() {
    let w = World::new(org(), FILE);
    assert_run!("apply_no_terminal", w.run(&["apply"]));
    assert_eq!(w.emu.write_count(), 0);
}

#[test]
fn mass_removal_guard_refuses_with_exit_3_unless_allowed() {
    let w = World::new(
        OrgState::with_members(&[
            ("root@example.com", "org:admin"),
            ("a@example.com", "org:member"),
            ("b@example.com", "org:member"),
            ("c@example.com", "org:member"),
            ("d@example.com", "org:member"),
        ]),
        "version: 1\nmembers:\n  - email: root@example.com\n    role: org:admin\n",
    );
    // plan warns first and still prints the whole plan.
    assert_run!("mass_removal_plan", w.run(&["plan"]));
    assert_run!("mass_removal_refused", w.run(&["apply", "--auto-approve"]));
    assert_eq!(w.emu.write_count(), 0);
    assert_run!(
        "mass_removal_allowed",
        w.run(&[
            "apply",
            "--auto-approve",
            "--allow-mass-removal",
            "--parallelism",
            "1"
        ])
    );
    assert_eq!(w.roster(), vec!["root@example.com org:admin"]);
}

/// docs/contract.md §5: at 2,993 members the default limit is 50, not a quarter (748): a branch that drops
/// 302 contractors is refused, and the plan says which limit it applies and where it comes from.
#[test]
fn removing_302_of_2993_members_is_refused_by_the_default_limit() {
    let mut org = OrgState::default();
    let mut file =
        String::from("version: 1\nmembers:\n  - email: root@example.com\n    role: org:admin\n");
    org.add_member("root@example.com", "org:admin");
    for i in 1..2993 {
        let email = format!("p{i:04}@example.com");
        org.add_member(&email, "org:member");
        if i <= 2690 {
            file.push_str(&format!("  - email: {email}\n    role: org:member\n"));
        }
    }
    let w = World::new(org, &file);
    let r = w.run(&["apply", "--auto-approve"]);
    assert_eq!(
        r.stdout.matches("\n  - remove p").count(),
        302,
        "{}",
        r.stdout
    );
    // The 302 removal lines are counted above; the snapshot holds the rest, whole.
    let mut filters = filters();
    filters.push((
        r"(  - remove p\d{4}@example\.com \(org:member\)  # not in the desired file\n)+",
        "  [302 removal lines]\n",
    ));
    insta::with_settings!({
        filters => filters,
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!("mass_removal_default_limit_at_scale", r.whole());
    });
    assert_eq!(w.emu.write_count(), 0, "nothing was sent");
}

#[test]
fn min_admins_guard_is_not_lifted_by_allow_mass_removal() {
    let w = World::new(
        OrgState::with_members(&[
            ("root@example.com", "org:admin"),
            ("a@example.com", "org:admin"),
        ]),
        "version: 1\nsafety:\n  min_admins: 2\nmembers:\n  - email: root@example.com\n    role: org:admin\n  - email: a@example.com\n    role: org:member\n  - email: new@example.com\n    role: org:admin\n",
    );
    assert_run!(
        "min_admins_refused",
        w.run(&["apply", "--auto-approve", "--allow-mass-removal"])
    );
    assert_eq!(w.emu.write_count(), 0);
}

#[test]
fn self_changes_are_blocked_with_self_and_by_the_api_without() {
    let file = "version: 1\nmembers:\n  - email: root@example.com\n    role: org:member\n  - email: alice@example.com\n    role: org:admin\n  - email: new@example.com\n    role: org:member\n";
    let org = || {
        OrgState::with_members(&[
            ("root@example.com", "org:admin"),
            ("alice@example.com", "org:admin"),
        ])
    };
    let w = World::new(org(), file);
    // With --self the plan shows the change as blocked; it is still drift.
    assert_run!(
        "self_blocked_plan",
        w.run(&["plan", "--self", "ROOT@example.com", "--detailed-exitcode"])
    );
    assert_run!(
        "self_blocked_apply",
        w.run_env(
            &["apply", "--auto-approve"],
            &[("TEAMSYNC_SELF", "root@example.com")],
        )
    );
    assert!(w.writes().iter().all(|l| !l.contains("/role")));
    // Without --self the API refuses; that step is blocked and the rest goes on.
    w.emu.set_state(org());
    assert_run!(
        "self_refused_by_the_api",
        w.run(&["apply", "--auto-approve", "--parallelism", "1"])
    );
    assert!(
        w.roster()
            .contains(&"new@example.com org:member (invited)".to_string())
    );
}

/// Runs teamsync on a pseudo-terminal (util-linux `script`, `TERM=xterm`), typing `answer` at
/// the prompt. apply's progress bar, if drawn, is taken out (see [`bar_drawings`]).
fn on_a_terminal(w: &World, args: &str, answer: &str) -> Run {
    let mut r = on_a_terminal_with_bar(w, args, answer);
    if let Some((range, _)) = bar_drawings(&r.stdout) {
        r.stdout.replace_range(range, "");
    }
    r
}

/// [`on_a_terminal`], the bar left in.
fn on_a_terminal_with_bar(w: &World, args: &str, answer: &str) -> Run {
    let bin = env!("CARGO_BIN_EXE_teamsync");
    let mut r = w.sh(&format!(
        "(sleep 1; echo {answer}) | script -qec 'TERM=xterm {bin} {args}' /dev/null"
    ));
    // A terminal ends lines with CR LF.
    r.stdout = r.stdout.replace("\r\n", "\n");
    r
}

/// Where a terminal's output draws apply's bar, from its first drawing to the escape sequence
/// that clears its last one, and how many times it was drawn. Panics when anything else is
/// written in between: the bar is redrawn in place, nothing scrolls under it.
fn bar_drawings(out: &str) -> Option<(std::ops::Range<usize>, usize)> {
    let first_draw = out.find("steps done")?;
    let start = out[..first_draw].rfind('\n').map_or(0, |i| i + 1);
    let start = out.find('\x1b').map_or(start, |e| e.min(start));
    let last = out.rfind('\x1b')?;
    let end = last
        + out[last..]
            .find(|c: char| c.is_ascii_alphabetic())
            .expect("an escape sequence ends with a letter")
        + 1;
    let region = &out[start..end];
    // What the region shows once the escape sequences and carriage returns are dropped.
    let mut shown = String::new();
    let mut chars = region.chars();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => {
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            '\r' => shown.push('\n'),
            c => shown.push(c),
        }
    }
    for line in shown.lines().map(str::trim).filter(|l| !l.is_empty()) {
        assert!(
            line.starts_with('[') && line.contains(" steps done"),
            "only the bar is drawn while apply runs, not {line:?}"
        );
    }
    Some((start..end, region.matches(" steps done").count()))
}

#[test]
fn on_a_terminal_apply_asks_and_only_yes_proceeds() {
    let w = World::new(org(), FILE);
    assert_run!("terminal_no", on_a_terminal(&w, "apply", "no"));
    assert_eq!(w.emu.write_count(), 0);
    assert_run!(
        "terminal_yes",
        on_a_terminal(&w, "apply --parallelism 1", "yes")
    );
    assert_eq!(w.roster(), WANT);
}

/// A file that keeps root, x and y as admins and invites `new`: phase 1 invites, and `demote`
/// (x or y) is demoted in phase 2, with `min_admins: 2`.
fn two_admins_file(demote: &str) -> String {
    let mut f = "version: 1\nsafety:\n  min_admins: 2\nmembers:\n  - email: root@example.com\n    role: org:admin\n  - email: new@example.com\n    role: org:member\n".to_string();
    for who in ["x", "y"] {
        let role = if who == demote {
            "org:member"
        } else {
            "org:admin"
        };
        f.push_str(&format!("  - email: {who}@example.com\n    role: {role}\n"));
    }
    f
}

fn three_admins() -> OrgState {
    OrgState::with_members(&[
        ("root@example.com", "org:admin"),
        ("x@example.com", "org:admin"),
        ("y@example.com", "org:admin"),
    ])
}

#[test]
fn the_demotion_phase_is_refused_when_the_org_changed_under_apply() {
    // Another apply (of the next commit) demotes x while this one, which demotes y, is in its
    // first phase. Before demoting, this apply reads the org again: demoting y now would leave
    // one admin, below min_admins: it refuses the phase, exit 3.
    let w = World::new(three_admins(), &two_admins_file("y"));
    w.latency(300);
    let child = w.spawn(&["apply", "--auto-approve", "--report", "report.json"]);
    demote_x_once_sent(&w, "POST");
    let run: Run = child.wait_with_output().unwrap().into();
    assert_run!("demotion_refused_midway", run);
    assert!(
        w.roster().contains(&"y@example.com org:admin".to_string()),
        "y kept admin: {:?}",
        w.roster()
    );
    let v = w.report();
    assert_eq!(v["ending"], "refused");
    assert_eq!(v["counts"]["done"], 1);
    assert_eq!(v["counts"]["not_attempted"], 1);
}

#[test]
fn two_applies_at_once_are_caught_by_the_verification_read() {
    // Two applies of the same file start together: both read the org before either invites,
    // so every invitation goes out twice. Each one's verification read reports it; the next
    // apply revokes the extra invitations.
    let w = scenario(0, 0, 0, 3);
    w.latency(800);
    let apply = &["apply", "--auto-approve"];
    let (a, b) = (w.spawn(apply), w.spawn(apply));
    for child in [a, b] {
        let run: Run = child.wait_with_output().unwrap().into();
        assert_eq!(run.code, 0, "a warning, not a failure: {}", run.all());
        for i in 0..3 {
            has(
                &run.stderr,
                &format!("warning: verification: new00{i}@example.com has 2 pending invitations"),
            );
        }
    }
    w.emu.set_faults(scaling_emulator::Faults::default());
    let again = w.run(&["apply", "--auto-approve"]);
    assert_eq!(again.code, 0, "{}", again.all());
    has(&again.stdout, "duplicate pending invitation");
    assert_eq!(w.run(&["plan", "--detailed-exitcode"]).code, 0);
}

#[test]
fn fewer_admins_than_min_admins_after_apply_is_exit_1() {
    // Between this apply's re-read and its demotion, the other apply demotes x: the
    // verification read finds one admin where two are required.
    let w = World::new(three_admins(), &two_admins_file("y"));
    w.latency(300);
    let child = w.spawn(&["apply", "--auto-approve"]);
    demote_x_once_sent(&w, "PATCH");
    let run: Run = child.wait_with_output().unwrap().into();
    assert_run!("admins_crossed_after_apply", run);
}

#[test]
fn a_gateway_answering_404_to_every_delete_is_not_taken_for_done() {
    let w = World::new(org(), FILE);
    w.emu.set_faults(scaling_emulator::Faults {
        delete_404: true,
        ..scaling_emulator::Faults::default()
    });
    assert_run!(
        "delete_404_gateway",
        w.run(&["apply", "--auto-approve", "--parallelism", "1"])
    );
    // Every run says so, rather than "done" forever.
    assert_eq!(w.run(&["apply", "--auto-approve"]).code, 1);
    // A 404 for something really gone is confirmed by the read, and done.
    w.emu.set_faults(scaling_emulator::Faults::default());
    assert_eq!(w.run(&["apply", "--auto-approve"]).code, 0);
    assert_eq!(w.roster(), WANT);
}

#[test]
fn a_401_in_the_middle_of_a_phase_stops_the_phase() {
    let w = scenario(0, 0, 0, 10);
    w.emu.set_faults(scaling_emulator::Faults {
        revoke_key_after_writes: Some(3),
        ..scaling_emulator::Faults::default()
    });
    assert_run!(
        "unauthorized_midway",
        w.run(&["apply", "--auto-approve", "--parallelism", "1"])
    );
    assert_eq!(w.emu.write_count(), 4, "no request after the 401");
}

#[test]
fn a_late_commit_beyond_the_look_window_is_reported_by_the_verification_read() {
    // The invitation's gateway gives up (504) and the backend commits 3.4 s later: after
    // teamsync stopped looking (about 2.6 s at a 200 ms retry base) and re-sent it, but before
    // the verification read (1.6 s after that).
    let w = scenario(0, 0, 0, 1);
    w.emu.set_faults(scaling_emulator::Faults {
        late_commit: 1.0,
        late_commit_max: Some(1),
        late_commit_delay: std::time::Duration::from_millis(3400),
        writes_only: true,
        ..scaling_emulator::Faults::default()
    });
    let r = w.run_env(
        &["apply", "--auto-approve"],
        &[("TEAMSYNC_RETRY_BASE_MS", "200")],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    has(
        &r.stderr,
        "warning: verification: new000@example.com has 2 pending invitations",
    );
    assert_eq!(w.emu.invites_committed()["new000@example.com"], 2);
    // The next apply revokes the extra one.
    let again = w.run(&["apply", "--auto-approve"]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert_eq!(w.run(&["plan", "--detailed-exitcode"]).code, 0);
}

/// Another writer at work: once apply has sent its first `method` request, x@example.com is
/// demoted behind its back.
fn demote_x_once_sent(w: &World, method: &str) {
    w.wait_for(method, |q| q.method == method);
    let mut other = w.emu.state();
    for m in other
        .members
        .iter_mut()
        .filter(|m| m.email == "x@example.com")
    {
        m.role = "org:member".into();
    }
    w.emu.set_state(other);
}

/// Issue 21 item 4: on a terminal, a 500-step apply under a rate limit is one bar, redrawn in
/// place, then the summary with the pauses totalled; not 500 lines, nor a line per pause.
#[test]
fn on_a_terminal_a_long_apply_is_one_bar_and_a_summary() {
    let w = scenario(0, 0, 0, 500);
    w.emu.set_faults(scaling_emulator::Faults {
        latency: std::time::Duration::from_millis(5),
        rate_limit_window: std::time::Duration::from_millis(1000),
        rate_limit_window_at_write: 100,
        ..scaling_emulator::Faults::default()
    });
    let mut r = on_a_terminal_with_bar(&w, "apply", "yes");
    assert_eq!(w.emu.invites_committed().len(), 500);
    let (range, draws) = bar_drawings(&r.stdout).expect("a bar was drawn");
    assert!(
        draws >= 2,
        "the bar is redrawn as steps finish: {draws} drawings"
    );
    r.stdout
        .replace_range(range, "[the progress bar, redrawn in place]\n");
    assert_run!("terminal_long_apply", r);
}
