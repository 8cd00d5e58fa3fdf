//! The conflicts of a long window, found without planning every township: townships that every
//! campaign treats alike (targeted by the same campaigns, with the same quiet hours and, where a
//! campaign runs on market days, the same market rule) hear exactly the same broadcasts, so they
//! share one *lane*, planned once and counted as many times as it has townships. A slot every
//! minute over all 304 townships is then planned for a handful of lanes, not 304 times, and
//! only the times of each broadcast are kept, not its programme.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, TimeZone, Utc};

use super::build::{Walk, prepare, walk};
use super::rotation::rotation_index;
use super::settle::{Claim, minute, settle};
use super::{Conflict, ConflictKind};
use crate::calendar::Market;
use crate::catalog::Catalog;
use crate::directory::{Directory, Township};
use crate::schedule::{Campaign, QuietHours};

/// Every conflict of one loser with one winner of one kind, over all windows and townships.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairConflicts {
    /// The earliest (then on the smallest township code), as [`super::plan`] would list it.
    pub first: Conflict,
    /// Broadcasts the loser does not air because of the winner, summed over the townships.
    pub broadcasts: usize,
    /// Townships where that happens.
    pub townships: usize,
}

/// The conflicts [`super::plan`] would report over each of `windows` (each planned on its
/// own, as `plan` over that window), grouped by (loser, winner, same minute before overlap),
/// in that order.
pub fn conflicts_by_pair(
    campaigns: &[Campaign],
    directory: &Directory,
    catalog: &Catalog,
    windows: &[(DateTime<Utc>, DateTime<Utc>)],
) -> Vec<PairConflicts> {
    let mut order: Vec<&Campaign> = campaigns.iter().collect();
    order.sort_by(|a, b| a.id.cmp(&b.id));
    let lanes = Lanes::new(&order, directory);
    tracing::debug!(
        groups = lanes.reps.len(),
        townships = lanes.size.iter().sum::<usize>(),
        "conflict search"
    );
    let mut pairs: BTreeMap<(usize, usize, bool), Tally> = BTreeMap::new();
    let mut claims: Vec<Claim<usize, usize>> = Vec::new();
    let mut skipped = Vec::new();
    // Each campaign's round-robin turn at the start of the next window: counted from the
    // anchor once, then carried over from window to window while they follow each other.
    let mut turns: Vec<Option<(DateTime<Utc>, i64)>> = vec![None; order.len()];
    for &window in windows {
        claims.clear();
        for (ci, c) in order.iter().enumerate() {
            let prepared = prepare(c, catalog, &mut skipped);
            let turn = match turns[ci] {
                Some((at, turn)) if at == window.0 => turn,
                _ => rotation_index(c, window.0),
            };
            let walked = Walk {
                prepared: &prepared,
                towns: &lanes.towns[ci],
                window,
                turn,
            };
            let taken = walk(c, walked, &mut skipped, |t, a| {
                claims.push(Claim {
                    lane: lanes.lane[t.code.as_str()],
                    start: a.start,
                    end: a.end,
                    priority: c.priority,
                    campaign: ci,
                })
            });
            turns[ci] = Some((window.1, turn + taken));
            skipped.clear();
        }
        let (_, clashes) = settle(&claims);
        for clash in clashes {
            let (w, l) = (&claims[clash.winner], &claims[clash.loser]);
            let key = (l.campaign, w.campaign, !clash.same_minute);
            let tally = pairs.entry(key).or_insert_with(|| Tally::new(w, l));
            tally.count += lanes.size[l.lane];
            tally.lanes.insert(l.lane);
            if (minute(l.start), l.lane) < (minute(tally.loser.start), tally.loser.lane) {
                (tally.winner, tally.loser) = (*w, *l);
            }
        }
    }
    pairs
        .into_iter()
        .map(|((_, _, overlap), t)| {
            let (w, l) = (&t.winner, &t.loser);
            let kind = if overlap {
                ConflictKind::Overlap {
                    winner_start: w.start,
                    winner_end: w.end,
                    loser_start: l.start,
                }
            } else {
                ConflictKind::SameMinute
            };
            let first = Conflict {
                kind,
                township_code: lanes.reps[l.lane].code.clone(),
                minute: Utc.timestamp_opt(minute(l.start) * 60, 0).unwrap(),
                winner: order[w.campaign].id.clone(),
                winner_priority: w.priority,
                loser: order[l.campaign].id.clone(),
                loser_priority: l.priority,
            };
            let townships = t.lanes.iter().map(|&l| lanes.size[l]).sum();
            PairConflicts {
                first,
                broadcasts: t.count,
                townships,
            }
        })
        .collect()
}

