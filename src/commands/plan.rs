//! `teamsync plan`: reads the org and prints what apply would change; changes nothing
//! (docs/contract.md §1, §4, §6).

use super::output::Existing;
use super::{Context, append_step_summary, read_org, runtime};
use crate::api::Client;
use crate::config::{Config, Format};
use crate::desired::LoadedFile;
use crate::error::CommandError;
use crate::formats::plan::PlanDocument;
use crate::formats::saved::{self, Fingerprints};
use crate::live::Managed;
use crate::plan::Plan;
use crate::planner::{self, PlanOptions};
use crate::render;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// Output format of the plan.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Exit 2 when the plan has changes (0 when none, 1 on error).
    #[arg(long)]
    detailed_exitcode: bool,
    /// Also save the plan (JSON, with fingerprints) for `teamsync apply PLANFILE`.
    #[arg(long, value_name = "PLANFILE")]
    out: Option<PathBuf>,
}

pub(crate) fn run(ctx: &Context, args: &Args) -> Result<u8, CommandError> {
    let api = ctx.api()?;
    let client = Client::new(api)?.with_notes(ctx.ui.notes());
    // The file first: an invalid file sends no request (README, Decisions).
    let file = ctx.load(&ctx.config.file)?;
    // Refused before the org is read: `--out` never replaces an input (docs/contract.md §6).
    let out = args
        .out
        .as_deref()
        .map(|path| ctx.output(path, "--out", Existing::Replace))
        .transpose()?;
    let org = read_org(&runtime()?, &client, &file.desired, std::future::pending())?;
    // The live snapshot and fingerprints are for saved plans and the JSON document only.
    let fingerprinted = args.out.is_some() || args.format == Format::Json;
    let started = std::time::Instant::now();
    let computed = compute(ctx.config, &file, &org, false, fingerprinted);
    tracing::debug!(elapsed_ms = started.elapsed().as_millis() as u64, "planned");
    show(ctx, args.format, &computed, &org, &file.name);
    append_step_summary(ctx, || render::markdown(&computed.plan, &file.name));
    if let Some(out) = &out {
        let doc = PlanDocument {
            live_snapshot: Some(&computed.snapshot),
            ..computed.document(&file.name)
        };
        out.write(ctx.ui, &doc.to_json())?;
        let path = out.path();
        ctx.ui.note(format_args!(
            "Saved the plan to {}; apply it with `teamsync apply {}`.",
            path.display(),
            path.display()
        ));
    }
    Ok(if args.detailed_exitcode && !computed.plan.is_empty() {
        2
    } else {
        0
    })
}

/// A plan with what it was computed from.
pub(super) struct Computed {
    pub(super) plan: Plan,
    /// The managed roster the plan was made against (saved plans keep it).
    pub(super) snapshot: Vec<String>,
    pub(super) fingerprints: Fingerprints,
}

impl Computed {
    fn document<'a>(&'a self, file: &'a str) -> PlanDocument<'a> {
        PlanDocument::new(file, &self.plan, &self.fingerprints)
    }
}

/// The planner's options from the configuration.
pub(super) fn plan_options(config: &Config, allow_mass_removal: bool) -> PlanOptions {
    PlanOptions {
        self_email: config.self_email.clone(),
        today: config.today,
        allow_mass_removal,
    }
}

/// Plans `file` against `org`. With `fingerprinted` false, the snapshot and the live state's
/// fingerprint are left empty: they cost a line and a hash per member, and only a saved plan
/// or the JSON document shows them.
pub(super) fn compute(
    config: &Config,
    file: &LoadedFile,
    org: &Managed,
    allow_mass_removal: bool,
    fingerprinted: bool,
) -> Computed {
    let plan = planner::plan(
        &file.desired,
        org,
        &plan_options(config, allow_mass_removal),
    );
    let snapshot = if fingerprinted {
        saved::live_snapshot(org)
    } else {
        Vec::new()
    };
    let fingerprints = Fingerprints {
        desired_file: file.fingerprint.clone(),
        live_state: if fingerprinted {
            saved::live_fingerprint(&snapshot)
        } else {
            String::new()
        },
    };
    Computed {
        plan,
        snapshot,
        fingerprints,
    }
}

/// Prints the plan on stdout in `format`.
pub(super) fn show(ctx: &Context, format: Format, computed: &Computed, org: &Managed, file: &str) {
    let plan = &computed.plan;
    ctx.ui.print(&match format {
        Format::Text => render::text(
            plan,
            file,
            render::TextOptions {
                color: ctx.ui.color(),
                list_pending: ctx.config.verbose,
            },
        ),
        Format::Json => computed.document(file).to_json(),
        Format::Markdown => render::markdown(plan, file),
        Format::Diff => render::diff(org, plan, file),
    });
}
