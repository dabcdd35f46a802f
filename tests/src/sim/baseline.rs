//! The yardstick for the load run: an axum hello-world on loopback, driven by
//! keep-alive clients from the same process, on the same kind of runtime as the
//! in-process server. Its requests/s is the most any axum service could answer
//! here; the simulator's syncs/s are read next to it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Requests per second an axum hello-world answers with `clients` concurrent
/// keep-alive clients over `secs`. The server runs on `server_rt`.
pub async fn hello_world_rps(server_rt: &tokio::runtime::Handle, clients: usize, secs: f64) -> anyhow::Result<f64> {
    let listener = server_rt.bind_loopback()?;
    let addr = listener.local_addr()?;
    let app = axum::Router::new().route("/", axum::routing::get(|| async { "Hello, World!" }));
    let server = server_rt.spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let count = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let url = format!("http://{addr}/");
    let tasks: Vec<_> = (0..clients.max(1))
        .map(|_| {
            let (count, url) = (count.clone(), url.clone());
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                while Instant::now() < deadline {
                    if let Ok(r) = http.get(&url).send().await {
                        if r.bytes().await.is_ok() {
                            count.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();
    let start = Instant::now();
    for t in tasks {
        let _ = t.await;
    }
    server.abort();
    Ok(count.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64())
}

/// Binding a tokio listener that belongs to a given runtime.
trait BindOn {
    fn bind_loopback(&self) -> anyhow::Result<tokio::net::TcpListener>;
}

impl BindOn for tokio::runtime::Handle {
    fn bind_loopback(&self) -> anyhow::Result<tokio::net::TcpListener> {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        std_listener.set_nonblocking(true)?;
        let _guard = self.enter();
        Ok(tokio::net::TcpListener::from_std(std_listener)?)
    }
}
