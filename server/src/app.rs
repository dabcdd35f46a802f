//! Opening a data dir and running the server on it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use fengqiao_domain::policy::Policy;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::auth::ratelimit::LoginLimiter;
use crate::auth::AuthService;
use crate::disk::DiskWatch;
use crate::http::{self, AppState};
use crate::store::{SledStore, Store};
use crate::tus::upload::spawn_sweeper;
use crate::tus::{BlobStore, Busy, FsBlobStore};

/// Name of the optional policy file inside the data dir.
pub const POLICY_FILE: &str = "policy.toml";

/// How to start.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The data dir (created if missing).
    pub data_dir: PathBuf,
    /// Policy file; default `<data>/policy.toml` if present, else the seed's defaults.
    pub policy_file: Option<PathBuf>,
    /// Seed the demo county into an empty store.
    pub demo: bool,
}

/// Loads the policy: an explicit file must exist; `<data>/policy.toml` is optional.
pub fn load_policy(data_dir: &Path, explicit: Option<&Path>) -> anyhow::Result<Policy> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => {
            let p = data_dir.join(POLICY_FILE);
            if !p.exists() {
                return Ok(Policy::default());
            }
            p
        }
    };
    let text = std::fs::read_to_string(&path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    Policy::from_toml(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// Opens the data dir: store, policy, keys; seeds the demo county if asked and
/// the store is empty.
pub fn open(config: &ServerConfig) -> anyhow::Result<AppState> {
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| anyhow::anyhow!("cannot create data dir {}: {e}", config.data_dir.display()))?;
    let policy = Arc::new(load_policy(&config.data_dir, config.policy_file.as_deref())?);
    let store: Arc<dyn Store> = Arc::new(SledStore::open(&config.data_dir.join("store"))?);
    if config.demo && store.is_empty()? {
        let seeded = crate::demo::seed(store.as_ref(), &config.data_dir)?;
        tracing::info!(
            users = seeded.users,
            households = seeded.households,
            "seeded the demo county; credentials in demo-credentials.json"
        );
    }
    store.keep_policy(&policy)?;
    let auth = Arc::new(AuthService::new(store.clone(), policy.clone())?);
    let blobs: Arc<dyn BlobStore> = Arc::new(FsBlobStore::open(&config.data_dir.join("photos"))?);
    let login_limiter = Arc::new(LoginLimiter::new(&policy.auth));
    let disk = Arc::new(DiskWatch::new(config.data_dir.clone(), policy.storage.clone()));
    disk.check();
    Ok(AppState {
        store,
        auth,
        policy,
        blobs,
        busy: Arc::new(Busy::default()),
        login_limiter,
        disk,
        desk: Arc::new(crate::desk::session::DeskSessions::default()),
    })
}

/// A server running in this process (used by `serve` and by end-to-end tests).
pub struct RunningServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its state (tests reach the store and keys through it).
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
    sweeper: JoinHandle<()>,
    disk_ticker: JoinHandle<()>,
}

/// How often expired photo uploads are swept.
pub const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

impl RunningServer {
    /// Base URL, e.g. `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, finishes in-flight requests, flushes and closes the store.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.sweeper.abort();
        self.disk_ticker.abort();
        self.task.await??;
        self.state.store.flush()?;
        Ok(())
    }

    /// Waits until the server ends (on its own or by a signal).
    pub async fn wait(self) -> anyhow::Result<()> {
        self.task.await??;
        self.sweeper.abort();
        self.disk_ticker.abort();
        self.state.store.flush()?;
        Ok(())
    }
}

/// Binds `listen` and serves `state` until stopped.
pub async fn spawn(state: AppState, listen: SocketAddr) -> anyhow::Result<RunningServer> {
    let listener = TcpListener::bind(listen).await.map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr()?;
    let (tx, rx) = oneshot::channel::<()>();
    let app = http::router(state.clone());
    let sweeper = spawn_sweeper(state.uploads(), SWEEP_EVERY);
    let disk = state.disk.clone();
    let disk_ticker = tokio::spawn(async move {
        let mut tick = tokio::time::interval(crate::disk::CHECK_EVERY);
        loop {
            tick.tick().await;
            let disk = disk.clone();
            let _ = tokio::task::spawn_blocking(move || disk.check()).await;
        }
    });
    let task = tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await
    });
    Ok(RunningServer { addr, state, shutdown: Some(tx), task, sweeper, disk_ticker })
}
