//! The HTTP transport: one method per server endpoint, and the classification
//! of every failure into transient (retry later) or permanent. Knows nothing of
//! the store or of retries; never logs bodies or tokens.

use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use fengqiao_domain::wire::{
    CaseBlock, ErrorBody, LoginRequest, PullResponse, PushResponse, RefreshRequest, TokenResponse,
};
use reqwest::{RequestBuilder, StatusCode, Url};
use serde::de::DeserializeOwned;

use crate::error::Error;
use crate::transport::{classify, ReqwestTransport, Transport, TransportError, TransportTimeouts};

/// A failed request, before retry policy and session handling.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ApiError {
    /// The server could not be reached or the exchange broke off (connect
    /// refused, DNS, timeout, connection reset).
    Transport(String),
    /// The server answered with an error status (body parsed if it was an [`ErrorBody`]).
    Status { status: u16, body: Option<ErrorBody> },
    /// A success status with a body this build cannot read.
    Decode(String),
    /// The server's certificate failed a check ([`crate::tls`]): nothing was sent.
    Untrusted(&'static str),
}

impl ApiError {
    /// Worth retrying later: transport failures, 5xx and 429.
    pub(crate) fn is_transient(&self) -> bool {
        match self {
            ApiError::Transport(_) => true,
            ApiError::Status { status, .. } => *status >= 500 || *status == 429,
            ApiError::Decode(_) | ApiError::Untrusted(_) => false,
        }
    }

    /// The error body's code, if any.
    #[cfg(test)]
    pub(crate) fn code(&self) -> Option<&str> {
        match self {
            ApiError::Status { body: Some(b), .. } => Some(b.code.as_str()),
            _ => None,
        }
    }
}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::Transport(m) => Error::Network(m),
            ApiError::Status { status: 429, .. } => Error::RateLimited,
            ApiError::Status { status: 401, body } => {
                Error::Unauthorized(body.map(|b| b.code).unwrap_or_else(|| "unauthorized".into()))
            }
            ApiError::Status { status, body } if status >= 500 => {
                Error::Server { status, code: body.map(|b| b.code).unwrap_or_default() }
            }
            ApiError::Status { status, body } => Error::Refused {
                status,
                body: body.unwrap_or_else(|| ErrorBody {
                    code: "unknown".into(),
                    message: String::new(),
                    op_index: None,
                }),
            },
            ApiError::Decode(m) => Error::Protocol(m),
            ApiError::Untrusted(reason) => Error::ServerNotTrusted(reason),
        }
    }
}

/// Connection settings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
    pub connect: Duration,
    pub request: Duration,
}

/// A document fetched with `If-None-Match`: unchanged, or its new value with
/// its `ETag` and how long it may be kept without asking (`Cache-Control: max-age`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Conditional<T> {
    /// `304`: the copy the phone keeps is current.
    NotModified { max_age: Option<u64> },
    /// `200`: a new copy.
    Fresh { value: T, etag: Option<String>, max_age: Option<u64> },
}

/// The server's HTTP API.
#[derive(Debug, Clone)]
pub(crate) struct Api {
    /// Builds the requests (and, as [`ReqwestTransport`], sends them in production).
    http: reqwest::Client,
    /// Carries each built request ([`crate::transport`]).
    transport: Arc<dyn Transport>,
    timeouts: Timeouts,
    base: Url,
    /// gzip both ways: answers asked for (`Accept-Encoding`), pushes sent so once
    /// the server said it takes them.
    compress: bool,
    /// The server named gzip in an answer's `Accept-Encoding` (RFC 7694): push
    /// bodies go compressed. Cleared by a `415` (then the push is sent plain).
    server_takes_gzip: Arc<AtomicBool>,
}

/// Push bodies at least this long are compressed (shorter ones gain nothing).
const COMPRESS_FROM: usize = 512;

impl Api {
    /// A client for the server at `base_url` (`http` or `https`), trusting
    /// the public roots; `compress`: gzip negotiated both ways (see [`Api`]).
    #[cfg(test)]
    pub(crate) fn new(base_url: &str, timeouts: Timeouts, compress: bool) -> Result<Api, Error> {
        Api::with_tls(base_url, timeouts, compress, None)
    }

