//! The parts of a desired state (docs/contract.md §10): `-f FILE` is one part; `-f DIR` is every
//! `*.yaml` and `*.yml` file below DIR (the extension in any case), recursively, in sorted path
//! order, hidden files and folders skipped. This module finds the parts and reads them;
//! [`crate::desired::load`] validates them as one desired state.
//!
//! A part is read only when it is a regular file of at most [`MAX_PART_BYTES`]: a FIFO would
//! block the plan job forever and a link to `/dev/zero` would fill its memory, and a pull
//! request can commit either. What is found is checked before it is opened, opened without
//! blocking, checked again once open (it may have been swapped in between), and read no further
//! than the cap.

use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};

/// The most one part may hold (docs/contract.md §10): a file of 100,000 members is about 6 MB.
pub(crate) const MAX_PART_MIB: u64 = 64;
/// [`MAX_PART_MIB`] in bytes.
pub(crate) const MAX_PART_BYTES: u64 = MAX_PART_MIB * 1024 * 1024;

/// One file of the desired state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Part {
    /// Where it is read from.
    pub(crate) path: PathBuf,
    /// How messages name it: the path as reached from `-f` (`org/eng.yaml`).
    pub(crate) name: String,
}

/// Every part, read.
#[derive(Debug)]
pub(crate) struct Sources {
    /// `-f` as given.
    pub(crate) root: PathBuf,
    /// Whether `-f` named a directory (then each part is one of several).
    pub(crate) directory: bool,
    pub(crate) parts: Vec<Part>,
    /// Each part's bytes, in the order of `parts`.
    pub(crate) bytes: Vec<Vec<u8>>,
}

/// Why the parts cannot be found or read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PartsError {
    #[error("cannot read {path}: {source}; create it (see `teamsync export`) or pass -f FILE")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "{path} is an empty directory; put the desired state in *.yaml files there (see `teamsync export --split-by domain`)"
    )]
    EmptyDirectory { path: String },
    #[error(
        "{path} holds no *.yaml or *.yml file (hidden ones are skipped); put the desired state there (see `teamsync export --split-by domain`)"
    )]
    NoYaml { path: String },
    #[error(
        "symbolic link loop: {path} leads back to {ancestor}; remove the link or point -f elsewhere"
    )]
    SymlinkLoop { path: String, ancestor: String },
    #[error(
        "{path} is a symbolic link that {why}; a link in a desired directory must lead to a file inside the repository (the git work tree that holds the directory; outside git, the directory itself): replace it with the file, or point it inside"
    )]
    Link { path: String, why: &'static str },
    #[error(
        "{path} already holds YAML files; export into a new or empty directory, so that no part of another state is left in it"
    )]
    NotEmpty { path: String },
    #[error(
        "{path} is not a regular file (it is {what}); the desired state is read from regular files only: replace it with a file, or point -f elsewhere"
    )]
    NotAFile { path: String, what: &'static str },
    #[error(
        "{path} is larger than {MAX_PART_MIB} MiB; a desired-state file of 100,000 members is about 6 MB: is it the file you meant?"
    )]
    TooLarge { path: String },
}

/// Refuses to export parts into a directory that already holds parts (or is a file).
pub(crate) fn check_empty_for_export(dir: &Path) -> Result<(), PartsError> {
    match std::fs::metadata(dir) {
        Err(_) => Ok(()),
        Ok(m) if !m.is_dir() => Err(read_error(
            dir,
            std::io::Error::other("it is a file, not a directory"),
        )),
        Ok(_) => match discover(dir) {
            Ok(_) => Err(PartsError::NotEmpty {
                path: dir.display().to_string(),
            }),
            Err(PartsError::EmptyDirectory { .. } | PartsError::NoYaml { .. }) => Ok(()),
            Err(e) => Err(e),
        },
    }
}

fn read_error(path: &Path, source: std::io::Error) -> PartsError {
    PartsError::Read {
        path: path.display().to_string(),
        source,
    }
}

