//! How apply ends, as one type ([`Ending`]): the exit code, the closing summary, the report's
//! `ending`, `guard`, `signal` and `message`, and why the steps were not attempted all follow
//! from it (docs/contract.md §2, §5, §6). [`Finisher`] turns an ending into the report file,
//! the job summary and the result.

use super::super::output::Output;
use super::super::plan::Computed;
use super::super::{Context, append_step_summary};
use crate::error::CommandError;
use crate::executor::{Execution, Halt, NotAttempted};
use crate::formats::plan::LiveSourceWire;
use crate::formats::report::{DriftReport, Ending as Word, Header, ReportDocument};
use crate::formats::saved::Outdated;
use crate::interrupt::Signal;
use crate::origin::{DriftMode, OriginIndex};
use crate::plan::{Change, Guard, GuardKind, Plan};
use crate::render;
use std::time::SystemTime;

/// How apply ended, with what each way of ending needs.
#[derive(Debug)]
pub(super) enum Ending {
    /// The saved plan no longer matches the org or the file: nothing was sent.
    PlanOutdated {
        path: String,
        outdated: Outdated,
        /// The desired file, as named in messages.
        file: String,
        made_from: Option<Box<LiveSourceWire>>,
    },
    /// `--drift refuse`, and the plan reverts drift: nothing was sent.
    DriftRefused { count: usize, emails: String },
    /// The plan's guards refuse it: nothing was sent.
    Refused(Vec<Guard>),
    /// The answer to the question was not `yes`: nothing was sent.
    NotConfirmed,
    /// No terminal to ask on, and no `--auto-approve`: nothing was sent.
    NoTerminal,
    /// A signal came before the first write.
    InterruptedBeforeSending(Signal),
    /// The plan has nothing to send.
    NoChanges,
    /// The writes ran, to their end or to a halt.
    Ran(Box<Execution>),
    /// A signal stopped the writes (`Execution::halt` says whether a second one ended them).
    Interrupted(Box<Execution>, Signal),
}

/// What an [`Ending`] comes to.
struct Settled {
    execution: Execution,
    /// `None`: exit 0.
    error: Option<CommandError>,
    word: Word,
    signal: Option<Signal>,
    /// The guard that refused, by name.
    guard: Option<&'static str>,
    /// Why nothing was sent, in words (else the report says why apply stopped early, if it
    /// did).
    message: Option<String>,
    /// Whether the closing summary is printed (the writes ran).
    summary: bool,
}

impl Ending {
    /// Everything that follows from the ending, for `plan` (the plan that was to be sent).
    fn settle(self, plan: &Plan) -> Settled {
        // Nothing was sent, for `why`: every step is not attempted, and the error says why.
        let nothing_sent = |why: NotAttempted, error: CommandError, word, guard| Settled {
            execution: Execution::nothing_sent(plan, why),
            message: Some(error.to_string()),
            error: Some(error),
            word,
            signal: match why {
                NotAttempted::Interrupted(signal) => Some(signal),
                _ => None,
            },
            guard,
            summary: false,
        };
        match self {
            Ending::PlanOutdated {
                path,
                outdated,
                file,
                made_from,
            } => {
                let e = CommandError::PlanOutdated {
                    path,
                    outdated,
                    file,
                    made_from,
                };
                nothing_sent(NotAttempted::PlanOutdated, e, Word::PlanOutdated, None)
            }
            Ending::DriftRefused { count, emails } => {
                let e = CommandError::DriftRefused { count, emails };
                nothing_sent(NotAttempted::DriftRefused, e, Word::Refused, Some("drift"))
            }
            Ending::Refused(guards) => {
                let guard = guard_name(&guards);
                let e = CommandError::Guard(guards);
                nothing_sent(NotAttempted::Refused, e, Word::Refused, guard)
            }
            Ending::NotConfirmed => nothing_sent(
                NotAttempted::NotConfirmed,
                CommandError::Cancelled,
                Word::NotConfirmed,
                None,
            ),
            Ending::NoTerminal => nothing_sent(
                NotAttempted::NoTerminal,
                CommandError::NoTerminal,
                Word::NotConfirmed,
                None,
            ),
            Ending::InterruptedBeforeSending(signal) => nothing_sent(
                NotAttempted::Interrupted(signal),
                CommandError::interrupted(signal, None),
                Word::Interrupted,
                None,
            ),
            Ending::NoChanges => Settled {
                execution: Execution {
                    blocked_in_plan: plan.blocked.clone(),
                    ..Execution::default()
                },
                error: None,
                word: Word::NoChanges,
                signal: None,
                guard: None,
                message: None,
                summary: false,
            },
            Ending::Ran(execution) => {
                let execution = *execution;
                let error = after_writes(&execution);
                let word = match (&execution.halt, &error) {
                    (Some(Halt::Refused { .. }), _) => Word::Refused,
                    (_, Some(_)) => Word::Failed,
                    (_, None) => Word::Succeeded,
                };
                Settled {
                    error,
                    word,
                    signal: None,
                    guard: halted_by(&execution),
                    message: None,
                    summary: true,
                    execution,
                }
            }
            Ending::Interrupted(execution, signal) => {
                let execution = *execution;
                Settled {
                    error: Some(CommandError::interrupted(
                        signal,
                        Some(execution.not_attempted()),
                    )),
                    word: Word::Interrupted,
                    signal: Some(signal),
                    guard: halted_by(&execution),
                    message: None,
                    summary: true,
                    execution,
                }
            }
        }
    }
}

