//! `POST /v1/ebd/state` under the service: platforms' unsolicited `EBMStateResponse` packages,
//! checked with the registry's keys and recorded in the service's ledger. A peer key configured
//! on the EBD endpoints is required of every package; reply ids come from the ledger's own
//! `ebd` counter, so they never repeat a pushed package's id.

use std::sync::Arc;

use chrono::NaiveDate;

use super::ServiceError;
use crate::ebd::seq::SeqError;
use crate::ebd::{InboundConfig, SeqKind, SequenceStore};
use crate::ledger::Ledger;
use crate::push::Pusher;
use crate::server::EbdInbound;
use crate::transport::EndpointClient;

/// Reply ids from the ledger's daily counters (the ones pushes take theirs from).
pub struct LedgerSequence {
    pub ledger: Arc<dyn Ledger>,
}

impl std::fmt::Debug for LedgerSequence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LedgerSequence")
    }
}

impl SequenceStore for LedgerSequence {
    fn next(&self, kind: SeqKind, day: NaiveDate) -> Result<u32, SeqError> {
        let name = match kind {
            SeqKind::Ebd => "ebd",
            SeqKind::Ebm => "ebm",
        };
        self.ledger
            .next_sequence(name, day)
            .map_err(|e| SeqError::Store(Box::new(e)))
    }
}

/// The inbound checks for `pusher`'s EBD endpoints: their one peer key (signatures verified)
/// and our signer for replies. Endpoints with different peer keys cannot share one route: an
/// error names it.
pub fn from_pusher(pusher: &Pusher) -> Result<EbdInbound, ServiceError> {
    let ebd: Vec<_> = pusher
        .router
        .clients
        .iter()
        .filter_map(|(id, c)| match c {
            EndpointClient::Ebd(c) => Some((id, c)),
            EndpointClient::Webhook(_) => None,
        })
        .collect();
    let mut keys: Vec<_> = ebd
        .iter()
        .filter_map(|(id, c)| c.peer_key.clone().map(|k| (*id, k)))
        .collect();
    keys.dedup_by(|a, b| a.1.to_sec1_bytes() == b.1.to_sec1_bytes());
    if keys.len() > 1 {
        return Err(ServiceError::PeerKeys {
            first: keys[0].0.clone(),
            second: keys[1].0.clone(),
        });
    }
    let signer = ebd.iter().find_map(|(_, c)| c.signer.clone());
    Ok(EbdInbound {
        config: InboundConfig {
            id_format: pusher.profile.id_format,
            peer_key: keys.first().map(|k| k.1.clone()),
            ..InboundConfig::default()
        },
        profile: (*pusher.profile).clone(),
        signer,
        seq: Arc::new(LedgerSequence {
            ledger: Arc::clone(&pusher.ledger),
        }),
    })
}
