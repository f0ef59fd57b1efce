//! `teamsync review`: an access review of the desired state, from the file and the git history
//! of its lines (docs/contract.md §6). No key, no request: with `--live SNAPSHOT`, the org's
//! side comes from a snapshot.
//!
//! The history is read with the `git` command (`git blame --porcelain --first-parent`), not a
//! library: every machine that holds the repository has git, it already knows the repository's
//! configuration (worktrees, SHA-256 repositories, shallow clones, `safe.directory`), and it
//! adds no dependency to build (docs/decisions.md). What it prints is parsed by the pure
//! [`crate::review::blame`]; the review itself is [`crate::review::review`].

use super::Context;
use super::output::{Existing, Inputs, Output};
use super::plan::read_snapshot;
use crate::desired::LoadedFile;
use crate::error::CommandError;
use crate::escape::escape;
use crate::formats::review::{LiveSourceWire, ReviewDocument};
use crate::live::ReadFrom;
use crate::render::review::{Heading, csv, markdown};
use crate::review::{History, PartHistory, ReviewOptions, blame, review};
use std::path::{Path, PathBuf};
use std::process::Command;

/// What `review` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ReviewFormat {
    /// For people: an issue or a comment (a summary, flagged entries first).
    Markdown,
    /// For scripts: `schema/review.schema.json`.
    Json,
    /// For spreadsheets: a header, then one row per entry.
    Csv,
}

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// Output format of the review.
    #[arg(long, value_enum, default_value_t = ReviewFormat::Markdown)]
    format: ReviewFormat,
    /// Also show the org's side (not_in_org, role_differs, pending_invitation) from this
    /// snapshot (`teamsync snapshot`); no key needed, no request sent.
    #[arg(long, value_name = "SNAPSHOT")]
    live: Option<PathBuf>,
    /// Write the review to this file instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    output: Option<PathBuf>,
}

pub(crate) fn run(ctx: &Context, args: &Args) -> Result<u8, CommandError> {
    let file = ctx.load(&ctx.config.file)?;
    // Refused before anything is read: `-o` never replaces an input (docs/contract.md §6).
    let out = match &args.output {
        Some(path) => {
            let mut inputs = Inputs::desired(&ctx.config.file);
            if let Some(live) = &args.live {
                inputs = inputs.and_file(live, "is the snapshot reviewed against");
            }
            Some(Output::check(path, "-o", &inputs, Existing::Replace)?)
        }
        None => None,
    };
    let live = match &args.live {
        Some(path) => Some(read_snapshot(ctx, path, &file)?),
        None => None,
    };
    let started = std::time::Instant::now();
    let history = history(&file);
    tracing::debug!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "history read"
    );
    let reviewed = review(
        &file.desired,
        &history,
        live.as_ref().map(|(state, _)| state),
        &ReviewOptions {
            today: ctx.config.today,
            file: file.name.clone(),
        },
    );
    for w in &reviewed.warnings {
        ctx.ui.warning(w);
    }
    let generated_at = ctx.config.now();
    let source = live.as_ref().and_then(|(_, s)| match &s.from {
        ReadFrom::Snapshot { path } => Some((path.clone(), s.read_at.as_str().to_string())),
        ReadFrom::Api { .. } => None,
    });
    let text = match args.format {
        ReviewFormat::Markdown => markdown(
            &reviewed,
            &Heading {
                file: &file.name,
                generated_at: generated_at.as_str(),
                live: source.as_ref().map(|(p, t)| (p.as_str(), t.as_str())),
            },
        ),
        ReviewFormat::Csv => csv(&reviewed),
        ReviewFormat::Json => ReviewDocument::new(
            &reviewed,
            &file.name,
            generated_at.as_str(),
            source.map(|(snapshot, read_at)| LiveSourceWire { snapshot, read_at }),
        )
        .to_json(),
    };
    match &out {
        Some(out) => {
            out.write(ctx.ui, &text)?;
            ctx.ui.note(format_args!(
                "Wrote the access review of {} entr{} ({} flagged) to {}.",
                reviewed.summary.entries,
                if reviewed.summary.entries == 1 {
                    "y"
                } else {
                    "ies"
                },
                reviewed.summary.flagged,
                escape(&out.path().display().to_string())
            ));
        }
        None => ctx.ui.print(&text),
    }
    Ok(0)
}

/// The history of every part's lines, from `git blame` in the repository that holds it; a part
/// whose history cannot be read says why.
fn history(file: &LoadedFile) -> History {
    let mut history = History::default();
    for part in &file.parts {
        let blamed =
            blame_text(&part.path).and_then(|text| blame::parse(&text, &mut history.commits));
        history.parts.push(match blamed {
            Ok(lines) => PartHistory::Blamed { lines },
            Err(why) => PartHistory::Unknown(why),
        });
    }
    history
}

/// `git blame --porcelain --first-parent` of one file, run in its folder (the file a symbolic
/// link names, as the loader read it); git's own message when it fails.
fn blame_text(path: &Path) -> Result<String, String> {
    let real = std::fs::canonicalize(path).map_err(|e| e.to_string())?;
    let (Some(dir), Some(name)) = (real.parent(), real.file_name()) else {
        return Err("not a file".to_string());
    };
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["blame", "--porcelain", "--first-parent", "--"])
        .arg(name)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => "git is not installed".to_string(),
            _ => format!("cannot run git: {e}"),
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first = stderr.lines().next().unwrap_or("git blame failed").trim();
        let first = first.strip_prefix("fatal: ").unwrap_or(first);
        return Err(if first.starts_with("not a git repository") {
            "not in a git repository".to_string()
        } else {
            format!("git: {first}")
        });
    }
    String::from_utf8(output.stdout)
        .map_err(|_| "git blame printed text that is not UTF-8".to_string())
}
