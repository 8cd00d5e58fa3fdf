//! Writing a run to the ledger before anything is sent: the run, then each endpoint × segment
//! delivery with its ids (EBDID, EBMID, the pair's other EBMID) and the digest of its payload.
//! On a restart the recorded ids are reused and the payload rebuilt byte for byte; a payload that
//! no longer matches its digest (the content changed) is cancelled, never sent under old ids.
//!
//! Ids come from the `[ebd]` sender codes in order: a day's messages take the first code's
//! counter until its 9,999 EBMIDs are used, then the next code's; a delivery's EBDID is from its
//! EBMID's code. When every code is used up the run stops with [`PushError::Exhausted`] and what
//! was recorded stays in the ledger, to be resumed.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Asia::Shanghai;
use sha2::{Digest, Sha256};

use super::content::Draft;
use super::{PushError, Pusher};
use crate::dispatch::DeliveryJob;
use crate::ebd::PackageBytes;
use crate::ledger::{Delivery, DeliveryId, DeliveryState, LeaseTerm, NewDelivery, Run, RunHold};
use crate::transport::ebd::Ids;
use crate::transport::router::EndpointClient;
use crate::transport::{Content, webhook};

/// Fresh deliveries written to the ledger in one transaction (a run of 10,000 endpoints is 40
/// transactions, not 20,000); their payloads are held meanwhile, so the batch stays small.
const RECORD_BATCH: usize = 512;

/// A run's deliveries as recorded, with their payloads.
#[derive(Debug)]
pub struct Recorded {
    pub jobs: Vec<DeliveryJob>,
    /// The deliveries written leased to this instance, when recorded with a lease.
    pub leased: Option<Leased>,
}

/// Deliveries an instance leased as it recorded them: their lease needs no second write before
/// they are sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leased {
    pub ids: HashSet<DeliveryId>,
    /// When those leases run out unless renewed.
    pub until: DateTime<Utc>,
}

/// A run's prepared deliveries in airing order, each place filled once its batch is written.
type Places = Vec<Option<DeliveryJob>>;

/// A delivery drafted with fresh ids, waiting for its batch to be written.
struct Fresh {
    /// Its place among the run's prepared deliveries.
    index: usize,
    draft: Draft,
    new: NewDelivery,
    payload: Payload,
}

impl Pusher {
    /// Record every draft of `run` (idempotent) and return the deliveries with their payloads.
    /// `by_endpoint` holds each endpoint's segments in airing order; a segment and its partner
    /// are recorded together so each names the other. The drafts are consumed as they are
    /// recorded, so a large run never holds all of its drafts and all of its payloads at once.
    ///
    /// The run is held meanwhile ([`crate::ledger::hold`]): an instance recording the same run
    /// now is waited for, and its deliveries are then found, not drawn ids for again.
    ///
    /// With `lease_at` (the lease clock's now, for an instance that drives the run itself), the
    /// deliveries this call creates are written leased to this instance
    /// ([`Recorded::leased`]).
    pub fn record(
        &self,
        run: &Run,
        by_endpoint: Vec<Vec<Draft>>,
        air_by: DateTime<Utc>,
        now: DateTime<Utc>,
        lease_at: Option<DateTime<Utc>>,
    ) -> Result<Recorded, PushError> {
        let lease = self.lease();
        let term = lease_at.map(|at| LeaseTerm {
            holder: &lease.holder,
            until: lease.until(at),
        });
        let mut leased = term.map(|t| Leased {
            ids: HashSet::new(),
            until: t.until,
        });
        let _held = self.hold_for_record(run);
        let existing: HashMap<(String, u32), Delivery> = self
            .ledger
            .deliveries_of_run(run.id)?
            .into_iter()
            .map(|d| ((d.plan.endpoint.clone(), d.plan.segment), d))
            .collect();
        let mut out: Places = Vec::new();
        // Each full batch is written on a thread of its own while the next is drafted here: a
        // batch's write waits on the store (on PostgreSQL, a round trip per statement) while
        // drafting is CPU only. At most one batch is written while another is drafted.
        let (leased_ids, drafted) = std::thread::scope(|scope| {
            let (to_writer, batches) = std::sync::mpsc::sync_channel::<Vec<Fresh>>(0);
            let (to_drafter, jobs) = std::sync::mpsc::channel::<Vec<(usize, DeliveryJob)>>();
            let writer = scope.spawn(move || {
                let mut leased = HashSet::new();
                for batch in batches {
                    let placed = self.write_batch(batch, now, term, &mut leased)?;
                    let _ = to_drafter.send(placed);
                }
                Ok::<_, PushError>(leased)
            });
            let place = |out: &mut Places, placed: Vec<(usize, DeliveryJob)>| {
                for (index, job) in placed {
                    out[index] = Some(job);
                }
            };
            let drafted = self.draft_all(
                run,
                by_endpoint,
                &existing,
                air_by,
                now,
                &mut out,
                &mut |batch, out| {
                    // Jobs of batches written meanwhile go to their places as the run is drafted.
                    while let Ok(placed) = jobs.try_recv() {
                        place(out, placed);
                    }
                    // A writer that stopped has its error: it is returned below.
                    to_writer.send(batch).is_ok()
                },
            );
            drop(to_writer);
            for placed in jobs {
                place(&mut out, placed);
            }
            let leased = writer
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
            (leased, drafted)
        });
        let leased_ids = leased_ids?;
        drafted?;
        if let Some(l) = leased.as_mut() {
            l.ids = leased_ids;
        }
        // Every place is filled by now. `filter_map` collects in place (`flatten` would copy
        // the run's jobs into a second vector).
        #[allow(clippy::filter_map_identity)]
        let jobs = out.into_iter().filter_map(|job| job).collect();
        Ok(Recorded { jobs, leased })
    }

