//! The parts of a desired state (docs/contract.md §10): `-f FILE` is one part; `-f DIR` is every
//! `*.yaml` and `*.yml` file below DIR, recursively, in sorted path order, hidden files and
//! folders skipped. This module finds the parts and reads them; [`crate::desired::load`] validates
//! them as one desired state.

use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

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
        "{path} already holds YAML files; export into a new or empty directory, so that no part of another state is left in it"
    )]
    NotEmpty { path: String },
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
    walk(path, &mut ancestors, &mut found, &mut saw_entry)?;
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
        let meta = std::fs::metadata(&path).map_err(|e| loop_or_read(&path, e))?;
        if meta.is_dir() {
            walk(&path, ancestors, found, saw_entry)?;
        } else if is_yaml(&path) {
            found.push(path);
        }
    }
    ancestors.pop();
    Ok(())
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

/// Whether a file below `-f DIR` is a part, by its name.
pub(crate) fn is_yaml(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

/// Finds and reads the parts `-f path` names.
pub(crate) fn read(path: &Path) -> Result<Sources, PartsError> {
    let (directory, parts) = discover(path)?;
    let bytes = parts
        .iter()
        .map(|p| std::fs::read(&p.path).map_err(|e| read_error(&p.path, e)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Sources {
        root: path.to_path_buf(),
        directory,
        parts,
        bytes,
    })
}

impl Sources {
    /// The saved plan's file fingerprint (docs/contract.md §10): for one file, `sha256:` of its
    /// bytes; for a directory, `sha256:` over every part's path (relative to the directory)
    /// and the digest of its bytes, so that a part added, removed, renamed or changed makes a
    /// saved plan stale.
    pub(crate) fn fingerprint(&self) -> String {
        if !self.directory {
            return crate::formats::saved::file_fingerprint(
                self.bytes.first().map_or(&[][..], |b| b),
            );
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
        crate::formats::saved::file_fingerprint(listing.as_bytes())
    }
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
        ] {
            touch(d.path(), f);
        }
        assert_eq!(
            names(d.path()),
            ["a/b/c.yaml", "a/z.yaml", "a.yml", "b.yaml"]
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
        assert_eq!(
            one.fingerprint(),
            crate::formats::saved::file_fingerprint(b"version: 1\n")
        );
    }
}