/// What the writes that ran to their end (or to a halt) come to (docs/contract.md §2).
fn after_writes(execution: &Execution) -> Option<CommandError> {
    match &execution.halt {
        Some(Halt::Refused { phase, guards }) => Some(CommandError::GuardMidway {
            phase: *phase,
            guards: guards.clone(),
        }),
        _ if execution.key_refused() => Some(CommandError::KeyRefusedMidway {
            count: execution.failed() + execution.not_attempted(),
        }),
        _ if execution.failed() + execution.not_attempted() > 0 => {
            Some(CommandError::StepsFailed {
                count: execution.failed() + execution.not_attempted(),
            })
        }
        _ if execution.guard_crossed() => Some(CommandError::GuardCrossed),
        _ => None,
    }
}

/// The guard whose re-check halted the writes, by name.
fn halted_by(execution: &Execution) -> Option<&'static str> {
    match &execution.halt {
        Some(Halt::Refused { guards, .. }) => guard_name(guards),
        _ => None,
    }
}

/// The first of `guards`, by name.
fn guard_name(guards: &[Guard]) -> Option<&'static str> {
    guards.first().map(|g| match g.kind() {
        GuardKind::MaxRemovals => "max_removals",
        GuardKind::MinAdmins => "min_admins",
    })
}

