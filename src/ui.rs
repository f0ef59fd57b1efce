//! The conversation with the user goes through one [`Ui`] (docs/contract.md §6): the plan on
//! stdout; notes, warnings, file problems, GitHub annotations, progress, the question apply
//! asks and errors on stderr; the answer from stdin. Logs go to the same stderr, set up here
//! too.

use crate::escape::escape;
use crate::yaml::Diagnostic;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::fmt::Display;
use std::io::{self, IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;

type Sink = Mutex<Box<dyn Write + Send>>;

/// Where answers come from: `None` when there is no terminal to ask on, else one line, sent
/// when it has been typed.
type Input = Box<dyn Fn() -> Option<oneshot::Receiver<String>> + Send + Sync>;

pub(crate) struct Ui {
    /// Colour on stdout (the plan).
    color: bool,
    /// `GITHUB_ACTIONS=true`: file problems are also printed as workflow annotations.
    annotations: bool,
    out: Sink,
    err: Arc<Stderr>,
    input: Input,
}

/// Stderr, and apply's progress bar when one is drawn there: while it is, every line written
/// goes above it (the bar is taken off the screen, the line written, the bar drawn again).
struct Stderr {
    sink: Sink,
    /// Whether stderr is a terminal: apply draws a bar there instead of a line per step.
    terminal: bool,
    bar: Mutex<Option<Bar>>,
}

/// The bar on screen and what its message counts.
struct Bar {
    bar: ProgressBar,
    failed: usize,
    /// Time the rate-limit pauses announced so far keep every request waiting.
    waited: Duration,
}

impl Bar {
    /// `, 2 failed, 3 s waiting on rate limits` (each part only when it is not zero).
    fn message(&self) -> String {
        let mut m = String::new();
        if self.failed > 0 {
            m.push_str(&format!(", {} failed", self.failed));
        }
        if !self.waited.is_zero() {
            m.push_str(&format!(
                ", {} waiting on rate limits",
                crate::render::seconds(self.waited)
            ));
        }
        m
    }
}

impl Stderr {
    fn write(&self, text: &str) {
        let bar = self.bar.lock().unwrap_or_else(|e| e.into_inner());
        match bar.as_ref() {
            Some(b) => b.bar.suspend(|| Ui::write(&self.sink, text)),
            None => Ui::write(&self.sink, text),
        }
    }
}

/// A handle on the [`Ui`]'s stderr for code that runs apart from the command: the HTTP client
/// announces rate-limit pauses through it.
#[derive(Clone)]
pub(crate) struct Notes(Arc<Stderr>);

impl crate::api::Notes for Notes {
    /// A 429 paused every request for `wait` (docs/contract.md §5): one line, `rate limited,
    /// waiting N s`, or, while a progress bar is drawn, the bar's count of time spent waiting.
    fn rate_limited(&self, wait: Duration) {
        {
            let mut bar = self.0.bar.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(b) = bar.as_mut() {
                b.waited += wait;
                b.bar.set_message(b.message());
                return;
            }
        }
        // Whole seconds, rounded up: "waiting 0 s" would read as no wait at all.
        let secs = wait.as_millis().div_ceil(1000);
        self.0.write(&format!("rate limited, waiting {secs} s\n"));
    }

    /// One line on stderr at default verbosity, so a connection that keeps failing is not
    /// seconds of silence. What came from the network is escaped.
    fn retrying(&self, line: &str) {
        self.0.write(&format!("{}\n", escape(line)));
    }
}

/// apply's progress (docs/contract.md §5): on a terminal one bar (steps done of total,
/// failures, time waiting on rate limits, an estimate of the time left), elsewhere (CI logs) a
/// line per finished step. The bar leaves the screen when the `Progress` is dropped.
pub(crate) struct Progress<'a> {
    ui: &'a Ui,
    drawn: bool,
}

