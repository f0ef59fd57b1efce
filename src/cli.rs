//! The clap layer: the command line as parsed types. Each command's own flags live beside it in
//! `commands/<name>.rs` (`--format` with the commands that print a plan); the global ones are
//! here. [`crate::config::Config::resolve`] turns them, with the environment, into checked
//! values; below the commands, nothing sees clap.

use crate::commands::{adopt, apply, completions, export, plan, schema, snapshot, validate};
use crate::config::ColorChoice;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

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
    after_long_help = crate::help::after_long_help()
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Flags every command takes, before or after the command's name. Where a flag has an
/// environment variable, the flag wins.
#[derive(Args, Debug)]
pub(crate) struct GlobalArgs {
    /// The desired-state file, or a directory whose *.yaml/*.yml files are its parts [env:
    /// TEAMSYNC_FILE; default: teamsync.yaml]
    #[arg(short = 'f', long, global = true, value_name = "FILE")]
    pub(crate) file: Option<PathBuf>,
    /// Base URL of the Scaling API [env: SCALING_API_URL; default: https://api.scaling.cloud/v1]
    #[arg(long, global = true, value_name = "URL")]
    pub(crate) api_url: Option<String>,
    /// The API key's own account: its role is never changed and it is never removed [env:
    /// TEAMSYNC_SELF]
    #[arg(long = "self", global = true, value_name = "EMAIL")]
    pub(crate) self_email: Option<String>,
    /// More log output on stderr (-v info, -vv debug; TEAMSYNC_LOG takes a full filter); -v also
    /// lists a plan's kept pending invitations.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
    /// When to use colour [default: auto: on a terminal whose TERM is not dumb, unless NO_COLOR
    /// or CLICOLOR=0; CLICOLOR_FORCE=1 forces it]
    #[arg(long, global = true, value_enum, value_name = "WHEN")]
    pub(crate) color: Option<ColorChoice>,
    /// The same as --color never.
    #[arg(long, global = true, conflicts_with = "color")]
    pub(crate) no_color: bool,
    /// Seconds before a request to the API is given up [env: TEAMSYNC_TIMEOUT; default: 30]
    #[arg(long, global = true, value_name = "SECS")]
    pub(crate) timeout: Option<u64>,
    /// First retry delay in milliseconds (doubles per attempt, with jitter, up to 30 s).
    #[arg(long, global = true, hide = true)]
    pub(crate) retry_base_ms: Option<u64>,
    /// Today's date (YYYY-MM-DD, UTC) for `expires`; defaults to the clock.
    #[arg(long, global = true, hide = true)]
    pub(crate) today: Option<String>,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Check the file alone, offline; every problem as FILE:LINE:COL: message.
    Validate(validate::Args),
    /// Read the org and print what apply would change; changes nothing.
    Plan(plan::Args),
    /// Re-read the org, print the plan, ask for `yes`, and make the changes.
    Apply(apply::Args),
    /// Write the live org as a desired-state file.
    Export(export::Args),
    /// Read the org and edit the file in place to accept its drift; prints the file's diff.
    Adopt(adopt::Args),
    /// Read the org and write it as a snapshot, for `plan --live` without a key.
    Snapshot(snapshot::Args),
    /// Print the JSON Schema of the desired-state file (or of the JSON plan, the apply report,
    /// the org snapshot).
    Schema(schema::Args),
    /// Print shell completions.
    Completions(completions::Args),
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
