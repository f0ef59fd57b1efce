//! A page of `GET team/members` read while it arrives (docs/contract.md §10): each entry of
//! `data.members` and `data.invitations` is parsed as soon as its bytes are in, and its bytes
//! are dropped, so a 100,000-member page (19 MB) is never held whole and is parsed while the
//! rest of it is still being received and decompressed.
//!
//! Everything else (the envelope, the other fields: the "skeleton") is kept and parsed at the
//! end by the parser of a whole page ([`page_of`]), so a page reads exactly as if it had been
//! buffered whole (docs/contract.md §4): the same entries in the same order, the same checks,
//! and when it is not a list, the same error at the same line and column. For that error,
//! each run of entries cut out of a list is put back as one minimal entry and whitespace of
//! the same lines and columns, so the parser meets every byte after it where it was.

mod flat;

use super::ApiError;
use super::wire::{Streamed, flat_member_entry, invitation_entry, member_entry, page_of};
use crate::live::LiveState;

/// The lists whose entries are read as they arrive.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum List {
    Members,
    Invitations,
}

/// The key before the value being read, where it matters.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Key {
    None,
    Data,
    List(List),
    Other,
}

/// Which object a frame of the envelope is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Root,
    Data,
    Other,
}

#[derive(Debug)]
struct Frame {
    object: bool,
    expect_key: bool,
    kind: Kind,
}

/// What may come next in a list whose entries are read.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Expect {
    FirstOrEnd,
    Entry,
    CommaOrEnd,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    /// In the envelope: bytes are kept.
    Envelope,
    /// Between the entries of a list.
    List(List, Expect),
    /// Inside an entry that starts at `start` in the buffer, `depth` brackets deep (at most
    /// `deepest` so far).
    Entry {
        list: List,
        start: usize,
        depth: usize,
        deepest: usize,
    },
    /// Not a list as expected: every byte from here on is kept, for the whole page's parse.
    Kept,
}

/// A run of entries cut out of the skeleton at `at`: its length, and the lines and columns it
/// spanned (newlines in it, bytes after its last newline).
#[derive(Clone, Copy, Debug, Default)]
struct Cut {
    at: usize,
    len: usize,
    newlines: usize,
    tail: usize,
}

impl Cut {
    fn absorb(&mut self, bytes: &[u8]) {
        self.len += bytes.len();
        match memchr::memrchr(b'\n', bytes) {
            Some(last) => {
                self.newlines += memchr::memchr_iter(b'\n', bytes).count();
                self.tail = bytes.len() - last - 1;
            }
            None => self.tail += bytes.len(),
        }
    }
}

/// The smallest entry both lists read (an id, every other field defaulted): what stands for
/// a cut run of entries when the page is parsed whole for its error.
const STAND_IN: &[u8] = br#"[""]"#;

/// Deeper than this, an entry is parsed nested as deep as it sits in the page (three levels:
/// the envelope, `data`, the list), since serde_json counts those against its depth limit.
/// Entries are one to three levels deep.
const SHALLOW: usize = 16;

/// A page of the list, fed as it arrives ([`PageReader::push`]), read at its end
/// ([`PageReader::finish`]).
pub(super) struct PageReader {
    /// Bytes received and not yet given to the skeleton or to a cut: `buf[done..]`; the
    /// scanner is at `buf[pos]`.
    buf: Vec<u8>,
    pos: usize,
    done: usize,
    skeleton: Vec<u8>,
    cuts: Vec<(List, Cut)>,
    /// The cut of the list being read.
    open: Option<(List, Cut)>,
    mode: Mode,
    stack: Vec<Frame>,
    root_seen: bool,
    key: Key,
    /// The key being read, when it is one that matters (none once it is longer than any).
    key_bytes: Option<Vec<u8>>,
    in_string: bool,
    escaped: bool,
    read: [bool; 2],
    /// A list stopped being read after entries were cut out of it: the page is not a list (a
    /// list's entries stop being read only where its parse fails).
    broken: bool,
    streamed: Streamed,
}

impl Default for PageReader {
    fn default() -> PageReader {
        PageReader {
            buf: Vec::new(),
            pos: 0,
            done: 0,
            skeleton: Vec::new(),
            cuts: Vec::new(),
            open: None,
            mode: Mode::Envelope,
            stack: Vec::new(),
            root_seen: false,
            key: Key::None,
            key_bytes: None,
            in_string: false,
            escaped: false,
            read: [false; 2],
            broken: false,
            streamed: Streamed::default(),
        }
    }
}

fn is_space(b: u8) -> bool {
    // serde_json's whitespace.
    matches!(b, b' ' | b'\n' | b'\t' | b'\r')
}

