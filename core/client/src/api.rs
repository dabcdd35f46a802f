//! The HTTP transport: one method per server endpoint, and the classification
//! of every failure into transient (retry later) or permanent. Knows nothing of
//! the store or of retries; never logs bodies or tokens.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use fengqiao_domain::wire::{
    CaseBlock, ErrorBody, LoginRequest, PullResponse, PushResponse, RefreshRequest, TokenResponse,
};
use reqwest::{RequestBuilder, StatusCode, Url};
use serde::de::DeserializeOwned;

use crate::error::Error;

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

/// The server's HTTP API.
#[derive(Debug, Clone)]
pub(crate) struct Api {
    http: reqwest::Client,
    base: Url,
}

impl Api {
    /// A client for the server at `base_url` (`http` or `https`), trusting
    /// the public roots.
    #[cfg(test)]
    pub(crate) fn new(base_url: &str, timeouts: Timeouts) -> Result<Api, Error> {
        Api::with_tls(base_url, timeouts, None)
    }

    /// A client for the server at `base_url`; `tls`, when given, is the
    /// configuration with the county's CA and pins ([`crate::tls::client_config`]).
    pub(crate) fn with_tls(
        base_url: &str,
        timeouts: Timeouts,
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
            .user_agent(concat!("fengqiao-core/", env!("CARGO_PKG_VERSION")));
        if let Some(tls) = tls {
            builder = builder.use_preconfigured_tls(tls);
        }
        let http = builder.build().map_err(|e| Error::InvalidInput(format!("http client: {e}")))?;
        Ok(Api { http, base })
    }

    fn url(&self, path: &str) -> Result<Url, ApiError> {
        self.base.join(path).map_err(|e| ApiError::Decode(format!("url: {e}")))
    }

    /// `POST /v1/auth/login`.
    pub(crate) async fn login(&self, req: &LoginRequest) -> Result<TokenResponse, ApiError> {
        json(self.http.post(self.url("v1/auth/login")?).json(req)).await
    }

    /// `POST /v1/auth/refresh`.
    pub(crate) async fn refresh(&self, req: &RefreshRequest) -> Result<TokenResponse, ApiError> {
        json(self.http.post(self.url("v1/auth/refresh")?).json(req)).await
    }

    /// `POST /v1/auth/logout`.
    pub(crate) async fn logout(&self, req: &RefreshRequest) -> Result<(), ApiError> {
        send(self.http.post(self.url("v1/auth/logout")?).json(req)).await.map(|_| ())
    }

    /// `POST /v1/sync/push` with a [`PushRequest`] already encoded as JSON
    /// (the sync engine encodes each op once, while fitting the batch).
    pub(crate) async fn push(&self, access: &str, body: bytes::Bytes) -> Result<PushResponse, ApiError> {
        let req = self
            .http
            .post(self.url("v1/sync/push")?)
            .bearer_auth(access)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        json(req).await
    }

    /// `GET /v1/sync/pull?cursor=&limit=`.
    pub(crate) async fn pull(&self, access: &str, cursor: &str, limit: u32) -> Result<PullResponse, ApiError> {
        let limit = limit.to_string();
        let req = self
            .http
            .get(self.url("v1/sync/pull")?)
            .bearer_auth(access)
            .query(&[("cursor", cursor), ("limit", &limit)]);
        json(req).await
    }

    /// `GET /v1/policy`: the county's policy as the server applies it.
    pub(crate) async fn policy(&self, access: &str) -> Result<fengqiao_domain::policy::Policy, ApiError> {
        json(self.http.get(self.url("v1/policy")?).bearer_auth(access)).await
    }

    /// `GET /v1/people`: the names of the users within the caller's jurisdiction.
    pub(crate) async fn people(&self, access: &str) -> Result<fengqiao_domain::wire::PeopleResponse, ApiError> {
        json(self.http.get(self.url("v1/people")?).bearer_auth(access)).await
    }

