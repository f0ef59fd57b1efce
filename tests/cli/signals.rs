//! SIGINT and SIGTERM during `apply` (docs/contract.md §8), sent to the real binary while the
//! emulator holds its requests (latency): the first stops new steps and lets the requests in
//! flight finish; the second ends the run at once; before the first write, a signal ends the
//! run with nothing sent. A re-run converges without sending an invitation twice.
#![cfg(unix)]

use crate::assert_run;
use crate::support::*;
use std::process::Child;
use std::time::{Duration, Instant};

#[expect(unsafe_code, reason = "kill(2) has no safe wrapper in std")]
fn signal(child: &Child, sig: libc::c_int) {
    let pid = child.id() as libc::pid_t;
    // SAFETY: kill(2) on the pid of a child this test started and has not reaped yet.
    assert_eq!(unsafe { libc::kill(pid, sig) }, 0);
}

#[test]
fn the_first_sigint_finishes_the_step_in_flight_lists_the_rest_and_a_rerun_converges() {
    let w = World::new(org(), FILE);
    w.latency(300);
    let child = w.spawn(APPLY_REPORTED);
    w.wait_for("write", |q| q.method != "GET");
    signal(&child, libc::SIGINT);
    let run: Run = child.wait_with_output().unwrap().into();
    // The first step (revoke carol's invitation, then invite her again) was in flight: it
    // finished, both of its requests; nothing else was sent.
    assert_eq!(
        w.writes(),
        [
            "DELETE /v1/team/members/invitations/orginv_0001",
            "POST /v1/team/members/invite"
        ]
    );
    assert_run!("sigint_mid_apply", run);
    let v = w.report();
    assert_eq!(v["ending"], "interrupted");
    assert_eq!(v["signal"], "SIGINT");
    assert_eq!(v["exit_code"], 130);
    assert_eq!(v["counts"]["done"], 1);
    assert_eq!(v["counts"]["not_attempted"], 5);

    w.latency(0);
    let again = w.run(&["apply", "--auto-approve"]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert_eq!(w.roster(), WANT);
    let invites = w.emu.invites_committed();
    assert!(
        invites.values().all(|n| *n == 1),
        "no invitation sent twice: {invites:?}"
    );
}

#[test]
fn sigterm_stops_the_same_way_with_exit_143() {
    let w = scenario(0, 0, 0, 6);
    w.latency(300);
    let child = w.spawn(&["apply", "--auto-approve", "--parallelism", "2"]);
    w.wait_for("write", |q| q.method != "GET");
    signal(&child, libc::SIGTERM);
    let run: Run = child.wait_with_output().unwrap().into();
    assert_eq!(run.code, 143, "{}", run.all());
    has(&run.stderr, "SIGTERM: starting no new step");
    has(&run.stderr, "not attempted: interrupted by SIGTERM");
    has(
        &run.stderr,
        "error: apply interrupted by SIGTERM: 4 steps not attempted",
    );
    assert_eq!(w.writes().len(), 2, "only the two requests in flight");
}

#[test]
fn a_second_sigint_ends_the_run_at_once() {
    let w = scenario(0, 0, 0, 4);
    w.latency(3000);
    let child = w.spawn(APPLY_REPORTED);
    w.wait_for("write", |q| q.method != "GET");
    signal(&child, libc::SIGINT);
    std::thread::sleep(Duration::from_millis(100));
    let second = Instant::now();
    signal(&child, libc::SIGINT);
    let run: Run = child.wait_with_output().unwrap().into();
    assert!(
        second.elapsed() < Duration::from_millis(2000),
        "it did not wait for the request in flight: {:?}",
        second.elapsed()
    );
    assert_eq!(run.code, 130, "{}", run.all());
    has(
        &run.stderr,
        "cut off by a second SIGINT: the outcome is unknown",
    );
    let v = w.report();
    assert_eq!(v["counts"]["failed"], 1);
    assert_eq!(v["counts"]["not_attempted"], 3);
    // The re-run reads first: the invitation that may have gone out is not sent again.
    w.latency(0);
    std::thread::sleep(Duration::from_millis(3000));
    assert_eq!(w.run(&["apply", "--auto-approve"]).code, 0);
    let invites = w.emu.invites_committed();
    assert_eq!(invites.len(), 4);
    assert!(invites.values().all(|n| *n == 1), "{invites:?}");
}

#[test]
fn a_signal_before_the_first_write_ends_the_run_with_nothing_sent() {
    let w = World::new(org(), FILE);
    w.latency(1000);
    let child = w.spawn(&["apply", "--auto-approve", "--report", "report.json"]);
    w.wait_for("list", |q| q.method == "GET");
    let sent = Instant::now();
    signal(&child, libc::SIGINT);
    let run: Run = child.wait_with_output().unwrap().into();
    assert!(sent.elapsed() < Duration::from_millis(800), "at once");
    assert_run!("sigint_while_reading", run);
    assert_eq!(w.emu.write_count(), 0);
    assert!(
        !w.path("report.json").exists(),
        "no plan was made, so there is nothing to report"
    );
}
