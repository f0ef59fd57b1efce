//! The main job on the embedded emulator: plan → apply → plan, through the real HTTP client,
//! against a sample org that has drifted from `examples/teamsync.yaml`.
//!
//!     cargo run --example demo               # a calm API
//!     cargo run --example demo -- --faults   # 10% 5xx, 10% 429, 10% writes that commit then fail
//!
//! Nothing leaves this machine: the emulator listens on 127.0.0.1.

use scaling_emulator::{Emulator, Faults, Options, OrgState};
use std::path::PathBuf;
use std::time::Duration;
use teamsync::cli::run;
use teamsync::config::{ApiConfig, Command, Config, Format};
use teamsync::date::Date;

const KEY: &str = "scl_live_demo_key_never_printed";

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

fn config(command: Command) -> Config {
    Config {
        file: PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/teamsync.yaml"
        )),
        file_explicit: true,
        format: Format::Text,
        color: std::env::var_os("NO_COLOR").is_none()
            && std::io::IsTerminal::is_terminal(&std::io::stdout()),
        self_email: Some("jane@example.com".into()),
        today: Date::today_utc(),
        github_annotations: false,
        command,
    }
}

fn step(title: &str, command: Command) -> u8 {
    if config(Command::Schema { plan: false }).color {
        println!("\n\x1b[1m$ {title}\x1b[0m");
    } else {
        println!("\n$ {title}");
    }
    let code = match run(&config(command)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    };
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

    let mut api =
        ApiConfig::new(&emulator.url(), Some(KEY.into())).expect("a loopback URL is allowed");
    api.retry.base = Duration::from_millis(50);

    let plan = |detailed| Command::Plan {
        api: api.clone(),
        detailed_exitcode: detailed,
        out: None,
    };
    step(
        "teamsync plan --self jane@example.com --detailed-exitcode",
        plan(true),
    );
    let apply = Command::Apply {
        api: api.clone(),
        auto_approve: true,
        parallelism: 8,
        allow_mass_removal: false,
        plan_file: None,
    };
    let mut code = step(
        "teamsync apply --self jane@example.com --auto-approve",
        apply.clone(),
    );
    if code != 0 {
        code = step(
            "teamsync apply --self jane@example.com --auto-approve   # again, to finish what failed",
            apply,
        );
    }
    println!("\ncarol@example.com accepts her invitation.");
    emulator.accept_invitation("carol@example.com");
    let last = step(
        "teamsync plan --self jane@example.com --detailed-exitcode",
        plan(true),
    );

    let invites = emulator.invites_committed();
    println!(
        "\nThe emulator received {} requests ({} writes); invitations sent: {}; none sent twice: {}.",
        emulator.requests().len(),
        emulator.write_count(),
        invites.values().sum::<usize>(),
        invites.values().all(|n| *n == 1)
    );
    if code != 0 || last != 0 {
        std::process::exit(1);
    }
}
