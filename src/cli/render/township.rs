//! `--township CODE|NAME [--at TIME]` for `render` and `play`: the project loaded the one way
//! ([`crate::check::load`]), the township planned for the days around `--at` (now when it is
//! left out), and the broadcast starting then — or the next one after it — turned into a
//! programme.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context as _;
use chrono::{DateTime, Duration, NaiveDateTime, Utc};

use super::{InputProblem, Selected};
use crate::check;
use crate::cli::Global;
use crate::loudness::message_gains;
use crate::plan::{self, Broadcast, Plan};
use crate::render::{Programme, programme_from_broadcast};

/// How far after `--at` the next broadcast is looked for, and before it the last one named
/// when there is none, days.
pub const SEARCH_DAYS: i64 = 7;

/// The zone of a `--at` written without one.
const AT_TZ: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

/// `--at`: RFC 3339 (`2026-12-01T08:00:00+08:00`), or a local time in Asia/Shanghai
/// (`2026-12-01 08:00`, `2026-12-01T08:00`, seconds optional).
pub fn parse_at(s: &str) -> Result<DateTime<Utc>, InputProblem> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    const FORMATS: [&str; 4] = [
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
    ];
    FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .map(|local| crate::schedule::cron::place_in_zone(AT_TZ, local))
        .ok_or_else(|| InputProblem(crate::t!("render-at-invalid", at = s)))
}

/// Which broadcast `--at` selects.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pick<'a> {
    /// One starts exactly then.
    Exact(&'a Broadcast),
    /// None starts then; this is the first after it.
    Next(&'a Broadcast),
    /// None at or after it; the last one before it, if any.
    Nothing { before: Option<&'a Broadcast> },
}

/// Pick from `broadcasts` (sorted by start, one township): the one starting at `at`, else the
/// first after it.
pub fn pick(broadcasts: &[Broadcast], at: DateTime<Utc>) -> Pick<'_> {
    match broadcasts.iter().find(|b| b.start >= at) {
        Some(b) if b.start == at => Pick::Exact(b),
        Some(b) => Pick::Next(b),
        None => Pick::Nothing {
            before: broadcasts.iter().rev().find(|b| b.start < at),
        },
    }
}

/// Plan `township` over `[at − SEARCH_DAYS, at + SEARCH_DAYS)` and select its broadcast; no
/// `at` means now, and the next broadcast from now.
pub(super) fn selected(
    global: &Global,
    township: &str,
    at: Option<&str>,
) -> anyhow::Result<Result<Selected, InputProblem>> {
    let now = Utc::now();
    let given = at.is_some();
    let at = match at.map(parse_at).unwrap_or(Ok(now)) {
        Ok(t) => t,
        Err(problem) => return Ok(Err(problem)),
    };
    let cache = global.data_dir().probe_cache();
    let inputs = check::load(&global.root, Some(&cache), now).with_context(|| {
        crate::t!(
            "render-cannot-load",
            root = global.root.display().to_string()
        )
    })?;
    let errors = inputs.diagnostics.iter().filter(|d| d.is_error()).count();
    if errors > 0 {
        eprintln!("{}", crate::t!("render-check-errors", errors = errors));
    }
    let code = match inputs.directory.township(township) {
        Ok(t) => t.code.clone(),
        Err(e) => {
            let problem = match e.suggestion() {
                Some(s) => crate::t!(
                    "render-unknown-township",
                    reason = e.to_string(),
                    hint = crate::t!("did-you-mean", name = s)
                ),
                None => e.to_string(),
            };
            return Ok(Err(InputProblem(problem)));
        }
    };
    let planned = plan_township(&inputs, &code, at);
    let b = match pick(&planned.broadcasts, at) {
        Pick::Exact(b) => {
            println!("{}", crate::t!("render-broadcast", broadcast = describe(b)));
            b
        }
        Pick::Next(b) if !given => {
            let line = crate::t!("render-next", now = local(at), broadcast = describe(b));
            println!("{line}");
            b
        }
        Pick::Next(b) => {
            let line = crate::t!("render-next-after", at = local(at), broadcast = describe(b));
            println!("{line}");
            b
        }
        Pick::Nothing { before } => return Ok(Err(nothing(&planned, &code, at, before))),
    };
    Ok(Ok(Selected {
        programme: with_air_gains(
            programme_from_broadcast(b, &global.root),
            &inputs,
            &global.root,
        ),
        loudness: inputs.settings.loudness,
    }))
}

/// Give every clip the gain the push path gives it ([`message_gains`]), so what is rendered
/// is what endpoints and stations receive.
fn with_air_gains(mut programme: Programme, inputs: &check::Inputs, root: &Path) -> Programme {
    let cfg = &inputs.settings.loudness;
    let mut gains = BTreeMap::new();
    for item in &mut programme.items {
        let of_message = gains.entry(item.message.clone()).or_insert_with(|| {
            inputs
                .catalog
                .message(&item.message)
                .map(|m| message_gains(root, m, cfg))
                .unwrap_or_default()
        });
        item.gain_db = of_message.get(&item.lang).map(|g| g.plan.gain_db);
    }
    programme
}

/// The plan of one township for the days around `at`.
fn plan_township(inputs: &check::Inputs, code: &str, at: DateTime<Utc>) -> Plan {
    let mut campaigns = inputs.campaigns.clone();
    for c in &mut campaigns {
        c.townships.retain(|t| t == code);
    }
    let span = Duration::days(SEARCH_DAYS);
    let (from, to) = (at - span, at + span);
    plan::plan(&campaigns, &inputs.directory, &inputs.catalog, from, to)
}

fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&AT_TZ)
        .format("%Y-%m-%d %H:%M:%S %:z")
        .to_string()
}

