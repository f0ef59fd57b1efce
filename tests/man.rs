//! The man pages `cargo run --example man` writes for the release archive (examples/man): each
//! is clap_mangen's page of its command with ENVIRONMENT and EXIT STATUS sections
//! (docs/contract.md §1, §2), from the table `teamsync --help` ends with, and the command's
//! EXAMPLES, which its `--help` ends with.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::exit,
    reason = "test code: a failed unwrap is a failed test, and the harness prints what it ran"
)]

#[path = "../examples/man/pages.rs"]
mod pages;

use std::collections::BTreeMap;

fn pages() -> BTreeMap<String, String> {
    let cmd = teamsync::command().version("[VERSION]");
    pages::pages(cmd, "2026-12-07")
        .unwrap()
        .into_iter()
        .map(|(name, page)| (name, String::from_utf8(page).unwrap()))
        .collect()
}

/// The text between `.SH TITLE` and the next `.SH`.
fn section<'a>(page: &'a str, title: &str) -> &'a str {
    let start = page
        .find(&format!(".SH {title}\n"))
        .unwrap_or_else(|| panic!("no {title} in:\n{page}"));
    let rest = &page[start..];
    &rest[..rest.find("\n.SH ").map_or(rest.len(), |end| end + 1)]
}

#[test]
fn every_command_has_a_page_ending_with_environment_exit_status_and_examples() {
    let pages = pages();
    let names: Vec<&str> = pages.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "teamsync-adopt.1",
            "teamsync-apply.1",
            "teamsync-completions.1",
            "teamsync-export.1",
            "teamsync-plan.1",
            "teamsync-review.1",
            "teamsync-schema.1",
            "teamsync-snapshot.1",
            "teamsync-validate.1",
            "teamsync.1",
        ]
    );
    for (name, page) in &pages {
        assert!(
            !page.contains(".SH EXTRA"),
            "{name}: the sections are not dumped as EXTRA"
        );
        let command = name
            .strip_suffix(".1")
            .and_then(|n| n.strip_prefix("teamsync-"))
            .unwrap_or("teamsync");
        let [environment, exit_status, _] = teamsync::man_sections();
        let examples = teamsync::man_examples(command);
        for s in [environment, exit_status, &examples] {
            let title = if s.title.contains(' ') {
                format!("\"{}\"", s.title)
            } else {
                s.title.to_string()
            };
            let text = section(page, &title);
            for (term, _) in s.entries {
                // roff writes a minus as `\-`.
                let roff = term.replace('-', "\\-");
                assert!(
                    text.contains(&format!("\n.TP\n\\fB{roff}\\fR\n")),
                    "{name}: {term}"
                );
            }
        }
    }
    for (name, page) in &pages {
        let last = page
            .rfind("\n.SH ")
            .map(|at| &page[at + 1..])
            .unwrap_or_default();
        assert!(
            last.starts_with(".SH EXAMPLES\n"),
            "{name} ends with EXAMPLES"
        );
    }
    // The top page whole: what `man teamsync` shows.
    insta::assert_snapshot!("man_teamsync_1", pages["teamsync.1"]);
}

/// Nothing of clap_mangen's own page is lost: each page less the two sections is the page
/// clap_mangen writes for the command without its `after_long_help`.
#[test]
fn the_pages_are_clap_mangens_plus_the_two_sections() {
    let pages = pages();
    let mut cmd = teamsync::command()
        .version("[VERSION]")
        .disable_help_subcommand(true)
        .after_help(None::<&str>)
        .after_long_help(None::<&str>);
    cmd.build();
    let mut commands = vec![cmd.clone()];
    commands.extend(cmd.get_subcommands().filter(|s| !s.is_hide_set()).cloned());
    for c in commands {
        let man = clap_mangen::Man::new(c.after_long_help(None::<&str>));
        let mut expected = Vec::new();
        man.render(&mut expected).unwrap();
        let page = &pages[&man.get_filename()];
        let env = section(page, "ENVIRONMENT");
        let exit = section(page, "\"EXIT STATUS\"");
        let examples = section(page, "EXAMPLES");
        let without = page
            .replacen(env, "", 1)
            .replacen(exit, "", 1)
            .replacen(examples, "", 1);
        let title = pages::Title {
            version: "[VERSION]".into(),
            date: "2026-12-07".into(),
        };
        assert_eq!(
            without,
            pages::clean(&String::from_utf8(expected).unwrap(), &title),
            "{}",
            man.get_filename()
        );
    }
}
