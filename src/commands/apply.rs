//! `teamsync apply`: re-reads the org, prints the plan, asks, and executes it in phases
//! (docs/contract.md §5).

use super::plan::{compute, show};
use super::{Context, runtime};
use crate::client::Client;
use crate::config::{ConfigError, Format};
use crate::error::CommandError;
use crate::executor;
use crate::render;
use crate::saved::{SavedPlan, Stale};
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// Do not ask; required when stdin is not a terminal.
    #[arg(long)]
    auto_approve: bool,
    /// Requests at once within a phase.
    #[arg(long, default_value_t = 8, value_name = "N")]
    parallelism: usize,
    /// Allow more removals than the removal guard permits.
    #[arg(long)]
    allow_mass_removal: bool,
    /// A plan saved by `plan --out`; refused if the org or the file changed since.
    #[arg(value_name = "PLANFILE")]
    plan_file: Option<PathBuf>,
}

pub(crate) fn run(ctx: &Context, args: &Args) -> Result<u8, CommandError> {
    if !(1..=64).contains(&args.parallelism) {
        return Err(ConfigError::BadParallelism(args.parallelism).into());
    }
    let api = ctx.api()?;
    let saved = match &args.plan_file {
        Some(path) => Some(read_saved(path)?),
        None => None,
    };
    // A saved plan names its desired file; apply checks that very file.
    let file_path = match &saved {
        Some(doc) => {
            check_same_file(ctx, doc, args.plan_file.as_deref().unwrap_or(Path::new("")))?;
            PathBuf::from(&doc.desired_file)
        }
        None => ctx.config.file.clone(),
    };
    let runtime = runtime()?;
    let client = Client::new(api)?;
    let (file, org) = ctx.load_with_org(&file_path, &client, &runtime)?;
    let computed = compute(ctx.config, &file, &org, args.allow_mass_removal);
    if let (Some(doc), Some(path)) = (&saved, &args.plan_file) {
        doc.check_fresh(&computed.fingerprints, &computed.snapshot, &computed.plan)
            .map_err(|stale| CommandError::Stale {
                path: path.display().to_string(),
                what: stale_text(&stale, &file.name),
            })?;
    }
    show(ctx, &computed, &org, &file.name);
    let plan = &computed.plan;
    if plan.changes.is_empty() {
        let blocked = plan.blocked.len();
        if blocked > 0 {
            ctx.ui.note(format_args!(
                "Nothing to send: {blocked} blocked change{} remain{} (see above).",
                if blocked == 1 { "" } else { "s" },
                if blocked == 1 { "s" } else { "" }
            ));
        } else if ctx.config.format != Format::Text {
            ctx.ui.note("No changes.");
        }
        return Ok(0);
    }
    let refusing: Vec<String> = plan.refusing_guards().map(render::refusal).collect();
    if !refusing.is_empty() {
        return Err(CommandError::Guard(refusing.join("; ")));
    }
    if !args.auto_approve {
        let n = plan.changes.len();
        let question = format!(
            "\nApply {n} change{} to the org at {}?\n  Only 'yes' will be accepted: ",
            if n == 1 { "" } else { "s" },
            api.base_url
        );
        match ctx.ui.ask(&question) {
            None => return Err(CommandError::NoTerminal),
            Some(answer) if answer.trim() == "yes" => {}
            Some(_) => return Err(CommandError::Cancelled),
        }
    }
    let progress = |r: &executor::StepReport, n: usize, total: usize| {
        ctx.ui
            .note(format_args!("[{n}/{total}] {}", render::step_line(r)));
    };
    let report = runtime.block_on(executor::execute(
        &client,
        plan,
        args.parallelism,
        &progress,
    ));
    ctx.ui.eprint(&render::finished(&report));
    if report.success() {
        Ok(0)
    } else {
        Err(CommandError::StepsFailed {
            count: report.failed() + report.not_attempted(),
        })
    }
}

fn read_saved(path: &Path) -> Result<SavedPlan, CommandError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| CommandError::bad_plan_file(&name, e))?;
    SavedPlan::parse(&bytes).map_err(|e| CommandError::bad_plan_file(&name, e))
}

/// An explicit `-f` must name the file the saved plan was made from.
fn check_same_file(ctx: &Context, doc: &SavedPlan, plan_file: &Path) -> Result<(), CommandError> {
    if !ctx.config.file_explicit {
        return Ok(());
    }
    let (made_from, given) = (Path::new(&doc.desired_file), &ctx.config.file);
    let same = match (made_from.canonicalize(), given.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => made_from == given,
    };
    if same {
        return Ok(());
    }
    Err(CommandError::bad_plan_file(
        &plan_file.display().to_string(),
        format!(
            "it was made from {}, not {}; run `teamsync plan -f {} --out PLANFILE` again, or apply it without -f",
            doc.desired_file,
            given.display(),
            given.display()
        ),
    ))
}

fn stale_text(stale: &Stale, file: &str) -> String {
    match stale {
        Stale::Changed {
            file_changed,
            org_drift,
        } => {
            let mut what = Vec::new();
            if *file_changed {
                what.push(format!("{file} changed since the plan was made"));
            }
            if !org_drift.is_empty() {
                what.push(format!(
                    "the org changed since the plan was made: {}",
                    org_drift.join("; ")
                ));
            }
            what.join("; and ")
        }
        Stale::Differs => "the same file and org now give a different plan (a member's `expires` date passed, or --self changed)".into(),
    }
}
