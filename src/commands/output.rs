//! Files a command writes: `plan --out`, `apply --report`, `export -o` and its parts, adopt's
//! edit (docs/contract.md §6, "Files written"). Every one goes through here:
//!
//! - [`Output::check`], before any request: an output never names a file the command reads
//!   (the desired file, a part of the desired directory, the saved plan being applied), compared
//!   by identity (the same file whatever the spelling: `./`, a symbolic or a hard link), nor a
//!   new file that would become a part of the desired directory; and, where asked, not an
//!   existing file at all (`export -o` without `--force`); and it must be writable: a folder
//!   that takes no new file (read-only), a read-only file or a device that refuses every write
//!   (`/dev/full`) is found there, before anything is sent ([`probe`]).
//! - [`Output::write`]: a regular file, or a link to one, is replaced atomically
//!   ([`write_atomically`]: the link stays, the file's permissions too); anything else that
//!   exists (`/dev/stdout`, a FIFO, a terminal, a device) is opened and written to, never
//!   renamed over; the process's own stdout or stderr, when the path is that same file
//!   (`--report /dev/stdout > out.txt`), is written through the [`Ui`], after what it printed.

use crate::error::CommandError;
use crate::ui::{Stream, Ui};
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// A file the command reads, and how a message names it (`is the desired-state file`).
struct Input {
    path: PathBuf,
    what: String,
}

/// The files a command reads, which none of its outputs may name.
pub(crate) struct Inputs {
    files: Vec<Input>,
    /// `-f DIR`: a new YAML file in there would be a part of the desired state.
    directory: Option<PathBuf>,
    /// `--baseline DIR`: likewise, a new YAML file there would be a part of the baseline.
    baseline: Option<PathBuf>,
}

impl Inputs {
    /// The desired state `-f path` names: the file, or each part of the directory (found as
    /// the loader finds them, not read).
    pub(crate) fn desired(path: &Path) -> Inputs {
        match crate::parts::discover(path) {
            Ok((true, parts)) => Inputs {
                files: parts
                    .into_iter()
                    .map(|part| Input {
                        what: format!("is a part of the desired directory {}", path.display()),
                        path: part.path,
                    })
                    .collect(),
                directory: Some(path.to_path_buf()),
                baseline: None,
            },
            // A file, or a directory teamsync cannot read (the load says why).
            _ => Inputs {
                files: vec![Input {
                    path: path.to_path_buf(),
                    what: "is the desired-state file".into(),
                }],
                directory: None,
                baseline: None,
            },
        }
    }

    /// Adds the saved plan `apply PLANFILE` reads.
    pub(crate) fn and_plan_file(self, path: &Path) -> Inputs {
        self.and_file(path, "is the saved plan being applied")
    }

    /// Adds another file the command reads (`plan --baseline`, `plan --live`); `what` says
    /// what it is, as in `is the snapshot planned against`.
    pub(crate) fn and_file(mut self, path: &Path, what: &str) -> Inputs {
        self.files.push(Input {
            path: path.to_path_buf(),
            what: what.into(),
        });
        self
    }

    /// Adds `plan` or `apply --baseline PATH`: a file, or each part of a directory, and a new YAML file
    /// below that directory, which would become a part of it (docs/contract.md §6).
    pub(crate) fn and_baseline(mut self, path: &Path) -> Inputs {
        match crate::parts::discover(path) {
            Ok((true, parts)) => {
                for part in parts {
                    self.files.push(Input {
                        what: format!("is a part of the --baseline directory {}", path.display()),
                        path: part.path,
                    });
                }
                self.baseline = Some(path.to_path_buf());
                self
            }
            _ => self.and_file(path, "is the --baseline file"),
        }
    }

    /// What `path` (an existing regular file) is among the inputs, if it is one.
    fn find(&self, path: &Path) -> Option<&Input> {
        self.files.iter().find(|input| {
            // Only regular files are compared: opening a FIFO to compare it would wait for a
            // writer.
            std::fs::metadata(&input.path).is_ok_and(|m| m.is_file())
                && same_file::is_same_file(path, &input.path).unwrap_or(false)
        })
    }

    /// Whether `path`, which does not exist yet, would be found as a part of the desired
    /// directory once written: below it, a YAML file, no hidden folder on the way.
    /// The directory it would be a part of, when it would be one: the desired directory or
    /// the baseline's.
    fn would_be_part(&self, path: &Path) -> Option<(&Path, &'static str)> {
        if !crate::parts::is_yaml(path) {
            return None;
        }
        [
            (self.directory.as_deref(), "the desired directory"),
            (self.baseline.as_deref(), "the --baseline directory"),
        ]
        .into_iter()
        .find_map(|(dir, what)| dir.filter(|d| below(d, path)).map(|d| (d, what)))
    }

