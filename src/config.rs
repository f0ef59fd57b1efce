//! The second layer of arguments: what the clap layer parsed ([`GlobalArgs`]), plus
//! the environment, checked and turned into the values the commands use ([`Config::resolve`]).
//! Below the commands, only [`Config`] and [`ApiConfig`] are seen, never clap's types.

use crate::api::{ApiConfig, ApiKey, KeySource, RetryPolicy, is_loopback, redact_url};
use crate::date::{Date, Timestamp};
use crate::email::Email;
use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// The Scaling API's documented base URL.
pub(crate) const DEFAULT_API_URL: &str = "https://api.scaling.cloud/v1";

/// Seconds before a request to the API is given up when `--timeout` and `TEAMSYNC_TIMEOUT` are
/// not set.
pub(crate) const DEFAULT_TIMEOUT_SECS: u64 = 30;

/// The environment variables teamsync reads (docs/contract.md §1), read once, here. Nothing else
/// in teamsync looks at the environment.
#[derive(Clone, Default)]
pub(crate) struct Environment {
    /// `SCALING_API_KEY`.
    pub(crate) api_key: Option<String>,
    /// `SCALING_API_KEY_FILE`: a file whose first line is the key (Kubernetes and Docker
    /// secrets), read by [`Environment::key`].
    pub(crate) api_key_file: Option<PathBuf>,
    /// `SCALING_API_URL`.
    pub(crate) api_url: Option<String>,
    /// `TEAMSYNC_SELF`.
    pub(crate) self_email: Option<String>,
    /// `TEAMSYNC_TIMEOUT`.
    pub(crate) timeout: Option<String>,
    /// `TEAMSYNC_RETRY_BASE_MS`.
    pub(crate) retry_base_ms: Option<String>,
    /// `TEAMSYNC_TODAY`.
    pub(crate) today: Option<String>,
    /// `TEAMSYNC_FILE`: the default of `-f` (empty counts as unset).
    pub(crate) file: Option<PathBuf>,
    /// `TEAMSYNC_NOW`: the clock, for tests.
    pub(crate) now: Option<String>,
    /// `TEAMSYNC_LOG`: a log filter.
    pub(crate) log: Option<String>,
    /// `NO_COLOR` set and not empty: no colour.
    pub(crate) no_color: bool,
    /// `CLICOLOR=0`: no colour.
    pub(crate) clicolor_off: bool,
    /// `CLICOLOR` set and not `0`: colour on a terminal even when `TERM` does not say so.
    pub(crate) clicolor_on: bool,
    /// `TERM`: unset or `dumb` means a terminal without colour (on Unix).
    pub(crate) term: Option<String>,
    /// `CI` set: a CI log that shows colour.
    pub(crate) ci: bool,
    /// `CLICOLOR_FORCE` set and not `0`: colour even off a terminal.
    pub(crate) clicolor_force: bool,
    /// `GITHUB_ACTIONS=true`.
    pub(crate) github_actions: bool,
    /// `GITHUB_STEP_SUMMARY`: the job summary file `plan` and `apply` append to.
    pub(crate) step_summary: Option<PathBuf>,
}

impl fmt::Debug for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Everything but the key.
        f.debug_struct("Environment")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("api_key_file", &self.api_key_file)
            .field("api_url", &self.api_url.as_deref().map(redact_url))
            .field("self_email", &self.self_email)
            .field("file", &self.file)
            .field("log", &self.log)
            .field("no_color", &self.no_color)
            .field("github_actions", &self.github_actions)
            .finish_non_exhaustive()
    }
}

