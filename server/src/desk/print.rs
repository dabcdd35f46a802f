//! Print-ready A4 pages of a case, in the formats county offices file: the
//! mediation agreement (调解协议书, with the parties, terms and signature
//! photos), the registration form (受理登记表), the notice of rights and duties
//! (权利义务告知书) and the case file's cover with its index (卷宗封面、卷内目录).
//! The browser prints them (`@page { size: A4 }`); the menu is hidden in print.

use axum::extract::{Path, State};
use axum::response::Response;
use maud::{html, Markup};
use uuid::Uuid;

use super::cases::load_case;
use super::page::{local_time, page, yuan, DeskError, DeskResult, DeskUser};
use super::read::Names;
use crate::http::AppState;

const PRINT_STYLE: &str = "div.print{max-width:170mm;margin:0 auto;font-size:12pt;line-height:1.7}\
    div.print h1{text-align:center;letter-spacing:.3em}div.print table{width:100%}\
    .sign{margin-top:2em;display:flex;justify-content:space-between}.page-break{page-break-before:always}";

fn doc(title: &str, body: Markup) -> Markup {
    html! {
        style { (maud::PreEscaped(PRINT_STYLE)) }
        p.noprint { "用浏览器的“打印”（A4）打印本页，或另存为 PDF。" }
        div.print { h1 { (title) } (body) }
    }
}

/// One print page of a case: `agreement`, `intake`, `notice` or `cover`.
pub async fn print(
    State(st): State<AppState>,
    user: DeskUser,
    Path((id, which)): Path<(Uuid, String)>,
) -> DeskResult<Response> {
    let (d, _scope, f) = load_case(&st, &user, id).await?;
    let store = st.store.clone();
    let (reporter, handler, closer, origin) = {
        let (r, h, c, o) = (d.reported_by, d.handler_unit, d.closing.as_ref().map(|c| c.closed_by), d.origin_unit);
        tokio::task::spawn_blocking(move || -> Result<_, crate::store::StoreError> {
            let mut n = Names::default();
            let s = store.as_ref();
            let closer = match c {
                Some(c) => n.user(s, c)?,
                None => String::new(),
            };
            Ok((n.user(s, r)?, n.unit(s, h)?, closer, n.unit(s, o)?))
        })
        .await??
    };
    let kind =
        st.policy.disputes.kinds.iter().find(|k| k.code == d.kind).map(|k| k.label_zh.clone()).unwrap_or_default();
    let parties = html! {
        table {
            tr { th { "当事人" } th { "联系电话" } th { "户主 / 身份证号" } }
            @for p in &d.parties {
                tr {
                    td.party { (p.name) }
                    td { (p.phone.clone().unwrap_or_default()) }
                    td {
                        @if let Some(h) = p.household_id.and_then(|h| f.households.get(&h)) {
                            (h.head_name) " " @if let Some(n) = &h.id_number { (n.masked()) }
                        }
                    }
                }
            }
        }
    };
    let head = html! { p { "案号：" strong { (d.case_number) } } };
    let (title, body) = match which.as_str() {
        "agreement" => {
            let Some(a) = f.agreements.last() else {
                return Err(DeskError::Refused("本案还没有调解协议，不能打印调解协议书".into()));
            };
            let body = html! {
                (head) (parties)
                h3 { "纠纷主要事实、争议事项" } p { (d.summary) }
                h3 { "经调解，自愿达成如下协议" } p { (a.terms) }
                @if !a.obligations.is_empty() { h3 { "履行方式、期限" } p { (a.obligations) } }
                @if a.sum_fen != 0 { p { "涉及金额：" (yuan(a.sum_fen)) " 元" } }
                p { "本协议一式三份，当事人各执一份，人民调解委员会留存一份。" }
                @if !a.signature_photos.is_empty() {
                    h3 { "当事人签名" }
                    @for sha in &a.signature_photos { img.photo src={ "/desk/photos/" (sha) } alt="签名"; }
                }
                div.sign { span { "当事人（签名）：" } span { "人民调解员（签名）：" } }
                div.sign { span { (handler) "人民调解委员会（印章）" } span { (local_time(&st, a.signed_at)) } }
            };
            ("人民调解协议书", body)
        }
        "intake" => {
            let body = html! {
                (head)
                table {
                    tr { th { "登记时间" } td { (local_time(&st, d.registered_at)) } th { "纠纷类型" } td { (kind) } }
                    tr { th { "发生地" } td { (origin) } th { "等级 / 难度" } td { (d.grade.label_zh()) " / " (d.analysis.difficulty.label_zh()) } }
                    tr { th { "受理单位" } td { (handler) } th { "登记人" } td { (reporter) } }
                }
                (parties)
                h3 { "纠纷简要情况" } p { (d.summary) }
                h3 { "起因与可能后果" } p { (d.analysis.cause) "；" (d.analysis.consequences) }
                div.sign { span { "当事人（签名）：" } span { "登记人（签名）：" } }
            };
            ("人民调解受理登记表", body)
        }
        "notice" => {
            let body = html! {
                (head) (parties)
                p { "根据《中华人民共和国人民调解法》，在人民调解活动中，当事人享有下列权利：" }
                ol {
                    li { "选择或者接受人民调解员；" }
                    li { "接受调解、拒绝调解或者要求终止调解；" }
                    li { "要求调解公开进行或者不公开进行；" }
                    li { "自主表达意愿、自愿达成调解协议。" }
                }
                p { "当事人应当履行下列义务：" }
                ol {
                    li { "如实陈述纠纷事实；" }
                    li { "遵守调解现场秩序，尊重人民调解员；" }
                    li { "尊重对方当事人行使权利。" }
                }
                p { "人民调解不收取任何费用。经调解达成的调解协议具有法律约束力，当事人应当按照约定履行；双方可以自协议生效之日起三十日内共同向人民法院申请司法确认。" }
                div.sign { span { "当事人（签名）：" } span { (handler) "人民调解委员会" } }
            };
            ("人民调解权利义务告知书", body)
        }
        "cover" => {
            let present: Vec<&fengqiao_domain::policy::ChecklistItem> =
                st.policy.subsidy.checklist.iter().filter(|i| d.case_file.iter().any(|p| p.item == i.code)).collect();
            let body = html! {
                (head)
                table {
                    tr { th { "案由" } td { (kind) "：" (d.summary) } }
                    tr { th { "当事人" } td { (d.parties.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join("、")) } }
                    tr { th { "调解组织" } td { (handler) } }
                    tr { th { "受理日期" } td { (local_time(&st, d.registered_at)) } }
                    tr { th { "结案日期" } td { (d.closing.as_ref().map(|c| local_time(&st, c.closed_at)).unwrap_or_default()) } }
                    tr { th { "调解结果" } td { (d.closing.as_ref().map(|c| c.note.clone()).unwrap_or_else(|| "办理中".into())) } }
                    tr { th { "立卷人" } td { (closer) } }
                }
                h2.page-break { "卷内目录" }
                table {
                    tr { th { "序号" } th { "材料名称" } }
                    @for (i, item) in present.iter().enumerate() { tr { td { (i + 1) } td { (item.label_zh) } } }
                }
            };
            ("人民调解卷宗", body)
        }
        _ => return Err(DeskError::NotFound),
    };
    Ok(page(&format!("{title} {}", d.case_number), &user, doc(title, body)))
}
