//! The tus endpoint and HTTP hygiene over raw HTTP/1.1 on loopback, against the
//! real server binary run as a child process (a server that hangs fails the
//! test by timeout instead of hanging it): a request held open while others
//! arrive, `HEAD` on a completed upload, `Connection: close` on answers given
//! before a body was read, and the security headers.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine;
use fengqiao_tests::crash::{server_blob, token, ServerProcess};
use fengqiao_tests::photos::photo_bytes;
use sha2::{Digest, Sha256};

const SERVER: &str = env!("CARGO_BIN_EXE_test_server");

/// How long any answer may take here (all are immediate on loopback).
const WAIT: Duration = Duration::from_secs(10);

/// One HTTP answer.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(WAIT)).unwrap();
    s.set_write_timeout(Some(WAIT)).unwrap();
    s
}

/// Reads one answer (the body by its `Content-Length`; none for `HEAD`).
fn read_answer(s: &mut TcpStream, head: bool) -> io::Result<Answer> {
    let mut buf = Vec::new();
    let mut piece = [0u8; 16 * 1024];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut piece)?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "closed before an answer"));
        }
        buf.extend_from_slice(&piece[..n]);
    };
    let text = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = text.split("\r\n");
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|c| c.parse().ok()).unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len = match headers.iter().find(|(k, _)| k == "content-length") {
        Some((_, v)) if !head => v.parse::<usize>().unwrap_or(0),
        _ => 0,
    };
    while buf.len() < end + len {
        let n = s.read(&mut piece)?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "closed mid-body"));
        }
        buf.extend_from_slice(&piece[..n]);
    }
    Ok(Answer { status, headers, body: buf[end..end + len].to_vec() })
}

/// A request's bytes: the head (with `Host`), then `body`.
fn raw(method: &str, path: &str, headers: &[(&str, String)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

/// Sends a whole request on a fresh connection and reads its answer, or says
/// why none came within [`WAIT`].
fn send(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, String)], body: &[u8]) -> io::Result<Answer> {
    let mut s = connect(addr);
    let mut all = headers.to_vec();
    all.push(("Content-Length", body.len().to_string()));
    s.write_all(&raw(method, path, &all, body))?;
    read_answer(&mut s, method == "HEAD")
}

fn must(what: &str, r: io::Result<Answer>) -> Answer {
    r.unwrap_or_else(|e| panic!("{what}: no answer within {WAIT:?} ({e})"))
}

fn tus(tok: &str) -> Vec<(&'static str, String)> {
    vec![("Authorization", format!("Bearer {tok}")), ("Tus-Resumable", "1.0.0".into())]
}

/// Creates an upload of `bytes`; its path.
fn create(addr: SocketAddr, tok: &str, bytes: &[u8]) -> String {
    let sha = hex::encode(Sha256::digest(bytes));
    let mut h = tus(tok);
    h.push(("Upload-Length", bytes.len().to_string()));
    h.push(("Upload-Metadata", format!("sha256 {}", base64::engine::general_purpose::STANDARD.encode(&sha))));
    let a = must("create", send(addr, "POST", "/v1/photos/", &h, b""));
    assert_eq!(a.status, 201, "{}", String::from_utf8_lossy(&a.body));
    a.header("location").expect("Location").to_string()
}

/// PATCH headers for `len` body bytes at `offset`.
fn patch_headers(tok: &str, offset: u64, len: usize) -> Vec<(&'static str, String)> {
    let mut h = tus(tok);
    h.push(("Content-Type", "application/offset+octet-stream".into()));
    h.push(("Upload-Offset", offset.to_string()));
    h.push(("Content-Length", len.to_string()));
    h
}

/// Sends a whole chunk on a fresh connection.
fn patch(addr: SocketAddr, tok: &str, loc: &str, offset: u64, chunk: &[u8]) -> io::Result<Answer> {
    let mut s = connect(addr);
    s.write_all(&raw("PATCH", loc, &patch_headers(tok, offset, chunk.len()), chunk))?;
    read_answer(&mut s, false)
}

