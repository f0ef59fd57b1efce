//! The list parser's properties: it never panics, on random bytes or on a page mutated, and
//! reads a page of 200,000 members.

use super::parse_list_page;
use proptest::prelude::*;

const LIST: &str = r#"{"data":{"members":[{"id":"user_1","email":"a@b.co","role":"org:admin","imageUrl":null}],"invitations":[{"id":"orginv_1","emailAddress":"c@d.co","role":"org:member","status":"pending"}],"nextCursor":null}}"#;

#[test]
fn the_fixture_parses() {
    assert!(parse_list_page(LIST.as_bytes()).is_ok());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn the_list_parser_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..1024)) {
        let _ = parse_list_page(&bytes);
    }

    #[test]
    fn the_list_parser_never_panics_on_mutated_json(at in 0usize..300, byte in any::<u8>(), drop in any::<bool>()) {
        let mut text = LIST.as_bytes().to_vec();
        let at = at % text.len();
        if drop { text.remove(at); } else { text[at] = byte; }
        let _ = parse_list_page(&text);
    }
}

#[test]
fn a_list_of_200k_members_parses() {
    let mut body = String::from(r#"{"data":{"members":["#);
    for i in 0..200_000 {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&format!(r#"{{"id":"user_{i}","email":"u{i}@example.com","firstName":"U","lastName":null,"imageUrl":null,"role":"org:member","joinedAt":"2025-01-15T09:30:00.000Z"}}"#));
    }
    body.push_str(r#"],"invitations":[],"nextCursor":null}}"#);
    let (state, next) = parse_list_page(body.as_bytes()).unwrap();
    assert_eq!(state.members.len(), 200_000);
    assert!(next.is_none());
}