    /// Draft every pair of `by_endpoint`: recorded halves are reused into `out`, fresh ones
    /// handed to `write` in batches of [`RECORD_BATCH`] (the last one shorter), each leaving a
    /// place in `out`. Stops when `write` says the writer has stopped. When ids run out (or a
    /// payload fails), what was drafted so far is handed on, then the error returned.
    #[allow(clippy::too_many_arguments)]
    fn draft_all(
        &self,
        run: &Run,
        by_endpoint: Vec<Vec<Draft>>,
        existing: &HashMap<(String, u32), Delivery>,
        air_by: DateTime<Utc>,
        now: DateTime<Utc>,
        out: &mut Places,
        write: &mut dyn FnMut(Vec<Fresh>, &mut Places) -> bool,
    ) -> Result<(), PushError> {
        let mut batch: Vec<Fresh> = Vec::new();
        for segments in by_endpoint {
            for pair in pairs(segments) {
                let queued = self.record_pair(run, pair, existing, air_by, now, out, &mut batch);
                if let Err(e) = queued {
                    if !batch.is_empty() {
                        write(batch, out);
                    }
                    return Err(e);
                }
                if batch.len() >= RECORD_BATCH && !write(std::mem::take(&mut batch), out) {
                    return Ok(());
                }
            }
        }
        if !batch.is_empty() {
            write(batch, out);
        }
        Ok(())
    }

    /// Hold `run` for recording, waiting for an instance recording it now up to the lease time
    /// (an instance silent that long is taken for dead). Unheld, the run is recorded anyway:
    /// recording is idempotent, the hold only spares ids.
    fn hold_for_record(&self, run: &Run) -> Option<RunHold> {
        let wait = self.registry.push.lease;
        match self.ledger.hold_run(run.id, wait) {
            Ok(held) => {
                if held.is_none() {
                    tracing::warn!(run = %run.id, waited_s = wait.as_secs_f64(),
                        "another instance is still recording the run; recording what it has not");
                }
                held
            }
            Err(e) => {
                tracing::warn!(run = %run.id, error = %e, "run not held; recording it unheld");
                None
            }
        }
    }

    /// Write the fresh deliveries of `batch` in one ledger transaction; each one's job, with its
    /// payload, and its place among the run's deliveries. Those created with a lease `term` are
    /// added to `leased`.
    fn write_batch(
        &self,
        batch: Vec<Fresh>,
        now: DateTime<Utc>,
        term: Option<LeaseTerm<'_>>,
        leased: &mut HashSet<DeliveryId>,
    ) -> Result<Vec<(usize, DeliveryJob)>, PushError> {
        let news: Vec<NewDelivery> = batch.iter().map(|f| f.new.clone()).collect();
        let recorded = self.ledger.record_deliveries(&news, now, term)?;
        let mut placed = Vec::with_capacity(recorded.len());
        for (fresh, (delivery, created)) in batch.into_iter().zip(recorded) {
            if created && term.is_some() {
                leased.insert(delivery.id);
            }
            let job = if created {
                let payload = self.hold(
                    &delivery,
                    ids_of(&delivery),
                    &fresh.draft.content,
                    fresh.payload,
                );
                DeliveryJob { delivery, payload }
            } else {
                // Another process recorded it first: send its ids, not ours.
                self.reuse(&delivery, &fresh.draft, now)?
            };
            placed.push((fresh.index, job));
        }
        Ok(placed)
    }

