//! The command layer's errors: everything that ends a command early, each with what to do next,
//! mapped once to an exit code (docs/contract.md §2).

use crate::api::ApiError;
use crate::config::ConfigError;
use crate::formats::plan::LiveSourceWire;
use crate::formats::saved::{BadPlanFile, Outdated};
use crate::interrupt::Signal;
use crate::parts::PartsError;
use crate::plan::{Guard, Phase};
use crate::render;
use crate::words::{one_or_many, plural};

#[derive(Debug, thiserror::Error)]
pub(crate) enum CommandError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot read {path}: {source}; create it (see `teamsync export`) or pass -f FILE")]
    ReadFile {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Parts(PartsError),
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot write {path}: {source}")]
    WriteFile {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "refusing {flag} {path}: it {what}, and teamsync never writes an output over an input. Nothing was sent; name another file"
    )]
    OutputIsInput {
        flag: &'static str,
        path: String,
        what: String,
    },
    #[error(
        "refusing {flag} {path}: the file exists. Pass --force to replace it, or name a new file; nothing was read from the org"
    )]
    OutputExists { flag: &'static str, path: String },
    #[error("cannot adopt into {file}: {why}")]
    Adopt { file: String, why: String },
    #[error("{file} has {count} problem{}; fix {} and run again", plural(*.count), one_or_many(*.count, "it", "them"))]
    Invalid { file: String, count: usize },
    #[error("{}", .0.explain())]
    Api(#[from] ApiError),
    #[error(
        "the saved plan {path} is stale: {}. Nothing was sent; run `teamsync plan --out` again",
        outdated_words(.outdated, .file, .made_from.as_deref())
    )]
    PlanOutdated {
        path: String,
        /// What changed.
        outdated: Outdated,
        /// The desired file, as named in messages.
        file: String,
        /// What the saved plan was made against (a snapshot is named in the message).
        made_from: Option<Box<LiveSourceWire>>,
    },
    #[error("cannot read the saved plan {path}: {why}")]
    BadPlanFile { path: String, why: String },
    #[error("cannot read the baseline {path}: {why}")]
    Baseline { path: String, why: String },
    #[error("cannot read the snapshot {path}: {why}; make one with `teamsync snapshot -o FILE`")]
    BadSnapshot { path: String, why: String },
    #[error("{0}")]
    OrgMismatch(Box<OrgMismatch>),
    #[error(
        "--commit `{0}` is not a commit: give the commit's hexadecimal name (`git rev-parse HEAD`)"
    )]
    BadCommit(String),
    #[error(
        "apply refused by --drift refuse, nothing was sent: the plan reverts {count} change{} made in the org outside the file ({}). Keep them with `teamsync adopt`, leave them with --drift keep, or revert them with --drift revert",
        plural(*.count),
        .emails
    )]
    DriftRefused { count: usize, emails: String },
    #[error("--drift {mode} needs to know the edit from drift: {why}")]
    DriftWithoutOrigins { mode: &'static str, why: String },
    #[error("apply refused by a safety guard, nothing was sent: {}", render::refusals(.0))]
    Guard(Vec<Guard>),
    #[error(
        "refusing to apply without confirmation: stdin is not a terminal. Review the plan, then pass --auto-approve"
    )]
    NoTerminal,
    #[error("apply cancelled: only `yes` is accepted. Nothing was sent")]
    Cancelled,
    #[error(
        "apply stopped by a safety guard before phase {}, because the org changed while applying: {}. The phases before it were applied; nothing more was sent",
        *.phase as u8,
        render::refusals(.guards)
    )]
    GuardMidway { phase: Phase, guards: Vec<Guard> },
    #[error(
        "after apply the org has fewer admins than safety.min_admins (see above): check it now (another apply or a dashboard change at the same time?)"
    )]
    GuardCrossed,
    #[error("{}", interrupted_text(signal, *not_attempted))]
    Interrupted {
        signal: &'static str,
        code: u8,
        /// `None` when nothing had been sent.
        not_attempted: Option<usize>,
    },
    #[error("apply finished with {count} step{} failed or not attempted; see above. Run `teamsync apply` again to retry what is left", plural(*.count))]
    StepsFailed { count: usize },
    /// A 401 in the middle of the writes: running again with the same key fails the same way
    /// (docs/contract.md §5).
    #[error("the API refused the key in the middle of apply (401): {count} step{} failed or not attempted; see above. Replace the key (SCALING_API_KEY, or the file SCALING_API_KEY_FILE names) with a working org admin's key before running `teamsync apply` again", plural(*.count))]
    KeyRefusedMidway { count: usize },
}

