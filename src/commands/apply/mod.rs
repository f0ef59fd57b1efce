//! `teamsync apply`: re-reads the org, prints the plan, asks, and executes it in phases
//! (docs/contract.md §5).

use super::output::{Existing, Inputs, Output};
use super::plan::{
    Baseline, Comparison, Computed, compute, load_baseline, plan_options, same_org, show,
};
use super::{Context, read_live, runtime};
use crate::api::Client;
use crate::config::PlanFormat;
use crate::desired::{Desired, LoadedFile};
use crate::error::CommandError;
use crate::executor::{self, NotAttempted};
use crate::formats::saved::SavedPlan;
use crate::interrupt::{Signal, Signals};
use crate::live::{LiveState, Managed};
use crate::origin::{DriftMode, OriginIndex};
use crate::plan::{Change, Guard, Plan};
use crate::planner::{self, PlanOptions};
use crate::render;
use crate::ui::Answer;
use crate::words::{one_or_many, plural};
use ending::{Ending, Finisher};
use std::cell::RefCell;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// Output format of the plan.
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    format: PlanFormat,
    /// Do not ask; required when stdin is not a terminal.
    #[arg(long)]
    auto_approve: bool,
    /// Requests at once within a phase, from 1 to 64.
    #[arg(
        long,
        default_value_t = 8,
        value_name = "N",
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=64)
    )]
    parallelism: usize,
    /// Allow more removals than the removal guard permits.
    #[arg(long)]
    allow_mass_removal: bool,
    /// A plan saved by `plan --out`; refused if the org or the file changed since.
    #[arg(value_name = "PLANFILE")]
    plan_file: Option<PathBuf>,
    /// Also write a JSON report of what was done, step by step (schema: `teamsync schema
    /// --report`), whatever happens once the plan is made.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// The desired state before the edit being applied (a file or a directory of parts, like
    /// -f): each change is the edit's or drift in the org, and --drift says what to do with
    /// drift.
    #[arg(long, value_name = "PATH", conflicts_with = "plan_file")]
    baseline: Option<PathBuf>,
    /// What to do with changes that revert drift (needs --baseline, or a plan saved with one):
    /// revert them with the rest, keep the drift (apply the rest, list it), or refuse (send
    /// nothing, exit 3) [default: revert]
    #[arg(long, value_enum, value_name = "MODE")]
    drift: Option<DriftArg>,
}

/// `--drift`'s words for [`DriftMode`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum DriftArg {
    /// Apply the whole plan, drift reverted too.
    Revert,
    /// Apply every change but the drift, and list the drift left in place.
    Keep,
    /// Send nothing (exit 3) when the plan would revert drift.
    Refuse,
}

impl From<DriftArg> for DriftMode {
    fn from(d: DriftArg) -> DriftMode {
        match d {
            DriftArg::Revert => DriftMode::Revert,
            DriftArg::Keep => DriftMode::Keep,
            DriftArg::Refuse => DriftMode::Refuse,
        }
    }
}

/// The mode as `--drift` writes it, for messages.
fn mode_name(mode: DriftMode) -> &'static str {
    match mode {
        DriftMode::Revert => "revert",
        DriftMode::Keep => "keep",
        DriftMode::Refuse => "refuse",
    }
}

pub(crate) fn run(ctx: &Context, args: &Args) -> Result<u8, CommandError> {
    let p = prepare(ctx, args)?;
    // Planning succeeded: whatever happens next, the report is written.
    let mut out = Finisher {
        ctx,
        report: p.report.as_ref(),
        desired_file: &p.file.name,
        org: p.file.desired.org.as_deref(),
        started: p.started,
        computed: &p.computed,
        plan: &p.computed.plan,
        drift: p.origins.as_ref().map(|index| (p.mode, index, &[][..])),
    };
    let drift = p.computed.plan.drift_changes();
    let kept: Plan;
    let plan = match choose(ctx, args, &p, &drift) {
        Ok(None) => &p.computed.plan,
        Ok(Some(without)) => {
            kept = without;
            out.plan = &kept;
            out.drift = p
                .origins
                .as_ref()
                .map(|index| (p.mode, index, drift.as_slice()));
            &kept
        }
        Err(ending) => return out.end(ending),
    };
    let ending = match confirm(ctx, args, &p, plan) {
        Some(ending) => ending,
        None => write(ctx, args, &p, plan),
    };
    out.end(ending)
}