impl Environment {
    /// Reads the variables teamsync knows from `vars` (the process's, or a test's).
    pub(crate) fn from_vars(vars: impl IntoIterator<Item = (OsString, OsString)>) -> Environment {
        let mut env = Environment::default();
        for (k, v) in vars {
            let (Some(k), Some(v)) = (k.to_str(), v.into_string().ok()) else {
                continue;
            };
            match k {
                "SCALING_API_KEY" => env.api_key = Some(v),
                "SCALING_API_KEY_FILE" if !v.is_empty() => env.api_key_file = Some(v.into()),
                "SCALING_API_URL" => env.api_url = Some(v),
                "TEAMSYNC_SELF" => env.self_email = Some(v),
                "TEAMSYNC_FILE" if !v.is_empty() => env.file = Some(v.into()),
                "TEAMSYNC_TIMEOUT" => env.timeout = Some(v),
                "TEAMSYNC_RETRY_BASE_MS" => env.retry_base_ms = Some(v),
                "TEAMSYNC_TODAY" => env.today = Some(v),
                "TEAMSYNC_NOW" => env.now = Some(v),
                "TEAMSYNC_LOG" => env.log = Some(v),
                "NO_COLOR" => env.no_color = !v.is_empty(),
                "CLICOLOR" => {
                    env.clicolor_off = v == "0";
                    env.clicolor_on = v != "0";
                }
                "TERM" => env.term = Some(v),
                "CI" => env.ci = true,
                "CLICOLOR_FORCE" => env.clicolor_force = !v.is_empty() && v != "0",
                "GITHUB_ACTIONS" => env.github_actions = v == "true",
                "GITHUB_STEP_SUMMARY" if !v.is_empty() => env.step_summary = Some(v.into()),
                _ => {}
            }
        }
        env
    }

    /// The API key and where it came from: `SCALING_API_KEY`, else the first line (trimmed)
    /// of the file `SCALING_API_KEY_FILE` names; `None` when neither is set (an empty
    /// `SCALING_API_KEY` counts as unset). Both set is an error: teamsync does not guess which
    /// key is meant. Errors name the variable and the path, never what the file holds.
    pub(crate) fn key(&self) -> Result<Option<(String, KeySource)>, ConfigError> {
        let from_env = self.api_key.as_deref().filter(|k| !k.trim().is_empty());
        match (from_env, &self.api_key_file) {
            (Some(_), Some(_)) => Err(ConfigError::KeyAndKeyFile),
            (Some(key), None) => Ok(Some((key.to_string(), KeySource::Variable))),
            (None, Some(path)) => read_key_file(path).map(|k| Some((k, KeySource::File))),
            (None, None) => Ok(None),
        }
    }
}

/// A key file is a line: more than this is not one (a link to `/dev/zero` is not read on).
const KEY_FILE_LIMIT: u64 = 64 * 1024;

/// The first line of the key file, trimmed. What the file holds is never in an error.
fn read_key_file(path: &std::path::Path) -> Result<String, ConfigError> {
    use std::io::{BufRead as _, Read as _};
    let unreadable = |why: String| ConfigError::KeyFile {
        path: path.display().to_string(),
        why,
    };
    // Opened without blocking and read only if it is a regular file (a mounted secret is one,
    // or a link to one): a FIFO named by the variable must not hang a command.
    let file = crate::parts::open_without_blocking(path).map_err(|e| unreadable(e.to_string()))?;
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return Err(unreadable("it is not a regular file".into()));
    }
    let mut line = Vec::new();
    std::io::BufReader::new(file.take(KEY_FILE_LIMIT))
        .read_until(b'\n', &mut line)
        .map_err(|e| unreadable(e.to_string()))?;
    let line = String::from_utf8(line).map_err(|_| unreadable("it is not UTF-8 text".into()))?;
    let key = line.trim();
    if key.is_empty() {
        return Err(unreadable(
            "its first line is empty; put the key alone on the first line".into(),
        ));
    }
    Ok(key.to_string())
}

#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum ConfigError {
    #[error(
        "SCALING_API_KEY is not set: export an org admin's API key (Settings → API Access in the Scaling dashboard), or name a file holding it in SCALING_API_KEY_FILE; teamsync never takes it as an argument"
    )]
    MissingKey,
    #[error(
        "both SCALING_API_KEY and SCALING_API_KEY_FILE are set: unset one of them, so that it is clear which key is meant"
    )]
    KeyAndKeyFile,
    #[error("cannot read the API key from SCALING_API_KEY_FILE {path}: {why}")]
    KeyFile { path: String, why: String },
    #[error(
        "the key in {0} contains characters that cannot be sent in an HTTP header (a stray space inside it?); set it to the key alone"
    )]
    BadKey(KeySource),
    #[error("the API URL `{0}` is not a valid URL")]
    BadUrl(String),
    #[error(
        "the API URL `{0}` carries a user name or password; teamsync authenticates with SCALING_API_KEY only: remove the `user:password@` part"
    )]
    UrlWithCredentials(String),
    #[error(
        "refusing plain http for `{0}`: the API key would cross the network in clear text; use https (http is only allowed for loopback hosts)"
    )]
    InsecureUrl(String),
    #[error("the API URL `{0}` must use https")]
    BadScheme(String),
    #[error("`{0}` is not a valid date: write YYYY-MM-DD")]
    BadDate(String),
    #[error("TEAMSYNC_NOW is `{0}`, not an RFC 3339 date and time such as 2027-03-31T12:00:00Z")]
    BadNow(String),
    #[error("{var} is `{value}`, not a whole number")]
    BadNumber { var: &'static str, value: String },
    #[error(
        "{0} is 0: a request needs at least 1 second; give the number of seconds to wait for an answer (default {DEFAULT_TIMEOUT_SECS})"
    )]
    ZeroTimeout(&'static str),
}