/// One pair's conflicts so far: the first clash, the broadcasts lost and the lanes.
struct Tally {
    winner: Claim<usize, usize>,
    loser: Claim<usize, usize>,
    count: usize,
    lanes: BTreeSet<usize>,
}

impl Tally {
    fn new(w: &Claim<usize, usize>, l: &Claim<usize, usize>) -> Tally {
        Tally {
            winner: *w,
            loser: *l,
            count: 0,
            lanes: BTreeSet::new(),
        }
    }
}

/// How a campaign treats one township: targeted (how many times), its quiet hours, its market
/// rule when the campaign runs on market days.
type Treatment<'a> = (usize, usize, &'a [QuietHours], Option<*const Market>);

/// Townships grouped by how every campaign treats them.
struct Lanes<'d> {
    /// Each lane's township with the smallest code, lanes in the order of those codes.
    reps: Vec<&'d Township>,
    /// Townships per lane.
    size: Vec<usize>,
    /// A representative's code → its lane.
    lane: HashMap<&'d str, usize>,
    /// Per campaign (in `order`), the representatives it targets, each as often as it targets
    /// the township.
    towns: Vec<Vec<&'d Township>>,
}

impl<'d> Lanes<'d> {
    fn new(order: &[&Campaign], directory: &'d Directory) -> Lanes<'d> {
        let mut targeted: BTreeMap<&'d str, (&'d Township, Vec<Treatment<'_>>)> = BTreeMap::new();
        for (ci, c) in order.iter().enumerate() {
            let market = super::days::uses_market(c);
            let mut times: BTreeMap<&'d str, (&'d Township, usize)> = BTreeMap::new();
            for t in c
                .townships
                .iter()
                .filter_map(|q| directory.township(q).ok())
            {
                times.entry(t.code.as_str()).or_insert((t, 0)).1 += 1;
            }
            for (code, (t, n)) in times {
                let rule = market
                    .then(|| c.calendar.markets.for_township(t).map(|m| m as *const _))
                    .flatten();
                let treatment = (ci, n, c.quiet_hours_for(code), rule);
                targeted
                    .entry(code)
                    .or_insert((t, Vec::new()))
                    .1
                    .push(treatment);
            }
        }
        let mut lanes = Lanes {
            reps: Vec::new(),
            size: Vec::new(),
            lane: HashMap::new(),
            towns: vec![Vec::new(); order.len()],
        };
        // Few distinct treatments (a lane per county at most, in practice): a list will do.
        let mut seen: Vec<(Vec<Treatment<'_>>, usize)> = Vec::new();
        for (code, (t, treatments)) in targeted {
            if let Some((_, l)) = seen.iter().find(|(s, _)| *s == treatments) {
                lanes.size[*l] += 1;
                continue;
            }
            let l = lanes.reps.len();
            for &(ci, n, _, _) in &treatments {
                lanes.towns[ci].extend(std::iter::repeat_n(t, n));
            }
            seen.push((treatments, l));
            lanes.reps.push(t);
            lanes.size.push(1);
            lanes.lane.insert(code, l);
        }
        lanes
    }
}
