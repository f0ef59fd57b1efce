//! `scaling-emulator`: serve the Scaling team-members API emulator on localhost.
//!
//! ```text
//! scaling-emulator [--port N] [--state FILE.json] [--key KEY] [--self EMAIL]
//!                  [--latency-ms N] [--error-rate F] [--rate-limit F]
//!                  [--commit-then-fail F] [--page-size N] [--seed N]
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::exit,
    reason = "a development server run by hand: it prints where it listens and stops on a bad flag"
)]

use std::process::ExitCode;
use std::time::Duration;

use scaling_emulator::{Faults, Options, OrgState, ROLE_ADMIN, ROLE_MEMBER, Shared, serve};
use serde::Deserialize;

const USAGE: &str = "\
scaling-emulator: an in-process emulator of the Scaling team-members API

USAGE:
    scaling-emulator [OPTIONS]

OPTIONS:
    --port N               Port on 127.0.0.1 (default 0 = any free port)
    --state FILE.json      Seed org: {\"members\":[{\"email\",\"role\"}...],
                           \"invitations\":[{\"emailAddress\",\"role\"}...]} (ids optional)
    --key KEY              API key to accept (default scl_live_test)
    --self EMAIL           The key's own user; must be a member (default: first admin)
    --latency-ms N         Latency added to every request
    --error-rate F         Probability of a 500/502/503 answer
    --rate-limit F         Probability of a 429 answer (Retry-After: 1)
    --commit-then-fail F   Probability that a write is applied, then answered 500
    --page-size N          Paginate the member list in pages of N items
    --seed N               Seed of the fault generator (default 0)
    --no-gzip              Never compress answers (default: gzip when asked)
    --whole-list           Send the member list written whole, with a Content-Length
                           (default: streamed while it is written)
    --cached-list          Keep the list's answer and send it again while nothing changed,
                           as behind a response cache (default: written for each request)
    --rate-limit-window-ms N
                           A window in which every request gets 429 (Retry-After: the rest)
    --rate-limit-window-at-write N
                           Open that window at the N-th write (default 0: the first request)
    --oversized-body N     Answer successes with N bytes of filler (18446744073709551615: endless)
    -h, --help             Print this help
";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StateFile {
    #[serde(default)]
    members: Vec<FileMember>,
    #[serde(default)]
    invitations: Vec<FileInvitation>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FileMember {
    #[serde(default)]
    id: Option<String>,
    email: String,
    role: String,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FileInvitation {
    #[serde(default)]
    id: Option<String>,
    email_address: String,
    role: String,
    #[serde(default)]
    status: Option<String>,
}

struct Args {
    port: u16,
    state: Option<String>,
    options: Options,
    faults: Faults,
}

fn parse_args(mut argv: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut args = Args {
        port: 0,
        state: None,
        options: Options::default(),
        faults: Faults::default(),
    };
    while let Some(flag) = argv.next() {
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (flag.clone(), None),
        };
        if name == "-h" || name == "--help" {
            return Ok(None);
        }
        let mut value = || -> Result<String, String> {
            inline
                .clone()
                .or_else(|| argv.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match name.as_str() {
            "--port" => args.port = num(&name, &value()?)?,
            "--state" => args.state = Some(value()?),
            "--key" => args.options.api_key = value()?,
            "--self" => args.options.self_email = Some(value()?),
            "--latency-ms" => {
                args.faults.latency = Duration::from_millis(num(&name, &value()?)?);
            }
            "--error-rate" => args.faults.error_5xx = prob(&name, &value()?)?,
            "--rate-limit" => args.faults.rate_limit_429 = prob(&name, &value()?)?,
            "--commit-then-fail" => args.faults.commit_then_fail = prob(&name, &value()?)?,
            "--page-size" => {
                let n: usize = num(&name, &value()?)?;
                if n == 0 {
                    return Err("--page-size must be at least 1".to_string());
                }
                args.faults.page_size = Some(n);
            }
            "--seed" => args.faults.seed = num(&name, &value()?)?,
            "--no-gzip" => args.options.gzip = false,
            "--whole-list" => args.options.whole_list = true,
            "--cached-list" => args.options.cached_list = true,
            "--rate-limit-window-ms" => {
                args.faults.rate_limit_window = Duration::from_millis(num(&name, &value()?)?);
            }
            "--rate-limit-window-at-write" => {
                args.faults.rate_limit_window_at_write = num(&name, &value()?)?;
            }
            "--oversized-body" => args.faults.oversized_body = num(&name, &value()?)?,
            _ => return Err(format!("unknown argument {flag:?}")),
        }
    }
    Ok(Some(args))
}

fn num<T: std::str::FromStr>(name: &str, v: &str) -> Result<T, String> {
    v.parse()
        .map_err(|_| format!("{name}: {v:?} is not a valid number"))
}

fn prob(name: &str, v: &str) -> Result<f64, String> {
    let p: f64 = num(name, v)?;
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(format!("{name}: {v} is not a probability between 0 and 1"))
    }
}

fn load_state(path: &str) -> Result<OrgState, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let file: StateFile = serde_json::from_str(&text)
        .map_err(|e| format!("{path} is not a valid state file: {e}"))?;
    let mut state = OrgState::default();
    for m in file.members {
        check_role(&m.role)?;
        let id = state.add_member(&m.email, &m.role);
        let member = state.members.last_mut().expect("just added");
        if let Some(given) = m.id {
            member.id = given;
        } else {
            member.id = id;
        }
        if m.first_name.is_some() || m.last_name.is_some() {
            member.first_name = m.first_name;
            member.last_name = m.last_name;
        }
    }
    for i in file.invitations {
        check_role(&i.role)?;
        state.add_invitation(&i.email_address, &i.role);
        let inv = state.invitations.last_mut().expect("just added");
        if let Some(given) = i.id {
            inv.id = given;
        }
        if let Some(status) = i.status {
            inv.status = status;
        }
    }
    Ok(state)
}

fn check_role(role: &str) -> Result<(), String> {
    if role == ROLE_ADMIN || role == ROLE_MEMBER {
        Ok(())
    } else {
        Err(format!(
            "role {role:?} is neither {ROLE_ADMIN:?} nor {ROLE_MEMBER:?}"
        ))
    }
}

fn sample_state() -> OrgState {
    let mut s = OrgState::with_members(&[
        ("jane.smith@example.com", ROLE_ADMIN),
        ("bob.jones@example.com", ROLE_MEMBER),
        ("carol.white@example.com", ROLE_ADMIN),
        ("dave@example.com", ROLE_MEMBER),
    ]);
    s.add_invitation("alice@example.com", ROLE_MEMBER);
    s
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(a)) => a,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("scaling-emulator: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let state = match &args.state {
        Some(path) => match load_state(path) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("scaling-emulator: {e}");
                return ExitCode::from(2);
            }
        },
        None => sample_state(),
    };
    let stranger = args
        .options
        .self_email
        .as_deref()
        .filter(|me| state.member_by_email(me).is_none());
    if let Some(me) = stranger {
        eprintln!("scaling-emulator: --self {me} is not a member of the seed state");
        return ExitCode::from(2);
    }
    let key = args.options.api_key.clone();
    let shared = Shared::new(state, args.options);
    shared.set_faults(args.faults);

    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("scaling-emulator: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await?;
        let addr = listener.local_addr()?;
        println!("Scaling API emulator listening on http://{addr}/v1");
        println!("API key:    {key}");
        if let Some(me) = shared.self_email() {
            println!("Key's user: {me}");
        }
        println!("Press Ctrl-C to stop.");
        serve(listener, shared).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("scaling-emulator: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Args>, String> {
        parse_args(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn parses_flags() {
        let a = parse(&[
            "--port",
            "8080",
            "--key=scl_live_abc",
            "--self",
            "me@example.com",
            "--latency-ms",
            "5",
            "--error-rate",
            "0.5",
            "--page-size",
            "2",
            "--seed",
            "42",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(a.port, 8080);
        assert_eq!(a.options.api_key, "scl_live_abc");
        assert_eq!(a.options.self_email.as_deref(), Some("me@example.com"));
        assert_eq!(a.faults.latency, Duration::from_millis(5));
        assert_eq!(a.faults.error_5xx, 0.5);
        assert_eq!(a.faults.page_size, Some(2));
        assert_eq!(a.faults.seed, 42);
    }

    #[test]
    fn rejects_bad_flags() {
        assert!(parse(&["--bogus"]).is_err());
        assert!(parse(&["--port"]).is_err());
        assert!(parse(&["--error-rate", "2"]).is_err());
        assert!(parse(&["--page-size", "0"]).is_err());
        assert!(parse(&["--help"]).unwrap().is_none());
    }

    #[test]
    fn loads_state_file() {
        let dir = std::env::temp_dir().join(format!("scaling-emulator-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.json");
        std::fs::write(
            &path,
            r#"{"members":[{"email":"a@example.com","role":"org:admin"},
                           {"id":"user_x","email":"b@example.com","role":"org:member"}],
                "invitations":[{"emailAddress":"c@example.com","role":"org:member"}]}"#,
        )
        .unwrap();
        let s = load_state(path.to_str().unwrap()).unwrap();
        std::fs::remove_dir_all(&dir).ok();
        assert_eq!(s.members[0].id, "user_0001");
        assert_eq!(s.members[1].id, "user_x");
        assert_eq!(s.invitations[0].email_address, "c@example.com");
        assert_eq!(s.invitations[0].status, "pending");
    }
}