impl ApiConfig {
    /// Validates the base URL (https, or http on loopback) and the key (from `source`).
    pub(crate) fn new(url: &str, key: Option<(&str, KeySource)>) -> Result<ApiConfig, ConfigError> {
        let (key, source) = key
            .map(|(k, source)| (k.trim(), source))
            .filter(|(k, _)| !k.is_empty())
            .ok_or(ConfigError::MissingKey)?;
        if !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ConfigError::BadKey(source));
        }
        let mut text = url.trim().to_string();
        if !text.ends_with('/') {
            text.push('/');
        }
        // Every message shows the URL without its user info (docs/network.md).
        let shown = redact_url(url);
        let base_url =
            reqwest::Url::parse(&text).map_err(|_| ConfigError::BadUrl(shown.clone()))?;
        // A password in the URL would be printed in errors and sent as a second Authorization
        // header (Basic) before the key's.
        if !base_url.username().is_empty() || base_url.password().is_some() {
            return Err(ConfigError::UrlWithCredentials(shown));
        }
        match base_url.scheme() {
            "https" => {}
            "http" if is_loopback(&base_url) => {}
            "http" => return Err(ConfigError::InsecureUrl(shown)),
            _ => return Err(ConfigError::BadScheme(shown)),
        }
        if base_url.host_str().is_none() || base_url.cannot_be_a_base() {
            return Err(ConfigError::BadUrl(shown));
        }
        Ok(ApiConfig {
            base_url,
            key: ApiKey::new(key.to_string()),
            timeout: Duration::from_secs(DEFAULT_TIMEOUT_SECS),
            retry: RetryPolicy::default(),
        })
    }
}

/// When to use colour: `--color`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ColorChoice {
    /// On a terminal, unless `NO_COLOR` or `CLICOLOR=0` say no, or `CLICOLOR_FORCE` says yes.
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether a stream gets colour, by the usual conventions (no-color.org, bixense.com/clicolors)
    /// and in anstream's order (`anstream::AutoStream::choice`): the flag wins; then `NO_COLOR`,
    /// then `CLICOLOR_FORCE`, then `CLICOLOR=0`; then a terminal gets colour when its `TERM` can
    /// show it (set and not `dumb`; on Windows only not `dumb`), or `CLICOLOR` or `CI` is set.
    /// The rules are anstream's, read from the [`Environment`] rather than by anstream itself,
    /// which reads the process's variables: `teamsync::run` takes its environment as an
    /// argument (docs/contract.md §6; docs/decisions.md).
    pub(crate) fn decide(self, env: &Environment, is_terminal: bool) -> bool {
        let term_has_colour = match env.term.as_deref() {
            Some("dumb") => false,
            Some(_) => true,
            None => cfg!(windows),
        };
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto if env.no_color => false,
            ColorChoice::Auto if env.clicolor_force => true,
            ColorChoice::Auto if env.clicolor_off => false,
            ColorChoice::Auto => is_terminal && (term_has_colour || env.clicolor_on || env.ci),
        }
    }
}