/// Everything apply holds once the plan is made.
struct Prepared {
    /// The saved plan applied, and its path.
    saved: Option<(SavedPlan, PathBuf)>,
    mode: DriftMode,
    /// The API's URL, for the question.
    base_url: String,
    file: LoadedFile,
    /// The `--report` file, checked.
    report: Option<Output>,
    runtime: tokio::runtime::Runtime,
    client: Client,
    signals: Signals,
    started: SystemTime,
    options: PlanOptions,
    /// The org as read, managed by the file.
    org: Managed,
    computed: Computed,
    /// Each change's origin, with a baseline (or a plan saved with one).
    origins: Option<OriginIndex>,
}

/// Reads the inputs (a saved plan, the file, the baseline), checks the report's path, reads
/// the org and makes the plan, with origins when there is a baseline.
fn prepare(ctx: &Context, args: &Args) -> Result<Prepared, CommandError> {
    let api = ctx.api()?;
    let saved = match &args.plan_file {
        Some(path) => Some((read_saved(path)?, path.clone())),
        None => None,
    };
    let mode = args.drift.map(DriftMode::from).unwrap_or_default();
    origins_available(mode, saved.as_ref(), args.baseline.is_some())?;
    // A saved plan names its desired file; apply checks that very file.
    let file_path = match &saved {
        Some((doc, path)) => {
            check_same_file(ctx, doc, path)?;
            PathBuf::from(&doc.desired_file)
        }
        None => ctx.config.file.clone(),
    };
    let runtime = runtime()?;
    let file = ctx.load(&file_path)?;
    if let Some((doc, path)) = &saved {
        same_org(
            &file,
            doc.org.as_deref(),
            "the saved plan",
            &path.display().to_string(),
        )?;
    }
    let baseline = match &args.baseline {
        Some(path) => usable_baseline(ctx, path, &file, mode)?,
        None => None,
    };
    let report = match &args.report {
        Some(path) => Some(report_output(args, path, &file_path)?),
        None => None,
    };
    super::check_step_summary(ctx);
    let client = ctx.client()?;
    // From here on a signal is apply's to handle (docs/contract.md §5). Until the first write,
    // it ends the run at once: nothing has been sent.
    let signals = Signals::listen(&runtime);
    let started = SystemTime::now();
    let (live, source) = read_live(ctx, &runtime, &client, signals.nth(1))?;
    let options = plan_options(ctx.config, args.allow_mass_removal);
    // The baseline's plan from the same read (docs/contract.md §8).
    let comparison = baseline
        .as_deref()
        .map(|base| Comparison::new(ctx, &file, base, &live, &options));
    let org = Managed::new(live, &file.desired.ignore);
    let mut computed = compute(
        ctx.config,
        &file,
        &org,
        source,
        args.allow_mass_removal,
        true,
    );
    match (&comparison, &saved) {
        (Some(comparison), _) => comparison.classify(ctx, &mut computed.plan, &file, &org),
        // A saved plan's origins, entry for entry: its changes are checked to be the same as
        // the plan's below (a plan whose changes differ is stale, whatever its origins).
        (_, Some((doc, _))) => {
            if let Some(origins) = doc.origins() {
                origins.give_to(&mut computed.plan);
            }
        }
        _ => {}
    }
    if mode == DriftMode::Keep {
        if let Some(compared) = computed.plan.compared.as_mut() {
            compared.drift_kept = true;
        }
    }
    let origins = computed.plan.origin_index();
    Ok(Prepared {
        saved,
        mode,
        base_url: api.base_url.to_string(),
        file,
        report,
        runtime,
        client,
        signals,
        started,
        options,
        org,
        computed,
        origins,
    })
}

