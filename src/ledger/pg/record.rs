//! Recording a run's deliveries on PostgreSQL: a batch in one transaction of at most three
//! statements, whatever its size — the rows inserted from arrays (`unnest`), the created
//! deliveries' townships, and the deliveries recorded before read back (a created one is
//! answered as written) — so a run costs a few round trips per batch, not three per delivery. A
//! delivery another instance recorded first is found, not doubled.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use postgres::GenericClient;

use super::super::queries::ms;
use super::super::{Delivery, DeliveryId, LeaseTerm, LedgerError, NewDelivery, Result};
use super::pool::prepared;
use super::queries;

/// Write a delivery and its townships unless the run has one for its endpoint and segment;
/// the recorded one and whether this call created it. One transaction.
pub(super) fn record_delivery(
    c: &mut postgres::Client,
    new: &NewDelivery,
    now: DateTime<Utc>,
) -> Result<(Delivery, bool)> {
    record_deliveries(c, std::slice::from_ref(new), now, None)?
        .pop()
        .ok_or(LedgerError::UnknownRun(new.run))
}

/// [`record_delivery`] for each of `news`, all in one transaction (one commit for a batch, as
/// the SQLite ledger does): all recorded or none. Three statements for the whole batch, each
/// taking its rows as arrays: the inserts, the created deliveries' townships, and the read back
/// of those recorded before.
pub(super) fn record_deliveries(
    c: &mut postgres::Client,
    news: &[NewDelivery],
    now: DateTime<Utc>,
    lease: Option<LeaseTerm<'_>>,
) -> Result<Vec<(Delivery, bool)>> {
    let mut tx = c.transaction()?;
    let out = record_deliveries_in(&mut tx, news, now, lease)?;
    tx.commit()?;
    Ok(out)
}

/// A delivery's key: its run, endpoint and segment.
type Key = (i64, String, i64);

fn key_of(new: &NewDelivery) -> Key {
    (new.run.0, new.endpoint.clone(), i64::from(new.segment))
}

