//! `teamsync schema`: the JSON Schemas of the file and of the JSON plan.

use super::Context;
use crate::error::CommandError;

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// The schema of `plan --format json` and saved plans instead.
    #[arg(long)]
    plan: bool,
}

pub(crate) fn run(ctx: &Context, args: &Args) -> Result<u8, CommandError> {
    ctx.ui.print(&if args.plan {
        crate::schema::plan_schema()
    } else {
        crate::schema::file_schema()
    });
    Ok(0)
}