    /// Whether `path` (which may not exist yet, nor its folders) lies below the desired
    /// directory, or is it, with no hidden folder on the way: where the loader looks for parts.
    fn below_directory(&self, path: &Path) -> bool {
        self.directory.as_deref().is_some_and(|d| below(d, path))
    }
}

/// Whether `path` (which may not exist yet, nor its folders) lies below `dir`, or is it, with no
/// hidden folder on the way: where the loader looks for parts.
fn below(dir: &Path, path: &Path) -> bool {
    let Ok(dir) = dir.canonicalize() else {
        return false;
    };
    // The nearest folder that exists, resolved, and the names below it.
    let mut existing = if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    };
    let mut rest = Vec::new();
    let resolved = loop {
        if let Ok(p) = existing.canonicalize() {
            break p;
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = if parent.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    parent
                };
            }
            _ => return false,
        }
    };
    let Ok(below) = resolved.strip_prefix(&dir) else {
        return false;
    };
    !below
        .components()
        .map(|c| c.as_os_str().to_os_string())
        .chain(rest)
        .any(|c| c.to_string_lossy().starts_with('.'))
}

impl Inputs {
    /// Refuses `--split-by`'s directory `dir` when it is the desired directory or below it:
    /// its parts would become parts of the desired state (docs/contract.md §6).
    pub(crate) fn check_directory(
        &self,
        dir: &Path,
        flag: &'static str,
    ) -> Result<(), CommandError> {
        match &self.directory {
            Some(desired) if self.below_directory(dir) => Err(CommandError::OutputIsInput {
                flag,
                path: dir.display().to_string(),
                what: format!(
                    "is inside the desired directory {}: its parts would become parts of it",
                    desired.display()
                ),
            }),
            _ => Ok(()),
        }
    }
}

/// Whether an output may replace an existing regular file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Existing {
    Replace,
    /// `export -o` without `--force`: an existing file is refused.
    Refuse,
}

/// An output path, checked against the inputs ([`Output::check`]).
#[derive(Debug)]
pub(crate) struct Output {
    path: PathBuf,
}

impl Output {
    /// Checks the output `flag` names, before the command sends any request: refused when it
    /// is one of `inputs`, would become a part of the desired directory, is a directory, is in
    /// a folder that does not exist, or exists while `existing` is [`Existing::Refuse`]. A path that exists and is not a
    /// regular file (`/dev/stdout`, a FIFO) is accepted: it is written to, not replaced.
    pub(crate) fn check(
        path: &Path,
        flag: &'static str,
        inputs: &Inputs,
        existing: Existing,
    ) -> Result<Output, CommandError> {
        let shown = || path.display().to_string();
        match std::fs::metadata(path) {
            Ok(m) if m.is_file() => {
                if let Some(input) = inputs.find(path) {
                    return Err(CommandError::OutputIsInput {
                        flag,
                        path: shown(),
                        what: input.what.clone(),
                    });
                }
                if existing == Existing::Refuse {
                    return Err(CommandError::OutputExists {
                        flag,
                        path: shown(),
                    });
                }
            }
            Ok(m) if m.is_dir() => {
                return Err(CommandError::WriteFile {
                    path: shown(),
                    source: is_a_directory(),
                });
            }
            // A FIFO, a terminal, a device: written to when the time comes.
            Ok(_) => {}
            Err(_) if inputs.would_be_part(path).is_some() => {
                let (dir, what) = inputs.would_be_part(path).unwrap_or((Path::new("."), ""));
                return Err(CommandError::OutputIsInput {
                    flag,
                    path: shown(),
                    what: format!("would become a part of {what} {}", dir.display()),
                });
            }
            // Not there yet: its folder must be, or the write would fail once it is too late.
            Err(_) => {
                let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
                if parent.is_some_and(|p| !p.is_dir()) {
                    return Err(CommandError::WriteFile {
                        path: shown(),
                        source: std::io::Error::new(
                            std::io::ErrorKind::NotFound,
                            "its folder does not exist",
                        ),
                    });
                }
            }
        }
        probe(path).map_err(|source| CommandError::WriteFile {
            path: shown(),
            source,
        })?;
        Ok(Output {
            path: path.to_path_buf(),
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `text` to the output (see the module's documentation).
    pub(crate) fn write(&self, ui: &Ui, text: &str) -> Result<(), CommandError> {
        let path = &self.path;
        let err = |source| CommandError::WriteFile {
            path: path.display().to_string(),
            source,
        };
        match std::fs::metadata(path) {
            Ok(m) if m.is_file() => match own_stream(path) {
                Some(stream) => ui.write_checked(stream, text).map_err(err),
                None => write_atomically(path, text.as_bytes()),
            },
            Ok(m) if m.is_dir() => Err(err(is_a_directory())),
            Ok(_) => {
                // Not truncated or created: a FIFO, a terminal or a device takes what is written.
                let mut f = std::fs::OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(err)?;
                f.write_all(text.as_bytes())
                    .and_then(|()| f.flush())
                    .map_err(err)
            }
            Err(_) => write_atomically(path, text.as_bytes()),
        }
    }
}

/// Whether `path` can be written, found without writing a byte to it (docs/contract.md §6:
/// before the first request that changes the org): a regular file, or a new one, is replaced
/// through a new file beside it, so its folder must take one and an existing file must not be
/// read-only; a character device (`/dev/full`, a terminal, `/dev/null`) is opened and given an
/// empty write, which a device that refuses every write refuses too. A FIFO or a socket is left
/// alone: opening one may wait for a reader.
pub(crate) fn probe(path: &Path) -> std::io::Result<()> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => {
            if m.permissions().readonly() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    "the file is read-only",
                ));
            }
            probe_folder(&path.canonicalize()?)
        }
        Ok(m) if is_char_device(&m) => {
            let mut f = std::fs::OpenOptions::new().write(true).open(path)?;
            // An empty write: nothing reaches a terminal or a pipe, but a device that takes
            // nothing says so (ENOSPC from /dev/full).
            f.write(&[]).map(drop)
        }
        Ok(_) => Ok(()),
        Err(_) => probe_folder(path),
    }
}

