//! `teamsync adopt`: reads the org and edits the desired file in place so that it accepts the
//! org's drift, every byte outside the edited entries kept (docs/contract.md §7).

use super::plan::{Baseline, load_baseline, plan_options};
use super::{Context, read_org, write_atomically_checked};
use crate::adopt::{self, AdoptOptions, Adoption, Kind};
use crate::desired::{self, Desired, PartText};
use crate::email::Email;
use crate::error::CommandError;
use crate::escape::escape;
use crate::live::{LiveState, Managed};
use crate::parts;
use crate::{origin, planner};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// Adopt only these kinds of drift (comma-separated) [default: all three]
    #[arg(long, value_enum, value_delimiter = ',', value_name = "KINDS")]
    only: Vec<KindArg>,
    /// Write nothing; exit 2 when adopting would change the file, 0 when not.
    #[arg(long)]
    check: bool,
    /// With -f DIR: the part that gets new entries [default: the first part in path order]
    #[arg(long, value_name = "FILE")]
    into: Option<PathBuf>,
    /// The desired state before the edit on this branch (the base branch's copy, a file or a
    /// directory like -f): only drift, what that baseline's plan also reverts, is adopted; the
    /// edit's own entries are left as they are.
    #[arg(long, value_name = "PATH")]
    baseline: Option<PathBuf>,
}

/// `--only`'s words for [`Kind`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum KindArg {
    /// Live members and pending invitations the file does not list get an entry.
    Added,
    /// Entries whose role differs from the live one get the live role.
    Roles,
    /// Entries for someone neither a member nor invited are deleted.
    Removed,
}

impl From<KindArg> for Kind {
    fn from(o: KindArg) -> Kind {
        match o {
            KindArg::Added => Kind::Added,
            KindArg::Roles => Kind::Roles,
            KindArg::Removed => Kind::Removed,
        }
    }
}

pub(crate) fn run(ctx: &Context, args: &Args) -> Result<u8, CommandError> {
    // Unusable API settings (no key, plain http off loopback) are said before anything else.
    ctx.api()?;
    let path = ctx.config.file.as_path();
    let name = path.display().to_string();
    let sources = parts::read(path)?;
    // Edited in place: a part that is not UTF-8 would not be written back byte for byte.
    let mut owned = Vec::with_capacity(sources.bytes.len());
    for (part, bytes) in sources.parts.iter().zip(&sources.bytes) {
        let text = std::str::from_utf8(bytes).map_err(|_| CommandError::Adopt {
            file: part.name.clone(),
            why: "it is not UTF-8 text, so it cannot be edited in place".to_string(),
        })?;
        owned.push(text.to_string());
    }
    let texts: Vec<&str> = owned.iter().map(String::as_str).collect();
    let directory = sources.directory;
    let into = match (&args.into, directory) {
        (None, _) => 0,
        (Some(into), true) => {
            part_index(&sources.parts, into).ok_or_else(|| CommandError::Adopt {
                file: name.clone(),
                why: format!(
                    "--into {} is not one of its parts (a *.yaml or *.yml file below it)",
                    into.display()
                ),
            })?
        }
        (Some(_), false) => {
            return Err(CommandError::Adopt {
                file: name.clone(),
                why: "--into names a part of a directory; with -f FILE, new entries go to FILE"
                    .to_string(),
            });
        }
    };
    // The bytes just read are the ones validated and edited: read once.
    let file = ctx.print_load(desired::load(sources, ctx.config.today, desired::cores()))?;
    // Read, and checked to be of the same org, before the org is.
    let base = match &args.baseline {
        Some(path) => match load_baseline(ctx, path, &file)? {
            Baseline::Valid(base) => Some(base),
            Baseline::Invalid { path, problems } => {
                return Err(CommandError::Baseline {
                    why: format!(
                        "it has {problems} problem{} (`teamsync validate -f {path}` lists them), so what is drift cannot be told",
                        crate::words::plural(problems)
                    ),
                    path,
                });
            }
        },
        None => None,
    };
    let client = ctx.client()?;
    let (live, _) = read_org(ctx, &client)?;
    let only = base
        .as_ref()
        .map(|base| drift_emails(ctx, &file.desired, base, &live));
    let options = AdoptOptions {
        kinds: if args.only.is_empty() {
            vec![Kind::Added, Kind::Roles, Kind::Removed]
        } else {
            args.only.iter().map(|&o| Kind::from(o)).collect()
        },
        today: ctx.config.today,
        self_email: ctx.config.self_email.clone(),
        only,
        self_from: ctx.config.self_from,
    };
    // Named as the load named them, so that the edited parts are loaded and planned as `plan`
    // would load and plan them (docs/contract.md §7).
    let parts = PartText::zip(&file.parts, &texts);
    let adopted = adopt::adopt_parts(&parts, directory, into, &file.desired, &live, &options)
        .map_err(|e| CommandError::Adopt {
            file: name.clone(),
            why: format!("{e}; nothing was written"),
        })?;
    for s in &adopted.skipped {
        ctx.ui.note(format_args!(
            "left alone: {} ({}): {}",
            escape(s.email.as_str()),
            what(s),
            escape(&s.why.to_string())
        ));
    }
    if adopted.adopted.is_empty() {
        ctx.ui.note(format_args!(
            "Nothing to adopt: {} already accepts what the org holds{}.",
            escape(&name),
            if adopted.skipped.is_empty() {
                ""
            } else {
                " (apart from what is left alone above)"
            }
        ));
        return Ok(0);
    }
    let changed: Vec<usize> = (0..texts.len())
        .filter(|&i| texts[i] != adopted.texts[i])
        .collect();
    for &i in &changed {
        ctx.ui
            .print(&diff(texts[i], &adopted.texts[i], &file.parts[i].name));
    }
    let counts = counts(&adopted.adopted);
    if args.check {
        ctx.ui.note(format_args!(
            "{} would change: {counts}. Nothing was written (--check).",
            escape(&name)
        ));
        return Ok(2);
    }
    // Every part is checked writable, and unchanged since it was read, before any is
    // replaced, so that a read-only part or an edit made meanwhile does not leave the others
    // half-adopted; each is checked unchanged again right before its rename.
    // A symbolic link is followed by every step: the file it names is read, checked and
    // replaced, the link kept (docs/contract.md §7).
    for &i in &changed {
        let part = &file.parts[i];
        writable(&part.path)?;
        unchanged(&part.path, &part.name, texts[i], &[])?;
    }
    let mut written: Vec<&str> = Vec::new();
    for &i in &changed {
        let part = &file.parts[i];
        write_atomically_checked(&part.path, adopted.texts[i].as_bytes(), || {
            unchanged(&part.path, &part.name, texts[i], &written)
        })?;
        written.push(&part.name);
    }
    ctx.ui.note(format_args!(
        "Adopted into {}: {counts}. Review the diff, commit it, and `teamsync plan` shows none of it.",
        escape(&name)
    ));
    Ok(0)
}

