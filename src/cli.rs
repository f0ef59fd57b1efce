//! The command line: clap types, their translation into a validated [`Config`], and the
//! commands themselves. Exit codes follow SPEC §2.

use crate::apply::{self, Outcome, Progress, StepReport};
use crate::client::{ApiError, Client};
use crate::config::{ApiConfig, Command, Config, ConfigError, Format};
use crate::date::Date;
use crate::desired::{self, Desired, Diagnostic};
use crate::model::{LiveState, Role};
use crate::plan::Plan;
use crate::planner::{self, PlanOptions};
use crate::render;
use crate::saved::{self, Fingerprints, PlanDocument};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// The Scaling API's documented base URL.
pub const DEFAULT_API_URL: &str = "https://api.scaling.cloud/v1";

/// Keep a Scaling organization's members and roles equal to a YAML file kept in git.
#[derive(Parser, Debug)]
#[command(name = "teamsync", version, about, max_term_width = 100)]
pub struct Cli {
    /// The desired-state file.
    #[arg(
        short = 'f',
        long,
        global = true,
        default_value = "teamsync.yaml",
        value_name = "FILE"
    )]
    pub file: PathBuf,
    /// Base URL of the Scaling API.
    #[arg(
        long,
        global = true,
        env = "SCALING_API_URL",
        default_value = DEFAULT_API_URL,
        value_name = "URL"
    )]
    pub api_url: String,
    /// The API key's own account: its role is never changed and it is never removed.
    #[arg(
        long = "self",
        global = true,
        env = "TEAMSYNC_SELF",
        value_name = "EMAIL"
    )]
    pub self_email: Option<String>,
    /// More log output on stderr (-v info, -vv debug); TEAMSYNC_LOG takes a full filter.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Output format of the plan.
    #[arg(long, global = true, value_enum, default_value_t = FormatArg::Text)]
    pub format: FormatArg,
    /// No colour, even on a terminal (NO_COLOR does the same).
    #[arg(long, global = true)]
    pub no_color: bool,
    /// Seconds before a request to the API is given up.
    #[arg(
        long,
        global = true,
        env = "TEAMSYNC_TIMEOUT",
        default_value_t = 30,
        value_name = "SECS"
    )]
    pub timeout: u64,
    /// First retry delay in milliseconds (doubles per attempt, with jitter, up to 30 s).
    #[arg(
        long,
        global = true,
        env = "TEAMSYNC_RETRY_BASE_MS",
        default_value_t = 500,
        hide = true
    )]
    pub retry_base_ms: u64,
    /// Today's date (YYYY-MM-DD, UTC) for `expires`; defaults to the clock.
    #[arg(long, global = true, env = "TEAMSYNC_TODAY", hide = true)]
    pub today: Option<String>,
    #[command(subcommand)]
    pub command: Cmd,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Text,
    Json,
    Markdown,
    Diff,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Check the file alone, offline; every problem as FILE:LINE:COL: message.
    Validate,
    /// Read the org and print what apply would change; changes nothing.
    Plan {
        /// Exit 2 when the plan has changes (0 when none, 1 on error).
        #[arg(long)]
        detailed_exitcode: bool,
        /// Also save the plan (JSON, with fingerprints) for `teamsync apply PLANFILE`.
        #[arg(long, value_name = "PLANFILE")]
        out: Option<PathBuf>,
    },
    /// Re-read the org, print the plan, ask for `yes`, and make the changes.
    Apply {
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
    },
    /// Write the live org as a desired-state file.
    Export {
        /// Write here instead of stdout.
        #[arg(short = 'o', long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Print the JSON Schema of the desired-state file (or, with --plan, of the JSON plan).
    Schema {
        /// The schema of `plan --format json` and saved plans instead.
        #[arg(long)]
        plan: bool,
    },
    /// Print shell completions.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// Everything that ends a command early, by layer.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot read {path}: {source}; create it (see `teamsync export`) or pass -f FILE")]
    ReadFile {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot write {path}: {source}")]
    WriteFile {
        path: String,
        source: std::io::Error,
    },
    #[error("{file} has {count} problem{}; fix {} and run again", if *.count == 1 { "" } else { "s" }, if *.count == 1 { "it" } else { "them" })]
    Invalid { file: String, count: usize },
    #[error("{}{}. {}", .0, .0.ids(), .0.hint())]
    Api(#[source] ApiError),
    #[error(
        "the saved plan {path} is stale: {what}. Nothing was sent; run `teamsync plan --out` again"
    )]
    Stale { path: String, what: String },
    #[error("cannot read the saved plan {path}: {why}")]
    BadPlanFile { path: String, why: String },
    #[error("apply refused by a safety guard, nothing was sent: {0}")]
    Guard(String),
    #[error(
        "refusing to apply without confirmation: stdin is not a terminal. Review the plan, then pass --auto-approve"
    )]
    NoTerminal,
    #[error("apply cancelled: only `yes` is accepted. Nothing was sent")]
    Cancelled,
    #[error("apply finished with {count} step{} failed or not attempted; see above. Run `teamsync apply` again to retry what is left", if *.count == 1 { "" } else { "s" })]
    StepsFailed { count: usize },
}

