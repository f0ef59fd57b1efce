//! Errors and secrets: refused keys, bad URLs, unreachable or strange servers, bad flags.

use crate::assert_run;
use crate::support::*;
use scaling_emulator::{Faults, Options};

#[test]
fn unauthorized_keys_are_explained_and_never_retried() {
    let w = World::new(org(), FILE);
    assert_run!(
        "unauthorized_invalid_key",
        w.run_env(&["plan"], &[("SCALING_API_KEY", "scl_live_wrong")])
    );
    assert_eq!(w.emu.requests().len(), 1, "401 is never retried");
    let w = World::with_options(
        org(),
        FILE,
        Options {
            api_key: KEY.into(),
            key_is_admin: false,
            ..Options::default()
        },
    );
    assert_run!("unauthorized_not_admin", w.run(&["plan"]));
    assert_run!(
        "missing_key",
        w.run_env(&["plan"], &[("SCALING_API_KEY", "")])
    );
}

#[test]
fn the_key_never_appears_in_any_output_at_any_verbosity() {
    let w = World::new(org(), FILE);
    w.emu.set_faults(Faults {
        error_5xx: 0.3,
        commit_then_fail: 0.2,
        retry_after: "0".into(),
        seed: 3,
        ..Faults::default()
    });
    let mut seen = String::new();
    for args in [
        &["plan", "-vvv"][..],
        &["apply", "--auto-approve", "-vvv"],
        &["plan", "--format", "json", "-vv"],
        &["export", "-vvv"],
    ] {
        seen.push_str(&w.run_env(args, &[("TEAMSYNC_LOG", "trace")]).all());
    }
    seen.push_str(
        &w.run_env(
            &["plan", "-vvv"],
            &[("SCALING_API_URL", "http://127.0.0.1:1/v1")],
        )
        .all(),
    );
    // The key from a file (SCALING_API_KEY_FILE), as Kubernetes and Docker secrets give it.
    w.write("key.txt", &format!("{KEY}\n"));
    let from_file = [
        ("SCALING_API_KEY", ""),
        ("SCALING_API_KEY_FILE", "key.txt"),
        ("TEAMSYNC_LOG", "trace"),
    ];
    for args in [
        &["plan", "-vvv"][..],
        &["apply", "--auto-approve", "-vvv"],
        &["export", "-vvv"],
    ] {
        let r = w.run_env(args, &from_file);
        assert_ne!(r.code, 1, "the key from the file was used: {}", r.all());
        seen.push_str(&r.all());
    }
    // Both set: the error names both variables, never a value.
    let r = w.run_env(&["plan", "-vvv"], &[from_file[1], from_file[2]]);
    assert_eq!(r.code, 1, "{}", r.all());
    seen.push_str(&r.all());
    assert!(
        seen.contains("GET") || seen.contains("request"),
        "verbose output was produced"
    );
    assert!(!seen.contains(KEY), "the key leaked");
    assert!(!seen.contains("TESTKEY"), "part of the key leaked");
}

#[test]
fn the_key_can_come_from_a_file_and_never_from_two_places() {
    let w = World::new(org(), FILE);
    w.write(
        "key.txt",
        &format!("  {KEY}  \nanything after the first line\n"),
    );
    let unset = ("SCALING_API_KEY", "");
    let r = w.run_env(&["plan"], &[unset, ("SCALING_API_KEY_FILE", "key.txt")]);
    assert_eq!(r.code, 0, "{}", r.all());
    let read = w.emu.requests().len();
    assert!(read > 0);
    assert_run!(
        "key_and_key_file",
        w.run_env(&["plan"], &[("SCALING_API_KEY_FILE", "key.txt")])
    );
    assert_run!(
        "key_file_missing",
        w.run_env(&["plan"], &[unset, ("SCALING_API_KEY_FILE", "secrets/key")])
    );
    w.write("blank.txt", "\n");
    assert_run!(
        "key_file_empty",
        w.run_env(&["export"], &[unset, ("SCALING_API_KEY_FILE", "blank.txt")])
    );
    assert_eq!(
        w.emu.requests().len(),
        read,
        "nothing sent without a clear key"
    );
    // `validate` needs no key: a key-file problem does not stop it.
    let r = w.run_env(&["validate"], &[("SCALING_API_KEY_FILE", "secrets/key")]);
    assert_eq!(r.code, 0, "{}", r.all());
}

#[test]
fn plain_http_is_refused_off_loopback() {
    let w = World::new(org(), FILE);
    assert_run!(
        "plain_http_refused_env",
        w.run_env(
            &["plan"],
            &[("SCALING_API_URL", "http://api.scaling.cloud/v1")],
        )
    );
    assert_run!(
        "plain_http_refused_flag",
        w.run(&["plan", "--api-url", "http://10.1.2.3/v1"])
    );
}