impl Progress<'_> {
    /// Step `n` of `total` finished; `line` says what it did and how it ended. On a terminal,
    /// only a step that `failed` or is otherwise `notable` (blocked) is written out, above the
    /// bar.
    pub(crate) fn step(&self, n: usize, total: usize, line: &str, failed: bool, notable: bool) {
        if !self.drawn || failed || notable {
            self.ui.note(format_args!("[{n}/{total}] {line}"));
        }
        if !self.drawn {
            return;
        }
        let mut bar = self.ui.err.bar.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(b) = bar.as_mut() {
            b.failed += usize::from(failed);
            b.bar.set_position(n as u64);
            b.bar.set_message(b.message());
        }
    }

    /// Takes the bar off the screen, for the summary that follows (also done when the
    /// progress is dropped).
    fn clear(&self) {
        let bar = self
            .ui
            .err
            .bar
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(b) = bar {
            b.bar.finish_and_clear();
        }
    }
}

impl Drop for Progress<'_> {
    fn drop(&mut self) {
        self.clear();
    }
}

impl std::fmt::Debug for Notes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Notes")
    }
}

/// The answer to a yes-or-no question ([`Ui::ask_yes`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Answer<S> {
    /// `yes`, and nothing else.
    Yes,
    /// Any other answer, an empty one included.
    No,
    /// Nobody to ask: stdin is not a terminal.
    NoTerminal,
    /// The wait ended with this interruption (a signal) before an answer came.
    Interrupted(S),
}

/// One of the process's two output streams.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stream {
    Out,
    Err,
}

/// How serious a file problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Level {
    Error,
    Warning,
}

impl Ui {
    /// The process's stdout and stderr.
    pub(crate) fn new(color: bool, annotations: bool) -> Ui {
        Ui {
            color,
            annotations,
            out: Mutex::new(Box::new(io::stdout())),
            err: Arc::new(Stderr {
                sink: Mutex::new(Box::new(io::stderr())),
                terminal: io::stderr().is_terminal(),
                bar: Mutex::new(None),
            }),
            input: Box::new(stdin_line),
        }
    }

    pub(crate) fn color(&self) -> bool {
        self.color
    }

    /// Writes to a sink. A reader that went away (`teamsync plan | head`) is not an error worth
    /// a panic or a message: the rest of the output is dropped.
    fn write(sink: &Sink, text: &str) {
        let mut w = sink.lock().unwrap_or_else(|e| e.into_inner());
        let _ = w.write_all(text.as_bytes()).and_then(|()| w.flush());
    }

    /// Output for stdout (a plan, an exported file, a schema), as it is.
    pub(crate) fn print(&self, text: &str) {
        Ui::write(&self.out, text);
    }

    /// Text for stderr, as it is.
    pub(crate) fn eprint(&self, text: &str) {
        self.err.write(text);
    }

    /// A document for a stream, where a failure to write it matters: an output file that is
    /// this process's own stdout or stderr (`--report /dev/stdout`, docs/contract.md §6).
    pub(crate) fn write_checked(&self, stream: Stream, text: &str) -> io::Result<()> {
        let sink = match stream {
            Stream::Out => &self.out,
            Stream::Err => &self.err.sink,
        };
        let mut w = sink.lock().unwrap_or_else(|e| e.into_inner());
        w.write_all(text.as_bytes()).and_then(|()| w.flush())
    }

    /// A handle that writes notes to this `Ui`'s stderr from anywhere.
    pub(crate) fn notes(&self) -> Arc<dyn crate::api::Notes> {
        Arc::new(Notes(self.err.clone()))
    }

    /// One line on stderr.
    pub(crate) fn note(&self, line: impl Display) {
        self.err.write(&format!("{line}\n"));
    }

    /// Starts apply's progress display for `total` steps: a bar when stderr is a terminal
    /// that can draw one (`TERM` set and not `dumb`), a line per step otherwise.
    pub(crate) fn progress(&self, total: usize) -> Progress<'_> {
        // indicatif draws nothing where `TERM` is unset or `dumb`: lines there too, or the
        // apply would be silent until its summary.
        let target = ProgressDrawTarget::stderr();
        if !self.err.terminal || target.is_hidden() {
            return Progress {
                ui: self,
                drawn: false,
            };
        }
        let bar = ProgressBar::with_draw_target(Some(total as u64), target);
        if let Ok(style) = ProgressStyle::with_template(
            "[{wide_bar}] {pos}/{len} steps done{msg}, about {eta} left",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.enable_steady_tick(Duration::from_millis(250));
        *self.err.bar.lock().unwrap_or_else(|e| e.into_inner()) = Some(Bar {
            bar,
            failed: 0,
            waited: Duration::ZERO,
        });
        Progress {
            ui: self,
            drawn: true,
        }
    }

