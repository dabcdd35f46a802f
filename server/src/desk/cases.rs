//! Cases on the desk: search by case number, party name or identity number;
//! the case page (the whole file, checklist, photos, flow table, deadlines);
//! the judicial office's review queue and its review form, whose decision is a
//! `review_case_file` operation through the phones' path; photos inline.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::Utc;
use fengqiao_domain::disputes::{ClosingOutcome, Difficulty, Dispute};
use fengqiao_domain::id_number::IdNumber;
use fengqiao_domain::ladder::{DeadlineState, Grade};
use fengqiao_domain::permissions::{sees_whole_id_numbers, Action};
use fengqiao_domain::subsidy::{missing_items, CaseReview};
use fengqiao_domain::wire::Op;
use fengqiao_domain::{Record, RoleGrant};
use maud::{html, Markup};
use serde::Deserialize;
use uuid::Uuid;

use super::page::{csrf_field, local_time, page, yuan, DeskError, DeskResult, DeskUser};
use super::read::{case_file, visible_dispute, CaseFile, Names};
use crate::http::AppState;
use crate::store::desk_index;

/// Rows a list shows at most.
const MAX_ROWS: usize = 200;

/// The Chinese of a deadline state.
pub fn deadline_zh(s: DeadlineState) -> &'static str {
    match s {
        DeadlineState::Ok => "正常",
        DeadlineState::Approaching => "临近期限",
        DeadlineState::Overdue => "已逾期",
    }
}

fn kind_zh(st: &AppState, code: &str) -> String {
    st.policy.disputes.kinds.iter().find(|k| k.code == code).map(|k| k.label_zh.clone()).unwrap_or_else(|| code.into())
}

fn parties(d: &Dispute) -> String {
    d.parties.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join("、")
}

/// Query of the case search.
#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    /// Rows skipped (the page's start).
    #[serde(default)]
    from: usize,
}

/// Text as a URL query value: unreserved bytes kept, every other byte `%XX`.
fn query_escaped(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The disputes of these ids, in their order (one gone since is left out).
fn read_disputes(store: &dyn crate::store::Store, ids: &[Uuid]) -> Result<Vec<Dispute>, crate::store::StoreError> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(Record::Dispute(d)) = store.record(fengqiao_domain::EntityKind::Dispute, *id)? {
            out.push(d);
        }
    }
    Ok(out)
}

/// The case list and search: the caller's cases (as their phone would pull
/// them), open ones first, overdue first, a page of [`MAX_ROWS`] at a time;
/// `q` matches a case number, a party's name, or (a whole identity number) a
/// party's household.
pub async fn search(State(st): State<AppState>, user: DeskUser, Query(q): Query<SearchQuery>) -> DeskResult<Response> {
    let needle = q.q.trim().chars().take(64).collect::<String>();
    let (store, grants, policy) = (st.store.clone(), user.caller.user.grants.clone(), st.policy.clone());
    let id_number = IdNumber::parse(&needle).ok();
    let (n2, from) = (needle.clone(), q.from);
    let (shown, found, total) = tokio::task::spawn_blocking(move || -> Result<_, crate::store::StoreError> {
        let households = match &id_number {
            Some(n) => desk_index::households_by_id_number(store.as_ref(), &grants, n.as_str())?,
            None => Default::default(),
        };
        let all = desk_index::disputes_in_order(store.as_ref(), &grants, &policy, &|_| true)?;
        let total = all.len();
        let hits: Vec<Uuid> = all.into_iter().filter(|s| s.matches(&n2, &households)).map(|s| s.id).collect();
        let page: Vec<Uuid> = hits.iter().skip(from).take(MAX_ROWS).copied().collect();
        Ok((read_disputes(store.as_ref(), &page)?, hits.len(), total))
    })
    .await??;
    let now = Utc::now();
    let next =
        (from + MAX_ROWS < found).then(|| format!("/desk/cases?q={}&from={}", query_escaped(&needle), from + MAX_ROWS));
    let body = html! {
        h1 { "案件查询" }
        form method="get" action="/desk/cases" {
            label { "案号、当事人姓名或身份证号 " input name="q" value=(needle) maxlength="64"; }
            button type="submit" { "查询" }
        }
        p {
            "辖区内共 " (total) " 件；符合 " (found) " 件"
            @if found > shown.len() { "，显示第 " (from.min(found) + 1) "–" (from + shown.len()) " 件" }
            "。"
        }
        (case_table(&st, &shown, now))
        @if let Some(href) = next { p.noprint { a.next href=(href) { "下一页" } } }
    };
    Ok(page("案件查询", &user, body))
}

