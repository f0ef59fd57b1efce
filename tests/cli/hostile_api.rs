//! A hostile or broken API, and a hostile configuration (docs/network.md): ids that would climb
//! out of their endpoint, credentials in the API URL, answers without end.

use crate::assert_run;
use crate::support::*;
use scaling_emulator::{Faults, Invitation, Member, OrgState};
use std::time::{Duration, Instant};

/// docs/network.md: member `..` would become `DELETE /v1/team/` and invitation `.` would
/// become `DELETE /v1/team/members/invitations/`; both steps fail instead, and nothing leaves
/// its endpoint.
#[test]
fn dot_ids_are_refused_and_no_request_leaves_its_endpoint() {
    let mut org = OrgState::with_members(&[("root@example.com", "org:admin")]);
    for (id, email, role) in [
        ("..", "dots@example.com", "org:member"),
        (".", "dot@example.com", "org:admin"),
    ] {
        org.members.push(Member {
            id: id.into(),
            email: email.into(),
            first_name: None,
            last_name: None,
            role: role.into(),
        });
    }
    org.invitations.push(Invitation {
        id: ".".into(),
        email_address: "pending@example.com".into(),
        role: "org:member".into(),
        status: "pending".into(),
    });
    let file = "version: 1
members:
  - email: root@example.com
    role: org:admin
  - email: dot@example.com
    role: org:admin
";
    let w = World::new(org, file);
    assert_run!(
        "dot_ids_refused",
        w.run(&[
            "apply",
            "--auto-approve",
            "--parallelism",
            "1",
            "--allow-mass-removal"
        ])
    );
    assert_eq!(w.writes(), Vec::<String>::new(), "nothing was sent");
}

#[test]
fn credentials_in_the_api_url_are_refused_and_never_shown() {
    let w = World::new(org(), FILE);
    let port = w.emu.addr().port();
    for url in [
        "https://user:hunter2@api.scaling.cloud/v1".to_string(),
        format!("http://user:hunter2@127.0.0.1:{port}/v1"),
        "http://hunter2@api.scaling.cloud/v1".to_string(),
        "https://user:hunter2@not a host/v1".to_string(),
    ] {
        for r in [
            w.run_env(&["plan"], &[("SCALING_API_URL", &url)]),
            w.run(&["plan", "--api-url", &url, "-v"]),
            w.run_env(&["--help"], &[("SCALING_API_URL", &url)]),
            w.run_env(&["plan", "--help"], &[("SCALING_API_URL", &url)]),
        ] {
            assert!(!r.all().contains("hunter2"), "{url}: {}", r.all());
        }
    }
    assert!(w.emu.requests().is_empty(), "no request was sent");
    let url = format!("http://user:hunter2@127.0.0.1:{port}/v1");
    assert_run!(
        "credentials_in_api_url",
        w.run_env(&["plan"], &[("SCALING_API_URL", &url)])
    );
}

/// An endless list answer is cut at 64 MiB: a clear error, at once, without eating memory.
#[test]
fn an_endless_list_answer_fails_closed() {
    let w = World::new(org(), FILE);
    w.emu.set_faults(Faults {
        oversized_body: u64::MAX,
        ..Faults::default()
    });
    let started = Instant::now();
    let r = w.run(&["plan"]);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert_run!("endless_list_answer", r);
    assert_eq!(
        w.emu.requests().len(),
        1,
        "an oversized answer is not retried"
    );
}

/// A list page of 20 MiB is still read, past the 1 MiB cap of other answers (a 100,000-member org is about 19 MB).
#[test]
fn a_list_page_under_its_cap_is_read() {
    let w = World::new(org(), FILE);
    w.emu.set_faults(Faults {
        oversized_body: 20 * 1024 * 1024,
        ..Faults::default()
    });
    let r = w.run(&["plan"]);
    assert_eq!(r.code, 1, "{}", r.all());
    has(&r.stderr, "could not be read");
    assert!(!r.stderr.contains("MiB"), "{}", r.stderr);
}

/// A write's answer over 1 MiB is not trusted: the step's outcome is unknown, so the org is
/// read again, and the invitation is found, never sent twice.
#[test]
fn an_oversized_write_answer_is_checked_by_reading_the_org() {
    let w = World::new(org(), FILE);
    w.emu.set_faults(Faults {
        oversized_body: 2 * 1024 * 1024,
        writes_only: true,
        ..Faults::default()
    });
    let r = w.run(&["apply", "--auto-approve", "--parallelism", "1"]);
    assert_eq!(r.code, 0, "{}", r.all());
    has(&r.stderr, "confirmed");
    assert!(w.emu.invites_committed().values().all(|n| *n == 1));
    assert_eq!(w.roster(), WANT);
}

/// The JSON plan a run printed, without where the org was read from (the API's URL, its port,
/// and when): what two runs against two emulators share.
fn plan_json(r: &Run) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    v.as_object_mut().unwrap().remove("live_source");
    v
}

/// `plan --format json` of an org of 2,001 members (a list of about 300 KB, several pieces)
/// against the emulator as it answers by default and as `options` make it answer: the same
/// plan (but for the API's URL, its port) and the same messages either way. The two worlds,
/// for what else the caller checks.
fn plans_alike(file: &str, options: scaling_emulator::Options) -> (World, World, Run) {
    let mut org = OrgState::with_members(&[("root@example.com", "org:admin")]);
    for i in 0..2000 {
        org.add_member(&format!("person{i:04}@example.com"), "org:member");
    }
    let usual = World::new(org.clone(), file);
    let other = World::with_options(
        org,
        file,
        scaling_emulator::Options {
            api_key: KEY.into(),
            ..options
        },
    );
    let a = usual.run(&["plan", "--format", "json"]);
    let b = other.run(&["plan", "--format", "json"]);
    assert_eq!(a.code, 0, "{}", a.all());
    assert_eq!(plan_json(&a), plan_json(&b));
    assert_eq!((a.code, &a.stderr), (b.code, &b.stderr));
    (usual, other, a)
}

