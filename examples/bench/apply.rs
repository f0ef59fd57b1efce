//! The apply rows: parallelism, scale (teamsync's own CPU at 100k members), a rate-limit
//! window, and list re-reads under commit-then-fail.

use super::*;
use scaling_emulator::OrgState;

pub(super) fn bench_apply(bin: &Path, rows: &mut Vec<Row>) {
    const INVITES: usize = 400;
    const LATENCY: Duration = Duration::from_millis(20);
    let dir = tempfile::tempdir().expect("a temp dir");
    write_invites_file(dir.path(), INVITES);
    let mut base: Option<Duration> = None;
    for parallelism in [1usize, 4, 8, 16] {
        let runs = if parallelism == 1 { 1 } else { 3 };
        let mut walls = Vec::new();
        for _ in 0..runs {
            let emulator = admin_only_org();
            emulator.set_faults(Faults {
                latency: LATENCY,
                ..Faults::default()
            });
            let run = run_apply(bin, &emulator.url(), dir.path(), parallelism);
            let sent: usize = emulator.invites_committed().values().sum();
            if run.code != 0 || sent != INVITES {
                let err = std::fs::read_to_string(dir.path().join("stderr")).unwrap_or_default();
                panic!(
                    "teamsync apply exited {} after {sent} invitations: {}",
                    run.code,
                    err.lines().last().unwrap_or_default()
                );
            }
            walls.push(run.wall);
        }
        let wall = median(walls);
        let base = *base.get_or_insert(wall);
        let speedup = base.as_secs_f64() / wall.as_secs_f64();
        let ideal = LATENCY * (INVITES.div_ceil(parallelism) as u32 + 1);
        rows.push(Row {
            bench: format!("`teamsync apply`, {INVITES} invites, 20 ms latency"),
            size: format!("--parallelism {parallelism}"),
            figure: ms(wall),
            extra: format!("{speedup:.1}× parallelism 1; latency alone {}", ms(ideal)),
            goal: if parallelism == 8 {
                "≥ 6.5× at 8".into()
            } else {
                String::new()
            },
            met: (parallelism == 8).then_some(speedup >= 6.5),
        });
        eprintln!("apply -p {parallelism}: {} ({speedup:.1}×)", ms(wall));
    }
}

/// `teamsync apply` at scale, without latency: 100,000 members and 20,000 steps (10,000
/// invitations, 10,000 removals), and a fifth of that for the slope. The figure is teamsync's
/// own CPU time (user + sys, from `wait4`): the emulator runs in this process, on the same
/// cores, and its time is not teamsync's. Goal (docs/contract.md §10): under 3 s at 100k.
pub(super) fn bench_apply_scale(bin: &Path, rows: &mut Vec<Row>) {
    for (members, invites, removals, runs) in
        [(20_000, 2_000, 2_000, 3), (100_000, 10_000, 10_000, 3)]
    {
        let dir = tempfile::tempdir().expect("a temp dir");
        let org = scale_org(dir.path(), members, invites, removals);
        let mut cpus = Vec::new();
        let mut detail = String::new();
        for _ in 0..runs {
            let (run, _) = apply_at_scale(
                bin,
                dir.path(),
                &org,
                Faults::default(),
                &[],
                invites,
                members - removals,
            );
            let cpu = run.user + run.sys;
            cpus.push(cpu);
            detail = cpu_detail(&run);
            eprintln!(
                "apply {} members, {} steps: CPU {:.2} s ({detail})",
                size(members),
                invites + removals,
                cpu.as_secs_f64()
            );
        }
        let cpu = median(cpus);
        let big = members == 100_000;
        rows.push(Row {
            bench: format!(
                "`teamsync apply`, {} steps ({invites} invitations, {removals} removals), no latency, `--parallelism 64`",
                invites + removals
            ),
            size: size(members),
            figure: format!("{:.2} s CPU", cpu.as_secs_f64()),
            extra: format!("teamsync's user + sys, median of {runs}; last run: {detail}"),
            goal: if big { "< 3 s CPU".into() } else { String::new() },
            met: big.then_some(cpu < Duration::from_secs(3)),
        });
    }
}