    /// A client for the server at `base_url`; `compress`: gzip negotiated both
    /// ways (see [`Api`]); `tls`, when given, is the configuration with the
    /// county's CA and pins ([`crate::tls::client_config`]).
    pub(crate) fn with_tls(
        base_url: &str,
        timeouts: Timeouts,
        compress: bool,
        tls: Option<rustls::ClientConfig>,
    ) -> Result<Api, Error> {
        let mut base = Url::parse(base_url.trim()).map_err(|e| Error::InvalidInput(format!("server url: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(Error::InvalidInput("server url: must be http:// or https://".into()));
        }
        if !base.path().ends_with('/') {
            let p = format!("{}/", base.path());
            base.set_path(&p);
        }
        base.set_query(None);
        let mut builder = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .timeout(timeouts.request)
            .user_agent(concat!("fengqiao-core/", env!("CARGO_PKG_VERSION")))
            .gzip(compress);
        if let Some(tls) = tls {
            builder = builder.use_preconfigured_tls(tls);
        }
        let http = builder.build().map_err(|e| Error::InvalidInput(format!("http client: {e}")))?;
        Ok(Api {
            transport: Arc::new(ReqwestTransport(http.clone())),
            http,
            timeouts,
            base,
            compress,
            server_takes_gzip: Arc::new(AtomicBool::new(false)),
        })
    }

    /// The same API over another transport (a simulator's network).
    pub(crate) fn over(mut self, transport: Arc<dyn Transport>) -> Api {
        self.transport = transport;
        self
    }

    /// Builds the request and carries it over the transport, within the
    /// request's own timeout if it set one, else the client's.
    async fn execute(&self, req: RequestBuilder) -> Result<reqwest::Response, ApiError> {
        let request = req.build().map_err(transport)?;
        let timeouts = TransportTimeouts {
            connect: self.timeouts.connect,
            request: request.timeout().copied().unwrap_or(self.timeouts.request),
        };
        self.transport.execute(request, timeouts).await.map_err(ApiError::from)
    }

    /// Whether pushes go gzip-compressed now.
    pub(crate) fn compresses_pushes(&self) -> bool {
        self.compress && self.server_takes_gzip.load(Ordering::SeqCst)
    }

    /// Whether the server said it takes gzip request bodies (whatever `compress`).
    pub(crate) fn server_takes_gzip(&self) -> bool {
        self.server_takes_gzip.load(Ordering::SeqCst)
    }

    /// Notes that the server takes gzip request bodies (kept by the phone from
    /// an earlier run, so a fresh process compresses its first push too).
    pub(crate) fn assume_server_takes_gzip(&self, takes: bool) {
        self.server_takes_gzip.store(takes, Ordering::SeqCst);
    }

    /// Reads the server's `Accept-Encoding` off an answer.
    fn learn(&self, resp: &reqwest::Response) {
        if let Some(v) = resp.headers().get(reqwest::header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()) {
            let gzip = v.split(',').any(|c| c.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("gzip"));
            self.server_takes_gzip.store(gzip, Ordering::SeqCst);
        }
    }

    /// Sends; a success comes back as the response (headers only read), an error
    /// status becomes [`ApiError::Status`].
    async fn send_raw(&self, req: RequestBuilder) -> Result<reqwest::Response, ApiError> {
        let resp = self.execute(req).await?;
        self.learn(&resp);
        let status = resp.status();
        if status.is_success() || status == StatusCode::NOT_MODIFIED {
            return Ok(resp);
        }
        let bytes = resp.bytes().await.map_err(transport)?;
        let body = serde_json::from_slice::<ErrorBody>(&bytes).ok();
        Err(ApiError::Status { status: status_u16(status), body })
    }

    /// Sends and returns the body of a success; an error status becomes [`ApiError::Status`].
    async fn send(&self, req: RequestBuilder) -> Result<Vec<u8>, ApiError> {
        let resp = self.send_raw(req).await?;
        if resp.status() == StatusCode::NOT_MODIFIED {
            return Err(ApiError::Decode("304 to a request that named no entity tag".into()));
        }
        Ok(resp.bytes().await.map_err(transport)?.to_vec())
    }

    async fn json<T: DeserializeOwned>(&self, req: RequestBuilder) -> Result<T, ApiError> {
        let body = self.send(req).await?;
        serde_json::from_slice(&body).map_err(|e| ApiError::Decode(format!("response body: {e}")))
    }

    /// A GET with `If-None-Match: etag` (when the phone keeps a copy).
    async fn conditional<T: DeserializeOwned>(
        &self,
        req: RequestBuilder,
        etag: Option<&str>,
    ) -> Result<Conditional<T>, ApiError> {
        let req = match etag {
            Some(tag) => req.header(reqwest::header::IF_NONE_MATCH, tag),
            None => req,
        };
        let resp = self.send_raw(req).await?;
        let max_age = max_age(&resp);
        if resp.status() == StatusCode::NOT_MODIFIED {
            return Ok(Conditional::NotModified { max_age });
        }
        let etag = resp.headers().get(reqwest::header::ETAG).and_then(|v| v.to_str().ok()).map(str::to_string);
        let bytes = resp.bytes().await.map_err(transport)?;
        let value = serde_json::from_slice(&bytes).map_err(|e| ApiError::Decode(format!("response body: {e}")))?;
        Ok(Conditional::Fresh { value, etag, max_age })
    }

    fn url(&self, path: &str) -> Result<Url, ApiError> {
        self.base.join(path).map_err(|e| ApiError::Decode(format!("url: {e}")))
    }

    /// `POST /v1/auth/login`.
    pub(crate) async fn login(&self, req: &LoginRequest) -> Result<TokenResponse, ApiError> {
        self.json(self.http.post(self.url("v1/auth/login")?).json(req)).await
    }

    /// `POST /v1/auth/refresh`.
    pub(crate) async fn refresh(&self, req: &RefreshRequest) -> Result<TokenResponse, ApiError> {
        self.json(self.http.post(self.url("v1/auth/refresh")?).json(req)).await
    }

    /// `POST /v1/auth/logout`.
    pub(crate) async fn logout(&self, req: &RefreshRequest) -> Result<(), ApiError> {
        self.send(self.http.post(self.url("v1/auth/logout")?).json(req)).await.map(|_| ())
    }

    /// `POST /v1/sync/push` with a [`PushRequest`] already encoded as JSON
    /// (the sync engine encodes each op once, while fitting the batch), gzip-
    /// compressed when the server said it takes gzip; a `415` to a compressed
    /// push (a proxy or an older server) sends it again plain, and later pushes too.
    pub(crate) async fn push(&self, access: &str, body: bytes::Bytes) -> Result<PushResponse, ApiError> {
        if self.compresses_pushes() && body.len() >= COMPRESS_FROM {
            let packed = gzip(&body).map_err(|e| ApiError::Decode(format!("gzip: {e}")))?;
            let req = self.push_request(access).header(reqwest::header::CONTENT_ENCODING, "gzip").body(packed);
            match self.json(req).await {
                Err(ApiError::Status { status: 415, .. }) => {
                    tracing::info!("the server refused a gzip push; sending pushes plain");
                    self.server_takes_gzip.store(false, Ordering::SeqCst);
                }
                other => return other,
            }
        }
        self.json(self.push_request(access).body(body)).await
    }

    fn push_request(&self, access: &str) -> RequestBuilder {
        let url = self.base.join("v1/sync/push").unwrap_or_else(|_| self.base.clone());
        self.http.post(url).bearer_auth(access).header(reqwest::header::CONTENT_TYPE, "application/json")
    }

    /// `GET /v1/sync/pull?cursor=&limit=`.
    pub(crate) async fn pull(&self, access: &str, cursor: &str, limit: u32) -> Result<PullResponse, ApiError> {
        let limit = limit.to_string();
        let req = self
            .http
            .get(self.url("v1/sync/pull")?)
            .bearer_auth(access)
            .query(&[("cursor", cursor), ("limit", &limit)]);
        self.json(req).await
    }

    /// `GET /v1/sync/wait?cursor=&timeout=`: whether the caller's scope has a
    /// change after `cursor`, answered as soon as it has one or after `secs`.
    pub(crate) async fn wait(&self, access: &str, cursor: &str, secs: u64) -> Result<bool, ApiError> {
        let timeout = secs.to_string();
        let req = self
            .http
            .get(self.url("v1/sync/wait")?)
            .bearer_auth(access)
            .query(&[("cursor", cursor), ("timeout", &timeout)])
            // Held by the server for up to `secs`: longer than a plain request.
            .timeout(Duration::from_secs(secs + 15));
        let answer: fengqiao_domain::wire::WaitResponse = self.json(req).await?;
        Ok(answer.changed)
    }

    /// `GET /v1/policy` with the kept copy's `ETag`: the county's policy as the
    /// server applies it, or `NotModified`.
    pub(crate) async fn policy(
        &self,
        access: &str,
        etag: Option<&str>,
    ) -> Result<Conditional<fengqiao_domain::policy::Policy>, ApiError> {
        self.conditional(self.http.get(self.url("v1/policy")?).bearer_auth(access), etag).await
    }

    /// `GET /v1/people` with the kept copy's `ETag`: the names of the users
    /// within the caller's jurisdiction, or `NotModified`.
    pub(crate) async fn people(
        &self,
        access: &str,
        etag: Option<&str>,
    ) -> Result<Conditional<fengqiao_domain::wire::PeopleResponse>, ApiError> {
        self.conditional(self.http.get(self.url("v1/people")?).bearer_auth(access), etag).await
    }

    /// `POST /v1/cases/blocks`: reserves a block of case numbers for the caller.
    pub(crate) async fn reserve_case_block(&self, access: &str) -> Result<CaseBlock, ApiError> {
        self.json(self.http.post(self.url("v1/cases/blocks")?).bearer_auth(access)).await
    }

    /// `POST /v1/photos/` (tus creation): returns the upload's `Location`.
    pub(crate) async fn tus_create(
        &self,
        access: &str,
        length: u64,
        sha256_hex: &str,
        content_type: &str,
    ) -> Result<String, ApiError> {
        let meta = format!("sha256 {},filetype {}", B64.encode(sha256_hex), B64.encode(content_type));
        let req = self
            .http
            .post(self.url("v1/photos/")?)
            .bearer_auth(access)
            .header(TUS_RESUMABLE, TUS_VERSION)
            .header("Upload-Length", length.to_string())
            .header("Upload-Metadata", meta);
        let resp = self.send_raw(req).await?;
        resp.headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .ok_or_else(|| ApiError::Decode("tus create: no Location".into()))
    }

    /// `HEAD` an upload: (offset, length) the server holds.
    pub(crate) async fn tus_head(&self, access: &str, location: &str) -> Result<(u64, u64), ApiError> {
        let req = self.http.head(self.url(location)?).bearer_auth(access).header(TUS_RESUMABLE, TUS_VERSION);
        let resp = self.send_raw(req).await?;
        Ok((header_u64(&resp, "upload-offset")?, header_u64(&resp, "upload-length")?))
    }

    /// `PATCH` one chunk of `len` bytes at `offset`, its SHA-256 (base64) in
    /// `Upload-Checksum`, its bytes streamed from `body`: the server's new offset.
    pub(crate) async fn tus_patch(
        &self,
        access: &str,
        location: &str,
        offset: u64,
        len: u64,
        checksum: &str,
        body: reqwest::Body,
    ) -> Result<u64, ApiError> {
        let req = self
            .http
            .patch(self.url(location)?)
            .bearer_auth(access)
            .header(TUS_RESUMABLE, TUS_VERSION)
            .header(reqwest::header::CONTENT_TYPE, "application/offset+octet-stream")
            .header(reqwest::header::CONTENT_LENGTH, len)
            .header("Upload-Offset", offset.to_string())
            .header("Upload-Checksum", checksum)
            .body(body);
        let resp = self.send_raw(req).await?;
        header_u64(&resp, "upload-offset")
    }

    /// Whether the server already holds a photo this user may see (`GET` of its
    /// first byte). Any failure counts as "no".
    pub(crate) async fn photo_exists(&self, access: &str, sha256_hex: &str) -> Result<bool, ApiError> {
        let req = self
            .http
            .get(self.url(&format!("v1/photos/{sha256_hex}"))?)
            .bearer_auth(access)
            .header(reqwest::header::RANGE, "bytes=0-0");
        match self.send(req).await {
            Ok(_) => Ok(true),
            Err(ApiError::Status { status: 404, .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

const TUS_RESUMABLE: &str = "Tus-Resumable";
const TUS_VERSION: &str = "1.0.0";

fn header_u64(resp: &reqwest::Response, name: &str) -> Result<u64, ApiError> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| ApiError::Decode(format!("missing or bad {name} header")))
}

fn transport(e: reqwest::Error) -> ApiError {
    ApiError::from(classify(e))
}

impl From<TransportError> for ApiError {
    fn from(e: TransportError) -> Self {
        match e {
            TransportError::TimedOut(cause) => ApiError::Transport(failure("timed out", &cause)),
            TransportError::Connect(cause) => ApiError::Transport(failure("could not connect", &cause)),
            TransportError::Broken(cause) => ApiError::Transport(failure("connection failed", &cause)),
            TransportError::Untrusted(reason) => ApiError::Untrusted(reason),
        }
    }
}

/// `kind: cause`, or `kind` alone.
fn failure(kind: &str, cause: &str) -> String {
    if cause.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {cause}")
    }
}

/// gzip of a push body (level 6: JSON ops shrink several times over).
fn gzip(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut enc = flate2::write::GzEncoder::new(Vec::with_capacity(data.len() / 4), flate2::Compression::default());
    enc.write_all(data)?;
    enc.finish()
}

/// `max-age` of an answer's `Cache-Control`, in seconds.
fn max_age(resp: &reqwest::Response) -> Option<u64> {
    let cc = resp.headers().get(reqwest::header::CACHE_CONTROL)?.to_str().ok()?;
    cc.split(',').find_map(|d| d.trim().strip_prefix("max-age=")?.trim().parse().ok())
}

fn status_u16(s: StatusCode) -> u16 {
    s.as_u16()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{FakeServer, Reply};
    use fengqiao_domain::wire::PushRequest;

    fn timeouts(request_ms: u64) -> Timeouts {
        Timeouts { connect: Duration::from_secs(2), request: Duration::from_millis(request_ms) }
    }

    fn refresh_req() -> RefreshRequest {
        RefreshRequest { refresh_token: "r".into(), device_id: None }
    }

    #[tokio::test]
    async fn error_statuses_are_classified() {
        let srv = FakeServer::start(|req| match req.path.as_str() {
            "/v1/auth/refresh" => Reply::json(503, r#"{"code":"unavailable","message":"busy"}"#),
            "/v1/auth/login" => Reply::json(429, r#"{"code":"rate_limited","message":"slow"}"#),
            "/v1/sync/push" => Reply::json(422, r#"{"code":"malformed_op","message":"bad op","op_index":3}"#),
            "/v1/sync/pull" => Reply::json(401, r#"{"code":"token_expired","message":"x"}"#),
            _ => Reply::json(200, "not json"),
        })
        .await;
        let api = Api::new(&srv.url(), timeouts(5000), true).expect("api");
        let e = api.refresh(&refresh_req()).await.expect_err("503");
        assert!(e.is_transient());
        assert!(matches!(Error::from(e), Error::Server { status: 503, .. }));
        let e = api
            .login(&LoginRequest { username: "u".into(), password: "p".into(), device_id: None })
            .await
            .expect_err("429");
        assert!(e.is_transient());
        assert!(matches!(Error::from(e), Error::RateLimited));
        let e = api
            .push("tok", serde_json::to_vec(&PushRequest { v: 1, ops: vec![] }).expect("enc").into())
            .await
            .expect_err("422");
        assert!(!e.is_transient());
        match Error::from(e) {
            Error::Refused { status: 422, body } => {
                assert_eq!((body.code.as_str(), body.op_index), ("malformed_op", Some(3)))
            }
            other => panic!("{other:?}"),
        }
        let e = api.pull("tok", "", 10).await.expect_err("401");
        assert_eq!(e.code(), Some("token_expired"));
        assert!(matches!(Error::from(e), Error::Unauthorized(c) if c == "token_expired"));
        let e = api.logout(&refresh_req()).await;
        assert!(e.is_ok(), "a 200 without a body is fine for logout");
        // bearer token and query went out as expected
        let reqs = srv.requests();
        let pull = reqs.iter().find(|r| r.path == "/v1/sync/pull").expect("pull seen");
        assert_eq!(pull.header("authorization"), Some("Bearer tok"));
        assert_eq!(pull.query, "cursor=&limit=10");
    }

    /// Pushes go plain until the server names gzip in an answer's
    /// `Accept-Encoding`, then gzip-compressed; a `415` to one (a proxy, an older
    /// server) sends it again plain, and the pushes after it too.
    #[tokio::test]
    async fn pushes_are_gzip_once_the_server_takes_it_and_plain_after_a_415() {
        let refuse = Arc::new(AtomicBool::new(false));
        let r2 = refuse.clone();
        let srv = FakeServer::start(move |req| match req.path.as_str() {
            "/v1/sync/pull" => Reply::Headed(
                200,
                vec![("accept-encoding", "gzip".into())],
                r#"{"v":1,"changes":[],"next_cursor":"c","has_more":false}"#.into(),
            ),
            "/v1/sync/push" if req.header("content-encoding") == Some("gzip") && r2.load(Ordering::SeqCst) => {
                Reply::json(415, r#"{"code":"unsupported_media_type","message":"no"}"#)
            }
            _ => Reply::json(200, r#"{"v":1,"answers":[]}"#),
        })
        .await;
        let api = Api::new(&srv.url(), timeouts(5000), true).expect("api");
        let body: bytes::Bytes = format!(r#"{{"v":1,"ops":[],"pad":"{}"}}"#, "走访".repeat(400)).into_bytes().into();
        api.push("t", body.clone()).await.expect("plain push");
        api.pull("t", "", 1).await.expect("pull");
        assert!(api.compresses_pushes(), "learned from the pull's Accept-Encoding");
        api.push("t", body.clone()).await.expect("gzip push");
        refuse.store(true, Ordering::SeqCst);
        api.push("t", body.clone()).await.expect("refused gzip, then plain");
        assert!(!api.compresses_pushes());
        api.push("t", body.clone()).await.expect("plain again");
        let pushes: Vec<_> = srv.requests().into_iter().filter(|r| r.path == "/v1/sync/push").collect();
        let encodings: Vec<_> = pushes.iter().map(|r| r.header("content-encoding").unwrap_or("-")).collect();
        assert_eq!(encodings, ["-", "gzip", "gzip", "-", "-"]);
        let mut unpacked = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&pushes[1].body[..]), &mut unpacked)
            .expect("gunzip");
        assert_eq!(unpacked, body.to_vec(), "the same body, compressed");
        assert!(pushes[1].body.len() * 3 < body.len(), "{} of {} bytes", pushes[1].body.len(), body.len());
        let plain = Api::new(&srv.url(), timeouts(5000), false).expect("api");
        plain.pull("t", "", 1).await.expect("pull");
        assert!(!plain.compresses_pushes(), "compression off: pushes stay plain");
        assert_eq!(srv.requests().last().expect("pull").header("accept-encoding"), None, "nor asked for");
    }

    #[tokio::test]
    async fn undecodable_success_body_is_a_protocol_error() {
        let srv = FakeServer::start(|_| Reply::json(200, "{\"v\":1}")).await;
        let api = Api::new(&srv.url(), timeouts(5000), true).expect("api");
        let e = api.pull("t", "c", 1).await.expect_err("decode");
        assert!(matches!(e, ApiError::Decode(_)));
        assert!(!e.is_transient());
    }

    #[tokio::test]
    async fn refused_connection_and_timeout_are_transient() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            l.local_addr().expect("addr").port()
        };
        let api = Api::new(&format!("http://127.0.0.1:{port}"), timeouts(5000), true).expect("api");
        let e = api.refresh(&refresh_req()).await.expect_err("refused");
        assert!(matches!(e, ApiError::Transport(_)) && e.is_transient(), "{e:?}");

        let srv = FakeServer::start(|_| Reply::Hang).await;
        let api = Api::new(&srv.url(), timeouts(200), true).expect("api");
        let e = api.refresh(&refresh_req()).await.expect_err("timeout");
        assert!(matches!(&e, ApiError::Transport(m) if m.starts_with("timed out")), "{e:?}");
    }

    #[test]
    fn base_url_is_checked_and_may_carry_a_path() {
        assert!(Api::new("ftp://x", timeouts(1), true).is_err());
        assert!(Api::new("not a url", timeouts(1), true).is_err());
        let api = Api::new("https://example.org/fq", timeouts(1), true).expect("api");
        assert_eq!(api.url("v1/sync/push").expect("url").as_str(), "https://example.org/fq/v1/sync/push");
    }
}
