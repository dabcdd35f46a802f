//! A real `fengqiao-server` (the same router, store and auth as the binary) run in
//! this process on `127.0.0.1:0`, over a real sled data dir.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use fengqiao_server::app::{self, RunningServer, ServerConfig};
use fengqiao_server::demo::{read_credentials, DemoCredential};
use fengqiao_server::tus::PhotoLocation;

/// A running test server and its data dir.
pub struct TestServer {
    /// The running server (None while stopped).
    pub running: Option<RunningServer>,
    /// Its data dir.
    pub data_dir: PathBuf,
    addr: SocketAddr,
    scheme: &'static str,
    /// Where its photo bytes live (`None`: the data dir's `photos/`).
    photos: Option<PhotoLocation>,
}

impl TestServer {
    /// Starts a server seeded with the demo county in `data_dir`.
    pub async fn start(data_dir: &Path) -> anyhow::Result<TestServer> {
        Self::start_at(data_dir, "127.0.0.1:0".parse()?).await
    }

    /// Starts on a given address (to restart on the same port).
    pub async fn start_at(data_dir: &Path, addr: SocketAddr) -> anyhow::Result<TestServer> {
        Self::start_full(data_dir, addr, None).await
    }

    /// Starts a server seeded with the demo county in `data_dir`, its photo
    /// bytes at `photos` (see [`crate::moto`] for a bucket).
    pub async fn start_with_photos(data_dir: &Path, photos: PhotoLocation) -> anyhow::Result<TestServer> {
        Self::start_full(data_dir, "127.0.0.1:0".parse()?, Some(photos)).await
    }

    async fn start_full(
        data_dir: &Path,
        addr: SocketAddr,
        photos: Option<PhotoLocation>,
    ) -> anyhow::Result<TestServer> {
        let state = Self::open_state(data_dir, photos.as_ref()).await?;
        let running = app::spawn(state, addr).await?;
        let addr = running.addr;
        Ok(TestServer { running: Some(running), data_dir: data_dir.to_path_buf(), addr, scheme: "http", photos })
    }

    /// Starts serving HTTPS with the certificate files of `tls` (seeded with the
    /// demo county).
    pub async fn start_tls(data_dir: &Path, tls: fengqiao_server::tls::TlsFiles) -> anyhow::Result<TestServer> {
        let state = Self::open_state(data_dir, None).await?;
        let running = app::spawn_tls(state, "127.0.0.1:0".parse()?, tls).await?;
        let addr = running.addr;
        Ok(TestServer { running: Some(running), data_dir: data_dir.to_path_buf(), addr, scheme: "https", photos: None })
    }

    async fn open_state(
        data_dir: &Path,
        photos: Option<&PhotoLocation>,
    ) -> anyhow::Result<fengqiao_server::http::AppState> {
        let config = ServerConfig { data_dir: data_dir.to_path_buf(), policy_file: None, demo: true };
        let photos = photos.cloned().unwrap_or_else(|| PhotoLocation::default_for(data_dir));
        // sled releases its file lock asynchronously after the last handle drops.
        let mut tries = 0;
        let state = loop {
            match app::open_with(&config, None, &photos) {
                Ok(s) => break s,
                Err(e) if tries < 50 => {
                    tries += 1;
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => return Err(e),
            }
        };
        Ok(state)
    }

    /// Base URL (`https://` when serving TLS).
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// The listening address (kept across restarts).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the server and closes its store.
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(r) = self.running.take() {
            r.stop().await?;
        }
        Ok(())
    }

    /// Stops and starts again on the same port and data dir.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.stop().await?;
        let again = TestServer::start_full(&self.data_dir, self.addr, self.photos.clone()).await?;
        self.running = again.running;
        Ok(())
    }

    /// The demo credential of a username.
    pub fn cred(&self, username: &str) -> anyhow::Result<DemoCredential> {
        read_credentials(&self.data_dir)?
            .into_iter()
            .find(|c| c.username == username)
            .ok_or_else(|| anyhow::anyhow!("no demo user {username}"))
    }

    /// The server's state (store, auth keys), while running.
    pub fn state(&self) -> anyhow::Result<&fengqiao_server::http::AppState> {
        self.running.as_ref().map(|r| &r.state).ok_or_else(|| anyhow::anyhow!("server is stopped"))
    }
}

/// Reserves a loopback port nobody listens on (for "server is down" tests).
pub fn unused_addr() -> anyhow::Result<SocketAddr> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?)
}
