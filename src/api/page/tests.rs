use super::*;

/// The page read in chunks of every size says what the whole page's parse says: the same
/// entries, or the same error.
fn same(body: &[u8]) {
    let whole = format!("{:?}", parse_list_page(body));
    for size in [1, 2, 3, 7, 64, 4096, body.len().max(1)] {
        assert_eq!(
            format!("{:?}", read_in_chunks(body, size)),
            whole,
            "chunks of {size}: {}",
            String::from_utf8_lossy(body)
        );
    }
}

const PAGE: &str = r#"{"data":{"invitations":[{"createdAt":"2026-01-01T00:00:00Z","emailAddress":"a@b.co","id":"inv_1","role":"org:member","status":"pending"},
 {"id":"inv_2","emailAddress":"c@d.co","status":"accepted"}, ["inv_3", "E@f.co", "org:admin"]],
 "members":[{"email":"Jane@Example.com","firstName":null,"id":"user_1","role":"org:admin","extra":{"x":[1,{"y":"}]\"["}]}},
   {"id":"user_2","email":null,"role":"org:member"},
   ["user_3","x@y.z"],
   {"id":"user_4","email":"q@r.s","role":"org:member"}],
 "nextCursor":"abc"},"requestId":"r"}"#;

#[test]
fn a_page_reads_the_same_in_chunks_as_whole() {
    same(PAGE.as_bytes());
    let (state, next) = read_in_chunks(PAGE.as_bytes(), 5).unwrap();
    assert_eq!(
        state
            .members
            .iter()
            .map(|m| m.email.as_str())
            .collect::<Vec<_>>(),
        ["jane@example.com", "x@y.z", "q@r.s"]
    );
    assert_eq!(state.invitations.len(), 2);
    assert_eq!(next.as_deref(), Some("abc"));
    for body in [
        "",
        " ",
        "<html>",
        r#"{"data":{}}"#,
        r#"{"data":{"members":[]}}"#,
        r#"{"data":{"members":[],"invitations":[],"nextCursor":""}}"#,
        r#"{"data":{"members":[],"invitations":[],"nextCursor":7}}"#,
        r#"{"data":{"members":[{"id":"a","email":"a@b.c"}],"invitations":[],"members":[]}}"#,
        r#"{"data":{"members":[{"id":"a","email":"a@b.c"},],"invitations":[]}}"#,
        r#"{"data":{"members":[{"id":"a","email":"a@b.c"} {"id":"b"}],"invitations":[]}}"#,
        r#"{"data":{"members":[{"id":"a","email":"a@b.c"},
  {"id":5}],"invitations":[]}}"#,
        r#"{"data":{"members":[{"id":"a","email":"a@b.c"},null],"invitations":[]}}"#,
        r#"{"data":{"members":[{"id":"a","email":"a@b.c"}],"invitations":[]}} x"#,
        r#"{"data":{"members":[{"id":"a","email":"a@b.c"}],"invitations":[]}}{"data":{"members":[{"id":"b"}]}}"#,
        r#"{"data":{"members":[{"id":"a","email":"a@b.c"}],"invitations":[{"id":"i"}]"#,
        r#"{"data":{"members":[{"id":"a","email":"a@b.c"}"#,
        r#"{"data":{"m\u0065mbers":[{"id":"a","email":"a@b.c"}],"invitations":[]}}"#,
        r#"{"data":{"x":{"members":[{"id":"a"}]},"members":[["a","b@c.d"]],"invitations":[]}}"#,
        r#"{"data":{"members":[["a","b@c.d"]],"invitations":[]},"data":{}}"#,
        r#"["data",{"members":[["a","b@c.d"]]}]"#,
        "{\"data\":{\"members\":[\n{\"id\":\"a\",\"email\":\"a@b.c\"},\n  {\"id\":\"b\",\"email\":\"\u{1}\"}],\"invitations\":[]}}",
        "{\"data\":{\"members\":[{\"id\":\"a\",\"email\":\"a@b.c\"},{\"id\":\"b\",\"email\":\"\\ud800\"}],\"invitations\":[]}}",
    ] {
        same(body.as_bytes());
    }
    same(b"{\"data\":{\"members\":[{\"id\":\"a\",\"email\":\"a@b.c\"},{\"id\":\"\xff\"}],\"invitations\":[]}}");
}

#[test]
fn an_entry_nested_near_the_limit_reads_as_in_the_whole_page() {
    for depth in [120, 123, 124, 125, 126, 127, 130] {
        for typed in [false, true] {
            let inner = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
            // Ignored (an unknown field: no limit) or read (`createdAt`: counted).
            let field = if typed { "createdAt" } else { "extra" };
            let body = format!(
                r#"{{"data":{{"members":[],"invitations":[{{"id":"a","email":"a@b.c","{field}":{inner}}},{{"id":"b","email":"b@b.c"}}]}}}}"#
            );
            same(body.as_bytes());
        }
    }
}

proptest::proptest! {
    /// Any page with bytes changed, put in, taken out or cut off reads the same in chunks.
    #[test]
    fn any_changed_page_reads_the_same_in_chunks(
        edits in proptest::collection::vec((0..PAGE.len(), proptest::prelude::any::<u8>(), 0..4u8), 1..3),
        from in proptest::sample::select(vec![b' ', b'"', b'\\', b',', b'[', b']', b'{', b'}', b'\n', b':', b'0']),
    ) {
        let mut body = PAGE.as_bytes().to_vec();
        for (at, byte, op) in edits {
            let at = at.min(body.len().saturating_sub(1));
            // Half the time a byte that means something in JSON.
            let byte = if byte % 2 == 0 { from } else { byte };
            match op {
                0 if at < body.len() => body[at] = byte,
                1 => body.insert(at, byte),
                2 if at < body.len() => {
                    body.remove(at);
                }
                _ => body.truncate(at),
            }
        }
        same(&body);
    }
}
