//! Symbolic links in a desired directory (docs/contract.md §10): a link to a file inside the
//! repository is read as that file, in the head and the baseline alike; a link leaving it, or
//! leading nowhere, is an error naming the link, and nothing of its target is printed.

use crate::assert_run;
use crate::support::*;
use std::os::unix::fs::symlink;

const CORE: &str = "version: 1
members:
  - email: root@example.com
    role: org:admin
  - email: bob@example.com
    role: org:admin
";

/// A git work tree holding `ts/` (the desired directory) and `shared/core.yaml`, with
/// `ts/core.yaml -> ../shared/core.yaml`, and `ts/team.yaml` of its own.
fn repository() -> World {
    let w = World::new(org(), "");
    std::fs::remove_file(w.path("teamsync.yaml")).unwrap();
    let r = w.sh("git init -q .");
    assert_eq!(r.code, 0, "git is needed: {}", r.all());
    for d in ["ts", "shared"] {
        std::fs::create_dir(w.path(d)).unwrap();
    }
    w.write("shared/core.yaml", CORE);
    w.write(
        "ts/team.yaml",
        "version: 1\nmembers:\n  - email: alice@example.com\n    role: org:member\n",
    );
    symlink("../shared/core.yaml", w.path("ts/core.yaml")).unwrap();
    w
}

#[test]
fn a_link_inside_the_repository_is_read_as_its_target_in_head_and_baseline() {
    let w = repository();
    // The base: the same directory, the link included.
    let r = w.sh("cp -a ts base");
    assert_eq!(r.code, 0, "{}", r.all());
    // The edit removes the link: bob, listed in shared/core.yaml only, leaves with it.
    std::fs::remove_file(w.path("ts/core.yaml")).unwrap();
    w.write(
        "ts/team.yaml",
        "version: 1\nmembers:\n  - email: root@example.com\n    role: org:admin\n  - email: alice@example.com\n    role: org:member\n",
    );
    let r = w.run(&["plan", "-f", "ts", "--baseline", "base", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let plan: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let bob: Vec<&serde_json::Value> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["email"] == "bob@example.com")
        .collect();
    assert_eq!(bob.len(), 1, "{}", r.stdout);
    assert_eq!(bob[0]["action"], "remove");
    assert_eq!(bob[0]["origin"], "edit", "the edit's removal, not drift");
    // Read through the link, the head validates and names the part by the link's path.
    symlink("../shared/core.yaml", w.path("ts/core.yaml")).unwrap();
    std::fs::remove_file(w.path("ts/team.yaml")).unwrap();
    w.write(
        "ts/team.yaml",
        "version: 1\nmembers:\n  - email: bob@example.com\n    role: org:member\n",
    );
    assert_run!("links_inside_read", w.run(&["validate", "-f", "ts"]));
}

#[test]
fn a_link_leaving_the_repository_or_leading_nowhere_is_an_error_without_its_content() {
    let w = repository();
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.yaml");
    std::fs::write(&secret, "SECRET_TOKEN: hunter2\nnot: [valid\n").unwrap();
    symlink(&secret, w.path("ts/leak.yaml")).unwrap();
    let leak = w.run(&["plan", "-f", "ts"]);
    assert!(!leak.all().contains("hunter2") && !leak.all().contains("SECRET"));
    std::fs::remove_file(w.path("ts/leak.yaml")).unwrap();
    symlink("../shared/gone.yaml", w.path("ts/gone.yaml")).unwrap();
    let gone = w.run(&["validate", "-f", "ts"]);
    std::fs::remove_file(w.path("ts/gone.yaml")).unwrap();
    // A link to a directory outside is refused the same way.
    symlink(outside.path(), w.path("ts/elsewhere")).unwrap();
    let dir = w.run(&["validate", "-f", "ts"]);
    std::fs::remove_file(w.path("ts/elsewhere")).unwrap();
    // As a baseline, too.
    std::fs::create_dir(w.path("base")).unwrap();
    std::fs::copy(w.path("ts/team.yaml"), w.path("base/team.yaml")).unwrap();
    symlink(&secret, w.path("base/leak.yaml")).unwrap();
    let base = w.run(&["plan", "-f", "ts", "--baseline", "base"]);
    assert!(!base.all().contains("hunter2"));
    let runs = [leak, gone, dir, base].map(|r| r.whole()).join("\n---\n");
    insta::with_settings!({
        prepend_module_to_snapshot => false,
        omit_expression => true,
        filters => vec![(r"/tmp/\.tmp[A-Za-z0-9]+", "[TMP]")],
    }, {
        insta::assert_snapshot!("links_refused", runs);
    });
    assert!(w.emu.requests().is_empty(), "nothing read");
}

#[test]
fn outside_git_the_directory_itself_is_the_boundary() {
    let w = World::new(org(), CORE);
    std::fs::create_dir(w.path("ts")).unwrap();
    symlink("../teamsync.yaml", w.path("ts/core.yaml")).unwrap();
    assert_run!("links_outside_git", w.run(&["validate", "-f", "ts"]));
    // Inside it, a link is a part like any other.
    std::fs::remove_file(w.path("ts/core.yaml")).unwrap();
    std::fs::copy(w.path("teamsync.yaml"), w.path("ts/real.yaml")).unwrap();
    symlink("real.yaml", w.path("ts/zlink.yml")).unwrap();
    let r = w.run(&["validate", "-f", "ts"]);
    assert_eq!(r.code, 1, "the same entries twice: {}", r.all());
    has(
        &r.stderr,
        "ts/zlink.yml:3:12: duplicate email `root@example.com`",
    );
}
