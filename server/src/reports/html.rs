//! The monthly report as a self-contained, printable HTML page with SVG charts:
//! new disputes by kind (bars), new and resolved by level (stacked), and the
//! 12-month trend; the flow table as a printable page. No scripts, no external
//! resources; every text is escaped.

use std::fmt::Write;

use chrono_tz::Tz;

use super::flow::{FlowRow, HEADERS as FLOW_HEADERS};
use super::monthly::{Count, MonthlyReport};
use super::render::{permille_text, yuan_text, Cell};

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const W: u32 = 640;
const H: u32 = 220;

/// A bar chart: one `rect.bar` per count.
fn bars(id: &str, title: &str, data: &[Count], colour: &str) -> String {
    let max = data.iter().map(|c| c.count).max().unwrap_or(0).max(1);
    let n = data.len().max(1) as u32;
    let slot = (W - 40) / n;
    let bw = (slot * 7 / 10).max(4);
    let mut s = format!(
        r#"<figure><figcaption>{}</figcaption><svg id="{id}" class="chart" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-label="{}">"#,
        esc(title),
        esc(title)
    );
    let _ = write!(s, r##"<line x1="30" y1="{y}" x2="{W}" y2="{y}" stroke="#999"/>"##, y = H - 40);
    for (i, c) in data.iter().enumerate() {
        let h = c.count * (H - 70) / max;
        let x = 35 + i as u32 * slot;
        let y = H - 40 - h;
        let _ = write!(
            s,
            r#"<rect class="bar" data-label="{l}" data-value="{v}" x="{x}" y="{y}" width="{bw}" height="{h}" fill="{colour}"/><text x="{tx}" y="{ty}" font-size="11" text-anchor="middle">{v}</text><text x="{tx}" y="{ly}" font-size="11" text-anchor="middle">{l}</text>"#,
            l = esc(&c.label),
            v = c.count,
            tx = x + bw / 2,
            ty = y.saturating_sub(3),
            ly = H - 24
        );
    }
    s.push_str("</svg></figure>");
    s
}

/// Stacked bars by level: new (lower segment) and resolved (upper segment).
fn stacked(r: &MonthlyReport) -> String {
    let max = r.new_by_level.iter().zip(&r.resolved_by_level).map(|(a, b)| a.count + b.count).max().unwrap_or(0).max(1);
    let slot = (W - 40) / 4;
    let bw = slot / 2;
    let mut s = format!(
        r#"<figure><figcaption>按层级：新增与化解</figcaption><svg id="by-level" class="chart" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-label="按层级">"#
    );
    for (i, (a, b)) in r.new_by_level.iter().zip(&r.resolved_by_level).enumerate() {
        let x = 35 + i as u32 * slot;
        let ha = a.count * (H - 70) / max;
        let hb = b.count * (H - 70) / max;
        let ya = H - 40 - ha;
        let yb = ya - hb;
        let _ = write!(
            s,
            r##"<g class="stack" data-label="{l}"><rect class="seg new" data-value="{va}" x="{x}" y="{ya}" width="{bw}" height="{ha}" fill="#c0392b"/><rect class="seg resolved" data-value="{vb}" x="{x}" y="{yb}" width="{bw}" height="{hb}" fill="#27ae60"/><text x="{tx}" y="{ly}" font-size="11" text-anchor="middle">{l}</text></g>"##,
            l = esc(&a.label),
            va = a.count,
            vb = b.count,
            tx = x + bw / 2,
            ly = H - 24
        );
    }
    s.push_str(r##"<text x="40" y="16" font-size="11" fill="#c0392b">■ 新增</text><text x="100" y="16" font-size="11" fill="#27ae60">■ 化解</text></svg></figure>"##);
    s
}

fn row(s: &mut String, k: &str, v: impl std::fmt::Display) {
    let _ = write!(s, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(&v.to_string()));
}

fn pm(v: u32) -> String {
    permille_text(v)
}

/// A part of the assessment, or "不适用" when it does not apply.
fn part(v: Option<u32>) -> String {
    v.map(pm).unwrap_or_else(|| "不适用".into())
}

fn yuan(fen: i64) -> String {
    format!("{} 元", yuan_text(fen))
}

/// The `as_of` time in the county's zone; a month's end (midnight) is shown as
/// 24:00 of its last day.
fn as_of_local(r: &MonthlyReport, zone: Tz) -> String {
    let t = r.as_of.with_timezone(&zone);
    if t.time() == chrono::NaiveTime::MIN {
        let day = t.date_naive().pred_opt().unwrap_or(t.date_naive());
        return format!("{} 24:00", day.format("%Y-%m-%d"));
    }
    t.format("%Y-%m-%d %H:%M").to_string()
}

/// Renders the page (times shown in `zone`, the county's).
pub fn render(r: &MonthlyReport, zone: Tz) -> String {
    let n = &r.numbers;
    let p = &r.previous;
    let mut t = String::new();
    row(&mut t, "统计截至", as_of_local(r, zone));
    row(&mut t, "新增矛盾纠纷", format!("{}（上月 {}）", n.new_disputes, p.new_disputes));
    row(&mut t, "化解", format!("{}（上月 {}）", n.resolved, p.resolved));
    row(&mut t, "在办", n.still_open);
    row(&mut t, "超期", n.overdue);
    row(
        &mut t,
        "申请上报 / 批准 / 不予上报",
        format!("{} / {} / {}", n.escalations_asked, n.escalations_approved, n.escalations_refused),
    );
    row(&mut t, "组村两级化解占比", pm(n.settled_locally_permille));
    row(&mut t, "镇级化解占比", pm(n.settled_by_town_permille));
    row(&mut t, "未能在镇内化解占比", pm(n.pushed_beyond_permille));
    row(
        &mut t,
        "排查完成",
        format!("{}/{} 个{}", r.screening.complete, r.screening.villages, r.screening.villages_label),
    );
    row(&mut t, "补贴计提", format!("{} 件，{}", r.subsidies.accrued_count, yuan(r.subsidies.accrued_fen)));
    row(&mut t, "补贴支付", format!("{} 件，{}", r.subsidies.paid_count, yuan(r.subsidies.paid_fen)));
    row(&mut t, "补贴逾期未付", format!("{} 件，{}", r.subsidies.overdue_count, yuan(r.subsidies.overdue_fen)));
    let mut hot = String::new();
    for h in &r.hotspots {
        let _ = write!(hot, "<li>{}：{} → {}</li>", esc(&h.name), h.last_month, h.this_month);
    }
    let mut rank = String::new();
    for (i, v) in r.ranking.iter().enumerate() {
        let _ = write!(
            rank,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            i + 1,
            esc(&v.village),
            esc(&v.kind),
            v.score,
            esc(&part(v.settled_locally_permille)),
            esc(&part(v.screening_permille)),
            esc(&part(v.on_time_permille))
        );
    }
    format!(
        r#"<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{unit} {month} 月度排查问题研判报告</title>
<style>body{{font-family:"Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;margin:24px;color:#222}}h1{{font-size:20px}}table{{border-collapse:collapse;margin:8px 0}}th,td{{border:1px solid #bbb;padding:4px 8px;text-align:left}}figure{{margin:12px 0;page-break-inside:avoid}}figcaption{{font-weight:bold}}@media print{{body{{margin:0}}}}</style></head>
<body><h1>{unit} {month} 月度排查问题研判报告</h1><p class="summary">{summary}</p>
<table class="numbers">{t}</table>
{by_kind}{stacked}{trend}
<h2>热点</h2><ul class="hotspots">{hot}</ul>
<h2>{vl}级考核排名</h2><table class="ranking"><tr><th>名次</th><th>{vl}</th><th>类别</th><th>得分</th><th>组村化解</th><th>排查完成</th><th>按期办理</th></tr>{rank}</table>
</body></html>"#,
        unit = esc(&r.unit_name),
        vl = esc(&r.screening.villages_label),
        month = esc(&r.month),
        summary = esc(&r.summary),
        by_kind = bars("by-kind", "新增纠纷按类型", &r.new_by_kind, "#2c7fb8"),
        stacked = stacked(r),
        trend = bars("trend", "近12个月新增趋势", &r.trend, "#7f8c8d"),
    )
}

/// The report as table rows (metric, value) for xlsx/CSV: counts and scores
/// are numbers, shares percentages, money yuan (numeric cells in xlsx).
pub fn table(r: &MonthlyReport, zone: Tz) -> Vec<Vec<Cell>> {
    let n = &r.numbers;
    let int = |v: u32| Cell::Int(v.into());
    let mut rows: Vec<Vec<Cell>> = vec![vec!["单位".into(), Cell::Text(r.unit_name.clone())]];
    if !r.towns.is_empty() {
        rows.push(vec!["服务乡镇".into(), Cell::Text(r.towns.join("、"))]);
    }
    rows.extend([
        vec!["月份".into(), Cell::Text(r.month.clone())],
        vec!["统计截至".into(), Cell::Text(as_of_local(r, zone))],
        vec!["新增矛盾纠纷".into(), int(n.new_disputes)],
        vec!["上月新增".into(), int(r.previous.new_disputes)],
        vec!["化解".into(), int(n.resolved)],
        vec!["在办".into(), int(n.still_open)],
        vec!["超期".into(), int(n.overdue)],
        vec!["申请上报".into(), int(n.escalations_asked)],
        vec!["批准上报".into(), int(n.escalations_approved)],
        vec!["不予上报".into(), int(n.escalations_refused)],
        vec!["组村两级化解占比".into(), Cell::Permille(n.settled_locally_permille)],
        vec!["镇级化解占比".into(), Cell::Permille(n.settled_by_town_permille)],
        vec!["未能在镇内化解占比".into(), Cell::Permille(n.pushed_beyond_permille)],
        vec![
            Cell::Text(format!("排查完成{}数", r.screening.villages_label)),
            Cell::Text(format!("{}/{}", r.screening.complete, r.screening.villages)),
        ],
        vec!["补贴计提(元)".into(), Cell::Yuan(r.subsidies.accrued_fen)],
        vec!["补贴支付(元)".into(), Cell::Yuan(r.subsidies.paid_fen)],
        vec!["补贴逾期(元)".into(), Cell::Yuan(r.subsidies.overdue_fen)],
    ]);
    for c in &r.new_by_kind {
        rows.push(vec![Cell::Text(format!("新增·{}", c.label)), int(c.count)]);
    }
    for c in &r.trend {
        rows.push(vec![Cell::Text(format!("趋势·{}", c.label)), int(c.count)]);
    }
    for v in &r.ranking {
        rows.push(vec![Cell::Text(format!("考核·{}（{}）", v.village, v.kind)), int(v.score)]);
    }
    rows.push(vec!["研判摘要".into(), Cell::Text(r.summary.clone())]);
    rows
}

/// The flow table (流向表) as a printable page: a title and one table row per step.
pub fn flow_page(unit_name: &str, month: &str, rows: &[FlowRow]) -> String {
    let mut head = String::new();
    for h in FLOW_HEADERS {
        let _ = write!(head, "<th>{}</th>", esc(h));
    }
    let mut body = String::new();
    for r in rows {
        body.push_str("<tr>");
        for c in r.cells() {
            let text = match c {
                Cell::Text(s) => s,
                Cell::Int(v) => v.to_string(),
                Cell::Yuan(f) => yuan_text(f),
                Cell::Permille(v) => permille_text(v),
            };
            let _ = write!(body, "<td>{}</td>", esc(&text));
        }
        body.push_str("</tr>");
    }
    format!(
        r#"<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{unit} {month} 矛盾纠纷排查化解流向表</title>
<style>body{{font-family:"Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;margin:24px;color:#222}}h1{{font-size:20px}}table{{border-collapse:collapse}}th,td{{border:1px solid #bbb;padding:4px 6px;text-align:left;font-size:13px}}@media print{{body{{margin:0}}}}</style></head>
<body><h1>{unit} {month} 矛盾纠纷排查化解流向表</h1><p>共 {n} 条</p>
<table class="flow"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>
</body></html>"#,
        unit = esc(unit_name),
        month = esc(month),
        n = rows.len(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_end_is_shown_as_24_00_of_its_last_day() {
        let zone = chrono_tz::Asia::Shanghai;
        let end = chrono::TimeZone::with_ymd_and_hms(&zone, 2026, 6, 1, 0, 0, 0).unwrap().with_timezone(&chrono::Utc);
        let r = MonthlyReport {
            unit_id: uuid::Uuid::nil(),
            unit_name: String::new(),
            unit_kind: "镇".into(),
            towns: vec![],
            month: "2026-05".into(),
            as_of: end,
            numbers: Default::default(),
            previous: Default::default(),
            new_by_kind: vec![],
            new_by_grade: vec![],
            new_by_level: vec![],
            resolved_by_level: vec![],
            hotspots: vec![],
            screening: super::super::monthly::ScreeningCompletion {
                periods: vec![],
                villages: 0,
                villages_label: "村".into(),
                complete: 0,
                missing: vec![],
            },
            subsidies: Default::default(),
            trend: vec![],
            ranking: vec![],
            summary: String::new(),
        };
        assert_eq!(as_of_local(&r, zone), "2026-05-31 24:00");
        let r = MonthlyReport { as_of: end - chrono::Duration::minutes(90), ..r };
        assert_eq!(as_of_local(&r, zone), "2026-05-31 22:30");
    }

    #[test]
    fn flow_page_escapes_every_cell() {
        let row = FlowRow {
            case_number: "T01V01-2026-0001-000".into(),
            parties: "<script>alert(1)</script>".into(),
            kind: "土地纠纷".into(),
            grade: "一般".into(),
            found_on: "2026-05-01".into(),
            step: 3,
            action: "结案".into(),
            level: "村".into(),
            handler: "东升村".into(),
            actor: "张三".into(),
            at: "2026-05-02 10:00".into(),
            note: "a & b".into(),
        };
        let page = flow_page("东升村", "2026-05", &[row]);
        assert!(page.contains("&lt;script&gt;") && !page.contains("<script>"));
        assert!(page.contains("<td>3</td>") && page.contains("a &amp; b"));
        assert_eq!(page.matches("<tr>").count(), 2, "header and one step");
    }
}
