//! `teamsync plan`: reads the org (or a snapshot of it) and prints what apply would change;
//! changes nothing (docs/contract.md §1, §4, §6). With `--baseline`, each change is the edit's
//! or drift (§8); with `--live`, the org is a snapshot and no request is sent (§9).

use super::output::{Existing, Inputs, Output};
use super::{Context, append_step_summary, leave_to_exit, read_org};
use crate::api::Client;
use crate::config::{Config, PlanFormat};
use crate::desired::{self, Desired, LoadedFile};
use crate::email::Email;
use crate::error::{CommandError, OrgMismatch};
use crate::formats::plan::Fingerprints;
use crate::formats::plan::PlanDocument;
use crate::formats::saved;
use crate::formats::snapshot::SnapshotDocument;
use crate::live::{LiveSource, LiveState, Managed, ReadFrom};
use crate::origin;
use crate::parts;
use crate::plan::{BaselineName, Plan};
use crate::planner::{self, BaselineGiven, PlanOptions};
use crate::render;
use crate::stops;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// Output format of the plan.
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    format: PlanFormat,
    /// Exit 2 when the plan has changes (0 when none, 1 on error).
    #[arg(long)]
    detailed_exitcode: bool,
    /// Also save the plan (JSON, with fingerprints) for `teamsync apply PLANFILE`.
    #[arg(long, value_name = "PLANFILE")]
    out: Option<PathBuf>,
    /// The desired state before the edit under review (a file or a directory of parts, like
    /// -f): each change is shown as the edit's own or as drift in the org.
    #[arg(long, value_name = "PATH")]
    baseline: Option<PathBuf>,
    /// What to call the baseline in the plan (in the Action: the base commit's SHA); without
    /// it, its path.
    #[arg(long, value_name = "TEXT", requires = "baseline")]
    baseline_label: Option<String>,
    /// Plan against this org snapshot (`teamsync snapshot`) instead of reading the org: no API
    /// key needed, no request sent.
    #[arg(long, value_name = "SNAPSHOT")]
    live: Option<PathBuf>,
}

/// Where the org comes from.
enum Org<'a> {
    Api(Client),
    Snapshot(&'a Path),
}

/// The desired state before the edit, or why it cannot say what the edit is.
pub(super) enum Baseline {
    /// Boxed: a desired state is much larger than the other variant.
    Valid(Box<Desired>),
    /// It was read, but is not a valid desired state: the plan is made without origins.
    Invalid { path: String, problems: usize },
}