/// A document of another org than the desired file names (docs/contract.md §9).
#[derive(Debug, thiserror::Error)]
#[error(
    "{file} names the org `{file_org}`, but {what} {path} is of the org `{other_org}`; {hint}. Nothing was sent"
)]
pub(crate) struct OrgMismatch {
    /// The desired file, as named in messages.
    pub(crate) file: String,
    pub(crate) file_org: String,
    /// `the snapshot`, `the baseline`, `the saved plan`.
    pub(crate) what: &'static str,
    pub(crate) path: String,
    pub(crate) other_org: String,
    /// What to do next.
    pub(crate) hint: &'static str,
}

impl CommandError {
    /// 3 for a safety guard (nothing was sent), 1 for every other error.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            CommandError::Guard(_)
            | CommandError::GuardMidway { .. }
            | CommandError::DriftRefused { .. } => 3,
            CommandError::Interrupted { code, .. } => *code,
            _ => 1,
        }
    }

    /// `signal` ended apply; `not_attempted` steps were left (`None`: nothing had been sent).
    pub(crate) fn interrupted(signal: Signal, not_attempted: Option<usize>) -> CommandError {
        CommandError::Interrupted {
            signal: signal.name(),
            code: signal.exit_code(),
            not_attempted,
        }
    }

    pub(crate) fn bad_plan_file(path: &str, why: impl ToString) -> CommandError {
        CommandError::BadPlanFile {
            path: path.to_string(),
            why: why.to_string(),
        }
    }
}

fn interrupted_text(signal: &str, not_attempted: Option<usize>) -> String {
    match not_attempted {
        None => format!("interrupted by {signal} before anything was sent"),
        // Every step had started: the ones cut off are listed above as failed.
        Some(0) => format!(
            "apply interrupted by {signal}. Run `teamsync apply` again to finish: it reads the org first, so nothing is sent twice"
        ),
        Some(n) => format!(
            "apply interrupted by {signal}: {n} step{} not attempted (listed above). Run `teamsync apply` again to finish: it reads the org first, so nothing is sent twice",
            plural(n)
        ),
    }
}

impl From<(&str, BadPlanFile)> for CommandError {
    fn from((path, why): (&str, BadPlanFile)) -> CommandError {
        CommandError::bad_plan_file(path, why)
    }
}

impl From<PartsError> for CommandError {
    fn from(e: PartsError) -> CommandError {
        match e {
            PartsError::Read { path, source } => CommandError::ReadFile { path, source },
            e => CommandError::Parts(e),
        }
    }
}
/// What makes a saved plan stale, in words: the file changed, the org changed (each email that
/// did), or planning again gives other changes. A plan made from a snapshot (docs/contract.md
/// §9) is checked against a fresh read like any other; the message says which snapshot it was.
fn outdated_words(outdated: &Outdated, file: &str, made_from: Option<&LiveSourceWire>) -> String {
    match outdated {
        Outdated::Changed {
            file_changed,
            org_drift,
        } => {
            let mut what = Vec::new();
            if *file_changed {
                what.push(format!("{file} changed since the plan was made"));
            }
            if !org_drift.is_empty() {
                let since = match made_from {
                    Some(LiveSourceWire::Snapshot { snapshot, read_at }) => format!(
                        "since the snapshot the plan was made from ({snapshot}, read at {read_at})"
                    ),
                    _ => "since the plan was made".to_string(),
                };
                what.push(format!("the org changed {since}: {}", org_drift.join("; ")));
            }
            what.join("; and ")
        }
        Outdated::Differs => "the plan file does not match what teamsync would plan now from the same file and org (the plan file was edited, a date it depends on passed, or --self changed)".into(),
    }
}