/// Flags every command takes, before or after the command's name. Where a flag has an
/// environment variable, the flag wins.
#[derive(clap::Args, Debug)]
pub(crate) struct GlobalArgs {
    /// The desired-state file, or a directory whose *.yaml/*.yml files are its parts [env:
    /// TEAMSYNC_FILE; default: teamsync.yaml]
    #[arg(short = 'f', long, global = true, value_name = "FILE")]
    pub(crate) file: Option<PathBuf>,
    /// Base URL of the Scaling API [env: SCALING_API_URL; default: https://api.scaling.cloud/v1]
    #[arg(long, global = true, value_name = "URL")]
    pub(crate) api_url: Option<String>,
    /// The API key's own account: its role is never changed and it is never removed [env:
    /// TEAMSYNC_SELF]
    #[arg(long = "self", global = true, value_name = "EMAIL")]
    pub(crate) self_email: Option<String>,
    /// More log output on stderr (-v info, -vv debug; TEAMSYNC_LOG takes a full filter); -v also
    /// lists a plan's kept pending invitations.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
    /// When to use colour [default: auto: on a terminal whose TERM is not dumb, unless NO_COLOR
    /// or CLICOLOR=0; CLICOLOR_FORCE=1 forces it]
    #[arg(long, global = true, value_enum, value_name = "WHEN")]
    pub(crate) color: Option<ColorChoice>,
    /// The same as --color never.
    #[arg(long, global = true, conflicts_with = "color")]
    pub(crate) no_color: bool,
    /// Seconds before a request to the API is given up [env: TEAMSYNC_TIMEOUT; default: 30]
    #[arg(long, global = true, value_name = "SECS")]
    pub(crate) timeout: Option<u64>,
    /// First retry delay in milliseconds (doubles per attempt, with jitter, up to 30 s).
    #[arg(long, global = true, hide = true)]
    pub(crate) retry_base_ms: Option<u64>,
    /// Today's date (YYYY-MM-DD, UTC) for `expires`; defaults to the clock.
    #[arg(long, global = true, hide = true)]
    pub(crate) today: Option<String>,
}

/// How `plan` and `apply` print a plan: `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum PlanFormat {
    Text,
    Json,
    Markdown,
    Diff,
}

/// What every command may need, checked.
#[derive(Debug)]
pub(crate) struct Config {
    pub(crate) file: PathBuf,
    /// `-f` was given on the command line (not the default).
    pub(crate) file_explicit: bool,
    /// When to use colour (`--color`, `--no-color`); see [`ColorChoice::decide`].
    pub(crate) color: ColorChoice,
    pub(crate) self_email: Option<Email>,
    /// Whether `--self` or `TEAMSYNC_SELF` named it (the flag wins when both are set).
    pub(crate) self_from: crate::plan::SelfFrom,
    pub(crate) today: Date,
    /// `TEAMSYNC_NOW`: a fixed clock for tests; `None`, the system clock ([`Config::now`]).
    pub(crate) now: Option<Timestamp>,
    /// Where and how to reach the API, or why that cannot be done. Only commands that talk to
    /// the API look at it, so a missing key never stops `validate`.
    pub(crate) api: Result<ApiConfig, ConfigError>,
    /// `GITHUB_STEP_SUMMARY`: where `plan` and `apply` append Markdown for the job's page.
    pub(crate) step_summary: Option<PathBuf>,
    /// `-v` or more: besides the logs, the text plan lists every kept pending invitation.
    pub(crate) verbose: bool,
}

/// The desired state's path when `-f` is not given.
const DEFAULT_FILE: &str = "teamsync.yaml";

fn number(var: &'static str, value: Option<&str>) -> Result<Option<u64>, ConfigError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| ConfigError::BadNumber {
            var,
            value: v.to_string(),
        }),
    }
}

