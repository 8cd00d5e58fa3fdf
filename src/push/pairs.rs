//! Whole pairs: a Yi–Mandarin pair airs both halves or neither. When one half ends `expired`,
//! `rejected` or `failed`, its partner is stopped: never sent if it is still pending, otherwise
//! cancelled at its platform (an EBM with MsgType 2 and the same EBMID, or a webhook cancel
//! body). The cancel is recorded in the ledger before it is sent — a restart sends a recorded,
//! unsettled cancel again, under the same package id — and is retried with backoff until the
//! partner's own air-by (the slot's); a refused or late cancel is reported as half a pair that
//! may have aired alone.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rand::SeedableRng as _;
use tokio::sync::watch;

use super::{PushError, Pusher};
use crate::dispatch::{AttemptOutcome, Clock};
use crate::lang::Lang;
use crate::ledger::{Cancel, CancelState, Delivery, DeliveryId, DeliveryState, RunId};

/// A half to stop because its partner ended badly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    /// The half to stop (pending, sent or delivered).
    pub half: DeliveryId,
    /// Whether it was never sent (pending): stopped here, nothing to cancel at the platform.
    pub unsent: bool,
    /// "Mandarin half expired".
    pub reason: String,
}

/// The English name of a language's half, as reasons say it (the ledger keeps them in English).
pub fn half_name(lang: Lang) -> &'static str {
    match lang {
        Lang::Ii => "Yi",
        Lang::Zh => "Mandarin",
    }
}

/// A language's half as staff read it, in their language: "Yi half", "彝语半段".
pub fn half_shown(lang: Lang) -> String {
    crate::t!("pair-half", lang = lang.code())
}

/// The ends of a half that stop its partner.
const BAD: [DeliveryState; 3] = [
    DeliveryState::Expired,
    DeliveryState::Rejected,
    DeliveryState::Failed,
];

/// Halves of `deliveries` (one run) whose partner ended `expired`, `rejected` or `failed` and
/// which are not themselves final yet.
pub fn broken_halves(deliveries: &[Delivery]) -> Vec<Broken> {
    let mut out = Vec::new();
    for d in deliveries.iter().filter(|d| BAD.contains(&d.state)) {
        let Some(related) = &d.plan.related_ebm_id else {
            continue;
        };
        let partner = deliveries
            .iter()
            .find(|p| &p.plan.ebm_id == related && p.plan.endpoint == d.plan.endpoint);
        if let Some(p) = partner.filter(|p| !p.state.is_final()) {
            out.push(Broken {
                half: p.id,
                unsent: p.state == DeliveryState::Pending,
                reason: format!("{} half {}", half_name(d.plan.lang), d.state),
            });
        }
    }
    out
}

/// The deadline of a pair whose first half's play window opens at `first_start`: both halves
/// must be delivered before that window opens, and never later than the slot's air-by. A pair
/// recorded once its window is already open (a late run) keeps the slot's air-by.
pub fn pair_deadline(
    first_start: DateTime<Utc>,
    slot_air_by: DateTime<Utc>,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    if first_start > now {
        first_start.min(slot_air_by)
    } else {
        slot_air_by
    }
}