impl PageReader {
    /// The next bytes of the page, decompressed.
    pub(super) fn push(&mut self, chunk: &[u8]) {
        if self.mode == Mode::Kept {
            self.skeleton.extend_from_slice(chunk);
            return;
        }
        self.buf.extend_from_slice(chunk);
        self.scan();
        if self.mode == Mode::Envelope {
            self.keep_to(self.pos);
        }
        // Only the entry being read (and what precedes it since the last cut) stays.
        self.buf.drain(..self.done);
        self.pos -= self.done;
        if let Mode::Entry { start, .. } = &mut self.mode {
            *start -= self.done;
        }
        self.done = 0;
    }

    /// The page, once every byte has arrived: what a whole-page parse of it returns
    /// (`parse_list_page`, which the tests compare it with).
    pub(super) fn finish(mut self) -> Result<(LiveState, Option<String>), ApiError> {
        match self.mode {
            Mode::Envelope => self.keep_to(self.buf.len()),
            Mode::List(..) | Mode::Entry { .. } => self.stop(),
            Mode::Kept => {}
        }
        if self.cuts.is_empty() {
            return page_of(&self.skeleton, &mut self.streamed);
        }
        if !self.broken {
            match page_of(&self.skeleton, &mut self.streamed) {
                Err(ApiError::Decode(_)) => {}
                other => return other,
            }
        }
        // Not a list: the page as it came (but for the lines and columns of what was cut),
        // for its error.
        let mut whole = Vec::with_capacity(self.skeleton.len() + self.cuts.len() * 8);
        let mut from = 0;
        for (_, cut) in &self.cuts {
            whole.extend_from_slice(&self.skeleton[from..cut.at]);
            whole.extend_from_slice(STAND_IN);
            if cut.newlines > 0 {
                whole.resize(whole.len() + cut.newlines, b'\n');
                whole.resize(whole.len() + cut.tail, b' ');
            } else {
                whole.resize(whole.len() + cut.len - STAND_IN.len(), b' ');
            }
            from = cut.at;
        }
        whole.extend_from_slice(&self.skeleton[from..]);
        // Each stand-in is an entry without an email, left out (the entries it stands for
        // come first, from `streamed`); only an error is expected here.
        page_of(&whole, &mut self.streamed)
    }

    /// Gives `buf[done..to]` to the skeleton.
    fn keep_to(&mut self, to: usize) {
        self.skeleton.extend_from_slice(&self.buf[self.done..to]);
        self.done = to;
    }

    /// The page is not read entry by entry from here on: the cut so far is closed and every
    /// byte not yet cut is kept.
    fn stop(&mut self) {
        if let Some(cut) = self.open.take() {
            if cut.1.len > 0 {
                self.broken = true;
                self.cuts.push(cut);
            }
        }
        self.keep_to(self.buf.len());
        self.buf.clear();
        self.pos = 0;
        self.done = 0;
        self.mode = Mode::Kept;
    }

    fn scan(&mut self) {
        while self.pos < self.buf.len() {
            match self.mode {
                Mode::Kept => return,
                Mode::Envelope => {
                    let b = self.buf[self.pos];
                    self.pos += 1;
                    self.envelope(b);
                }
                Mode::List(list, expect) => self.between(list, expect),
                Mode::Entry {
                    list,
                    start,
                    depth,
                    deepest,
                } => self.entry(list, start, depth, deepest),
            }
        }
    }

    /// One byte of the envelope (already past `pos`).
    fn envelope(&mut self, b: u8) {
        if self.in_string {
            if self.escaped {
                self.escaped = false;
            } else if b == b'\\' {
                // An escaped key is not matched: the whole-page parse reads its list.
                self.escaped = true;
                self.key_bytes = None;
            } else if b == b'"' {
                self.in_string = false;
                if let Some(k) = self.key_bytes.take() {
                    self.key = self.classify(&k);
                }
            } else if let Some(k) = &mut self.key_bytes {
                if k.len() < "invitations".len() {
                    k.push(b);
                } else {
                    self.key_bytes = None;
                }
            }
            return;
        }
        match b {
            b'"' => {
                self.in_string = true;
                if let Some(top) = self.stack.last() {
                    if top.object && top.expect_key {
                        self.key = Key::Other;
                        if self.stack.len() <= 2 {
                            self.key_bytes = Some(Vec::new());
                        }
                    }
                }
            }
            b':' => {
                if let Some(top) = self.stack.last_mut() {
                    top.expect_key = false;
                }
            }
            b',' => {
                if let Some(top) = self.stack.last_mut() {
                    top.expect_key = top.object;
                }
                self.key = Key::None;
            }
            b'{' => {
                let kind = match (self.stack.as_slice(), self.key) {
                    ([], _) if !self.root_seen => Kind::Root,
                    ([root], Key::Data) if root.kind == Kind::Root && !root.expect_key => {
                        Kind::Data
                    }
                    _ => Kind::Other,
                };
                self.root_seen = true;
                self.stack.push(Frame {
                    object: true,
                    expect_key: true,
                    kind,
                });
                self.key = Key::None;
            }
            b'[' => {
                let list = match (self.stack.as_slice(), self.key) {
                    ([_, data], Key::List(list)) if data.kind == Kind::Data && !data.expect_key => {
                        Some(list)
                    }
                    _ => None,
                };
                self.root_seen = true;
                self.key = Key::None;
                match list {
                    Some(list) if !self.read[list as usize] => {
                        self.read[list as usize] = true;
                        self.keep_to(self.pos);
                        self.open = Some((
                            list,
                            Cut {
                                at: self.skeleton.len(),
                                ..Cut::default()
                            },
                        ));
                        self.mode = Mode::List(list, Expect::FirstOrEnd);
                    }
                    _ => self.stack.push(Frame {
                        object: false,
                        expect_key: false,
                        kind: Kind::Other,
                    }),
                }
            }
            b'}' | b']' => {
                self.stack.pop();
                self.key = Key::None;
            }
            _ => {}
        }
    }

