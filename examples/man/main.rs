//! Man pages and shell completions for the release archive (docs/install.md):
//! `cargo run --example man -- OUT_DIR` writes `OUT_DIR/man/teamsync.1` (plus one page per
//! command, `teamsync-plan.1`, …, each with ENVIRONMENT and EXIT STATUS sections: pages.rs) and
//! `OUT_DIR/completions/` (bash, zsh, fish, PowerShell, elvish), all from
//! [`teamsync::command()`], the same definition the binary parses with.
//!
//! It runs on the build machine, so a cross-compiled archive gets them without running the
//! target's binary. The pages carry the package version only: the commit and target are what
//! `teamsync --version` of the binary itself says.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::exit,
    reason = "a build tool run by the release: it prints what it wrote and stops at the first error"
)]

mod pages;

use clap_complete::Shell;
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(out) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: cargo run --example man -- OUT_DIR");
        return ExitCode::from(1);
    };
    match write(&out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot write to {}: {e}", out.display());
            ExitCode::from(1)
        }
    }
}

fn write(out: &std::path::Path) -> std::io::Result<()> {
    let cmd = teamsync::command().version(env!("CARGO_PKG_VERSION"));
    let man = out.join("man");
    std::fs::create_dir_all(&man)?;
    // The commit's date (build.rs), the same on every rebuild of one commit.
    let date = env!("TEAMSYNC_BUILD_INFO")
        .split(' ')
        .nth(1)
        .filter(|d| *d != "unknown")
        .ok_or_else(|| {
            std::io::Error::other(
                "the commit date is unknown: set TEAMSYNC_COMMIT_DATE=YYYY-MM-DD (build.rs)",
            )
        })?;
    for (name, page) in pages::pages(cmd.clone(), date)? {
        std::fs::write(man.join(name), page)?;
    }
    let completions = out.join("completions");
    std::fs::create_dir_all(&completions)?;
    for shell in [
        Shell::Bash,
        Shell::Zsh,
        Shell::Fish,
        Shell::PowerShell,
        Shell::Elvish,
    ] {
        clap_complete::generate_to(shell, &mut cmd.clone(), "teamsync", &completions)?;
    }
    Ok(())
}