pub(crate) fn run(ctx: &Context, args: &Args) -> Result<u8, CommandError> {
    // Reading the org needs the API's settings: they are checked before anything else. A
    // snapshot needs none of them, not even a key.
    let from = match &args.live {
        Some(path) => Org::Snapshot(path),
        None => Org::Api(ctx.client()?),
    };
    // The file first: an invalid file sends no request (docs/decisions.md).
    let file = ctx.load(&ctx.config.file)?;
    // Refused before the org is read: `--out` never replaces an input, the baseline and the
    // snapshot included (docs/contract.md §6).
    let out = match &args.out {
        Some(path) => {
            let mut inputs = Inputs::desired(&ctx.config.file);
            if let Some(base) = &args.baseline {
                inputs = inputs.and_baseline(base);
            }
            if let Some(live) = &args.live {
                inputs = inputs.and_file(live, "is the snapshot planned against");
            }
            Some(Output::check(path, "--out", &inputs, Existing::Replace)?)
        }
        None => None,
    };
    let baseline = match &args.baseline {
        Some(path) => Some(load_baseline(ctx, path, &file)?),
        None => None,
    };
    let (live, source) = match from {
        Org::Snapshot(path) => read_snapshot(ctx, path, &file)?,
        Org::Api(client) => read_org(ctx, &client)?,
    };
    let comparison = match &baseline {
        Some(Baseline::Valid(base)) => Some(Comparison::new(
            ctx,
            &file,
            base,
            &live,
            &plan_options(ctx.config, false),
        )),
        _ => None,
    };
    let org = Managed::new(live, &file.desired.ignore);
    // The live roster and fingerprints are for saved plans and the JSON document only.
    let fingerprinted = args.out.is_some() || args.format == PlanFormat::Json;
    let started = std::time::Instant::now();
    // The plan is made complete: what it was read from and compared with, warnings included.
    let options = PlanOptions {
        source: Some(source),
        baseline: args.baseline.as_ref().map(|path| BaselineGiven {
            name: BaselineName {
                path: path.display().to_string(),
                label: args.baseline_label.clone(),
            },
            problems: match &baseline {
                Some(Baseline::Invalid { problems, .. }) => Some(*problems),
                _ => None,
            },
        }),
        ..plan_options(ctx.config, false)
    };
    let mut computed = plan_and_fingerprint(&file, &org, &options, fingerprinted);
    if let Some(comparison) = &comparison {
        comparison.classify(ctx, &mut computed.plan, &file, &org);
    }
    tracing::debug!(elapsed_ms = started.elapsed().as_millis() as u64, "planned");
    show(ctx, args.format, &computed, &org, &file.name);
    append_step_summary(ctx, || render::markdown(&computed.plan, &file.name));
    if let Some(out) = &out {
        let doc = PlanDocument {
            live_roster: Some(&computed.roster),
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
    let code = if args.detailed_exitcode && !computed.plan.is_empty() {
        2
    } else {
        0
    };
    leave_to_exit((computed, org, file, comparison));
    leave_to_exit(baseline);
    Ok(code)
}

/// The edit under review against its baseline (docs/contract.md §8): the baseline's plan from
/// the same read of the org, against its own `ignore`, and what adopt would keep of the drift.
/// Plan and apply each make one, then [`Comparison::classify`] their plan with it.
pub(super) struct Comparison<'b> {
    base: &'b Desired,
    plan: Plan,
    org: Managed,
    /// What adopt would keep, for the pointer to it.
    keeps: HashSet<Email>,
}

impl<'b> Comparison<'b> {
    pub(super) fn new(
        ctx: &Context,
        file: &LoadedFile,
        base: &'b Desired,
        live: &LiveState,
        options: &PlanOptions,
    ) -> Comparison<'b> {
        let org = Managed::new(live.clone(), &base.ignore);
        Comparison {
            base,
            plan: planner::plan(base, &org, options),
            org,
            keeps: ctx.adoptable(&file.desired, live),
        }
    }

    /// Each change of `plan` (of `file` against `org`) as the edit's, drift or scheduled; the
    /// rules the edit changes; how much of the drift adopt would keep.
    pub(super) fn classify(
        &self,
        ctx: &Context,
        plan: &mut Plan,
        file: &LoadedFile,
        org: &Managed,
    ) {
        let today = ctx.config.today;
        origin::classify(plan, &self.plan, &file.desired, self.base, today);
        if let Some(compared) = &mut plan.compared {
            compared.rules_changed =
                stops::rules_changed(&file.desired, self.base, &self.org, org, today);
        }
        plan.set_adoptable(&self.keeps);
    }
}

/// Loads `--baseline` like `-f` (docs/contract.md §8). One that cannot be read is an error; one
/// that is read but is not a valid desired state is not (a pull request may be fixing a broken
/// base): the plan is made without origins and says why (docs/decisions.md). Its problems and
/// warnings are not printed: they are the base's, not the file's under review. A baseline that
/// names another org than `file` is an error (docs/contract.md §9): its plan says nothing
/// about this org.
pub(super) fn load_baseline(
    ctx: &Context,
    path: &Path,
    file: &LoadedFile,
) -> Result<Baseline, CommandError> {
    let name = path.display().to_string();
    let sources = parts::read(path).map_err(|e| CommandError::Baseline {
        path: name.clone(),
        why: e.reason(),
    })?;
    let loaded = desired::load(sources, ctx.config.today, desired::cores());
    Ok(match loaded.desired {
        Ok(desired) => {
            same_org(file, desired.org.as_deref(), "the baseline", &name)?;
            Baseline::Valid(Box::new(desired))
        }
        Err(errors) => Baseline::Invalid {
            path: name,
            problems: errors.len(),
        },
    })
}

/// An error when `file` and another document (`what` at `path`) both name an org and the names
/// differ (docs/contract.md §9).
pub(super) fn same_org(
    file: &LoadedFile,
    other_org: Option<&str>,
    what: &'static str,
    path: &str,
) -> Result<(), CommandError> {
    match (&file.desired.org, other_org) {
        (Some(mine), Some(theirs)) if mine != theirs => {
            Err(CommandError::OrgMismatch(Box::new(OrgMismatch {
                file: file.name.clone(),
                file_org: mine.clone(),
                what,
                path: path.to_string(),
                other_org: theirs.to_string(),
                hint: match what {
                    "the snapshot" => "plan against a snapshot of the file's org",
                    "the baseline" => "pass the same org's desired state as --baseline",
                    _ => "make the plan again with this file",
                },
            })))
        }
        _ => Ok(()),
    }
}

