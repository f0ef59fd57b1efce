//! `teamsync export`: the live org as a desired-state file (docs/contract.md §1).

use super::output::{Existing, Inputs};
use super::{Context, read_org, write_atomically};
use crate::error::CommandError;
use crate::export::Exported;
use crate::live::Managed;
use crate::parts;
use crate::words::plural;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// Write here instead of stdout (an existing file only with --force).
    #[arg(short = 'o', long, value_name = "FILE", conflicts_with = "split_by")]
    output: Option<PathBuf>,
    /// Replace the file -o names if it exists.
    #[arg(long, requires = "output")]
    force: bool,
    /// Write one part per email domain into DIR (a new or empty directory), for `-f DIR`.
    #[arg(long, value_enum, value_name = "KEY", requires = "dir")]
    split_by: Option<SplitBy>,
    /// The directory `--split-by` writes into.
    #[arg(value_name = "DIR", requires = "split_by")]
    dir: Option<PathBuf>,
}

/// How `--split-by` groups entries into parts.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SplitBy {
    /// One part per email domain: `example.com.yaml`.
    Domain,
}

pub(crate) fn run(ctx: &Context, args: &Args) -> Result<u8, CommandError> {
    // Unusable API settings (no key, plain http off loopback) are said before anything else.
    ctx.api()?;
    if let Some(dir) = &args.dir {
        // Refused before the org is read: nothing half-written over an existing state, and
        // no part written into the desired directory (docs/contract.md §6).
        Inputs::desired(&ctx.config.file).check_directory(dir, "--split-by")?;
        parts::check_empty_for_export(dir)?;
    }
    // Refused before the org is read: never over the desired file, and over another existing
    // file only with --force (docs/contract.md §6).
    let existing = if args.force {
        Existing::Replace
    } else {
        Existing::Refuse
    };
    let out = args
        .output
        .as_deref()
        .map(|path| ctx.output(path, "-o", existing))
        .transpose()?;
    let client = ctx.client()?;
    let (live, _) = read_org(ctx, &client)?;
    // The whole org: the export writes the `ignore` list itself.
    let org = Managed::new(live, &[]);
    if let (Some(SplitBy::Domain), Some(dir)) = (args.split_by, &args.dir) {
        return split(ctx, &org, dir);
    }
    let exported = crate::export::export(&org);
    let summary = summary(&exported);
    match &out {
        Some(out) => {
            out.write(ctx.ui, &exported.yaml)?;
            ctx.ui
                .note(format_args!("Wrote {summary} to {}.", out.path().display()));
        }
        None => {
            ctx.ui.print(&exported.yaml);
            ctx.ui.note(format_args!("Exported {summary}."));
        }
    }
    Ok(0)
}

/// What an export holds, for the closing note.
fn summary(exported: &Exported) -> String {
    let mut summary = format!(
        "{} {} ({} pending invitation{})",
        exported.entries,
        crate::words::one_or_many(exported.entries, "entry", "entries"),
        exported.invitations,
        plural(exported.invitations)
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
            plural(exported.redundant_invitations)
        ));
    }
    summary
}

/// `--split-by domain DIR`: one part per email domain (docs/contract.md §10).
fn split(ctx: &Context, org: &Managed, dir: &Path) -> Result<u8, CommandError> {
    let parts = crate::export::export_by_domain(org);
    std::fs::create_dir_all(dir).map_err(|source| CommandError::WriteFile {
        path: dir.display().to_string(),
        source,
    })?;
    let mut total = Exported::default();
    for (name, part) in &parts {
        write_atomically(&dir.join(name), part.yaml.as_bytes())?;
        total.entries += part.entries;
        total.invitations += part.invitations;
        total.ignored += part.ignored;
        total.redundant_invitations += part.redundant_invitations;
    }
    ctx.ui.note(format_args!(
        "Wrote {} to {} in {} part{} (one per email domain); use it with `-f {}`.",
        summary(&total),
        dir.display(),
        parts.len(),
        plural(parts.len()),
        dir.display()
    ));
    Ok(0)
}