/// `--drift keep|refuse` needs origins: from --baseline, or from a plan saved with one
/// (docs/contract.md §5). Checked before anything is read.
fn origins_available(
    mode: DriftMode,
    saved: Option<&(SavedPlan, PathBuf)>,
    baseline_given: bool,
) -> Result<(), CommandError> {
    if mode == DriftMode::Revert {
        return Ok(());
    }
    let why = match (saved, baseline_given) {
        (Some((doc, path)), _) if doc.origins().is_none() => format!(
            "the saved plan {} was made without --baseline; save it with `teamsync plan --baseline PATH --out PLANFILE`",
            path.display()
        ),
        (None, false) => {
            "pass --baseline PATH (the desired state that was applied last), or apply a plan saved with --baseline".to_string()
        }
        _ => return Ok(()),
    };
    Err(CommandError::DriftWithoutOrigins {
        mode: mode_name(mode),
        why,
    })
}

/// The baseline `path` names, when it is a valid desired state. An invalid one ends the run
/// when `--drift keep|refuse` needs its origins, and is a warning otherwise: the plan then
/// cannot tell the edit from drift.
fn usable_baseline(
    ctx: &Context,
    path: &Path,
    file: &LoadedFile,
    mode: DriftMode,
) -> Result<Option<Box<Desired>>, CommandError> {
    match load_baseline(ctx, path, file)? {
        Baseline::Valid(base) => Ok(Some(base)),
        Baseline::Invalid { path, problems } if mode != DriftMode::Revert => {
            Err(CommandError::DriftWithoutOrigins {
                mode: mode_name(mode),
                why: format!(
                    "the baseline {path} has {problems} problem{} (`teamsync validate -f {path}` lists them)",
                    plural(problems)
                ),
            })
        }
        Baseline::Invalid { path, problems } => {
            ctx.ui.warning(format_args!(
                "the baseline {path} is not a valid desired state ({problems} problem{}): the plan cannot tell the edit from drift",
                plural(problems)
            ));
            Ok(None)
        }
    }
}

/// `--report PATH`, refused before the org is read when it would replace what apply reads:
/// the desired file, the saved plan, the baseline (docs/contract.md §6).
fn report_output(args: &Args, path: &Path, file_path: &Path) -> Result<Output, CommandError> {
    let mut inputs = Inputs::desired(file_path);
    if let Some(plan_file) = &args.plan_file {
        inputs = inputs.and_plan_file(plan_file);
    }
    if let Some(base) = &args.baseline {
        inputs = inputs.and_baseline(base);
    }
    Output::check(path, "--report", &inputs, Existing::Replace)
}

/// Checks a saved plan is fresh, shows the plan, and chooses what is sent (docs/contract.md
/// §5): the whole plan (`None`), or, with `--drift keep`, all but the drift, its guards
/// checked again; `--drift refuse` sends nothing when there is drift.
fn choose(
    ctx: &Context,
    args: &Args,
    p: &Prepared,
    drift: &[&Change],
) -> Result<Option<Plan>, Ending> {
    if let Some((doc, path)) = &p.saved {
        let computed = &p.computed;
        if let Err(outdated) =
            doc.check_fresh(&computed.fingerprints, &computed.roster, &computed.plan)
        {
            return Err(Ending::PlanOutdated {
                path: path.display().to_string(),
                outdated,
                file: p.file.name.clone(),
                made_from: doc.live_source.clone().map(Box::new),
            });
        }
    }
    show(ctx, args.format, &p.computed, &p.org, &p.file.name);
    match p.mode {
        DriftMode::Refuse if !drift.is_empty() => Err(Ending::DriftRefused {
            count: drift.len(),
            emails: listed_emails(drift),
        }),
        DriftMode::Keep if !drift.is_empty() => {
            let kept = without_drift(&p.computed.plan, &p.file.desired, &p.org, &p.options);
            ctx.ui.note(format_args!(
                "--drift keep: leaving in place {} change{} made in the org outside the file ({}); `teamsync adopt` writes {} into the file.",
                drift.len(),
                plural(drift.len()),
                listed_emails(drift),
                one_or_many(drift.len(), "it", "them")
            ));
            Ok(Some(kept))
        }
        _ => Ok(None),
    }
}

