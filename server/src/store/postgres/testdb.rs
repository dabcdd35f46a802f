//! A throwaway PostgreSQL for tests: a cluster made by `initdb` in a temporary
//! directory, served on a free loopback port and a socket in that directory,
//! stopped and removed when dropped. Run as root, the cluster belongs to the
//! `postgres` user (`initdb` refuses root) and its programs run through
//! `runuser`. Nothing is skipped: when PostgreSQL cannot start, [`TestPostgres::start`]
//! says why, and the test that needed it fails with that.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running throwaway PostgreSQL cluster.
pub struct TestPostgres {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
    child: Option<Child>,
}

/// Where Debian keeps PostgreSQL's programs: the newest `/usr/lib/postgresql/N/bin`,
/// or the folder named by `FENGQIAO_PG_BIN`.
fn find_bin() -> Result<PathBuf, String> {
    if let Ok(dir) = std::env::var("FENGQIAO_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|e| format!("PostgreSQL is not installed (/usr/lib/postgresql: {e}); apt-get install postgresql"))?
        .filter_map(|e| e.ok())
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, p)| p.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop().map(|(_, p)| p).ok_or_else(|| "no /usr/lib/postgresql/N/bin/initdb found".to_string())
}

fn is_root() -> bool {
    // The effective uid, without a libc dependency: /proc/self/status's "Uid:" line.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(2) == Some("0")))
        .unwrap_or(false)
}

fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free loopback port: {e}"))?;
    l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

impl TestPostgres {
    /// Makes and starts a cluster; waits until it accepts connections.
    pub fn start() -> Result<TestPostgres, String> {
        let bin = find_bin()?;
        let as_postgres = is_root();
        let dir = std::env::temp_dir().join(format!("fq-pg-{}-{}", std::process::id(), uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("temp dir {}: {e}", dir.display()))?;
        let mut pg = TestPostgres { dir, bin, port: free_port()?, as_postgres, child: None };
        if as_postgres {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&pg.dir)
                .status()
                .map_err(|e| format!("chown: {e}"))?;
            if !ok.success() {
                return Err(format!("chown of {} to postgres failed", pg.dir.display()));
            }
        }
        let data = pg.dir.join("data");
        let out = pg
            .command("initdb")
            .arg("-D")
            .arg(&data)
            .args(["-A", "trust", "-U", "fq", "-E", "UTF8", "--no-sync", "--no-instructions"])
            .output()
            .map_err(|e| format!("initdb: {e}"))?;
        if !out.status.success() {
            return Err(format!("initdb failed: {}", String::from_utf8_lossy(&out.stderr)));
        }
        let log = std::fs::File::create(pg.dir.join("postgres.log")).map_err(|e| e.to_string())?;
        let child = pg
            .command("postgres")
            .arg("-D")
            .arg(&data)
            .arg("-k")
            .arg(&pg.dir)
            .args(["-p", &pg.port.to_string(), "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=300"])
            .args(["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("postgres: {e}"))?;
        pg.child = Some(child);
        pg.wait_ready()?;
        Ok(pg)
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    return Err(format!("postgres exited ({status}): {}", self.log_tail()));
                }
            }
            let ready = self
                .command("pg_isready")
                .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "fq", "-d", "postgres"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if ready {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("postgres did not accept connections within 30 s: {}", self.log_tail()));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("postgres.log")).unwrap_or_default();
        log.lines().rev().take(10).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n")
    }

    /// The loopback port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its directory (data, socket, log).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Creates a fresh database; its address.
    pub fn database(&self, name: &str) -> Result<String, String> {
        let out = self
            .command("createdb")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "fq", name])
            .output()
            .map_err(|e| format!("createdb: {e}"))?;
        if !out.status.success() {
            return Err(format!("createdb {name}: {}", String::from_utf8_lossy(&out.stderr)));
        }
        Ok(self.url(name))
    }

    /// The address of a database in this cluster.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://fq@127.0.0.1:{}/{db}", self.port)
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&data)
            .args(["-m", "immediate", "-w", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if let Some(mut child) = self.child.take() {
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
