//! The unified diff adopt prints (docs/contract.md §7), with each run of deleted or inserted
//! lines slid to start at an entry boundary.
//!
//! A line diff is free to place a run that repeats around its edges anywhere along the
//! repetition: deleting the entry `- email: b` / `role: member` after an entry that also ends in
//! `role: member` can come out as the first entry losing its `role:` line together with the
//! `- email: b` line. Like git's diff slider (its "indent heuristic"), each run is slid as far as
//! its repetition allows, and the position whose first line opens a list entry (`- ` at the
//! list's indentation) and whose next line closes it is taken.

use similar::udiff::UnifiedDiffHunk;
use similar::{DiffOp, TextDiff, group_diff_ops};

/// The unified diff from `before` to `after`, both files named `name`, three lines of context.
pub(crate) fn unified(before: &str, after: &str, name: &str) -> String {
    let diff = TextDiff::from_lines(before, after);
    let old: Vec<&str> = diff.iter_old_slices().collect();
    let new: Vec<&str> = diff.iter_new_slices().collect();
    let ops = slide(diff.ops(), &old, &new);
    let mut out = String::new();
    for (n, hunk) in group_diff_ops(ops, 3)
        .into_iter()
        .filter(|ops| !ops.is_empty())
        .enumerate()
    {
        if n == 0 {
            out.push_str(&format!("--- {name}\n+++ {name}\n"));
        }
        out.push_str(&UnifiedDiffHunk::new(hunk, &diff, true).to_string());
    }
    out
}

/// `ops` with every deletion or insertion that lies between two runs of equal lines slid to
/// its best place ([`best`]); the ops stay a valid script from `old` to `new`.
pub(crate) fn slide(ops: &[DiffOp], old: &[&str], new: &[&str]) -> Vec<DiffOp> {
    let mut ops = ops.to_vec();
    for i in 1..ops.len().saturating_sub(1) {
        let (DiffOp::Equal { len: above, .. }, DiffOp::Equal { len: below, .. }) =
            (ops[i - 1], ops[i + 1])
        else {
            continue;
        };
        // The lines of the side that changed, and where the run starts in them.
        let (lines, start, len) = match ops[i] {
            DiffOp::Delete {
                old_index, old_len, ..
            } => (old, old_index, old_len),
            DiffOp::Insert {
                new_index, new_len, ..
            } => (new, new_index, new_len),
            _ => continue,
        };
        let shift = best(lines, start, len, above, below);
        if shift != 0 {
            move_run(&mut ops, i, shift);
        }
    }
    ops.retain(|op| !matches!(op, DiffOp::Equal { len: 0, .. }));
    ops
}

/// How far (negative: up) to move the run `lines[start..start + len]`, which has `above`
/// equal lines before it and `below` after it: among the places its repetition allows, the
/// first one that opens an entry and is followed by the entry's end, else the first that opens
/// an entry, else where it is.
fn best(lines: &[&str], start: usize, len: usize, above: usize, below: usize) -> isize {
    if len == 0 {
        return 0;
    }
    let mut up = 0;
    while up < above && lines[start - up - 1] == lines[start + len - up - 1] {
        up += 1;
    }
    let mut down = 0;
    while down < below && lines[start + down] == lines[start + len + down] {
        down += 1;
    }
    if up == 0 && down == 0 {
        return 0;
    }
    let score = |s: usize| {
        let Some(indent) = opens_entry(lines[s]) else {
            return 0;
        };
        let closed = match lines.get(s + len) {
            None => true,
            Some(next) => opens_entry(next) == Some(indent) || ends_before(next, indent),
        };
        1 + usize::from(closed)
    };
    let here = score(start);
    let (mut chosen, mut top) = (0isize, here);
    for s in (start - up)..=(start + down) {
        let v = score(s);
        if v > top {
            (chosen, top) = (s as isize - start as isize, v);
        }
    }
    chosen
}

/// The indentation of `line` when it opens a list entry (`- ` or a lone `-` after spaces).
fn opens_entry(line: &str) -> Option<usize> {
    let body = line.trim_end_matches(['\n', '\r']);
    let rest = body.trim_start_matches(' ');
    (rest == "-" || rest.starts_with("- ")).then_some(body.len() - rest.len())
}

/// Whether `line` ends a list entry at `indent`: a key less indented than its dash (the next
/// mapping key), or a blank line.
fn ends_before(line: &str, indent: usize) -> bool {
    let body = line.trim_end_matches(['\n', '\r']);
    let rest = body.trim_start_matches(' ');
    rest.is_empty() || (body.len() - rest.len() < indent && !rest.starts_with('#'))
}

