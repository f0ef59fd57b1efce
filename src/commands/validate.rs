//! `teamsync validate`: the file alone, offline (docs/contract.md §1, §3); `--format json` writes
//! the validation document on stdout (docs/contract.md §1).

use super::Context;
use crate::desired::{self, Desired};
use crate::error::CommandError;
use crate::formats::validation::ValidationDocument;
use crate::parts;
use crate::role::Role;
use crate::ui::Level;
use crate::words::plural;
use crate::yaml::Diagnostic;

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// Output format: `text`, each problem as FILE:LINE:COL: message on stderr; `json`, the
    /// validation document on stdout (exit 1 when not valid).
    #[arg(long, value_enum, default_value_t = ValidateFormat::Text)]
    format: ValidateFormat,
}

/// How `validate` reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ValidateFormat {
    Text,
    Json,
}

pub(crate) fn run(ctx: &Context, args: &Args) -> Result<u8, CommandError> {
    if args.format == ValidateFormat::Json {
        // A file that cannot be read at all stays an error on stderr (exit 1): there is no
        // line and column to give.
        let sources = parts::read(&ctx.config.file)?;
        let loaded = desired::load(sources, ctx.config.today, desired::cores());
        // Warnings are not problems: stderr, as in text.
        for w in &loaded.warnings {
            ctx.ui.diagnostic(Level::Warning, loaded.part_name(w), w);
        }
        if let Ok(d) = &loaded.desired {
            print_expiring(ctx, d, |part| {
                loaded.parts.get(part).map_or(&loaded.name, |p| &p.name)
            });
        }
        let doc = ValidationDocument::new(&loaded);
        ctx.ui.print(&doc.to_json());
        return Ok(if loaded.desired.is_ok() { 0 } else { 1 });
    }
    let file = ctx.load(&ctx.config.file)?;
    print_expiring(ctx, &file.desired, |part| {
        file.parts.get(part).map_or(&file.name, |p| &p.name)
    });
    let members = &file.desired.members;
    let admins = members.iter().filter(|m| m.role == Role::Admin).count();
    ctx.ui.note(format_args!(
        // Entries, not members: validate never sees the org (docs/contract.md §1).
        "{} is valid: {} entr{} ({} admin{}).",
        file.name,
        members.len(),
        crate::words::one_or_many(members.len(), "y", "ies"),
        admins,
        plural(admins)
    ));
    Ok(0)
}

/// The entries that expire soon, one warning per date at the first of them (docs/contract.md
/// §3, §4): a cohort of 150 is one line.
fn print_expiring<'a>(ctx: &Context, desired: &Desired, part_name: impl Fn(usize) -> &'a String) {
    for (cohort, first) in desired.expiring(ctx.config.today) {
        let d = Diagnostic::at(
            first.loc,
            crate::plan::Warning::Expiring(cohort).to_string(),
        );
        ctx.ui.diagnostic(Level::Warning, part_name(d.part), &d);
    }
}
