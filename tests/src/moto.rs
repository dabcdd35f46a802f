//! A real S3-compatible server for the photo tests: `moto_server` (PyPI's
//! `moto[server]`, installed by `tests/run-all.sh`) on a free loopback port,
//! one per test binary, each test in a bucket of its own; and the two photo
//! backends the photo tests run against ([`Photos`]).
//!
//! `moto_server` is found as `$FENGQIAO_MOTO_SERVER`, else on `PATH`, else
//! under `~/.pyenv/shims` or `~/.local/bin`. It is started under a small shell
//! watchdog that stops it when the test binary ends, however it ends.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use fengqiao_server::tus::PhotoLocation;

use crate::TestServer;

/// The access key the S3 tests sign with (moto accepts any).
pub const ACCESS_KEY: &str = "fengqiao-test";
/// Its secret.
pub const SECRET_KEY: &str = "fengqiao-test-secret";

/// A running `moto_server`.
pub struct Moto {
    /// Where it listens.
    pub addr: SocketAddr,
}

fn moto_exe() -> anyhow::Result<PathBuf> {
    if let Ok(p) = std::env::var("FENGQIAO_MOTO_SERVER") {
        return Ok(p.into());
    }
    let mut dirs: Vec<PathBuf> =
        std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(Path::new(&home).join(".pyenv/shims"));
        dirs.push(Path::new(&home).join(".local/bin"));
    }
    dirs.into_iter()
        .map(|d| d.join("moto_server"))
        .find(|p| p.is_file())
        .ok_or_else(|| anyhow::anyhow!("moto_server not found: pip install 'moto[server]' (tests/run-all.sh does)"))
}