impl From<ApiError> for RunError {
    fn from(e: ApiError) -> Self {
        RunError::Api(e)
    }
}

impl RunError {
    /// SPEC §2: 3 for a guard, 1 for every other error.
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::Guard(_) => 3,
            _ => 1,
        }
    }
}

/// Parses the command line and runs; the whole binary.
pub fn main() -> ExitCode {
    let parsed = Cli::command()
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m).map(|cli| (cli, m)));
    let (cli, matches) = match parsed {
        Ok(ok) => ok,
        Err(e) => {
            let code = if e.use_stderr() { 1 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    // `-f` may be given before or after the subcommand.
    let explicit = |m: &clap::ArgMatches| {
        m.value_source("file") == Some(clap::parser::ValueSource::CommandLine)
    };
    let file_explicit =
        explicit(&matches) || matches.subcommand().is_some_and(|(_, sub)| explicit(sub));
    // Colour only on a terminal, never with NO_COLOR or --no-color.
    let no_color = cli.no_color || std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let color = !no_color && std::io::stdout().is_terminal();
    init_logging(cli.verbose, !no_color && std::io::stderr().is_terminal());
    let config = match config_from(cli, color) {
        Ok(mut c) => {
            c.file_explicit = file_explicit;
            c
        }
        Err(e) => return fail(&RunError::Config(e)),
    };
    match run(&config) {
        Ok(code) => ExitCode::from(code),
        Err(e) => fail(&e),
    }
}

/// Writes to stdout. A reader that went away (`teamsync plan | head`) is not an error worth a
/// panic: the rest of the output is dropped.
fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
}

/// `eprintln!` that never panics when stderr is closed.
macro_rules! note {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

fn fail(e: &RunError) -> ExitCode {
    let mut err = anstream::stderr();
    let _ = writeln!(err, "error: {e}");
    ExitCode::from(e.exit_code())
}

fn init_logging(verbose: u8, ansi: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = match std::env::var("TEAMSYNC_LOG") {
        Ok(f) if !f.trim().is_empty() => EnvFilter::new(f),
        _ => EnvFilter::new(match verbose {
            0 => "warn",
            1 => "warn,teamsync=info",
            2 => "warn,teamsync=debug",
            _ => "info,teamsync=trace",
        }),
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(false)
        .try_init();
}

/// Turns clap's view into a validated [`Config`].
pub fn config_from(cli: Cli, color: bool) -> Result<Config, ConfigError> {
    let today = match &cli.today {
        Some(t) => Date::parse(t.trim()).ok_or_else(|| ConfigError::BadDate(t.clone()))?,
        None => Date::today_utc(),
    };
    // CI systems set unset variables to "": an empty URL means the default.
    let url = match cli.api_url.trim() {
        "" => DEFAULT_API_URL,
        u => u,
    };
    let api = || -> Result<ApiConfig, ConfigError> {
        let mut api = ApiConfig::new(url, std::env::var("SCALING_API_KEY").ok())?;
        api.timeout = Duration::from_secs(cli.timeout.max(1));
        api.retry.base = Duration::from_millis(cli.retry_base_ms);
        Ok(api)
    };
    let command = match cli.command {
        Cmd::Validate => Command::Validate,
        Cmd::Plan {
            detailed_exitcode,
            ref out,
        } => Command::Plan {
            api: api()?,
            detailed_exitcode,
            out: out.clone(),
        },
        Cmd::Apply {
            auto_approve,
            parallelism,
            allow_mass_removal,
            ref plan_file,
        } => {
            if !(1..=64).contains(&parallelism) {
                return Err(ConfigError::BadParallelism(parallelism));
            }
            Command::Apply {
                api: api()?,
                auto_approve,
                parallelism,
                allow_mass_removal,
                plan_file: plan_file.clone(),
            }
        }
        Cmd::Export { ref output } => Command::Export {
            api: api()?,
            output: output.clone(),
        },
        Cmd::Schema { plan } => Command::Schema { plan },
        Cmd::Completions { shell } => Command::Completions(shell),
    };
    Ok(Config {
        file: cli.file,
        file_explicit: false,
        format: match cli.format {
            FormatArg::Text => Format::Text,
            FormatArg::Json => Format::Json,
            FormatArg::Markdown => Format::Markdown,
            FormatArg::Diff => Format::Diff,
        },
        color,
        self_email: cli.self_email.filter(|s| !s.trim().is_empty()),
        today,
        github_annotations: std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true"),
        command,
    })
}

/// Runs one command; `Ok` carries the exit code.
pub fn run(config: &Config) -> Result<u8, RunError> {
    match &config.command {
        Command::Validate => validate(config),
        Command::Schema { plan } => {
            if *plan {
                out(&crate::schema::plan_schema());
            } else {
                out(&crate::schema::file_schema());
            }
            Ok(0)
        }
        Command::Completions(shell) => {
            clap_complete::generate(
                *shell,
                &mut Cli::command(),
                "teamsync",
                &mut std::io::stdout(),
            );
            Ok(0)
        }
        Command::Plan {
            api,
            detailed_exitcode,
            out,
        } => runtime()?.block_on(plan_cmd(config, api, *detailed_exitcode, out.as_deref())),
        Command::Apply {
            api,
            auto_approve,
            parallelism,
            allow_mass_removal,
            plan_file,
        } => runtime()?.block_on(apply_cmd(
            config,
            api,
            ApplyArgs {
                auto_approve: *auto_approve,
                parallelism: *parallelism,
                allow_mass_removal: *allow_mass_removal,
                plan_file: plan_file.as_deref(),
            },
        )),
        Command::Export { api, output } => runtime()?.block_on(export_cmd(api, output.as_deref())),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, RunError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(RunError::Runtime)
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

/// A loaded file: its bytes' fingerprint and the validated state.
struct LoadedFile {
    desired: Desired,
    fingerprint: String,
}

/// Reads and validates the desired file, printing diagnostics to stderr.
fn load_file(config: &Config, path: &Path) -> Result<LoadedFile, RunError> {
    let name = display(path);
    let bytes = std::fs::read(path).map_err(|source| RunError::ReadFile {
        path: name.clone(),
        source,
    })?;
    let text = String::from_utf8_lossy(&bytes);
    let loaded = desired::load(&text, config.today);
    let mut err = anstream::stderr();
    for w in &loaded.warnings {
        let _ = writeln!(
            err,
            "{name}:{}:{}: warning: {}",
            w.line, w.column, w.message
        );
        annotate(config, "warning", &name, w);
    }
    match loaded.desired {
        Ok(desired) => Ok(LoadedFile {
            desired,
            fingerprint: saved::file_fingerprint(&bytes),
        }),
        Err(errors) => {
            for d in &errors {
                let _ = writeln!(err, "{}", d.render(&name));
                annotate(config, "error", &name, d);
            }
            Err(RunError::Invalid {
                file: name,
                count: errors.len(),
            })
        }
    }
}

/// `::error file=…,line=…,col=…::message` for GitHub Actions.
pub fn annotation(level: &str, file: &str, d: &Diagnostic) -> String {
    fn esc_data(s: &str) -> String {
        s.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    }
    fn esc_prop(s: &str) -> String {
        esc_data(s).replace(':', "%3A").replace(',', "%2C")
    }
    format!(
        "::{level} file={},line={},col={}::{}",
        esc_prop(file),
        d.line,
        d.column,
        esc_data(&d.message)
    )
}

fn annotate(config: &Config, level: &str, file: &str, d: &Diagnostic) {
    if config.github_annotations {
        note!("{}", annotation(level, file, d));
    }
}

fn validate(config: &Config) -> Result<u8, RunError> {
    let loaded = load_file(config, &config.file)?;
    let admins = loaded
        .desired
        .members
        .iter()
        .filter(|m| m.role == Role::Admin)
        .count();
    note!(
        "{} is valid: {} members ({} admin{}).",
        display(&config.file),
        loaded.desired.members.len(),
        admins,
        if admins == 1 { "" } else { "s" }
    );
    Ok(0)
}

fn plan_options(config: &Config, allow_mass_removal: bool) -> PlanOptions {
    PlanOptions {
        self_email: config.self_email.clone(),
        today: config.today,
        allow_mass_removal,
    }
}

fn render(
    config: &Config,
    plan: &Plan,
    live: &LiveState,
    desired: &Desired,
    fingerprints: &Fingerprints,
    file: &str,
) -> String {
    match config.format {
        Format::Text => render::text(plan, file, config.color),
        Format::Json => {
            let doc = PlanDocument::new(plan, file, fingerprints.clone());
            serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
        }
        Format::Markdown => render::markdown(plan, file),
        Format::Diff => render::diff(live, desired, plan, file),
    }
}

/// A plan with what it was computed from.
struct Computed {
    plan: Plan,
    snapshot: Vec<String>,
    fingerprints: Fingerprints,
}

fn compute(
    config: &Config,
    file: &LoadedFile,
    live: &LiveState,
    allow_mass_removal: bool,
) -> Computed {
    let plan = planner::plan(
        &file.desired,
        live,
        &plan_options(config, allow_mass_removal),
    );
    let snapshot = saved::live_snapshot(live, &file.desired);
    let fingerprints = Fingerprints {
        desired_file: file.fingerprint.clone(),
        live_state: saved::live_fingerprint(&snapshot),
    };
    Computed {
        plan,
        snapshot,
        fingerprints,
    }
}

/// Prints the plan in the chosen format on stdout.
fn show(
    config: &Config,
    plan: &Plan,
    live: &LiveState,
    file: &LoadedFile,
    fingerprints: &Fingerprints,
    name: &str,
) {
    out(&render(
        config,
        plan,
        live,
        &file.desired,
        fingerprints,
        name,
    ));
}

async fn read_live(api: &ApiConfig) -> Result<(Client, LiveState), RunError> {
    let client = Client::new(api)?;
    let live = client.list().await?;
    Ok((client, live))
}

async fn plan_cmd(
    config: &Config,
    api: &ApiConfig,
    detailed: bool,
    save_to: Option<&Path>,
) -> Result<u8, RunError> {
    let file = load_file(config, &config.file)?;
    let (_, live) = read_live(api).await?;
    let Computed {
        plan,
        snapshot,
        fingerprints,
    } = compute(config, &file, &live, false);
    let name = display(&config.file);
    show(config, &plan, &live, &file, &fingerprints, &name);
    if let Some(save_to) = save_to {
        let mut doc = PlanDocument::new(&plan, &name, fingerprints);
        doc.live_snapshot = Some(snapshot);
        let json = serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n";
        write_atomically(save_to, json.as_bytes())?;
        note!(
            "Saved the plan to {}; apply it with `teamsync apply {}`.",
            display(save_to),
            display(save_to)
        );
    }
    Ok(if detailed && !plan.is_empty() { 2 } else { 0 })
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), RunError> {
    let err = |source| RunError::WriteFile {
        path: display(path),
        source,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("teamsync"),
        std::process::id()
    ));
    std::fs::write(&tmp, bytes).map_err(err)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        err(e)
    })
}

struct ApplyArgs<'a> {
    auto_approve: bool,
    parallelism: usize,
    allow_mass_removal: bool,
    plan_file: Option<&'a Path>,
}

async fn apply_cmd(config: &Config, api: &ApiConfig, args: ApplyArgs<'_>) -> Result<u8, RunError> {
    let saved_doc = match args.plan_file {
        Some(p) => Some(read_plan_file(p)?),
        None => None,
    };
    // A saved plan names its desired file; apply checks that very file.
    if let (Some(doc), true) = (&saved_doc, config.file_explicit) {
        let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => a == b,
        };
        if !same(Path::new(&doc.desired_file), &config.file) {
            return Err(RunError::BadPlanFile {
                path: args.plan_file.map(display).unwrap_or_default(),
                why: format!(
                    "it was made from {}, not {}; run `teamsync plan -f {} --out PLANFILE` again, or apply it without -f",
                    doc.desired_file,
                    display(&config.file),
                    display(&config.file)
                ),
            });
        }
    }
    let file_path = saved_doc
        .as_ref()
        .map(|d| PathBuf::from(&d.desired_file))
        .unwrap_or_else(|| config.file.clone());
    let file = load_file(config, &file_path)?;
    let (client, live) = read_live(api).await?;
    let Computed {
        mut plan,
        snapshot,
        fingerprints,
    } = compute(config, &file, &live, args.allow_mass_removal);
    if let (Some(doc), Some(path)) = (&saved_doc, args.plan_file) {
        check_fresh(
            doc,
            &fingerprints,
            &snapshot,
            &plan,
            &display(path),
            &display(&file_path),
        )?;
        // Exactly the saved changes; guards are recomputed for this run's flags.
        plan.changes = doc.changes.clone();
        plan.blocked = doc.blocked.clone();
    }
    let name = display(&file_path);
    show(config, &plan, &live, &file, &fingerprints, &name);
    if plan.changes.is_empty() {
        if !plan.blocked.is_empty() {
            note!(
                "Nothing to send: {} blocked change{} remain{} (see above).",
                plan.blocked.len(),
                if plan.blocked.len() == 1 { "" } else { "s" },
                if plan.blocked.len() == 1 { "s" } else { "" }
            );
        } else if config.format != Format::Text {
            note!("No changes.");
        }
        return Ok(0);
    }
    let refusing: Vec<String> = plan.refusing_guards().map(|g| g.message.clone()).collect();
    if !refusing.is_empty() {
        return Err(RunError::Guard(refusing.join("; ")));
    }
    if !args.auto_approve {
        if !std::io::stdin().is_terminal() {
            return Err(RunError::NoTerminal);
        }
        let _ = write!(
            std::io::stderr(),
            "\nApply {} change{} to the org at {}?\n  Only 'yes' will be accepted: ",
            plan.changes.len(),
            if plan.changes.len() == 1 { "" } else { "s" },
            api.base_url
        );
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().read_line(&mut answer);
        if answer.trim() != "yes" {
            return Err(RunError::Cancelled);
        }
    }
    let progress: Progress = Arc::new(|r: &StepReport, n: usize, total: usize| {
        note!("[{n}/{total}] {}", step_line(r));
    });
    let report = apply::execute(&client, &plan, args.parallelism, progress).await;
    let mut err = anstream::stderr();
    let _ = writeln!(
        err,
        "\nApply finished: {} done, {} blocked, {} failed{}.",
        report.done(),
        report.blocked(),
        report.failed(),
        if report.skipped() > 0 {
            format!(", {} not attempted", report.skipped())
        } else {
            String::new()
        }
    );
    for c in &report.blocked_in_plan {
        let _ = writeln!(
            err,
            "  warning: blocked: {}: {}",
            render::describe(c),
            c.blocked_reason.as_deref().unwrap_or("blocked")
        );
    }
    for s in &report.steps {
        match &s.outcome {
            Outcome::Blocked(why) => {
                let _ = writeln!(err, "  warning: blocked: {}: {why}", step_what(s));
            }
            Outcome::Failed { .. } => {
                let _ = writeln!(err, "  failed: {}", step_line(s));
            }
            _ => {}
        }
    }
    if report.success() {
        Ok(0)
    } else {
        Err(RunError::StepsFailed {
            count: report.failed() + report.skipped(),
        })
    }
}

