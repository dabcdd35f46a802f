//! TLS end to end (issue 26, ADR 0033): the server serves HTTPS itself and takes
//! a renewed certificate without dropping open connections; the phone core
//! verifies the server's certificate against the county's CA and its pinned
//! key, and a server failing either check gets nothing from the phone.

use std::time::Duration;

use fengqiao_core::{ClientError, ClientOptions};
use fengqiao_server::tls::TlsFiles;
use fengqiao_tests::phone::{fast_options, phone_with, reopen, routine_visit, sign_in};
use fengqiao_tests::tls::TestPki;
use fengqiao_tests::TestServer;

fn files(dir: &std::path::Path, pki: &TestPki, reload_every: Duration) -> TlsFiles {
    let (cert, key) = pki.write(dir).unwrap();
    TlsFiles { cert, key, reload_every }
}

/// The certificate a connection of `client` presented for its last answer.
async fn served_cert(client: &reqwest::Client, url: &str) -> (u16, Vec<u8>) {
    let res = client.get(format!("{url}/healthz")).send().await.unwrap();
    let cert = res
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|t| t.peer_certificate())
        .map(<[u8]>::to_vec)
        .unwrap_or_default();
    let status = res.status().as_u16();
    let _ = res.bytes().await;
    (status, cert)
}

fn client_trusting(cas: &[&TestPki]) -> reqwest::Client {
    let mut b = reqwest::Client::builder().tls_info(true).pool_max_idle_per_host(1);
    for ca in cas {
        b = b.add_root_certificate(reqwest::Certificate::from_pem(ca.ca_pem.as_bytes()).unwrap());
    }
    b.build().unwrap()
}

