//! The router and the middleware every request goes through: request ids, bookkeeping, the
//! faults in their documented order, authentication, gzip, and cut or oversized answers.

use super::*;

/// The emulator's routes plus its middleware (request ids, bookkeeping, faults, auth).
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/team/members", get(list_members))
        .route("/v1/team/members/invite", post(invite))
        .route("/v1/team/members/{user_id}/role", patch(change_role))
        .route("/v1/team/members/{user_id}", delete(remove_member))
        .route(
            "/v1/team/members/invitations/{invitation_id}",
            delete(revoke_invitation),
        )
        .fallback(|| async { ApiError::not_found("No such route.") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "invalid_request_error",
                "method_not_allowed",
                "Method not allowed on this route.",
            )
        })
        .layer(middleware::from_fn_with_state(shared.clone(), pipeline))
        .with_state(shared)
}

/// Serve [`router`] on `listener` until the future is dropped or fails.
pub async fn serve(listener: tokio::net::TcpListener, shared: Arc<Shared>) -> std::io::Result<()> {
    axum::serve(nodelay(listener), router(shared)).await
}

/// `listener`, its connections without Nagle's delay: a list's answer goes out in pieces as
/// it is written, and a small last piece must not wait for the client's delayed ACK (40 ms a
/// page, measured, before this).
pub(crate) fn nodelay(
    listener: tokio::net::TcpListener,
) -> impl axum::serve::Listener<Addr = SocketAddr> {
    use axum::serve::ListenerExt;
    listener.tap_io(|tcp| {
        // Best effort: without it, answers are only slower.
        let _ = tcp.set_nodelay(true);
    })
}

#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Decision {
    pub(crate) pre_5xx: Option<StatusCode>,
    pub(crate) pre_429: bool,
    pub(crate) commit_then_fail: bool,
    pub(crate) late_commit: bool,
    pub(crate) slow: bool,
    pub(crate) drop_connection: bool,
}

pub(crate) fn draw(rng: &mut fastrand::Rng, p: f64) -> bool {
    p > 0.0 && rng.f64() < p
}

