//! `GET /coverage`: the coordinators' page, rendered on the server with no outside assets —
//! totals, a per-county table with township drill-down, failures with reasons, endpoint
//! health and an inline SVG chart of reach per day. Labels in Chinese; every text escaped.

use std::fmt::Write as _;

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::auth::Principal;
use super::coverage::{CoverageQuery, endpoints, report};
use super::error::AppError;
use super::state::{AppState, EndpointStatus};
use crate::coverage::{By, DayPoint, Figures, Report, Row};
use crate::reach::thousands as num;

/// Escape text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
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

fn pct(p: Option<f64>) -> String {
    crate::reach::percentage(p, "—")
}

/// An instant as Beijing time, the way staff read it: `2026-11-27 19:00`.
fn local(t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

const STYLE: &str = "body{font-family:\"Noto Sans SC\",\"Noto Sans CJK SC\",\"Noto Sans Yi\",\"Nuosu SIL\",sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left}\
table.num td,table.num th{text-align:right}table.num td:first-child,table.num th:first-child{text-align:left}details{margin:.3em 0}summary{cursor:pointer}\
.yi{font-family:\"Noto Sans Yi\",\"Nuosu SIL\",sans-serif}.bad{color:#a00}";

fn figure_cells(f: &Figures) -> String {
    let failures: u32 = f.failures.values().sum();
    let r = &f.reach;
    format!(
        "<td>{}/{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
        r.townships_reached,
        r.townships_targeted,
        num(r.population_targeted),
        num(r.population_reached),
        num(r.population_played),
        num(r.population_unreported),
        pct(f.pct_targeted_reached),
        pct(f.pct_targeted_played),
        pct(f.pct_area_reached),
        failures
    )
}

const HEAD: &str = "<th>乡镇(覆盖/目标)</th><th>目标人口</th><th>覆盖人口</th><th>播出人口</th>\
<th>无覆盖报告人口</th><th>覆盖率(目标人口)</th><th>播出率(目标人口)</th><th>覆盖率(辖区人口)</th><th>失败</th>";

fn totals(out: &mut String, r: &Report) {
    let t = &r.totals;
    let _ = write!(
        out,
        "<section id=\"totals\"><h2>总计</h2><p>统计期间（北京时间）{} 至 {}，共 {} 次播发。</p>\
         <table class=\"num\"><tr><th>范围</th>{HEAD}</tr><tr><td>凉山彝族自治州（总人口 {}）</td>{}</tr></table>\
         <p>分母：覆盖率(目标人口) = 期间内目标乡镇人口之和；覆盖率(辖区人口) = 全州人口。\
         覆盖人口 = 每个乡镇在其最好一次播发中（所有节目段均已确认）的人口 × 平台上报的覆盖率；\
         无覆盖报告的按全部人口计入，并单列为“无覆盖报告人口”。\
         其中 {} 个目标乡镇的人口为估算值。</p></section>",
        esc(&local(r.query.from)),
        esc(&local(r.query.to)),
        r.runs,
        num(t.population_area),
        figure_cells(t),
        t.reach.townships_estimated
    );
}

fn rows(out: &mut String, r: &Report) {
    let title = match r.query.by {
        By::County => "按县市",
        By::Township => "按乡镇",
        By::Village => "按村（社区）",
    };
    let _ = write!(out, "<section id=\"rows\"><h2>{title}</h2>");
    for row in &r.rows {
        row_html(out, row);
    }
    out.push_str("</section>");
}

fn row_html(out: &mut String, row: &Row) {
    let _ = write!(
        out,
        "<details data-code=\"{}\"><summary>{} {} — 覆盖 {}</summary><table class=\"num\"><tr><th>名称</th>{HEAD}</tr>\
         <tr><td>{}</td>{}</tr>",
        esc(&row.code),
        esc(&row.code),
        esc(&row.name),
        pct(row.figures.pct_targeted_reached),
        esc(&row.name),
        figure_cells(&row.figures)
    );
    for t in &row.townships {
        let _ = write!(
            out,
            "<tr class=\"township\"><td>{} {}</td>{}</tr>",
            esc(&t.code),
            esc(&t.name),
            figure_cells(&t.figures)
        );
    }
    out.push_str("</table></details>");
}

fn failures(out: &mut String, r: &Report) {
    out.push_str("<section id=\"failures\"><h2>失败与过期</h2>");
    if r.failures.is_empty() && r.cancelled_pairs.is_empty() {
        out.push_str("<p>无</p></section>");
        return;
    }
    out.push_str("<table><tr><th>时间</th><th>活动</th><th>乡镇</th><th>语言</th><th>接收端</th><th>状态</th><th>原因</th></tr>");
    for f in r.failures.iter().chain(&r.cancelled_pairs) {
        let _ = write!(
            out,
            "<tr class=\"bad\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&local(f.row.occurrence)),
            esc(&f.row.campaign),
            esc(&f.township_names.join("、")),
            esc(f.row.lang.name_zh()),
            esc(&f.row.endpoint),
            esc(&f.row.state),
            esc(f.row.reason.as_deref().unwrap_or("—"))
        );
    }
    out.push_str("</table></section>");
}

fn endpoint_table(out: &mut String, list: &[EndpointStatus]) {
    out.push_str("<section id=\"endpoints\"><h2>接收端状态</h2>");
    if list.is_empty() {
        out.push_str("<p>暂无记录</p></section>");
        return;
    }
    out.push_str("<table><tr><th>接收端</th><th>熔断</th><th>连续失败</th><th>最近响应</th><th>原因</th></tr>");
    for e in list {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&e.endpoint),
            esc(&e.circuit),
            e.consecutive_failures,
            esc(&e.last_seen.map_or("—".to_string(), local)),
            esc(e.reason.as_deref().unwrap_or("—"))
        );
    }
    out.push_str("</table></section>");
}

