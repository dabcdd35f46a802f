//! The county's import on the desk: a workbook (`.xlsx`) or CSV file uploaded
//! from a form, checked first (a dry run listing every problem by sheet, row
//! and column, nothing written), then imported. The API's import path does the
//! work ([`crate::http::admin_routes::run_import`]: the same checks and audit).

use axum::extract::{Multipart, State};
use axum::response::Response;
use maud::html;

use super::page::{csrf_field, page, DeskError, DeskResult, DeskUser};
use crate::admin::import::{Counts, ImportOptions, ImportReport};
use crate::http::AppState;

fn gate(user: &DeskUser) -> DeskResult<()> {
    if crate::admin::is_admin(&user.caller.user.grants) {
        Ok(())
    } else {
        Err(DeskError::NotFound)
    }
}

fn form(user: &DeskUser) -> maud::Markup {
    html! {
        form.box method="post" action="/desk/import" enctype="multipart/form-data" {
            (csrf_field(user))
            label { "文件（.xlsx 工作簿或 .csv） " input type="file" name="file" accept=".xlsx,.csv" required; }
            label { input type="checkbox" name="dry_run" value="1" checked; " 只检查，不写入（先检查，再正式导入）" }
            label { input type="checkbox" name="update_roles" value="1"; " 允许修改已有用户的身份" }
            button type="submit" { "提交" }
        }
    }
}

/// The import form.
pub async fn import_form(user: DeskUser) -> DeskResult<Response> {
    gate(&user)?;
    let body = html! {
        h1 { "导入组织、用户和户" }
        p { "先勾选“只检查”提交一次：列出每个问题所在的工作表、行和列，什么都不写入。改好后取消勾选再提交。" }
        (form(&user))
    };
    Ok(page("导入", &user, body))
}

fn counts(name: &str, c: &Counts) -> maud::Markup {
    html! { tr { td { (name) } td { (c.created) } td { (c.updated) } td { (c.unchanged) } td { (c.invalid) } } }
}

/// Checks or imports the uploaded file; shows the report.
pub async fn import(State(st): State<AppState>, user: DeskUser, mut parts: Multipart) -> DeskResult<Response> {
    let bad = |m: &str| DeskError::Refused(m.to_string());
    let (mut csrf, mut file, mut dry_run, mut update_roles) = (String::new(), None, false, false);
    while let Some(field) = parts.next_field().await.map_err(|_| bad("上传的表单读不出来，请重新选择文件提交"))?
    {
        match field.name().unwrap_or("") {
            "csrf" => csrf = field.text().await.map_err(|_| bad("表单读不出来"))?,
            "dry_run" => dry_run = true,
            "update_roles" => update_roles = true,
            "file" => {
                let name = field.file_name().unwrap_or("upload").chars().take(200).collect::<String>();
                let bytes = field.bytes().await.map_err(|_| bad("文件读不出来或太大"))?;
                file = Some((name, bytes.to_vec()));
            }
            _ => {}
        }
    }
    user.check_csrf(&csrf)?;
    gate(&user)?;
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return Err(bad("请选择要导入的文件"));
    };
    let opts = ImportOptions {
        dry_run,
        skip_invalid: false,
        update_roles,
        confirm_admin_grants: false,
        actor: Some(user.caller.user.id),
    };
    let report: ImportReport =
        crate::http::admin_routes::run_import(&st, &user.caller, name.clone(), bytes, opts).await?;
    let verdict = if report.written {
        "已导入。"
    } else if report.problems.is_empty() {
        "检查通过，没有问题；什么都没有写入。取消“只检查”再提交即可导入。"
    } else {
        "有问题，什么都没有写入。请按下表改好后重新提交。"
    };
    let body = html! {
        h1 { "导入：" (name) }
        p class=@if report.problems.is_empty() { "ok" } @else { "error" } { (verdict) }
        table {
            tr { th { "" } th { "新增" } th { "修改" } th { "不变" } th { "有误" } }
            (counts("组织", &report.units)) (counts("用户", &report.users)) (counts("户", &report.households))
        }
        @if !report.problems.is_empty() {
            h2 { "问题（" (report.problems.len()) "）" }
            table.problems {
                tr { th { "工作表" } th { "行" } th { "列" } th { "表头" } th { "问题" } }
                @for p in &report.problems {
                    tr { td { (p.sheet) } td { (p.row) } td { (p.column) } td { (p.header) } td { (p.message) } }
                }
            }
        }
        (form(&user))
    };
    Ok(page("导入", &user, body))
}