/// Whether `plan` is sent: nothing to send, a guard refuses, a signal came, or the answer to
/// the question is not `yes` end apply here (`None`: send it).
fn confirm(ctx: &Context, args: &Args, p: &Prepared, plan: &Plan) -> Option<Ending> {
    if plan.changes.is_empty() {
        let blocked = crate::plan::blocked_entries(&plan.blocked).len();
        if blocked > 0 {
            ctx.ui.note(format_args!(
                "Nothing to send: {blocked} blocked change{} remain{} (see above).",
                plural(blocked),
                one_or_many(blocked, "s", "")
            ));
        } else if args.format != PlanFormat::Text {
            ctx.ui.note("No changes.");
        }
        return Some(Ending::NoChanges);
    }
    let refusing: Vec<Guard> = plan.refusing_guards().cloned().collect();
    if !refusing.is_empty() {
        return Some(Ending::Refused(refusing));
    }
    if let Some(signal) = p.signals.first() {
        return Some(Ending::InterruptedBeforeSending(signal));
    }
    if !args.auto_approve {
        // Counted as the plan counts them: a replaced invitation is one change.
        let n = plan.count();
        let question = format!(
            "\nApply {n} change{} to the org at {}?\n  Only 'yes' will be accepted: ",
            plural(n),
            p.base_url
        );
        match p
            .runtime
            .block_on(ctx.ui.ask_yes(&question, p.signals.nth(1)))
        {
            Answer::Yes => {}
            Answer::No => return Some(Ending::NotConfirmed),
            Answer::NoTerminal => return Some(Ending::NoTerminal),
            Answer::Interrupted(signal) => return Some(Ending::InterruptedBeforeSending(signal)),
        }
    }
    p.signals.first().map(Ending::InterruptedBeforeSending)
}

/// The writes. The first signal stops new steps (requests in flight finish); the second ends
/// the run at once.
fn write(ctx: &Context, args: &Args, p: &Prepared, plan: &Plan) -> Ending {
    let finished: RefCell<Vec<executor::StepResult>> = RefCell::new(Vec::new());
    let in_flight: RefCell<HashSet<usize>> = RefCell::new(HashSet::new());
    let shown = ctx.ui.progress(plan.count());
    let progress = |r: &executor::StepResult, n: usize, total: usize| {
        let failed = matches!(r.outcome, executor::Outcome::Failed(_));
        let blocked = matches!(r.outcome, executor::Outcome::Blocked(_));
        shown.step(n, total, &render::step_line(r), failed, blocked);
        in_flight.borrow_mut().remove(&r.step.index);
        finished.borrow_mut().push(r.clone());
    };
    let step_started = |index: usize| {
        in_flight.borrow_mut().insert(index);
    };
    let checks = Guards {
        desired: &p.file.desired,
        options: &p.options,
        admins_before: p.org.admins(),
    };
    let (stop_tx, stop) = executor::Stop::new();
    let logs = executor::StepLogs::default();
    let run = executor::Run {
        parallelism: args.parallelism,
        progress: &progress,
        started: &step_started,
        checks: &checks,
        stop,
        logs: logs.clone(),
    };
    let signals = &p.signals;
    let ran = p.runtime.block_on(async {
        let exec = executor::execute(&p.client, plan, run);
        tokio::pin!(exec);
        let mut first: Option<Signal> = None;
        loop {
            tokio::select! {
                execution = &mut exec => break Ok((execution, first)),
                s = signals.nth(1), if first.is_none() => {
                    first = Some(s);
                    ctx.ui.note(format_args!(
                        "\n{}: starting no new step; waiting for the requests in flight (send it again to stop at once).",
                        s.name()
                    ));
                    let _ = stop_tx.send(Some(s));
                }
                s = signals.nth(2), if first.is_some() => break Err(s),
            }
        }
    });
    // The bar (on a terminal) leaves the screen before the summary.
    drop(shown);
    match ran {
        Ok((execution, None)) => Ending::Ran(Box::new(execution)),
        Ok((execution, Some(signal))) => Ending::Interrupted(Box::new(execution), signal),
        Err(second) => {
            // Ended at once: the steps in flight were cut off, their outcome unknown.
            let first = signals.first().unwrap_or(second);
            let mut execution = cut_off(
                plan,
                finished.into_inner(),
                &in_flight.into_inner(),
                &logs,
                first,
                second,
            );
            execution.pauses = p.client.pauses();
            Ending::Interrupted(Box::new(execution), first)
        }
    }
}

