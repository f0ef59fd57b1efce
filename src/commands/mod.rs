//! One file per command: each pairs its clap arguments with the function that runs it. What
//! several commands share (loading the file, reading the org) is here; writing a file is
//! [`output`].

pub(crate) mod adopt;
pub(crate) mod apply;
pub(crate) mod completions;
pub(crate) mod export;
pub(crate) mod output;
pub(crate) mod plan;
pub(crate) mod review;
pub(crate) mod schema;
pub(crate) mod snapshot;
pub(crate) mod validate;

use crate::api::ApiConfig;
use crate::api::Client;
use crate::config::Config;
use crate::desired::{self, Loaded, LoadedFile};
use crate::error::CommandError;
use crate::interrupt::Signal;
use crate::live::{LiveSource, LiveState, ReadFrom};
use crate::parts;
use crate::ui::{Level, Ui};
use output::{Existing, Inputs, Output};
pub(crate) use output::{write_atomically, write_atomically_checked};
use std::io::Write as _;
use std::path::Path;

/// The commands (`teamsync COMMAND`), each with its own flags.
#[derive(clap::Subcommand, Debug)]
pub(crate) enum Command {
    /// Check the file alone, offline; every problem as FILE:LINE:COL: message.
    Validate(validate::Args),
    /// Read the org and print what apply would change; changes nothing.
    Plan(plan::Args),
    /// Re-read the org, print the plan, ask for `yes`, and make the changes.
    Apply(apply::Args),
    /// Write the live org as a desired-state file.
    Export(export::Args),
    /// Read the org and edit the file in place to accept its drift; prints the file's diff.
    Adopt(adopt::Args),
    /// Read the org and write it as a snapshot, for `plan --live` without a key.
    Snapshot(snapshot::Args),
    /// An access review of the file from its git history: who holds which role, why, since
    /// when, approved in which pull request; no key, no request.
    Review(review::Args),
    /// Print the JSON Schema of the desired-state file (or of the JSON plan, the apply report,
    /// the org snapshot, the access review).
    Schema(schema::Args),
    /// Print shell completions.
    Completions(completions::Args),
}

/// What every command gets: the checked configuration and the one output channel.
pub(crate) struct Context<'a> {
    pub(crate) config: &'a Config,
    pub(crate) ui: &'a Ui,
    /// The whole command-line definition, for `completions` (it lives above the commands, in
    /// `crate::cli`, which the commands do not import).
    pub(crate) cli: fn() -> clap::Command,
}

/// Runs one command; `Ok` carries the exit code (0, or 2 for `plan --detailed-exitcode`).
pub(crate) fn run(command: &Command, ctx: &Context) -> Result<u8, CommandError> {
    match command {
        Command::Validate(args) => validate::run(ctx, args),
        Command::Plan(args) => plan::run(ctx, args),
        Command::Apply(args) => apply::run(ctx, args),
        Command::Export(args) => export::run(ctx, args),
        Command::Adopt(args) => adopt::run(ctx, args),
        Command::Review(args) => review::run(ctx, args),
        Command::Schema(args) => schema::run(ctx, args),
        Command::Snapshot(args) => snapshot::run(ctx, args),
        Command::Completions(args) => completions::run(ctx, args),
    }
}

impl Context<'_> {
    /// The emails of the org's drift that `teamsync adopt` would keep in `desired`, for the
    /// plan's pointer to it (docs/contract.md §8): plan and apply name the same ones.
    pub(crate) fn adoptable(
        &self,
        desired: &crate::desired::Desired,
        live: &LiveState,
    ) -> std::collections::HashSet<crate::email::Email> {
        crate::adopt::keeps(
            desired,
            live,
            self.config.today,
            self.config.self_email.clone(),
        )
    }

    /// The API's settings, or why they are unusable (no key, plain http off loopback, …).
    pub(crate) fn api(&self) -> Result<&ApiConfig, CommandError> {
        self.config.api.as_ref().map_err(|e| e.clone().into())
    }

    /// A client for the API, its pauses announced through the `Ui` (docs/contract.md §10).
    pub(crate) fn client(&self) -> Result<Client, CommandError> {
        Ok(Client::new(self.api()?)?.with_notes(self.ui.notes()))
    }

    /// The output `flag` names, checked before any request against the desired state `-f`
    /// names (docs/contract.md §6): [`Output::check`].
    pub(crate) fn output(
        &self,
        path: &Path,
        flag: &'static str,
        existing: Existing,
    ) -> Result<Output, CommandError> {
        Output::check(path, flag, &Inputs::desired(&self.config.file), existing)
    }

    /// Reads and loads the desired state `-f path` names (docs/contract.md §3, §10), the parts
    /// parsed on every core: [`desired::load`], its problems printed by
    /// [`Context::print_load`].
    pub(crate) fn load(&self, path: &Path) -> Result<LoadedFile, CommandError> {
        let started = std::time::Instant::now();
        let sources = parts::read(path)?;
        let file = self.print_load(desired::load(sources, self.config.today, desired::cores()));
        tracing::debug!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            "desired state loaded"
        );
        file
    }

    /// Prints a load's warnings and errors on stderr, each at its part; the desired state when
    /// it is valid, else the error that ends the command.
    pub(crate) fn print_load(&self, loaded: Loaded) -> Result<LoadedFile, CommandError> {
        for w in &loaded.warnings {
            self.ui.diagnostic(Level::Warning, loaded.part_name(w), w);
        }
        match loaded.desired {
            Ok(desired) => Ok(LoadedFile {
                desired,
                fingerprint: loaded.fingerprint,
                name: loaded.name,
                parts: loaded.parts,
            }),
            Err(ref errors) => {
                for d in errors {
                    self.ui.diagnostic(Level::Error, loaded.part_name(d), d);
                }
                Err(CommandError::Invalid {
                    count: errors.len(),
                    file: loaded.name,
                })
            }
        }
    }
}

