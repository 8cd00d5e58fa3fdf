//! Planning one campaign over a window (the walk over its occurrences and townships that the
//! planner and the conflict search share), and settling the plan's conflicts.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use crate::calendar::DayInfo;
use crate::calendar::days::DayVerdict;
use crate::catalog::Catalog;
use crate::directory::{Directory, Township};
use crate::schedule::{Campaign, Rotation};

use super::days::Days;
use super::programme::{assemble, message_items, valid_on};
use super::settle::{Claim, minute, settle};
use super::{Broadcast, Conflict, ConflictKind, Plan, PlaylistItem, Skip, SkipReason};

/// A campaign message checked against the catalog once: its clips, or `None` if it never airs.
pub(super) struct Prepared<'a> {
    message: Option<&'a crate::catalog::Message>,
    items: Vec<PlaylistItem>,
}

/// Plan one campaign into `out`.
pub(super) fn campaign(
    c: &Campaign,
    directory: &Directory,
    catalog: &Catalog,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    out: &mut Plan,
) {
    let prepared = prepare(c, catalog, &mut out.skipped);
    let towns = townships(c, directory, &mut out.skipped);
    let broadcasts = &mut out.broadcasts;
    let turn = super::rotation::rotation_index(c, from);
    let walked = Walk {
        prepared: &prepared,
        towns: &towns,
        window: (from, to),
        turn,
    };
    walk(c, walked, &mut out.skipped, |town, a| {
        broadcasts.push(Broadcast {
            campaign: c.id.clone(),
            priority: c.priority,
            township_code: town.code.clone(),
            township_name: town.name.clone(),
            county_code: town.county_code.clone(),
            villages: c.villages.get(&town.code).cloned().unwrap_or_default(),
            start: a.start,
            end: a.end,
            timezone: c.timezone,
            items: a.items.to_vec(),
            reason: (!a.reasons.is_empty()).then(|| a.reasons.join("；")),
        })
    });
}

/// One occurrence of a campaign airing on one township, as [`walk`] hands it over.
pub(super) struct Airing<'a> {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub items: &'a [PlaylistItem],
    /// Why it airs that day (named days, market day), empty for every day.
    pub reasons: &'a [String],
}

/// What [`walk`] walks: a campaign's messages [`prepare`]d, the townships, the window
/// `[from, to)` and the round-robin turn of its first occurrence
/// ([`super::rotation::rotation_index`] of `from`).
pub(super) struct Walk<'w, 'p, 't> {
    pub prepared: &'w [Prepared<'p>],
    pub towns: &'w [&'t Township],
    pub window: (DateTime<Utc>, DateTime<Utc>),
    pub turn: i64,
}

