//! One file per command: each pairs its clap arguments with the function that runs it. What
//! several commands share (loading the file, reading the org, writing a file) is here.

pub(crate) mod adopt;
pub(crate) mod apply;
pub(crate) mod completions;
pub(crate) mod export;
pub(crate) mod plan;
pub(crate) mod schema;
pub(crate) mod validate;

use crate::api::Client;
use crate::cli::Command;
use crate::config::{ApiConfig, Config};
use crate::desired::{self, Desired, Loaded, LoadedFile};
use crate::error::CommandError;
use crate::live::{LiveState, Managed};
use crate::parts;
use crate::ui::{Level, Ui};
use std::io::Write as _;
use std::path::Path;

/// What every command gets: the checked configuration and the one output channel.
pub(crate) struct Context<'a> {
    pub(crate) config: &'a Config,
    pub(crate) ui: &'a Ui,
}

/// Runs one command; `Ok` carries the exit code (0, or 2 for `plan --detailed-exitcode`).
pub(crate) fn run(command: &Command, ctx: &Context) -> Result<u8, CommandError> {
    match command {
        Command::Validate(args) => validate::run(ctx, args),
        Command::Plan(args) => plan::run(ctx, args),
        Command::Apply(args) => apply::run(ctx, args),
        Command::Export(args) => export::run(ctx, args),
        Command::Adopt(args) => adopt::run(ctx, args),
        Command::Schema(args) => schema::run(ctx, args),
        Command::Completions(args) => completions::run(ctx, args),
    }
}

impl Context<'_> {
    /// The API's settings, or why they are unusable (no key, plain http off loopback, …).
    pub(crate) fn api(&self) -> Result<&ApiConfig, CommandError> {
        self.config.api.as_ref().map_err(|e| e.clone().into())
    }

    /// Reads and loads the desired state `-f path` names (docs/contract.md §3, §10) on every
    /// core: [`desired::load`], its problems printed by [`Context::print_load`].
    pub(crate) fn load(&self, path: &Path) -> Result<LoadedFile, CommandError> {
        self.load_on(path, desired::cores())
    }

    /// [`Context::load`] with the parts parsed on up to `threads` threads.
    fn load_on(&self, path: &Path, threads: usize) -> Result<LoadedFile, CommandError> {
        let sources = parts::read(path)?;
        self.print_load(desired::load(sources, self.config.today, threads))
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

impl Context<'_> {
    /// Loads the desired state (as [`Context::load`]) while the org's list is read, and leaves
    /// out of the org what the file ignores. The list request does not depend on the file, so
    /// it starts first and the file is parsed while the API answers (docs/contract.md §10: a
    /// 100,000-member org plans in half a second). An invalid file still ends the command with
    /// its problems; the list read so far is dropped.
    pub(crate) fn load_with_org(
        &self,
        path: &Path,
        client: &Client,
        runtime: &tokio::runtime::Runtime,
    ) -> Result<(LoadedFile, Managed), CommandError> {
        let started = std::time::Instant::now();
        let lister = client.clone();
        let listing = runtime.spawn(async move {
            let listed = lister.list().await;
            tracing::debug!(
                elapsed_ms = started.elapsed().as_millis() as u64,
                "org listed"
            );
            listed
        });
        // The list is parsed on one core while the file is: the parts get the others (on two
        // cores, one: parsing them on both only slowed the list down, README Performance).
        let threads = desired::cores().saturating_sub(1).max(1);
        let file = match self.load_on(path, threads) {
            Ok(file) => file,
            Err(e) => {
                listing.abort();
                return Err(e);
            }
        };
        tracing::debug!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            "desired state loaded"
        );
        let live: LiveState = match runtime.block_on(listing) {
            Ok(listed) => listed?,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => return Err(CommandError::Runtime(std::io::Error::other(e))),
        };
        let org = Managed::new(live, &file.desired.ignore);
        Ok((file, org))
    }
}

/// Reads the whole org and leaves out what `desired` ignores.
pub(crate) async fn read_org(client: &Client, desired: &Desired) -> Result<Managed, CommandError> {
    let live: LiveState = client.list().await?;
    Ok(Managed::new(live, &desired.ignore))
}

/// The async runtime the network commands run on.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, CommandError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(CommandError::Runtime)
}

/// Appends `markdown` to the GitHub job summary when `GITHUB_STEP_SUMMARY` names a file
/// (docs/contract.md §8). A summary that cannot be written is a warning: the command's own
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
        ctx.ui.note(format_args!(
            "warning: cannot append to the job summary {}: {e}",
            crate::escape::escape(&path.display().to_string())
        ));
    }
}

/// Writes `bytes` to `path` so that a reader sees the old file or the new one, never half of
/// one: a temporary file with an unpredictable name beside it, synced, then renamed over it
/// (and removed if anything fails).
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), CommandError> {
    let err = |source| CommandError::WriteFile {
        path: path.display().to_string(),
        source: without_temp_path(source),
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(err)?;
    tmp.write_all(bytes).map_err(err)?;
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

/// The OS error behind one of `tempfile`'s, whose message also names the random temporary
/// file: the user named `path`, and a message that changes every run helps nobody.
fn without_temp_path(e: std::io::Error) -> std::io::Error {
    // tempfile's message is "{the OS error} at path {the temporary file:?}".
    let text = e.to_string();
    match text.find(" at path \"") {
        Some(at) => std::io::Error::new(e.kind(), text[..at].to_string()),
        None => e,
    }
}
