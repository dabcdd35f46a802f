//! The county's administration on the desk: users (create, disable, enable,
//! reset password) and their devices (revoke), the audit log (searchable, as
//! the API's export shows it), and the policy in force with a check of a
//! policy file before it is applied. Every change goes through the API's admin
//! path ([`crate::http::admin_routes::act`]: same checks, same audit entries).

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::Utc;
use fengqiao_domain::policy::Policy;
use fengqiao_domain::{EntityKind, Record, Role, RoleGrant};
use maud::html;
use serde::Deserialize;
use uuid::Uuid;

use super::page::{csrf_field, local_time, page, DeskError, DeskResult, DeskUser};
use crate::admin::users::{self, NewUser};
use crate::admin::{audit, is_admin};
use crate::http::admin_routes::{act, not_self};
use crate::http::AppState;
use crate::store::{AuditAction, AuditEntry, AuditQuery};

fn gate(user: &DeskUser) -> DeskResult<()> {
    if is_admin(&user.caller.user.grants) {
        Ok(())
    } else {
        Err(DeskError::NotFound)
    }
}

fn roles_zh(grants: &[RoleGrant], units: &std::collections::HashMap<Uuid, String>) -> String {
    grants
        .iter()
        .map(|g| format!("{}（{}）", g.role.label_zh(), units.get(&g.unit_id).cloned().unwrap_or_default()))
        .collect::<Vec<_>>()
        .join("、")
}

async fn unit_names(st: &AppState) -> DeskResult<Vec<(Uuid, String)>> {
    let store = st.store.clone();
    let mut units: Vec<(Uuid, String)> = tokio::task::spawn_blocking(move || store.records_of_kind(EntityKind::Unit))
        .await??
        .into_iter()
        .filter_map(|r| if let Record::Unit(u) = r { Some((u.id, u.name)) } else { None })
        .collect();
    units.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(units)
}

/// Every user, and the form to create one.
pub async fn users_page(State(st): State<AppState>, user: DeskUser) -> DeskResult<Response> {
    gate(&user)?;
    let store = st.store.clone();
    let mut all = tokio::task::spawn_blocking(move || store.users()).await??;
    all.sort_by(|a, b| a.username.cmp(&b.username));
    let units = unit_names(&st).await?;
    let names: std::collections::HashMap<Uuid, String> = units.iter().cloned().collect();
    let body = html! {
        h1 { "用户与设备" }
        table.users {
            tr { th { "用户名" } th { "姓名" } th { "身份" } th { "状态" } }
            @for u in &all {
                tr {
                    td { a href={ "/desk/users/" (u.id) } { (u.username) } }
                    td { (u.display_name) }
                    td { (roles_zh(&u.grants, &names)) }
                    td { @if u.disabled { span.overdue { "已停用" } } @else { "正常" } }
                }
            }
        }
        form.box method="post" action="/desk/users" {
            (csrf_field(&user))
            h2 { "新建用户" }
            label { "用户名 " input name="username" required maxlength="64"; }
            label { "姓名 " input name="display_name" required maxlength="64"; }
            label { "初始密码（首次登录须修改） " input name="password" type="password" required; }
            label { "身份 " select name="role" { @for r in Role::ALL { option value=(r.code()) { (r.label_zh()) } } } }
            label { "单位 " select name="unit" { @for (id, n) in &units { option value=(id) { (n) } } } }
            button type="submit" { "新建" }
        }
    };
    Ok(page("用户与设备", &user, body))
}

/// The new-user form.
#[derive(Debug, Deserialize)]
pub struct NewUserForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    unit: String,
}

/// Creates a user (audited as the API's create is).
pub async fn create_user(
    State(st): State<AppState>,
    user: DeskUser,
    Form(f): Form<NewUserForm>,
) -> DeskResult<Response> {
    user.check_csrf(&f.csrf)?;
    gate(&user)?;
    let role =
        Role::ALL.into_iter().find(|r| r.code() == f.role).ok_or_else(|| DeskError::Refused("请选择身份".into()))?;
    let unit_id = Uuid::parse_str(&f.unit).map_err(|_| DeskError::Refused("请选择单位".into()))?;
    let new = NewUser {
        username: f.username,
        display_name: f.display_name,
        password: f.password,
        grants: vec![RoleGrant { role, unit_id }],
    };
    let (state, actor, family) = (st.clone(), user.caller.user.id, user.caller.family);
    let created = tokio::task::spawn_blocking(move || -> Result<_, crate::http::error::ApiError> {
        let r = users::create(state.store.as_ref(), &state.policy, new);
        let (target, outcome) = match &r {
            Ok(u) => (Some(u.id.to_string()), "ok".to_string()),
            Err(crate::admin::AdminError::Invalid(code, _)) => (None, (*code).to_string()),
            Err(_) => (None, "internal".to_string()),
        };
        let device = state.auth.device_of(actor, family)?;
        state
            .store
            .append_audit(&[AuditEntry::new(AuditAction::UserCreate, Some(actor), target, outcome).device(device)])?;
        Ok(r?)
    })
    .await??;
    Ok(Redirect::to(&format!("/desk/users/{}", created.id)).into_response())
}