    /// Reuse the recorded halves of `pair` into `out`; queue the fresh ones in `batch`.
    #[allow(clippy::too_many_arguments)]
    fn record_pair(
        &self,
        run: &Run,
        pair: Vec<Draft>,
        existing: &HashMap<(String, u32), Delivery>,
        air_by: DateTime<Utc>,
        now: DateTime<Utc>,
        out: &mut Places,
        batch: &mut Vec<Fresh>,
    ) -> Result<(), PushError> {
        let day = beijing_day(run.created_at);
        let found: Vec<Option<&Delivery>> = pair
            .iter()
            .map(|d| existing.get(&(d.endpoint.clone(), d.segment)))
            .collect();
        let mut ebm_ids = Vec::new();
        for (i, f) in found.iter().enumerate() {
            // A partner recorded before a crash already names this message's id: keep it.
            let promised = found.iter().enumerate().find_map(|(j, o)| {
                (j != i)
                    .then_some(*o)
                    .flatten()?
                    .plan
                    .related_ebm_id
                    .clone()
            });
            ebm_ids.push(match (f, promised) {
                (Some(d), _) => d.plan.ebm_id.clone(),
                (None, Some(p)) => p,
                (None, None) => self.fresh_ebm(day)?,
            });
        }
        // Both halves of a pair must be delivered before its first half airs.
        let air_by = match pair.iter().map(|d| d.content.window_start).min() {
            Some(first) if pair.len() == 2 => super::pairs::pair_deadline(first, air_by, now),
            _ => air_by,
        };
        let related: Vec<Option<String>> = (0..pair.len())
            .map(|i| (pair.len() == 2).then(|| ebm_ids[1 - i].clone()))
            .collect();
        for (i, draft) in pair.into_iter().enumerate() {
            match found[i] {
                Some(d) => out.push(Some(self.reuse(d, &draft, now)?)),
                None => {
                    let ids = Ids {
                        ebd_id: self.fresh_ebd(&ebm_ids[i], day)?,
                        ebm_id: ebm_ids[i].clone(),
                        related_ebm_id: related[i].clone(),
                    };
                    let (new, payload) = self.new_delivery(run, &draft, ids, air_by)?;
                    batch.push(Fresh {
                        index: out.len(),
                        draft,
                        new,
                        payload,
                    });
                    out.push(None);
                }
            }
        }
        Ok(())
    }

    /// The ledger row of a fresh delivery and the payload it sends.
    fn new_delivery(
        &self,
        run: &Run,
        draft: &Draft,
        ids: Ids,
        air_by: DateTime<Utc>,
    ) -> Result<(NewDelivery, Payload), PushError> {
        let payload = self.payload(&draft.endpoint, &ids, &draft.content)?;
        let new = NewDelivery {
            run: run.id,
            endpoint: draft.endpoint.clone(),
            segment: draft.segment,
            lang: draft.lang,
            message: draft.message.clone(),
            repeat: draft.repeat,
            townships: draft.content.townships.clone(),
            ebd_id: ids.ebd_id,
            ebm_id: ids.ebm_id,
            related_ebm_id: ids.related_ebm_id,
            window_start: draft.content.window_start,
            window_end: draft.content.window_end,
            air_by,
            payload_digest: payload.digest(),
        };
        Ok((new, payload))
    }