/// Lost answers at scale (docs/contract.md §5, issue 28 item 7): 50,000 members and 4,000
/// steps (2,000 invitations, 2,000 removals), every write committed but half of the answers
/// lost (500 after the commit), `--parallelism 64`, a 5 ms retry base. Each lost answer makes
/// its step look at a shared re-read of the org; the figure is teamsync's own CPU. Goal: under
/// 3 s (it was 14.3 s when each step indexed the read it got on its own).
pub(super) fn bench_lost_answers(bin: &Path, rows: &mut Vec<Row>) {
    const MEMBERS: usize = 50_000;
    const STEPS: usize = 2_000;
    const RUNS: usize = 3;
    let dir = tempfile::tempdir().expect("a temp dir");
    let org = scale_org(dir.path(), MEMBERS, STEPS, STEPS);
    let mut cpus = Vec::new();
    let mut detail = String::new();
    for _ in 0..RUNS {
        let faults = Faults {
            commit_then_fail: 0.5,
            writes_only: true,
            seed: 28,
            ..Faults::default()
        };
        let (run, emulator) = apply_at_scale(
            bin,
            dir.path(),
            &org,
            faults,
            &[("TEAMSYNC_RETRY_BASE_MS", "5")],
            STEPS,
            MEMBERS - STEPS,
        );
        let requests = emulator.requests();
        let lost = requests
            .iter()
            .filter(|q| q.method != "GET" && q.status == 500)
            .count();
        let reads = requests.iter().filter(|q| q.method == "GET").count();
        let cpu = run.user + run.sys;
        cpus.push(cpu);
        detail = format!(
            "{lost} answers lost, {reads} list reads; {}; each invitation sent once",
            cpu_detail(&run)
        );
        eprintln!(
            "apply, lost answers: CPU {:.2} s ({detail})",
            cpu.as_secs_f64()
        );
    }
    let cpu = median(cpus);
    rows.push(Row {
        bench: format!(
            "`teamsync apply`, {} steps, half the answers lost after commit, `--parallelism 64`",
            2 * STEPS
        ),
        size: size(MEMBERS),
        figure: format!("{:.2} s CPU", cpu.as_secs_f64()),
        extra: format!("teamsync's user + sys, median of {RUNS}; last run: {detail}"),
        goal: "< 3 s CPU".into(),
        met: Some(cpu < Duration::from_secs(3)),
    });
}

/// The run-and-measure loop of the scale rows: `teamsync apply --auto-approve
/// --allow-mass-removal --parallelism 64` of `dir`'s file against a fresh emulator of `org`
/// with `faults`. Stops the bench unless the apply succeeded with each of `invites`
/// invitations sent once and `members` members left. Returns the run and the emulator (for
/// its requests).
fn apply_at_scale(
    bin: &Path,
    dir: &Path,
    org: &OrgState,
    faults: Faults,
    env: &[(&str, &str)],
    invites: usize,
    members: usize,
) -> (Run, Emulator) {
    let emulator = emulator(org.clone());
    emulator.set_faults(faults);
    let run = run_binary_env(
        bin,
        &[
            "apply",
            "-f",
            "teamsync.yaml",
            "--auto-approve",
            "--allow-mass-removal",
            "--parallelism",
            "64",
        ],
        &emulator.url(),
        dir,
        env,
    );
    let sent: usize = emulator.invites_committed().values().sum();
    let left = emulator.state().members.len();
    if run.code != 0 || sent != invites || left != members {
        let err = std::fs::read_to_string(dir.join("stderr")).unwrap_or_default();
        panic!(
            "teamsync apply exited {} after {sent} invitations, {left} members left: {}",
            run.code,
            err.lines().last().unwrap_or_default()
        );
    }
    (run, emulator)
}

/// A run's own CPU, wall time and peak memory, in words.
fn cpu_detail(run: &Run) -> String {
    format!(
        "user {:.2} s, sys {:.2} s, wall {:.1} s; peak RSS {}",
        run.user.as_secs_f64(),
        run.sys.as_secs_f64(),
        run.wall.as_secs_f64(),
        mib(run.max_rss_kib)
    )
}