/// Walk one campaign's occurrences, calling `emit` for each occurrence that airs on a township
/// (in time order, then in the order of the townships) and recording in `skipped` what does
/// not air and why. Returns how many occurrences there were (the turns they took).
pub(super) fn walk<'t>(
    c: &Campaign,
    Walk {
        prepared,
        towns,
        window: (from, to),
        turn,
    }: Walk<'_, '_, 't>,
    skipped: &mut Vec<Skip>,
    mut emit: impl FnMut(&'t Township, &Airing<'_>),
) -> i64 {
    let days = Days::new(c, from, to);
    let mut no_market: BTreeSet<&str> = BTreeSet::new();
    let all = slot_occurrences(c, from, to);
    let turns = all.len() as i64;
    for (idx, (slot, t)) in (turn..).zip(all) {
        let local = t.with_timezone(&c.timezone);
        let day = local.date_naive();
        if c.valid_from.is_some_and(|f| day < f) || c.valid_until.is_some_and(|u| day > u) {
            skipped.push(skip(c, None, Some(t), None, SkipReason::OutsideValidDates));
            continue;
        }
        let reasons = match days.judge(slot, day) {
            DayVerdict::Runs(r) => r,
            DayVerdict::Outside => continue,
            DayVerdict::Quiet(day) => {
                let reason = SkipReason::NamedDay { day };
                skipped.push(skip(c, None, Some(t), None, reason));
                continue;
            }
        };
        let info = days.needs_market(slot).then(|| DayInfo::of(day));
        let chosen = select(c, prepared, day, idx, t, skipped);
        if chosen.is_empty() {
            skipped.push(skip(c, None, Some(t), None, SkipReason::NothingToAir));
            continue;
        }
        let items = assemble(&chosen, c.repeats, c.gap_s);
        let total: f64 = items.iter().map(|i| i.duration_s + i.gap_after_s).sum();
        let end = t + chrono::Duration::milliseconds((total * 1000.0).round() as i64);
        for &town in towns {
            if c.quiet_hours_for(&town.code)
                .iter()
                .any(|q| q.contains(local.time()))
            {
                let code = Some(town.code.clone());
                skipped.push(skip(c, code, Some(t), None, SkipReason::QuietHours));
                continue;
            }
            let mut reasons = reasons.clone();
            if let Some(info) = &info {
                match days.market(town, info) {
                    (_, Some(r)) => reasons.push(r),
                    (true, None) => continue,
                    (false, None) => {
                        if no_market.insert(&town.code) {
                            let code = Some(town.code.clone());
                            let reason = SkipReason::NoMarketDays;
                            skipped.push(skip(c, code, None, None, reason));
                        }
                        continue;
                    }
                }
            }
            let airing = Airing {
                start: t,
                end,
                items: &items,
                reasons: &reasons,
            };
            emit(town, &airing);
        }
    }
    turns
}

fn skip(
    c: &Campaign,
    township_code: Option<String>,
    start: Option<DateTime<Utc>>,
    message: Option<&str>,
    reason: SkipReason,
) -> Skip {
    Skip {
        campaign: c.id.clone(),
        township_code,
        start,
        message: message.map(str::to_string),
        reason,
    }
}

/// Each campaign message against the catalog, in the campaign's order; window-wide skips for
/// the ones that can never air.
pub(super) fn prepare<'a>(
    c: &Campaign,
    catalog: &'a Catalog,
    skipped: &mut Vec<Skip>,
) -> Vec<Prepared<'a>> {
    c.messages
        .iter()
        .map(|id| {
            let Some(message) = catalog.message(id) else {
                skipped.push(skip(c, None, None, Some(id), SkipReason::UnknownMessage));
                return Prepared {
                    message: None,
                    items: Vec::new(),
                };
            };
            match message_items(c, message) {
                Ok(items) => Prepared {
                    message: Some(message),
                    items,
                },
                Err(reason) => {
                    skipped.push(skip(c, None, None, Some(id), reason));
                    Prepared {
                        message: None,
                        items: Vec::new(),
                    }
                }
            }
        })
        .collect()
}

/// The targeted townships the directory knows; a skip for each it does not.
fn townships<'a>(
    c: &Campaign,
    directory: &'a Directory,
    skipped: &mut Vec<Skip>,
) -> Vec<&'a Township> {
    let mut known = Vec::with_capacity(c.townships.len());
    for code in &c.townships {
        match directory.township(code) {
            Ok(t) => known.push(t),
            Err(_) => {
                let reason = SkipReason::UnknownTownship;
                skipped.push(skip(c, Some(code.clone()), None, None, reason));
            }
        }
    }
    known
}

