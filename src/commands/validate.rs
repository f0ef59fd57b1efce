//! `teamsync validate`: the file alone, offline (docs/contract.md §1, §3).

use super::Context;
use crate::desired::LoadedFile;
use crate::error::CommandError;
use crate::role::Role;
use crate::ui::Level;
use crate::words::plural;
use crate::yaml::Diagnostic;

#[derive(clap::Args, Debug)]
pub(crate) struct Args {}

pub(crate) fn run(ctx: &Context, _args: &Args) -> Result<u8, CommandError> {
    let file = ctx.load(&ctx.config.file)?;
    print_expiring(ctx, &file);
    let members = &file.desired.members;
    let admins = members.iter().filter(|m| m.role == Role::Admin).count();
    ctx.ui.note(format_args!(
        "{} is valid: {} member{} ({} admin{}).",
        file.name,
        members.len(),
        plural(members.len()),
        admins,
        plural(admins)
    ));
    Ok(0)
}

/// The entries that expire soon, one warning per date at the first of them (docs/contract.md
/// §3, §4): a cohort of 150 is one line.
fn print_expiring(ctx: &Context, file: &LoadedFile) {
    for (cohort, first) in file.desired.expiring(ctx.config.today) {
        let d = Diagnostic::at(first.loc, cohort.to_string());
        let part = file.parts.get(d.part).map_or(&file.name, |p| &p.name);
        ctx.ui.diagnostic(Level::Warning, part, &d);
    }
}