/// `城北镇 `513431100` at 2026-12-01 08:00:00 +08:00 (Asia/Shanghai), campaign `x`, 4 clips,
/// 41.3 s`
fn describe(b: &Broadcast) -> String {
    crate::t!(
        "render-describe",
        name = b.township_name.as_str(),
        code = b.township_code.as_str(),
        start = b.local_start().format("%Y-%m-%d %H:%M:%S %:z").to_string(),
        tz = b.timezone.name(),
        campaign = b.campaign.as_str(),
        clips = b.items.len(),
        seconds = format!("{:.3}", b.duration_s())
    )
}

/// The error when nothing airs at or after `at`: the last broadcast before it, and why
/// broadcasts the campaigns ask for there were skipped.
fn nothing(p: &Plan, code: &str, at: DateTime<Utc>, before: Option<&Broadcast>) -> InputProblem {
    let mut text = crate::t!(
        "render-nothing",
        code = code,
        at = local(at),
        days = SEARCH_DAYS
    );
    text.push_str(&match before {
        Some(b) => crate::t!("render-nearest-before", broadcast = describe(b)),
        None => crate::t!("render-none-before", days = SEARCH_DAYS),
    });
    let mut reasons: Vec<String> = p
        .skipped
        .iter()
        .filter(|s| s.township_code.as_deref().is_none_or(|t| t == code))
        .map(|s| format!("`{}`: {}", s.campaign, s.reason))
        .collect();
    reasons.dedup();
    if !reasons.is_empty() {
        text.push_str(&crate::t!(
            "render-skipped-there",
            reasons = reasons.join(", ")
        ));
    }
    InputProblem(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn broadcast(start: &str) -> Broadcast {
        Broadcast {
            reason: None,
            campaign: "c".into(),
            priority: 0,
            township_code: "513401001".into(),
            township_name: "北城街道".into(),
            county_code: "513401".into(),
            villages: Vec::new(),
            start: at(start),
            end: at(start) + Duration::seconds(30),
            timezone: AT_TZ,
            items: Vec::new(),
        }
    }

    #[test]
    fn at_is_rfc3339_or_shanghai_local() {
        crate::locale::set_thread(crate::locale::Locale::En);
        let want = at("2026-12-01T08:00:00+08:00");
        for s in [
            "2026-12-01 08:00",
            "2026-12-01T08:00",
            "2026-12-01 08:00:00",
        ] {
            assert_eq!(parse_at(s).unwrap(), want, "{s}");
        }
        assert_eq!(parse_at("2026-12-01T00:00:00Z").unwrap(), want);
        let err = parse_at("tomorrow 8am").unwrap_err().to_string();
        assert!(err.contains("`--at tomorrow 8am` is not a time"), "{err}");
    }

    #[test]
    fn picks_exact_then_next_then_names_the_last_before() {
        crate::locale::set_thread(crate::locale::Locale::En);
        let list = [
            broadcast("2026-12-01T07:30:00+08:00"),
            broadcast("2026-12-01T19:00:00+08:00"),
        ];
        assert_eq!(pick(&list, list[0].start), Pick::Exact(&list[0]));
        let noon = at("2026-12-01T12:00:00+08:00");
        assert_eq!(pick(&list, noon), Pick::Next(&list[1]));
        let late = at("2026-12-01T20:00:00+08:00");
        assert_eq!(
            pick(&list, late),
            Pick::Nothing {
                before: Some(&list[1])
            }
        );
        assert_eq!(pick(&[], late), Pick::Nothing { before: None });
        let plan = Plan::default();
        let text = nothing(&plan, "513401001", late, Some(&list[1])).to_string();
        assert!(
            text.contains("at or after 2026-12-01 20:00:00 +08:00"),
            "{text}"
        );
        assert!(text.contains("nearest before is 北城街道 `513401001` at 2026-12-01 19:00:00"));
    }
}