fn step_what(r: &StepReport) -> String {
    r.step
        .changes
        .iter()
        .map(render::describe)
        .collect::<Vec<_>>()
        .join(", then ")
}

fn step_line(r: &StepReport) -> String {
    let what = step_what(r);
    let sym = render::symbol(
        r.step
            .changes
            .last()
            .map(|c| c.action)
            .unwrap_or(crate::plan::Action::Invite),
    );
    match &r.outcome {
        Outcome::Done if r.confirmed_by_reread => {
            format!("{sym} {what}: done (confirmed by reading the org again)")
        }
        Outcome::Done => format!("{sym} {what}: done"),
        Outcome::Blocked(why) => format!("! {what}: blocked: {why}"),
        Outcome::Skipped(why) => format!("  {what}: {why}"),
        Outcome::Failed {
            message,
            code,
            request_id,
            ..
        } => {
            let mut ids = Vec::new();
            if let Some(c) = code {
                ids.push(format!("code {c}"));
            }
            if let Some(r) = request_id {
                ids.push(format!("requestId {r}"));
            }
            let ids = if ids.is_empty() {
                String::new()
            } else {
                format!(" ({})", ids.join(", "))
            };
            format!("{sym} {what}: FAILED: {message}{ids}")
        }
    }
}

fn read_plan_file(path: &Path) -> Result<PlanDocument, RunError> {
    let bad = |why: String| RunError::BadPlanFile {
        path: display(path),
        why,
    };
    let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let doc: PlanDocument =
        serde_json::from_slice(&bytes).map_err(|e| bad(format!("not a teamsync plan ({e})")))?;
    if doc.format_version != saved::FORMAT_VERSION {
        return Err(bad(format!(
            "format_version {} is not {}",
            doc.format_version,
            saved::FORMAT_VERSION
        )));
    }
    if doc.live_snapshot.is_none() {
        return Err(bad(
            "it has no live snapshot; save plans with `teamsync plan --out PLANFILE`".into(),
        ));
    }
    Ok(doc)
}