/// The report after a second signal ended the run at once: the steps that finished, the steps
/// in flight (failed, outcome unknown: an invitation among them may have been sent) and the
/// steps never started.
fn cut_off(
    plan: &Plan,
    mut finished: Vec<executor::StepResult>,
    in_flight: &HashSet<usize>,
    logs: &executor::StepLogs,
    first: Signal,
    second: Signal,
) -> executor::Execution {
    let done: HashSet<usize> = finished.iter().map(|r| r.step.index).collect();
    let mut execution = executor::Execution::nothing_sent(plan, NotAttempted::Interrupted(first));
    execution.halt = Some(executor::Halt::Interrupted {
        by: first,
        ended_by: Some(second),
    });
    execution.steps.retain(|s| !done.contains(&s.step.index));
    for s in &mut execution.steps {
        if in_flight.contains(&s.step.index) {
            s.outcome = executor::Outcome::Failed(executor::Failed {
                may_have_been_sent: s.invites(),
                ..executor::Failed::new(executor::Failure::CutOff(second))
            });
            // Sent, maybe committed: counted (docs/contract.md §8).
            let sent = logs.sent(s.step.index);
            s.attempts = sent.requests;
            s.error_request_ids = sent.error_request_ids;
        }
    }
    execution.steps.append(&mut finished);
    execution.steps.sort_by_key(|s| s.step.index);
    execution
}

/// The guards, re-checked by the executor against fresh reads of the org
/// (docs/contract.md §5).
struct Guards<'a> {
    desired: &'a Desired,
    options: &'a PlanOptions,
    /// Admin members when the plan was made.
    admins_before: usize,
}

impl executor::Checks for Guards<'_> {
    fn refusals(&self, live: LiveState, remaining: &[&Change]) -> Vec<Guard> {
        // The read is moved into the managed view, not copied (100,000 members).
        let org = Managed::new(live, &self.desired.ignore);
        planner::guards_now(self.desired, &org, remaining.iter().copied(), self.options)
            .into_iter()
            .filter(Guard::refuses)
            .collect()
    }

    fn admins_crossed(&self, live: &LiveState) -> Option<(usize, u64)> {
        // Ignored admins count too: every admin member of the org.
        let admins = live.admins();
        let min = self.desired.safety.min_admins;
        ((admins as u64) < min && admins < self.admins_before).then_some((admins, min))
    }
}

/// `plan` without the changes that revert drift (`--drift keep`), its guards checked again for
/// what is left (docs/contract.md §5).
fn without_drift(plan: &Plan, desired: &Desired, org: &Managed, options: &PlanOptions) -> Plan {
    let mut kept = plan.without_drift();
    let changes = kept.changes.iter().map(|c| &c.change);
    kept.guards = planner::guards_now(desired, org, changes, options);
    kept
}

/// The emails of `changes`, each once, in order, for a message: at most 5, then how many more.
fn listed_emails(changes: &[&Change]) -> String {
    let mut seen = HashSet::new();
    let emails: Vec<String> = changes
        .iter()
        .map(|c| c.email())
        .filter(|e| seen.insert(*e))
        .map(|e| crate::escape::escape(e.as_str()).into_owned())
        .collect();
    match emails.len() {
        n if n > 5 => format!("{} and {} more", emails[..5].join(", "), n - 5),
        _ => emails.join(", "),
    }
}

fn read_saved(path: &Path) -> Result<SavedPlan, CommandError> {
    let name = path.display().to_string();
    let bytes =
        crate::parts::read_document(path).map_err(|e| CommandError::bad_plan_file(&name, e))?;
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

mod ending;
#[cfg(test)]
mod tests;