    /// Something the user should know that does not change the command's outcome:
    /// `warning: …` on stderr.
    pub(crate) fn warning(&self, line: impl Display) {
        self.note(format_args!("warning: {line}"));
    }

    /// Asks `question` on stderr and waits for one line of answer: only `yes` (blanks around it
    /// aside) is [`Answer::Yes`]. Without a terminal nothing is asked. When `interrupt` (apply's
    /// first signal) completes before the answer, the wait ends with it.
    pub(crate) async fn ask_yes<S>(
        &self,
        question: &str,
        interrupt: impl Future<Output = S>,
    ) -> Answer<S> {
        let Some(line) = (self.input)() else {
            return Answer::NoTerminal;
        };
        self.eprint(question);
        tokio::select! {
            line = line => match line {
                Ok(line) if line.trim() == "yes" => Answer::Yes,
                _ => Answer::No,
            },
            s = interrupt => Answer::Interrupted(s),
        }
    }

    /// An error that ends the command: one line, with what came from the file or the API
    /// escaped.
    pub(crate) fn error(&self, e: impl Display) {
        self.note(format_args!("error: {}", escape(&e.to_string())));
    }

    /// A problem in the file, as `FILE:LINE:COL: message`, and as a workflow annotation when
    /// running in GitHub Actions.
    pub(crate) fn diagnostic(&self, level: Level, file: &str, d: &Diagnostic) {
        let (line, col) = (d.line, d.column);
        let (file_shown, message) = (escape(file), escape(&d.message));
        match level {
            Level::Error => self.note(format_args!("{file_shown}:{line}:{col}: {message}")),
            Level::Warning => self.note(format_args!(
                "{file_shown}:{line}:{col}: warning: {message}"
            )),
        }
        if self.annotations {
            self.note(annotation(level, file, d));
        }
    }

    /// Logs (`tracing`) on stderr: `TEAMSYNC_LOG` is a full filter; without it, `-v` is info,
    /// `-vv` debug, `-vvv` trace.
    pub(crate) fn init_logging(&self, verbose: u8, filter: Option<&str>, color: bool) {
        use tracing_subscriber::EnvFilter;
        let filter = match filter.map(str::trim).filter(|f| !f.is_empty()) {
            Some(f) => EnvFilter::new(f),
            None => EnvFilter::new(match verbose {
                0 => "warn",
                1 => "warn,teamsync=info",
                2 => "warn,teamsync=debug",
                _ => "info,teamsync=trace",
            }),
        };
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(io::stderr)
            .with_ansi(color)
            .with_target(false)
            .try_init();
    }

    /// A `Ui` whose output is kept in memory, for tests; there is no terminal to ask on.
    #[cfg(test)]
    pub(crate) fn captured(annotations: bool) -> (Ui, Captured) {
        Ui::answering(annotations, Box::new(|| None))
    }

    /// A captured `Ui` whose questions are answered by `input`.
    #[cfg(test)]
    fn answering(annotations: bool, input: Input) -> (Ui, Captured) {
        let out = Captured::default();
        let err = Captured::default();
        let ui = Ui {
            color: false,
            annotations,
            out: Mutex::new(Box::new(out.clone())),
            err: Arc::new(Stderr {
                sink: Mutex::new(Box::new(err.clone())),
                terminal: false,
                bar: Mutex::new(None),
            }),
            input,
        };
        (ui, err)
    }
}

/// One line from the process's stdin, when it is a terminal. It is read on a thread of its own,
/// so that a signal can end the wait; that thread is left behind if one does (the process ends
/// soon after).
fn stdin_line() -> Option<oneshot::Receiver<String>> {
    if !io::stdin().is_terminal() {
        return None;
    }
    let (tx, rx) = oneshot::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = io::stdin().read_line(&mut line);
        let _ = tx.send(line);
    });
    Some(rx)
}