/// Whether the folder of `path` takes a new file: one is made there and removed at once.
fn probe_folder(path: &Path) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    tempfile::Builder::new()
        .prefix(".teamsync-probe-")
        .tempfile_in(dir)
        .map(drop)
        .map_err(without_temp_path)
}

#[cfg(unix)]
fn is_char_device(m: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    m.file_type().is_char_device()
}

#[cfg(not(unix))]
fn is_char_device(_: &std::fs::Metadata) -> bool {
    false
}

fn is_a_directory() -> std::io::Error {
    std::io::Error::other("it is a directory; name a file")
}

/// Whether `path` is the very file this process's stdout or stderr writes to.
fn own_stream(path: &Path) -> Option<Stream> {
    let file = same_file::Handle::from_path(path).ok()?;
    if same_file::Handle::stdout().is_ok_and(|h| h == file) {
        Some(Stream::Out)
    } else if same_file::Handle::stderr().is_ok_and(|h| h == file) {
        Some(Stream::Err)
    } else {
        None
    }
}

/// Writes `bytes` to the regular file `path` (created if missing) so that a reader sees the
/// old file or the new one, never half of one: a temporary file with an unpredictable (and
/// hidden) name beside it, synced, then renamed over it, and removed if anything fails. A
/// symbolic link is followed: the file it names is replaced and the link stays. An existing
/// file keeps its permissions, and a read-only one is left as it is (an error); a new one gets
/// the usual permissions (0666 less the umask).
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), CommandError> {
    write_atomically_checked(path, bytes, || Ok(()))
}

/// [`write_atomically`], with `before_rename` run once the new bytes are synced, right before
/// the rename: an error from it removes the temporary file and leaves `path` as it was (adopt
/// checks there that the file has not changed since it was read; docs/contract.md §7).
pub(crate) fn write_atomically_checked(
    path: &Path,
    bytes: &[u8],
    before_rename: impl FnOnce() -> Result<(), CommandError>,
) -> Result<(), CommandError> {
    let err = |source| CommandError::WriteFile {
        path: path.display().to_string(),
        source: without_temp_path(source),
    };
    let existing = match std::fs::metadata(path) {
        Ok(m) => Some(m),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(err(e)),
    };
    if existing
        .as_ref()
        .is_some_and(|m| m.permissions().readonly())
    {
        return Err(err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            "the file is read-only; it was left as it was",
        )));
    }
    // The file a link names (a dangling link is replaced by the file).
    let target = match &existing {
        Some(_) => std::fs::canonicalize(path).map_err(err)?,
        None => path.to_path_buf(),
    };
    let dir = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut builder = tempfile::Builder::new();
    if existing.is_none() {
        new_file_permissions(&mut builder);
    }
    let mut tmp = builder.tempfile_in(dir).map_err(err)?;
    if let Some(m) = &existing {
        tmp.as_file()
            .set_permissions(m.permissions())
            .map_err(err)?;
    }
    tmp.write_all(bytes).map_err(err)?;
    tmp.as_file().sync_all().map_err(err)?;
    before_rename()?;
    tmp.persist(&target).map_err(|e| err(e.error))?;
    Ok(())
}

