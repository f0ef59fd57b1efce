//! All terminal output goes through one [`Ui`] (docs/contract.md §6): the plan on stdout;
//! notes, file problems, GitHub annotations, progress, the prompt and errors on stderr. Logs go
//! to the same stderr, set up here too.

use crate::escape::escape;
use crate::yaml::Diagnostic;
use std::fmt::Display;
use std::io::{self, Write};
use std::sync::Mutex;

type Sink = Mutex<Box<dyn Write + Send>>;

pub(crate) struct Ui {
    /// Colour on stdout (the plan).
    color: bool,
    /// `GITHUB_ACTIONS=true`: file problems are also printed as workflow annotations.
    annotations: bool,
    out: Sink,
    err: std::sync::Arc<Sink>,
}

/// A handle on the [`Ui`]'s stderr for code that runs apart from the command (the HTTP client
/// says "rate limited, waiting N s" through it): one line per note, like [`Ui::note`].
#[derive(Clone)]
pub(crate) struct Notes(std::sync::Arc<Sink>);

impl Notes {
    pub(crate) fn note(&self, line: impl Display) {
        Ui::write(&self.0, &format!("{line}\n"));
    }
}

impl std::fmt::Debug for Notes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Notes")
    }
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
            err: std::sync::Arc::new(Mutex::new(Box::new(io::stderr()))),
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
        Ui::write(&self.err, text);
    }

    /// A handle that writes notes to this `Ui`'s stderr from anywhere.
    pub(crate) fn notes(&self) -> Notes {
        Notes(self.err.clone())
    }

    /// One line on stderr.
    pub(crate) fn note(&self, line: impl Display) {
        Ui::write(&self.err, &format!("{line}\n"));
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

    /// A `Ui` whose output is kept in memory, for tests.
    #[cfg(test)]
    pub(crate) fn captured(annotations: bool) -> (Ui, Captured) {
        let out = Captured::default();
        let err = Captured::default();
        let ui = Ui {
            color: false,
            annotations,
            out: Mutex::new(Box::new(out.clone())),
            err: std::sync::Arc::new(Mutex::new(Box::new(err.clone()))),
        };
        (ui, err)
    }
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
}
