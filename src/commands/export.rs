//! `teamsync export`: the live org as a desired-state file (docs/contract.md §1).

use super::{Context, runtime, write_atomically};
use crate::client::Client;
use crate::error::CommandError;
use crate::live::Managed;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// Write here instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    output: Option<PathBuf>,
}

pub(crate) fn run(ctx: &Context, args: &Args) -> Result<u8, CommandError> {
    let api = ctx.api()?;
    let live =
        runtime()?.block_on(async { Client::new(api)?.with_notes(ctx.ui.notes()).list().await })?;
    // The whole org: the export writes the `ignore` list itself.
    let exported = crate::export::export(&Managed::new(live, &[]));
    let mut summary = format!(
        "{} entries ({} pending invitation{})",
        exported.entries,
        exported.invitations,
        if exported.invitations == 1 { "" } else { "s" }
    );
    if exported.ignored > 0 {
        summary.push_str(&format!(
            ", {} under `ignore` (roles teamsync does not manage)",
            exported.ignored
        ));
    }
    if exported.redundant_invitations > 0 {
        summary.push_str(&format!(
            "; `plan` on it will revoke {} redundant invitation{}",
            exported.redundant_invitations,
            if exported.redundant_invitations == 1 {
                ""
            } else {
                "s"
            }
        ));
    }
    match &args.output {
        Some(path) => {
            write_atomically(path, exported.yaml.as_bytes())?;
            ctx.ui
                .note(format_args!("Wrote {summary} to {}.", path.display()));
        }
        None => {
            ctx.ui.print(&exported.yaml);
            ctx.ui.note(format_args!("Exported {summary}."));
        }
    }
    Ok(0)
}
