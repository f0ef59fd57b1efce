//! `teamsync completions SHELL`.

use super::Context;
use crate::error::CommandError;

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

pub(crate) fn run(ctx: &Context, args: &Args) -> Result<u8, CommandError> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut (ctx.cli)(), "teamsync", &mut script);
    ctx.ui.print(&String::from_utf8_lossy(&script));
    Ok(0)
}