#[test]
fn an_unreachable_api_fails_with_one_clear_sentence() {
    let w = World::new(org(), FILE);
    assert_run!(
        "unreachable_api",
        w.run_env(&["plan"], &[("SCALING_API_URL", "http://127.0.0.1:1/v1")])
    );
}

#[test]
fn bad_flags_exit_1() {
    let w = World::new(org(), FILE);
    assert_run!("bad_format", w.run(&["plan", "--format", "yaml"]));
    assert_run!(
        "bad_parallelism",
        w.run(&["apply", "--parallelism", "0", "--auto-approve"])
    );
    // validate has `--format text|json` (docs/contract.md §1), not the plan's other formats.
    assert_run!(
        "format_on_validate",
        w.run(&["validate", "--format", "markdown"])
    );
    assert_eq!(w.run(&["--help"]).code, 0);
    assert_eq!(w.emu.requests().len(), 0);
}

#[test]
fn an_empty_api_url_means_the_default_as_ci_systems_pass_unset_variables() {
    let w = World::new(org(), FILE);
    // With no key the command stops before any request; the URL must not be the complaint.
    assert_run!(
        "empty_url_and_no_key",
        w.run_env(
            &["plan"],
            &[("SCALING_API_URL", ""), ("SCALING_API_KEY", "")],
        )
    );
}

#[test]
fn api_failures_say_what_to_do_next() {
    let w = World::new(org(), FILE);
    w.emu.set_faults(Faults {
        error_5xx: 1.0,
        ..Faults::default()
    });
    assert_run!("api_keeps_failing", w.run(&["plan"]));
    assert_eq!(w.emu.requests().len(), 6, "a read is tried 6 times");
}

#[test]
fn redirects_are_not_followed_so_the_key_goes_nowhere_else() {
    let (url, seen) = canned_server(
        "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.2:9/steal\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    let w = World::new(org(), FILE);
    assert_run!(
        "redirect_refused",
        w.run_env(&["plan"], &[("SCALING_API_URL", &url)])
    );
    let heads = seen.lock().unwrap();
    assert_eq!(heads.len(), 1, "{heads:?}");
    assert!(
        heads[0].starts_with("GET /v1/team/members HTTP/1.1"),
        "{}",
        heads[0]
    );
}

#[test]
fn an_answer_that_is_not_the_api_is_explained() {
    let (url, _) = canned_server(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 15\r\nConnection: close\r\n\r\n<html>hi</html>",
    );
    let w = World::new(org(), FILE);
    assert_run!(
        "not_the_api",
        w.run_env(&["plan"], &[("SCALING_API_URL", &url)])
    );
}

#[test]
fn a_reader_that_goes_away_is_no_panic() {
    // 3,000 invitations: far more JSON than a pipe holds.
    let w = scenario(5, 5, 0, 3000);
    let bin = env!("CARGO_BIN_EXE_teamsync");
    let r = w.sh(&format!(
        "'{bin}' plan --format json | head -c 1 >/dev/null; sleep 0.5"
    ));
    assert_eq!(r.stderr, "", "no panic, no message");
}

#[test]
fn colour_follows_the_flag_then_no_color_then_clicolor() {
    let w = World::new(org(), FILE);
    let coloured = |args: &[&str], env: &[(&str, &str)]| {
        let mut env = env.to_vec();
        if !env.iter().any(|(k, _)| *k == "NO_COLOR") {
            env.push(("NO_COLOR", ""));
        }
        let r = w.run_env(args, &env);
        assert_eq!(r.code, 0, "{}", r.all());
        r.stdout.contains('\x1b')
    };
    // stdout is a pipe here.
    assert!(!coloured(&["plan"], &[]), "never on a pipe by default");
    assert!(coloured(&["plan"], &[("CLICOLOR_FORCE", "1")]));
    assert!(!coloured(
        &["plan"],
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]
    ));
    assert!(coloured(
        &["plan", "--color", "always"],
        &[("CLICOLOR", "0")]
    ));
    assert!(!coloured(
        &["plan", "--color", "never"],
        &[("CLICOLOR_FORCE", "1")]
    ));
    assert!(!coloured(
        &["plan", "--no-color"],
        &[("CLICOLOR_FORCE", "1")]
    ));
    assert!(!coloured(&["plan", "--color", "auto"], &[]));
    assert_run!(
        "plan_text_in_colour",
        w.run_env(&["plan", "--color", "always"], &[("NO_COLOR", "")])
    );
    assert_run!(
        "color_and_no_color_conflict",
        w.run(&["plan", "--color", "always", "--no-color"])
    );
}
