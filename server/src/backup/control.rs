//! How the command line reaches the server running on a data dir: the server
//! writes `control.json` into the data dir when it listens (its address and a
//! token made at start, readable by the data dir's owner only) and removes it
//! when it stops; `fengqiao-server backup` reads it and asks the server over
//! loopback (`POST /v1/admin/backup` with the token in
//! [`CONTROL_HEADER`]). Whoever can read the data dir can read the store
//! anyway, so the token grants nothing new.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use serde::{Deserialize, Serialize};

use super::Manifest;

/// The file's name inside the data dir.
pub const CONTROL_FILE: &str = "control.json";
/// The header carrying the control token.
pub const CONTROL_HEADER: &str = "x-fengqiao-control";

/// What `control.json` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlInfo {
    /// Where the server listens.
    pub addr: SocketAddr,
    /// The token of this run of the server.
    pub token: String,
    /// The server's process id.
    pub pid: u32,
}

/// Writes the control file (mode 0600), replacing any left by a server that
/// did not stop cleanly.
pub fn write(data_dir: &Path, info: &ControlInfo) -> std::io::Result<()> {
    let path = data_dir.join(CONTROL_FILE);
    let tmp = data_dir.join(format!("{CONTROL_FILE}.tmp"));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp)?;
    f.write_all(&serde_json::to_vec(info).map_err(std::io::Error::other)?)?;
    f.sync_all()?;
    std::fs::rename(tmp, path)
}

/// Removes the control file if it is this server's (a second server that
/// failed to start on the same dir leaves the first one's alone).
pub fn remove(data_dir: &Path, token: &str) {
    let path = data_dir.join(CONTROL_FILE);
    if read(data_dir).is_ok_and(|i| i.is_some_and(|i| i.token == token)) {
        let _ = std::fs::remove_file(path);
    }
}

fn read(data_dir: &Path) -> anyhow::Result<Option<ControlInfo>> {
    let path = data_dir.join(CONTROL_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => {
            Ok(Some(serde_json::from_slice(&bytes).with_context(|| format!("{} is unreadable", path.display()))?))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(anyhow!("cannot read {}: {e}", path.display())),
    }
}

/// The body of a backup request.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BackupRequest {
    /// Absolute path of the new backup file, on the server's machine (must not exist).
    pub to: String,
}

/// Asks the server running on `data_dir` to take a backup into `to`. `None`
/// when no server runs there (no control file, or nobody answers at its
/// address): the caller may then open the store itself.
pub fn request_backup(data_dir: &Path, to: &Path) -> anyhow::Result<Option<Manifest>> {
    let Some(info) = read(data_dir)? else { return Ok(None) };
    let mut stream = match TcpStream::connect_timeout(&info.addr, Duration::from_secs(5)) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => return Ok(None),
        Err(e) => bail!("the server on {} (from {CONTROL_FILE}) does not answer: {e}", info.addr),
    };
    let to = std::path::absolute(to).with_context(|| format!("bad path {}", to.display()))?;
    let body = serde_json::to_vec(&BackupRequest { to: to.display().to_string() })?;
    let head = format!(
        "POST /v1/admin/backup HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{CONTROL_HEADER}: {}\r\nConnection: close\r\n\r\n",
        info.addr,
        body.len(),
        info.token
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(&body)?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).context("the server's answer was cut")?;
    let text = String::from_utf8_lossy(&answer);
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(|| anyhow!("the server's answer is not HTTP"))?;
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow!("no status in the answer"))?;
    if status != 200 {
        let msg = serde_json::from_str::<fengqiao_domain::wire::ErrorBody>(body)
            .map(|e| format!("{} ({})", e.message, e.code))
            .unwrap_or_else(|_| body.to_string());
        bail!("the server refused the backup: {status}: {msg}");
    }
    Ok(Some(serde_json::from_str(body).context("the server's manifest is unreadable")?))
}
