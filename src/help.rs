//! The ENVIRONMENT and EXIT STATUS sections of `teamsync --help` and of the man pages
//! (docs/contract.md §1, §2). Each is one table, here: the help renders it
//! ([`after_long_help`]), `examples/man` renders it into every man page, and a test holds
//! docs/usage.md's and the contract's tables to the same variables and codes, so none can drift.

use clap::builder::StyledStr;

/// A reference section: its title and its entries, each a term (a variable, several of them
/// separated by `, `, or an exit code) and what it means.
#[derive(Debug)]
pub struct Section {
    /// As a man page writes it: `ENVIRONMENT`.
    pub title: &'static str,
    /// As `--help` writes it: `Environment`.
    pub heading: &'static str,
    pub entries: &'static [(&'static str, &'static str)],
}

/// Every environment variable teamsync reads (docs/contract.md §1).
pub const ENVIRONMENT: Section = Section {
    title: "ENVIRONMENT",
    heading: "Environment",
    entries: &[
        (
            "SCALING_API_KEY",
            "The API key (an org admin's), needed by plan (not with --live), apply, export, adopt and snapshot. Only ever taken from the environment: never a flag, never printed, logged or saved.",
        ),
        (
            "SCALING_API_KEY_FILE",
            "A file whose first line (trimmed) is the key, as Kubernetes and Docker secrets give it; used when SCALING_API_KEY is unset. Both set is an error.",
        ),
        (
            "SCALING_API_URL",
            "Base URL of the API (--api-url wins); default https://api.scaling.cloud/v1. Plain http:// only to a loopback host.",
        ),
        (
            "TEAMSYNC_SELF",
            "The email of the key's own account (--self wins): its role is never changed and it is never removed.",
        ),
        (
            "TEAMSYNC_FILE",
            "The desired-state file or directory when -f is not given (-f wins); default teamsync.yaml.",
        ),
        (
            "TEAMSYNC_TIMEOUT",
            "Seconds per request (--timeout wins); default 30.",
        ),
        (
            "TEAMSYNC_RETRY_BASE_MS",
            "First retry delay in milliseconds; default 500, doubling per attempt with jitter, at most 30 s.",
        ),
        (
            "TEAMSYNC_TODAY",
            "Today's date (YYYY-MM-DD, UTC) for expires and invitation ages; default the clock.",
        ),
        (
            "TEAMSYNC_NOW",
            "The clock (RFC 3339, for tests): a snapshot's read_at and age; also today's date unless TEAMSYNC_TODAY is set.",
        ),
        (
            "TEAMSYNC_LOG",
            "A log filter for stderr (debug, teamsync=trace, ...); overrides -v.",
        ),
        (
            "NO_COLOR",
            "Set and not empty: no colour (with --color auto, the default).",
        ),
        (
            "CLICOLOR, CLICOLOR_FORCE",
            "CLICOLOR=0: no colour; CLICOLOR_FORCE=1: colour even off a terminal (NO_COLOR wins).",
        ),
        (
            "TERM, CI",
            "With --color auto, a terminal gets colour when TERM is set and not dumb, or CLICOLOR (not 0) or CI is set.",
        ),
        (
            "GITHUB_ACTIONS",
            "true: problems in the file are also printed as workflow annotations.",
        ),
        (
            "GITHUB_STEP_SUMMARY",
            "A file that plan and apply append a Markdown summary to.",
        ),
        (
            "HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY",
            "Proxies, as curl reads them (lower case too); a loopback API URL never uses one.",
        ),
        (
            "SSL_CERT_FILE, SSL_CERT_DIR",
            "CA certificates to trust besides the system store's.",
        ),
    ],
};

