//! `teamsync snapshot`: reads the org (GET only) and writes it as a snapshot document, for
//! `plan --live` without a key (docs/contract.md §1, §9).

use super::output::Existing;
use super::{Context, read_org};
use crate::error::CommandError;
use crate::formats::snapshot::SnapshotDocument;
use crate::words::plural;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// Write the snapshot here instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Record this commit in the snapshot, as the one whose desired state the org now holds:
    /// the apply recipe passes the commit it applied, and uses it as the next apply's baseline.
    #[arg(long, value_name = "SHA")]
    commit: Option<String>,
}

pub(crate) fn run(ctx: &Context, args: &Args) -> Result<u8, CommandError> {
    let client = ctx.client()?;
    // The org's name from the desired file (docs/contract.md §9): `-f` given (or
    // TEAMSYNC_FILE) must load; the default file is read when it exists.
    let org = if ctx.config.file_explicit || ctx.config.file.exists() {
        ctx.load(&ctx.config.file)?.desired.org
    } else {
        None
    };
    if let Some(commit) = args.commit.as_deref().filter(|c| !is_commit(c)) {
        return Err(CommandError::BadCommit(
            crate::escape::escape(commit).into_owned(),
        ));
    }
    // Refused before the org is read: `-o` never replaces the desired file (docs/contract.md §6).
    let out = args
        .output
        .as_deref()
        .map(|path| ctx.output(path, "-o", Existing::Replace))
        .transpose()?;
    let (live, source) = read_org(ctx, &client)?;
    let doc = SnapshotDocument::new(
        &live,
        &source.read_at,
        org.as_deref(),
        args.commit.as_deref(),
    );
    let what = format!(
        "{}{} member{} and {} pending invitation{}, read at {}",
        org.as_deref()
            .map(|o| format!("the org {o}: "))
            .unwrap_or_default(),
        doc.members.len(),
        plural(doc.members.len()),
        doc.invitations.len(),
        plural(doc.invitations.len()),
        doc.read_at
    );
    match &out {
        Some(out) => {
            out.write(ctx.ui, &doc.to_json())?;
            ctx.ui.note(format_args!(
                "Wrote a snapshot of {what} to {}.",
                out.path().display()
            ));
        }
        None => {
            ctx.ui.print(&doc.to_json());
            ctx.ui.note(format_args!("Snapshot of {what}."));
        }
    }
    Ok(0)
}

/// Whether `commit` reads as a git commit name: 4 to 64 hexadecimal digits (SHA-1 or SHA-256,
/// abbreviated or not).
fn is_commit(commit: &str) -> bool {
    (4..=64).contains(&commit.len()) && commit.bytes().all(|b| b.is_ascii_hexdigit())
}