    /// `POST /v1/cases/blocks`: reserves a block of case numbers for the caller.
    pub(crate) async fn reserve_case_block(&self, access: &str) -> Result<CaseBlock, ApiError> {
        json(self.http.post(self.url("v1/cases/blocks")?).bearer_auth(access)).await
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
        let resp = send_raw(req).await?;
        resp.headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .ok_or_else(|| ApiError::Decode("tus create: no Location".into()))
    }

    /// `HEAD` an upload: (offset, length) the server holds.
    pub(crate) async fn tus_head(&self, access: &str, location: &str) -> Result<(u64, u64), ApiError> {
        let req = self.http.head(self.url(location)?).bearer_auth(access).header(TUS_RESUMABLE, TUS_VERSION);
        let resp = send_raw(req).await?;
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
        let resp = send_raw(req).await?;
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
        match send(req).await {
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

/// Sends; a success comes back as the response (headers only read), an error
/// status becomes [`ApiError::Status`].
async fn send_raw(req: RequestBuilder) -> Result<reqwest::Response, ApiError> {
    let resp = req.send().await.map_err(transport)?;
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    let bytes = resp.bytes().await.map_err(transport)?;
    let body = serde_json::from_slice::<ErrorBody>(&bytes).ok();
    Err(ApiError::Status { status: status_u16(status), body })
}

fn transport(e: reqwest::Error) -> ApiError {
    if let Some(reason) = crate::tls::certificate_failure(&e) {
        return ApiError::Untrusted(reason);
    }
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "connection failed"
    };
    // The error's source chain names the cause (refused, reset, DNS); the URL
    // carries nothing secret but is left out to keep logs short.
    let cause = std::error::Error::source(&e).map(|s| format!(": {s}")).unwrap_or_default();
    ApiError::Transport(format!("{kind}{cause}"))
}

/// Sends and returns the body of a success; an error status becomes [`ApiError::Status`].
async fn send(req: RequestBuilder) -> Result<Vec<u8>, ApiError> {
    let resp = req.send().await.map_err(transport)?;
    let status = resp.status();
    let bytes = resp.bytes().await.map_err(transport)?;
    if status.is_success() {
        return Ok(bytes.to_vec());
    }
    let body = serde_json::from_slice::<ErrorBody>(&bytes).ok();
    Err(ApiError::Status { status: status_u16(status), body })
}

async fn json<T: DeserializeOwned>(req: RequestBuilder) -> Result<T, ApiError> {
    let body = send(req).await?;
    serde_json::from_slice(&body).map_err(|e| ApiError::Decode(format!("response body: {e}")))
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
        let api = Api::new(&srv.url(), timeouts(5000)).expect("api");
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

    #[tokio::test]
    async fn undecodable_success_body_is_a_protocol_error() {
        let srv = FakeServer::start(|_| Reply::json(200, "{\"v\":1}")).await;
        let api = Api::new(&srv.url(), timeouts(5000)).expect("api");
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
        let api = Api::new(&format!("http://127.0.0.1:{port}"), timeouts(5000)).expect("api");
        let e = api.refresh(&refresh_req()).await.expect_err("refused");
        assert!(matches!(e, ApiError::Transport(_)) && e.is_transient(), "{e:?}");

        let srv = FakeServer::start(|_| Reply::Hang).await;
        let api = Api::new(&srv.url(), timeouts(200)).expect("api");
        let e = api.refresh(&refresh_req()).await.expect_err("timeout");
        assert!(matches!(&e, ApiError::Transport(m) if m.starts_with("timed out")), "{e:?}");
    }

    #[test]
    fn base_url_is_checked_and_may_carry_a_path() {
        assert!(Api::new("ftp://x", timeouts(1)).is_err());
        assert!(Api::new("not a url", timeouts(1)).is_err());
        let api = Api::new("https://example.org/fq", timeouts(1)).expect("api");
        assert_eq!(api.url("v1/sync/push").expect("url").as_str(), "https://example.org/fq/v1/sync/push");
    }
}