/// Every exit code (docs/contract.md §2).
pub const EXIT_STATUS: Section = Section {
    title: "EXIT STATUS",
    heading: "Exit status",
    entries: &[
        (
            "0",
            "Success; for plan, also when changes are pending, unless --detailed-exitcode is given.",
        ),
        (
            "1",
            "An error: a bad file or flag, an API or network failure, a stale saved plan, a refused confirmation, an apply step that failed or was not attempted, a file that cannot be written.",
        ),
        (
            "2",
            "plan --detailed-exitcode: the plan has changes; adopt --check: adopting would change the file.",
        ),
        (
            "3",
            "apply refused by a safety guard: nothing was sent (or, re-checked before a later phase, that phase and the rest were not).",
        ),
        (
            "130",
            "apply interrupted by SIGINT: the requests in flight finished, the steps not attempted are listed.",
        ),
        ("143", "apply interrupted by SIGTERM, likewise."),
    ],
};

/// What people type most, as `teamsync --help` and every man page end with it (docs/contract.md §1).
pub const EXAMPLES: Section = Section {
    title: "EXAMPLES",
    heading: "Examples",
    entries: &[
        (
            "teamsync validate",
            "Check teamsync.yaml offline: every problem as FILE:LINE:COL: message (--format json for tools).",
        ),
        (
            "teamsync plan",
            "Show what apply would change in the org; changes nothing.",
        ),
        (
            "teamsync plan --baseline base.yaml --format markdown > comment.md",
            "The pull-request comment: the edit's changes apart from drift in the org.",
        ),
        (
            "teamsync apply",
            "Plan again, ask for yes, and make the changes.",
        ),
        (
            "teamsync plan --out plan.json && teamsync apply plan.json",
            "Apply exactly the plan that was reviewed (refused when the file or the org changed).",
        ),
        (
            "teamsync export -o teamsync.yaml",
            "Start from the org as it is: write it as a desired-state file.",
        ),
        (
            "teamsync adopt",
            "Keep a change made in the dashboard: write it into the file instead of undoing it.",
        ),
        (
            "TEAMSYNC_FILE=org/ teamsync plan",
            "Plan a directory of parts without -f on every command.",
        ),
    ],
};

/// Each command's own examples: `teamsync COMMAND --help` and its man page end with them
/// (docs/contract.md §1), as `teamsync --help` ends with [`EXAMPLES`].
pub const COMMAND_EXAMPLES: &[(&str, &[(&str, &str)])] = &[
    (
        "validate",
        &[
            (
                "teamsync validate",
                "Check teamsync.yaml offline: every problem as FILE:LINE:COL: message.",
            ),
            (
                "teamsync validate -f org/",
                "Check a directory of parts as one file.",
            ),
            (
                "teamsync validate --format json",
                "The problems as a document for tools (teamsync schema --validation); exit 1 when not valid.",
            ),
        ],
    ),
    (
        "plan",
        &[
            (
                "teamsync plan",
                "Show what apply would change in the org; changes nothing.",
            ),
            (
                "teamsync plan --detailed-exitcode",
                "Exit 2 when there are changes: a nightly drift check.",
            ),
            (
                "teamsync plan --baseline base.yaml --format markdown > comment.md",
                "The pull-request comment: the edit's changes apart from drift in the org.",
            ),
            (
                "teamsync plan --out plan.json",
                "Also save the plan, for teamsync apply plan.json.",
            ),
            (
                "teamsync plan --live org.json",
                "Plan against a snapshot (teamsync snapshot): no key, no request.",
            ),
        ],
    ),
    (
        "apply",
        &[
            (
                "teamsync apply",
                "Plan again, ask for yes, and make the changes.",
            ),
            (
                "teamsync plan --out plan.json && teamsync apply plan.json",
                "Apply exactly the plan that was reviewed (refused when the file or the org changed).",
            ),
            (
                "teamsync apply --auto-approve --report report.json",
                "In CI: no question, and a JSON report of every step.",
            ),
            (
                "teamsync apply --baseline base.yaml --drift keep",
                "Apply the edit, leave drift in the org as it is and list it.",
            ),
        ],
    ),
    (
        "export",
        &[
            (
                "teamsync export -o teamsync.yaml",
                "Start from the org as it is: write it as a desired-state file.",
            ),
            (
                "teamsync export --split-by domain org/",
                "One part per email domain in org/, for -f org/.",
            ),
        ],
    ),
    (
        "adopt",
        &[
            (
                "teamsync adopt",
                "Keep a change made in the dashboard: write it into the file instead of undoing it.",
            ),
            (
                "teamsync adopt --check",
                "Print the diff and exit 2 when adopting would change the file; writes nothing.",
            ),
            (
                "teamsync adopt --only added,roles",
                "Adopt new people and role changes, not removals.",
            ),
        ],
    ),
    (
        "snapshot",
        &[
            (
                "teamsync snapshot -o org.json",
                "Save the org as read, for plans and reviews without a key.",
            ),
            (
                "teamsync plan --live org.json",
                "Plan against it later: no key, no request.",
            ),
        ],
    ),
    (
        "review",
        &[
            (
                "teamsync review > review.md",
                "An access review from the file's git history, as Markdown.",
            ),
            (
                "teamsync review --live org.json --format csv -o review.csv",
                "With the org's side from a snapshot, for a spreadsheet.",
            ),
        ],
    ),
    (
        "schema",
        &[
            (
                "teamsync schema > teamsync.schema.json",
                "The JSON Schema of the desired-state file, for an editor.",
            ),
            (
                "teamsync schema --plan",
                "The schema of the JSON plan (--report, --snapshot, --review, --validation: the others).",
            ),
        ],
    ),
    (
        "completions",
        &[
            (
                "teamsync completions bash > ~/.local/share/bash-completion/completions/teamsync",
                "Install completions for bash.",
            ),
            (
                "teamsync completions zsh > \"${fpath[1]}/_teamsync\"",
                "Install completions for zsh.",
            ),
        ],
    ),
];

