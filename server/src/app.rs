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
use crate::store::Store;
use crate::tus::upload::spawn_sweeper;
use crate::tus::{BlobStore, Busy, ObjectBlobStore, PhotoLocation};

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
/// the store is empty. Photos in the data dir's `photos/` folder.
pub fn open(config: &ServerConfig) -> anyhow::Result<AppState> {
    open_with(config, None, &PhotoLocation::default_for(&config.data_dir))
}

/// Opens the records store a `--store` address names: absent or `sled`, the
/// embedded store in `<data>/store`; `postgres://…`, a PostgreSQL database
/// (migrated at open). Anything else is refused.
pub fn open_store(data_dir: &Path, store: Option<&str>) -> anyhow::Result<Arc<dyn Store>> {
    match store {
        None | Some("sled") => Ok(Arc::new(crate::backup::open_data_store(data_dir)?)),
        Some(url) if crate::store::postgres::is_postgres_url(url) => Ok(Arc::new(
            crate::store::PgStore::open(url).map_err(|e| anyhow::anyhow!("cannot open the PostgreSQL store: {e}"))?,
        )),
        Some(_) => anyhow::bail!("--store takes `sled` (the embedded default) or a postgres://… address"),
    }
}

/// [`open`] on the records store `store` names (see [`open_store`]) with the
/// photo bytes at `photos` (a folder or an S3-compatible bucket, ADR 0038);
/// the policy file and demo credentials stay in the data dir.
pub fn open_with(config: &ServerConfig, store: Option<&str>, photos: &PhotoLocation) -> anyhow::Result<AppState> {
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| anyhow::anyhow!("cannot create data dir {}: {e}", config.data_dir.display()))?;
    let policy = Arc::new(load_policy(&config.data_dir, config.policy_file.as_deref())?);
    let store = open_store(&config.data_dir, store)?;
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
    note_photo_store(&config.data_dir, photos)?;
    let blobs: Arc<dyn BlobStore> =
        Arc::new(ObjectBlobStore::open(photos).map_err(|e| anyhow::anyhow!("photos at {photos}: {e}"))?);
    let login_limiter = Arc::new(LoginLimiter::new(&policy.auth));
    let disk = Arc::new(DiskWatch::new(config.data_dir.clone(), policy.storage.clone()));
    disk.check();
    let backups = Arc::new(crate::backup::schedule::Backups::new(&config.data_dir));
    Ok(AppState {
        store,
        auth,
        policy,
        blobs,
        busy: Arc::new(Busy::default()),
        login_limiter,
        disk,
        metrics: Arc::new(crate::metrics::Metrics::new(None)),
        backup_clock: backups.clone(),
        backups,
        bell: Arc::default(),
        desk: Arc::new(crate::desk::session::DeskSessions::default()),
    })
}

/// Keeps in the data dir where its photos live when that is a bucket (for its
/// backups, ADR 0038), and refuses to serve such a data dir with the photos
/// of this machine (it would answer 404 for every photo kept).
fn note_photo_store(data_dir: &Path, photos: &PhotoLocation) -> anyhow::Result<()> {
    use crate::backup::listed::{photo_store_of, PHOTO_STORE_FILE};
    let noted = photo_store_of(data_dir)?;
    if !photos.is_remote() {
        if let Some(at) = noted {
            anyhow::bail!(
                "the photos of {} live in {at}: start with --photos {at} (and the bucket's credentials in the \
                 environment)",
                data_dir.display()
            );
        }
        return Ok(());
    }
    let at = photos.to_string();
    if noted.as_deref() != Some(at.as_str()) {
        let file = data_dir.join(PHOTO_STORE_FILE);
        std::fs::write(&file, format!("{at}\n"))
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", file.display()))?;
    }
    Ok(())
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
    /// The certificate reloader, when serving TLS.
    tls_reloader: Option<JoinHandle<()>>,
    /// The loopback listener for the command line, when serving TLS.
    control_listener: Option<JoinHandle<()>>,
}

/// How often expired photo uploads are swept.
pub const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

impl RunningServer {
    /// Base URL, e.g. `http://127.0.0.1:PORT` (`https://` when serving TLS).
    pub fn url(&self) -> String {
        let scheme = if self.tls_reloader.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    fn stop_tickers(&self) {
        self.sweeper.abort();
        self.disk_ticker.abort();
        if let Some(r) = &self.tls_reloader {
            r.abort();
        }
        if let Some(c) = &self.control_listener {
            c.abort();
        }
    }

    /// Stops accepting, finishes in-flight requests, flushes and closes the store.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        // Held waits answer now: graceful shutdown waits for open requests.
        self.state.bell.close();
        self.stop_tickers();
        self.task.await??;
        forget_control(&self.state);
        self.state.store.flush()?;
        Ok(())
    }

