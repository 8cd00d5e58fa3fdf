//! Settling who gets a loudspeaker: one broadcast per township per minute, then no two
//! programmes playing at once. The rule lives here once, over a thin [`Claim`] of a broadcast,
//! so that the planner (townships by code, campaigns by id) and the conflict search (groups of
//! townships, campaigns by index) settle alike.

use std::cmp::Reverse;

use chrono::{DateTime, Utc};

/// What settling needs of a broadcast: where (`lane`, a township or a group of townships that
/// hear the same), when, at which priority, for which campaign (ordered as campaign ids are).
#[derive(Debug, Clone, Copy)]
pub(super) struct Claim<L, C> {
    pub lane: L,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub priority: i32,
    pub campaign: C,
}

/// One claim lost to another (indices into the claims).
#[derive(Debug, Clone, Copy)]
pub(super) struct Clash {
    pub winner: usize,
    pub loser: usize,
    /// Both start in the same minute; otherwise one starts while the other plays.
    pub same_minute: bool,
}

/// Keep one claim per lane per minute: highest priority, then smallest campaign; then, walking
/// each lane's kept claims by start, one that starts before the playing one ends collides with
/// it: the higher priority airs, on equal priority the one playing goes on to its end (one
/// starting exactly when the other ends does not collide). Returns which claims air and the
/// clashes, same-minute ones first, each kind in (lane, time) order.
pub(super) fn settle<L: Ord, C: Ord>(claims: &[Claim<L, C>]) -> (Vec<bool>, Vec<Clash>) {
    let mut idx: Vec<usize> = (0..claims.len()).collect();
    idx.sort_by(|&x, &y| {
        let key = |i: usize| {
            let c = &claims[i];
            (&c.lane, minute(c.start), Reverse(c.priority), &c.campaign)
        };
        key(x).cmp(&key(y))
    });
    let mut keep = vec![true; claims.len()];
    let mut clashes = Vec::new();
    let mut winner = None;
    for &i in &idx {
        let c = &claims[i];
        match winner {
            Some(w) if same_lane_minute(&claims[w], c) => {
                keep[i] = false;
                clashes.push(Clash {
                    winner: w,
                    loser: i,
                    same_minute: true,
                });
            }
            _ => winner = Some(i),
        }
    }
    idx.retain(|&i| keep[i]);
    idx.sort_by(|&x, &y| {
        let key = |i: usize| (&claims[i].lane, claims[i].start, &claims[i].campaign);
        key(x).cmp(&key(y))
    });
    let mut playing: Option<usize> = None;
    for &i in &idx {
        let v = &claims[i];
        let Some(p) = playing.filter(|&p| claims[p].lane == v.lane && v.start < claims[p].end)
        else {
            playing = Some(i);
            continue;
        };
        let (w, l) = if v.priority > claims[p].priority {
            (i, p)
        } else {
            (p, i)
        };
        keep[l] = false;
        playing = Some(w);
        clashes.push(Clash {
            winner: w,
            loser: l,
            same_minute: false,
        });
    }
    (keep, clashes)
}

fn same_lane_minute<L: Ord, C>(a: &Claim<L, C>, b: &Claim<L, C>) -> bool {
    a.lane == b.lane && minute(a.start) == minute(b.start)
}

/// Minutes since the Unix epoch.
pub(super) fn minute(t: DateTime<Utc>) -> i64 {
    t.timestamp().div_euclid(60)
}