/// Finds the parts `-f path` names: the file itself, or the YAML files below the directory.
pub(crate) fn discover(path: &Path) -> Result<(bool, Vec<Part>), PartsError> {
    // `metadata` follows links: a link to a directory is a directory.
    let is_dir = match std::fs::metadata(path) {
        Ok(m) => m.is_dir(),
        // A missing file is reported when it is read, as for any file.
        Err(_) => false,
    };
    if !is_dir {
        return Ok((
            false,
            vec![Part {
                path: path.to_path_buf(),
                name: path.display().to_string(),
            }],
        ));
    }
    let mut found = Vec::new();
    let mut ancestors = Vec::new();
    let mut saw_entry = false;
    let root = repository(path)?;
    walk(path, &root, &mut ancestors, &mut found, &mut saw_entry)?;
    if found.is_empty() {
        let path = path.display().to_string();
        return Err(if saw_entry {
            PartsError::NoYaml { path }
        } else {
            PartsError::EmptyDirectory { path }
        });
    }
    // Sorted path order, component by component: `a/b/c.yaml`, `a/z.yaml`, `a.yml`, `b.yaml`.
    found.sort();
    Ok((
        true,
        found
            .into_iter()
            .map(|path| Part {
                name: path.display().to_string(),
                path,
            })
            .collect(),
    ))
}

/// Collects the YAML files below `dir`. `ancestors` are the directories being walked (canonical
/// path, path as reached), to tell a link that leads back up (a loop) from one that leads
/// elsewhere.
fn walk(
    dir: &Path,
    root: &Path,
    ancestors: &mut Vec<(PathBuf, PathBuf)>,
    found: &mut Vec<PathBuf>,
    saw_entry: &mut bool,
) -> Result<(), PartsError> {
    let canonical = std::fs::canonicalize(dir).map_err(|e| loop_or_read(dir, e))?;
    if let Some((_, ancestor)) = ancestors.iter().find(|(c, _)| *c == canonical) {
        return Err(PartsError::SymlinkLoop {
            path: dir.display().to_string(),
            ancestor: ancestor.display().to_string(),
        });
    }
    ancestors.push((canonical, dir.to_path_buf()));
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| read_error(dir, e))? {
        names.push(entry.map_err(|e| read_error(dir, e))?.file_name());
    }
    // In name order, so that what is reported first does not depend on the file system.
    names.sort();
    for name in names {
        *saw_entry = true;
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = dir.join(&name);
        let link = std::fs::symlink_metadata(&path)
            .map_err(|e| read_error(&path, e))?
            .file_type()
            .is_symlink();
        if link {
            inside(&path, root)?;
        }
        let meta = std::fs::metadata(&path).map_err(|e| loop_or_read(&path, e))?;
        if meta.is_dir() {
            walk(&path, root, ancestors, found, saw_entry)?;
        } else if is_yaml(&path) {
            found.push(path);
        }
    }
    ancestors.pop();
    Ok(())
}

/// The repository a desired directory is in (docs/contract.md §10): the git work tree that
/// holds it (the nearest directory up with a `.git`), or, outside git, the directory itself;
/// canonical, links resolved.
fn repository(dir: &Path) -> Result<PathBuf, PartsError> {
    let canonical = std::fs::canonicalize(dir).map_err(|e| loop_or_read(dir, e))?;
    Ok(canonical
        .ancestors()
        .find(|d| d.join(".git").exists())
        .unwrap_or(&canonical)
        .to_path_buf())
}

/// An error unless the symbolic link at `path` leads, through every further link, to
/// something that exists inside `root`. Nothing of the target is read: a link to a secret is
/// never parsed, so no diagnostic can quote it.
fn inside(path: &Path, root: &Path) -> Result<(), PartsError> {
    let link = |why| PartsError::Link {
        path: path.display().to_string(),
        why,
    };
    match std::fs::canonicalize(path) {
        Ok(target) if target.starts_with(root) => Ok(()),
        Ok(_) => Err(link("leads outside the repository")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(link("leads to a path that does not exist"))
        }
        Err(e) => Err(loop_or_read(path, e)),
    }
}

/// A link that points at itself (or at a link that points back) fails with ELOOP.
fn loop_or_read(path: &Path, e: std::io::Error) -> PartsError {
    // ELOOP is 40 on Linux and 62 on the BSDs and macOS.
    let is_loop = matches!(e.raw_os_error(), Some(40) if cfg!(target_os = "linux"))
        || matches!(e.raw_os_error(), Some(62) if cfg!(target_vendor = "apple"));
    if is_loop {
        PartsError::SymlinkLoop {
            path: path.display().to_string(),
            ancestor: path.display().to_string(),
        }
    } else {
        read_error(path, e)
    }
}

/// Whether a file below `-f DIR` is a part, by its name: `*.yaml` and `*.yml`, in any case
/// (`Eng.YAML` is a part).
pub(crate) fn is_yaml(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

/// Finds and reads the parts `-f path` names.
pub(crate) fn read(path: &Path) -> Result<Sources, PartsError> {
    let (directory, parts) = discover(path)?;
    let bytes = parts
        .iter()
        .map(|p| read_part(&p.path))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Sources {
        root: path.to_path_buf(),
        directory,
        parts,
        bytes,
    })
}

