//! The transport seam: how one HTTP exchange reaches the server.
//!
//! [`crate::api`] builds every request with reqwest (URL, headers, body, a
//! per-request timeout where one differs) and hands the built request to a
//! [`Transport`], which answers with the response or a [`TransportError`].
//! In production that is the reqwest client itself ([`ReqwestTransport`]: TLS
//! with the county's CA and pins, gzip answers, connection reuse); a
//! deterministic simulator plugs in its own ([`crate::ClientOptions::transport`])
//! to carry the same requests over a simulated network on simulated time.
//! What a failure means (transient or not), retries and sessions stay in the
//! core above the seam, so both transports are driven the same way.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// How long one exchange may take: `connect` to open a connection, `request`
/// for the whole exchange (the request's own timeout when it set one, e.g. the
/// held wait of `GET /v1/sync/wait`, else the client's `request_timeout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransportTimeouts {
    /// Longest wait to open a connection.
    pub connect: Duration,
    /// Longest wait for the whole exchange, the answer's body included.
    pub request: Duration,
}

/// Why an exchange failed below HTTP (each carries its cause, may be empty,
/// never a body or a token). Every variant but `Untrusted` is
/// transient: the core retries it later (nothing tells whether the server
/// applied a request whose answer was lost, which is why every op carries its id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportError {
    /// No connection could be opened (refused, unreachable, partitioned).
    Connect(String),
    /// The exchange took longer than its timeout.
    TimedOut(String),
    /// The connection broke off mid-request or mid-answer.
    Broken(String),
    /// The server's certificate failed a check ([`crate::tls`]): nothing was sent.
    Untrusted(&'static str),
}

/// The future a [`Transport`] answers with.
pub type TransportFuture = Pin<Box<dyn Future<Output = Result<reqwest::Response, TransportError>> + Send + 'static>>;

/// Carries one built request to the server and brings its response back
/// (status, headers and a body the core reads afterwards). Implementations
/// honour `timeouts` and never retry: the core decides what a failure means.
pub trait Transport: std::fmt::Debug + Send + Sync + 'static {
    /// Sends `request` and returns the server's response.
    fn execute(&self, request: reqwest::Request, timeouts: TransportTimeouts) -> TransportFuture;
}

/// The production transport: the reqwest client the core configured (TLS,
/// gzip, timeouts; the timeouts passed are already the client's own).
#[derive(Debug, Clone)]
pub(crate) struct ReqwestTransport(pub(crate) reqwest::Client);

impl Transport for ReqwestTransport {
    fn execute(&self, request: reqwest::Request, _timeouts: TransportTimeouts) -> TransportFuture {
        let fut = self.0.execute(request);
        Box::pin(async move { fut.await.map_err(classify) })
    }
}

/// A reqwest failure as the seam names it (the cause from its source chain).
pub(crate) fn classify(e: reqwest::Error) -> TransportError {
    if let Some(reason) = crate::tls::certificate_failure(&e) {
        return TransportError::Untrusted(reason);
    }
    // The error's source chain names the cause (refused, reset, DNS); the URL
    // carries nothing secret but is left out to keep logs short.
    let cause = std::error::Error::source(&e).map(|s| s.to_string()).unwrap_or_default();
    if e.is_timeout() {
        TransportError::TimedOut(cause)
    } else if e.is_connect() {
        TransportError::Connect(cause)
    } else {
        TransportError::Broken(cause)
    }
}