fn head(addr: SocketAddr, tok: &str, loc: &str) -> io::Result<Answer> {
    send(addr, "HEAD", loc, &tus(tok), b"")
}

fn offset_of(a: &Answer) -> u64 {
    a.header("upload-offset").and_then(|v| v.parse().ok()).expect("Upload-Offset")
}

async fn start(dir: &Path) -> (ServerProcess, String) {
    let server = ServerProcess::start(Path::new(SERVER), dir).unwrap();
    let user = "leader.t1v1g1";
    let tok = token(&server.url(), user, &server.password(user).unwrap()).await.unwrap();
    (server, tok)
}

/// A phone retries a slow chunk while its old connection lingers: the upload
/// is held by the first PATCH (half its body sent, the connection open). A
/// second PATCH to it is refused at once (423); another upload's PATCH and
/// `/healthz` are answered meanwhile; once the first connection goes, every
/// request is answered and the upload resumes from HEAD's offset to the end.
#[tokio::test]
async fn a_second_patch_to_a_held_upload_gets_423_and_the_server_keeps_answering() {
    let dir = tempfile::tempdir().unwrap();
    let (server, tok) = start(dir.path()).await;
    let addr = server.addr;
    let bytes = photo_bytes(200_000, 1);
    let loc = create(addr, &tok, &bytes);
    let other = photo_bytes(3_000, 2);
    let other_loc = create(addr, &tok, &other);

    // The first PATCH: 100 000 bytes announced, 10 sent, the connection kept.
    let mut first = connect(addr);
    first.write_all(&raw("PATCH", &loc, &patch_headers(&tok, 0, 100_000), &bytes[..10])).unwrap();
    first.flush().unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await; // it is taken in and holds the upload

    let started = Instant::now();
    let second = must("the second PATCH to the held upload", patch(addr, &tok, &loc, 0, &bytes[..5]));
    assert_eq!(second.status, 423, "{}", String::from_utf8_lossy(&second.body));
    let err: serde_json::Value = serde_json::from_slice(&second.body).unwrap();
    assert_eq!(err["code"], "upload_busy");
    assert!(started.elapsed() < Duration::from_secs(5), "refused at once: {:?}", started.elapsed());
    // twice: a refused take did not let go of the first writer's claim
    assert_eq!(must("a third PATCH", patch(addr, &tok, &loc, 0, &bytes[..5])).status, 423);

    let done = must("a PATCH to another upload", patch(addr, &tok, &other_loc, 0, &other));
    assert_eq!((done.status, offset_of(&done)), (204, other.len() as u64));
    assert_eq!(must("/healthz while the upload is held", send(addr, "GET", "/healthz", &[], b"")).status, 200);

    // The first connection goes: everything still answers.
    drop(first);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(must("/healthz after the first PATCH ended", send(addr, "GET", "/healthz", &[], b"")).status, 200);
    let deadline = Instant::now() + WAIT;
    let at = loop {
        let h = must("HEAD after the first PATCH ended", head(addr, &tok, &loc));
        match h.status {
            200 => break offset_of(&h),
            423 if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(50)).await,
            s => panic!("HEAD answered {s}"),
        }
    };
    assert!(at <= 10, "at most the bytes the first PATCH sent: {at}");
    let mut offset = at;
    for chunk in bytes[at as usize..].chunks(64 * 1024) {
        let a = must("a resumed chunk", patch(addr, &tok, &loc, offset, chunk));
        assert_eq!(a.status, 204, "{}", String::from_utf8_lossy(&a.body));
        offset = offset_of(&a);
    }
    assert_eq!(offset, bytes.len() as u64);
    let sha = hex::encode(Sha256::digest(&bytes));
    assert!(std::fs::read(server_blob(dir.path(), &sha)).unwrap() == bytes, "the kept photo is the bytes sent");
}

