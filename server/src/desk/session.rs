//! Desk sessions: a random token in an `HttpOnly`, `SameSite=Strict` cookie
//! (`Secure` over TLS), kept in memory by its hash with the signed-in user's
//! refresh family, a CSRF token and when it was last used. A session idle
//! longer than the policy's `auth.desk_idle_mins` ends; every request checks
//! the user and the family again ([`crate::auth::AuthService::caller_for`]), so
//! disabling the user or revoking the session ends it at once. A restart ends
//! every desk session (the user signs in again).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{header, HeaderMap, Uri};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "fq_desk";
/// The sign-in form's CSRF cookie (double submit: cookie and form field agree).
pub const SIGNIN_COOKIE: &str = "fq_desk_signin";

/// Sessions kept at most; past this the least recently used are dropped.
const MAX_SESSIONS: usize = 10_000;

/// One signed-in desk.
#[derive(Debug, Clone)]
pub struct DeskSession {
    /// The user.
    pub user_id: Uuid,
    /// The refresh family the sign-in made (revoking it ends the session).
    pub family: Uuid,
    /// The CSRF token every form of this session carries.
    pub csrf: String,
    last_seen: Instant,
}

/// Every live desk session, by the SHA-256 of its cookie token.
#[derive(Default)]
pub struct DeskSessions {
    inner: Mutex<HashMap<String, DeskSession>>,
}

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A fresh random token (256 bits, hex).
pub fn random_token() -> String {
    use rand::RngCore;
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// Compares two tokens in time independent of where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && !a.is_empty() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl DeskSessions {
    /// Starts a session; returns its cookie token.
    pub fn start(&self, user_id: Uuid, family: Uuid) -> String {
        let token = random_token();
        let s = DeskSession { user_id, family, csrf: random_token(), last_seen: Instant::now() };
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_SESSIONS {
            if let Some(oldest) = map.iter().min_by_key(|(_, s)| s.last_seen).map(|(k, _)| k.clone()) {
                map.remove(&oldest);
            }
        }
        map.insert(hash(&token), s);
        token
    }

    /// The session of a token if it was used within `idle`; marks it used now.
    /// An idle one is ended.
    pub fn touch(&self, token: &str, idle: Duration) -> Option<DeskSession> {
        let key = hash(token);
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        match map.get_mut(&key) {
            Some(s) if now.duration_since(s.last_seen) <= idle => {
                s.last_seen = now;
                Some(s.clone())
            }
            Some(_) => {
                map.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Ends a session; returns it if it was live.
    pub fn end(&self, token: &str) -> Option<DeskSession> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).remove(&hash(token))
    }

    /// Makes a session look idle for `by` (tests of the idle timeout).
    #[doc(hidden)]
    pub fn age_all(&self, by: Duration) {
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        for s in map.values_mut() {
            if let Some(t) = s.last_seen.checked_sub(by) {
                s.last_seen = t;
            }
        }
    }
}

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Whether the request reached the server over TLS: this server's own TLS
/// listener (which marks each request with [`crate::tls::ServedOverTls`]), an
/// `https` URI or a proxy's `X-Forwarded-Proto: https` (which can only make the
/// cookie stricter).
pub fn over_tls(ext: &axum::http::Extensions, uri: &Uri, headers: &HeaderMap) -> bool {
    ext.get::<crate::tls::ServedOverTls>().is_some()
        || uri.scheme_str() == Some("https")
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

/// A `Set-Cookie` value for the desk (path `/desk`, `HttpOnly`, `SameSite=Strict`,
/// `Secure` over TLS); an empty value with `Max-Age=0` removes the cookie.
pub fn set_cookie(name: &str, value: &str, tls: bool) -> String {
    let secure = if tls { "; Secure" } else { "" };
    let age = if value.is_empty() { "; Max-Age=0" } else { "" };
    format!("{name}={value}; Path=/desk; HttpOnly; SameSite=Strict{secure}{age}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_idle_session_ends_and_a_used_one_lives() {
        let s = DeskSessions::default();
        let (u, f) = (Uuid::now_v7(), Uuid::now_v7());
        let t = s.start(u, f);
        assert_eq!(s.touch(&t, Duration::from_secs(60)).map(|x| (x.user_id, x.family)), Some((u, f)));
        s.age_all(Duration::from_secs(61));
        assert!(s.touch(&t, Duration::from_secs(60)).is_none(), "idle past the limit");
        assert!(s.touch(&t, Duration::from_secs(3600)).is_none(), "and gone for good");
        assert!(s.touch("nonsense", Duration::from_secs(60)).is_none());
        let t2 = s.start(u, f);
        assert!(s.end(&t2).is_some());
        assert!(s.touch(&t2, Duration::from_secs(60)).is_none());
    }

    #[test]
    fn cookies_are_read_by_name_and_set_with_their_flags() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, "a=1; fq_desk=abc123 ; x=<y>".parse().unwrap());
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("abc123"));
        assert_eq!(cookie(&h, "x"), None, "only hex tokens are taken");
        assert_eq!(set_cookie(SESSION_COOKIE, "ab", false), "fq_desk=ab; Path=/desk; HttpOnly; SameSite=Strict");
        assert!(set_cookie(SESSION_COOKIE, "ab", true).ends_with("; Secure"));
        assert!(set_cookie(SESSION_COOKIE, "", true).ends_with("; Max-Age=0"));
        assert!(same_token("abc", "abc") && !same_token("abc", "abd") && !same_token("", ""));
    }
}