fn case_table(st: &AppState, list: &[Dispute], now: chrono::DateTime<Utc>) -> Markup {
    html! {
        table.cases {
            tr { th { "案号" } th { "当事人" } th { "类型" } th { "等级" } th { "层级" } th { "期限" } th { "状态" } }
            @for d in list {
                @let state = d.deadline_state(now, &st.policy);
                tr {
                    td { a href={ "/desk/cases/" (d.id) } { (d.case_number) } }
                    td { (parties(d)) }
                    td { (kind_zh(st, &d.kind)) }
                    td { (d.grade.label_zh()) }
                    td { (d.level.label_zh()) }
                    td class=@if state == DeadlineState::Overdue && d.closing.is_none() { "overdue" } {
                        (local_time(st, d.deadline(&st.policy))) " "
                        @if d.closing.is_none() { (deadline_zh(state)) }
                    }
                    td { @match &d.closing { Some(c) => { "已结案（" (outcome_zh(c.outcome)) "）" } None => { "办理中" } } }
                }
            }
        }
    }
}

fn outcome_zh(o: ClosingOutcome) -> &'static str {
    match o {
        ClosingOutcome::Resolved => "调解成功",
        ClosingOutcome::NotResolved => "调解不成",
        ClosingOutcome::ReferredToCourt => "引导诉讼",
    }
}

/// A visible case with its file, or the not-found page.
pub async fn load_case(st: &AppState, user: &DeskUser, id: Uuid) -> DeskResult<(Dispute, Vec<Uuid>, CaseFile)> {
    let (store, actor) = (st.store.clone(), user.caller.actor.clone());
    tokio::task::spawn_blocking(move || -> DeskResult<_> {
        let (d, scope) = visible_dispute(store.as_ref(), &actor, id)?.ok_or(DeskError::NotFound)?;
        let f = case_file(store.as_ref(), &actor, &d, &scope)?;
        Ok((d, scope, f))
    })
    .await?
}

/// A household's identity number as the user may read it: whole for the roles
/// that need it ([`sees_whole_id_numbers`]), masked for everyone else.
fn id_shown(user: &DeskUser, n: &IdNumber) -> String {
    if user.caller.user.grants.iter().any(|g: &RoleGrant| sees_whole_id_numbers(g.role)) {
        n.as_str().to_string()
    } else {
        n.masked()
    }
}

