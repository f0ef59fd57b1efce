//! Corporate networks (docs/network.md): HTTPS_PROXY is honoured, and a proxy or TLS failure
//! says what to check next. Only loopback exists here, so the proxy is a tiny recorder.

use crate::assert_run;
use crate::support::*;

/// `teamsync plan` against `https://api.scaling.test` through a loopback proxy that answers
/// every connection with `answer`: the run, and the request heads the proxy saw.
fn plan_through_proxy(answer: &'static str) -> (Run, Vec<String>) {
    let (proxy, seen) = canned_server(answer);
    let proxy = proxy.trim_end_matches("/v1").to_string();
    let w = World::new(org(), FILE);
    let r = w.run_env(
        &["plan"],
        &[
            ("SCALING_API_URL", "https://api.scaling.test/v1"),
            ("HTTPS_PROXY", &proxy),
        ],
    );
    let seen = seen.lock().unwrap().clone();
    (r, seen)
}

/// With HTTPS_PROXY set (and NO_PROXY unset), the request to the API goes through the proxy
/// as `CONNECT host:443`; a proxy that refuses is named as the thing to check.
#[test]
fn https_proxy_is_used_and_a_refusing_proxy_is_named() {
    let (r, seen) = plan_through_proxy(
        "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    assert!(
        seen.first()
            .is_some_and(|head| head.starts_with("CONNECT api.scaling.test:443 ")),
        "{seen:?}"
    );
    assert!(
        !seen.iter().any(|h| h.contains(KEY)),
        "the key never reaches the proxy in clear"
    );
    assert_run!("proxy_refused", r);
}

/// Something that is not the API's TLS on the other side (an intercepting proxy, a certificate
/// nobody trusts) is not retried, and the error says to check SSL_CERT_FILE, the proxy and the
/// system store.
#[test]
fn a_tls_failure_is_not_retried_and_names_the_certificate_settings() {
    let (r, seen) = plan_through_proxy(
        "HTTP/1.1 200 Connection established\r\n\r\nHTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
    );
    assert_eq!(seen.len(), 1, "not retried");
    assert_run!("tls_failure", r);
}