/// The bytes of one part (a file `-f` names, a part of a directory, a `--baseline` input): a
/// regular file of at most [`MAX_PART_BYTES`], checked before it is opened and again once open,
/// opened without blocking (a FIFO swapped in after the first check cannot hang the read), and
/// read no further than the cap (a file that grows cannot exhaust memory).
pub(crate) fn read_part(path: &Path) -> Result<Vec<u8>, PartsError> {
    let err = |e| read_error(path, e);
    // `metadata` follows links: a link to `/dev/zero` is a device.
    regular(path, &std::fs::metadata(path).map_err(err)?)?;
    let mut file = open_without_blocking(path).map_err(err)?;
    let opened = file.metadata().map_err(err)?;
    regular(path, &opened)?;
    let mut bytes = Vec::with_capacity(usize::try_from(opened.len()).unwrap_or(0));
    (&mut file)
        .take(MAX_PART_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(err)?;
    if bytes.len() as u64 > MAX_PART_BYTES {
        return Err(PartsError::TooLarge {
            path: path.display().to_string(),
        });
    }
    Ok(bytes)
}

/// The bytes of a document teamsync reads besides the parts (`apply PLANFILE`, `plan --live
/// SNAPSHOT`), with [`read_part`]'s care (a regular file, at most 64 MiB, never blocking on a
/// FIFO), or why not, in words for "cannot read the saved plan PATH: …".
pub(crate) fn read_document(path: &Path) -> Result<Vec<u8>, String> {
    read_part(path).map_err(|e| e.reason())
}

impl PartsError {
    /// Why, in words that follow "cannot read PATH: " (the path is not repeated for a read
    /// error, a special file or a large one; the other errors say it themselves).
    pub(crate) fn reason(&self) -> String {
        match self {
            PartsError::Read { source, .. } => source.to_string(),
            PartsError::NotAFile { what, .. } => format!("it is {what}, not a regular file"),
            PartsError::TooLarge { .. } => format!("it is larger than {MAX_PART_MIB} MiB"),
            other => other.to_string(),
        }
    }
}

/// An error unless `meta` is a regular file of at most [`MAX_PART_BYTES`].
fn regular(path: &Path, meta: &std::fs::Metadata) -> Result<(), PartsError> {
    let kind = meta.file_type();
    if !kind.is_file() {
        return Err(PartsError::NotAFile {
            path: path.display().to_string(),
            what: file_kind(kind),
        });
    }
    if meta.len() > MAX_PART_BYTES {
        return Err(PartsError::TooLarge {
            path: path.display().to_string(),
        });
    }
    Ok(())
}

/// What a file that is not a regular file is, in words.
fn file_kind(kind: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if kind.is_fifo() {
            return "a FIFO, a named pipe";
        }
        if kind.is_char_device() {
            return "a character device";
        }
        if kind.is_block_device() {
            return "a block device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    if kind.is_dir() {
        "a directory"
    } else {
        "neither a file nor a directory"
    }
}

/// Opens `path` for reading; on Unix with `O_NONBLOCK`, so that opening a FIFO (swapped in for a
/// file after it was checked) returns at once instead of waiting for a writer.
pub(crate) fn open_without_blocking(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

impl Sources {
    /// The saved plan's file fingerprint (docs/contract.md §10): for one file, `sha256:` of its
    /// bytes; for a directory, `sha256:` over every part's path (relative to the directory)
    /// and the digest of its bytes, so that a part added, removed, renamed or changed makes a
    /// saved plan stale.
    pub(crate) fn fingerprint(&self) -> String {
        if !self.directory {
            return fingerprint(self.bytes.first().map_or(&[][..], |b| b));
        }
        let mut listing = String::new();
        for (part, bytes) in self.parts.iter().zip(&self.bytes) {
            let relative = part.path.strip_prefix(&self.root).unwrap_or(&part.path);
            let digest = Sha256::digest(bytes);
            let _ = write!(listing, "{}\0", relative.display());
            for b in digest.iter() {
                let _ = write!(listing, "{b:02x}");
            }
            listing.push('\n');
        }
        fingerprint(listing.as_bytes())
    }
}

/// `sha256:` and the hex digest of `bytes`: the fingerprints a saved plan keeps of the file
/// and of the org (docs/contract.md §10).
pub(crate) fn fingerprint(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for b in digest.iter() {
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let (directory, parts) = discover(dir).unwrap();
        assert!(directory);
        parts
            .iter()
            .map(|p| {
                p.path
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect()
    }

    fn touch(dir: &Path, rel: &str) {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, "version: 1\n").unwrap();
    }

    #[test]
    fn yaml_files_below_in_sorted_path_order_hidden_skipped() {
        let d = tempfile::tempdir().unwrap();
        for f in [
            "b.yaml",
            "a.yml",
            "a/z.yaml",
            "a/b/c.yaml",
            "notes.txt",
            ".hidden.yaml",
            ".git/x.yaml",
            "c/.secret/y.yaml",
            "Z.YAML",
            "e/Eng.Yml",
            "yaml",
            "x.yaml.bak",
        ] {
            touch(d.path(), f);
        }
        assert_eq!(
            names(d.path()),
            [
                "Z.YAML",
                "a/b/c.yaml",
                "a/z.yaml",
                "a.yml",
                "b.yaml",
                "e/Eng.Yml"
            ]
        );
    }

    #[cfg(unix)]
    #[test]
    fn only_regular_files_of_at_most_64_mib_are_read() {
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("pipe.yaml");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.unwrap().success(), "mkfifo is needed");
        let e = read_part(&fifo).unwrap_err();
        assert!(
            matches!(
                e,
                PartsError::NotAFile {
                    what: "a FIFO, a named pipe",
                    ..
                }
            ),
            "{e}"
        );
        let zero = d.path().join("zero.yaml");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        let e = read_part(&zero).unwrap_err();
        assert!(
            matches!(
                e,
                PartsError::NotAFile {
                    what: "a character device",
                    ..
                }
            ),
            "{e}"
        );
        assert!(matches!(
            read_part(d.path()).unwrap_err(),
            PartsError::NotAFile {
                what: "a directory",
                ..
            }
        ));
        // Sizes from the metadata: a sparse file costs nothing to make.
        let big = d.path().join("big.yaml");
        let f = std::fs::File::create(&big).unwrap();
        f.set_len(MAX_PART_BYTES).unwrap();
        assert_eq!(read_part(&big).unwrap().len() as u64, MAX_PART_BYTES);
        f.set_len(MAX_PART_BYTES + 1).unwrap();
        let e = read_part(&big).unwrap_err();
        assert!(matches!(e, PartsError::TooLarge { .. }), "{e}");
        touch(d.path(), "ok.yaml");
        assert_eq!(
            read_part(&d.path().join("ok.yaml")).unwrap(),
            b"version: 1\n"
        );
    }

    #[test]
    fn a_file_is_one_part() {
        let (directory, parts) = discover(Path::new("no/such/file.yaml")).unwrap();
        assert!(!directory);
        assert_eq!(parts[0].name, "no/such/file.yaml");
    }

    #[test]
    fn empty_no_yaml_and_loops_are_errors() {
        let d = tempfile::tempdir().unwrap();
        let e = discover(d.path()).unwrap_err();
        assert!(matches!(e, PartsError::EmptyDirectory { .. }), "{e}");
        touch(d.path(), "readme.md");
        touch(d.path(), ".hidden.yaml");
        let e = discover(d.path()).unwrap_err();
        assert!(matches!(e, PartsError::NoYaml { .. }), "{e}");
        touch(d.path(), "sub/a.yaml");
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(d.path(), d.path().join("sub/up")).unwrap();
            let e = discover(d.path()).unwrap_err();
            assert!(matches!(e, PartsError::SymlinkLoop { .. }), "{e}");
            std::fs::remove_file(d.path().join("sub/up")).unwrap();
            std::os::unix::fs::symlink("self", d.path().join("sub/self")).unwrap();
            let e = discover(d.path()).unwrap_err();
            assert!(matches!(e, PartsError::SymlinkLoop { .. }), "{e}");
        }
    }

    #[test]
    fn the_fingerprint_covers_every_part_and_its_name() {
        let d = tempfile::tempdir().unwrap();
        touch(d.path(), "a.yaml");
        touch(d.path(), "b.yaml");
        let fp = || read(d.path()).unwrap().fingerprint();
        let first = fp();
        assert_eq!(fp(), first);
        std::fs::write(d.path().join("b.yaml"), "version: 1\n# edited\n").unwrap();
        let edited = fp();
        assert_ne!(edited, first);
        std::fs::rename(d.path().join("b.yaml"), d.path().join("c.yaml")).unwrap();
        assert_ne!(fp(), edited);
        touch(d.path(), "d.yaml");
        let added = fp();
        std::fs::remove_file(d.path().join("d.yaml")).unwrap();
        assert_ne!(fp(), added);
        // One file keeps the plain digest of its bytes.
        let one = read(&d.path().join("a.yaml")).unwrap();
        assert_eq!(one.fingerprint(), fingerprint(b"version: 1\n"));
    }
}
