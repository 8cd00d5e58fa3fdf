//! Per-message playback state over simulated time: 1 waiting before the play window, 2 playing
//! inside it, 3 played (or 4 failed) after it, 5 when cancelled first; coverage from the
//! terminals of the message's areas. Also the simulator's clock.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, TimeDelta, Utc};

use crate::ebd::{
    BrdState, Coverage, CoverageFigure, Ebm, EbmBrdItem, Ebrbs, Ebrid, MsgType, ResBrdItem,
    ResBrdStat,
};

/// One accepted message.
#[derive(Debug, Clone)]
struct Message {
    ebm: Ebm,
    fails: bool,
    cancelled_at: Option<DateTime<Utc>>,
    terminals: u32,
    played_terminals: u32,
}

impl Message {
    fn state(&self, now: DateTime<Utc>) -> BrdState {
        let b = &self.ebm.basic;
        match self.cancelled_at {
            Some(c) if c < b.end_time && c <= now => return BrdState::Cancelled,
            _ => {}
        }
        if now < b.start_time {
            BrdState::Waiting
        } else if now < b.end_time {
            BrdState::Playing
        } else if self.fails {
            BrdState::Failed
        } else {
            BrdState::Played
        }
    }
}

/// What the simulator reports about one message at one time.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub state: BrdState,
    pub coverage: Option<Coverage>,
    pub res_brd_info: Vec<ResBrdItem>,
}

/// All messages the simulator has accepted, oldest forgotten first beyond `cap`.
#[derive(Debug)]
pub struct Playback {
    order: VecDeque<String>,
    messages: HashMap<String, Message>,
    cap: usize,
}

impl Playback {
    pub fn new(cap: usize) -> Playback {
        Playback {
            order: VecDeque::new(),
            messages: HashMap::new(),
            cap: cap.max(1),
        }
    }

    /// Record an accepted broadcast request (a retry of a known EBMID changes nothing).
    /// Returns whether it was new.
    pub fn record(&mut self, ebm: &Ebm, fails: bool, terminals: u32, played: u32) -> bool {
        let key = ebm.id.as_str().to_owned();
        if self.messages.contains_key(&key) || ebm.basic.msg_type != MsgType::Broadcast {
            return false;
        }
        let mut stored = ebm.clone();
        if let Some(c) = stored.content.as_mut() {
            c.auxiliary.clear();
        }
        self.messages.insert(
            key.clone(),
            Message {
                ebm: stored,
                fails,
                cancelled_at: None,
                terminals,
                played_terminals: played.min(terminals),
            },
        );
        self.order.push_back(key);
        while self.order.len() > self.cap {
            if let Some(old) = self.order.pop_front() {
                self.messages.remove(&old);
            }
        }
        true
    }

    /// Apply a cancel (MsgType 2): its target is `RelatedInfo/EBMID`, or, as some vendors send
    /// it, its own EBMID. Returns whether a message not yet finished was cancelled.
    pub fn cancel(&mut self, cancel: &Ebm, now: DateTime<Utc>) -> bool {
        let target = cancel.related.as_ref().unwrap_or(&cancel.id);
        match self.messages.get_mut(target.as_str()) {
            Some(m) if !m.state(now).is_final() && m.cancelled_at.is_none() => {
                m.cancelled_at = Some(now);
                true
            }
            _ => false,
        }
    }

    /// The report on `ebm_id` at `now`, if the message is known.
    pub fn report(&self, ebm_id: &str, now: DateTime<Utc>, platform: &Ebrid) -> Option<Report> {
        let m = self.messages.get(ebm_id)?;
        Some(report_of(m, now, platform))
    }