/// tus 1.0: `HEAD` on a completed upload keeps answering its full offset until
/// the upload expires, also when the answer to the last chunk was lost (the
/// connection cut after the last byte went out); a resumed client's empty
/// PATCH at the end is answered like the last chunk.
#[tokio::test]
async fn head_keeps_answering_a_completed_upload_and_a_cut_during_the_last_chunk_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let (server, tok) = start(dir.path()).await;
    let addr = server.addr;

    // Completed normally.
    let bytes = photo_bytes(50_000, 3);
    let len = bytes.len() as u64;
    let loc = create(addr, &tok, &bytes);
    assert_eq!(must("the only chunk", patch(addr, &tok, &loc, 0, &bytes)).status, 204);
    let h = must("HEAD on the completed upload", head(addr, &tok, &loc));
    assert_eq!(h.status, 200, "a completed upload still exists for its owner");
    assert_eq!((offset_of(&h), h.header("upload-length")), (len, Some(len.to_string().as_str())));
    let again = must("an empty PATCH at the end", patch(addr, &tok, &loc, len, b""));
    assert_eq!((again.status, offset_of(&again)), (204, len));
    let wrong = must("a PATCH at 0 of a completed upload", patch(addr, &tok, &loc, 0, &bytes[..100]));
    assert_eq!(wrong.status, 409);
    let sha = hex::encode(Sha256::digest(&bytes));
    assert!(std::fs::read(server_blob(dir.path(), &sha)).unwrap() == bytes);
    // someone else's upload does not exist for them
    let other = token(&server.url(), "leader.t1v1g2", &server.password("leader.t1v1g2").unwrap()).await.unwrap();
    assert_eq!(must("another user's HEAD", head(addr, &other, &loc)).status, 404);

    // The last chunk arrives and the photo is kept, but the connection is cut
    // before its answer reaches the client.
    let bytes = photo_bytes(90_000, 4);
    let len = bytes.len() as u64;
    let sha = hex::encode(Sha256::digest(&bytes));
    let loc = create(addr, &tok, &bytes);
    assert_eq!(must("the first chunk", patch(addr, &tok, &loc, 0, &bytes[..60_000])).status, 204);
    let mut cut = connect(addr);
    cut.write_all(&raw("PATCH", &loc, &patch_headers(&tok, 60_000, 30_000), &bytes[60_000..])).unwrap();
    cut.flush().unwrap();
    let deadline = Instant::now() + WAIT;
    while !server_blob(dir.path(), &sha).exists() {
        assert!(Instant::now() < deadline, "the last chunk was not kept");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    drop(cut);
    let deadline = Instant::now() + WAIT;
    let h = loop {
        let h = must("HEAD after the cut", head(addr, &tok, &loc));
        match h.status {
            200 if offset_of(&h) == len => break h,
            // the photo is still being kept
            423 if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(20)).await,
            s => panic!("HEAD after a cut during the last chunk answered {s}"),
        }
    };
    assert_eq!(h.header("upload-length"), Some(len.to_string().as_str()));
    assert!(std::fs::read(server_blob(dir.path(), &sha)).unwrap() == bytes, "the photo was kept");
    let resumed = must("the resumed client's empty PATCH", patch(addr, &tok, &loc, len, b""));
    assert_eq!((resumed.status, offset_of(&resumed)), (204, len));
}

