//! Fresh package (EBDID) and message (EBMID) ids from the ledger's daily counters: a message
//! id from the first sender code with numbers left that day, a package id from its message's
//! sender, so a package's EBDID, EBMID and `SRC/EBRID` name one code.

use chrono::{DateTime, NaiveDate, Utc};

use super::prepare::beijing_day;
use super::{PushError, Pusher};
use crate::ebd::{EbdId, EbmId, Ebrid, SeqKind};
use crate::ledger::sequence_counter;

impl Pusher {
    /// A fresh package id for a delivery whose message id is `ebm_id`: from the message's
    /// sender, so the package's EBDID, its EBMID and its `SRC/EBRID` name the same code.
    pub(super) fn fresh_ebd(&self, ebm_id: &str, day: NaiveDate) -> Result<String, PushError> {
        let sender = self.sender_of(ebm_id)?;
        Ok(self.package_id(&sender, day)?.as_str().to_string())
    }

    /// A fresh message id: the first sender code whose daily counter has numbers left (9,999
    /// messages a day each), in the order of `[ebd]`.
    pub(super) fn fresh_ebm(&self, day: NaiveDate) -> Result<String, PushError> {
        let senders = self.senders()?;
        let max = SeqKind::Ebm.max();
        for sender in &senders {
            let counter = self.counter("ebm", sender);
            if let Some(n) = self.ledger.next_sequence_within(&counter, day, max)? {
                return Ok(EbmId::new(sender, day, n)?.as_str().to_string());
            }
            tracing::debug!(sender = %sender, %day, "sender's message ids of the day used up");
        }
        Err(exhausted("message", day, max, &senders))
    }

    /// A fresh package id for a control message about message `ebm_id` (`EBMStateRequest`):
    /// from that message's sender code.
    pub fn control_ebd_id_for(&self, ebm_id: &str, now: DateTime<Utc>) -> Result<EbdId, PushError> {
        let sender = self.sender_of(ebm_id)?;
        self.package_id(&sender, beijing_day(now))
    }

    /// [`Pusher::control_ebd_id_for`] from a block of ids the ledger already holds in memory:
    /// `None` when the ledger's store must be asked (then call that one, off the async workers).
    pub fn held_control_ebd_id_for(
        &self,
        ebm_id: &str,
        now: DateTime<Utc>,
    ) -> Option<Result<EbdId, PushError>> {
        let sender = match self.sender_of(ebm_id) {
            Ok(s) => s,
            Err(e) => return Some(Err(e)),
        };
        let day = beijing_day(now);
        let counter = self.counter("ebd", &sender);
        let n = self
            .ledger
            .held_sequence_within(&counter, day, SeqKind::Ebd.max())?;
        Some(EbdId::package(&sender, day, n).map_err(PushError::from))
    }

    fn package_id(&self, sender: &Ebrid, day: NaiveDate) -> Result<EbdId, PushError> {
        let max = SeqKind::Ebd.max();
        let counter = self.counter("ebd", sender);
        match self.ledger.next_sequence_within(&counter, day, max)? {
            Some(n) => Ok(EbdId::package(sender, day, n)?),
            None => Err(exhausted("package", day, max, std::slice::from_ref(sender))),
        }
    }

    fn senders(&self) -> Result<Vec<Ebrid>, PushError> {
        Ok(self.profile.senders()?)
    }

    /// The sender code of a recorded message id.
    fn sender_of(&self, ebm_id: &str) -> Result<Ebrid, PushError> {
        Ok(EbmId::parse(ebm_id, self.profile.id_format)?
            .sender()
            .clone())
    }

    /// The ledger counter of `kind` ids from `sender` (the first sender's is plain `kind`).
    fn counter(&self, kind: &str, sender: &Ebrid) -> String {
        let first = self.profile.sender_ebrid == sender.as_str();
        sequence_counter(kind, sender.as_str(), first)
    }
}

fn exhausted(what: &'static str, day: NaiveDate, max: u32, senders: &[Ebrid]) -> PushError {
    let codes: Vec<String> = senders.iter().map(|s| format!("`{s}`")).collect();
    PushError::Exhausted {
        what,
        day,
        max,
        codes: codes.join(", "),
    }
}