    /// Waits until the server ends (on its own or by a signal).
    pub async fn wait(mut self) -> anyhow::Result<()> {
        let ended = (&mut self.task).await;
        self.stop_tickers();
        forget_control(&self.state);
        ended??;
        self.state.store.flush()?;
        Ok(())
    }
}

/// Removes the control file this server wrote.
fn forget_control(state: &AppState) {
    crate::backup::control::remove(state.backups.data_dir(), state.backups.token());
}

/// Writes the control file through which the command line reaches this server
/// (`fengqiao-server backup`): its loopback address and this run's token.
fn announce_control(state: &AppState, addr: SocketAddr) {
    let control_addr = match addr.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => SocketAddr::from(([127, 0, 0, 1], addr.port())),
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, addr.port()))
        }
        _ => addr,
    };
    let control = crate::backup::control::ControlInfo {
        addr: control_addr,
        token: state.backups.token().to_string(),
        pid: std::process::id(),
    };
    if let Err(e) = crate::backup::control::write(state.backups.data_dir(), &control) {
        tracing::warn!(error = %e, "could not write the control file: `fengqiao-server backup` cannot reach this server");
    }
}

fn spawn_disk_ticker(state: &AppState) -> JoinHandle<()> {
    let disk = state.disk.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(crate::disk::CHECK_EVERY);
        loop {
            tick.tick().await;
            let disk = disk.clone();
            let _ = tokio::task::spawn_blocking(move || disk.check()).await;
        }
    })
}

/// Binds `listen` and serves `state` over plain HTTP until stopped.
pub async fn spawn(state: AppState, listen: SocketAddr) -> anyhow::Result<RunningServer> {
    let listener = TcpListener::bind(listen).await.map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr()?;
    let (tx, rx) = oneshot::channel::<()>();
    let app = http::router(state.clone());
    let sweeper = spawn_sweeper(state.uploads(), SWEEP_EVERY);
    let disk_ticker = spawn_disk_ticker(&state);
    let task = tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await
    });
    announce_control(&state, addr);
    Ok(RunningServer {
        addr,
        state,
        shutdown: Some(tx),
        task,
        sweeper,
        disk_ticker,
        tls_reloader: None,
        control_listener: None,
    })
}

/// Binds `listen` and serves `state` over HTTPS (HTTP/1.1 over rustls) until
/// stopped, reading the certificate files again when they change
/// ([`crate::tls`]). Fails before listening if the files cannot be used.
pub async fn spawn_tls(
    state: AppState,
    listen: SocketAddr,
    tls: crate::tls::TlsFiles,
) -> anyhow::Result<RunningServer> {
    let (config, seen) = crate::tls::load(&tls)?;
    // Bound by tokio for the same socket options as the plain listener (SO_REUSEADDR).
    let listener =
        TcpListener::bind(listen).await.map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?.into_std()?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let handle = axum_server::Handle::<SocketAddr>::new();
    let server = axum_server::from_tcp_rustls(listener, config.clone())?.handle(handle.clone()).http1_only();
    let (tx, rx) = oneshot::channel::<()>();
    let app = http::router(state.clone()).layer(axum::Extension(crate::tls::ServedOverTls));
    let sweeper = spawn_sweeper(state.uploads(), SWEEP_EVERY);
    let disk_ticker = spawn_disk_ticker(&state);
    let tls_reloader = Some(crate::tls::spawn_reloader(config, tls, seen));
    let task = tokio::spawn(async move {
        let serving = server.serve(app.into_make_service_with_connect_info::<SocketAddr>());
        tokio::pin!(serving);
        tokio::select! {
            done = &mut serving => return done,
            _ = rx => handle.graceful_shutdown(None),
        }
        serving.await
    });
    let control_listener = match spawn_control_listener(&state).await {
        Ok((control_addr, listener)) => {
            announce_control(&state, control_addr);
            Some(listener)
        }
        Err(e) => {
            tracing::warn!(error = %e, "no loopback listener for the command line: `fengqiao-server backup` cannot reach this server");
            None
        }
    };
    Ok(RunningServer { addr, state, shutdown: Some(tx), task, sweeper, disk_ticker, tls_reloader, control_listener })
}

/// The command line's way in while the server serves TLS: plain HTTP on the
/// loopback, answering only the backup request (guarded by this run's control
/// token, as on the main listener).
async fn spawn_control_listener(state: &AppState) -> anyhow::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let addr = listener.local_addr()?;
    let app = axum::Router::new()
        .route("/v1/admin/backup", axum::routing::post(http::backup_routes::backup))
        .with_state(state.clone());
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::warn!(error = %e, "the command line's loopback listener stopped");
        }
    });
    Ok((addr, task))
}