fn check_fresh(
    doc: &PlanDocument,
    now: &Fingerprints,
    snapshot: &[String],
    replanned: &Plan,
    path: &str,
    file: &str,
) -> Result<(), RunError> {
    let stale = |what: String| RunError::Stale {
        path: path.to_string(),
        what,
    };
    let mut what = Vec::new();
    if doc.fingerprints.desired_file != now.desired_file {
        what.push(format!("{file} changed since the plan was made"));
    }
    if doc.fingerprints.live_state != now.live_state {
        let drift =
            saved::describe_drift(doc.live_snapshot.as_deref().unwrap_or_default(), snapshot);
        what.push(format!(
            "the org changed since the plan was made: {}",
            drift.join("; ")
        ));
    }
    if !what.is_empty() {
        return Err(stale(what.join("; and ")));
    }
    if replanned.changes != doc.changes || replanned.blocked != doc.blocked {
        return Err(stale("the same file and org now give a different plan (a member's `expires` date passed, or --self changed)".into()));
    }
    Ok(())
}

async fn export_cmd(api: &ApiConfig, output: Option<&Path>) -> Result<u8, RunError> {
    let (_, live) = read_live(api).await?;
    let exported = crate::export::export(&live);
    let mut summary = format!(
        "{} entries ({} pending invitation{})",
        exported.entries,
        exported.invitations,
        if exported.invitations == 1 { "" } else { "s" }
    );
    if exported.ignored > 0 {
        summary.push_str(&format!(
            ", {} under `ignore` (roles teamsync does not manage)",
            exported.ignored
        ));
    }
    if exported.redundant_invitations > 0 {
        summary.push_str(&format!(
            "; `plan` on it will revoke {} redundant invitation{}",
            exported.redundant_invitations,
            if exported.redundant_invitations == 1 {
                ""
            } else {
                "s"
            }
        ));
    }
    match output {
        Some(path) => {
            write_atomically(path, exported.yaml.as_bytes())?;
            note!("Wrote {summary} to {}.", display(path));
        }
        None => {
            out(&exported.yaml);
            note!("Exported {summary}.");
        }
    }
    Ok(0)
}