/// A file that keeps two of [`plans_alike`]'s 2,001 members, both as admins.
const TWO_ADMINS: &str = "version: 1\nmembers:\n  - email: root@example.com\n    role: org:admin\n  - email: person0001@example.com\n    role: org:admin\n";

/// A list streamed while it is written (no `Content-Length`, gzipped piece by piece) plans
/// exactly as one sent whole.
#[test]
fn a_list_streamed_or_sent_whole_plans_the_same() {
    let whole = scaling_emulator::Options {
        whole_list: true,
        ..Default::default()
    };
    let (_, _, run) = plans_alike(TWO_ADMINS, whole);
    let plan: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        (&plan["summary"]["remove"], &plan["summary"]["update_role"]),
        (&serde_json::json!(1999), &serde_json::json!(1))
    );
}

/// A list answered from a response cache (`Options::cached_list`: sent again whole, with a
/// `Content-Length`) plans exactly as one written for the request; once apply has written, the
/// cache's old answer is not read again: the next plan has nothing to do.
#[test]
fn a_list_from_a_cache_plans_the_same_and_is_not_read_stale_after_apply() {
    let cached = scaling_emulator::Options {
        cached_list: true,
        ..Default::default()
    };
    let (_, world, first) = plans_alike(TWO_ADMINS, cached);
    assert_eq!(world.emu.lists_from_cache(), 0);
    let again = world.run(&["plan", "--format", "json"]);
    assert_eq!(
        world.emu.lists_from_cache(),
        1,
        "the second plan read the cache"
    );
    assert_eq!(plan_json(&again), plan_json(&first));
    let applied = world.run(&["apply", "--auto-approve", "--allow-mass-removal"]);
    assert_eq!(applied.code, 0, "{}", applied.all());
    let after = world.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(after.code, 0, "{}", after.all());
}

/// The list is asked for gzipped and read either way; the bytes on the wire shrink.
#[test]
fn lists_come_gzipped_when_the_api_can_and_plain_when_it_cannot() {
    let file = "version: 1\nmembers:\n  - email: root@example.com\n    role: org:admin\n";
    let plain = scaling_emulator::Options {
        gzip: false,
        ..Default::default()
    };
    let (zipped, plain, _) = plans_alike(file, plain);
    let (z, p) = (zipped.emu.body_bytes_sent(), plain.emu.body_bytes_sent());
    eprintln!("gzip: {z} bytes, plain: {p} bytes");
    assert!(z * 5 < p, "gzip: {z} bytes, plain: {p} bytes");
}

/// docs/contract.md §6: `export` never writes a control or bidirectional character raw, not in
/// comments either, and the file it writes passes `validate` with an empty plan but for what
/// its comments say `plan` removes. Before, an ESC and a BEL from the API reached comments raw,
/// U+202E reached `ignore`, and the file failed `validate`.
#[test]
fn export_of_hostile_emails_and_roles_stays_valid_and_escaped() {
    let mut org = OrgState::with_members(&[
        ("root@example.com", "org:admin"),
        ("esc\u{1b}[2K@example.com", "org:member"),
        ("bel\u{7}@example.com", "org:member"),
        ("rlo\u{202e}moc.evil@example.com", "org:member"),
        ("filler\u{3164}@example.com", "org:member"),
        ("nel\u{85}x@example.com", "org:member"),
        ("ok@example.com", "org:\u{1b}]0;owned\u{7}"),
        ("quote\"back\\slash@example.com", "org:billing\u{202e}"),
    ]);
    org.add_invitation("glob*\u{1b}@example.com", "org:viewer\u{2028}");
    let w = World::new(org, FILE);
    let r = w.run(&["export", "-o", "exported.yaml"]);
    assert_run!("export_hostile", r);
    let text = std::fs::read_to_string(w.path("exported.yaml")).unwrap();
    for c in text.chars() {
        assert!(
            c == '\n' || !(c.is_control() || ('\u{2028}'..='\u{202e}').contains(&c)),
            "U+{:04X} written raw:\n{text}",
            c as u32
        );
    }
    crate::assert_text!("export_hostile_file", text);
    assert_eq!(w.run(&["validate", "-f", "exported.yaml"]).code, 0);
    assert_run!(
        "export_hostile_plan",
        w.run(&["plan", "-f", "exported.yaml"])
    );
}

/// An email from the API with an invisible character (a Hangul filler) or a line separator is
/// shown escaped in the plan, never as a look-alike of another address: `admin\u{3164}@…` is not
/// the admin `admin@…` the file keeps.
#[test]
fn invisible_characters_in_api_emails_are_shown_escaped() {
    let org = OrgState::with_members(&[
        ("admin@example.com", "org:admin"),
        ("admin\u{3164}@example.com", "org:admin"),
        ("eve\u{2028}@example.com", "org:member"),
    ]);
    let file = "version: 1
members:
  - email: admin@example.com
    role: org:admin
";
    let w = World::new(org, file);
    let r = w.run(&["plan"]);
    assert_eq!(r.code, 0, "{}", r.all());
    has(&r.stdout, "- remove admin\\u{3164}@example.com (org:admin)");
    has(&r.stdout, "- remove eve\\u{2028}@example.com (org:member)");
    assert!(
        !r.stdout.contains('\u{3164}') && !r.stdout.contains('\u{2028}'),
        "{}",
        r.stdout
    );
}