/// Renewing the certificate files: new connections get the new certificate,
/// and a connection opened before keeps working (with the certificate it
/// started with).
#[tokio::test]
async fn a_renewed_certificate_reaches_new_connections_and_open_ones_keep_working() {
    let (data, certs) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (old, new) = (TestPki::new("old").unwrap(), TestPki::new("new").unwrap());
    let server =
        TestServer::start_tls(data.path(), files(certs.path(), &old, Duration::from_millis(100))).await.unwrap();
    let url = server.url();
    assert!(url.starts_with("https://"), "{url}");

    let open = client_trusting(&[&old, &new]);
    assert_eq!(served_cert(&open, &url).await, (200, old.cert_der.clone()));

    new.write(certs.path()).unwrap();
    let mut renewed = false;
    for _ in 0..100 {
        let fresh = client_trusting(&[&old, &new]);
        if served_cert(&fresh, &url).await == (200, new.cert_der.clone()) {
            renewed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(renewed, "a new connection never got the renewed certificate");

    // The connection opened before the renewal is still the one in the pool:
    // it answers, still under the old certificate (a new one would show the new).
    for _ in 0..3 {
        assert_eq!(served_cert(&open, &url).await, (200, old.cert_der.clone()));
    }

    // Broken files (a key that does not match) leave the served certificate alone.
    std::fs::write(certs.path().join("key.pem"), &old.key_pem).unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let fresh = client_trusting(&[&old, &new]);
    assert_eq!(served_cert(&fresh, &url).await, (200, new.cert_der.clone()));

    // Stopping ends the idle connections and returns.
    let mut server = server;
    tokio::time::timeout(Duration::from_secs(10), server.stop()).await.expect("stop in time").unwrap();
}

fn pinned(pki: &TestPki, pins: Vec<String>) -> ClientOptions {
    ClientOptions { server_ca_pem: Some(pki.ca_pem.clone()), server_pins: pins, ..fast_options() }
}

/// Every request the server has answered, as its `/metrics` counts them.
fn requests_seen(server: &TestServer) -> u64 {
    let text = server.state().unwrap().metrics.render(0, None);
    text.lines()
        .filter(|l| l.starts_with("fengqiao_http_requests_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// With the county's CA and its key pinned, the phone works over HTTPS; with a
/// wrong pin the phone refuses the server with a clear Chinese error and a
/// stable code, and sends nothing: the server counts no request, applies no op,
/// and the op stays queued until the right pin is back.
#[tokio::test]
async fn the_pinned_key_works_and_a_wrong_pin_sends_nothing() {
    let (data, certs, phone_dir, other_dir) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let county = TestPki::new("county").unwrap();
    let stranger = TestPki::new("stranger").unwrap();
    let server =
        TestServer::start_tls(data.path(), files(certs.path(), &county, Duration::from_secs(30))).await.unwrap();
    let url = server.url();

    // The right pin (with a second, spare one): signs in and syncs.
    let good = pinned(&county, vec![stranger.pin.clone(), county.pin.clone()]);
    let phone = phone_with(phone_dir.path(), &url, good.clone());
    sign_in(&phone, &server, "leader.t1v1g1").await;
    phone.sync().await.unwrap();
    let household = phone.households().unwrap().remove(0);
    phone.record_visit(routine_visit(&household, "钉住公钥后的走访")).unwrap();
    drop(phone);

    // A wrong pin: refused before anything is sent.
    let store = server.state().unwrap().store.clone();
    let (seq_before, seen_before) = (store.last_seq().unwrap(), requests_seen(&server));
    let phone = reopen(phone_dir.path(), &url, &pinned(&county, vec![stranger.pin.clone()])).await.unwrap();
    let err = phone.sync().await.unwrap_err();
    match &err {
        ClientError::ServerNotTrusted { reason, message } => {
            assert_eq!(reason, "certificate_pin_mismatch");
            assert!(message.contains("指纹") && message.contains("没有发送任何数据"), "{message}");
        }
        other => panic!("expected server_not_trusted, got {other:?}"),
    }
    assert_eq!(err.code(), "server_not_trusted");
    assert!(!err.is_transient(), "retrying cannot fix a wrong key");
    assert_eq!(phone.sync_status().unwrap().pending_ops, 1, "the op stays queued");
    assert_eq!(store.last_seq().unwrap(), seq_before, "no op applied");
    assert_eq!(requests_seen(&server), seen_before, "the server answered no request at all");

    // A sign-in on a fresh phone with the wrong pin: the password never leaves.
    let other = phone_with(other_dir.path(), &url, pinned(&county, vec![stranger.pin.clone()]));
    let c = server.cred("leader.t1v1g1").unwrap();
    let err = other.login(c.username, c.password).await.unwrap_err();
    assert_eq!(err.code(), "server_not_trusted", "{err:?}");
    assert_eq!(requests_seen(&server), seen_before);
    drop(other);

    // The right pin again: the queued op is applied once.
    drop(phone);
    let phone = reopen(phone_dir.path(), &url, &good).await.unwrap();
    let report = phone.sync().await.unwrap();
    assert_eq!(report.pushed_applied, 1);
    assert!(store.last_seq().unwrap() > seq_before);
}

/// Without the county's CA, a certificate the county issued itself is not
/// trusted (the public roots do not know it), pins or not.
#[tokio::test]
async fn a_certificate_of_an_unknown_ca_is_refused() {
    let (data, certs, phone_dir) =
        (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let county = TestPki::new("county").unwrap();
    let server =
        TestServer::start_tls(data.path(), files(certs.path(), &county, Duration::from_secs(30))).await.unwrap();
    let opts = ClientOptions { server_pins: vec![county.pin.clone()], ..fast_options() };
    let phone = phone_with(phone_dir.path(), &server.url(), opts);
    let c = server.cred("leader.t1v1g1").unwrap();
    match phone.login(c.username, c.password).await.unwrap_err() {
        ClientError::ServerNotTrusted { reason, message } => {
            assert_eq!(reason, "certificate_untrusted");
            assert!(message.contains("证书"), "{message}");
        }
        other => panic!("expected server_not_trusted, got {other:?}"),
    }
    assert_eq!(requests_seen(&server), 0);
}

/// A malformed pin or CA is refused when the phone opens, with a stable reason.
#[tokio::test]
async fn a_malformed_pin_or_ca_is_refused_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let opts = ClientOptions { server_pins: vec!["sha256/short".into()], ..fast_options() };
    let open = |o: ClientOptions| {
        fengqiao_core::FieldClient::open(
            dir.path().to_string_lossy().into_owned(),
            "https://127.0.0.1:1".into(),
            fengqiao_tests::phone::store_key(),
            o,
        )
    };
    match open(opts) {
        Err(ClientError::InvalidInput { reason, .. }) => assert_eq!(reason, "invalid_pin"),
        other => panic!("{:?}", other.map(|_| ())),
    }
    match open(ClientOptions { server_ca_pem: Some("not a certificate".into()), ..fast_options() }) {
        Err(ClientError::InvalidInput { reason, .. }) => assert_eq!(reason, "invalid_ca"),
        other => panic!("{:?}", other.map(|_| ())),
    }
}

/// The desk's cookies carry `Secure` when the server serves TLS itself (the
/// request has no `https` URI nor a proxy's header: the listener marks it), and
/// not over plain HTTP.
#[tokio::test]
async fn the_desk_cookie_is_secure_over_the_servers_own_tls() {
    let (data, certs) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let county = TestPki::new("county").unwrap();
    let mut server =
        TestServer::start_tls(data.path(), files(certs.path(), &county, Duration::from_secs(30))).await.unwrap();
    let client = client_trusting(&[&county]);
    let res = client.get(format!("{}/desk/login", server.url())).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let cookies: Vec<String> =
        res.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).collect();
    assert!(!cookies.is_empty(), "the sign-in form sets its CSRF cookie");
    assert!(cookies.iter().all(|c| c.contains("; Secure")), "{cookies:?}");
    server.stop().await.unwrap();

    let plain_dir = tempfile::tempdir().unwrap();
    let mut plain = TestServer::start(plain_dir.path()).await.unwrap();
    let res = reqwest::get(format!("{}/desk/login", plain.url())).await.unwrap();
    let cookies: Vec<String> =
        res.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).collect();
    assert!(!cookies.is_empty() && cookies.iter().all(|c| !c.contains("Secure")), "{cookies:?}");
    plain.stop().await.unwrap();
}

/// While the server serves TLS, `fengqiao-server backup` still reaches it: the
/// control file names a plain loopback listener that takes only the backup
/// request, and the backup it answers verifies.
#[tokio::test]
async fn a_backup_reaches_a_server_serving_tls() {
    let (data, certs, out) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let county = TestPki::new("county").unwrap();
    let mut server =
        TestServer::start_tls(data.path(), files(certs.path(), &county, Duration::from_secs(30))).await.unwrap();
    let (dir, to) = (data.path().to_path_buf(), out.path().join("tls.fqbk"));
    let target = to.clone();
    let manifest = tokio::task::spawn_blocking(move || fengqiao_server::backup::control::request_backup(&dir, &target))
        .await
        .unwrap()
        .expect("the backup request is answered")
        .expect("a running server is found through its control file");
    let checked = fengqiao_server::backup::verify(&to).expect("the backup verifies");
    assert_eq!(checked.last_seq, manifest.last_seq);
    server.stop().await.unwrap();
}