/// The emails of the changes that both the file's plan and `base`'s make against `live`: the
/// drift (docs/contract.md §8), which `adopt --baseline` alone folds into the file.
fn drift_emails(ctx: &Context, file: &Desired, base: &Desired, live: &LiveState) -> HashSet<Email> {
    let options = plan_options(ctx.config, false);
    let mine = planner::plan(file, &Managed::new(live.clone(), &file.ignore), &options);
    let theirs = planner::plan(base, &Managed::new(live.clone(), &base.ignore), &options);
    let mut plan = mine;
    origin::classify(&mut plan, &theirs, file, base, ctx.config.today);
    plan.drift_changes()
        .into_iter()
        .map(|c| c.email().clone())
        .collect()
}

/// Which of `parts` `into` names (the same file, however it is written).
fn part_index(parts: &[parts::Part], into: &Path) -> Option<usize> {
    let want = std::fs::canonicalize(into).ok()?;
    parts
        .iter()
        .position(|p| std::fs::canonicalize(&p.path).ok().as_ref() == Some(&want))
}

/// What drift was left alone, in a few words.
fn what(s: &adopt::LeftAlone) -> &'static str {
    match (s.kind, &s.why) {
        (_, adopt::Why::Expired(_)) => "expired entry, still in the org",
        (Kind::Added, _) => "in the org, not in the file",
        (Kind::Roles, _) => "role differs",
        (Kind::Removed, _) => "in the file, not in the org",
    }
}

/// `2 added, 1 role changed, 1 removed`.
fn counts(adopted: &[Adoption]) -> String {
    let n = |k: Kind| adopted.iter().filter(|a| a.kind() == k).count();
    let mut parts = Vec::new();
    for (kind, one, many) in [
        (Kind::Added, "added", "added"),
        (Kind::Roles, "role changed", "roles changed"),
        (Kind::Removed, "removed", "removed"),
    ] {
        match n(kind) {
            0 => {}
            1 => parts.push(format!("1 {one}")),
            c => parts.push(format!("{c} {many}")),
        }
    }
    parts.join(", ")
}

/// The file's unified diff, before → after; each line's content escaped, so that a control
/// character (a CR of CRLF included) is shown rather than obeyed.
fn diff(before: &str, after: &str, name: &str) -> String {
    // Each deleted or inserted entry whole, not a neighbour losing a line (docs/contract.md §7).
    let text = crate::adopt::diff::unified(before, after, name);
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let body = line.strip_suffix('\n').unwrap_or(line);
        let body = body.strip_suffix('\r').unwrap_or(body);
        out.push_str(&escape(body));
        out.push('\n');
    }
    out
}

/// An error unless the file at `target` still holds `read`, the text adopt read from the part
/// named `name` (docs/contract.md §7: an edit made while adopt waited for the org is never
/// lost); `written` names the parts already replaced.
fn unchanged(target: &Path, name: &str, read: &str, written: &[&str]) -> Result<(), CommandError> {
    let now = parts::read_part(target);
    if now.as_deref().ok() == Some(read.as_bytes()) {
        return Ok(());
    }
    let what = if written.is_empty() {
        "nothing was written".to_string()
    } else {
        format!(
            "{} {} already adopted, nothing else was written",
            written.join(", "),
            crate::words::one_or_many(written.len(), "was", "were")
        )
    };
    Err(CommandError::Adopt {
        file: name.to_string(),
        why: format!(
            "it changed on disk since adopt read it (edited while adopt read the org?); {what}: run `teamsync adopt` again"
        ),
    })
}

/// The file's metadata, or an error if it is read-only (its directory may still let a rename
/// through, but a read-only file is not to be replaced).
fn writable(path: &Path) -> Result<std::fs::Metadata, CommandError> {
    let err = |source| CommandError::WriteFile {
        path: path.display().to_string(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(err)?;
    if meta.permissions().readonly() {
        return Err(err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            "the file is read-only; it was left as it was",
        )));
    }
    Ok(meta)
}