/// The case page: the whole file, its checklist and photos, the flow table and
/// the deadline; for the judicial office of its town, the review form.
pub async fn case_page(State(st): State<AppState>, user: DeskUser, Path(id): Path<Uuid>) -> DeskResult<Response> {
    let (d, scope, f) = load_case(&st, &user, id).await?;
    let store = st.store.clone();
    let (ids_flow, ids_units): (Vec<Uuid>, Vec<Uuid>) =
        (f.flow.iter().map(|e| e.actor).collect(), f.flow.iter().map(|e| e.handler_unit).collect());
    let names = tokio::task::spawn_blocking(move || -> Result<_, crate::store::StoreError> {
        let mut n = Names::default();
        let users: Vec<String> = ids_flow.iter().map(|u| n.user(store.as_ref(), *u)).collect::<Result<_, _>>()?;
        let units: Vec<String> = ids_units.iter().map(|u| n.unit(store.as_ref(), *u)).collect::<Result<_, _>>()?;
        Ok((users, units))
    })
    .await??;
    let now = Utc::now();
    let state = d.deadline_state(now, &st.policy);
    let missing = missing_items(&d.case_file, &st.policy);
    let reviewable = user.caller.actor.may(Action::ReviewCaseFile, &scope)
        && d.closing.as_ref().map(|c| c.outcome) == Some(ClosingOutcome::Resolved);
    let body = html! {
        h1 { "案件 " (d.case_number) }
        p.noprint {
            a href={ "/desk/cases/" (d.id) "/print/agreement" } { "打印调解协议书" } " · "
            a href={ "/desk/cases/" (d.id) "/print/intake" } { "受理登记表" } " · "
            a href={ "/desk/cases/" (d.id) "/print/notice" } { "权利义务告知书" } " · "
            a href={ "/desk/cases/" (d.id) "/print/cover" } { "卷宗封面" }
        }
        table {
            tr { th { "类型" } td { (kind_zh(&st, &d.kind)) } th { "等级 / 难度" } td { (d.grade.label_zh()) " / " (d.analysis.difficulty.label_zh()) } }
            tr { th { "当前层级" } td { (d.level.label_zh()) } th { "受理时间" } td { (local_time(&st, d.registered_at)) } }
            tr {
                th { "办理期限" }
                td class=@if state == DeadlineState::Overdue && d.closing.is_none() { "overdue" } {
                    (local_time(&st, d.deadline(&st.policy))) @if d.closing.is_none() { "（" (deadline_zh(state)) "）" }
                }
                th { "状态" }
                td { @match &d.closing { Some(c) => { "已结案：" (outcome_zh(c.outcome)) "，" (local_time(&st, c.closed_at)) " " (c.note) } None => { "办理中" } } }
            }
            tr { th { "事由" } td colspan="3" { (d.summary) } }
            tr { th { "起因 / 后果" } td colspan="3" { (d.analysis.cause) " / " (d.analysis.consequences) } }
        }
        h2 { "当事人" }
        table {
            tr { th { "姓名" } th { "电话" } th { "户 / 身份证号" } }
            @for p in &d.parties {
                tr {
                    td.party { (p.name) }
                    td { (p.phone.clone().unwrap_or_default()) }
                    td {
                        @if let Some(h) = p.household_id.and_then(|h| f.households.get(&h)) {
                            (h.head_name) " "
                            @if let Some(n) = &h.id_number { span.idno { (id_shown(&user, n)) } }
                        }
                    }
                }
            }
        }
        h2 { "卷宗清单" }
        table.checklist {
            tr { th { "材料" } th { "要求" } th { "情况" } }
            @for item in &st.policy.subsidy.checklist {
                @let present = d.case_file.iter().any(|p| p.item == item.code);
                tr {
                    td { (item.label_zh) }
                    td { @if item.required { "必备" } @else { "视情况" } }
                    td class=@if present { "present" } @else if item.required { "missing" } @else { "" } {
                        @if present { "已有" } @else if item.required { "缺" } @else { "—" }
                    }
                }
            }
        }
        @if !missing.is_empty() { p.missing { "缺少必备材料 " (missing.len()) " 项。" } }
        h2 { "照片" }
        @if f.photos.is_empty() { p { "没有照片。" } }
        div {
            @for a in &f.photos {
                figure style="display:inline-block" {
                    img.photo src={ "/desk/photos/" (a.sha256) } alt=(a.caption);
                    figcaption { (a.caption) @if let Some(i) = &a.file_item { "（" (item_label(&st, i)) "）" } }
                }
            }
        }
        h2 { "调解记录" }
        @for s in &f.sessions {
            p { (local_time(&st, s.held_at)) " · " (s.place) " · " @if s.agreed { "达成协议" } @else { "未达成" } br; (s.record) }
        }
        @for a in &f.agreements {
            h3 { "调解协议" }
            p { (local_time(&st, a.signed_at)) "：" (a.terms) @if a.sum_fen != 0 { "（金额 " (yuan(a.sum_fen)) " 元）" } br; (a.obligations) }
        }
        @for u in &f.follow_ups {
            p { "回访 " (local_time(&st, u.at)) "：" @if u.fulfilled { "已履行" } @else { "未履行" } " " (u.note) }
        }
        h2 { "流向表" }
        table.flow {
            tr { th { "步" } th { "事项" } th { "层级" } th { "办理单位" } th { "经办人" } th { "时间" } th { "说明" } }
            @for (i, e) in f.flow.iter().enumerate() {
                tr {
                    td { (e.step) } td { (crate::reports::flow::action_zh(e.kind)) } td { (e.level.label_zh()) }
                    td { (names.1.get(i).cloned().unwrap_or_default()) } td { (names.0.get(i).cloned().unwrap_or_default()) }
                    td { (local_time(&st, e.at)) } td { (e.note) }
                }
            }
        }
        h2 { "案卷评查" }
        @for r in &f.reviews {
            p class=@if r.passed { "review ok" } @else { "review missing" } {
                (local_time(&st, r.reviewed_at)) "：" @if r.passed { "通过" } @else { "退回" } "，评分 " (r.score)
                @if !r.reasons.is_empty() { "；理由：" (r.reasons.iter().map(|x| fengqiao_domain::subsidy::review_reason_zh(x, &st.policy)).collect::<Vec<_>>().join("；")) }
            }
        }
        @if reviewable { (review_form(&st, &user, &d, &missing)) }
    };
    Ok(page(&d.case_number, &user, body))
}

