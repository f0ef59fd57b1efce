//! The main job on the embedded emulator: plan → apply → plan, through the real HTTP client,
//! against a sample org that has drifted from `examples/teamsync.yaml`.
//!
//!     cargo run --example demo               # a calm API
//!     cargo run --example demo -- --faults   # 10% 5xx, 10% 429, 10% writes that commit then fail
//!
//! Nothing leaves this machine: the emulator listens on 127.0.0.1.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::exit,
    reason = "the demo prints its walk-through to the terminal and stops at the first failure"
)]

use scaling_emulator::{Emulator, Faults, Options, OrgState};
use std::ffi::OsString;
use std::io::IsTerminal;
use std::time::Duration;

const KEY: &str = "scl_live_demo_key_never_printed";

/// `examples/teamsync.yaml` of the repository (this package is its `demo/` folder).
fn file() -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("demo/ is inside the repository");
    root.join("examples/teamsync.yaml").display().to_string()
}

/// A sample org as a hand-edited dashboard left it.
fn sample_org() -> OrgState {
    let mut org = OrgState::with_members(&[
        ("jane@example.com", "org:admin"), // the API key's own account
        ("breakglass@example.com", "org:admin"), // protected
        ("bob@example.com", "org:member"), // to be promoted
        ("alice@example.com", "org:admin"), // to be demoted
        ("dave@example.com", "org:member"), // left the company: not in the file
        ("support@vendor.io", "org:admin"), // ignored: the vendor's account
        ("contractor@example.com", "org:member"),
    ]);
    org.add_invitation("carol@example.com", "org:admin"); // wrong role: replaced
    org.add_invitation("old-hire@example.com", "org:member"); // not in the file: revoked
    org
}

/// Runs teamsync as a user would type it, against the emulator, and prints its exit code.
fn step(url: &str, args: &[&str]) -> u8 {
    let color = std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal();
    let shown = format!(
        "{} -f examples/teamsync.yaml --self jane@example.com",
        args.join(" ")
    );
    if color {
        println!("\n\x1b[1m$ teamsync {shown}\x1b[0m");
    } else {
        println!("\n$ teamsync {shown}");
    }
    let mut argv = vec!["teamsync"];
    argv.extend_from_slice(args);
    let file = file();
    argv.extend(["-f", &file, "--self", "jane@example.com"]);
    // The environment a CI job would give it; the key is never a flag.
    let mut env: Vec<(OsString, OsString)> = vec![
        ("SCALING_API_KEY".into(), KEY.into()),
        ("SCALING_API_URL".into(), url.into()),
        ("TEAMSYNC_RETRY_BASE_MS".into(), "50".into()),
    ];
    if let Some(v) = std::env::var_os("NO_COLOR") {
        env.push(("NO_COLOR".into(), v));
    }
    let code = teamsync::run(argv, env);
    println!("(exit code {code})");
    code
}

fn main() {
    let with_faults = std::env::args().any(|a| a == "--faults");
    let emulator = Emulator::start(
        sample_org(),
        Options {
            api_key: KEY.into(),
            self_email: Some("jane@example.com".into()),
            ..Options::default()
        },
    );
    if with_faults {
        emulator.set_faults(Faults {
            error_5xx: 0.10,
            rate_limit_429: 0.10,
            retry_after: "0".into(),
            commit_then_fail: 0.10,
            latency: Duration::from_millis(20),
            seed: 7,
            ..Faults::default()
        });
    }
    println!(
        "Scaling emulator listening at {} (an org of {} members and {} pending invitations).",
        emulator.url(),
        emulator.state().members.len(),
        emulator.state().invitations.len()
    );
    println!(
        "Desired state: examples/teamsync.yaml. The API key's own account: jane@example.com (--self)."
    );

    let url = emulator.url();
    step(&url, &["plan", "--detailed-exitcode"]);
    let mut code = step(&url, &["apply", "--auto-approve"]);
    if code != 0 {
        println!("(a faulty API left steps undone: apply again, as CI would on the next run)");
        code = step(&url, &["apply", "--auto-approve"]);
    }
    println!("\ncarol@example.com accepts her invitation.");
    emulator.accept_invitation("carol@example.com");
    let last = step(&url, &["plan", "--detailed-exitcode"]);

    let invites = emulator.invites_committed();
    println!(
        "\nThe emulator received {} requests ({} writes); invitations sent: {}; none sent twice: {}.",
        emulator.requests().len(),
        emulator.write_count(),
        invites.values().sum::<usize>(),
        invites.values().all(|n| *n == 1)
    );
    // The first plan shows drift (exit 2); after apply, the last one must find none.
    if code != 0 || last != 0 {
        std::process::exit(1);
    }
}