impl Pusher {
    /// Stop the partners of `run`'s broken pairs: a pending partner this instance holds the
    /// lease of (`held`) is cancelled here (never sent); for a sent or delivered one a cancel is
    /// recorded with the slot's air-by `cancel_by` (sent by its lease holder). Returns the
    /// pending partners stopped here.
    pub async fn break_pairs(
        &self,
        run: RunId,
        held: &HashSet<DeliveryId>,
        cancel_by: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<DeliveryId>, PushError> {
        let (this, held) = (self.clone(), held.clone());
        tokio::task::spawn_blocking(move || this.break_pairs_blocking(run, &held, cancel_by, now))
            .await
            .expect("ledger task")
    }

    fn break_pairs_blocking(
        &self,
        run: RunId,
        held: &HashSet<DeliveryId>,
        cancel_by: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<DeliveryId>, PushError> {
        // Most runs have no half that ended badly: then nothing else of theirs is read.
        if self.ledger.deliveries_of_run_in(run, &BAD)?.is_empty() {
            return Ok(Vec::new());
        }
        let deliveries = self.ledger.deliveries_of_run(run)?;
        let recorded: Vec<DeliveryId> = self
            .ledger
            .cancels(Some(run))?
            .into_iter()
            .map(|c| c.delivery)
            .collect();
        let mut stopped = Vec::new();
        for b in broken_halves(&deliveries) {
            if b.unsent && !held.contains(&b.half) {
                continue;
            }
            if b.unsent {
                let reason = format!("{}; not sent, so its pair does not air in half", b.reason);
                self.ledger
                    .transition(b.half, DeliveryState::Cancelled, Some(&reason), now)?;
                tracing::warn!(delivery = %b.half, %reason, "half of a pair withheld");
                stopped.push(b.half);
                continue;
            }
            if recorded.contains(&b.half) {
                continue;
            }
            let Some(d) = deliveries.iter().find(|d| d.id == b.half) else {
                continue;
            };
            self.record_cancel_of(d, b.reason, cancel_by, now)?;
        }
        Ok(stopped)
    }

    /// Send every unsettled cancel of `run` under the lease of its delivery ([`Pusher::
    /// send_cancel_leased`]: held here in `held`, or free) until each is confirmed, refused or
    /// past its `cancel_by`; wire times from `clock` (the real clock). A cancel whose delivery
    /// another instance holds is that instance's to send.
    pub async fn send_cancels(
        &self,
        run: RunId,
        held: &HashSet<DeliveryId>,
        clock: Clock,
        shutdown: watch::Receiver<bool>,
    ) -> Result<(), PushError> {
        let ledger = Arc::clone(&self.ledger);
        let open: Vec<(Cancel, Option<Delivery>)> = tokio::task::spawn_blocking(move || {
            let cancels = ledger.cancels(Some(run))?;
            cancels
                .into_iter()
                .filter(|c| c.state == CancelState::Pending)
                .map(|c| {
                    let d = ledger.delivery(c.delivery)?;
                    Ok((c, d))
                })
                .collect::<Result<Vec<_>, crate::ledger::LedgerError>>()
        })
        .await
        .expect("ledger task")?;
        let sends = open.into_iter().filter_map(|(c, d)| {
            let d = d?;
            let mine = held.contains(&d.id);
            Some(self.send_cancel_leased(c, d, mine, clock, shutdown.clone()))
        });
        for r in futures_util::future::join_all(sends).await {
            r?;
        }
        Ok(())
    }

    /// [`Pusher::send_cancel`] if this instance holds the lease of the cancel's delivery
    /// (`held`), or can take it now (its holder released it, or died): then under a lease of
    /// its own, renewed while the cancel goes on. Otherwise another instance holds it and sends
    /// the cancel: nothing here, so a cancel never goes out from two instances.
    pub(super) async fn send_cancel_leased(
        &self,
        c: Cancel,
        d: Delivery,
        held: bool,
        clock: Clock,
        shutdown: watch::Receiver<bool>,
    ) -> Result<(), PushError> {
        if held {
            return self.send_cancel(c, d, clock, shutdown).await;
        }
        let taken = self.take_leases(vec![d.id], clock).await?;
        if taken.is_empty() {
            tracing::info!(delivery = %d.id, "cancel left to the instance holding its delivery");
            return Ok(());
        }
        let keeper = self.keep_leases(taken, clock);
        let sent = self.send_cancel(c, d, clock, shutdown.clone()).await;
        let stopping = *shutdown.borrow();
        keeper.done(stopping, clock).await;
        sent
    }

    pub(super) async fn send_cancel(
        &self,
        c: Cancel,
        d: Delivery,
        clock: Clock,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<(), PushError> {
        let backoff = crate::push::backoff(&self.registry);
        let mut rng = rand::rngs::StdRng::from_os_rng();
        let mut failures = 0u32;
        let mut last = String::new();
        let (to, detail) = loop {
            let now = clock.now();
            if now >= c.cancel_by {
                let why = format!(
                    "not confirmed before the half's air-by {}: {last}",
                    c.cancel_by.format("%Y-%m-%d %H:%M:%S UTC")
                );
                break (CancelState::TooLate, why);
            }
            let wire = self.wire.now();
            match self.router.cancel(&d, &c.ebd_id, &c.reason, wire).await {
                AttemptOutcome::Delivered | AttemptOutcome::Accepted => {
                    break (CancelState::Done, "the platform took the cancel".into());
                }
                AttemptOutcome::Rejected { code, reason } => {
                    let why = format!("cancel refused: ResultCode {code}: {reason}");
                    break (CancelState::Refused, why);
                }
                // An unverified answer proves nothing: a cancel is safe to send again.
                AttemptOutcome::Retryable { detail, .. }
                | AttemptOutcome::Unverified { detail } => {
                    failures += 1;
                    tracing::info!(delivery = %d.id, %detail, failures, "cancel not through yet");
                    last = detail;
                }
            }
            let wait = backoff.delay(failures, &mut rng);
            let until = (clock.now() + crate::dispatch::delta(wait)).min(c.cancel_by);
            tokio::select! {
                biased;
                _ = shutdown.wait_for(|s| *s) => return Ok(()),
                () = tokio::time::sleep_until(clock.instant_at(until)) => {}
            }
        };
        let (ledger, id, now) = (Arc::clone(&self.ledger), d.id, clock.now());
        let text = detail.clone();
        tokio::task::spawn_blocking(move || ledger.settle_cancel(id, to, Some(&text), now))
            .await
            .expect("ledger task")?;
        match to {
            CancelState::Done => {
                tracing::info!(delivery = %d.id, endpoint = %d.plan.endpoint, reason = %c.reason, "half of a broken pair cancelled");
            }
            _ => {
                tracing::error!(delivery = %d.id, endpoint = %d.plan.endpoint, reason = %c.reason, %detail, "half a pair may air alone");
            }
        }
        Ok(())
    }
}

/// Plain lines on a run's broken pairs: each cancelled half with its reason, and each half that
/// aired (or may air) alone — where and why.
pub fn pair_lines(cancels: &[Cancel], deliveries: &[Delivery]) -> Vec<String> {
    let mut out = Vec::new();
    for c in cancels {
        let Some(d) = deliveries.iter().find(|d| d.id == c.delivery) else {
            continue;
        };
        let key = match (c.state, d.state) {
            (CancelState::Done, _) | (_, DeliveryState::Cancelled) => "run-pair-cancelled",
            (CancelState::Pending, _) => "run-pair-cancel-pending",
            (_, DeliveryState::Played) => "run-pair-aired-alone",
            _ => "run-pair-may-air",
        };
        out.push(crate::t!(
            key,
            half = half_shown(d.plan.lang),
            endpoint = d.plan.endpoint.as_str(),
            townships = d.plan.townships.join(", "),
            reason = c.reason.as_str(),
            detail = c.detail.as_deref().unwrap_or("")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::ledger::NewDelivery;

    fn t(m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 4, 10, m, s).unwrap()
    }

    fn half(id: i64, lang: Lang, state: DeliveryState, partner: i64) -> Delivery {
        Delivery {
            id: DeliveryId(id),
            plan: NewDelivery {
                run: RunId(1),
                endpoint: "zhaojue".into(),
                segment: id as u32,
                lang,
                message: "m".into(),
                repeat: 0,
                townships: vec!["513431100".into()],
                ebd_id: format!("ebd{id}"),
                ebm_id: format!("ebm{id}"),
                related_ebm_id: Some(format!("ebm{partner}")),
                window_start: t(0, 0),
                window_end: t(0, 30),
                air_by: t(0, 0),
                payload_digest: String::new(),
            },
            state,
            reason: None,
            created_at: t(0, 0),
            updated_at: t(0, 0),
        }
    }

    #[test]
    fn a_bad_end_breaks_the_pair_and_names_the_half() {
        use DeliveryState::*;
        let ds = [
            half(1, Lang::Ii, Delivered, 2),
            half(2, Lang::Zh, Expired, 1),
            half(3, Lang::Ii, Rejected, 4),
            half(4, Lang::Zh, Pending, 3),
            half(5, Lang::Ii, Played, 6),
            half(6, Lang::Zh, Failed, 5),
            half(7, Lang::Ii, Played, 8),
            half(8, Lang::Zh, Played, 7),
        ];
        let broken = broken_halves(&ds);
        assert_eq!(
            broken,
            [
                Broken {
                    half: DeliveryId(1),
                    unsent: false,
                    reason: "Mandarin half expired".into()
                },
                Broken {
                    half: DeliveryId(4),
                    unsent: true,
                    reason: "Yi half rejected".into()
                },
            ],
            "a played partner is past stopping; whole pairs are left alone"
        );
    }

    #[test]
    fn the_deadline_is_the_first_window_unless_it_is_already_open() {
        let (first, slot) = (t(5, 0), t(30, 0));
        assert_eq!(pair_deadline(first, slot, t(1, 0)), first);
        assert_eq!(pair_deadline(first, t(4, 0), t(1, 0)), t(4, 0));
        assert_eq!(pair_deadline(first, slot, t(6, 0)), slot, "a late run");
    }

    #[test]
    fn lines_say_where_and_why() {
        crate::locale::set_thread(crate::locale::Locale::En);
        let mut yi = half(1, Lang::Ii, DeliveryState::Played, 2);
        let mut c = Cancel {
            delivery: yi.id,
            run: RunId(1),
            ebd_id: "c".into(),
            reason: "Mandarin half expired".into(),
            cancel_by: t(30, 0),
            state: CancelState::Refused,
            detail: Some("cancel refused: ResultCode 5: gone".into()),
            created_at: t(0, 0),
            updated_at: t(0, 0),
        };
        let line = &pair_lines(std::slice::from_ref(&c), std::slice::from_ref(&yi))[0];
        assert_eq!(
            line,
            "HALF A PAIR AIRED: Yi half at `zhaojue` (townships 513431100) played alone — \
             Mandarin half expired; cancel refused: ResultCode 5: gone"
        );
        // Staff read them in Chinese unless they chose English.
        let zh = crate::locale::scoped(crate::locale::Locale::Zh, || {
            pair_lines(std::slice::from_ref(&c), std::slice::from_ref(&yi))
        });
        assert_eq!(
            zh[0],
            "配对只播出了一半：`zhaojue`（乡镇 513431100）的彝语半段单独播出 — \
             Mandarin half expired；cancel refused: ResultCode 5: gone"
        );
        c.state = CancelState::Pending;
        let line = &pair_lines(std::slice::from_ref(&c), std::slice::from_ref(&yi))[0];
        assert!(
            line.starts_with("cancel pending: Yi half at `zhaojue`"),
            "{line}"
        );
        (c.state, yi.state) = (CancelState::Refused, DeliveryState::Delivered);
        let line = &pair_lines(std::slice::from_ref(&c), std::slice::from_ref(&yi))[0];
        assert!(
            line.starts_with("HALF A PAIR MAY AIR: Yi half at"),
            "{line}"
        );
        (c.state, yi.state) = (CancelState::Done, DeliveryState::Cancelled);
        let line = &pair_lines(&[c], &[yi])[0];
        assert_eq!(
            line,
            "cancelled pair: Yi half at `zhaojue` (townships 513431100) cancelled — \
             Mandarin half expired"
        );
    }
}