/// One user: roles, state, devices; disable or enable, reset the password,
/// revoke a device.
pub async fn user_page(State(st): State<AppState>, user: DeskUser, Path(id): Path<Uuid>) -> DeskResult<Response> {
    gate(&user)?;
    let store = st.store.clone();
    let (u, devices) = tokio::task::spawn_blocking(move || -> Result<_, crate::http::error::ApiError> {
        let u = store.user(id)?;
        let d = match &u {
            Some(_) => users::devices(store.as_ref(), id, Utc::now())?,
            None => vec![],
        };
        Ok((u, d))
    })
    .await??;
    let u = u.ok_or(DeskError::NotFound)?;
    let names: std::collections::HashMap<Uuid, String> = unit_names(&st).await?.into_iter().collect();
    let me = u.id == user.caller.user.id;
    let body = html! {
        h1 { (u.display_name) "（" (u.username) "）" }
        p { "身份：" (roles_zh(&u.grants, &names)) }
        p { "状态：" @if u.disabled { span.overdue { "已停用" } } @else { "正常" } @if u.must_change_password { "；须修改密码" } }
        @if !me {
            form method="post" action={ "/desk/users/" (u.id) @if u.disabled { "/enable" } @else { "/disable" } } {
                (csrf_field(&user))
                button type="submit" { @if u.disabled { "恢复使用" } @else { "停用（立即退出所有设备）" } }
            }
            form.box method="post" action={ "/desk/users/" (u.id) "/password" } {
                (csrf_field(&user))
                label { "重置密码为（临时，下次登录须修改） " input name="new_password" type="password" required; }
                button type="submit" { "重置密码" }
            }
        }
        h2 { "设备" }
        table.devices {
            tr { th { "设备" } th { "在用会话" } th { "首次" } th { "最近" } th { "" } }
            @for d in &devices {
                tr {
                    td { @match d.device_id { Some(x) => code { (x) }, None => "工作台或未登记设备" } }
                    td { (d.active_sessions) }
                    td { (local_time(&st, d.first_seen)) }
                    td { (local_time(&st, d.last_seen)) }
                    td {
                        @if let Some(dev) = d.device_id {
                            form method="post" action={ "/desk/users/" (u.id) "/devices/" (dev) "/revoke" } {
                                (csrf_field(&user))
                                button type="submit" { "吊销（手机上的数据将被清除）" }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page(&u.display_name, &user, body))
}

/// A form with its CSRF token only.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// Disables a user: their sessions, the desk's included, end at once.
pub async fn disable(
    State(st): State<AppState>,
    user: DeskUser,
    Path(id): Path<Uuid>,
    Form(f): Form<CsrfForm>,
) -> DeskResult<Response> {
    user.check_csrf(&f.csrf)?;
    not_self(&user.caller, id, "停用自己的账号")?;
    act(&st, &user.caller, AuditAction::UserDisable, Some(id), move |s| {
        users::set_disabled(s.store.as_ref(), id, true)
    })
    .await?;
    Ok(Redirect::to(&format!("/desk/users/{id}")).into_response())
}

/// Enables a user again.
pub async fn enable(
    State(st): State<AppState>,
    user: DeskUser,
    Path(id): Path<Uuid>,
    Form(f): Form<CsrfForm>,
) -> DeskResult<Response> {
    user.check_csrf(&f.csrf)?;
    act(&st, &user.caller, AuditAction::UserEnable, Some(id), move |s| {
        users::set_disabled(s.store.as_ref(), id, false)
    })
    .await?;
    Ok(Redirect::to(&format!("/desk/users/{id}")).into_response())
}

/// The password-reset form.
#[derive(Debug, Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    new_password: String,
}

/// Resets a user's password (temporary; they choose a new one at next sign-in).
pub async fn reset_password(
    State(st): State<AppState>,
    user: DeskUser,
    Path(id): Path<Uuid>,
    Form(f): Form<ResetForm>,
) -> DeskResult<Response> {
    user.check_csrf(&f.csrf)?;
    not_self(&user.caller, id, "重置自己的密码（请在“修改密码”中自己修改）")?;
    act(&st, &user.caller, AuditAction::PasswordReset, Some(id), move |s| {
        users::reset_password(s.store.as_ref(), &s.policy, id, &f.new_password)
    })
    .await?;
    Ok(Redirect::to(&format!("/desk/users/{id}")).into_response())
}

/// Revokes a device: every session of the user on it ends; the phone wipes.
pub async fn revoke_device(
    State(st): State<AppState>,
    user: DeskUser,
    Path((id, device)): Path<(Uuid, Uuid)>,
    Form(f): Form<CsrfForm>,
) -> DeskResult<Response> {
    user.check_csrf(&f.csrf)?;
    act(&st, &user.caller, AuditAction::DeviceRevoke, Some(id), move |s| {
        users::revoke_device(s.store.as_ref(), id, device)
    })
    .await?;
    Ok(Redirect::to(&format!("/desk/users/{id}")).into_response())
}

/// Query of the audit log page.
#[derive(Debug, Deserialize)]
pub struct AuditForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    target: String,
}

/// The audit log, newest last, filtered by action and target (a user or record id).
pub async fn audit_page(
    State(st): State<AppState>,
    user: DeskUser,
    Query(q): Query<AuditForm>,
) -> DeskResult<Response> {
    gate(&user)?;
    let action: Option<AuditAction> = match q.action.as_str() {
        "" => None,
        a => Some(
            serde_json::from_value(serde_json::Value::String(a.into()))
                .map_err(|_| DeskError::Refused("没有这种操作".into()))?,
        ),
    };
    let target = Some(q.target.trim().to_string()).filter(|t| !t.is_empty());
    let query = AuditQuery { actor: None, target, action, from: None, to: None, after: 0, limit: 10_000 };
    let store = st.store.clone();
    let entries = tokio::task::spawn_blocking(move || store.audit(&query)).await??;
    let shown = &entries[entries.len().saturating_sub(500)..];
    let body = html! {
        h1 { "审计日志" }
        form method="get" action="/desk/audit" {
            label { "操作代码（如 login_failed、sync_op） " input name="action" value=(q.action) maxlength="40"; }
            label { "对象（用户或记录编号） " input name="target" value=(q.target) maxlength="80"; }
            button type="submit" { "查找" }
        }
        p { "共 " (entries.len()) " 条，显示最近 " (shown.len()) " 条。" }
        table.audit {
            tr { @for h in audit::CSV_HEADERS { th { (h) } } }
            @for e in shown {
                tr { @for c in audit::cells(e) { td { (super::subsidies::cell_text(&c)) } } }
            }
        }
    };
    Ok(page("审计日志", &user, body))
}

/// The policy in force, and a form to check a policy file.
pub async fn policy_page(State(st): State<AppState>, user: DeskUser) -> DeskResult<Response> {
    gate(&user)?;
    Ok(page("政策", &user, policy_body(&st, &user, None)))
}

fn policy_body(st: &AppState, user: &DeskUser, checked: Option<(bool, String)>) -> maud::Markup {
    html! {
        h1 { "现行政策" }
        p { "版本 " code { (st.policy.version()) } "。改动政策：先在下面检查文件，再把它放到数据目录的 policy.toml 并重启服务器。" }
        @if let Some((ok, message)) = checked {
            p class=@if ok { "ok" } @else { "error" } { (message) }
        }
        form.box method="post" action="/desk/policy/check" {
            (csrf_field(user))
            label { "粘贴要检查的政策文件（TOML） " br; textarea name="toml" rows="12" cols="80" {} }
            button type="submit" { "检查" }
        }
        pre { (st.policy.to_toml()) }
    }
}

/// The policy-check form.
#[derive(Debug, Deserialize)]
pub struct PolicyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    toml: String,
}

/// Checks a policy file as `check-policy` and `serve` do (unknown keys, every
/// invariant); nothing is applied.
pub async fn policy_check(
    State(st): State<AppState>,
    user: DeskUser,
    Form(f): Form<PolicyForm>,
) -> DeskResult<Response> {
    user.check_csrf(&f.csrf)?;
    gate(&user)?;
    let checked = match Policy::from_toml(&f.toml) {
        Ok(p) => (true, format!("检查通过（版本 {}）。", p.version())),
        Err(e) => (false, format!("不能使用：{e}")),
    };
    Ok(page("政策", &user, policy_body(&st, &user, Some(checked))))
}
