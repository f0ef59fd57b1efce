//! End-to-end tests of the emulator over real HTTP.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::exit,
    reason = "test code: a failed unwrap is a failed test"
)]

use std::time::Duration;

use reqwest::header::HeaderMap;
use scaling_emulator::{Emulator, Faults, Options, OrgState, RequestRecord};
use serde_json::{Value, json};

const KEY: &str = "scl_live_test";

struct Reply {
    status: u16,
    headers: HeaderMap,
    body: Option<Value>,
}

impl Reply {
    fn code(&self) -> &str {
        self.body.as_ref().unwrap()["code"].as_str().unwrap()
    }
}

/// A reqwest client builder with the crypto provider teamsync installs (see Cargo.toml).
fn http_builder() -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
}

struct Client {
    http: reqwest::Client,
    base: String,
    key: Option<String>,
}

impl Client {
    fn new(emu: &Emulator) -> Self {
        Client {
            http: http_builder().build().unwrap(),
            base: emu.url(),
            key: Some(KEY.to_string()),
        }
    }

    fn with_auth(emu: &Emulator, header: Option<&str>) -> Self {
        let mut c = Client::new(emu);
        c.key = header.map(str::to_string);
        c
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Reply {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(k) = &self.key {
            req = req.header("Authorization", format!("Bearer {k}"));
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request failed");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.expect("body failed");
        let body = if bytes.is_empty() {
            None
        } else {
            Some(serde_json::from_slice(&bytes).expect("body is not JSON"))
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    async fn get(&self, path: &str) -> Reply {
        self.send(reqwest::Method::GET, path, None).await
    }
    async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }
    async fn patch(&self, path: &str, body: Value) -> Reply {
        self.send(reqwest::Method::PATCH, path, Some(body)).await
    }
    async fn delete(&self, path: &str) -> Reply {
        self.send(reqwest::Method::DELETE, path, None).await
    }
}

fn org() -> OrgState {
    let mut s = OrgState::with_members(&[
        ("me@example.com", "org:admin"),
        ("jane.smith@example.com", "org:admin"),
        ("bob@example.com", "org:member"),
    ]);
    s.add_invitation("alice@example.com", "org:member");
    s
}

fn start(state: OrgState) -> Emulator {
    Emulator::start(
        state,
        Options {
            self_email: Some("me@example.com".into()),
            ..Options::default()
        },
    )
}

fn assert_error_shape(r: &Reply, status: u16, kind: &str, code: &str) {
    assert_eq!(r.status, status, "body: {:?}", r.body);
    let b = r.body.as_ref().expect("error body");
    assert_eq!(b["statusCode"], status);
    assert_eq!(b["type"], kind);
    assert_eq!(b["code"], code);
    let rid = b["requestId"].as_str().expect("requestId");
    assert_eq!(rid.len(), 36, "uuid-like: {rid}");
    assert_eq!(
        r.headers.get("x-request-id").unwrap().to_str().unwrap(),
        rid
    );
}

#[tokio::test]
async fn list_has_the_documented_envelope() {
    let emu = start(org());
    let r = Client::new(&emu).get("/team/members").await;
    assert_eq!(r.status, 200);
    assert!(r.headers.contains_key("x-request-id"));
    let data = &r.body.unwrap()["data"];
    assert_eq!(data["nextCursor"], Value::Null);
    let members = data["members"].as_array().unwrap();
    assert_eq!(members.len(), 3);
    assert_eq!(
        members[1],
        json!({
            "id": "user_0002",
            "email": "jane.smith@example.com",
            "firstName": "Jane",
            "lastName": "Smith",
            "imageUrl": null,
            "role": "org:admin",
            "joinedAt": "2025-01-15T09:30:00.000Z",
        })
    );
    assert_eq!(members[2]["lastName"], Value::Null);
    let invs = data["invitations"].as_array().unwrap();
    assert_eq!(invs.len(), 1);
    assert_eq!(invs[0]["id"], "orginv_0001");
    assert_eq!(invs[0]["emailAddress"], "alice@example.com");
    assert_eq!(invs[0]["status"], "pending");
    assert!(invs[0]["createdAt"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn invite_then_list() {
    let emu = start(org());
    let c = Client::new(&emu);
    let r = c
        .post(
            "/team/members/invite",
            json!({"emailAddress": "New.Person@Example.com", "role": "org:admin"}),
        )
        .await;
    assert_eq!(r.status, 201);
    let inv = r.body.unwrap()["data"].clone();
    let id = inv["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("orginv_"), "{id}");
    assert_eq!(inv["emailAddress"], "New.Person@Example.com");
    assert_eq!(inv["role"], "org:admin");
    assert_eq!(inv["status"], "pending");
    let created = inv["createdAt"].as_str().unwrap();
    assert_eq!(created.len(), "2026-04-05T10:00:00.000Z".len());

    let listed = c.get("/team/members").await.body.unwrap();
    let invs = listed["data"]["invitations"].as_array().unwrap().clone();
    assert_eq!(invs.len(), 2);
    assert_eq!(invs[1], inv);
    assert!(emu.state().invitations.iter().any(|i| i.id == id));
}

#[tokio::test]
async fn invalid_invites_are_400() {
    let emu = start(org());
    let c = Client::new(&emu);
    let too_long = format!("{}@example.com", "a".repeat(321 - "@example.com".len()));
    assert_eq!(too_long.len(), 321);
    let just_fits = format!("{}@example.com", "b".repeat(320 - "@example.com".len()));
    let bad = [
        json!({"emailAddress": "not-an-email", "role": "org:member"}),
        json!({"emailAddress": too_long, "role": "org:member"}),
        json!({"emailAddress": "ok@example.com", "role": "org:owner"}),
        json!({"emailAddress": "ok@example.com"}),
        json!({"role": "org:member"}),
        json!({"emailAddress": 42, "role": "org:member"}),
        json!(["not", "an", "object"]),
    ];
    for body in bad {
        let r = c.post("/team/members/invite", body.clone()).await;
        assert_error_shape(&r, 400, "invalid_request_error", "invalid_request_error");
        assert!(r.body.unwrap()["message"].is_string(), "{body}");
    }
    assert!(emu.invites_committed().is_empty());
    assert_eq!(emu.state().invitations.len(), 1);

    let r = c
        .post(
            "/team/members/invite",
            json!({"emailAddress": just_fits, "role": "org:member"}),
        )
        .await;
    assert_eq!(r.status, 201);
}

#[tokio::test]
async fn change_role_and_self_protection() {
    let emu = start(org());
    let c = Client::new(&emu);
    let r = c
        .patch("/team/members/user_0003/role", json!({"role": "org:admin"}))
        .await;
    assert_eq!(r.status, 200);
    let m = &r.body.unwrap()["data"];
    assert_eq!(m["id"], "user_0003");
    assert_eq!(m["email"], "bob@example.com");
    assert_eq!(m["role"], "org:admin");
    assert_eq!(emu.state().members[2].role, "org:admin");

    let r = c
        .patch(
            "/team/members/user_0001/role",
            json!({"role": "org:member"}),
        )
        .await;
    assert_error_shape(&r, 400, "invalid_request_error", "cannot_change_own_role");
    assert_eq!(emu.state().members[0].role, "org:admin");

    let r = c
        .patch("/team/members/user_0003/role", json!({"role": "admin"}))
        .await;
    assert_error_shape(&r, 400, "invalid_request_error", "invalid_request_error");

    let r = c
        .patch(
            "/team/members/user_9999/role",
            json!({"role": "org:member"}),
        )
        .await;
    assert_error_shape(&r, 404, "invalid_request_error", "not_found");
}

#[tokio::test]
async fn delete_member_and_self_protection() {
    let emu = start(org());
    let c = Client::new(&emu);
    let r = c.delete("/team/members/user_0003").await;
    assert_eq!(r.status, 204);
    assert!(r.body.is_none());
    assert!(r.headers.contains_key("x-request-id"));
    assert!(emu.state().member_by_email("bob@example.com").is_none());

    let r = c.delete("/team/members/user_0003").await;
    assert_error_shape(&r, 404, "invalid_request_error", "not_found");

    let r = c.delete("/team/members/user_0001").await;
    assert_error_shape(&r, 400, "invalid_request_error", "cannot_remove_self");
    assert_eq!(emu.state().members.len(), 2);
}

#[tokio::test]
async fn delete_status_200_has_a_body() {
    let emu = Emulator::start(
        org(),
        Options {
            delete_status: 200,
            ..Options::default()
        },
    );
    let c = Client::new(&emu);
    let r = c.delete("/team/members/user_0003").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body.unwrap(),
        json!({"data": {"id": "user_0003", "deleted": true}})
    );
    let r = c.delete("/team/members/invitations/orginv_0001").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body.unwrap()["data"]["id"], "orginv_0001");
}

#[tokio::test]
async fn the_last_admin_is_protected() {
    // Self is a plain member here, so the last-admin rule is what stops the change.
    let state = OrgState::with_members(&[
        ("me@example.com", "org:member"),
        ("boss@example.com", "org:admin"),
        ("other@example.com", "org:member"),
    ]);
    let emu = start(state);
    let c = Client::new(&emu);
    let r = c
        .patch(
            "/team/members/user_0002/role",
            json!({"role": "org:member"}),
        )
        .await;
    assert_error_shape(&r, 400, "invalid_request_error", "last_admin");
    let r = c.delete("/team/members/user_0002").await;
    assert_error_shape(&r, 400, "invalid_request_error", "last_admin");
    assert_eq!(emu.state().members[1].role, "org:admin");

    // With a second admin both are allowed.
    let r = c
        .patch("/team/members/user_0003/role", json!({"role": "org:admin"}))
        .await;
    assert_eq!(r.status, 200);
    let r = c
        .patch(
            "/team/members/user_0002/role",
            json!({"role": "org:member"}),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = c.delete("/team/members/user_0002").await;
    assert_eq!(r.status, 204);
    let r = c.delete("/team/members/user_0003").await;
    assert_error_shape(&r, 400, "invalid_request_error", "last_admin");
}

#[tokio::test]
async fn revoke_invitation() {
    let emu = start(org());
    let c = Client::new(&emu);
    let r = c.delete("/team/members/invitations/orginv_0001").await;
    assert_eq!(r.status, 204);
    assert_eq!(emu.state().invitations[0].status, "revoked");
    let listed = c.get("/team/members").await.body.unwrap();
    assert_eq!(listed["data"]["invitations"], json!([]));

    let r = c.delete("/team/members/invitations/orginv_0001").await;
    assert_error_shape(&r, 404, "invalid_request_error", "not_found");
    let r = c.delete("/team/members/invitations/orginv_nope").await;
    assert_error_shape(&r, 404, "invalid_request_error", "not_found");
}

#[tokio::test]
async fn non_pending_invitations_can_stay_listed() {
    let emu = Emulator::start(
        org(),
        Options {
            list_non_pending: true,
            ..Options::default()
        },
    );
    let c = Client::new(&emu);
    assert_eq!(
        c.delete("/team/members/invitations/orginv_0001")
            .await
            .status,
        204
    );
    let listed = c.get("/team/members").await.body.unwrap();
    let invs = listed["data"]["invitations"].as_array().unwrap().clone();
    assert_eq!(invs.len(), 1);
    assert_eq!(invs[0]["status"], "revoked");
}

#[tokio::test]
async fn unauthorized_variants() {
    let emu = start(org());
    for header in [None, Some("scl_live_test")] {
        // `Some` without the Bearer prefix: sent raw below.
        let c = Client::with_auth(&emu, None);
        let mut req = c.http.get(format!("{}/team/members", emu.url()));
        if let Some(h) = header {
            req = req.header("Authorization", h);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 401);
        let b: Value = resp.json().await.unwrap();
        assert_eq!(b["type"], "not_authorized_error");
        assert_eq!(b["code"], "missing_authorization_header");
    }

    let r = Client::with_auth(&emu, Some("scl_live_wrong"))
        .post(
            "/team/members/invite",
            json!({"emailAddress": "x@example.com", "role": "org:member"}),
        )
        .await;
    assert_error_shape(&r, 401, "not_authorized_error", "invalid_api_key");
    assert!(emu.state().invitations.len() == 1);

    let emu = Emulator::start(
        org(),
        Options {
            key_is_admin: false,
            ..Options::default()
        },
    );
    let r = Client::new(&emu).delete("/team/members/user_0003").await;
    assert_error_shape(&r, 401, "not_authorized_error", "not_authorized");
    assert_eq!(emu.state().members.len(), 3);
}

#[tokio::test]
async fn unknown_route_is_a_json_404() {
    let emu = start(org());
    let r = Client::new(&emu).get("/team/nothing").await;
    assert_error_shape(&r, 404, "invalid_request_error", "not_found");
}

#[tokio::test]
async fn pagination_follows_cursors() {
    let mut state = org(); // 3 members + 1 invitation
    state.add_invitation("zed@example.com", "org:admin");
    let emu = start(state);
    emu.set_faults(Faults {
        page_size: Some(2),
        ..Faults::default()
    });
    let c = Client::new(&emu);
    let mut path = "/team/members".to_string();
    let mut pages = Vec::new();
    loop {
        let r = c.get(&path).await;
        assert_eq!(r.status, 200);
        let data = r.body.unwrap()["data"].clone();
        pages.push(data.clone());
        match data["nextCursor"].as_str() {
            Some(cur) => path = format!("/team/members?cursor={cur}"),
            None => break,
        }
        assert!(pages.len() < 10, "cursor loop");
    }
    assert_eq!(pages.len(), 3);
    let count = |p: &Value, k: &str| p[k].as_array().unwrap().len();
    assert_eq!(
        (count(&pages[0], "members"), count(&pages[0], "invitations")),
        (2, 0)
    );
    assert_eq!(
        (count(&pages[1], "members"), count(&pages[1], "invitations")),
        (1, 1)
    );
    assert_eq!(
        (count(&pages[2], "members"), count(&pages[2], "invitations")),
        (0, 1)
    );
    assert_eq!(
        pages[2]["invitations"][0]["emailAddress"],
        "zed@example.com"
    );
    assert!(emu.requests()[1].path.contains("?cursor="));

    for bad in ["garbage", "", "cur_2_0000000000000000"] {
        let r = c.get(&format!("/team/members?cursor={bad}")).await;
        assert_error_shape(&r, 400, "invalid_request_error", "invalid_cursor");
    }
}

#[tokio::test]
async fn commit_then_fail_applies_the_write() {
    let emu = start(org());
    emu.set_faults(Faults {
        commit_then_fail: 1.0,
        ..Faults::default()
    });
    let c = Client::new(&emu);
    let r = c
        .post(
            "/team/members/invite",
            json!({"emailAddress": "x@example.com", "role": "org:member"}),
        )
        .await;
    assert_error_shape(&r, 500, "internal_error", "server_error");
    assert_eq!(emu.state().invitations.len(), 2);
    assert_eq!(emu.invites_committed()["x@example.com"], 1);

    let r = c.delete("/team/members/user_0003").await;
    assert_eq!(r.status, 500);
    assert!(emu.state().member_by_email("bob@example.com").is_none());

    // Reads are not affected, and a failing write keeps its own error.
    assert_eq!(c.get("/team/members").await.status, 200);
    let r = c.delete("/team/members/user_0001").await;
    assert_eq!(r.code(), "cannot_remove_self");
}

#[tokio::test]
async fn rate_limit_carries_retry_after_and_does_nothing() {
    let emu = start(org());
    emu.set_faults(Faults {
        rate_limit_429: 1.0,
        retry_after: "0".into(),
        ..Faults::default()
    });
    let c = Client::new(&emu);
    let r = c
        .post(
            "/team/members/invite",
            json!({"emailAddress": "x@example.com", "role": "org:member"}),
        )
        .await;
    assert_eq!(r.status, 429);
    assert_eq!(r.headers.get("retry-after").unwrap(), "0");
    assert_eq!(r.body.as_ref().unwrap()["statusCode"], 429);
    assert_eq!(emu.state().invitations.len(), 1);
    assert!(emu.invites_committed().is_empty());

    // Default Retry-After is "1".
    emu.set_faults(Faults {
        rate_limit_429: 1.0,
        ..Faults::default()
    });
    let r = c.get("/team/members").await;
    assert_eq!(r.headers.get("retry-after").unwrap(), "1");
}

#[tokio::test]
async fn server_errors_rotate_and_do_nothing() {
    let emu = start(org());
    emu.set_faults(Faults {
        error_5xx: 1.0,
        ..Faults::default()
    });
    let c = Client::new(&emu);
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let r = c.delete("/team/members/user_0003").await;
        assert_eq!(r.code(), "server_error");
        statuses.push(r.status);
    }
    assert_eq!(statuses, [500, 502, 503]);
    assert_eq!(emu.state().members.len(), 3);
}

#[tokio::test]
async fn writes_only_spares_reads() {
    let emu = start(org());
    emu.set_faults(Faults {
        error_5xx: 1.0,
        writes_only: true,
        ..Faults::default()
    });
    let c = Client::new(&emu);
    assert_eq!(c.get("/team/members").await.status, 200);
    assert_eq!(c.delete("/team/members/user_0003").await.status, 500);
}

#[tokio::test]
async fn dropped_connection_commits_then_breaks_the_body() {
    let emu = start(org());
    emu.set_faults(Faults {
        drop_connection: 1.0,
        ..Faults::default()
    });
    let http = http_builder().build().unwrap();
    let resp = http
        .post(format!("{}/team/members/invite", emu.url()))
        .bearer_auth(KEY)
        .json(&json!({"emailAddress": "x@example.com", "role": "org:member"}))
        .send()
        .await;
    // The head arrives (status and a too-large Content-Length), then the body fails.
    let resp = resp.expect("the head is sent before the drop");
    assert_eq!(resp.status(), 201);
    assert!(resp.headers().contains_key("x-request-id"));
    assert!(resp.bytes().await.is_err(), "body should be cut short");
    assert_eq!(emu.invites_committed()["x@example.com"], 1);
}

#[tokio::test]
async fn slow_answers_exceed_a_client_timeout_but_commit() {
    let emu = start(org());
    emu.set_faults(Faults {
        slow: 1.0,
        slow_delay: Duration::from_secs(5),
        ..Faults::default()
    });
    let http = http_builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let err = http
        .delete(format!("{}/team/members/user_0003", emu.url()))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert!(emu.state().member_by_email("bob@example.com").is_none());
    assert_eq!(emu.requests().last().unwrap().status, 204);
    // Stopping does not wait for the sleeping answer.
    let t = std::time::Instant::now();
    emu.stop();
    assert!(t.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn accept_invitation_turns_it_into_a_member() {
    let emu = start(org());
    assert!(emu.accept_invitation("ALICE@example.com"));
    let s = emu.state();
    assert_eq!(s.invitations[0].status, "accepted");
    let alice = s.member_by_email("alice@example.com").unwrap();
    assert_eq!(alice.role, "org:member");
    assert!(alice.id.starts_with("user_"));
    assert!(!emu.accept_invitation("alice@example.com"));
    assert!(!emu.accept_invitation("nobody@example.com"));

    let listed = Client::new(&emu).get("/team/members").await.body.unwrap();
    assert_eq!(listed["data"]["members"].as_array().unwrap().len(), 4);
    assert_eq!(listed["data"]["invitations"], json!([]));
}

#[tokio::test]
async fn invites_committed_counts_duplicates_case_insensitively() {
    let emu = start(org());
    let c = Client::new(&emu);
    for email in ["Dup@Example.com", "dup@example.com", "bob@example.com"] {
        let r = c
            .post(
                "/team/members/invite",
                json!({"emailAddress": email, "role": "org:member"}),
            )
            .await;
        assert_eq!(r.status, 201);
    }
    let counts = emu.invites_committed();
    assert_eq!(counts.len(), 2);
    assert_eq!(counts["dup@example.com"], 2);
    assert_eq!(counts["bob@example.com"], 1);
}

#[tokio::test]
async fn requests_and_write_count_are_recorded() {
    let emu = start(org());
    let c = Client::new(&emu);
    c.get("/team/members").await;
    c.delete("/team/members/user_0003").await;
    c.patch("/team/members/user_0002/role", json!({"role": "nope"}))
        .await;
    assert_eq!(
        emu.requests(),
        vec![
            RequestRecord {
                method: "GET".into(),
                path: "/v1/team/members".into(),
                status: 200
            },
            RequestRecord {
                method: "DELETE".into(),
                path: "/v1/team/members/user_0003".into(),
                status: 204
            },
            RequestRecord {
                method: "PATCH".into(),
                path: "/v1/team/members/user_0002/role".into(),
                status: 400
            },
        ]
    );
    assert_eq!(emu.write_count(), 2);
}

#[tokio::test]
async fn concurrent_writes_are_atomic() {
    let mut state = OrgState::with_members(&[("me@example.com", "org:admin")]);
    for i in 0..40 {
        state.add_member(&format!("m{i}@example.com"), "org:member");
    }
    let emu = start(state);
    let c = std::sync::Arc::new(Client::new(&emu));
    let mut tasks = Vec::new();
    for i in 0..40 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            let a = c.delete(&format!("/team/members/user_{:04}", i + 2)).await;
            let b = c
                .post(
                    "/team/members/invite",
                    json!({"emailAddress": format!("n{i}@example.com"), "role": "org:member"}),
                )
                .await;
            (a.status, b.status)
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), (204, 201));
    }
    let s = emu.state();
    assert_eq!(s.members.len(), 1);
    assert_eq!(s.invitations.len(), 40);
    assert_eq!(emu.write_count(), 80);
}

#[test]
fn works_from_sync_code_and_set_state_replaces_the_org() {
    let emu = start(org());
    assert!(emu.url().starts_with("http://127.0.0.1:"));
    assert!(emu.url().ends_with("/v1"));
    let mut s = emu.state();
    s.members.retain(|m| m.email != "bob@example.com");
    emu.set_state(s.clone());
    assert_eq!(emu.state(), s);
    emu.stop();
}

#[test]
#[should_panic(expected = "must be a member")]
fn self_email_must_be_a_member() {
    let _ = Emulator::start(
        org(),
        Options {
            self_email: Some("stranger@example.com".into()),
            ..Options::default()
        },
    );
}

#[tokio::test]
async fn someone_else_acts_on_an_invitation_as_it_is_revoked() {
    // Accepted just before the revoke: a member, and the revoke is 404.
    let emu = start(org());
    emu.set_faults(Faults {
        on_revoke: Some(scaling_emulator::Meanwhile::Accepted),
        ..Faults::default()
    });
    let c = Client::new(&emu);
    let r = c.delete("/team/members/invitations/orginv_0001").await;
    assert_error_shape(&r, 404, "invalid_request_error", "not_found");
    let s = emu.state();
    assert_eq!(s.invitations[0].status, "accepted");
    assert_eq!(
        s.member_by_email("alice@example.com")
            .map(|m| m.role.as_str()),
        Some("org:member")
    );

    // Invited again in the dashboard just after the revoke: one pending, with the same role.
    let emu = start(org());
    emu.set_faults(Faults {
        on_revoke: Some(scaling_emulator::Meanwhile::InvitedAgain),
        ..Faults::default()
    });
    let c = Client::new(&emu);
    let r = c.delete("/team/members/invitations/orginv_0001").await;
    assert_eq!(r.status, 204);
    let listed = c.get("/team/members").await.body.unwrap();
    let pending = listed["data"]["invitations"].as_array().unwrap();
    assert_eq!(pending.len(), 1, "{listed}");
    assert_ne!(pending[0]["id"], "orginv_0001");
    assert_eq!(pending[0]["emailAddress"], "alice@example.com");
    assert_eq!(pending[0]["role"], "org:member");
    assert!(
        emu.invites_committed().is_empty(),
        "not made through the API"
    );
}

#[tokio::test]
async fn reject_invites_refuses_every_invitation_and_makes_none() {
    let emu = start(org());
    emu.set_faults(Faults {
        reject_invites: true,
        ..Faults::default()
    });
    let c = Client::new(&emu);
    let r = c
        .post(
            "/team/members/invite",
            json!({"emailAddress": "new@example.com", "role": "org:member"}),
        )
        .await;
    assert_error_shape(&r, 400, "invalid_request_error", "invalid_request_error");
    assert_eq!(emu.state().invitations.len(), 1);
    assert!(emu.invites_committed().is_empty());
}

/// A list page as it came (`http` must not inflate on its own): its headers and JSON, asked for
/// with `Accept-Encoding: encoding`, and gzipped exactly when `gzip` was asked for.
async fn raw_page(http: &reqwest::Client, url: &str, encoding: &str) -> (HeaderMap, Value) {
    let resp = http
        .get(url)
        .header("Authorization", format!("Bearer {KEY}"))
        .header("Accept-Encoding", encoding)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let headers = resp.headers().clone();
    let gzipped = headers.get("content-encoding").is_some();
    assert_eq!(gzipped, encoding == "gzip", "{encoding}: {headers:?}");
    let raw = resp.bytes().await.unwrap();
    let json = if gzipped {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&raw[..]), &mut out).unwrap();
        out
    } else {
        raw.to_vec()
    };
    (headers, serde_json::from_slice(&json).unwrap())
}

/// The list goes out while it is written (chunked, no `Content-Length`), or written whole with
/// one when `Options::whole_list` is set: the same JSON either way, gzipped or not, over
/// several pieces (a page of 2,000 members is about 300 KB).
#[tokio::test]
async fn the_list_streams_or_comes_whole_with_the_same_json() {
    let mut state = org();
    for i in 0..2000 {
        state.add_member(&format!("person{i:04}@example.com"), "org:member");
    }
    let mut bodies = Vec::new();
    for whole in [false, true] {
        let emu = Emulator::start(
            state.clone(),
            Options {
                self_email: Some("me@example.com".into()),
                whole_list: whole,
                ..Options::default()
            },
        );
        for encoding in ["identity", "gzip"] {
            // In the workspace, reqwest has teamsync's gzip feature and would inflate the
            // answer itself: the bytes are read as they came.
            let http = http_builder().no_gzip().build().unwrap();
            let url = format!("{}/team/members", emu.url());
            let (headers, v) = raw_page(&http, &url, encoding).await;
            if encoding != "gzip" {
                // A gzipped answer's length is its compressed one, whole or not.
                assert_eq!(
                    headers.get("content-length").is_some(),
                    whole,
                    "whole_list {whole}: {headers:?}"
                );
            }
            assert_eq!(v["data"]["members"].as_array().unwrap().len(), 2003);
            bodies.push(v);
        }
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]));
}

