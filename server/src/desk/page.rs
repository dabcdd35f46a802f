//! The desk's frame: the signed-in user extractor ([`DeskUser`]), the page
//! layout with the menu the user's roles open, the CSRF check of every form,
//! and errors as pages ([`DeskError`]).

use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use fengqiao_domain::permissions::{any_may, Action};
use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::session::{cookie, same_token, SESSION_COOKIE};
use crate::auth::service::Caller;
use crate::http::error::ApiError;
use crate::http::AppState;

/// The policy of a desk page: its own inline style, images from this origin
/// (photos) and inline data, forms posting to this origin only; no script runs.
pub const DESK_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; \
     form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// A signed-in desk user: the caller (as the API would see them) and the
/// session's CSRF token.
pub struct DeskUser {
    /// The caller, with effective grants.
    pub caller: Caller,
    /// The CSRF token every form of the session carries.
    pub csrf: String,
}

impl DeskUser {
    /// Whether any of the user's roles may do `action` somewhere.
    pub fn may(&self, action: Action) -> bool {
        any_may(&self.caller.user.grants, action)
    }

    /// Refuses a form whose CSRF token is not the session's.
    pub fn check_csrf(&self, sent: &str) -> Result<(), DeskError> {
        if same_token(sent, &self.csrf) {
            Ok(())
        } else {
            Err(DeskError::Csrf)
        }
    }
}

impl FromRequestParts<AppState> for DeskUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let signed_out = |parts: &Parts| -> Response {
            if parts.method == Method::GET || parts.method == Method::HEAD {
                Redirect::to("/desk/login").into_response()
            } else {
                DeskError::SignedOut.into_response()
            }
        };
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else { return Err(signed_out(parts)) };
        let idle = Duration::from_secs(u64::from(st.policy.auth.desk_idle_mins) * 60);
        let Some(session) = st.desk.touch(&token, idle) else { return Err(signed_out(parts)) };
        let auth = st.auth.clone();
        let caller = match tokio::task::spawn_blocking(move || auth.caller_for(session.user_id, session.family)).await {
            Ok(Ok(c)) if !c.device_revoked => c,
            _ => {
                st.desk.end(&token);
                return Err(signed_out(parts));
            }
        };
        if caller.user.must_change_password {
            return Err(DeskError::Refused("您的密码已被管理员重置：请先在手机应用上设置新密码，再登录工作台".into())
                .into_response());
        }
        Ok(DeskUser { caller, csrf: session.csrf })
    }
}

/// Why a desk request failed, shown as a page.
#[derive(Debug)]
pub enum DeskError {
    /// Nothing there, or nothing the user may see (never told apart).
    NotFound,
    /// A form without its session's CSRF token.
    Csrf,
    /// No live session for a form.
    SignedOut,
    /// The request was refused, with a message for the user.
    Refused(String),
    /// An answer of the API's shared paths (an operation's refusal, a store failure).
    Api(ApiError),
}

impl From<ApiError> for DeskError {
    fn from(e: ApiError) -> Self {
        if e.status == StatusCode::NOT_FOUND {
            DeskError::NotFound
        } else {
            DeskError::Api(e)
        }
    }
}

impl From<crate::store::StoreError> for DeskError {
    fn from(e: crate::store::StoreError) -> Self {
        DeskError::Api(e.into())
    }
}

impl From<tokio::task::JoinError> for DeskError {
    fn from(e: tokio::task::JoinError) -> Self {
        DeskError::Api(e.into())
    }
}

impl IntoResponse for DeskError {
    fn into_response(self) -> Response {
        let (status, title, message) = match self {
            DeskError::NotFound => {
                (StatusCode::NOT_FOUND, "未找到", "没有找到：它不存在，或不在您的管辖范围内。".to_string())
            }
            DeskError::Csrf => (
                StatusCode::FORBIDDEN,
                "表单已失效",
                "这张表单缺少本次登录的防伪令牌，没有执行。请回到页面重新提交。".to_string(),
            ),
            DeskError::SignedOut => {
                (StatusCode::FORBIDDEN, "请重新登录", "登录已结束或已超时，表单没有执行。请重新登录。".to_string())
            }
            DeskError::Refused(m) => (StatusCode::FORBIDDEN, "不能办理", m),
            DeskError::Api(e) => {
                if e.status.is_server_error() {
                    tracing::error!(code = e.code, "desk request failed");
                }
                let title = if e.status.is_server_error() { "服务器出错" } else { "没有办理" };
                (e.status, title, format!("{}（{}）", e.message, e.code))
            }
        };
        let body = html! {
            h1 { (title) }
            p.error { (message) }
            p { a href="/desk/" { "返回工作台" } }
        };
        let mut res = page_response(title, None, body);
        *res.status_mut() = status;
        res
    }
}