/// A 1-second rate-limit window (every request answered 429 with `Retry-After` for the rest of
/// it) opening at the 12th of 60 invitations, `--parallelism 8`, 20 ms latency: what the window
/// costs over the same apply without it. Goal: no more than the window plus one backoff
/// (docs/network.md: one pause for every request, then each resumes once).
pub(super) fn bench_rate_window(bin: &Path, rows: &mut Vec<Row>) {
    const INVITES: usize = 60;
    const RUNS: usize = 3;
    let dir = tempfile::tempdir().expect("a temp dir");
    write_invites_file(dir.path(), INVITES);
    let window = Duration::from_secs(1);
    let (mut without, mut with) = (Vec::new(), Vec::new());
    let mut limited = 0;
    for _ in 0..RUNS {
        for with_window in [false, true] {
            let emulator = admin_only_org();
            emulator.set_faults(Faults {
                latency: Duration::from_millis(20),
                rate_limit_window: if with_window { window } else { Duration::ZERO },
                rate_limit_window_at_write: 12,
                ..Faults::default()
            });
            let run = run_apply(bin, &emulator.url(), dir.path(), 8);
            assert_eq!(run.code, 0, "teamsync apply failed");
            let sent: usize = emulator.invites_committed().values().sum();
            assert_eq!(sent, INVITES, "each invitation is sent once");
            if with_window {
                limited = emulator
                    .requests()
                    .iter()
                    .filter(|q| q.status == 429)
                    .count();
            }
            if with_window {
                with.push(run.wall);
            } else {
                without.push(run.wall);
            }
        }
    }
    let (without, with) = (median(without), median(with));
    let cost = with.saturating_sub(without);
    // One backoff: the client's first retry waits at least the Retry-After it was given; allow
    // the window plus half a second for the resumed requests and the jitter.
    let budget = window + Duration::from_millis(500);
    rows.push(Row {
        bench: format!("`teamsync apply`, {INVITES} invites, a 1 s rate-limit window at write 12"),
        size: "--parallelism 8".into(),
        figure: ms(cost),
        extra: format!(
            "{} with the window, {} without; {limited} requests answered 429; each invitation sent once",
            ms(with),
            ms(without)
        ),
        goal: "≤ the window + one backoff (1.5 s)".into(),
        met: Some(cost <= budget),
    });
    eprintln!("rate window: +{} ({limited} × 429)", ms(cost));
}

/// 400 invitations under 10 % commit-then-fail at 20 ms latency, parallelism 8: the list reads
/// the unknown outcomes cost. Before reads were shared, each unknown outcome read the whole org
/// at least once; now steps at the same time share one read in flight.
pub(super) fn bench_rereads(bin: &Path, rows: &mut Vec<Row>) {
    const INVITES: usize = 400;
    let dir = tempfile::tempdir().expect("a temp dir");
    write_invites_file(dir.path(), INVITES);
    // At 10 % the unknown outcomes rarely overlap in time, and a step may only share a read
    // that started after its own write: little to share. At 25 % they overlap.
    for (rate, percent) in [(0.10, 10), (0.25, 25)] {
        let emulator = admin_only_org();
        emulator.set_faults(Faults {
            latency: Duration::from_millis(20),
            commit_then_fail: rate,
            writes_only: true,
            seed: 10,
            ..Faults::default()
        });
        let run = run_binary(
            bin,
            &["apply", "-f", "teamsync.yaml", "--auto-approve"],
            &emulator.url(),
            dir.path(),
        );
        let requests = emulator.requests();
        let unknown = requests
            .iter()
            .filter(|q| q.method == "POST" && q.status == 500)
            .count();
        // Every GET but the plan's first read: the re-reads and the verification read.
        let reads = requests.iter().filter(|q| q.method == "GET").count() - 1;
        let sent: usize = emulator.invites_committed().values().sum();
        let ok = run.code == 0 && sent == INVITES;
        let (goal, met) = if percent == 25 {
            (
                "fewer reads than unknown outcomes".to_string(),
                Some(ok && reads < unknown),
            )
        } else {
            (String::new(), None)
        };
        rows.push(Row {
            bench: format!("list re-reads, 400 invites, {percent} % commit-then-fail"),
            size: "--parallelism 8".into(),
            figure: format!("{reads} reads"),
            extra: format!(
                "{unknown} unknown outcomes (≥ {unknown} reads before sharing), verification read included; {} in all; exit {}; each invitation sent once: {}",
                ms(run.wall),
                run.code,
                if sent == INVITES { "yes" } else { "no" }
            ),
            goal,
            met,
        });
        eprintln!("rereads {percent} %: {unknown} unknown outcomes, {reads} list reads");
    }
}
