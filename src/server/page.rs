//! `GET /coverage`: the coordinators' page, rendered on the server with no outside assets and
//! no script — totals, a chart of people reached per county against its population, townships
//! not reached with reasons, a per-county table with township drill-down, failures and
//! endpoint health. Chinese or English (`?lang=zh|en`, else `Accept-Language`, else Chinese),
//! every text from the catalogue, everything from the ledger escaped. Without a period it shows
//! the 7 days up to the most recent run, wherever the clock is.
//!
//! Fonts: Chinese and Nuosu Yi text name the fonts that draw them on common systems (see
//! [`FONTS_ZH`], [`FONTS_YI`]); Yi first asks for the page's own face ([`font`]), so it needs
//! no system font; on Debian `fonts-noto-cjk` provides the Chinese one.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeZone, Utc};

use super::auth::Principal;
use super::coverage::{CoverageQuery, endpoints, report};
use super::error::AppError;
use super::state::{AppState, EndpointStatus};
use crate::coverage::{By, Report};
use crate::directory::Directory;
use crate::locale::Locale;
use crate::t;

pub mod chart;
pub mod font;
mod tables;

/// Simplified Chinese faces: macOS, Windows, Linux (Noto/Source Han are one design), older
/// Linux; then the system's sans-serif.
pub const FONTS_ZH: &str = "\"PingFang SC\",\"Microsoft YaHei\",\"Noto Sans CJK SC\",\
\"Noto Sans SC\",\"Source Han Sans SC\",\"WenQuanYi Micro Hei\"";
/// Nuosu Yi (U+A000–A4CF) faces: the page's own (served at [`font::YI_URL`]), then SIL's,
/// Google's and Windows' if it cannot be loaded.
pub const FONTS_YI: &str =
    "\"Shengbo Noto Sans Yi\",\"Nuosu SIL\",\"Noto Sans Yi\",\"Microsoft Yi Baiti\"";

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

/// An instant as Beijing time, the way staff read it: `2026-11-27 19:00`.
fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// The page's style sheet: its own Yi face, then Chinese faces first, the Yi faces after them
/// (so a Yi syllable in Chinese text finds one), and Yi first where the text is marked Yi.
fn style() -> String {
    format!(
        "{}body{{font-family:{FONTS_ZH},{FONTS_YI},sans-serif;margin:2em;color:#222;max-width:70em}}\
         :lang(ii),.yi{{font-family:{FONTS_YI},{FONTS_ZH},sans-serif}}\
         table{{border-collapse:collapse;margin:1em 0;font-size:.9em}}th,td{{border:1px solid #ccc;padding:.3em .6em;text-align:left}}\
         table.num td,table.num th,td.n{{text-align:right}}table.num td:first-child,table.num th:first-child{{text-align:left}}\
         details{{margin:.3em 0}}summary{{cursor:pointer}}.bad{{color:#a00}}.small,.note{{color:#555;font-size:.9em}}\
         #unreached td:first-child{{white-space:nowrap}}.empty{{padding:1em;background:#f4f4f4;border-left:4px solid #999}}svg{{max-width:100%;height:auto}}",
        font::face()
    )
}

/// What the page shows: the report of the asked grouping, the same period by county (for the
/// chart and the townships not reached), and how the period was chosen.
#[derive(Debug)]
pub struct View<'a> {
    pub report: &'a Report,
    pub by_county: &'a Report,
    pub directory: &'a Directory,
    pub endpoints: &'a [EndpointStatus],
    /// Set when no period was asked for: the most recent run's occurrence, if any.
    pub defaulted: Option<Option<DateTime<Utc>>>,
}

/// The whole page, in `locale`.
pub fn render(view: &View, locale: Locale) -> String {
    crate::locale::scoped(locale, || render_current(view, locale))
}

fn render_current(view: &View, locale: Locale) -> String {
    let mut out = format!(
        "<!DOCTYPE html><html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{}</title>\
         <style>{}</style></head><body><h1>{} <span class=\"yi\" lang=\"ii\">ꆈꌠ</span></h1>",
        locale.tag(),
        esc(&t!("page-title")),
        style(),
        esc(&t!("page-heading"))
    );
    let note = view.defaulted.map(|latest| match latest {
        Some(at) => t!("page-period-latest", latest = local(at)),
        None => t!("page-period-no-runs"),
    });
    tables::totals(&mut out, view.report, note.as_deref());
    if view.report.runs > 0 {
        out.push_str(&format!(
            "<section id=\"chart\"><h2>{}</h2><p class=\"small\">{}</p>{}</section>",
            esc(&t!("page-chart-heading")),
            esc(&t!("page-chart-caption")),
            chart::chart(&chart::bars(view.directory, view.by_county))
        ));
        tables::not_reached(&mut out, view.by_county);
        tables::rows(&mut out, view.report);
    }
    tables::failures(&mut out, view.report);
    tables::endpoints(&mut out, view.endpoints);
    out.push_str("</body></html>\n");
    out
}

/// The page's language: `?lang=`, else the first `Accept-Language` tag with a catalogue,
/// else Chinese.
pub fn locale(lang: Option<&str>, headers: &HeaderMap) -> Result<Locale, AppError> {
    if let Some(lang) = lang {
        return lang.parse().map_err(AppError::bad_request);
    }
    let accepted = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    Ok(accepted
        .split(',')
        .filter_map(|tag| Locale::negotiate(tag.split(';').next().unwrap_or("").trim()))
        .next()
        .unwrap_or_default())
}

/// The 7 Beijing days that end with the day of `latest`: the period shown when none is asked.
pub fn latest_period(latest: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let beijing = chrono_tz::Asia::Shanghai;
    let next_midnight = latest
        .with_timezone(&beijing)
        .date_naive()
        .succ_opt()
        .and_then(|d| {
            beijing
                .from_local_datetime(&d.and_time(chrono::NaiveTime::MIN))
                .single()
        })
        .map_or(latest + chrono::Duration::seconds(1), |t| {
            t.with_timezone(&Utc)
        });
    (next_midnight - chrono::Duration::days(7), next_midnight)
}

async fn latest_run(state: &AppState) -> Result<Option<DateTime<Utc>>, AppError> {
    let Some(records) = state.records() else {
        return Ok(None);
    };
    tokio::task::spawn_blocking(move || records.latest_run())
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)
}

pub async fn coverage(
    State(state): State<AppState>,
    Query(q): Query<CoverageQuery>,
    headers: HeaderMap,
    principal: Principal,
) -> Result<Response, AppError> {
    principal.require_coordinator()?;
    let locale = locale(q.lang.as_deref(), &headers)?;
    let mut query = q.to_query(state.now())?;
    let mut defaulted = None;
    if q.from.is_none() && q.to.is_none() && q.since.is_none() {
        let latest = latest_run(&state).await?;
        if let Some(at) = latest {
            (query.from, query.to) = latest_period(at);
        }
        defaulted = Some(latest);
    }
    let report = report(&state, query.clone()).await?;
    let by_county = match query.by {
        By::County => None,
        _ => Some(
            super::coverage::report(
                &state,
                crate::coverage::Query {
                    by: By::County,
                    ..query
                },
            )
            .await?,
        ),
    };
    let list = endpoints(&state).await?;
    let view = View {
        report: &report,
        by_county: by_county.as_ref().unwrap_or(&report),
        directory: state.directory(),
        endpoints: &list,
        defaulted,
    };
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "private, no-cache"),
            (header::VARY, "accept-language"),
        ],
        render(&view, locale),
    )
        .into_response())
}

#[cfg(test)]
mod tests;
