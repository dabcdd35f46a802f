//! Signing in and out of the desk, and its home page. Sign-in goes through the
//! API's own path ([`crate::http::auth_routes::login_checked`]: the same
//! accounts, password check and audit) after the same rate limiter.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, Extensions, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use fengqiao_domain::wire::LoginRequest;
use maud::html;
use serde::Deserialize;

use super::page::{html_answer, page, DeskError, DeskResult, DeskUser};
use super::session::{cookie, over_tls, random_token, same_token, set_cookie, SESSION_COOKIE, SIGNIN_COOKIE};
use crate::http::AppState;
use crate::store::{AuditAction, AuditEntry};

/// Longest username or password taken (as the API's sign-in).
const MAX_CREDENTIAL_CHARS: usize = 256;

fn login_page(status: StatusCode, csrf: &str, problem: Option<&str>, tls: bool) -> Response {
    let doc = html! {
        (maud::DOCTYPE)
        html lang="zh-CN" {
            head { meta charset="utf-8"; title { "登录 · 枫桥工作台" } }
            body style="font-family:sans-serif;max-width:28em;margin:3em auto" {
                h1 { "枫桥工作台" }
                p { "司法所、镇综合调委会和旗县使用。请用您在手机应用上的账号登录。" }
                @if let Some(p) = problem { p.error style="color:#b00;font-weight:bold" { (p) } }
                form method="post" action="/desk/login" {
                    input type="hidden" name="csrf" value=(csrf);
                    label { "用户名 " input name="username" autocomplete="username" required; }
                    br;
                    label { "密码 " input name="password" type="password" autocomplete="current-password" required; }
                    br;
                    button type="submit" { "登录" }
                }
            }
        }
    };
    let mut res = html_answer(status, doc.into_string());
    if let Ok(v) = HeaderValue::from_str(&set_cookie(SIGNIN_COOKIE, csrf, tls)) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// The sign-in form, with a fresh CSRF token in a cookie and in the form.
pub async fn login_form(ext: Extensions, uri: Uri, headers: HeaderMap) -> Response {
    login_page(StatusCode::OK, &random_token(), None, over_tls(&ext, &uri, &headers))
}

/// The sign-in form's fields.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

/// Signs in: the form's token must match its cookie; then the rate limiter and
/// the API's sign-in; on success a session cookie and the home page.
pub async fn login(
    State(st): State<AppState>,
    ext: Extensions,
    uri: Uri,
    headers: HeaderMap,
    form: Form<LoginForm>,
) -> Response {
    let tls = over_tls(&ext, &uri, &headers);
    let Form(f) = form;
    let fresh = random_token();
    let again = |status, problem: &str| login_page(status, &fresh, Some(problem), tls);
    if !cookie(&headers, SIGNIN_COOKIE).is_some_and(|c| same_token(&c, &f.csrf)) {
        return again(StatusCode::FORBIDDEN, "登录表单已失效，请重新输入后再登录。");
    }
    if f.username.is_empty()
        || f.username.chars().count() > MAX_CREDENTIAL_CHARS
        || f.password.chars().count() > MAX_CREDENTIAL_CHARS
    {
        return again(StatusCode::BAD_REQUEST, "用户名和密码须为 1 到 256 个字符。");
    }
    let address = ext.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    if let Err(wait) = st.login_limiter.check(&f.username, address) {
        tracing::info!("desk login rate-limited");
        let mut res =
            again(StatusCode::TOO_MANY_REQUESTS, &format!("登录尝试过于频繁，请 {} 秒后再试。", wait.as_secs().max(1)));
        if let Ok(v) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return res;
    }
    let req = LoginRequest { username: f.username, password: f.password, device_id: None };
    let tokens = match crate::http::auth_routes::login_checked(st.clone(), req).await {
        Ok(axum::Json(t)) => t,
        Err(e) if e.status == StatusCode::UNAUTHORIZED => {
            return again(StatusCode::UNAUTHORIZED, "用户名或密码不对。");
        }
        Err(e) => return DeskError::from(e).into_response(),
    };
    let store = st.store.clone();
    let hash = crate::auth::tokens::token_hash(&tokens.refresh_token);
    let family = match tokio::task::spawn_blocking(move || store.refresh(&hash)).await {
        Ok(Ok(Some(r))) => r.family,
        _ => {
            return DeskError::Api(crate::http::error::ApiError::internal("the new session was not found"))
                .into_response()
        }
    };
    let token = st.desk.start(tokens.user.id, family);
    let mut res = Redirect::to("/desk/").into_response();
    let h = res.headers_mut();
    for c in [set_cookie(SESSION_COOKIE, &token, tls), set_cookie(SIGNIN_COOKIE, "", tls)] {
        if let Ok(v) = HeaderValue::from_str(&c) {
            h.append(header::SET_COOKIE, v);
        }
    }
    res
}

/// A form with only its CSRF token.
#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

/// Signs out: ends the session and revokes its refresh family (audited as the
/// API's sign-out is).
pub async fn logout(
    State(st): State<AppState>,
    user: DeskUser,
    ext: Extensions,
    uri: Uri,
    headers: HeaderMap,
    Form(f): Form<CsrfOnly>,
) -> DeskResult<Response> {
    user.check_csrf(&f.csrf)?;
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        st.desk.end(&token);
    }
    let (store, id, family) = (st.store.clone(), user.caller.user.id, user.caller.family);
    tokio::task::spawn_blocking(move || -> Result<(), crate::store::StoreError> {
        store.revoke_family(family)?;
        store.append_audit(&[AuditEntry::new(AuditAction::Logout, Some(id), Some(family.to_string()), "ok")])
    })
    .await??;
    let tls = over_tls(&ext, &uri, &headers);
    let mut res = Redirect::to("/desk/login").into_response();
    if let Ok(v) = HeaderValue::from_str(&set_cookie(SESSION_COOKIE, "", tls)) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(res)
}

/// The home page: who is signed in, with which roles, and where to go.
pub async fn home(State(st): State<AppState>, user: DeskUser) -> DeskResult<Response> {
    let (auth, rec) = (st.auth.clone(), user.caller.user.clone());
    let info =
        tokio::task::spawn_blocking(move || auth.user_info(&rec)).await?.map_err(crate::http::error::ApiError::from)?;
    let body = html! {
        h1 { "您好，" (user.caller.user.display_name) }
        table {
            tr { th { "身份" } th { "单位" } }
            @for r in &info.roles {
                tr { td { (r.grant.role.label_zh()) } td { (r.unit_name) } }
            }
        }
        ul {
            li { a href="/desk/cases" { "案件查询" } "：按案号、当事人姓名查找本辖区的案件" }
            @if user.may(fengqiao_domain::permissions::Action::ReviewCaseFile) {
                li { a href="/desk/review" { "案卷评查" } "：已结案卷的清单、缺项、照片；通过、退回或更正等级难度" }
            }
            @if user.may(fengqiao_domain::permissions::Action::PaySubsidies) {
                li { a href="/desk/subsidies" { "补贴台账" } "：逾期在前；建支付批次、登记已付、导出" }
            }
        }
        p.noprint { small { "空闲 " (st.policy.auth.desk_idle_mins) " 分钟后自动退出。" } }
    };
    Ok(page("工作台", &user, body))
}
