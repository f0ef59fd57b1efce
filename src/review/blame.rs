//! Reads `git blame --porcelain` (docs/contract.md §6): which commit last changed each line of
//! a file, with its committer date, author and subject. A pure parser of git's text; running git
//! is the command's business.

use super::{Commit, pull_request};
use crate::date::Timestamp;
use std::collections::HashMap;
use std::time::{Duration, UNIX_EPOCH};

/// A commit's fields as porcelain gives them, before it is complete.
#[derive(Default)]
struct Partial {
    author: String,
    mail: String,
    time: Option<u64>,
    subject: String,
}

/// The blamed lines of one file: for line `n`, `lines[n - 1]` indexes `commits` (`None`: not
/// committed yet). `commits` is shared by every file read into it, each commit once.
pub(crate) fn parse(text: &str, commits: &mut Vec<Commit>) -> Result<Vec<Option<usize>>, String> {
    let mut known: HashMap<String, usize> = commits
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.clone(), i))
        .collect();
    let mut partial: HashMap<&str, Partial> = HashMap::new();
    // Per line: its commit's hash.
    let mut by_line: Vec<Option<&str>> = Vec::new();
    let mut current: Option<&str> = None;
    for line in text.lines() {
        if line.starts_with('\t') {
            continue;
        }
        let mut words = line.split(' ');
        let first = words.next().unwrap_or("");
        if is_hash(first) {
            let final_line: usize = words
                .nth(1)
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| format!("unexpected line from git blame: {line:?}"))?;
            if by_line.len() < final_line {
                by_line.resize(final_line, None);
            }
            by_line[final_line - 1] = Some(first);
            current = Some(first);
            continue;
        }
        let Some(hash) = current else {
            return Err(format!("unexpected line from git blame: {line:?}"));
        };
        let value = line.split_once(' ').map_or("", |(_, v)| v);
        let p = partial.entry(hash).or_default();
        match first {
            "author" => p.author = value.to_string(),
            "author-mail" => p.mail = value.to_string(),
            "committer-time" => p.time = value.parse().ok(),
            "summary" => p.subject = value.to_string(),
            _ => {}
        }
    }
    let mut lines = Vec::with_capacity(by_line.len());
    for hash in by_line {
        let Some(hash) = hash.filter(|h| !h.bytes().all(|b| b == b'0')) else {
            lines.push(None);
            continue;
        };
        if let Some(i) = known.get(hash) {
            lines.push(Some(*i));
            continue;
        }
        let p = partial.get(hash);
        let date = p
            .and_then(|p| p.time)
            .map(|t| Timestamp::from_system_time(UNIX_EPOCH + Duration::from_secs(t)).date())
            .ok_or_else(|| format!("git blame gave no date for commit {hash}"))?;
        let (author, mail, subject) = p.map_or(("", "", ""), |p| {
            (p.author.as_str(), p.mail.as_str(), p.subject.as_str())
        });
        commits.push(Commit {
            id: hash.to_string(),
            date,
            author: if mail.is_empty() {
                author.to_string()
            } else {
                format!("{author} {mail}")
            },
            pr: pull_request(subject),
        });
        known.insert(hash.to_string(), commits.len() - 1);
        lines.push(Some(commits.len() - 1));
    }
    Ok(lines)
}

/// A commit hash as git writes it (SHA-1 or SHA-256).
fn is_hash(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::date::Date;

    fn day(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    const A: &str = "1111111111111111111111111111111111111111";
    const B: &str = "2222222222222222222222222222222222222222";
    const ZERO: &str = "0000000000000000000000000000000000000000";

    fn porcelain() -> String {
        format!(
            "{A} 1 1 2
author Ana
author-mail <ana@example.com>
author-time 1790000000
author-tz +0000
committer GitHub
committer-mail <noreply@github.com>
committer-time 1790000000
committer-tz +0000
summary Start the org file (#3)
boundary
filename teamsync.yaml
\tversion: 1
{A} 2 2
\tmembers:
{B} 3 3 1
author Bo
author-mail <bo@example.com>
author-time 1800000000
author-tz +0200
committer Bo
committer-mail <bo@example.com>
committer-time 1800086400
committer-tz +0200
summary Merge pull request #12 from acme/interns
previous {A} teamsync.yaml
filename teamsync.yaml
\t  - email: ana@example.com
{ZERO} 4 4 1
author Not Committed Yet
author-mail <not.committed.yet>
author-time 1800000000
author-tz +0000
committer Not Committed Yet
committer-mail <not.committed.yet>
committer-time 1800000000
committer-tz +0000
summary Version of teamsync.yaml from teamsync.yaml
filename teamsync.yaml
\t    role: org:admin
"
        )
    }

    #[test]
    fn each_line_gets_its_commit_and_uncommitted_lines_none() {
        let mut commits = Vec::new();
        let lines = parse(&porcelain(), &mut commits).unwrap();
        assert_eq!(lines, vec![Some(0), Some(0), Some(1), None]);
        assert_eq!(
            commits,
            vec![
                Commit {
                    id: A.into(),
                    date: day("2026-09-21"),
                    author: "Ana <ana@example.com>".into(),
                    pr: Some(3),
                },
                Commit {
                    id: B.into(),
                    date: day("2027-01-16"),
                    author: "Bo <bo@example.com>".into(),
                    pr: Some(12),
                },
            ]
        );
        // A second file shares the commits already read.
        let again = parse(&porcelain(), &mut commits).unwrap();
        assert_eq!(again, lines);
        assert_eq!(commits.len(), 2);
    }

    #[test]
    fn text_that_is_not_porcelain_is_an_error() {
        assert!(parse("fatal: no such path\n", &mut Vec::new()).is_err());
        assert!(parse(&format!("{A} x\n"), &mut Vec::new()).is_err());
    }

    #[test]
    fn pull_requests_are_read_from_squash_and_merge_subjects() {
        use super::super::pull_request;
        assert_eq!(pull_request("Add the interns (#34)"), Some(34));
        assert_eq!(pull_request("Fix (#3) and more (#45)"), Some(45));
        assert_eq!(pull_request("Merge pull request #12 from acme/x"), Some(12));
        assert_eq!(pull_request("Revert #9"), None);
        assert_eq!(pull_request("Add (#) and (#x1)"), None);
        assert_eq!(pull_request("Merge branch 'main'"), None);
    }
}