/// The examples of the command named `name`: its own, or [`EXAMPLES`] for `teamsync` itself.
pub fn examples_of(name: &str) -> Section {
    let entries = COMMAND_EXAMPLES
        .iter()
        .find(|(command, _)| *command == name)
        .map_or(EXAMPLES.entries, |(_, entries)| *entries);
    Section {
        entries,
        ..EXAMPLES
    }
}

/// `cmd` with its examples after its options (`after_long_help`): each command's
/// `--help` ends with EXAMPLES (docs/contract.md §1).
pub(crate) fn with_examples(cmd: clap::Command) -> clap::Command {
    let examples = render(&[&examples_of(cmd.get_name())]);
    cmd.after_long_help(examples)
}

/// The sections every man page ends with, in order: `--help` ends with them too.
pub const SECTIONS: [&Section; 3] = [&ENVIRONMENT, &EXIT_STATUS, &EXAMPLES];

/// The sections as `teamsync --help` shows them, after the options: headings styled as
/// clap's own, each entry as a long help shows an option (the term, then its text indented).
/// clap drops the styles where colour is off.
pub(crate) fn after_long_help() -> StyledStr {
    render(&SECTIONS)
}

/// `sections` as a long help shows them.
fn render(sections: &[&Section]) -> StyledStr {
    let styles = clap::builder::Styles::default();
    let (header, literal) = (styles.get_header(), styles.get_literal());
    let sections: Vec<String> = sections
        .iter()
        .map(|section| {
            let mut out = format!("{header}{}:{header:#}\n", section.heading);
            let entries: Vec<String> = section
                .entries
                .iter()
                .map(|(term, text)| format!("  {literal}{term}{literal:#}\n          {text}"))
                .collect();
            out.push_str(&entries.join("\n\n"));
            out
        })
        .collect();
    StyledStr::from(sections.join("\n\n"))
}