/// Bars per day: targeted (grey), reached (blue), played (green), to the largest target.
pub fn chart(series: &[DayPoint]) -> String {
    let (w, h, pad) = (640.0_f64, 200.0_f64, 24.0_f64);
    let max = series
        .iter()
        .map(|d| d.population_targeted)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let slot = (w - 2.0 * pad) / series.len().max(1) as f64;
    let bar = (slot / 3.5).max(1.0);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"reach-chart\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"每日覆盖人口\">"
    );
    for (i, d) in series.iter().enumerate() {
        let x = pad + i as f64 * slot;
        for (k, (v, color)) in [
            (d.population_targeted, "#bbb"),
            (d.population_reached, "#36c"),
            (d.population_played, "#3a3"),
        ]
        .into_iter()
        .enumerate()
        {
            let bh = v as f64 / max * (h - 2.0 * pad);
            let _ = write!(
                svg,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{bh:.1}\" fill=\"{color}\"><title>{} {}</title></rect>",
                x + k as f64 * bar,
                h - pad - bh,
                d.day,
                num(v)
            );
        }
        let _ = write!(
            svg,
            "<text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"10\">{}</text>",
            h - 6.0,
            d.day.format("%m-%d")
        );
    }
    let _ = write!(
        svg,
        "<text x=\"{pad}\" y=\"{:.1}\" font-size=\"10\">最高 {} 人</text></svg>",
        pad - 10.0,
        num(max as u64)
    );
    svg
}

/// The whole page.
pub fn render(r: &Report, endpoints: &[EndpointStatus]) -> String {
    let mut out = format!(
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>声波 覆盖情况</title>\
         <style>{STYLE}</style></head><body><h1>声波 · 反诈宣传覆盖情况 <span class=\"yi\" lang=\"ii\">ꆈꌠ</span></h1>"
    );
    totals(&mut out, r);
    let _ = write!(
        out,
        "<section id=\"chart\"><h2>每日覆盖人口</h2><p>灰：目标人口 蓝：覆盖人口 绿：播出人口</p>{}</section>",
        chart(&r.series)
    );
    rows(&mut out, r);
    failures(&mut out, r);
    endpoint_table(&mut out, endpoints);
    out.push_str("</body></html>\n");
    out
}

pub async fn coverage(
    State(state): State<AppState>,
    Query(q): Query<CoverageQuery>,
    principal: Principal,
) -> Result<Response, AppError> {
    principal.require_coordinator()?;
    let report = report(&state, q.to_query(state.now())?).await?;
    let list = endpoints(&state).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "private, no-cache"),
        ],
        render(&report, &list),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_numbers_grouped() {
        assert_eq!(esc("<b a=\"x\">&'"), "&lt;b a=&quot;x&quot;&gt;&amp;&#39;");
        assert_eq!(num(4858359), "4,858,359");
        assert_eq!(num(12), "12");
        assert_eq!(pct(Some(95.04)), "95.0%");
        assert_eq!(pct(None), "—");
    }
}