/// The messages of one occurrence: all of them, or the one whose turn it is (falling forward
/// past messages that cannot air that day).
fn select<'p>(
    c: &Campaign,
    prepared: &'p [Prepared<'_>],
    day: NaiveDate,
    idx: i64,
    t: DateTime<Utc>,
    skipped: &mut Vec<Skip>,
) -> Vec<&'p [PlaylistItem]> {
    let airs = |p: &Prepared<'_>| p.message.is_some_and(|m| valid_on(m, day));
    let mut note_out_of_dates = |p: &Prepared<'_>| {
        if let Some(m) = p.message.filter(|m| !valid_on(m, day)) {
            let reason = SkipReason::MessageOutsideValidDates;
            skipped.push(skip(c, None, Some(t), Some(&m.id), reason));
        }
    };
    match c.rotation {
        Rotation::All => {
            prepared.iter().for_each(&mut note_out_of_dates);
            prepared
                .iter()
                .filter(|p| airs(p))
                .map(|p| &p.items[..])
                .collect()
        }
        Rotation::RoundRobin => {
            let n = prepared.len() as i64;
            if n == 0 {
                return Vec::new();
            }
            let first = idx.rem_euclid(n) as usize;
            note_out_of_dates(&prepared[first]);
            (0..prepared.len())
                .map(|k| &prepared[(first + k) % prepared.len()])
                .find(|p| airs(p))
                .map(|p| vec![&p.items[..]])
                .unwrap_or_default()
        }
    }
}

/// Every occurrence of every slot in `[from, to)`, merged, ascending, without duplicates.
pub(super) fn occurrences(
    c: &Campaign,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<DateTime<Utc>> {
    if from >= to {
        return Vec::new();
    }
    let mut all: Vec<DateTime<Utc>> = c
        .slots
        .iter()
        .flat_map(|s| s.schedule.occurrences(c.timezone, from, to))
        .collect();
    all.sort_unstable();
    all.dedup();
    all
}

/// [`occurrences`] with the slot each comes from (the first slot when two share an instant).
fn slot_occurrences(
    c: &Campaign,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<(usize, DateTime<Utc>)> {
    if from >= to {
        return Vec::new();
    }
    let mut all: Vec<(usize, DateTime<Utc>)> = c
        .slots
        .iter()
        .enumerate()
        .flat_map(|(i, s)| {
            s.schedule
                .occurrences(c.timezone, from, to)
                .into_iter()
                .map(move |t| (i, t))
        })
        .collect();
    all.sort_unstable_by_key(|&(i, t)| (t, i));
    all.dedup_by_key(|&mut (_, t)| t);
    all
}

/// Keep one broadcast per township per minute and no two programmes playing at once on one
/// loudspeaker ([`settle`]); the others become conflicts. Then sort by (start, township,
/// campaign).
pub(super) fn resolve_conflicts(out: &mut Plan) {
    let claims: Vec<Claim<&str, &str>> = out
        .broadcasts
        .iter()
        .map(|b| Claim {
            lane: b.township_code.as_str(),
            start: b.start,
            end: b.end,
            priority: b.priority,
            campaign: b.campaign.as_str(),
        })
        .collect();
    let (keep, clashes) = settle(&claims);
    drop(claims);
    let b = &out.broadcasts;
    out.conflicts.extend(clashes.iter().map(|c| {
        let (win, lose) = (&b[c.winner], &b[c.loser]);
        let kind = if c.same_minute {
            ConflictKind::SameMinute
        } else {
            ConflictKind::Overlap {
                winner_start: win.start,
                winner_end: win.end,
                loser_start: lose.start,
            }
        };
        Conflict {
            kind,
            township_code: lose.township_code.clone(),
            minute: Utc.timestamp_opt(minute(lose.start) * 60, 0).unwrap(),
            winner: win.campaign.clone(),
            winner_priority: win.priority,
            loser: lose.campaign.clone(),
            loser_priority: lose.priority,
        }
    }));
    let mut keep_iter = keep.into_iter();
    out.broadcasts.retain(|_| keep_iter.next().unwrap_or(true));
    out.broadcasts.sort_by(|x, y| {
        (x.start, &x.township_code, &x.campaign).cmp(&(y.start, &y.township_code, &y.campaign))
    });
    out.conflicts.sort_by(|x, y| {
        (x.minute, &x.township_code, &x.loser).cmp(&(y.minute, &y.township_code, &y.loser))
    });
}
