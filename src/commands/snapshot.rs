//! `teamsync snapshot`: reads the org (GET only) and writes it as a snapshot document, for
//! `plan --live` without a key (docs/contract.md §1, §9).

use super::output::Existing;
use super::{Context, read_live, runtime};
use crate::api::Client;
use crate::error::CommandError;
use crate::formats::snapshot::SnapshotDocument;
use crate::words::plural;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// Write the snapshot here instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    output: Option<PathBuf>,
}

pub(crate) fn run(ctx: &Context, args: &Args) -> Result<u8, CommandError> {
    let client = Client::new(ctx.api()?)?.with_notes(ctx.ui.notes());
    // Refused before the org is read: `-o` never replaces the desired file (docs/contract.md §6).
    let out = args
        .output
        .as_deref()
        .map(|path| ctx.output(path, "-o", Existing::Replace))
        .transpose()?;
    let (live, source) = read_live(ctx, &runtime()?, &client, std::future::pending())?;
    let doc = SnapshotDocument::new(&live, &source.read_at);
    let what = format!(
        "{} member{} and {} pending invitation{}, read at {}",
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