    fn classify(&self, key: &[u8]) -> Key {
        match (self.stack.as_slice(), key) {
            ([root], b"data") if root.kind == Kind::Root => Key::Data,
            ([_, data], b"members") if data.kind == Kind::Data => Key::List(List::Members),
            ([_, data], b"invitations") if data.kind == Kind::Data => Key::List(List::Invitations),
            _ => Key::Other,
        }
    }

    /// Between entries: whitespace, a comma, the list's end or an entry's start.
    fn between(&mut self, list: List, expect: Expect) {
        let b = self.buf[self.pos];
        match b {
            _ if is_space(b) => self.pos += 1,
            b']' if expect != Expect::Entry => {
                if let Some(cut) = self.open.take() {
                    if cut.1.len > 0 {
                        self.cuts.push(cut);
                    }
                }
                self.pos += 1;
                self.keep_to(self.pos);
                self.mode = Mode::Envelope;
            }
            b',' if expect == Expect::CommaOrEnd => {
                self.pos += 1;
                self.mode = Mode::List(list, Expect::Entry);
            }
            b'{' | b'[' if expect != Expect::CommaOrEnd => {
                self.mode = Mode::Entry {
                    list,
                    start: self.pos,
                    depth: 0,
                    deepest: 0,
                };
            }
            // Not an entry the whole page's parse would take: it says what is wrong.
            _ => self.stop(),
        }
    }

    /// Inside an entry: on to its closing bracket, then the entry parsed on its own. A member
    /// entry that is flat and plain is read at once, end and fields together ([`flat`]).
    fn entry(&mut self, list: List, start: usize, mut depth: usize, mut deepest: usize) {
        if list == List::Members && depth == 0 && self.pos == start {
            if let Some((entry, len)) = flat::member(&self.buf[start..]) {
                flat_member_entry(entry.id, entry.email, entry.role, &mut self.streamed);
                return self.read_to(list, start + len);
            }
        }
        let (mut in_string, mut escaped) = (self.in_string, self.escaped);
        let bytes = &self.buf;
        let mut i = self.pos;
        let mut end = None;
        while i < bytes.len() {
            if escaped {
                escaped = false;
                i += 1;
            } else if in_string {
                // Most of an entry is strings: on to the next quote or backslash at once.
                match memchr::memchr2(b'"', b'\\', &bytes[i..]) {
                    None => i = bytes.len(),
                    Some(k) => {
                        i += k;
                        if bytes[i] == b'\\' {
                            escaped = true;
                        } else {
                            in_string = false;
                        }
                        i += 1;
                    }
                }
            } else {
                match bytes[i] {
                    b'"' => in_string = true,
                    b'{' | b'[' => {
                        depth += 1;
                        deepest = deepest.max(depth);
                    }
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            end = Some(i + 1);
                            break;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        (self.in_string, self.escaped) = (in_string, escaped);
        let Some(end) = end else {
            self.pos = self.buf.len();
            self.mode = Mode::Entry {
                list,
                start,
                depth,
                deepest,
            };
            return;
        };
        let entry = &self.buf[start..end];
        let read = match list {
            List::Members => member_entry(entry, deepest > SHALLOW, &mut self.streamed),
            List::Invitations => invitation_entry(entry, deepest > SHALLOW, &mut self.streamed),
        };
        if read.is_none() {
            return self.stop();
        }
        self.read_to(list, end);
    }

    /// An entry that ends at `end` was read: its bytes go to the cut.
    fn read_to(&mut self, list: List, end: usize) {
        if let Some((_, cut)) = &mut self.open {
            cut.absorb(&self.buf[self.done..end]);
        }
        self.done = end;
        self.pos = end;
        self.mode = Mode::List(list, Expect::CommaOrEnd);
    }
}

/// Reads `body` in chunks of `size` bytes, as [`PageReader`] is fed.
#[cfg(test)]
pub(crate) fn read_in_chunks(
    body: &[u8],
    size: usize,
) -> Result<(LiveState, Option<String>), ApiError> {
    let mut page = PageReader::default();
    for chunk in body.chunks(size.max(1)) {
        page.push(chunk);
    }
    page.finish()
}

#[cfg(test)]
use super::wire::parse_list_page;

#[cfg(test)]
mod tests;
