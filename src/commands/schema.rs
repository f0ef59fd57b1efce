//! `teamsync schema`: the JSON Schemas of the file, of the JSON plan, of the apply report, of
//! the org snapshot and of the access review.

use super::Context;
use crate::error::CommandError;

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// The schema of `plan --format json` and saved plans instead.
    #[arg(long, conflicts_with_all = ["report", "snapshot", "validation", "review"])]
    plan: bool,
    /// The schema of the apply report (`apply --report FILE`) instead.
    #[arg(long, conflicts_with_all = ["snapshot", "validation", "review"])]
    report: bool,
    /// The schema of the org snapshot (`teamsync snapshot`, `plan --live`) instead.
    #[arg(long, conflicts_with_all = ["validation", "review"])]
    snapshot: bool,
    /// The schema of `validate --format json` instead.
    #[arg(long, conflicts_with = "review")]
    validation: bool,
    /// The schema of the access review (`teamsync review --format json`) instead.
    #[arg(long)]
    review: bool,
}

pub(crate) fn run(ctx: &Context, args: &Args) -> Result<u8, CommandError> {
    ctx.ui.print(&if args.plan {
        crate::formats::schema::plan_schema()
    } else if args.report {
        crate::formats::schema::report_schema()
    } else if args.snapshot {
        crate::formats::schema::snapshot_schema()
    } else if args.validation {
        crate::formats::schema::validation_schema()
    } else if args.review {
        crate::formats::schema::review_schema()
    } else {
        crate::formats::schema::file_schema()
    });
    Ok(0)
}
