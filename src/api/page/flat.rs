//! A member entry of the list read without serde_json when it is flat and plain, as almost
//! every entry of a large org is: `{"key":"text",…}` whose values are texts of printable ASCII
//! without escapes, or `null`. It finds the entry's end as it reads, so such an entry is
//! neither scanned for its end nor parsed a second time. Anything else (an escape, a number,
//! a nested value, a byte outside printable ASCII, a repeated field, an entry cut by the end
//! of the bytes received so far) is not read here: the scanner and serde_json read it, as
//! before, and decide (docs/contract.md §4). Where this reads an entry, it reads what
//! serde_json reads (the tests below hold it to that).

/// The fields teamsync takes from a member entry, borrowed from the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Flat<'a> {
    pub(super) id: &'a str,
    pub(super) email: Option<&'a str>,
    pub(super) role: Option<&'a str>,
}

fn is_space(b: u8) -> bool {
    // JSON's whitespace, as serde_json skips it.
    matches!(b, b' ' | b'\n' | b'\t' | b'\r')
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn skip_space(&mut self) {
        while self.bytes.get(self.at).is_some_and(|b| is_space(*b)) {
            self.at += 1;
        }
    }

    fn eat(&mut self, b: u8) -> Option<()> {
        self.skip_space();
        (self.bytes.get(self.at) == Some(&b)).then(|| self.at += 1)
    }

    /// A text after its opening quote, up to its closing one: printable ASCII only, so it is
    /// UTF-8 and has neither an escape nor a control character. Its bytes: only the texts
    /// teamsync takes are made `str` (by [`text`]).
    fn plain_text(&mut self) -> Option<&'a [u8]> {
        let rest = self.bytes.get(self.at..)?;
        let len = plain_len(rest);
        if rest.get(len) != Some(&b'"') {
            return None;
        }
        self.at += len + 1;
        Some(&rest[..len])
    }

    /// A value: a plain text (`Some(Some(..))`) or `null` (`Some(None)`); `None` for any other.
    fn value(&mut self) -> Option<Option<&'a [u8]>> {
        self.skip_space();
        match self.bytes.get(self.at)? {
            b'"' => {
                self.at += 1;
                self.plain_text().map(Some)
            }
            b'n' if self.bytes.get(self.at..self.at + 4)? == b"null" => {
                self.at += 4;
                Some(None)
            }
            _ => None,
        }
    }
}

/// How many bytes of `bytes` are printable ASCII other than `"` and `\\` (0x20 to 0x7e): the
/// length of a plain text, whose end is the first byte that is not. Eight bytes at a time
/// (the texts of an entry are 10 to 40 bytes, too short for a vectorised search to gain on):
/// a word with none of those bytes is skipped whole; in the first word that has one, bytes are
/// looked at one by one.
fn plain_len(bytes: &[u8]) -> usize {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let plain = |b: &u8| (0x20..0x7f).contains(b) && !matches!(*b, b'"' | b'\\');
    // A byte of `x` is zero: its high bit is set in the result (and no bit is set where no
    // byte is zero below it).
    let zero_in = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let mut at = 0;
    while let Some(word) = bytes.get(at..at + 8) {
        let mut eight = [0; 8];
        eight.copy_from_slice(word);
        let x = u64::from_ne_bytes(eight);
        let special = zero_in(x ^ (ONES * u64::from(b'"')))
            | zero_in(x ^ (ONES * u64::from(b'\\')))
            | zero_in(x ^ (ONES * 0x7f))
            // below 0x20 (bytes from 0x80 up are caught by their own high bit)
            | (x.wrapping_sub(ONES * 0x20) & !x & HIGH)
            | (x & HIGH);
        if special != 0 {
            break;
        }
        at += 8;
    }
    at + bytes[at..]
        .iter()
        .position(|b| !plain(b))
        .unwrap_or(bytes.len() - at)
}

/// A plain text as `str`: printable ASCII is UTF-8.
fn text(bytes: &[u8]) -> Option<&str> {
    std::str::from_utf8(bytes).ok()
}

