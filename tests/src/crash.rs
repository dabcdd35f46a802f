//! Support for the crash and fault tests (`crash_e2e.rs`, `faults_e2e.rs`):
//! the server as a child process that can be SIGKILLed and restarted, the
//! server's change feed counted per record (to prove "exactly once"), and the
//! run's size and seed.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use uuid::Uuid;

/// True when `FENGQIAO_LONG=1`: the long fault runs (see docs/RELIABILITY.md).
pub fn long_mode() -> bool {
    std::env::var("FENGQIAO_LONG").is_ok_and(|v| v == "1")
}

/// The run's RNG seed: `FENGQIAO_SEED` if set (to replay a failure), else the
/// clock. Printed, so a failing run can be repeated.
pub fn seed(test: &str) -> u64 {
    let seed = std::env::var("FENGQIAO_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(7)
    });
    println!("{test}: seed {seed} (replay with FENGQIAO_SEED={seed})");
    seed
}

/// `fengqiao-server serve` running as a child process.
pub struct ServerProcess {
    exe: PathBuf,
    /// Its data dir.
    pub data_dir: PathBuf,
    /// Where it listens (kept across restarts).
    pub addr: SocketAddr,
    child: Option<Child>,
    extra: Extra,
}

/// More arguments and environment for `serve` (e.g. `--photos` and the
/// object store's credentials).
#[derive(Debug, Clone, Default)]
pub struct Extra {
    /// Arguments after the usual ones.
    pub args: Vec<String>,
    /// Environment variables.
    pub env: Vec<(String, String)>,
}

fn spawn_server(exe: &Path, data: &Path, listen: &str, extra: &Extra) -> anyhow::Result<(Child, SocketAddr)> {
    let mut child = Command::new(exe)
        .args(["serve", "--data"])
        .arg(data)
        .args(["--listen", listen, "--demo"])
        .args(&extra.args)
        .envs(extra.env.iter().map(|(k, v)| (k, v)))
        .env("FENGQIAO_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let stdout = child.stdout.take().ok_or_else(|| anyhow::anyhow!("no stdout"))?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(url) = line.strip_prefix("fengqiao-server listening on http://") {
                let _ = tx.send(url.trim().to_string());
            }
        }
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(addr) => Ok((child, addr.parse()?)),
        Err(_) => {
            let _ = child.kill();
            let status = child.wait()?;
            anyhow::bail!("the server did not start ({status})")
        }
    }
}

impl ServerProcess {
    /// Starts `exe serve --demo` on a fresh port over `data_dir`.
    pub fn start(exe: &Path, data_dir: &Path) -> anyhow::Result<ServerProcess> {
        Self::start_with(exe, data_dir, Extra::default())
    }

    /// [`ServerProcess::start`] with more arguments and environment (kept for restarts).
    pub fn start_with(exe: &Path, data_dir: &Path, extra: Extra) -> anyhow::Result<ServerProcess> {
        let (child, addr) = spawn_server(exe, data_dir, "127.0.0.1:0", &extra)?;
        Ok(ServerProcess { exe: exe.to_path_buf(), data_dir: data_dir.to_path_buf(), addr, child: Some(child), extra })
    }

    /// Starts `exe serve --demo --store <store>` (None: the embedded store).
    pub fn start_on(exe: &Path, data_dir: &Path, store: Option<&str>) -> anyhow::Result<ServerProcess> {
        let args = store.map(|s| vec!["--store".to_string(), s.to_string()]).unwrap_or_default();
        Self::start_with(exe, data_dir, Extra { args, env: Vec::new() })
    }

    /// Base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The child's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// SIGKILL: no shutdown, no flush, no goodbye.
    pub fn kill(&mut self) -> anyhow::Result<()> {
        if let Some(mut c) = self.child.take() {
            c.kill()?;
            c.wait()?;
        }
        Ok(())
    }

    /// Starts again on the same data dir and port (retrying while the port is
    /// still being released).
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.kill()?;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match spawn_server(&self.exe, &self.data_dir, &self.addr.to_string(), &self.extra) {
                Ok((child, _)) => {
                    self.child = Some(child);
                    return Ok(());
                }
                Err(e) if Instant::now() < deadline => {
                    eprintln!("restart: {e:#}; trying again");
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// A demo user's password.
    pub fn password(&self, username: &str) -> anyhow::Result<String> {
        fengqiao_server::demo::read_credentials(&self.data_dir)?
            .into_iter()
            .find(|c| c.username == username)
            .map(|c| c.password)
            .ok_or_else(|| anyhow::anyhow!("no demo user {username}"))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}

/// Signs in over HTTP; the access token.
pub async fn token(url: &str, username: &str, password: &str) -> anyhow::Result<String> {
    let r: Value = crate::api::send_login(&reqwest::Client::new(), url, username, password, None)
        .await?
        .error_for_status()?
        .json()
        .await?;
    r["access_token"].as_str().map(str::to_string).ok_or_else(|| anyhow::anyhow!("no token in {r}"))
}

/// The whole change feed the token's user may see, from the start, in order:
/// `(seq, entity, id)` of every change.
pub async fn feed(url: &str, token: &str) -> anyhow::Result<Vec<(u64, String, Uuid)>> {
    let http = reqwest::Client::new();
    let mut cursor = String::new();
    let mut out = Vec::new();
    for _ in 0..10_000 {
        let page: Value = http
            .get(format!("{url}/v1/sync/pull"))
            .bearer_auth(token)
            .query(&[("cursor", cursor.as_str()), ("limit", "500")])
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        for c in page["changes"].as_array().into_iter().flatten() {
            let seq = c["seq"].as_u64().ok_or_else(|| anyhow::anyhow!("no seq in {c}"))?;
            let entity = c["entity"].as_str().unwrap_or_default().to_string();
            let id = c["id"].as_str().and_then(|s| s.parse().ok()).ok_or_else(|| anyhow::anyhow!("no id in {c}"))?;
            out.push((seq, entity, id));
        }
        cursor = page["next_cursor"].as_str().unwrap_or_default().to_string();
        if !page["has_more"].as_bool().unwrap_or(false) {
            return Ok(out);
        }
    }
    anyhow::bail!("the feed did not end")
}

/// How many times each record of `entity` appears in the feed.
pub fn counts(feed: &[(u64, String, Uuid)], entity: &str) -> HashMap<Uuid, usize> {
    let mut out = HashMap::new();
    for (_, e, id) in feed {
        if e == entity {
            *out.entry(*id).or_insert(0) += 1;
        }
    }
    out
}

/// Reads a driver's journal: visit ids and photo hashes, in order.
pub fn read_journal(path: &Path) -> (Vec<Uuid>, Vec<String>) {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let (mut visits, mut photos) = (Vec::new(), Vec::new());
    for line in text.lines() {
        match line.split_once(' ') {
            Some(("visit", id)) => visits.extend(id.parse::<Uuid>().ok()),
            Some(("photo", sha)) => photos.push(sha.to_string()),
            _ => {}
        }
    }
    (visits, photos)
}

/// Where the server keeps a verified photo.
pub fn server_blob(data_dir: &Path, sha: &str) -> PathBuf {
    data_dir.join("photos").join("blobs").join(sha.get(..2).unwrap_or("xx")).join(sha)
}