impl Config {
    /// The global flags checked, with the environment: a flag wins over its variable; an empty
    /// variable counts as unset (CI systems pass unset variables as "").
    pub(crate) fn resolve(args: &GlobalArgs, env: &Environment) -> Result<Config, ConfigError> {
        let now = match env.now.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) => Some(Timestamp::parse(t).ok_or_else(|| ConfigError::BadNow(t.to_string()))?),
            None => None,
        };
        // Today follows a fixed clock unless it is fixed itself.
        let today = match args.today.as_deref().or(env.today.as_deref()) {
            Some(t) => Date::parse(t.trim()).ok_or_else(|| ConfigError::BadDate(t.to_string()))?,
            None => now.as_ref().map_or_else(Date::today_utc, Timestamp::date),
        };
        let timeout = match args.timeout {
            Some(0) => return Err(ConfigError::ZeroTimeout("--timeout")),
            Some(t) => t,
            None => match number("TEAMSYNC_TIMEOUT", env.timeout.as_deref())? {
                Some(0) => return Err(ConfigError::ZeroTimeout("TEAMSYNC_TIMEOUT")),
                t => t.unwrap_or(30),
            },
        };
        let retry_base_ms = match args.retry_base_ms {
            Some(ms) => ms,
            None => number("TEAMSYNC_RETRY_BASE_MS", env.retry_base_ms.as_deref())?.unwrap_or(500),
        };
        let url = args
            .api_url
            .as_deref()
            .or(env.api_url.as_deref())
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .unwrap_or(DEFAULT_API_URL);
        let key = env.key();
        let api = key
            .and_then(|key| ApiConfig::new(url, key.as_ref().map(|(k, s)| (k.as_str(), *s))))
            .map(|mut api| {
                api.timeout = Duration::from_secs(timeout);
                api.retry.base = Duration::from_millis(retry_base_ms);
                api
            });
        Ok(Config {
            verbose: args.verbose > 0,
            // -f, then TEAMSYNC_FILE, then the default (docs/contract.md §1); a file named
            // either way is meant, so it must exist.
            file: args
                .file
                .clone()
                .or_else(|| env.file.clone())
                .unwrap_or_else(|| PathBuf::from(DEFAULT_FILE)),
            file_explicit: args.file.is_some() || env.file.is_some(),
            color: match (args.no_color, args.color) {
                (true, _) => ColorChoice::Never,
                (false, choice) => choice.unwrap_or(ColorChoice::Auto),
            },
            self_from: match args.self_email.as_deref().filter(|s| !s.trim().is_empty()) {
                Some(_) => crate::plan::SelfFrom::Flag,
                None => crate::plan::SelfFrom::Env,
            },
            self_email: args
                .self_email
                .as_deref()
                .or(env.self_email.as_deref())
                .filter(|s| !s.trim().is_empty())
                .map(Email::new),
            today,
            now,
            api,
            step_summary: env.step_summary.clone(),
        })
    }

    /// Now: `TEAMSYNC_NOW` when set (tests), else the system clock. Read by the commands only;
    /// the planner and the renderers get what they need from it as values.
    pub(crate) fn now(&self) -> Timestamp {
        self.now
            .clone()
            .unwrap_or_else(|| Timestamp::from_system_time(std::time::SystemTime::now()))
    }
}