/// Result alias for desk handlers.
pub type DeskResult<T> = Result<T, DeskError>;

const STYLE: &str = r#"
body{font-family:"Noto Sans CJK SC","Noto Sans SC","Microsoft YaHei",sans-serif;margin:0;color:#222;background:#f6f6f3}
header{background:#8b1a1a;color:#fff;padding:.5em 1em;display:flex;flex-wrap:wrap;gap:1em;align-items:center}
header a{color:#fff;text-decoration:none}header .who{margin-left:auto}
header form{display:inline}main{padding:1em 1.5em;max-width:72em}
table{border-collapse:collapse;background:#fff;margin:.5em 0}td,th{border:1px solid #bbb;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#eee}.overdue{color:#b00;font-weight:bold}.error{color:#b00;font-weight:bold}.ok{color:#060;font-weight:bold}
.missing{color:#b00}.present{color:#060}img.photo{max-width:16em;max-height:12em;border:1px solid #999;margin:.25em}
form.box{background:#fff;border:1px solid #ccc;padding:1em;margin:1em 0}label{display:block;margin:.4em 0}
.print{background:#fff}@page{size:A4;margin:18mm}
@media print{header,.noprint{display:none}main{padding:0}body{background:#fff}}
"#;

/// The menu: what the user's roles open.
fn menu(user: &DeskUser) -> Markup {
    html! {
        a href="/desk/" { "工作台" }
        a href="/desk/cases" { "案件查询" }
        a href="/desk/inbox" { "待办" }
        @if user.may(Action::ReviewCaseFile) { a href="/desk/review" { "案卷评查" } }
        @if user.may(Action::ReadReports) { a href="/desk/reports" { "报告" } }
        @if user.may(Action::PaySubsidies) { a href="/desk/subsidies" { "补贴台账" } }
        @if user.may(Action::Administer) {
            a href="/desk/import" { "导入" }
            a href="/desk/users" { "用户与设备" }
            a href="/desk/audit" { "审计日志" }
            a href="/desk/policy" { "政策" }
        }
    }
}

/// A whole page: the frame (menu, who is signed in, sign-out) around `body`.
pub fn page(title: &str, user: &DeskUser, body: Markup) -> Response {
    page_response(title, Some(user), body)
}

fn page_response(title: &str, user: Option<&DeskUser>, body: Markup) -> Response {
    let doc = html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · 枫桥工作台" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    strong { "枫桥工作台" }
                    @if let Some(u) = user {
                        (menu(u))
                        span.who { (u.caller.user.display_name) }
                        form method="post" action="/desk/logout" {
                            input type="hidden" name="csrf" value=(u.csrf);
                            button type="submit" { "退出登录" }
                        }
                    }
                }
                main { (body) }
            }
        }
    };
    html_answer(StatusCode::OK, doc.into_string())
}

/// An HTML answer with the desk's headers: its CSP, no caching (pages carry
/// personal data), no referrer beyond this origin.
pub fn html_answer(status: StatusCode, body: String) -> Response {
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")),
        (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(DESK_CSP)),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (HeaderName::from_static("referrer-policy"), HeaderValue::from_static("same-origin")),
    ];
    (status, headers, body).into_response()
}

/// The hidden CSRF field of a form.
pub fn csrf_field(user: &DeskUser) -> Markup {
    html! { input type="hidden" name="csrf" value=(user.csrf); }
}

/// A local time in the county's zone, `YYYY-MM-DD HH:MM`.
pub fn local_time(st: &AppState, t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&st.policy.zone()).format("%Y-%m-%d %H:%M").to_string()
}

/// A sum of fen as yuan, `1234.50`.
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let f = fen.unsigned_abs();
    format!("{sign}{}.{:02}", f / 100, f % 100)
}