/// What `teamsync -h` says after its options.
pub(crate) const AFTER_SHORT_HELP: &str =
    "The environment variables and exit codes are listed by teamsync --help";

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// The terms of a section one by one: `CLICOLOR, CLICOLOR_FORCE` is two.
    fn names(section: &Section) -> Vec<&'static str> {
        section
            .entries
            .iter()
            .flat_map(|(term, _)| term.split(", "))
            .collect()
    }

    /// The first column of the Markdown table under the header line `header` in `doc`: every
    /// backquoted name in it, `=value` dropped, or the whole cell split at commas when nothing
    /// is backquoted.
    fn first_column(doc: &str, header: &str) -> BTreeSet<String> {
        let path = format!("{}/{doc}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let start = text
            .find(header)
            .unwrap_or_else(|| panic!("no `{header}` table in {doc}"));
        let mut names = BTreeSet::new();
        for row in text[start..].lines().skip(2) {
            let Some(row) = row.strip_prefix('|') else {
                break;
            };
            let cell = row.split('|').next().unwrap_or_default();
            let quoted: Vec<&str> = cell.split('`').skip(1).step_by(2).collect();
            let cell_names: Vec<String> = if quoted.is_empty() {
                cell.split(',').map(|n| n.trim().to_string()).collect()
            } else {
                quoted
                    .iter()
                    .map(|q| q.split('=').next().unwrap_or_default().to_string())
                    .collect()
            };
            names.extend(cell_names);
        }
        names
    }

    fn set(section: &Section) -> BTreeSet<String> {
        names(section).into_iter().map(String::from).collect()
    }

    #[test]
    fn the_usage_page_and_the_contract_name_the_same_variables_as_the_help() {
        for doc in ["docs/usage.md", "docs/contract.md"] {
            assert_eq!(
                first_column(doc, "| variable | meaning |"),
                set(&ENVIRONMENT),
                "{doc}'s environment table and src/help.rs"
            );
        }
    }

    #[test]
    fn the_usage_page_and_the_contract_list_the_same_exit_codes_as_the_help() {
        for doc in ["docs/usage.md", "docs/contract.md"] {
            assert_eq!(
                first_column(doc, "| code | meaning |"),
                set(&EXIT_STATUS),
                "{doc}'s exit code table and src/help.rs"
            );
        }
    }

    #[test]
    fn long_help_ends_with_the_environment_and_the_exit_codes_and_short_help_points_there() {
        let long = crate::cli::command().render_long_help().to_string();
        let env_at = long
            .find("\nEnvironment:\n")
            .expect("an Environment section");
        let exit_at = long
            .find("\nExit status:\n")
            .expect("an Exit status section");
        assert!(long.find("\nOptions:\n").unwrap() < env_at && env_at < exit_at);
        for (term, text) in ENVIRONMENT.entries {
            let entry = format!("\n  {term}\n          {text}\n");
            assert!(long[env_at..exit_at].contains(&entry), "{term}");
        }
        for (code, text) in EXIT_STATUS.entries {
            let entry = format!("\n  {code}\n          {text}\n");
            assert!(long[exit_at..].contains(&entry), "{code}");
        }
        assert!(
            long.trim_end()
                .ends_with(EXAMPLES.entries.last().unwrap().1)
        );
        let short = crate::cli::command().render_help().to_string();
        assert!(!short.contains("SCALING_API_KEY_FILE"), "-h stays short");
        assert!(short.trim_end().ends_with("teamsync --help"), "{short}");
    }

    /// Every command's `--help` ends with its own EXAMPLES, each an invocation of that command.
    #[test]
    fn every_command_help_ends_with_its_examples() {
        let mut cli = crate::cli::command();
        cli.build();
        let names: Vec<&str> = cli
            .get_subcommands()
            .map(clap::Command::get_name)
            .filter(|name| *name != "help")
            .collect();
        let listed: Vec<&str> = COMMAND_EXAMPLES.iter().map(|(name, _)| *name).collect();
        assert_eq!(names, listed, "one table per command, in --help's order");
        for (name, entries) in COMMAND_EXAMPLES {
            assert!(
                entries
                    .iter()
                    .any(|(term, _)| term.starts_with(&format!("teamsync {name}"))),
                "{name}"
            );
            let help = cli
                .find_subcommand_mut(name)
                .unwrap()
                .render_long_help()
                .to_string();
            let at = help.find("\nExamples:\n").expect(name);
            assert!(help.find("\nOptions:\n").unwrap() < at, "{name}");
            let mut expected = String::from("\nExamples:\n");
            let shown: Vec<String> = entries
                .iter()
                .map(|(term, text)| format!("  {term}\n          {text}"))
                .collect();
            expected.push_str(&shown.join("\n\n"));
            assert_eq!(help[at..].trim_end(), expected, "{name}");
        }
    }
}