/// With `Options::cached_list`, a list request is answered from the cache while nothing has
/// changed, and never once something has: after every kind of change (each write through the
/// API, a late commit, and each change through `Shared`), every page read through the cache
/// is the page read fresh (a query of its own, which the list ignores, is a page of its own
/// in the cache), gzipped and not.
#[tokio::test]
async fn a_cached_list_is_sent_again_only_while_nothing_changed() {
    let mut state = org();
    for i in 0..30 {
        state.add_member(&format!("person{i:02}@example.com"), "org:member");
    }
    let emu = Emulator::start(
        state.clone(),
        Options {
            self_email: Some("me@example.com".into()),
            cached_list: true,
            ..Options::default()
        },
    );
    // New invitations get a fixed `createdAt`: fresh and cached reads are compared whole.
    emu.shared()
        .set_invitation_clock(Some("2026-06-01T00:00:00.000Z"));
    emu.set_faults(Faults {
        page_size: Some(7),
        ..Faults::default()
    });
    let c = Client::new(&emu);
    let raw = http_builder().no_gzip().build().unwrap();
    let fresh = std::sync::atomic::AtomicU64::new(0);
    // Every page, as (JSON, bytes) per encoding, through the cache or fresh.
    let read = |cached: bool| {
        let (raw, fresh) = (&raw, &fresh);
        let base = emu.url();
        async move {
            let mut pages = Vec::new();
            for encoding in ["identity", "gzip"] {
                let mut cursor: Option<String> = None;
                loop {
                    let mut query = cursor
                        .as_ref()
                        .map(|c| format!("cursor={c}"))
                        .into_iter()
                        .collect::<Vec<_>>();
                    if !cached {
                        let n = fresh.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        query.push(format!("fresh={n}"));
                    }
                    let url = format!("{base}/team/members?{}", query.join("&"));
                    let (_, v) = raw_page(raw, &url, encoding).await;
                    cursor = v["data"]["nextCursor"].as_str().map(str::to_string);
                    pages.push(v);
                    if cursor.is_none() {
                        break;
                    }
                }
            }
            pages
        }
    };
    // The pages through the cache twice (the second time from it), and fresh: all alike.
    let check = |what: &'static str| {
        let (read, emu) = (&read, &emu);
        async move {
            let first = read(true).await;
            let hits = emu.lists_from_cache();
            let again = read(true).await;
            let pages = first.len() as u64;
            assert_eq!(
                emu.lists_from_cache(),
                hits + pages,
                "{what}: from the cache"
            );
            let fresh = read(false).await;
            assert_eq!(first, fresh, "{what}: the cache sent a stale page");
            assert_eq!(again, fresh, "{what}: the cache sent a stale page");
            hits
        }
    };
    let before = check("start").await;
    assert_eq!(before, 0, "nothing was cached before the first read");

    let r = c
        .post(
            "/team/members/invite",
            json!({"emailAddress": "new@example.com", "role": "org:member"}),
        )
        .await;
    assert_eq!(r.status, 201);
    let after_invite = emu.lists_from_cache();
    check("invite").await;
    // The first read after the write was written afresh, page by page.
    assert!(emu.lists_from_cache() > after_invite);

    let r = c
        .patch("/team/members/user_0003/role", json!({"role": "org:admin"}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    check("change a role").await;
    let r = c.delete("/team/members/user_0004").await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    check("remove a member").await;
    let r = c.delete("/team/members/invitations/orginv_0001").await;
    assert!(matches!(r.status, 200 | 204), "{:?}", r.body);
    check("revoke an invitation").await;

    let invitation = emu
        .state()
        .invitations
        .iter()
        .find(|i| i.email_address == "new@example.com")
        .unwrap()
        .id
        .clone();
    emu.shared()
        .set_created_at(&invitation, Some("2020-01-01T00:00:00.000Z"));
    check("createdAt set").await;
    assert!(emu.accept_invitation("new@example.com"));
    check("an invitation accepted").await;
    emu.set_faults(Faults {
        page_size: Some(5),
        ..Faults::default()
    });
    check("pages of another size").await;
    let mut other = state.clone();
    other.add_member("someone.else@example.com", "org:member");
    emu.set_state(other);
    check("the org replaced").await;

    // A write that answers 504 and is applied later: the list read meanwhile is not sent
    // again once it is applied.
    emu.set_faults(Faults {
        page_size: Some(5),
        late_commit: 1.0,
        late_commit_delay: Duration::from_millis(150),
        writes_only: true,
        ..Faults::default()
    });
    let r = c
        .post(
            "/team/members/invite",
            json!({"emailAddress": "late@example.com", "role": "org:member"}),
        )
        .await;
    assert_eq!(r.status, 504);
    check("a write not applied yet").await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    check("the write applied late").await;
    let listed = read(true).await;
    assert!(
        listed
            .iter()
            .any(|p| p.to_string().contains("late@example.com")),
        "the late write is listed"
    );
}