/// Ends apply, whichever way it ends: the report file, the GitHub job summary, and the result
/// (exit code or error).
pub(super) struct Finisher<'a> {
    pub(super) ctx: &'a Context<'a>,
    pub(super) report: Option<&'a Output>,
    pub(super) desired_file: &'a str,
    pub(super) org: Option<&'a str>,
    pub(super) started: SystemTime,
    pub(super) computed: &'a Computed,
    /// The plan that is sent: the computed one, or it without drift (`--drift keep`).
    pub(super) plan: &'a Plan,
    /// With origins: the drift mode, each change's origin, and the drift left in place.
    pub(super) drift: Option<(DriftMode, &'a OriginIndex, &'a [&'a Change])>,
}

impl Finisher<'_> {
    /// Says how apply ended (the closing summary, when the writes ran), writes the report and
    /// the job summary, and returns the result.
    pub(super) fn end(&self, ending: Ending) -> Result<u8, CommandError> {
        let settled = ending.settle(self.plan);
        if settled.summary {
            self.ctx.ui.eprint(&render::finished(&settled.execution));
        }
        let unwritten = self.write(&settled);
        match (settled.error, unwritten) {
            (Some(e), _) => Err(e),
            // A run that succeeded but whose report is lost did not succeed (docs/contract.md
            // §2).
            (None, Some(unwritten)) => Err(unwritten),
            (None, None) => Ok(0),
        }
    }

    /// Writes the report file and the job summary. A report that cannot be written is
    /// returned when the run had succeeded (exit 0: the caller makes it the error), else
    /// printed as an error line beside the run's own error, whose exit code stands
    /// (docs/contract.md §2). A job summary that cannot be written is a warning.
    fn write(&self, settled: &Settled) -> Option<CommandError> {
        let exit_code = settled.error.as_ref().map_or(0, CommandError::exit_code);
        let mut doc = ReportDocument::new(
            &settled.execution,
            Header {
                desired_file: self.desired_file,
                org: self.org,
                drift: self.drift.map(|(mode, origins, left)| DriftReport {
                    mode,
                    origins,
                    left,
                }),
                guard: settled.guard,
                started: self.started,
                fingerprints: &self.computed.fingerprints,
                ending: settled.word,
                exit_code,
                signal: settled.signal.map(Signal::name),
                message: settled.message.clone(),
            },
        );
        let mut unwritten = None;
        if let Some(out) = self.report {
            if let Err(e) = out.write(self.ctx.ui, &doc.to_json()) {
                if exit_code == 0 {
                    // The job summary says how the run ended.
                    doc.exit_code = 1;
                    doc.message = Some(e.to_string());
                    unwritten = Some(e);
                } else {
                    self.ctx.ui.error(e);
                }
            }
        }
        append_step_summary(self.ctx, || crate::formats::summary::apply_summary(&doc));
        unwritten
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::date::Date;
    use crate::desired::Desired;
    use crate::executor::{Done, Failure, Outcome, StepResult};
    use crate::live::LiveState;
    use crate::planner::{PlanOptions, plan_live};
    use crate::role::Role;

    /// Two invitations.
    fn plan() -> Plan {
        let desired = Desired::of(&[
            ("root@x.io", Role::Admin),
            ("erin@x.io", Role::Member),
            ("fred@x.io", Role::Member),
        ]);
        let org = LiveState::of(&[("u1", "root@x.io", "org:admin")], &[]);
        plan_live(
            &desired,
            &org,
            &PlanOptions::new(Date::parse("2027-03-31").unwrap()),
        )
    }

    /// The plan's steps, the first ending with `first`, the others done.
    fn ran(plan: &Plan, first: Outcome) -> Box<Execution> {
        let mut steps: Vec<StepResult> = crate::executor::steps(plan)
            .into_iter()
            .map(|s| StepResult::new(s, Outcome::Done(Done::Answered)))
            .collect();
        steps[0].outcome = first;
        Box::new(Execution {
            steps,
            findings: Some(Vec::new()),
            ..Execution::default()
        })
    }

    /// `exit code, report word, guard, signal, summary, each step's outcome` of an ending.
    fn settled(ending: Ending, plan: &Plan) -> String {
        let s = ending.settle(plan);
        let steps: Vec<String> = s
            .execution
            .steps
            .iter()
            .map(|r| match &r.outcome {
                Outcome::Done(_) => "done".to_string(),
                Outcome::Failed(_) => "failed".to_string(),
                Outcome::Blocked(_) => "blocked".to_string(),
                Outcome::NotAttempted(why) => format!("{why:?}"),
            })
            .collect();
        format!(
            "exit {}, {:?}, guard {:?}, signal {:?}, summary {}, message {}, steps {steps:?}",
            s.error.as_ref().map_or(0, CommandError::exit_code),
            s.word,
            s.guard,
            s.signal.map(Signal::name),
            s.summary,
            s.message.is_some(),
        )
    }

    #[test]
    fn each_ending_gives_its_exit_code_report_word_and_why_no_step_was_attempted() {
        let plan = plan();
        let int = Signal::Interrupt.exit_code();
        let term = Signal::Terminate.exit_code();
        let failed = Outcome::failed(Failure::CutOff(Signal::Terminate));
        let cases = [
            (
                Ending::NotConfirmed,
                r#"exit 1, NotConfirmed, guard None, signal None, summary false, message true, steps ["NotConfirmed", "NotConfirmed"]"#.to_string(),
            ),
            (
                Ending::NoTerminal,
                r#"exit 1, NotConfirmed, guard None, signal None, summary false, message true, steps ["NoTerminal", "NoTerminal"]"#.to_string(),
            ),
            (
                Ending::InterruptedBeforeSending(Signal::Interrupt),
                format!(
                    r#"exit {int}, Interrupted, guard None, signal Some("SIGINT"), summary false, message true, steps ["Interrupted(Interrupt)", "Interrupted(Interrupt)"]"#
                ),
            ),
            (
                Ending::DriftRefused {
                    count: 1,
                    emails: "erin@x.io".to_string(),
                },
                r#"exit 3, Refused, guard Some("drift"), signal None, summary false, message true, steps ["DriftRefused", "DriftRefused"]"#.to_string(),
            ),
            (
                Ending::NoChanges,
                "exit 0, NoChanges, guard None, signal None, summary false, message false, steps []".to_string(),
            ),
            (
                Ending::Ran(ran(&plan, Outcome::Done(Done::Answered))),
                r#"exit 0, Succeeded, guard None, signal None, summary true, message false, steps ["done", "done"]"#.to_string(),
            ),
            (
                Ending::Ran(ran(&plan, failed.clone())),
                r#"exit 1, Failed, guard None, signal None, summary true, message false, steps ["failed", "done"]"#.to_string(),
            ),
            (
                Ending::Interrupted(ran(&plan, failed), Signal::Terminate),
                format!(
                    r#"exit {term}, Interrupted, guard None, signal Some("SIGTERM"), summary true, message false, steps ["failed", "done"]"#
                ),
            ),
        ];
        for (ending, expected) in cases {
            assert_eq!(settled(ending, &plan), expected);
        }
    }
}