fn item_label(st: &AppState, code: &str) -> String {
    st.policy
        .subsidy
        .checklist
        .iter()
        .find(|i| i.code == code)
        .map(|i| i.label_zh.clone())
        .unwrap_or_else(|| code.into())
}

fn review_form(st: &AppState, user: &DeskUser, d: &Dispute, missing: &[String]) -> Markup {
    html! {
        form.box method="post" action={ "/desk/cases/" (d.id) "/review" } {
            (csrf_field(user))
            h3 { "评查本卷" }
            label { input type="radio" name="decision" value="pass" checked[missing.is_empty()]; " 通过" }
            label { input type="radio" name="decision" value="return" checked[!missing.is_empty()]; " 退回（缺少的必备材料会自动列入理由）" }
            label { "评分（0–100） " input type="number" name="score" min="0" max="100" value="85" required; }
            label { "退回理由（每行一条） " br; textarea name="reasons" rows="3" cols="60" {} }
            label { "更正等级 "
                select name="grade" {
                    option value="" { "不更正（" (d.grade.label_zh()) "）" }
                    @for g in [Grade::General, Grade::Larger, Grade::Major] { option value=(enum_code(&g)) { (g.label_zh()) } }
                }
            }
            label { "更正难度 "
                select name="difficulty" {
                    option value="" { "不更正（" (d.analysis.difficulty.label_zh()) "）" }
                    @for x in [Difficulty::Low, Difficulty::Medium, Difficulty::High] { option value=(enum_code(&x)) { (x.label_zh()) } }
                }
            }
            label { "更正理由 " input name="correction_reason" size="60" maxlength="500"; }
            @if !missing.is_empty() {
                p.missing { "尚缺：" (missing.iter().map(|m| item_label(st, m)).collect::<Vec<_>>().join("、")) }
            }
            button type="submit" { "提交评查" }
        }
    }
}

/// The wire code of a unit-like enum (`major`).
fn enum_code<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

fn parse_code<T: serde::de::DeserializeOwned>(s: &str) -> Result<Option<T>, DeskError> {
    if s.is_empty() {
        return Ok(None);
    }
    serde_json::from_value(serde_json::Value::String(s.to_string()))
        .map(Some)
        .map_err(|_| DeskError::Refused(format!("“{s}”不是可选的值")))
}

/// The review form's fields.
#[derive(Debug, Deserialize)]
pub struct ReviewForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    score: String,
    #[serde(default)]
    reasons: String,
    #[serde(default)]
    grade: String,
    #[serde(default)]
    difficulty: String,
    #[serde(default)]
    correction_reason: String,
}

/// Reviews a case file: a `review_case_file` operation as the user, decided by
/// the domain as a phone's push is; its refusal is shown with its message.
pub async fn review(
    State(st): State<AppState>,
    user: DeskUser,
    Path(id): Path<Uuid>,
    Form(f): Form<ReviewForm>,
) -> DeskResult<Response> {
    user.check_csrf(&f.csrf)?;
    let passed = match f.decision.as_str() {
        "pass" => true,
        "return" => false,
        _ => return Err(DeskError::Refused("请选择“通过”或“退回”".into())),
    };
    let score: u8 = f
        .score
        .trim()
        .parse()
        .ok()
        .filter(|s| *s <= 100)
        .ok_or_else(|| DeskError::Refused("评分须为 0 到 100 的整数".into()))?;
    let op = Op::ReviewCaseFile(CaseReview {
        id: Uuid::now_v7(),
        dispute_id: id,
        score,
        passed,
        reasons: f.reasons.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect(),
        reviewed_grade: parse_code(&f.grade)?,
        reviewed_difficulty: parse_code(&f.difficulty)?,
        correction_reason: f.correction_reason,
        reviewer: Uuid::nil(),
        reviewed_at: Default::default(),
    });
    crate::http::subsidy_routes::apply_as(&st, &user.caller, op).await?;
    Ok(Redirect::to(&format!("/desk/cases/{id}")).into_response())
}