/// Reads `plan --live SNAPSHOT` (docs/contract.md §9): the org as the snapshot holds it, and how
/// old it is by the command's clock; refused when it is of another org than `file` names.
pub(super) fn read_snapshot(
    ctx: &Context,
    path: &Path,
    file: &LoadedFile,
) -> Result<(LiveState, LiveSource), CommandError> {
    let name = path.display().to_string();
    let err = |why: String| CommandError::BadSnapshot {
        path: name.clone(),
        why,
    };
    let bytes = crate::parts::read_document(path).map_err(err)?;
    let read =
        SnapshotDocument::parse(&bytes, &ctx.config.now()).map_err(|e| err(e.to_string()))?;
    same_org(file, read.org.as_deref(), "the snapshot", &name)?;
    let (live, read_at) = (read.live, read.read_at);
    let source = LiveSource {
        age_seconds: read_at.seconds_until(&ctx.config.now()),
        read_at,
        from: ReadFrom::Snapshot { path: name },
    };
    Ok((live, source))
}

/// A plan with what it was computed from.
pub(super) struct Computed {
    pub(super) plan: Plan,
    /// The managed roster the plan was made against (saved plans keep it).
    pub(super) roster: Vec<String>,
    pub(super) fingerprints: Fingerprints,
}

impl Computed {
    fn document<'a>(&'a self, file: &'a str) -> PlanDocument<'a> {
        PlanDocument::new(file, &self.plan, &self.fingerprints)
    }
}

/// The planner's options from the configuration (no source, no baseline).
pub(super) fn plan_options(config: &Config, allow_mass_removal: bool) -> PlanOptions {
    PlanOptions {
        self_email: config.self_email.clone(),
        self_from: config.self_from,
        today: config.today,
        allow_mass_removal,
        source: None,
        baseline: None,
    }
}

/// Plans `file` against `org`, read from `source` (a snapshot older than
/// [`OLD_SNAPSHOT_DAYS`](crate::live::OLD_SNAPSHOT_DAYS) days adds a warning;
/// docs/contract.md §9). With `fingerprinted` false, the roster and the live state's
/// fingerprint are left empty: they cost a line and a hash per member, and only a saved plan
/// or the JSON document shows them.
pub(super) fn compute(
    config: &Config,
    file: &LoadedFile,
    org: &Managed,
    source: LiveSource,
    allow_mass_removal: bool,
    fingerprinted: bool,
) -> Computed {
    let options = PlanOptions {
        source: Some(source),
        ..plan_options(config, allow_mass_removal)
    };
    plan_and_fingerprint(file, org, &options, fingerprinted)
}

/// Plans `file` against `org` with `options`, and fingerprints what it was made from (see
/// [`compute`]).
fn plan_and_fingerprint(
    file: &LoadedFile,
    org: &Managed,
    options: &PlanOptions,
    fingerprinted: bool,
) -> Computed {
    let plan = planner::plan(&file.desired, org, options);
    let roster = if fingerprinted {
        saved::live_roster(org)
    } else {
        Vec::new()
    };
    let fingerprints = Fingerprints {
        desired_file: file.fingerprint.clone(),
        live_state: if fingerprinted {
            saved::live_fingerprint(&roster)
        } else {
            String::new()
        },
    };
    Computed {
        plan,
        roster,
        fingerprints,
    }
}

/// Prints the plan on stdout in `format`. In the formats for people (text, diff) its warnings
/// follow on stderr (docs/contract.md §6), last on screen; JSON and Markdown carry them inside.
pub(super) fn show(
    ctx: &Context,
    format: PlanFormat,
    computed: &Computed,
    org: &Managed,
    file: &str,
) {
    let plan = &computed.plan;
    let warnings = match format {
        PlanFormat::Text | PlanFormat::Diff => render::warnings(plan, ctx.config.verbose),
        PlanFormat::Json | PlanFormat::Markdown => String::new(),
    };
    ctx.ui.print(&match format {
        PlanFormat::Text => render::text(
            plan,
            file,
            render::TextOptions {
                color: ctx.ui.color(),
                list_pending: ctx.config.verbose,
            },
        ),
        PlanFormat::Json => computed.document(file).to_json(),
        PlanFormat::Markdown => render::markdown(plan, file),
        PlanFormat::Diff => render::diff(org, plan, file),
    });
    ctx.ui.eprint(&warnings);
}