/// Text written to a captured [`Ui`] (tests only).
#[cfg(test)]
#[derive(Clone, Default)]
pub(crate) struct Captured(std::sync::Arc<Mutex<Vec<u8>>>);

#[cfg(test)]
impl Captured {
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[cfg(test)]
impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// `::error file=…,line=…,col=…::message` for GitHub Actions, escaped as its workflow commands
/// require.
fn annotation(level: Level, file: &str, d: &Diagnostic) -> String {
    fn esc_data(s: &str) -> String {
        s.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    }
    fn esc_prop(s: &str) -> String {
        esc_data(s).replace(':', "%3A").replace(',', "%2C")
    }
    let level = match level {
        Level::Error => "error",
        Level::Warning => "warning",
    };
    format!(
        "::{level} file={},line={},col={}::{}",
        esc_prop(file),
        d.line,
        d.column,
        esc_data(&d.message)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_problems_become_annotations_only_in_github_actions() {
        let d = Diagnostic {
            part: 0,
            line: 3,
            column: 7,
            message: "100% wrong\nreally".into(),
        };
        let (ui, err) = Ui::captured(true);
        ui.diagnostic(Level::Error, "dir,a:b.yaml", &d);
        assert_eq!(
            err.text(),
            "dir,a:b.yaml:3:7: 100% wrong\\nreally\n::error file=dir%2Ca%3Ab.yaml,line=3,col=7::100%25 wrong%0Areally\n"
        );
        let (ui, err) = Ui::captured(false);
        ui.diagnostic(Level::Warning, "f.yaml", &d);
        assert_eq!(err.text(), "f.yaml:3:7: warning: 100% wrong\\nreally\n");
    }

    /// A `Ui` whose one question gets `answer` (`None`: no answer ever comes).
    fn answered(answer: Option<&str>) -> (Ui, Captured) {
        let answer = answer.map(str::to_owned);
        // The senders of unanswered questions are kept, so that their wait never ends.
        let unanswered = Mutex::new(Vec::new());
        let input: Input = Box::new(move || {
            let (tx, rx) = oneshot::channel();
            match &answer {
                Some(a) => {
                    let _ = tx.send(a.clone());
                }
                None => unanswered.lock().unwrap().push(tx),
            }
            Some(rx)
        });
        Ui::answering(false, input)
    }

    #[tokio::test]
    async fn only_yes_proceeds() {
        let never = std::future::pending::<()>;
        for (typed, expected) in [
            ("yes\n", Answer::Yes),
            ("  yes \r\n", Answer::Yes),
            ("y\n", Answer::No),
            ("YES\n", Answer::No),
            ("yes please\n", Answer::No),
            ("no\n", Answer::No),
            ("", Answer::No),
        ] {
            let (ui, err) = answered(Some(typed));
            assert_eq!(ui.ask_yes("Apply? ", never()).await, expected, "{typed:?}");
            assert_eq!(err.text(), "Apply? ", "the question is asked on stderr");
        }
        let (ui, err) = Ui::captured(false);
        assert_eq!(ui.ask_yes("Apply? ", never()).await, Answer::NoTerminal);
        assert_eq!(err.text(), "", "nothing is asked without a terminal");
    }

    #[tokio::test]
    async fn a_signal_while_asking_ends_the_wait() {
        let (ui, err) = answered(None);
        let (signal, interrupt) = oneshot::channel::<&str>();
        let asking = ui.ask_yes("Apply? ", async { interrupt.await.unwrap() });
        let both = async {
            tokio::join!(asking, async {
                tokio::task::yield_now().await;
                signal.send("SIGINT").unwrap();
            })
        };
        let (answer, ()) = tokio::time::timeout(std::time::Duration::from_secs(10), both)
            .await
            .expect("the signal ended the wait");
        assert_eq!(answer, Answer::Interrupted("SIGINT"));
        assert_eq!(err.text(), "Apply? ");
    }

    #[test]
    fn warnings_say_so() {
        let (ui, err) = Ui::captured(false);
        ui.warning("cannot append to the job summary s.md");
        assert_eq!(
            err.text(),
            "warning: cannot append to the job summary s.md\n"
        );
    }
}