/// Moves the change at `ops[i]` by `shift` lines, the equal runs around it giving or taking.
fn move_run(ops: &mut [DiffOp], i: usize, shift: isize) {
    let add = |n: usize| n.saturating_add_signed(shift);
    if let DiffOp::Equal { len, .. } = &mut ops[i - 1] {
        *len = add(*len);
    }
    match &mut ops[i] {
        DiffOp::Delete {
            old_index,
            new_index,
            ..
        }
        | DiffOp::Insert {
            old_index,
            new_index,
            ..
        } => {
            *old_index = add(*old_index);
            *new_index = add(*new_index);
        }
        _ => {}
    }
    if let DiffOp::Equal {
        old_index,
        new_index,
        len,
    } = &mut ops[i + 1]
    {
        *old_index = add(*old_index);
        *new_index = add(*new_index);
        *len = len.saturating_add_signed(-shift);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ops of an edit script, as `similar` spells them, one line each.
    fn equal(old_index: usize, new_index: usize, len: usize) -> DiffOp {
        DiffOp::Equal {
            old_index,
            new_index,
            len,
        }
    }

    fn delete(old_index: usize, old_len: usize, new_index: usize) -> DiffOp {
        DiffOp::Delete {
            old_index,
            old_len,
            new_index,
        }
    }

    fn insert(old_index: usize, new_index: usize, new_len: usize) -> DiffOp {
        DiffOp::Insert {
            old_index,
            new_index,
            new_len,
        }
    }

    fn lines(text: &str) -> Vec<&str> {
        text.split_inclusive('\n').collect()
    }

    const THREE: &str = "members:
  - email: a@x.io
    role: org:member
  - email: b@x.io
    role: org:member
  - email: c@x.io
    role: org:member
";

    #[test]
    fn a_deletion_misplaced_by_one_line_slides_to_the_entry() {
        let old = lines(THREE);
        let new: Vec<&str> = [&old[..3], &old[5..]].concat();
        // The script a line diff may give: a's `role:` line and b's `- email:` line deleted.
        let given = [equal(0, 0, 2), delete(2, 2, 2), equal(4, 2, 3)];
        assert_eq!(
            slide(&given, &old, &new),
            [equal(0, 0, 3), delete(3, 2, 3), equal(5, 3, 2),]
        );
    }

    #[test]
    fn an_insertion_slides_too_and_may_go_up() {
        let new = lines(THREE);
        let old: Vec<&str> = [&new[..3], &new[5..]].concat();
        // b inserted as a's `role:` line and b's `- email:` line, one line too early.
        let given = [equal(0, 0, 2), insert(2, 2, 2), equal(2, 4, 3)];
        let slid = slide(&given, &old, &new);
        assert_eq!(slid[1], insert(3, 3, 2));
        assert_eq!(rebuild(&slid, &old, &new), new);
    }

    /// Applying `ops` to `old` (taking inserted lines from `new`) gives `new` back.
    fn rebuild<'a>(ops: &[DiffOp], old: &[&'a str], new: &[&'a str]) -> Vec<&'a str> {
        let mut out = Vec::new();
        for op in ops {
            match *op {
                DiffOp::Equal { old_index, len, .. } => {
                    out.extend_from_slice(&old[old_index..old_index + len]);
                }
                DiffOp::Insert {
                    new_index, new_len, ..
                } => out.extend_from_slice(&new[new_index..new_index + new_len]),
                DiffOp::Replace {
                    new_index, new_len, ..
                } => out.extend_from_slice(&new[new_index..new_index + new_len]),
                DiffOp::Delete { .. } => {}
            }
        }
        out
    }

    #[test]
    fn a_run_with_no_boundary_stays_where_it_is() {
        let old = lines("a\nb\na\nb\nc\n");
        let new = lines("a\nb\nc\n");
        let given = [equal(0, 0, 1), delete(1, 2, 1), equal(3, 1, 2)];
        assert_eq!(slide(&given, &old, &new), given);
    }

    #[test]
    fn an_entry_before_a_blank_line_or_the_next_key_is_closed_there() {
        // Entries separated by blank lines: the run takes the entry and the blank after it,
        // not the blank before it and the entry.
        let old = lines("members:\n  - email: a\n\n  - email: b\n\n  - email: c\nignore: []\n");
        let new = lines("members:\n  - email: a\n\n  - email: c\nignore: []\n");
        let given = [equal(0, 0, 2), delete(2, 2, 2), equal(4, 2, 3)];
        let slid = slide(&given, &old, &new);
        assert_eq!(slid[1], delete(3, 2, 3));
        assert_eq!(rebuild(&slid, &old, &new), new);
        assert!(ends_before("ignore: []\n", 2) && ends_before("\n", 2));
        assert!(!ends_before("    role: x\n", 2) && !ends_before("# note\n", 2));
        assert_eq!(opens_entry("  - email: a\n"), Some(2));
        assert_eq!(opens_entry("-\n"), Some(0));
        assert_eq!(opens_entry("  -x\n"), None);
    }

    #[test]
    fn the_printed_diff_deletes_each_entry_whole() {
        // Deleting b and d: the line diff alone deletes b whole (the common start ends there)
        // but gives d's deletion as c's `role:` line and d's `- email:` line.
        let four = format!(
            "{THREE}  - email: d@x.io\n    role: org:member\n  - email: e@x.io\n    role: org:member\n"
        );
        let after = four
            .replace("  - email: b@x.io\n    role: org:member\n", "")
            .replace("  - email: d@x.io\n    role: org:member\n", "");
        let raw = TextDiff::from_lines(four.as_str(), after.as_str())
            .unified_diff()
            .header("t.yaml", "t.yaml")
            .to_string();
        assert!(
            raw.contains("   - email: c@x.io\n-    role: org:member\n-  - email: d@x.io\n"),
            "{raw}"
        );
        assert_eq!(
            unified(&four, &after, "t.yaml"),
            "--- t.yaml
+++ t.yaml
@@ -1,11 +1,7 @@
 members:
   - email: a@x.io
     role: org:member
-  - email: b@x.io
-    role: org:member
   - email: c@x.io
     role: org:member
-  - email: d@x.io
-    role: org:member
   - email: e@x.io
     role: org:member
"
        );
        assert_eq!(unified(THREE, THREE, "t.yaml"), "");
    }
}