/// Reads the whole org, as `plan`, `apply` and `snapshot` read it (docs/contract.md §4), and
/// says where from and when (docs/contract.md §9): the base URL, without credentials, and the
/// time the read started. The read races `interrupt`: apply's first signal ends it at once,
/// nothing having been sent (docs/contract.md §5); the other commands pass a future that never
/// comes (a signal ends them as it ends any process).
pub(crate) fn read_live(
    ctx: &Context,
    runtime: &tokio::runtime::Runtime,
    client: &Client,
    interrupt: impl Future<Output = Signal>,
) -> Result<(LiveState, LiveSource), CommandError> {
    let url = crate::api::redact_url(ctx.api()?.base_url.as_str().trim_end_matches('/'));
    let read_at = ctx.config.now();
    let started = std::time::Instant::now();
    let read = runtime.block_on(async {
        tokio::select! {
            listed = client.list() => Ok(listed),
            signal = interrupt => Err(signal),
        }
    });
    let live: LiveState = match read {
        // Nobody else holds this read: no copy is made.
        Ok(listed) => std::sync::Arc::unwrap_or_clone(listed?),
        Err(signal) => return Err(CommandError::interrupted(signal, None)),
    };
    tracing::debug!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "org listed"
    );
    let source = LiveSource {
        from: ReadFrom::Api { url },
        age_seconds: read_at.seconds_until(&ctx.config.now()),
        read_at,
    };
    Ok((live, source))
}

/// Reads the org for a command that only reads it (plan, snapshot, export, adopt): on a
/// runtime of its own, and with no signal handling of its own (a signal ends it as it ends any
/// process); apply, which keeps its client and runtime to write, calls [`read_live`].
pub(crate) fn read_org(
    ctx: &Context,
    client: &Client,
) -> Result<(LiveState, LiveSource), CommandError> {
    read_live(ctx, &runtime()?, client, std::future::pending())
}

/// Leaves `value` to the process's end rather than freeing it: a command calls this with its
/// large data (the desired state, the org, the plan) just before it returns, and the process
/// exits next. Freeing 100,000 members, the org's list and the plan entry by entry took 7 ms of
/// `teamsync plan`'s 200 at that size (docs/performance.md, "Plan at 100,000 members"); the
/// memory is the system's again at exit either way. Only for memory: nothing whose drop does
/// something (a file, a lock, a temp file) is passed here.
pub(crate) fn leave_to_exit<T>(value: T) {
    std::mem::forget(value);
}

/// The async runtime the network commands run on.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, CommandError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(CommandError::Runtime)
}

/// Warns, before apply's first write, when the job summary `GITHUB_STEP_SUMMARY` names cannot
/// be appended to: found then rather than after the writes, and still only a warning
/// (docs/contract.md §6). Nothing is written to it.
pub(crate) fn check_step_summary(ctx: &Context) {
    let Some(path) = &ctx.config.step_summary else {
        return;
    };
    let writable = match std::fs::metadata(path) {
        // Appended to in place: the file itself must take writes.
        Ok(m) if m.is_file() => std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map(drop),
        _ => output::probe(path),
    };
    if let Err(e) = writable {
        ctx.ui.warning(format_args!(
            "the job summary {} cannot be written ({e}): apply goes on without it",
            crate::escape::escape(&path.display().to_string())
        ));
    }
}

/// Appends `markdown` to the GitHub job summary when `GITHUB_STEP_SUMMARY` names a file
/// (docs/contract.md §6). A summary that cannot be written is a warning: the command's own
/// outcome stands.
pub(crate) fn append_step_summary(ctx: &Context, markdown: impl FnOnce() -> String) {
    let Some(path) = &ctx.config.step_summary else {
        return;
    };
    // Rendered only when there is a summary to append to (a plan of 100,000 members).
    let markdown = markdown();
    let appended = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(format!("{markdown}\n").as_bytes()));
    if let Err(e) = appended {
        ctx.ui.warning(format_args!(
            "cannot append to the job summary {}: {e}",
            crate::escape::escape(&path.display().to_string())
        ));
    }
}