    /// Log items of messages whose play window starts within `[start, end]`.
    pub fn log(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        now: DateTime<Utc>,
        platform: &Ebrid,
    ) -> Vec<EbmBrdItem> {
        self.order
            .iter()
            .filter_map(|k| self.messages.get(k))
            .filter(|m| (start..=end).contains(&m.ebm.basic.start_time))
            .map(|m| {
                let r = report_of(m, now, platform);
                EbmBrdItem {
                    ebm: m.ebm.clone(),
                    units: Vec::new(),
                    brd_state_code: r.state.code(),
                    brd_state_desc: Some(r.state.desc_zh().to_owned()),
                    coverage: r.coverage,
                    res_brd_info: r.res_brd_info,
                }
            })
            .collect()
    }

    pub fn len(&self) -> usize {
        self.messages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }
}

fn report_of(m: &Message, now: DateTime<Utc>, platform: &Ebrid) -> Report {
    let state = m.state(now);
    let played = match state {
        BrdState::Played => m.played_terminals,
        BrdState::Playing => m.played_terminals,
        _ => 0,
    };
    let areas = m
        .ebm
        .content
        .as_ref()
        .map(|c| c.area_codes.clone())
        .unwrap_or_default();
    let coverage = matches!(
        state,
        BrdState::Playing | BrdState::Played | BrdState::Failed
    )
    .then(|| Coverage {
        figure: Some(CoverageFigure::Rate(if m.terminals == 0 {
            0.0
        } else {
            f64::from(played) / f64::from(m.terminals)
        })),
        area_codes: areas,
        res_brd_stat: Some(ResBrdStat {
            platforms: 1,
            adapters: 0,
            transmitters: 0,
            terminals: played,
        }),
    });
    let b = &m.ebm.basic;
    let res_brd_info = if state.is_final() && state != BrdState::Cancelled {
        vec![ResBrdItem {
            ebrps: Some(platform.clone()),
            ebrbs: vec![Ebrbs {
                rpt_time: Some(now),
                brd_sys_info: None,
                start_time: Some(b.start_time),
                end_time: Some(b.end_time),
                file_url: None,
                brd_state_code: Some(state.code()),
                brd_state_desc: Some(state.desc_zh().to_owned()),
            }],
        }]
    } else {
        Vec::new()
    };
    Report {
        state,
        coverage,
        res_brd_info,
    }
}

/// Where "now" comes from.
#[derive(Debug, Clone)]
pub enum SimClock {
    /// Wall time, sped up by `speed` from `origin`.
    System {
        speed: f64,
        origin: DateTime<Utc>,
        started: Instant,
    },
    /// A time set from outside.
    Manual(Arc<Mutex<DateTime<Utc>>>),
}

impl SimClock {
    /// Wall time sped up by `speed` from now on.
    pub fn system(speed: f64) -> SimClock {
        SimClock::System {
            speed: if speed.is_finite() && speed > 0.0 {
                speed
            } else {
                1.0
            },
            origin: Utc::now(),
            started: Instant::now(),
        }
    }

    /// A manual clock at `at`.
    pub fn manual(at: DateTime<Utc>) -> SimClock {
        SimClock::Manual(Arc::new(Mutex::new(at)))
    }

    pub fn now(&self) -> DateTime<Utc> {
        match self {
            SimClock::System {
                speed,
                origin,
                started,
            } => {
                let ms = started.elapsed().as_secs_f64() * speed * 1000.0;
                *origin + TimeDelta::milliseconds(ms as i64)
            }
            SimClock::Manual(t) => *t.lock().unwrap_or_else(|e| e.into_inner()),
        }
    }