pub(crate) async fn pipeline(
    State(shared): State<Arc<Shared>>,
    req: Request,
    next: Next,
) -> Response {
    let method = req.method().clone();
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| req.uri().path().to_string());
    let is_write = matches!(
        method,
        Method::POST | Method::PATCH | Method::DELETE | Method::PUT
    );
    let request_id = uuid_v4();

    // A list request's answer may come from the cache (`Options::cached_list`), kept by its
    // path and query (the page) and whether it is gzipped.
    let is_list = method == Method::GET && req.uri().path() == "/v1/team/members";
    let list_path = is_list.then(|| path.clone());
    let (record_idx, latency, writes_before, generation) = {
        let mut inner = shared.lock();
        let writes_before = inner.write_count;
        if method != Method::GET {
            inner.write_count += 1;
        }
        if is_write {
            inner.writes_since_faults += 1;
            // As it arrives (and again once handled): a cached list is not sent past a write.
            inner.list_generation += 1;
        }
        let window = inner.faults.rate_limit_window;
        let at = inner.faults.rate_limit_window_at_write;
        if !window.is_zero()
            && inner.window_until.is_none()
            && (at == 0 || (is_write && inner.writes_since_faults == at))
        {
            inner.window_until = Some(std::time::Instant::now() + window);
        }
        // Recorded under `inner`'s lock: the records keep the order requests are handled in.
        let record_idx = shared.record(RequestRecord {
            method: method.to_string(),
            path,
            status: 0,
        });
        (
            record_idx,
            inner.faults.latency,
            writes_before,
            inner.list_generation,
        )
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }

    let accepts_gzip = req
        .headers()
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|v| v.split(';').next().unwrap_or("").trim() == "gzip");
    let (
        decision,
        retry_after,
        slow_delay,
        late_delay,
        options,
        oversized,
        delete_404,
        key_revoked,
    ) = {
        let mut inner = shared.lock();
        let f = inner.faults.clone();
        let mut d = Decision::default();
        let now = std::time::Instant::now();
        let window_left = inner
            .window_until
            .filter(|until| *until > now)
            .map(|until| until - now);
        if !f.writes_only || is_write {
            let rng = &mut inner.fault_rng;
            if draw(rng, f.error_5xx) {
                d.pre_5xx = Some(StatusCode::INTERNAL_SERVER_ERROR);
            } else if draw(rng, f.rate_limit_429) {
                d.pre_429 = true;
            } else {
                d.commit_then_fail = is_write && draw(rng, f.commit_then_fail);
                d.late_commit = is_write && !d.commit_then_fail && draw(rng, f.late_commit);
                d.slow = draw(rng, f.slow);
                d.drop_connection = draw(rng, f.drop_connection);
            }
            if d.pre_5xx.is_some() {
                let codes = [
                    StatusCode::INTERNAL_SERVER_ERROR,
                    StatusCode::BAD_GATEWAY,
                    StatusCode::SERVICE_UNAVAILABLE,
                ];
                d.pre_5xx = Some(codes[inner.rotate_5xx % codes.len()]);
                inner.rotate_5xx += 1;
            }
        }
        let mut retry_after = f.retry_after;
        if let Some(left) = window_left {
            d = Decision {
                pre_429: true,
                ..Decision::default()
            };
            retry_after = left.as_millis().div_ceil(1000).to_string();
        }
        let oversized =
            (f.oversized_body > 0 && (!f.writes_only || is_write)).then_some(f.oversized_body);
        if d.late_commit {
            d.late_commit = f.late_commit_max.is_none_or(|m| inner.late_commits < m);
            inner.late_commits += usize::from(d.late_commit);
        }
        (
            d,
            retry_after,
            f.slow_delay,
            f.late_commit_delay,
            inner.options.clone(),
            oversized,
            f.delete_404,
            f.revoke_key_after_writes
                .is_some_and(|n| writes_before >= n),
        )
    };

    let gzip = options.gzip && accepts_gzip;
    let cache_key = list_path
        .filter(|_| options.cached_list)
        .map(|path| (path, gzip));
    // Whether the answer came from the cache (and is sent as kept).
    let mut cached = false;
    let mut resp = if let Some(status) = decision.pre_5xx {
        ApiError::server(status).render(&request_id)
    } else if decision.pre_429 {
        let mut r = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limit_error",
            "rate_limited",
            "Too many requests; retry later.",
        )
        .render(&request_id);
        let value = Some(retry_after.as_str())
            .filter(|v| !v.is_empty())
            .and_then(|v| HeaderValue::from_str(v).ok());
        if let Some(v) = value {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        r
    } else if let Err(e) = authenticate(req.headers(), &options) {
        e.render(&request_id)
    } else if key_revoked {
        ApiError::unauthorized("invalid_api_key", "The API key was revoked.").render(&request_id)
    } else if delete_404 && method == Method::DELETE {
        ApiError::not_found("Not found.").render(&request_id)
    } else if decision.late_commit {
        let shared = shared.clone();
        tokio::spawn(async move {
            tokio::time::sleep(late_delay).await;
            let _ = next.run(req).await;
            shared.lock().list_generation += 1;
        });
        ApiError::server(StatusCode::GATEWAY_TIMEOUT).render(&request_id)
    } else if let Some(body) = cache_key
        .as_ref()
        .and_then(|key| shared.cached_list(key, generation))
    {
        cached = true;
        cached_answer(body, gzip)
    } else {
        let r = next.run(req).await;
        if is_write {
            shared.lock().list_generation += 1;
        }
        let r = match r.extensions().get::<ApiError>() {
            Some(e) => e.render(&request_id),
            None => r,
        };
        if decision.commit_then_fail && r.status().is_success() {
            ApiError::server(StatusCode::INTERNAL_SERVER_ERROR).render(&request_id)
        } else {
            r
        }
    };

    let succeeded = resp.status().is_success();
    if let Some(n) = oversized.filter(|_| succeeded) {
        resp = oversized_answer(n);
    } else if decision.drop_connection {
        resp = truncate(resp).await;
    } else if cached {
        use axum::body::HttpBody as _;
        shared.count_sent(resp.body().size_hint().exact().unwrap_or(0) as usize);
    } else {
        resp = finish_body(resp, gzip, &shared).await;
        if let Some(key) = cache_key.filter(|_| resp.status() == StatusCode::OK) {
            resp = keep_list(resp, key, generation, &shared).await;
        }
    }
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    // Not under `inner`'s lock, which a list's answer holds while it goes out.
    shared.set_status(record_idx, resp.status().as_u16());
    if decision.slow && !slow_delay.is_zero() {
        tokio::time::sleep(slow_delay).await;
    }
    resp
}

pub(crate) fn authenticate(headers: &HeaderMap, options: &Options) -> Result<(), ApiError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let Some(token) = value.and_then(|v| v.strip_prefix("Bearer ")) else {
        return Err(ApiError::unauthorized(
            "missing_authorization_header",
            "The Authorization header is missing or does not start with 'Bearer '.",
        ));
    };
    if token != options.api_key {
        return Err(ApiError::unauthorized(
            "invalid_api_key",
            "The API key is invalid or expired.",
        ));
    }
    if !options.key_is_admin {
        return Err(ApiError::unauthorized(
            "not_authorized",
            "You are not authenticated or do not have the org:admin role.",
        ));
    }
    Ok(())
}