fn record_deliveries_in(
    tx: &mut impl GenericClient,
    news: &[NewDelivery],
    now: DateTime<Utc>,
    lease: Option<LeaseTerm<'_>>,
) -> Result<Vec<(Delivery, bool)>> {
    if news.is_empty() {
        return Ok(Vec::new());
    }
    let col = |f: fn(&NewDelivery) -> i64| news.iter().map(f).collect::<Vec<i64>>();
    let runs = col(|n| n.run.0);
    let segments = col(|n| i64::from(n.segment));
    let endpoints: Vec<&str> = news.iter().map(|n| n.endpoint.as_str()).collect();
    // Rows go in the batch's order (ids rise as they do one by one); a key already recorded,
    // or twice in the batch, is left to the row that has it. Every unique index arbitrates
    // (`ON CONFLICT DO NOTHING`, no target): an instance recording the same delivery at once
    // waits for the other's row and then skips it, whichever index it meets it in first,
    // where naming one index would fail on the other with a duplicate key. A row skipped for
    // ids another key holds is not found below, and said so.
    let insert = prepared(
        tx,
        "INSERT INTO deliveries (run_id, endpoint, lang, message, ebd_id, ebm_id,
             related_ebm_id, window_start_ms, window_end_ms, air_by_ms, payload_digest,
             created_ms, updated_ms, segment, repeat_index, leased_by, lease_until_ms)
         SELECT run_id, endpoint, lang, message, ebd_id, ebm_id, related_ebm_id, window_start_ms,
             window_end_ms, air_by_ms, payload_digest, $12, $12, segment, repeat_index, $15::TEXT,
             $16::BIGINT
         FROM unnest($1::BIGINT[], $2::TEXT[], $3::TEXT[], $4::TEXT[], $5::TEXT[], $6::TEXT[],
             $7::TEXT[], $8::BIGINT[], $9::BIGINT[], $10::BIGINT[], $11::TEXT[], $13::BIGINT[],
             $14::BIGINT[]) WITH ORDINALITY AS n (run_id, endpoint, lang, message, ebd_id,
             ebm_id, related_ebm_id, window_start_ms, window_end_ms, air_by_ms, payload_digest,
             segment, repeat_index, ord)
         ORDER BY ord
         ON CONFLICT DO NOTHING
         RETURNING id, run_id, endpoint, segment",
    )?;
    let inserted = tx.query(
        &insert,
        &[
            &runs,
            &endpoints,
            &news.iter().map(|n| n.lang.code()).collect::<Vec<_>>(),
            &news.iter().map(|n| n.message.as_str()).collect::<Vec<_>>(),
            &news.iter().map(|n| n.ebd_id.as_str()).collect::<Vec<_>>(),
            &news.iter().map(|n| n.ebm_id.as_str()).collect::<Vec<_>>(),
            &news
                .iter()
                .map(|n| n.related_ebm_id.as_deref())
                .collect::<Vec<_>>(),
            &col(|n| ms(n.window_start)),
            &col(|n| ms(n.window_end)),
            &col(|n| ms(n.air_by)),
            &news
                .iter()
                .map(|n| n.payload_digest.as_str())
                .collect::<Vec<_>>(),
            &ms(now),
            &segments,
            &col(|n| i64::from(n.repeat)),
            &lease.map(|l| l.holder),
            &lease.map(|l| ms(l.until)),
        ],
    )?;
    let mut created: HashMap<Key, i64> = inserted
        .iter()
        .map(|r| ((r.get(1), r.get(2), r.get(3)), r.get(0)))
        .collect();
    // The townships of the deliveries this call created (each once: the first row of its key).
    let (mut ids, mut townships) = (Vec::new(), Vec::new());
    let mut firsts = Vec::with_capacity(news.len());
    for new in news {
        let id = created.remove(&key_of(new));
        firsts.push(id);
        for t in id
            .iter()
            .flat_map(|id| new.townships.iter().map(move |t| (*id, t)))
        {
            ids.push(t.0);
            townships.push(t.1.as_str());
        }
    }
    if !ids.is_empty() {
        let township_rows = prepared(
            tx,
            "INSERT INTO delivery_townships (delivery_id, township)
             SELECT * FROM unnest($1::BIGINT[], $2::TEXT[]) ON CONFLICT DO NOTHING",
        )?;
        tx.execute(&township_rows, &[&ids, &townships])?;
    }
    // Only the deliveries recorded before are read back: a created one is what was written.
    let mut found: HashMap<Key, Delivery> = HashMap::with_capacity(news.len());
    let (mut runs, mut endpoints, mut segments) = (Vec::new(), Vec::new(), Vec::new());
    for (new, id) in news.iter().zip(&firsts) {
        match id {
            Some(id) => {
                found.insert(
                    key_of(new),
                    Delivery::as_written(DeliveryId(*id), new, now)?,
                );
            }
            None => {
                runs.push(new.run.0);
                endpoints.push(new.endpoint.as_str());
                segments.push(i64::from(new.segment));
            }
        }
    }
    if runs.is_empty() {
        return answer(news, &firsts, &found);
    }
    let before = queries::deliveries_where(
        tx,
        "(d.run_id, d.endpoint, d.segment) IN
             (SELECT * FROM unnest($1::BIGINT[], $2::TEXT[], $3::BIGINT[]))",
        &[&runs, &endpoints, &segments],
    )?
    .into_iter()
    .map(|d| {
        (
            (
                d.plan.run.0,
                d.plan.endpoint.clone(),
                i64::from(d.plan.segment),
            ),
            d,
        )
    })
    .collect::<Vec<_>>();
    found.extend(before);
    answer(news, &firsts, &found)
}

/// Each of `news` as recorded, and whether this call created it (`firsts`); a delivery neither
/// created nor found was skipped for ids another delivery holds.
fn answer(
    news: &[NewDelivery],
    firsts: &[Option<i64>],
    found: &HashMap<Key, Delivery>,
) -> Result<Vec<(Delivery, bool)>> {
    news.iter()
        .zip(firsts)
        .map(|(new, first)| {
            let first = first.is_some();
            let delivery = found.get(&key_of(new)).cloned();
            let taken = || LedgerError::IdsInUse {
                run: new.run,
                endpoint: new.endpoint.clone(),
                ebd_id: new.ebd_id.clone(),
            };
            Ok((delivery.ok_or_else(taken)?, first))
        })
        .collect()
}