/// A new file's permissions: 0666 masked by the umask at creation, as for any new file
/// (tempfile's own default, 0600, is for temporary files).
#[cfg(unix)]
fn new_file_permissions(builder: &mut tempfile::Builder<'_, '_>) {
    use std::os::unix::fs::PermissionsExt as _;
    builder.permissions(std::fs::Permissions::from_mode(0o666));
}

/// Elsewhere files have no mode bits: tempfile's default is an ordinary file.
#[cfg(not(unix))]
fn new_file_permissions(_: &mut tempfile::Builder<'_, '_>) {}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    fn refused(r: Result<Output, CommandError>) -> String {
        r.expect_err("refused").to_string()
    }

    #[test]
    fn an_output_naming_the_desired_file_is_refused_however_it_is_spelled() {
        let d = dir();
        let file = d.path().join("teamsync.yaml");
        std::fs::write(&file, "version: 1\n").unwrap();
        let inputs = Inputs::desired(&file);
        let dotted = d.path().join(".").join("teamsync.yaml");
        let hard = d.path().join("hard.yaml");
        std::fs::hard_link(&file, &hard).unwrap();
        let mut spellings = vec![file.clone(), dotted, hard.clone()];
        #[cfg(unix)]
        {
            let linked = d.path().join("link.json");
            std::os::unix::fs::symlink(&file, &linked).unwrap();
            spellings.push(linked);
        }
        for path in &spellings {
            let r = Output::check(path, "--out", &inputs, Existing::Replace);
            assert!(r.is_err(), "{}", path.display());
        }
        let text = refused(Output::check(&hard, "--out", &inputs, Existing::Replace));
        assert!(text.contains("is the desired-state file"), "{text}");
        // Another existing file is fine to replace, a new one too.
        let other = d.path().join("other.json");
        std::fs::write(&other, "{}").unwrap();
        assert!(Output::check(&other, "--out", &inputs, Existing::Replace).is_ok());
        assert!(
            Output::check(
                &d.path().join("new.json"),
                "--out",
                &inputs,
                Existing::Replace
            )
            .is_ok()
        );
        // … unless asked not to.
        let text = refused(Output::check(&other, "-o", &inputs, Existing::Refuse));
        assert!(text.contains("--force"), "{text}");
    }

    #[test]
    fn parts_and_would_be_parts_of_the_desired_directory_are_refused() {
        let d = dir();
        let org = d.path().join("org");
        std::fs::create_dir_all(org.join("eng")).unwrap();
        std::fs::create_dir_all(org.join(".hidden")).unwrap();
        std::fs::write(org.join("eng/a.yaml"), "members: []\n").unwrap();
        let inputs = Inputs::desired(&org);
        let check = |p: &Path| Output::check(p, "--report", &inputs, Existing::Replace);
        let text = refused(check(&org.join("eng/../eng/a.yaml")));
        assert!(
            text.contains("is a part of the desired directory"),
            "{text}"
        );
        let text = refused(check(&org.join("eng/new.yml")));
        assert!(text.contains("would become a part"), "{text}");
        assert!(check(&org.join("eng/report.json")).is_ok(), "not YAML");
        assert!(
            check(&org.join(".hidden/new.yaml")).is_ok(),
            "hidden: never a part"
        );
        assert!(
            check(&org.join("eng/.new.yaml")).is_ok(),
            "hidden: never a part"
        );
        assert!(
            check(&d.path().join("beside.yaml")).is_ok(),
            "outside the directory"
        );
        assert!(
            refused(check(&org)).contains("directory"),
            "a directory is no output"
        );
    }

    #[test]
    fn the_saved_plan_being_applied_is_an_input() {
        let d = dir();
        let plan = d.path().join("plan.json");
        std::fs::write(&plan, "{}").unwrap();
        let inputs = Inputs::desired(&d.path().join("teamsync.yaml")).and_plan_file(&plan);
        let text = refused(Output::check(&plan, "--report", &inputs, Existing::Replace));
        assert!(text.contains("is the saved plan being applied"), "{text}");
    }

    #[cfg(unix)]
    #[test]
    fn a_link_is_kept_and_its_file_replaced_with_its_permissions() {
        use std::os::unix::fs::PermissionsExt as _;
        let d = dir();
        let real = d.path().join("real.json");
        std::fs::write(&real, "old").unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
        let link = d.path().join("link.json");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_atomically(&link, b"new").unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
        let mode = std::fs::metadata(&real).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
        // A read-only file is left alone.
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o444)).unwrap();
        let e = write_atomically(&real, b"newer").unwrap_err().to_string();
        assert!(e.contains("read-only"), "{e}");
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }
}