/// A 200 whose body is `n` bytes (`u64::MAX`: endless) of JSON-looking filler, streamed in
/// 64 KiB chunks without a `Content-Length`.
pub(crate) fn oversized_answer(n: u64) -> Response {
    use futures_util::StreamExt;
    pub(crate) const CHUNK: usize = 64 * 1024;
    let head = Bytes::from_static(b"{\"data\":{\"members\":[");
    let filler = Bytes::from(vec![b' '; CHUNK]);
    let mut left = n.saturating_sub(head.len() as u64);
    let body = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(head) }).chain(
        futures_util::stream::iter(std::iter::from_fn(move || {
            if left == 0 {
                return None;
            }
            let take = left.min(CHUNK as u64) as usize;
            if n != u64::MAX {
                left -= take as u64;
            }
            Some(Ok(filler.slice(..take)))
        })),
    );
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        Body::from_stream(body),
    )
        .into_response()
}

/// The body of `resp` as it goes on the wire: gzipped when `gzip` (and there is a body), its
/// bytes counted in [`Shared::body_bytes_sent`] as they go. A body of known length is
/// compressed whole; one that is streamed (the list, while it is written) is compressed
/// piece by piece, each piece flushed so that it goes out at once.
pub(crate) async fn finish_body(resp: Response, gzip: bool, shared: &Arc<Shared>) -> Response {
    use axum::body::HttpBody;
    use futures_util::StreamExt;
    use std::io::Write;
    let (mut parts, body) = resp.into_parts();
    if body.size_hint().exact().is_none() {
        let shared = shared.clone();
        let count = move |bytes: &[u8]| shared.count_sent(bytes.len());
        let data = body.into_data_stream();
        if !gzip {
            let stream = data.map(move |piece| {
                if let Ok(bytes) = &piece {
                    count(bytes);
                }
                piece
            });
            return Response::from_parts(parts, Body::from_stream(stream));
        }
        gzipped_headers(&mut parts.headers);
        let encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let stream =
            futures_util::stream::unfold((data, Some(encoder)), move |(mut data, mut enc)| {
                let count = count.clone();
                async move {
                    // After the trailer, the stream ends without polling `data` again.
                    let e = enc.as_mut()?;
                    let packed = match data.next().await {
                        Some(Ok(bytes)) => {
                            if let Err(err) = e.write_all(&bytes).and_then(|()| e.flush()) {
                                return Some((Err(err), (data, None)));
                            }
                            std::mem::take(e.get_mut())
                        }
                        Some(Err(e)) => {
                            return Some((Err(std::io::Error::other(e)), (data, None)));
                        }
                        None => enc.take()?.finish().unwrap_or_default(),
                    };
                    count(&packed);
                    Some((Ok(Bytes::from(packed)), (data, enc)))
                }
            });
        return Response::from_parts(parts, Body::from_stream(stream));
    }
    let full = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    if !gzip || full.is_empty() {
        shared.count_sent(full.len());
        return Response::from_parts(parts, Body::from(full));
    }
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let packed = enc
        .write_all(&full)
        .and_then(|()| enc.finish())
        .unwrap_or_default();
    gzipped_headers(&mut parts.headers);
    shared.count_sent(packed.len());
    Response::from_parts(parts, Body::from(packed))
}

/// A list's answer from the cache ([`Options::cached_list`]): whole, with its length.
fn cached_answer(body: Bytes, gzip: bool) -> Response {
    let mut resp = Response::new(Body::from(body));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if gzip {
        gzipped_headers(resp.headers_mut());
    }
    resp
}

/// Sends `resp`, a list's answer as it goes out, whole, and keeps its bytes for the next list
/// request for `key` while nothing has changed since `generation`.
async fn keep_list(
    resp: Response,
    key: (String, bool),
    generation: u64,
    shared: &Arc<Shared>,
) -> Response {
    let (parts, body) = resp.into_parts();
    match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => {
            shared.keep_list(key, generation, bytes.clone());
            Response::from_parts(parts, Body::from(bytes))
        }
        // The client went away while it was written: nothing to keep or to send.
        Err(e) => Response::from_parts(
            parts,
            Body::from_stream(futures_util::stream::once(async move {
                Err::<Bytes, _>(std::io::Error::other(e))
            })),
        ),
    }
}

fn gzipped_headers(headers: &mut HeaderMap) {
    headers.remove(header::CONTENT_LENGTH);
    headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
}

/// Send the head of `resp` with a `Content-Length` larger than what follows, then fail
/// the body stream so the server aborts the connection.
pub(crate) async fn truncate(resp: Response) -> Response {
    let (mut parts, body) = resp.into_parts();
    let full = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let full = if full.is_empty() {
        Bytes::from_static(b"{\"data\":{\"id\":\"truncated\",\"deleted\":true}}")
    } else {
        full
    };
    if parts.status == StatusCode::NO_CONTENT {
        parts.status = StatusCode::OK;
    }
    let sent = full.slice(..full.len() / 2);
    let claimed = full.len() + 64;
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(claimed));
    // The pause lets hyper flush the head and the first part of the body before the
    // stream fails; without it the whole response is discarded unsent.
    use futures_util::StreamExt;
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(sent) })
        .chain(futures_util::stream::once(async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionAborted,
                "scaling-emulator: injected connection drop",
            ))
        }));
    Response::from_parts(parts, Body::from_stream(stream))
}