    /// Set a manual clock (no effect on a system clock).
    pub fn set(&self, at: DateTime<Utc>) {
        if let SimClock::Manual(t) = self {
            *t.lock().unwrap_or_else(|e| e.into_inner()) = at;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ebd::{EbmId, IdFormat, MsgBasicInfo, MsgContent, parse_time};

    fn t(s: &str) -> DateTime<Utc> {
        parse_time(s).unwrap()
    }

    fn ebm(seq: u32) -> Ebm {
        let sender = Ebrid::parse("45134310000000102010101", IdFormat::V2018).unwrap();
        Ebm {
            version: "1".into(),
            id: EbmId::new(&sender, t("2025-11-27 09:00:00").date_naive(), seq).unwrap(),
            related: None,
            basic: MsgBasicInfo {
                msg_type: MsgType::Broadcast,
                sender_name: "x".into(),
                sender_code: "513431000000".into(),
                send_time: t("2025-11-27 09:00:00"),
                event_type: "14B20".into(),
                severity: 10,
                start_time: t("2025-11-27 19:30:00"),
                end_time: t("2025-11-27 19:45:00"),
            },
            content: Some(MsgContent {
                language_code: "iii".into(),
                title: "t".into(),
                desc: Some("d".into()),
                area_codes: vec!["513431100000".into()],
                auxiliary: vec![],
            }),
        }
    }

    fn platform() -> Ebrid {
        Ebrid::parse("45134310000000103010101", IdFormat::V2018).unwrap()
    }

    #[test]
    fn states_follow_the_play_window() {
        let mut p = Playback::new(10);
        let m = ebm(1);
        assert!(p.record(&m, false, 10, 8));
        assert!(!p.record(&m, false, 10, 8), "a retry is not a new message");
        let id = m.id.as_str();
        let at = |s| p.report(id, t(s), &platform()).unwrap();
        assert_eq!(at("2025-11-27 19:00:00").state, BrdState::Waiting);
        assert!(at("2025-11-27 19:00:00").coverage.is_none());
        assert_eq!(at("2025-11-27 19:31:00").state, BrdState::Playing);
        let done = at("2025-11-27 19:45:00");
        assert_eq!(done.state, BrdState::Played);
        let cov = done.coverage.unwrap();
        assert_eq!(cov.figure, Some(CoverageFigure::Rate(0.8)));
        assert_eq!(cov.res_brd_stat.unwrap().terminals, 8);
        assert_eq!(done.res_brd_info.len(), 1);
        assert!(
            p.report("nope", t("2025-11-27 19:45:00"), &platform())
                .is_none()
        );
    }

    #[test]
    fn failures_cancels_and_the_cap() {
        let mut p = Playback::new(2);
        p.record(&ebm(1), true, 4, 4);
        let end = t("2025-11-27 20:00:00");
        let r = p.report(ebm(1).id.as_str(), end, &platform()).unwrap();
        assert_eq!(r.state, BrdState::Failed);
        assert_eq!(r.coverage.unwrap().res_brd_stat.unwrap().terminals, 0);
        p.record(&ebm(2), false, 4, 4);
        let mut cancel = ebm(3);
        cancel.basic.msg_type = MsgType::Cancel;
        cancel.related = Some(ebm(2).id);
        assert!(p.cancel(&cancel, t("2025-11-27 19:00:00")));
        let r = p.report(ebm(2).id.as_str(), end, &platform()).unwrap();
        assert_eq!(r.state, BrdState::Cancelled);
        // a cancel under the message's own id, after it played, changes nothing
        let mut late = ebm(1);
        late.basic.msg_type = MsgType::Cancel;
        assert!(!p.cancel(&late, end));
        assert_eq!(
            p.log(t("2025-11-27 00:00:00"), end, end, &platform()).len(),
            2
        );
        p.record(&ebm(4), false, 1, 1);
        assert_eq!(p.len(), 2);
        assert!(p.report(ebm(1).id.as_str(), end, &platform()).is_none());
    }

    #[test]
    fn manual_clock_moves_when_set() {
        let t0 = t("2025-11-27 09:00:00");
        let c = SimClock::manual(t0);
        assert_eq!(c.now(), t0);
        c.set(t0 + TimeDelta::hours(1));
        assert_eq!(c.clone().now(), t0 + TimeDelta::hours(1));
        let s = SimClock::system(-3.0);
        assert!(matches!(s, SimClock::System { speed, .. } if speed == 1.0));
    }
}
