//! `POST /v1/ebd/state` under the service: platforms' unsolicited `EBMStateResponse` packages,
//! checked with the registry's keys and recorded in the service's ledger. Each package is
//! verified with the peer key of the endpoint it names as its sender; reply ids come from the
//! ledger's own `ebd` counter, so they never repeat a pushed package's id.

use std::sync::Arc;

use chrono::NaiveDate;

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

/// The inbound checks for `pusher`'s EBD endpoints: each endpoint with a peer key is a sender
/// whose packages (by `SRC/EBRID`, the endpoint's `ebrid`) are verified with that key; once any
/// endpoint has a key, packages from other senders are refused. Our signer signs the replies.
pub fn from_pusher(pusher: &Pusher) -> EbdInbound {
    let ebd: Vec<_> = pusher
        .router
        .clients
        .values()
        .filter_map(|c| match c {
            EndpointClient::Ebd(c) => Some(c),
            EndpointClient::Webhook(_) => None,
        })
        .collect();
    let senders = ebd
        .iter()
        .filter_map(|c| c.peer_key.clone().map(|k| (c.dest.clone(), k)))
        .collect();
    let signer = ebd.iter().find_map(|c| c.signer.clone());
    EbdInbound {
        config: InboundConfig {
            id_format: pusher.profile.id_format,
            senders,
            ..InboundConfig::default()
        },
        profile: (*pusher.profile).clone(),
        signer,
        seq: Arc::new(LedgerSequence {
            ledger: Arc::clone(&pusher.ledger),
        }),
    }
}
