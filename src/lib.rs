//! teamsync keeps a Scaling organization's members and roles equal to a YAML file kept in git.
//! The contract it implements (commands, file format, plan semantics, exit codes, JSON
//! documents) is `docs/contract.md`.
//!
//! Layers, from the outside in:
//! - [`cli`] parses the command line; [`config`] checks it, with the environment, into a
//!   [`config::Config`]; [`commands`] has one file per command; [`ui::Ui`] is the only way out
//!   to the terminal.
//! - [`desired`] loads and validates the file (or the [`parts`] of a directory), read by [`yaml`]
//!   into a tree with line and column per node.
//! - [`api`] talks to the Scaling team API; [`live`] holds what it lists and the managed view
//!   of it.
//! - [`planner`] is pure: desired × managed org × options → [`plan::Plan`], typed data that
//!   [`render`] shows (text, Markdown, diff) and [`executor`] runs; with a baseline, [`origin`]
//!   tells the edit from drift, a pure function of two plans. The stable JSON documents
//!   (the JSON plan, saved plans, the apply report, the schemas) are [`formats`].
//!
//! The public surface is what the binary, the examples and the tests need: [`main`], [`run`],
//! [`command`], [`man_sections`] and the [`bench`] entry points. Everything else is crate-private.

mod adopt;
mod api;
mod cli;
mod commands;
mod config;
mod date;
mod desired;
mod email;
mod error;
mod escape;
mod executor;
mod export;
mod formats;
mod glob;
mod help;
mod interrupt;
mod live;
mod origin;
mod parts;
mod plan;
mod planner;
mod render;
mod review;
mod role;
mod stops;
mod ui;
mod words;
mod yaml;

#[doc(hidden)]
pub mod bench;

use std::ffi::OsString;
use std::io::IsTerminal;
use std::process::ExitCode;

/// The whole binary: this process's arguments and environment.
pub fn main() -> ExitCode {
    ExitCode::from(run(std::env::args_os(), std::env::vars_os()))
}

/// Runs teamsync as the binary would, with these arguments (the first is the program's name)
/// and these environment variables instead of the process's, printing to this process's stdout
/// and stderr. Returns the exit code (docs/contract.md §2).
pub fn run(
    args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
    vars: impl IntoIterator<Item = (OsString, OsString)>,
) -> u8 {
    let env = config::Environment::from_vars(vars);
    let parsed = match <cli::Cli as clap::Parser>::try_parse_from(args) {
        Ok(parsed) => parsed,
        Err(e) => return clap_exit(e),
    };
    let config = config::Config::resolve(&parsed.global, &env);
    let choice = config
        .as_ref()
        .map_or(config::ColorChoice::Auto, |c| c.color);
    let ui = ui::Ui::new(
        choice.decide(&env, std::io::stdout().is_terminal()),
        env.github_actions,
    );
    ui.init_logging(
        parsed.global.verbose,
        env.log.as_deref(),
        choice.decide(&env, std::io::stderr().is_terminal()),
    );
    let result = config
        .map_err(error::CommandError::from)
        .and_then(|config| {
            commands::run(
                &parsed.command,
                &commands::Context {
                    config: &config,
                    ui: &ui,
                    cli: cli::command,
                },
            )
        });
    match result {
        Ok(code) => code,
        Err(e) => {
            ui.error(&e);
            e.exit_code()
        }
    }
}

/// clap's own output: help and version on stdout (exit 0), usage errors on stderr (exit 1).
fn clap_exit(e: clap::Error) -> u8 {
    let _ = e.print();
    if e.use_stderr() { 1 } else { 0 }
}

/// The command-line definition (for shell completions and the man page).
pub fn command() -> clap::Command {
    cli::command()
}

pub use help::Section;

/// The sections every man page ends with (ENVIRONMENT, EXIT STATUS, EXAMPLES), as `teamsync
/// --help` ends with them.
pub fn man_sections() -> [&'static Section; 3] {
    help::SECTIONS
}

/// The EXAMPLES section of the command named `command` (`plan`, …; `teamsync` for the top):
/// what its `--help` and its man page end with.
pub fn man_examples(command: &str) -> Section {
    help::examples_of(command)
}