/// The judicial office's review queue: resolved cases of its towns, those not
/// yet passed first (never reviewed, then returned), with their missing items.
pub async fn review_queue(State(st): State<AppState>, user: DeskUser) -> DeskResult<Response> {
    if !user.may(Action::ReviewCaseFile) {
        return Err(DeskError::NotFound);
    }
    let (store, actor, policy) = (st.store.clone(), user.caller.actor.clone(), st.policy.clone());
    let rows = tokio::task::spawn_blocking(move || -> Result<_, crate::store::StoreError> {
        let resolved = desk_index::disputes_in_order(store.as_ref(), &actor.grants, &policy, &|s| s.resolved)?;
        let mut may: std::collections::HashMap<Uuid, bool> = Default::default();
        // (rank: never reviewed, returned, passed; closed at; id) and the last review
        let mut ranked = Vec::new();
        for s in resolved {
            let allowed = match may.get(&s.origin) {
                Some(a) => *a,
                None => {
                    let scope = crate::reports::flow::unit_scope(store.as_ref(), s.origin)?;
                    let a = scope.is_some_and(|scope| actor.may(Action::ReviewCaseFile, &scope));
                    may.insert(s.origin, a);
                    a
                }
            };
            if !allowed {
                continue;
            }
            let last = desk_index::latest_review(store.as_ref(), s.id)?;
            let rank = match last {
                None => 0,
                Some((_, false)) => 1,
                Some((_, true)) => 2,
            };
            ranked.push(((rank, s.closed_at, s.id), last.map(|l| l.0)));
        }
        ranked.sort_by_key(|r| r.0);
        let mut rows = Vec::new();
        for ((_, _, id), review) in ranked.into_iter().take(MAX_ROWS) {
            let Some(Record::Dispute(d)) = store.record(fengqiao_domain::EntityKind::Dispute, id)? else { continue };
            let review = match review {
                Some(r) => match store.record(fengqiao_domain::EntityKind::CaseReview, r)? {
                    Some(Record::CaseReview(x)) => Some(x),
                    _ => None,
                },
                None => None,
            };
            rows.push((d, review));
        }
        Ok(rows)
    })
    .await??;
    let body = html! {
        h1 { "案卷评查" }
        p { "已调解成功结案的案卷：待评查、已退回的在前。" }
        table.queue {
            tr { th { "案号" } th { "当事人" } th { "结案时间" } th { "缺少必备材料" } th { "评查" } }
            @for (d, r) in rows.iter().take(MAX_ROWS) {
                @let missing = missing_items(&d.case_file, &st.policy);
                tr {
                    td { a href={ "/desk/cases/" (d.id) } { (d.case_number) } }
                    td { (parties(d)) }
                    td { (d.closing.as_ref().map(|c| local_time(&st, c.closed_at)).unwrap_or_default()) }
                    td class=@if missing.is_empty() { "present" } @else { "missing" } {
                        @if missing.is_empty() { "齐全" } @else { (missing.iter().map(|m| item_label(&st, m)).collect::<Vec<_>>().join("、")) }
                    }
                    td { @match r { None => { "待评查" } Some(x) if !x.passed => { "已退回" } Some(_) => { "已通过" } } }
                }
            }
        }
    };
    Ok(page("案卷评查", &user, body))
}

/// A photo of a case, to a user who may see an attachment referencing it (the
/// API's own check); not found otherwise.
pub async fn photo(State(st): State<AppState>, user: DeskUser, Path(sha): Path<String>) -> DeskResult<Response> {
    if !fengqiao_domain::records::is_sha256_hex(&sha) {
        return Err(DeskError::NotFound);
    }
    let (store, actor, key) = (st.store.clone(), user.caller.actor.clone(), sha.clone());
    let content_type =
        tokio::task::spawn_blocking(move || crate::http::photos_routes::visible_photo(store.as_ref(), &actor, &key))
            .await??
            .ok_or(DeskError::NotFound)?;
    let api = |e: std::io::Error| DeskError::Api(crate::http::error::ApiError::internal(e));
    let len = st.blobs.blob_len(&sha).await.map_err(api)?.ok_or(DeskError::NotFound)?;
    let reader = st.blobs.read_blob(&sha, 0, len).await.map_err(api)?;
    let ct = HeaderValue::from_str(&content_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let headers = [
        (header::CONTENT_TYPE, ct),
        (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(crate::http::hygiene::PHOTO_CSP)),
        (header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=86400")),
    ];
    Ok((StatusCode::OK, headers, Body::from_stream(tokio_util::io::ReaderStream::new(reader))).into_response())
}
