//! Names of colleagues: kept from the server's `/v1/people` for the user they
//! were sent to, and shown to nobody else.

use super::*;

#[tokio::test]
async fn names_come_with_a_sync_and_belong_to_their_user() {
    let mock = Arc::new(Mutex::new(Mock::new()));
    let m2 = mock.clone();
    let serve_names = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let names_on = serve_names.clone();
    let srv = FakeServer::start(move |req| {
        if req.path == "/v1/people" && names_on.load(std::sync::atomic::Ordering::SeqCst) {
            let body = json!({"people": [
                {"id": id(100), "display_name": "组长张三"},
                {"id": id(300), "display_name": "调解员王五"},
            ]});
            return Reply::json(200, body.to_string());
        }
        m2.lock().expect("lock").handle(req)
    })
    .await;
    let client =
        FieldClient::with_store(Arc::new(MemoryClientStore::new()), srv.url(), fast_options()).expect("client");
    assert_eq!(client.display_name(id(300)).expect_err("nobody signed in"), ClientError::NotLoggedIn);
    client.login("leader".into(), "pw".into()).await.expect("login");
    assert_eq!(client.display_name(id(100)).expect("me").as_deref(), Some("leader"), "one's own name, offline");
    assert_eq!(client.display_name(id(300)).expect("before a sync"), None);
    client.sync().await.expect("sync");
    assert_eq!(srv.count("/v1/people"), 1);
    assert_eq!(client.display_name(id(300)).expect("name").as_deref(), Some("调解员王五"));
    assert_eq!(client.display_name(id(999)).expect("unknown"), None);

    // another user of the phone does not see the names sent to the first
    client.login("other".into(), "pw".into()).await.expect("login");
    assert_eq!(client.display_name(id(300)).expect("not theirs"), None);
    // a server without the endpoint: the sync goes on, nothing is named
    serve_names.store(false, std::sync::atomic::Ordering::SeqCst);
    client.sync().await.expect("sync without names");
    assert_eq!(client.display_name(id(300)).expect("still not theirs"), None);
}
