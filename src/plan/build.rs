//! Planning one campaign over a window, and settling same-minute conflicts between campaigns.

use std::cmp::Reverse;
use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use crate::calendar::DayInfo;
use crate::calendar::days::DayVerdict;
use crate::catalog::Catalog;
use crate::directory::{Directory, Township};
use crate::schedule::{Campaign, Rotation};

use super::days::Days;
use super::programme::{assemble, message_items, valid_on};
use super::{Broadcast, Conflict, ConflictKind, Plan, PlaylistItem, Skip, SkipReason};

/// A campaign message checked against the catalog once: its clips, or `None` if it never airs.
struct Prepared<'a> {
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
    let first = super::rotation::rotation_index(c, from);
    let days = Days::new(c, from, to);
    let mut no_market: BTreeSet<&str> = BTreeSet::new();
    for (idx, (slot, t)) in (first..).zip(slot_occurrences(c, from, to)) {
        let local = t.with_timezone(&c.timezone);
        let day = local.date_naive();
        if c.valid_from.is_some_and(|f| day < f) || c.valid_until.is_some_and(|u| day > u) {
            out.skipped
                .push(skip(c, None, Some(t), None, SkipReason::OutsideValidDates));
            continue;
        }
        let reasons = match days.judge(slot, day) {
            DayVerdict::Runs(r) => r,
            DayVerdict::Outside => continue,
            DayVerdict::Quiet(day) => {
                let reason = SkipReason::NamedDay { day };
                out.skipped.push(skip(c, None, Some(t), None, reason));
                continue;
            }
        };
        let info = days.needs_market(slot).then(|| DayInfo::of(day));
        let chosen = select(c, &prepared, day, idx, t, &mut out.skipped);
        if chosen.is_empty() {
            out.skipped
                .push(skip(c, None, Some(t), None, SkipReason::NothingToAir));
            continue;
        }
        let items = assemble(&chosen, c.repeats, c.gap_s);
        let total: f64 = items.iter().map(|i| i.duration_s + i.gap_after_s).sum();
        let end = t + chrono::Duration::milliseconds((total * 1000.0).round() as i64);
        for town in &towns {
            if c.quiet_hours_for(&town.code)
                .iter()
                .any(|q| q.contains(local.time()))
            {
                let code = Some(town.code.clone());
                out.skipped
                    .push(skip(c, code, Some(t), None, SkipReason::QuietHours));
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
                            out.skipped.push(skip(c, code, None, None, reason));
                        }
                        continue;
                    }
                }
            }
            out.broadcasts.push(Broadcast {
                campaign: c.id.clone(),
                priority: c.priority,
                township_code: town.code.clone(),
                township_name: town.name.clone(),
                county_code: town.county_code.clone(),
                villages: c.villages.get(&town.code).cloned().unwrap_or_default(),
                start: t,
                end,
                timezone: c.timezone,
                items: items.clone(),
                reason: (!reasons.is_empty()).then(|| reasons.join("；")),
            });
        }
    }
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
fn prepare<'a>(c: &Campaign, catalog: &'a Catalog, skipped: &mut Vec<Skip>) -> Vec<Prepared<'a>> {
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

/// Keep one broadcast per township per minute: highest priority, then smallest campaign id;
/// then no two programmes playing at once on one loudspeaker ([`resolve_overlaps`]). The others
/// become conflicts. Then sort by (start, township, campaign).
pub(super) fn resolve_conflicts(out: &mut Plan) {
    let b = &out.broadcasts;
    let mut idx: Vec<usize> = (0..b.len()).collect();
    idx.sort_by(|&x, &y| {
        let key = |i: usize| {
            let v = &b[i];
            (
                &v.township_code,
                minute(v.start),
                Reverse(v.priority),
                &v.campaign,
            )
        };
        key(x).cmp(&key(y))
    });
    let mut keep = vec![true; b.len()];
    for pair in idx.windows(2) {
        let (w, l) = (&b[pair[0]], &b[pair[1]]);
        if w.township_code == l.township_code && minute(w.start) == minute(l.start) {
            keep[pair[1]] = false;
        }
    }
    let mut winner = None;
    for &i in &idx {
        let v = &b[i];
        if keep[i] {
            winner = Some(i);
        } else if let Some(w) = winner.map(|w| &b[w]) {
            out.conflicts.push(Conflict {
                kind: ConflictKind::SameMinute,
                township_code: v.township_code.clone(),
                minute: Utc.timestamp_opt(minute(v.start) * 60, 0).unwrap(),
                winner: w.campaign.clone(),
                winner_priority: w.priority,
                loser: v.campaign.clone(),
                loser_priority: v.priority,
            });
        }
    }
    let mut keep_iter = keep.into_iter();
    out.broadcasts.retain(|_| keep_iter.next().unwrap_or(true));
    resolve_overlaps(out);
    out.broadcasts.sort_by(|x, y| {
        (x.start, &x.township_code, &x.campaign).cmp(&(y.start, &y.township_code, &y.campaign))
    });
    out.conflicts.sort_by(|x, y| {
        (x.minute, &x.township_code, &x.loser).cmp(&(y.minute, &y.township_code, &y.loser))
    });
}

/// One programme at a time per township: walking each township's broadcasts by start, one
/// that starts before the playing one ends collides with it. The higher priority airs; on equal
/// priority the one playing goes on to its end. A broadcast ends when its last clip does, so one
/// starting exactly then does not collide.
fn resolve_overlaps(out: &mut Plan) {
    let b = &out.broadcasts;
    let mut idx: Vec<usize> = (0..b.len()).collect();
    idx.sort_by(|&x, &y| {
        let key = |i: usize| (&b[i].township_code, b[i].start, &b[i].campaign);
        key(x).cmp(&key(y))
    });
    let mut keep = vec![true; b.len()];
    let mut playing: Option<usize> = None;
    for &i in &idx {
        let v = &b[i];
        let Some(p) =
            playing.filter(|&p| b[p].township_code == v.township_code && v.start < b[p].end)
        else {
            playing = Some(i);
            continue;
        };
        let (w, l) = if v.priority > b[p].priority {
            (i, p)
        } else {
            (p, i)
        };
        keep[l] = false;
        playing = Some(w);
        let (win, lose) = (&b[w], &b[l]);
        out.conflicts.push(Conflict {
            kind: ConflictKind::Overlap {
                winner_start: win.start,
                winner_end: win.end,
                loser_start: lose.start,
            },
            township_code: lose.township_code.clone(),
            minute: Utc.timestamp_opt(minute(lose.start) * 60, 0).unwrap(),
            winner: win.campaign.clone(),
            winner_priority: win.priority,
            loser: lose.campaign.clone(),
            loser_priority: lose.priority,
        });
    }
    let mut keep_iter = keep.into_iter();
    out.broadcasts.retain(|_| keep_iter.next().unwrap_or(true));
}

/// Minutes since the Unix epoch.
fn minute(t: DateTime<Utc>) -> i64 {
    t.timestamp().div_euclid(60)
}