impl Moto {
    /// The test binary's `moto_server`, started on first use.
    pub fn shared() -> &'static Moto {
        static MOTO: OnceLock<Moto> = OnceLock::new();
        MOTO.get_or_init(|| Moto::start().expect("start moto_server"))
    }

    fn start() -> anyhow::Result<Moto> {
        let exe = moto_exe()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
        // The watchdog: moto runs while this process does.
        let script = "\"$0\" -H 127.0.0.1 -p \"$1\" >/dev/null 2>&1 & m=$!; \
                      while kill -0 \"$2\" 2>/dev/null && kill -0 $m 2>/dev/null; do sleep 1; done; kill $m 2>/dev/null";
        Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg(&exe)
            .arg(port.to_string())
            .arg(std::process::id().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let deadline = Instant::now() + Duration::from_secs(60);
        let moto = Moto { addr };
        while Instant::now() < deadline {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() && moto.put_bucket("probe").is_ok()
            {
                return Ok(moto);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        anyhow::bail!("moto_server ({}) did not answer on {addr}", exe.display())
    }

    /// The endpoint URL.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn put_bucket(&self, name: &str) -> anyhow::Result<()> {
        let r = blocking_put(&format!("{}/{name}", self.endpoint()))?;
        anyhow::ensure!(r < 300, "creating bucket {name}: HTTP {r}");
        Ok(())
    }

    /// A new, empty bucket; the photo location of `prefix` in it. The URL
    /// signs with the environment's credentials: see [`Moto::env`].
    pub fn bucket(&self, prefix: &str) -> anyhow::Result<PhotoLocation> {
        let name = format!("fq-{}", uuid::Uuid::new_v4().simple());
        self.put_bucket(&name)?;
        let url = format!("s3://{name}/{prefix}?endpoint={}&region=us-east-1&allow_http=true", self.endpoint());
        url.parse().map_err(|e: String| anyhow::anyhow!(e))
    }

    /// The credentials a server process is given (in its environment, as in
    /// production).
    pub fn env() -> Vec<(&'static str, &'static str)> {
        vec![("AWS_ACCESS_KEY_ID", ACCESS_KEY), ("AWS_SECRET_ACCESS_KEY", SECRET_KEY)]
    }

    /// A kept photo's bytes, read from the bucket with the test credentials
    /// (`None` if absent).
    pub async fn blob(&self, location: &PhotoLocation, sha: &str) -> anyhow::Result<Option<Vec<u8>>> {
        use fengqiao_server::tus::{BlobStore, ObjectBlobStore};
        use tokio::io::AsyncReadExt;
        let store = ObjectBlobStore::open(&with_credentials(location)?)?;
        let Some(len) = store.blob_len(sha).await? else { return Ok(None) };
        let mut out = Vec::new();
        store.read_blob(sha, 0, len).await?.read_to_end(&mut out).await?;
        Ok(Some(out))
    }

    /// The keys under `prefix` in the location's bucket.
    pub async fn keys(&self, location: &PhotoLocation) -> anyhow::Result<Vec<String>> {
        let PhotoLocation::S3(s3) = location else { anyhow::bail!("not an S3 location") };
        let body = reqwest::Client::new()
            .get(format!("{}/{}?list-type=2&prefix={}", self.endpoint(), s3.bucket, s3.prefix))
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?;
        Ok(body.split("<Key>").skip(1).filter_map(|s| s.split_once("</Key>")).map(|(k, _)| k.to_string()).collect())
    }
}

/// `location` with the test credentials among its settings (given to the
/// builder directly: a URL may not carry them).
fn with_credentials(location: &PhotoLocation) -> anyhow::Result<PhotoLocation> {
    let PhotoLocation::S3(mut s3) = location.clone() else { anyhow::bail!("not an S3 location") };
    s3.settings.push(("access_key_id".into(), ACCESS_KEY.into()));
    s3.settings.push(("secret_access_key".into(), SECRET_KEY.into()));
    Ok(PhotoLocation::S3(s3))
}

/// A `PUT` with no body (creating a bucket) over a plain socket, as the helper
/// may run before any async runtime; the answer's status.
fn blocking_put(url: &str) -> anyhow::Result<u16> {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").ok_or_else(|| anyhow::anyhow!("http only"))?;
    let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap_or((rest, "/".into()));
    let mut s = TcpStream::connect(host)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(s, "PUT {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?;
    let mut answer = String::new();
    s.read_to_string(&mut answer)?;
    answer.split_whitespace().nth(1).and_then(|c| c.parse().ok()).ok_or_else(|| anyhow::anyhow!("no HTTP answer"))
}

/// Where the photo tests keep photo bytes: each test runs against both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Photos {
    /// The data dir's `photos/` folder (the default).
    Local,
    /// A bucket of its own in the shared `moto_server`.
    S3,
}

impl Photos {
    /// A test server seeded with the demo county in `data_dir`, its photos here.
    pub async fn start(self, data_dir: &Path) -> anyhow::Result<TestServer> {
        match self {
            Photos::Local => TestServer::start(data_dir).await,
            Photos::S3 => {
                // In-process the credentials are given to the builder directly
                // (the environment is the whole test binary's); the server
                // processes of `photos_s3_e2e.rs` take them from theirs.
                let location = Moto::shared().bucket("county")?;
                TestServer::start_with_photos(data_dir, with_credentials(&location)?).await
            }
        }
    }

    /// How many photos the server keeps.
    pub async fn blob_count(self, server: &TestServer) -> usize {
        match self {
            Photos::Local => crate::photos::server_blob_count(server),
            Photos::S3 => {
                let Ok(state) = server.state() else { return 0 };
                let keys = Moto::shared().keys(state.blobs.location()).await.unwrap_or_default();
                keys.iter().filter(|k| k.contains("/blobs/")).count()
            }
        }
    }

    /// A kept photo's bytes as the server holds them (`None` if it holds none).
    pub async fn blob(server: &TestServer, sha: &str) -> Option<Vec<u8>> {
        use tokio::io::AsyncReadExt;
        let blobs = &server.state().ok()?.blobs;
        let len = blobs.blob_len(sha).await.ok()??;
        let mut out = Vec::new();
        blobs.read_blob(sha, 0, len).await.ok()?.read_to_end(&mut out).await.ok()?;
        Some(out)
    }
}

/// Runs an async test body `f(Photos)` once per photo backend, as two tests
/// named `<name>::local` and `<name>::s3`.
#[macro_export]
macro_rules! both_photo_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn local() {
                super::$name($crate::moto::Photos::Local).await
            }
            #[tokio::test]
            async fn s3() {
                super::$name($crate::moto::Photos::S3).await
            }
        }
    )*};
}