/// The flat member entry at the start of `bytes` (which start with its `{`) and its length
/// in bytes; `None` when it is not flat and plain, or not whole in `bytes`.
pub(super) fn member<'a>(bytes: &'a [u8]) -> Option<(Flat<'a>, usize)> {
    let mut r = Reader { bytes, at: 0 };
    r.eat(b'{')?;
    let (mut id, mut email, mut role) = (None, None, None);
    loop {
        r.eat(b'"')?;
        let key = r.plain_text()?;
        r.eat(b':')?;
        let value = r.value()?;
        let slot = match key {
            b"id" => &mut id,
            b"email" => &mut email,
            b"role" => &mut role,
            _ => &mut None,
        };
        // serde_json refuses a field given twice: it decides.
        if slot.is_some() {
            return None;
        }
        *slot = Some(value);
        r.skip_space();
        match r.bytes.get(r.at)? {
            b',' => r.at += 1,
            b'}' => {
                r.at += 1;
                break;
            }
            _ => return None,
        }
    }
    // `id` is a required text: without one (or with `null`), serde_json says what is wrong.
    let as_text = |value: Option<&'a [u8]>| match value {
        Some(bytes) => text(bytes).map(Some),
        None => Some(None),
    };
    let flat = Flat {
        id: text(id??)?,
        email: as_text(email.flatten())?,
        role: as_text(role.flatten())?,
    };
    Some((flat, r.at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::Deserialize;
    use std::borrow::Cow;

    /// The member entry as serde_json reads it for the list (the fields of `WireMember`).
    #[derive(Deserialize, Debug)]
    struct Serde<'a> {
        id: String,
        #[serde(default)]
        email: Option<String>,
        #[serde(default, borrow)]
        role: Option<Cow<'a, str>>,
    }

    /// Where this reads `text`, serde_json reads the same entry, of the same length.
    fn agrees(text: &[u8]) -> bool {
        let Some((flat, len)) = member(text) else {
            return false;
        };
        let theirs: Serde = match serde_json::from_slice(&text[..len]) {
            Ok(e) => e,
            Err(e) => panic!(
                "read {:?}, serde_json refuses it: {e}",
                String::from_utf8_lossy(text)
            ),
        };
        assert_eq!(
            (Some(flat.id), flat.email, flat.role),
            (
                Some(theirs.id.as_str()),
                theirs.email.as_deref(),
                theirs.role.as_deref()
            ),
            "{:?}",
            String::from_utf8_lossy(text)
        );
        true
    }

    #[test]
    fn reads_the_emulators_entries() {
        let entry = br#"{"email":"a@example.com","firstName":"Ann","id":"user_1","imageUrl":null,"joinedAt":"2025-01-15T09:30:00.000Z","lastName":null,"role":"org:member"},{"#;
        let (flat, len) = member(entry).unwrap();
        assert_eq!(
            flat,
            Flat {
                id: "user_1",
                email: Some("a@example.com"),
                role: Some("org:member")
            }
        );
        assert_eq!(&entry[len..], b",{");
        assert!(agrees(entry));
        assert!(agrees(b" { \"id\" : \"x\" ,\n\"email\":null } "));
    }

    #[test]
    fn leaves_the_rest_to_serde_json() {
        for text in [
            &br#"{"id":"a","email":"b\u0040c.d"}"#[..], // an escape
            br#"{"id":"a","email":"\u00e9@c.d"}"#,
            "{\"id\":\"a\",\"firstName\":\"José\"}".as_bytes(), // not ASCII
            br#"{"id":"a","email":"x@y.z","id":"b"}"#,          // a field twice
            br#"{"id":"a","email":null,"email":"x@y.z"}"#,
            br#"{"id":"a",}"#, // a trailing comma
            br#"{}"#,          // no id
            br#"{"id":null}"#, // an id that is not a text
            br#"{"id":7}"#,
            br#"{"id":"a","n":1}"#,         // a number
            br#"{"id":"a","n":{"x":"y"}}"#, // a nested value
            br#"{"id":"a","n":true}"#,
            br#"["a","x@y.z","org:member"]"#, // an entry as a list
            br#"{"id":"a","email":"x@y"#,     // cut
            br#"{"id":"a""#,
            b"{\"id\":\"a\tb\"}", // a control character
            br#"{"id":"a" "email":"x"}"#,
            br#"{"id":"a","nul":nul}"#,
        ] {
            assert_eq!(member(text), None, "{:?}", String::from_utf8_lossy(text));
        }
    }

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("id".to_string()),
            Just("email".to_string()),
            Just("role".to_string()),
            Just("firstName".to_string()),
            Just("i\\u0064".to_string()),
            "[a-z]{0,3}",
        ]
    }

    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            16 => "[ -~&&[^\"\\\\]]{0,8}".prop_map(|s| format!("\"{s}\"")),
            // Longer texts, read eight bytes at a time, with a byte that ends a plain text
            // anywhere in them, or none.
            4 => "[ -~&&[^\"\\\\]]{0,20}(\\\\n|é|\t|\u{7f}|\u{1}|)[ -~&&[^\"\\\\]]{0,20}"
                .prop_map(|s| format!("\"{s}\"")),
            3 => Just("null".to_string()),
            1 => Just("nul".to_string()),
            1 => Just("1".to_string()),
            1 => Just("\"a\\nb\"".to_string()),
            1 => Just("\"é\"".to_string()),
            1 => Just("{}".to_string()),
            1 => Just("\"\t\"".to_string()),
        ]
    }

    fn space() -> impl Strategy<Value = String> {
        prop_oneof![24 => Just(String::new()), 4 => "[ \t\r\n]{1,2}", 1 => Just("x".to_string())]
    }

    /// An object of 0 to 5 fields, most often with an `id`, with spaces (and a stray byte)
    /// anywhere, maybe cut short.
    fn entry() -> impl Strategy<Value = Vec<u8>> {
        (
            prop::collection::vec((key(), value(), space(), space(), space()), 0..5),
            prop::option::weighted(0.8, any::<prop::sample::Index>()),
            space(),
            prop::bool::weighted(0.1),
            any::<prop::sample::Index>(),
        )
            .prop_map(|(mut fields, id_at, end, trailing_comma, cut)| {
                if let Some(at) = id_at {
                    let id = (
                        "id".into(),
                        "\"u_1\"".into(),
                        String::new(),
                        String::new(),
                        String::new(),
                    );
                    fields.insert(at.index(fields.len() + 1), id);
                }
                let mut text = String::from("{");
                for (i, (k, v, a, b, c)) in fields.iter().enumerate() {
                    if i > 0 {
                        text.push(',');
                    }
                    text.push_str(&format!("{a}\"{k}\"{b}:{c}{v}"));
                }
                if trailing_comma {
                    text.push(',');
                }
                text.push_str(&end);
                text.push_str("},{");
                let mut bytes = text.into_bytes();
                if cut.index(4) == 0 {
                    bytes.truncate(cut.index(bytes.len() + 1));
                }
                bytes
            })
    }

    proptest! {
        /// Eight bytes at a time, the length is the one found byte by byte.
        #[test]
        fn plain_len_is_the_first_byte_that_is_not_plain(
            bytes in prop::collection::vec(
                prop_oneof![8 => 0x20u8..0x7f, 1 => any::<u8>(), 1 => Just(b'"')],
                0..48,
            )
        ) {
            let expected = bytes
                .iter()
                .position(|b| !(0x20..0x7f).contains(b) || matches!(*b, b'"' | b'\\'))
                .unwrap_or(bytes.len());
            prop_assert_eq!(plain_len(&bytes), expected);
        }
    }

    /// Whatever this reads, serde_json reads alike; and it reads a fair share of the entries
    /// (a floor, so that a generator that stopped making plain entries fails).
    #[test]
    fn agrees_with_serde_json() {
        let mut config = ProptestConfig::with_cases(3000);
        config.source_file = Some(file!());
        let (cases, read) = (std::cell::Cell::new(0u32), std::cell::Cell::new(0u32));
        proptest::test_runner::TestRunner::new(config)
            .run(&entry(), |text| {
                cases.set(cases.get() + 1);
                read.set(read.get() + u32::from(agrees(&text)));
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{e}"));
        let share = f64::from(read.get()) / f64::from(cases.get().max(1));
        assert!(share >= 0.10, "read {share:.3} of the entries (floor 0.10)");
    }
}
