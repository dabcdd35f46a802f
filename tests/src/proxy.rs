//! A small fault-injecting TCP proxy on loopback, put between a client and the
//! server to cut, drop, delay, trickle or corrupt traffic at chosen points.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// What the proxy does to each new connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultMode {
    /// Pass everything through.
    Pass,
    /// Refuse: accept and close at once (as if the network were down).
    Refuse,
    /// Forward the request; when the server answers, throw the answer away and
    /// close the connection (the server committed, the client never hears).
    DropResponse,
    /// Like [`FaultMode::DropResponse`], once, for the next request whose path
    /// starts with this (e.g. `/v1/auth/refresh`): its answer is thrown away and
    /// the connection closed; then the proxy passes everything again.
    DropNextResponseTo(&'static str),
    /// Forward at most this many bytes from client to server, then cut both ways.
    CutAfterUpload(u64),
    /// Delay every chunk by this many milliseconds.
    Delay(u64),
    /// Flip (invert) the one byte at this absolute offset of each connection's
    /// client → server stream; everything else passes.
    FlipByteAt(u64),
    /// A slow link: both directions pass in pieces of at most `bytes`, with a
    /// pause of `pause_ms` before each piece.
    Trickle {
        /// Bytes per piece.
        bytes: u64,
        /// Pause before each piece, in milliseconds.
        pause_ms: u64,
    },
}

/// Writes `data`, in trickled pieces if the mode says so.
async fn forward<W: AsyncWriteExt + Unpin>(w: &mut W, data: &[u8], mode: FaultMode) -> std::io::Result<()> {
    match mode {
        FaultMode::Trickle { bytes, pause_ms } => {
            for piece in data.chunks(bytes.max(1) as usize) {
                tokio::time::sleep(Duration::from_millis(pause_ms)).await;
                w.write_all(piece).await?;
                w.flush().await?;
            }
            Ok(())
        }
        _ => w.write_all(data).await,
    }
}

/// A running proxy.
pub struct FaultProxy {
    addr: SocketAddr,
    mode: Arc<Mutex<FaultMode>>,
    /// Connections accepted so far.
    pub connections: Arc<AtomicU64>,
    /// Bytes forwarded client → server so far.
    pub upstream_bytes: Arc<AtomicU64>,
    /// Bytes forwarded server → client so far.
    pub downstream_bytes: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl FaultProxy {
    /// Starts a proxy to `target` on an ephemeral loopback port.
    pub async fn start(target: SocketAddr, mode: FaultMode) -> std::io::Result<FaultProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let mode = Arc::new(Mutex::new(mode));
        let connections = Arc::new(AtomicU64::new(0));
        let upstream_bytes = Arc::new(AtomicU64::new(0));
        let downstream_bytes = Arc::new(AtomicU64::new(0));
        let (m, c, u, d) = (mode.clone(), connections.clone(), upstream_bytes.clone(), downstream_bytes.clone());
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                c.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(handle(client, target, m.clone(), u.clone(), d.clone()));
            }
        });
        Ok(FaultProxy { addr, mode, connections, upstream_bytes, downstream_bytes, task })
    }

    /// Base URL of the proxy.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Changes the mode, for open connections too (from their next chunk on).
    pub fn set_mode(&self, mode: FaultMode) {
        *self.mode.lock().unwrap_or_else(|p| p.into_inner()) = mode;
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn current(mode: &Mutex<FaultMode>) -> FaultMode {
    *mode.lock().unwrap_or_else(|p| p.into_inner())
}

async fn handle(
    mut client: TcpStream,
    target: SocketAddr,
    shared: Arc<Mutex<FaultMode>>,
    up_count: Arc<AtomicU64>,
    down_count: Arc<AtomicU64>,
) {
    if current(&shared) == FaultMode::Refuse {
        let _ = client.shutdown().await;
        return;
    }
    let Ok(mut server) = TcpStream::connect(target).await else {
        return;
    };
    let (mut cr, mut cw) = client.split();
    let (mut sr, mut sw) = server.split();
    // Set when this connection carried the request whose answer is to be dropped.
    let armed = std::sync::atomic::AtomicBool::new(false);
    let up = async {
        let mut buf = vec![0u8; 16 * 1024];
        let mut sent: u64 = 0;
        loop {
            let n = match cr.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let mode = current(&shared);
            if mode == FaultMode::Refuse {
                break;
            }
            let n = match mode {
                FaultMode::CutAfterUpload(limit) => {
                    let room = limit.saturating_sub(sent) as usize;
                    if room == 0 {
                        break;
                    }
                    n.min(room)
                }
                _ => n,
            };
            if let FaultMode::Delay(ms) = mode {
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            if let FaultMode::FlipByteAt(at) = mode {
                if at >= sent && at < sent + n as u64 {
                    buf[(at - sent) as usize] ^= 0xFF;
                }
            }
            if let FaultMode::DropNextResponseTo(path) = mode {
                let line = format!(" {path}");
                if buf[..n].windows(line.len()).any(|w| w == line.as_bytes()) {
                    armed.store(true, Ordering::SeqCst);
                }
            }
            if forward(&mut sw, &buf[..n], mode).await.is_err() {
                break;
            }
            sent += n as u64;
            up_count.fetch_add(n as u64, Ordering::SeqCst);
            if matches!(mode, FaultMode::CutAfterUpload(limit) if sent >= limit) {
                break;
            }
        }
    };
    let down = async {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match sr.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let mode = current(&shared);
            if matches!(mode, FaultMode::DropResponse | FaultMode::Refuse) {
                // The server has answered (so it committed): the client never hears.
                break;
            }
            if armed.load(Ordering::SeqCst) {
                // Once: the server answered that request; the client never hears.
                *shared.lock().unwrap_or_else(|p| p.into_inner()) = FaultMode::Pass;
                break;
            }
            if let FaultMode::Delay(ms) = mode {
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            if forward(&mut cw, &buf[..n], mode).await.is_err() {
                break;
            }
            down_count.fetch_add(n as u64, Ordering::SeqCst);
        }
    };
    // Whichever direction ends first ends the connection.
    tokio::select! {
        _ = up => {},
        _ = down => {},
    }
}
