//! The top of the clap layer: the whole command line, `teamsync [GLOBAL FLAGS] COMMAND`. The
//! command enum and each command's own flags live beside the commands (`commands/mod.rs`,
//! `commands/<name>.rs`); the global flags beside what checks them
//! ([`crate::config::GlobalArgs`], resolved with the environment by
//! [`crate::config::Config::resolve`]). Below the commands, nothing sees clap.

use crate::commands::Command;
use crate::config::GlobalArgs;
use clap::Parser;

/// `--version`: the version, the commit and the target (docs/contract.md §11), from build.rs.
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("TEAMSYNC_BUILD_INFO"),
    ")"
);

/// Keep a Scaling organization's members and roles equal to a YAML file kept in git.
#[derive(Parser, Debug)]
#[command(
    name = "teamsync",
    version = VERSION,
    about,
    max_term_width = 100,
    after_help = crate::help::AFTER_SHORT_HELP,
    after_long_help = crate::help::after_long_help(),
    mut_subcommands = crate::help::with_examples
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The whole command-line definition, for completions and the man page.
pub(crate) fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

#[cfg(test)]
mod tests {
    /// clap's own checks of the definition (conflicting names, bad defaults, …), which it makes
    /// only in debug builds and only for the arguments a run happens to parse: here, all.
    #[test]
    fn the_command_line_definition_is_consistent() {
        super::command().debug_assert();
    }

    /// `teamsync --version` (docs/contract.md §11): version, short commit hash and the commit's
    /// date (each `unknown` outside git), and the target triple; the volatile parts redacted.
    #[test]
    fn version_names_commit_date_and_target() {
        let out = super::command().render_version();
        let target = env!("TEAMSYNC_BUILD_TARGET");
        let inner = out
            .trim_end()
            .strip_prefix(concat!("teamsync ", env!("CARGO_PKG_VERSION"), " ("))
            .and_then(|rest| rest.strip_suffix(&format!(" {target})")))
            .unwrap_or_else(|| panic!("unexpected --version: {out:?}"));
        let (hash, date) = inner
            .split_once(' ')
            .unwrap_or_else(|| panic!("no date in {out:?}"));
        let hash_ok =
            hash == "unknown" || (hash.len() >= 7 && hash.chars().all(|c| c.is_ascii_hexdigit()));
        assert!(hash_ok, "hash {hash:?} in {out:?}");
        let b = date.as_bytes();
        let date_ok = date == "unknown"
            || (b.len() == 10
                && b[4] == b'-'
                && b[7] == b'-'
                && date.chars().filter(char::is_ascii_digit).count() == 8);
        assert!(date_ok, "date {date:?} in {out:?}");
        let redacted = out
            .replacen(hash, "[HASH]", 1)
            .replacen(date, "[DATE]", 1)
            .replace(target, "[TARGET]");
        insta::assert_snapshot!(redacted.trim_end(), @"teamsync 0.2.0 ([HASH] [DATE] [TARGET])");
    }
}
