//! The monthly report as a self-contained, printable HTML page with SVG charts:
//! new disputes by kind (bars), new and resolved by level (stacked), and the
//! 12-month trend. No scripts, no external resources.

use std::fmt::Write;

use super::monthly::{Count, MonthlyReport};

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
    format!("{}.{}%", v / 10, v % 10)
}

fn yuan(fen: i64) -> String {
    format!("{}.{:02} 元", fen / 100, fen % 100)
}

/// Renders the page.
pub fn render(r: &MonthlyReport) -> String {
    let n = &r.numbers;
    let p = &r.previous;
    let mut t = String::new();
    row(&mut t, "新增矛盾纠纷", format!("{}（上月 {}）", n.new_disputes, p.new_disputes));
    row(&mut t, "化解", format!("{}（上月 {}）", n.resolved, p.resolved));
    row(&mut t, "月末在办", n.still_open);
    row(&mut t, "超期", n.overdue);
    row(
        &mut t,
        "申请上报 / 批准 / 不予上报",
        format!("{} / {} / {}", n.escalations_asked, n.escalations_approved, n.escalations_refused),
    );
    row(&mut t, "组村两级化解占比", pm(n.settled_locally_permille));
    row(&mut t, "镇级化解占比", pm(n.settled_by_town_permille));
    row(&mut t, "未能在镇内化解占比", pm(n.pushed_beyond_permille));
    row(&mut t, "排查完成", format!("{}/{} 个村", r.screening.complete, r.screening.villages));
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
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            i + 1,
            esc(&v.village),
            v.score,
            pm(v.settled_locally_permille),
            pm(v.screening_permille),
            pm(v.on_time_permille)
        );
    }
    format!(
        r#"<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{unit} {month} 月度排查问题研判报告</title>
<style>body{{font-family:"Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;margin:24px;color:#222}}h1{{font-size:20px}}table{{border-collapse:collapse;margin:8px 0}}th,td{{border:1px solid #bbb;padding:4px 8px;text-align:left}}figure{{margin:12px 0;page-break-inside:avoid}}figcaption{{font-weight:bold}}@media print{{body{{margin:0}}}}</style></head>
<body><h1>{unit} {month} 月度排查问题研判报告</h1><p class="summary">{summary}</p>
<table class="numbers">{t}</table>
{by_kind}{stacked}{trend}
<h2>热点</h2><ul class="hotspots">{hot}</ul>
<h2>村级考核排名</h2><table class="ranking"><tr><th>名次</th><th>村</th><th>得分</th><th>组村化解</th><th>排查完成</th><th>按期办理</th></tr>{rank}</table>
</body></html>"#,
        unit = esc(&r.unit_name),
        month = esc(&r.month),
        summary = esc(&r.summary),
        by_kind = bars("by-kind", "新增纠纷按类型", &r.new_by_kind, "#2c7fb8"),
        stacked = stacked(r),
        trend = bars("trend", "近12个月新增趋势", &r.trend, "#7f8c8d"),
    )
}

/// The report as table rows (metric, value) for xlsx/CSV.
pub fn table(r: &MonthlyReport) -> Vec<Vec<String>> {
    let n = &r.numbers;
    let mut rows: Vec<Vec<String>> = vec![
        vec!["单位".into(), r.unit_name.clone()],
        vec!["月份".into(), r.month.clone()],
        vec!["新增矛盾纠纷".into(), n.new_disputes.to_string()],
        vec!["上月新增".into(), r.previous.new_disputes.to_string()],
        vec!["化解".into(), n.resolved.to_string()],
        vec!["月末在办".into(), n.still_open.to_string()],
        vec!["超期".into(), n.overdue.to_string()],
        vec!["申请上报".into(), n.escalations_asked.to_string()],
        vec!["批准上报".into(), n.escalations_approved.to_string()],
        vec!["不予上报".into(), n.escalations_refused.to_string()],
        vec!["组村两级化解占比".into(), pm(n.settled_locally_permille)],
        vec!["镇级化解占比".into(), pm(n.settled_by_town_permille)],
        vec!["未能在镇内化解占比".into(), pm(n.pushed_beyond_permille)],
        vec!["排查完成村数".into(), format!("{}/{}", r.screening.complete, r.screening.villages)],
        vec!["补贴计提(元)".into(), yuan(r.subsidies.accrued_fen)],
        vec!["补贴支付(元)".into(), yuan(r.subsidies.paid_fen)],
        vec!["补贴逾期(元)".into(), yuan(r.subsidies.overdue_fen)],
    ];
    for c in &r.new_by_kind {
        rows.push(vec![format!("新增·{}", c.label), c.count.to_string()]);
    }
    for c in &r.trend {
        rows.push(vec![format!("趋势·{}", c.label), c.count.to_string()]);
    }
    for v in &r.ranking {
        rows.push(vec![format!("考核·{}", v.village), v.score.to_string()]);
    }
    rows.push(vec!["研判摘要".into(), r.summary.clone()]);
    rows
}
