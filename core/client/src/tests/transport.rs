//! The transport seam ([`crate::transport`]): a phone core whose requests go
//! through a supplied transport reaches no socket at all, is driven by the same
//! timeouts, and keeps its op queued when an answer is lost on the way back.

use std::sync::atomic::{AtomicBool, Ordering};

use super::*;
use crate::transport::{Transport, TransportError, TransportFuture, TransportTimeouts};

/// A transport answering from the [`Mock`] in this process; it records what
/// it carried and, while `lose_answers` is set, lets the mock apply a request
/// and then breaks off before the answer (a cut mid-answer).
#[derive(Debug)]
struct InProcess {
    mock: Arc<Mutex<Mock>>,
    carried: Arc<Mutex<Vec<(String, TransportTimeouts)>>>,
    lose_answers: Arc<AtomicBool>,
}

impl std::fmt::Debug for Mock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Mock")
    }
}

impl Transport for InProcess {
    fn execute(&self, request: reqwest::Request, timeouts: TransportTimeouts) -> TransportFuture {
        let headers = request
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or_default().to_string()))
            .collect();
        let req = Req {
            path: request.url().path().to_string(),
            query: request.url().query().unwrap_or_default().to_string(),
            headers,
            body: request.body().and_then(|b| b.as_bytes()).unwrap_or_default().to_vec(),
        };
        self.carried.lock().expect("lock").push((req.path.clone(), timeouts));
        let reply = self.mock.lock().expect("lock").handle(&req);
        let lose = self.lose_answers.load(Ordering::SeqCst);
        Box::pin(async move {
            if lose {
                return Err(TransportError::Broken("cut mid-answer".into()));
            }
            match reply {
                Reply::Full(status, body) | Reply::Headed(status, _, body) => {
                    let resp = reqwest::Response::from(
                        ::http::Response::builder()
                            .status(status)
                            .header("content-type", "application/json")
                            .body(body)
                            .map_err(|e| TransportError::Broken(e.to_string()))?,
                    );
                    Ok(resp)
                }
                Reply::Hang => Err(TransportError::TimedOut(String::new())),
                Reply::Close => Err(TransportError::Broken("closed".into())),
            }
        })
    }
}

#[tokio::test]
async fn a_supplied_transport_carries_every_request_with_the_clients_timeouts() {
    let mock = Arc::new(Mutex::new(Mock::new()));
    let carried = Arc::new(Mutex::new(Vec::new()));
    let lose_answers = Arc::new(AtomicBool::new(false));
    let transport =
        Arc::new(InProcess { mock: mock.clone(), carried: carried.clone(), lose_answers: lose_answers.clone() });
    let options = ClientOptions { transport: Some(transport), ..fast_options() };
    let store = Arc::new(MemoryClientStore::new());
    // No server listens there: only the transport can answer.
    let client = FieldClient::with_store(store.clone(), "http://sim.invalid:9".into(), options).expect("client");
    client.login("leader".into(), "pw".into()).await.expect("login over the transport");
    client.sync().await.expect("sync over the transport");
    client.record_visit(visit("院子整洁")).expect("record");

    // The push reaches the mock, which applies it; its answer is lost.
    lose_answers.store(true, Ordering::SeqCst);
    let err = client.sync().await.expect_err("the answer was cut off");
    assert_eq!(err.code(), "network", "{err:?}");
    assert_eq!(client.sync_status().expect("status").pending_ops, 1, "kept queued: nothing says it was applied");
    assert_eq!(mock.lock().expect("lock").seen_ops.len(), 1, "the server did apply it");

    lose_answers.store(false, Ordering::SeqCst);
    client.sync().await.expect("sync after the cut");
    assert_eq!(client.sync_status().expect("status").pending_ops, 0, "the duplicate answer completes it");
    assert_eq!(mock.lock().expect("lock").seen_ops.len(), 1, "applied once");
    let visits = client.list_visits(10).expect("visits");
    assert_eq!(visits.len(), 1);
    assert!(!visits[0].pending);

    // The held wait asks for its own, longer, timeout; everything else the client's.
    let _ = client.wait_and_sync(5, None, None).await;
    let carried = carried.lock().expect("lock").clone();
    let wait = carried.iter().find(|(p, _)| p == "/v1/sync/wait").expect("the wait was carried");
    assert_eq!(wait.1.request, Duration::from_secs(20));
    let push = carried.iter().find(|(p, _)| p == "/v1/sync/push").expect("a push was carried");
    assert_eq!(push.1, TransportTimeouts { connect: Duration::from_secs(10), request: Duration::from_secs(5) });
    assert!(carried.iter().any(|(p, _)| p == "/v1/auth/login"));
}
