//! `teamsync validate`: the file alone, offline (docs/contract.md §1, §3).

use super::Context;
use crate::error::CommandError;
use crate::role::Role;
use crate::words::plural;

#[derive(clap::Args, Debug)]
pub(crate) struct Args {}

pub(crate) fn run(ctx: &Context, _args: &Args) -> Result<u8, CommandError> {
    let file = ctx.load(&ctx.config.file)?;
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
