//! The simulated network's two ends: the phone core's transport (hyper over
//! turmoil's `TcpStream`, with the seed's cuts) and the server's listener
//! (axum over turmoil's `TcpListener`).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use fengqiao_core::transport::{Transport, TransportError, TransportFuture, TransportTimeouts};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use rand::rngs::StdRng;
use rand::Rng;

use super::trace::Trace;

/// The server's host name on the simulated network.
pub const SERVER: &str = "server";
/// The port it serves on.
pub const PORT: u16 = 80;

/// How a phone's exchanges are cut: with `cut_chance`, an exchange is
/// abandoned at a moment drawn from `0..cut_within` after it starts (before
/// the request is out, after the server committed it, or mid-answer).
#[derive(Debug, Clone, Copy)]
pub struct Cuts {
    /// Chance that an exchange is cut.
    pub cut_chance: f64,
    /// Cut within this long after the exchange starts.
    pub cut_within: Duration,
}

/// A phone core's transport on the simulated network (one per phone, its
/// own seeded generator for the cuts).
#[derive(Debug)]
pub struct SimTransport {
    phone: String,
    cuts: Cuts,
    rng: Mutex<StdRng>,
    trace: Arc<Trace>,
}

impl SimTransport {
    /// The transport of `phone`, cutting as `cuts` says with `rng`.
    pub fn new(phone: String, cuts: Cuts, rng: StdRng, trace: Arc<Trace>) -> SimTransport {
        SimTransport { phone, cuts, rng: Mutex::new(rng), trace }
    }

    fn draw_cut(&self) -> Option<Duration> {
        let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        if self.cuts.cut_chance > 0.0 && rng.gen_bool(self.cuts.cut_chance) {
            let ms = self.cuts.cut_within.as_millis().max(1) as u64;
            Some(Duration::from_millis(rng.gen_range(0..ms)))
        } else {
            None
        }
    }
}

impl Transport for SimTransport {
    fn execute(&self, request: reqwest::Request, timeouts: TransportTimeouts) -> TransportFuture {
        let cut = self.draw_cut();
        let (phone, trace) = (self.phone.clone(), self.trace.clone());
        let what = format!("{} {}", request.method(), request.url().path());
        Box::pin(async move {
            let req = to_hyper(&request)?;
            let exchange = tokio::time::timeout(timeouts.request, exchange(req, timeouts.connect));
            let outcome = match cut {
                None => exchange.await,
                Some(after) => tokio::select! {
                    biased;
                    r = exchange => r,
                    () = tokio::time::sleep(after) => {
                        trace.event(&phone, format!("net: {what} cut after {} ms", after.as_millis()));
                        return Err(TransportError::Broken("cut by the simulator".into()));
                    }
                },
            };
            match outcome {
                Ok(r) => r,
                Err(_) => Err(TransportError::TimedOut(String::new())),
            }
        })
    }
}

/// The built request as hyper sends it (origin-form target, `Host` added).
fn to_hyper(request: &reqwest::Request) -> Result<http::Request<Full<Bytes>>, TransportError> {
    let url = request.url();
    let target = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    let mut builder = http::Request::builder().method(request.method().clone()).uri(target);
    for (name, value) in request.headers() {
        builder = builder.header(name, value);
    }
    builder = builder.header(http::header::HOST, url.host_str().unwrap_or(SERVER));
    let body = request.body().and_then(|b| b.as_bytes()).map(Bytes::copy_from_slice).unwrap_or_default();
    builder.body(Full::new(body)).map_err(|e| TransportError::Broken(format!("request: {e}")))
}

/// One exchange on a fresh connection: connect, send, read the whole answer.
async fn exchange(req: http::Request<Full<Bytes>>, connect: Duration) -> Result<reqwest::Response, TransportError> {
    let stream = tokio::time::timeout(connect, turmoil::net::TcpStream::connect((SERVER, PORT)))
        .await
        .map_err(|_| TransportError::TimedOut("connect".into()))?
        .map_err(|e| TransportError::Connect(e.to_string()))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| TransportError::Broken(e.to_string()))?;
    let driver = tokio::spawn(conn);
    let answer = async {
        let resp = sender.send_request(req).await.map_err(|e| TransportError::Broken(e.to_string()))?;
        let (parts, body) = resp.into_parts();
        let bytes = body.collect().await.map_err(|e| TransportError::Broken(e.to_string()))?.to_bytes();
        Ok(reqwest::Response::from(http::Response::from_parts(parts, bytes)))
    }
    .await;
    driver.abort();
    answer
}

/// turmoil's listener as axum serves on it.
pub struct SimListener(pub turmoil::net::TcpListener);

impl SimListener {
    /// Binds the server's port on this host.
    pub async fn bind() -> std::io::Result<SimListener> {
        Ok(SimListener(turmoil::net::TcpListener::bind((IpAddr::V4(Ipv4Addr::UNSPECIFIED), PORT)).await?))
    }
}

impl axum::serve::Listener for SimListener {
    type Io = turmoil::net::TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok(pair) => return pair,
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.0.local_addr()
    }
}
