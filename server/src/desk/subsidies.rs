//! The county's subsidy ledger on the desk: overdue first (the API's ledger and
//! its cells), a payment batch made from the approved items ticked, a batch
//! marked paid with its payment reference, and the ledger exported as xlsx or
//! CSV (the API's export code). Batches and payments are `create_payment_batch`
//! and `mark_batch_paid` operations through the phones' path.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::Utc;
use fengqiao_domain::permissions::Action;
use fengqiao_domain::subsidy::{PaymentBatch, SubsidyStatus};
use fengqiao_domain::wire::{CreatePaymentBatch, MarkBatchPaid, Op};
use fengqiao_domain::Record;
use maud::html;
use serde::Deserialize;
use uuid::Uuid;

use super::page::{csrf_field, local_time, page, yuan, DeskError, DeskResult, DeskUser};
use super::read::latest;
use crate::http::report_routes::{send_table, Format};
use crate::http::AppState;
use crate::reports::render::Cell;
use crate::reports::subsidies::{ledger_cells, lines, subsidies, SubsidyLine, LEDGER_HEADERS};

/// The ledger's gate: the county that pays (as the API's `county_admin`); not
/// found for anyone else.
fn county(user: &DeskUser) -> DeskResult<()> {
    if user.may(Action::PaySubsidies) {
        Ok(())
    } else {
        Err(DeskError::NotFound)
    }
}

/// A cell as the page shows it (yuan with two decimals, per mille as a percentage).
pub(crate) fn cell_text(c: &Cell) -> String {
    match c {
        Cell::Text(s) => s.clone(),
        Cell::Int(n) => n.to_string(),
        Cell::Yuan(f) => yuan(*f),
        Cell::Permille(p) => format!("{}.{}%", p / 10, p % 10),
    }
}

type Ledger = (Vec<SubsidyLine>, Vec<Vec<Cell>>, Vec<PaymentBatch>);

async fn ledger(st: &AppState, user: &DeskUser) -> DeskResult<Ledger> {
    let (store, policy, grants) = (st.store.clone(), st.policy.clone(), user.caller.user.grants.clone());
    Ok(tokio::task::spawn_blocking(move || -> Result<Ledger, crate::store::StoreError> {
        let rows = lines(subsidies(store.as_ref(), &grants, None)?, Utc::now(), &policy);
        let cells = ledger_cells(store.as_ref(), &rows, &policy)?;
        let mut batches: Vec<PaymentBatch> = latest(store.as_ref(), &grants, |r| matches!(r, Record::PaymentBatch(_)))?
            .into_iter()
            .filter_map(|r| if let Record::PaymentBatch(b) = r { Some(b) } else { None })
            .collect();
        batches.sort_by_key(|b| (b.paid_at.is_some(), std::cmp::Reverse(b.created_at)));
        Ok((rows, cells, batches))
    })
    .await??)
}

/// The ledger page: every subsidy, overdue first; approved ones can be ticked
/// into a batch; the batches with their payment.
pub async fn ledger_page(State(st): State<AppState>, user: DeskUser) -> DeskResult<Response> {
    county(&user)?;
    let (rows, cells, batches) = ledger(&st, &user).await?;
    let body = html! {
        h1 { "补贴台账" }
        p.noprint { "导出：" a href="/desk/subsidies/export?format=xlsx" { "Excel (xlsx)" } " · " a href="/desk/subsidies/export?format=csv" { "CSV" } }
        form method="post" action="/desk/subsidies/batches" {
            (csrf_field(&user))
            table.ledger {
                tr { th { "选" } @for h in LEDGER_HEADERS { th { (h) } } }
                @for (line, row) in rows.iter().zip(&cells) {
                    tr class=@if line.overdue { "overdue" } {
                        td {
                            @if line.subsidy.status == SubsidyStatus::Approved {
                                input type="checkbox" name="id" value=(line.subsidy.id);
                            }
                        }
                        @for c in row { td { (cell_text(c)) } }
                    }
                }
            }
            button type="submit" { "把勾选的已批准补贴建成支付批次" }
        }
        h2 { "支付批次" }
        @if batches.is_empty() { p { "还没有支付批次。" } }
        @for b in &batches {
            div.box.batch {
                p {
                    "批次 " code { (b.id) } "：" (b.subsidy_ids.len()) " 笔，共 " (yuan(b.total_fen)) " 元，"
                    (local_time(&st, b.created_at)) " 建立；"
                    @match b.paid_at {
                        Some(t) => { span.ok { "已支付（" (local_time(&st, t)) "，凭证 " (b.payment_ref) "）" } }
                        None => { span.overdue { "待支付" } }
                    }
                }
                @if b.paid_at.is_none() {
                    form method="post" action={ "/desk/subsidies/batches/" (b.id) "/paid" } {
                        (csrf_field(&user))
                        label { "支付凭证号 " input name="payment_ref" required maxlength="100"; }
                        button type="submit" { "登记已支付" }
                    }
                }
            }
        }
    };
    Ok(page("补贴台账", &user, body))
}

/// Makes a payment batch of the ticked subsidies (`id` repeated, with `csrf`).
pub async fn create_batch(
    State(st): State<AppState>,
    user: DeskUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> DeskResult<Response> {
    let csrf = pairs.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str()).unwrap_or("");
    user.check_csrf(csrf)?;
    county(&user)?;
    let mut ids = Vec::new();
    for (k, v) in &pairs {
        if k == "id" {
            ids.push(Uuid::parse_str(v).map_err(|_| DeskError::Refused("勾选的补贴编号不对".into()))?);
        }
    }
    if ids.is_empty() {
        return Err(DeskError::Refused("请先勾选要支付的已批准补贴".into()));
    }
    let op = Op::CreatePaymentBatch(CreatePaymentBatch { id: Uuid::now_v7(), subsidy_ids: ids });
    crate::http::subsidy_routes::apply_as(&st, &user.caller, op).await?;
    Ok(Redirect::to("/desk/subsidies").into_response())
}

/// The mark-paid form.
#[derive(Debug, Deserialize)]
pub struct PaidForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    payment_ref: String,
}

/// Marks a batch paid with its payment reference.
pub async fn mark_paid(
    State(st): State<AppState>,
    user: DeskUser,
    Path(id): Path<Uuid>,
    Form(f): Form<PaidForm>,
) -> DeskResult<Response> {
    user.check_csrf(&f.csrf)?;
    county(&user)?;
    let op = Op::MarkBatchPaid(MarkBatchPaid { batch_id: id, payment_ref: f.payment_ref });
    crate::http::subsidy_routes::apply_as(&st, &user.caller, op).await?;
    Ok(Redirect::to("/desk/subsidies").into_response())
}

/// Query of the export.
#[derive(Debug, Deserialize)]
pub struct ExportQuery {
    #[serde(default)]
    format: String,
}

/// The ledger as xlsx or CSV (the API's export).
pub async fn export(State(st): State<AppState>, user: DeskUser, Query(q): Query<ExportQuery>) -> DeskResult<Response> {
    county(&user)?;
    let format = match q.format.as_str() {
        "csv" => Format::Csv,
        "xlsx" | "" => Format::Xlsx,
        _ => return Err(DeskError::Refused("导出格式只有 xlsx 和 csv".into())),
    };
    let (_, cells, _) = ledger(&st, &user).await?;
    Ok(send_table(format, "补贴台账", "subsidy-ledger", &LEDGER_HEADERS, &cells)?)
}