    /// Rebuild a recorded delivery's payload from its stored ids; a changed one is cancelled
    /// at `now`.
    fn reuse(
        &self,
        d: &Delivery,
        draft: &Draft,
        now: DateTime<Utc>,
    ) -> Result<DeliveryJob, PushError> {
        let ids = Ids {
            ebd_id: d.plan.ebd_id.clone(),
            ebm_id: d.plan.ebm_id.clone(),
            related_ebm_id: d.plan.related_ebm_id.clone(),
        };
        let payload = self.payload(&d.plan.endpoint, &ids, &draft.content)?;
        if !d.state.is_final()
            && d.state == DeliveryState::Pending
            && !payload.matches(&d.plan.payload_digest)
        {
            let reason = "content changed since its ids were recorded; not sent under the same ids";
            tracing::warn!(delivery = %d.id, endpoint = %d.plan.endpoint, reason);
            self.ledger
                .transition(d.id, DeliveryState::Cancelled, Some(reason), now)?;
            let delivery = self.ledger.delivery(d.id)?.unwrap_or_else(|| d.clone());
            return Ok(DeliveryJob {
                delivery,
                payload: Arc::from(Vec::new()),
            });
        }
        let payload = self.hold(d, ids, &draft.content, payload);
        Ok(DeliveryJob {
            delivery: d.clone(),
            payload,
        })
    }

    /// What a prepared delivery holds: an EBD package is dropped for its recipe (the router
    /// builds it again, identically, per attempt), so a run's memory does not grow with
    /// endpoints × packages; a webhook body is kept as bytes.
    fn hold(&self, d: &Delivery, ids: Ids, content: &Arc<Content>, payload: Payload) -> Arc<[u8]> {
        if let Payload::Bytes(body) = payload {
            return body.into();
        }
        let recipe = crate::transport::ebd::Recipe {
            ids,
            content: Arc::clone(content),
        };
        self.router.keep_recipe(d.id, recipe);
        Arc::from(Vec::new())
    }

    /// What a delivery sends: an EBD package or a webhook body (empty for an endpoint that could
    /// not be set up; its attempts report why).
    pub fn payload(
        &self,
        endpoint: &str,
        ids: &Ids,
        content: &Content,
    ) -> Result<Payload, PushError> {
        match self.router.clients.get(endpoint) {
            Some(EndpointClient::Ebd(c)) => {
                let media =
                    crate::transport::media::media_files(content).map_err(PushError::MediaFiles)?;
                let built =
                    c.build_broadcast(ids, content, &media)
                        .map_err(|source| PushError::Build {
                            endpoint: endpoint.to_string(),
                            source,
                        })?;
                Ok(Payload::Ebd(built.bytes))
            }
            Some(EndpointClient::Webhook(_)) => {
                Ok(Payload::Bytes(webhook::body(ids, content, &self.clip_base)))
            }
            None => Ok(Payload::Bytes(Vec::new())),
        }
    }
}

/// An endpoint's segments as pairs (a segment with its partner) and lone segments, in order.
fn pairs(segments: Vec<Draft>) -> Vec<Vec<Draft>> {
    let mut out: Vec<Vec<Draft>> = Vec::new();
    for d in segments {
        match d.partner {
            Some(p) if p < d.segment => {
                if let Some(pair) = out.iter_mut().find(|g| g[0].segment == p) {
                    pair.push(d);
                    continue;
                }
                out.push(vec![d]);
            }
            _ => out.push(vec![d]),
        }
    }
    out
}

fn ids_of(d: &Delivery) -> Ids {
    Ids {
        ebd_id: d.plan.ebd_id.clone(),
        ebm_id: d.plan.ebm_id.clone(),
        related_ebm_id: d.plan.related_ebm_id.clone(),
    }
}

/// What one delivery sends.
#[derive(Debug, Clone)]
pub enum Payload {
    /// An EBD package, its audio shared with the other packages of the clip.
    Ebd(PackageBytes),
    /// A webhook body.
    Bytes(Vec<u8>),
}

impl Payload {
    /// What the ledger records: a package's fingerprint, a body's hex SHA-256.
    pub fn digest(&self) -> String {
        match self {
            Payload::Ebd(p) => p.fingerprint(),
            Payload::Bytes(b) => hex::encode(Sha256::digest(b)),
        }
    }

    /// Whether a recorded digest names this payload.
    pub fn matches(&self, recorded: &str) -> bool {
        match self {
            Payload::Ebd(p) => p.matches(recorded),
            Payload::Bytes(_) => self.digest() == recorded,
        }
    }
}

/// The Beijing calendar day of an instant (ids carry it).
pub fn beijing_day(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&Shanghai).date_naive()
}
