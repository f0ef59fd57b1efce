//! One file per command: each pairs its clap arguments with the function that runs it. What
//! several commands share (loading the file, reading the org, writing a file) is here.

pub(crate) mod adopt;
pub(crate) mod apply;
pub(crate) mod completions;
pub(crate) mod export;
pub(crate) mod plan;
pub(crate) mod schema;
pub(crate) mod validate;

use crate::cli::Command;
use crate::client::Client;
use crate::config::{ApiConfig, Config};
use crate::desired::{self, Desired};
use crate::error::CommandError;
use crate::live::{LiveState, Managed};
use crate::saved;
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

    /// Reads and validates a desired file, printing its problems on stderr.
    pub(crate) fn load(&self, path: &Path) -> Result<LoadedFile, CommandError> {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| CommandError::ReadFile {
            path: name.clone(),
            source,
        })?;
        let loaded = desired::load_bytes(&bytes, self.config.today);
        for w in &loaded.warnings {
            self.ui.diagnostic(Level::Warning, &name, w);
        }
        match loaded.desired {
            Ok(desired) => Ok(LoadedFile {
                desired,
                fingerprint: saved::file_fingerprint(&bytes),
                name,
            }),
            Err(errors) => {
                for d in &errors {
                    self.ui.diagnostic(Level::Error, &name, d);
                }
                Err(CommandError::Invalid {
                    file: name,
                    count: errors.len(),
                })
            }
        }
    }
}

/// A desired file, validated.
pub(crate) struct LoadedFile {
    pub(crate) desired: Desired,
    /// `sha256:` of its bytes.
    pub(crate) fingerprint: String,
    /// Its path as given, for messages.
    pub(crate) name: String,
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
pub(crate) fn append_step_summary(ctx: &Context, markdown: &str) {
    let Some(path) = &ctx.config.step_summary else {
        return;
    };
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
        source,
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
