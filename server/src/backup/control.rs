//! How the command line reaches the server running on a data dir: the server
//! writes `control.json` into the data dir when it listens (its address and a
//! token made at start, readable by the data dir's owner only) and removes it
//! when it stops; `fengqiao-server backup` reads it and asks the server over
//! loopback (`POST /v1/admin/backup` with the token in
//! [`CONTROL_HEADER`]). Whoever can read the data dir can read the store
//! anyway, so the token grants nothing new.

use std::io::Write;
use std::net::SocketAddr;
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
    let to = std::path::absolute(to).with_context(|| format!("bad path {}", to.display()))?;
    // A backup of a big county takes minutes: no overall timeout, only on connecting.
    let client = reqwest::blocking::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(None::<Duration>)
        .no_proxy()
        .build()
        .context("cannot make an HTTP client")?;
    let sent = client
        .post(format!("http://{}/v1/admin/backup", info.addr))
        .header(CONTROL_HEADER, &info.token)
        .json(&BackupRequest { to: to.display().to_string() })
        .send();
    let answer = match sent {
        Ok(a) => a,
        Err(e) if refused(&e) => return Ok(None),
        Err(e) => bail!("the server on {} (from {CONTROL_FILE}) does not answer: {e}", info.addr),
    };
    let status = answer.status();
    let body = answer.text().context("the server's answer was cut")?;
    if status != reqwest::StatusCode::OK {
        let msg = serde_json::from_str::<fengqiao_domain::wire::ErrorBody>(&body)
            .map(|e| format!("{} ({})", e.message, e.code))
            .unwrap_or(body);
        bail!("the server refused the backup: {}: {msg}", status.as_u16());
    }
    Ok(Some(serde_json::from_str(&body).context("the server's manifest is unreadable")?))
}

/// Nobody listens at the address (the server that wrote the control file is gone).
fn refused(e: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused) {
            return true;
        }
        source = s.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read};
    use std::net::TcpListener;

    fn control_at(dir: &Path, addr: SocketAddr) {
        write(dir, &ControlInfo { addr, token: "t0ken".into(), pid: 1 }).expect("control file");
    }

    #[test]
    fn no_control_file_or_a_gone_server_means_no_server() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(request_backup(dir.path(), &dir.path().join("b.tar")).expect("no file").is_none());
        let gone = TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr");
        control_at(dir.path(), gone);
        assert!(request_backup(dir.path(), &dir.path().join("b.tar")).expect("refused").is_none());
    }

    #[test]
    fn a_refusal_is_told_with_the_servers_code_and_the_token_is_sent() {
        let dir = tempfile::tempdir().expect("tempdir");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        control_at(dir.path(), listener.local_addr().expect("addr"));
        let server = std::thread::spawn(move || {
            let (stream, _) = listener.accept().expect("accept");
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut head = Vec::new();
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).expect("line");
                if line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().expect("length");
                }
                head.push(line);
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).expect("body");
            let refusal = r#"{"code":"backup_exists","message":"已有同名备份文件"}"#;
            let mut stream = stream;
            write!(
                stream,
                "HTTP/1.1 409 Conflict\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{refusal}",
                refusal.len()
            )
            .expect("answer");
            (head, String::from_utf8(body).expect("utf8"))
        });
        let err = request_backup(dir.path(), Path::new("/tmp/x.tar")).expect_err("refused");
        let (head, body) = server.join().expect("server");
        assert!(head.iter().any(|l| l.eq_ignore_ascii_case(&format!("{CONTROL_HEADER}: t0ken\r\n"))), "{head:?}");
        assert!(head[0].starts_with("POST /v1/admin/backup "), "{head:?}");
        assert_eq!(body, r#"{"to":"/tmp/x.tar"}"#);
        let text = err.to_string();
        assert!(text.contains("409") && text.contains("backup_exists") && text.contains("已有同名备份文件"), "{text}");
    }
}