/// An answer given before the request's body was read to the end (the server
/// then closes the connection) says `Connection: close`, and the connection is
/// closed; an answer after the whole body keeps the connection.
#[tokio::test]
async fn an_answer_before_the_body_is_read_says_connection_close() {
    let dir = tempfile::tempdir().unwrap();
    let (server, tok) = start(dir.path()).await;
    let addr = server.addr;

    // A PATCH announcing more bytes than the upload's length, its body still
    // coming: 413 mid-body.
    let bytes = photo_bytes(1_000, 5);
    let loc = create(addr, &tok, &bytes);
    let mut s = connect(addr);
    s.write_all(&raw("PATCH", &loc, &patch_headers(&tok, 0, 1_000_000), &photo_bytes(5_000, 6))).unwrap();
    let a = read_answer(&mut s, false).expect("413");
    assert_eq!(a.status, 413);
    assert_eq!(a.header("connection"), Some("close"), "{:?}", a.headers);
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&a.body).unwrap()["code"], "upload_exceeds_length");
    let mut rest = [0u8; 64];
    let closed = loop {
        match s.read(&mut rest) {
            Ok(0) => break true,
            Ok(_) => continue,
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => break true,
            Err(_) => break false,
        }
    };
    assert!(closed, "the server closed the connection it said it would");

    // A push over the body limit (the policy's 2 MiB): 413 before its end is
    // read, Connection: close.
    let mut s = connect(addr);
    let over = 2 * 1024 * 1024 + 10;
    let h = vec![
        ("Authorization", format!("Bearer {tok}")),
        ("Content-Type", "application/json".to_string()),
        ("Content-Length", over.to_string()),
    ];
    s.write_all(&raw("POST", "/v1/sync/push", &h, &vec![b' '; over])).unwrap();
    let a = read_answer(&mut s, false).expect("413 for the push");
    assert_eq!(a.status, 413);
    assert_eq!(a.header("connection"), Some("close"), "{:?}", a.headers);

    // A whole body read: the connection stays open for the next request.
    let mut s = connect(addr);
    let loc = create(addr, &tok, &bytes);
    s.write_all(&raw("PATCH", &loc, &patch_headers(&tok, 0, bytes.len()), &bytes)).unwrap();
    let a = read_answer(&mut s, false).unwrap();
    assert_eq!((a.status, a.header("connection")), (204, None));
    s.write_all(&raw("GET", "/healthz", &[], b"")).unwrap();
    assert_eq!(read_answer(&mut s, false).unwrap().status, 200, "kept alive");
}

/// `X-Content-Type-Options: nosniff` on every answer (success, error, tus);
/// the monthly report's HTML page carries a Content-Security-Policy that lets
/// its own inline style and SVG through and nothing else.
#[tokio::test]
async fn every_answer_says_nosniff_and_the_html_report_carries_a_csp() {
    let dir = tempfile::tempdir().unwrap();
    let (server, tok) = start(dir.path()).await;
    let addr = server.addr;
    let auth = vec![("Authorization", format!("Bearer {tok}"))];
    let answers = [
        send(addr, "GET", "/healthz", &[], b""),
        send(addr, "GET", "/openapi.json", &[], b""),
        send(addr, "GET", "/v1/no-such-route", &[], b""),
        send(addr, "GET", "/v1/me", &[], b""),
        send(addr, "GET", "/v1/me", &auth, b""),
        send(addr, "OPTIONS", "/v1/photos/", &[], b""),
        send(addr, "GET", &format!("/v1/photos/{}", "ab".repeat(32)), &auth, b""),
    ];
    for a in answers {
        let a = must("an answer", a);
        assert_eq!(a.header("x-content-type-options"), Some("nosniff"), "{} {:?}", a.status, a.headers);
    }

    let judicial = "judicial.t1";
    let jt = token(&server.url(), judicial, &server.password(judicial).unwrap()).await.unwrap();
    let town = fengqiao_server::demo::read_credentials(dir.path())
        .unwrap()
        .into_iter()
        .find(|c| c.username == judicial)
        .unwrap()
        .unit_id;
    let path = format!("/v1/reports/monthly?unit={town}&month=2026-05&format=html");
    let page = must("the HTML report", send(addr, "GET", &path, &[("Authorization", format!("Bearer {jt}"))], b""));
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").is_some_and(|c| c.starts_with("text/html")));
    let csp = page.header("content-security-policy").expect("a CSP on the HTML report");
    assert!(csp.contains("default-src 'none'") && csp.contains("style-src 'unsafe-inline'"), "{csp}");
    assert!(!csp.contains("script-src"), "no script may run: {csp}");
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    // what the policy allows is all the page needs: inline style and SVG only
    let html = String::from_utf8_lossy(&page.body);
    assert!(html.contains("<style>") && html.contains("<svg"));
    for needs_more in ["<script", "src=\"http", "href=\"http", "<link", "<iframe", "@import"] {
        assert!(!html.contains(needs_more), "the page loads nothing: {needs_more}");
    }
    // a JSON answer names no page policy
    let json = path.replace("format=html", "format=json");
    let a = must("the JSON report", send(addr, "GET", &json, &[("Authorization", format!("Bearer {jt}"))], b""));
    assert_eq!((a.status, a.header("content-security-policy")), (200, None));
}