#[cfg(test)]
mod tests {
    /// The help text states the defaults in words (clap and the man pages take it as it is);
    /// it must state the ones the code uses.
    #[test]
    fn the_help_states_the_defaults_the_code_uses() {
        let entry = |name: &str| {
            crate::help::ENVIRONMENT
                .entries
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, text)| *text)
                .unwrap_or_default()
        };
        let retry = crate::api::RetryPolicy::default();
        for (name, words) in [
            (
                "TEAMSYNC_TIMEOUT",
                format!("default {DEFAULT_TIMEOUT_SECS}."),
            ),
            ("TEAMSYNC_FILE", format!("default {DEFAULT_FILE}.")),
            (
                "TEAMSYNC_RETRY_BASE_MS",
                format!(
                    "default {}, doubling per attempt with jitter, at most {} s.",
                    retry.base.as_millis(),
                    retry.cap.as_secs()
                ),
            ),
        ] {
            assert!(
                entry(name).ends_with(&words),
                "{name}: {:?} does not end with {words:?}",
                entry(name)
            );
        }
        let timeout = crate::cli::command()
            .get_arguments()
            .find(|a| a.get_id() == "timeout")
            .and_then(|a| a.get_help().map(ToString::to_string))
            .unwrap_or_default();
        let words = format!("default: {DEFAULT_TIMEOUT_SECS}]");
        assert!(
            timeout.ends_with(&words),
            "--timeout: {timeout:?} does not end with {words:?}"
        );
    }

    use super::*;

    const KEY: Option<(&str, KeySource)> = Some(("scl_live_secret", KeySource::Variable));

    #[test]
    fn https_anywhere_http_only_on_loopback() {
        assert!(ApiConfig::new("https://api.scaling.cloud/v1", KEY).is_ok());
        for ok in [
            "http://127.0.0.1:8080/v1",
            "http://127.8.9.10/v1",
            "http://[::1]:9/v1",
            "http://localhost:1/v1",
            "http://LOCALHOST/v1",
        ] {
            assert!(ApiConfig::new(ok, KEY).is_ok(), "{ok}");
        }
        for bad in [
            "http://api.scaling.cloud/v1",
            "http://10.0.0.1/v1",
            "http://127.0.0.1.evil.com/v1",
            "http://localhost.evil.com/",
        ] {
            assert!(
                matches!(ApiConfig::new(bad, KEY), Err(ConfigError::InsecureUrl(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            ApiConfig::new("ftp://x.com/", KEY),
            Err(ConfigError::BadScheme(_))
        ));
        assert!(matches!(
            ApiConfig::new("not a url", KEY),
            Err(ConfigError::BadUrl(_))
        ));
    }

    #[test]
    fn urls_with_user_info_are_refused_and_never_shown() {
        for url in [
            "https://user:hunter2@api.scaling.cloud/v1",
            "https://hunter2@api.scaling.cloud/v1",
            "https://user:hunter2@api.scaling.cloud",
            "http://user:hunter2@127.0.0.1:9/v1",
            "ftp://user:hunter2@x.com/",
            "http://user:hunter2@10.0.0.1/v1",
            "https://us er:hunter2@exa mple.com/v1",
        ] {
            let err = ApiConfig::new(url, KEY).unwrap_err();
            let text = err.to_string();
            assert!(!text.contains("hunter2"), "{url}: {text}");
            assert!(text.contains("***@"), "{url}: {text}");
        }
        assert!(matches!(
            ApiConfig::new("https://user:hunter2@api.scaling.cloud/v1", KEY),
            Err(ConfigError::UrlWithCredentials(_))
        ));
        assert_eq!(
            redact_url("https://a:b@c@host:1/v1?x=@y"),
            "https://***@host:1/v1?x=@y"
        );
        assert_eq!(redact_url("https://host/v1@x"), "https://host/v1@x");
        assert_eq!(redact_url("a:b@host"), "***@host");
    }

    #[test]
    fn base_url_gets_a_trailing_slash_so_paths_join_under_it() {
        let c = ApiConfig::new("https://api.scaling.cloud/v1", KEY).unwrap();
        assert_eq!(
            c.base_url.join("team/members").unwrap().as_str(),
            "https://api.scaling.cloud/v1/team/members"
        );
    }

    #[test]
    fn key_is_required_and_redacted() {
        assert_eq!(
            ApiConfig::new("https://a.b/v1", None).unwrap_err(),
            ConfigError::MissingKey
        );
        assert_eq!(
            ApiConfig::new("https://a.b/v1", Some(("  ", KeySource::File))).unwrap_err(),
            ConfigError::MissingKey
        );
        assert_eq!(
            ApiConfig::new("https://a.b/v1", Some(("scl_live_a\nb", KeySource::File))).unwrap_err(),
            ConfigError::BadKey(KeySource::File)
        );
        let c = ApiConfig::new("https://a.b/v1", KEY).unwrap();
        let shown = format!("{c:?} {}", c.key);
        assert!(!shown.contains("secret"), "{shown}");
        assert_eq!(c.key.expose(), "scl_live_secret");
        let env = Environment::from_vars([("SCALING_API_KEY".into(), "scl_live_secret".into())]);
        assert!(!format!("{env:?}").contains("secret"));
    }

    /// An environment of `SCALING_API_KEY` and `SCALING_API_KEY_FILE` (`None`: unset).
    fn key_env(key: Option<&str>, file: Option<&std::path::Path>) -> Environment {
        let mut vars: Vec<(OsString, OsString)> = Vec::new();
        if let Some(k) = key {
            vars.push(("SCALING_API_KEY".into(), k.into()));
        }
        if let Some(f) = file {
            vars.push(("SCALING_API_KEY_FILE".into(), f.into()));
        }
        Environment::from_vars(vars)
    }

    #[test]
    fn the_key_comes_from_the_variable_or_the_first_line_of_the_file_never_both() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("key");
        std::fs::write(&file, "  scl_live_fromfile \r\nsecond line\n").unwrap();
        let key = Environment::key;
        assert_eq!(
            key(&key_env(Some("scl_live_var"), None)),
            Ok(Some(("scl_live_var".into(), KeySource::Variable)))
        );
        assert_eq!(
            key(&key_env(None, Some(&file))),
            Ok(Some(("scl_live_fromfile".into(), KeySource::File)))
        );
        assert_eq!(
            key(&key_env(Some(""), Some(&file))),
            Ok(Some(("scl_live_fromfile".into(), KeySource::File))),
            "an empty variable is unset"
        );
        assert_eq!(key(&key_env(Some(""), None)), Ok(None));
        assert_eq!(
            key(&key_env(Some("scl_live_var"), Some(&file))),
            Err(ConfigError::KeyAndKeyFile)
        );
        let env = key_env(None, Some(&file));
        assert!(!format!("{env:?}").contains("fromfile"), "{env:?}");
    }

    #[test]
    fn a_key_file_that_cannot_give_a_key_is_named_never_shown() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, bytes: &[u8]| {
            let p = dir.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            p
        };
        let cases = [
            (dir.path().join("missing"), "No such file"),
            (write("empty", b""), "first line is empty"),
            (
                write("blank", b"  \nscl_live_SECRET\n"),
                "first line is empty",
            ),
            (write("binary", b"scl_live_SECRET\xff\n"), "not UTF-8"),
            (dir.path().to_path_buf(), "not a regular file"),
        ];
        #[cfg(unix)]
        let cases = {
            // A FIFO with no writer: an error at once, not a hang.
            let fifo = dir.path().join("fifo");
            let made = std::process::Command::new("mkfifo").arg(&fifo).status();
            assert!(made.expect("mkfifo is needed").success());
            let mut cases = cases.to_vec();
            cases.push((fifo, "not a regular file"));
            cases
        };
        for (path, why) in cases {
            let e = key_env(None, Some(&path)).key().unwrap_err();
            let text = e.to_string();
            assert!(text.contains(&path.display().to_string()), "{text}");
            assert!(text.contains("SCALING_API_KEY_FILE"), "{text}");
            assert!(text.contains(why), "{text}");
            assert!(!text.contains("SECRET"), "{text}");
        }
        let spaced = write("spaced", b"scl_live_a b\n");
        let key = key_env(None, Some(&spaced)).key().unwrap().unwrap();
        let e = ApiConfig::new("https://a.b/v1", Some((&key.0, key.1))).unwrap_err();
        assert_eq!(e, ConfigError::BadKey(KeySource::File));
        assert!(e.to_string().contains("SCALING_API_KEY_FILE names"), "{e}");
    }

    #[test]
    fn colour_follows_the_flag_then_no_color_then_clicolor() {
        let env = |vars: &[(&str, &str)]| {
            Environment::from_vars(vars.iter().map(|(k, v)| (k.into(), v.into())))
        };
        let auto = ColorChoice::Auto;
        assert!(auto.decide(&env(&[("TERM", "xterm-256color")]), true));
        assert!(!auto.decide(&env(&[("TERM", "xterm-256color")]), false));
        // docs/contract.md §1 (`TERM`): a dumb terminal gets no colour, unless CLICOLOR, CI or CLICOLOR_FORCE say so.
        assert!(!auto.decide(&env(&[("TERM", "dumb")]), true));
        assert!(auto.decide(&env(&[("TERM", "dumb"), ("CLICOLOR", "1")]), true));
        assert!(auto.decide(&env(&[("TERM", "dumb"), ("CI", "true")]), true));
        assert!(auto.decide(&env(&[("TERM", "dumb"), ("CLICOLOR_FORCE", "1")]), false));
        assert_eq!(auto.decide(&env(&[]), true), cfg!(windows), "TERM unset");
        assert!(!auto.decide(&env(&[("NO_COLOR", "1"), ("TERM", "xterm")]), true));
        assert!(!auto.decide(&env(&[("CLICOLOR", "0"), ("TERM", "xterm")]), true));
        assert!(auto.decide(&env(&[("CLICOLOR_FORCE", "1")]), false));
        assert!(!auto.decide(&env(&[("CLICOLOR_FORCE", "0")]), false));
        assert!(
            !auto.decide(&env(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]), false),
            "NO_COLOR wins"
        );
        assert!(ColorChoice::Always.decide(&env(&[("NO_COLOR", "1")]), false));
        assert!(!ColorChoice::Never.decide(&env(&[("CLICOLOR_FORCE", "1")]), true));
    }

    #[test]
    fn a_fixed_clock_sets_now_and_today_unless_today_is_fixed_too() {
        let env = |vars: &[(&str, &str)]| {
            Environment::from_vars(vars.iter().map(|(k, v)| (k.into(), v.into())))
        };
        let c = Config::resolve(
            &global(&[]),
            &env(&[("TEAMSYNC_NOW", "2027-03-31T23:30:00-02:00")]),
        )
        .unwrap();
        assert_eq!(c.now().as_str(), "2027-03-31T23:30:00-02:00");
        assert_eq!(c.today.to_string(), "2027-04-01", "the UTC date of now");
        let both = env(&[
            ("TEAMSYNC_NOW", "2027-03-31T12:00:00Z"),
            ("TEAMSYNC_TODAY", "2030-01-01"),
        ]);
        assert_eq!(
            Config::resolve(&global(&[]), &both)
                .unwrap()
                .today
                .to_string(),
            "2030-01-01"
        );
        assert_eq!(
            Config::resolve(&global(&[]), &env(&[("TEAMSYNC_NOW", "noon")])).unwrap_err(),
            ConfigError::BadNow("noon".into())
        );
        let clock = Config::resolve(&global(&[]), &env(&[])).unwrap();
        assert!(clock.now.is_none() && clock.now().date() > Date::parse("2020-01-01").unwrap());
    }

    /// The global flags as clap parses `args` (after `teamsync`, before `validate`).
    fn global(args: &[&str]) -> GlobalArgs {
        let argv = ["teamsync"].iter().chain(args).chain(&["validate"]);
        <crate::cli::Cli as clap::Parser>::try_parse_from(argv)
            .unwrap()
            .global
    }

    #[test]
    fn flags_win_over_the_environment_and_empty_variables_are_unset() {
        let env = Environment::from_vars(
            [
                ("SCALING_API_KEY", "k"),
                ("SCALING_API_URL", ""),
                ("TEAMSYNC_SELF", "Me@X.io"),
                ("TEAMSYNC_TIMEOUT", "7"),
                ("NO_COLOR", ""),
                ("TERM", "xterm"),
                ("TEAMSYNC_FILE", ""),
            ]
            .map(|(k, v)| (k.into(), v.into())),
        );
        let c = Config::resolve(&global(&["--today", "2027-01-02"]), &env).unwrap();
        let api = c.api.as_ref().unwrap();
        assert_eq!(api.base_url.as_str(), "https://api.scaling.cloud/v1/");
        assert_eq!(api.timeout, Duration::from_secs(7));
        assert_eq!(c.self_email, Some(Email::new("me@x.io")));
        assert_eq!(
            (c.file.as_path(), c.file_explicit),
            (std::path::Path::new("teamsync.yaml"), false)
        );
        assert!(
            c.color.decide(&env, true),
            "an empty NO_COLOR does not count"
        );
        let flags = global(&["--timeout", "3", "--self", "other@x.io", "-f", "t.yaml"]);
        let c = Config::resolve(&flags, &env).unwrap();
        assert_eq!(c.api.unwrap().timeout, Duration::from_secs(3));
        assert_eq!(c.self_email, Some(Email::new("other@x.io")));
        assert_eq!(
            (c.file.as_path(), c.file_explicit),
            (std::path::Path::new("t.yaml"), true)
        );
        assert!(!c.color.decide(&env, false), "no colour off a terminal");
        let after = ["teamsync", "validate", "-f", "late.yaml"];
        let after = <crate::cli::Cli as clap::Parser>::try_parse_from(after).unwrap();
        let c = Config::resolve(&after.global, &env).unwrap();
        assert!(c.file_explicit, "-f after the command's name counts too");
        assert_eq!(
            Config::resolve(&global(&["--no-color"]), &env)
                .unwrap()
                .color,
            ColorChoice::Never
        );
        let bad = Environment {
            timeout: Some("soon".into()),
            ..Environment::default()
        };
        assert_eq!(
            Config::resolve(&global(&[]), &bad).unwrap_err(),
            ConfigError::BadNumber {
                var: "TEAMSYNC_TIMEOUT",
                value: "soon".into()
            }
        );
    }
}
