//! The delivery state machine: the one place that decides which moves are legal.
//!
//! ```text
//! pending ─┬─▶ sent ─────┬─▶ delivered ─┬─▶ played
//!          │  (ack 0)    │  (code 1)    ├─▶ failed
//!          ├─▶ delivered ┘              └─▶ cancelled
//!          ├─▶ rejected   (2–5, final)
//!          ├─▶ expired    (past air-by, final)
//!          └─▶ cancelled
//! ```
//! `sent` may also go straight to played/failed/cancelled (a state report proves processing)
//! or to rejected (a late refusal). Nothing ever moves backwards or out of a final state.

use std::fmt;

use serde::Serialize;

use super::DeliveryId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    /// Written, not yet acknowledged by the receiver (attempts may have failed).
    Pending,
    /// The receiver acknowledged receipt (ResultCode 0): ask its state later.
    Sent,
    /// Parsed and validated by the receiver (ResultCode 1).
    Delivered,
    /// Refused by the receiver (ResultCode 2–5): final, never resent unchanged.
    Rejected,
    /// The air-by deadline passed before it was delivered: final, never sent late.
    Expired,
    /// The receiver reports it played (BrdStateCode 3).
    Played,
    /// The receiver reports playing failed (BrdStateCode 4).
    Failed,
    /// Cancelled (BrdStateCode 5, or by us before sending).
    Cancelled,
}

/// A refused state change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("delivery `{delivery}` cannot go from `{from}` to `{to}`")]
pub struct IllegalTransition {
    pub delivery: DeliveryId,
    pub from: DeliveryState,
    pub to: DeliveryState,
}

impl DeliveryState {
    /// Out at its platform (acknowledged or delivered), its play state still to be asked.
    pub const AWAITING_PLAY: [DeliveryState; 2] = [DeliveryState::Sent, DeliveryState::Delivered];

    /// The states a delivery can still move on from (not [`DeliveryState::is_final`]).
    pub const NOT_FINAL: [DeliveryState; 3] = [
        DeliveryState::Pending,
        DeliveryState::Sent,
        DeliveryState::Delivered,
    ];

    pub const ALL: [DeliveryState; 8] = [
        DeliveryState::Pending,
        DeliveryState::Sent,
        DeliveryState::Delivered,
        DeliveryState::Rejected,
        DeliveryState::Expired,
        DeliveryState::Played,
        DeliveryState::Failed,
        DeliveryState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Sent => "sent",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Rejected => "rejected",
            DeliveryState::Expired => "expired",
            DeliveryState::Played => "played",
            DeliveryState::Failed => "failed",
            DeliveryState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<DeliveryState> {
        DeliveryState::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// No move leaves a final state.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            DeliveryState::Rejected
                | DeliveryState::Expired
                | DeliveryState::Played
                | DeliveryState::Failed
                | DeliveryState::Cancelled
        )
    }

    /// Whether `self → to` is a legal forward move (staying put is not a move).
    pub fn can_go_to(self, to: DeliveryState) -> bool {
        use DeliveryState::*;
        match self {
            Pending => matches!(to, Sent | Delivered | Rejected | Expired | Cancelled),
            Sent => matches!(to, Delivered | Rejected | Played | Failed | Cancelled),
            Delivered => matches!(to, Played | Failed | Cancelled),
            Rejected | Expired | Played | Failed | Cancelled => false,
        }
    }

    /// Decide a move: `Ok(true)` to change, `Ok(false)` when already there, an error otherwise.
    pub fn check(self, to: DeliveryState, delivery: DeliveryId) -> Result<bool, IllegalTransition> {
        if self == to {
            Ok(false)
        } else if self.can_go_to(to) {
            Ok(true)
        } else {
            Err(IllegalTransition {
                delivery,
                from: self,
                to,
            })
        }
    }

    /// The state a `BrdStateCode` proves, if any: 1/2 delivered, 3 played, 4 failed,
    /// 5 cancelled; 0 (unprocessed) proves nothing.
    pub fn from_brd_state_code(code: u8) -> Option<DeliveryState> {
        match code {
            1 | 2 => Some(DeliveryState::Delivered),
            3 => Some(DeliveryState::Played),
            4 => Some(DeliveryState::Failed),
            5 => Some(DeliveryState::Cancelled),
            _ => None,
        }
    }
}

impl fmt::Display for DeliveryState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::DeliveryState::*;
    use super::*;

    const D: DeliveryId = DeliveryId(7);

    #[test]
    fn names_round_trip() {
        for st in DeliveryState::ALL {
            assert_eq!(DeliveryState::parse(st.as_str()), Some(st));
        }
        assert_eq!(DeliveryState::parse("done"), None);
    }

    #[test]
    fn not_final_is_every_state_but_the_final_ones() {
        let not_final: Vec<_> = DeliveryState::ALL
            .into_iter()
            .filter(|s| !s.is_final())
            .collect();
        assert_eq!(not_final, DeliveryState::NOT_FINAL);
    }

    #[test]
    fn final_states_go_nowhere() {
        for from in DeliveryState::ALL.into_iter().filter(|s| s.is_final()) {
            for to in DeliveryState::ALL {
                assert!(!from.can_go_to(to), "{from} -> {to}");
            }
        }
    }

    #[test]
    fn never_backwards_to_pending() {
        for from in DeliveryState::ALL {
            assert!(!from.can_go_to(Pending), "{from} -> pending");
        }
        assert!(!Delivered.can_go_to(Sent));
    }

    #[test]
    fn the_main_path_is_legal() {
        assert_eq!(Pending.check(Sent, D), Ok(true));
        assert_eq!(Sent.check(Delivered, D), Ok(true));
        assert_eq!(Delivered.check(Played, D), Ok(true));
        assert_eq!(Pending.check(Expired, D), Ok(true));
        assert_eq!(Played.check(Played, D), Ok(false));
    }

    #[test]
    fn illegal_moves_name_both_ends() {
        let err = Played.check(Failed, D).unwrap_err();
        assert_eq!(err.from, Played);
        assert_eq!(err.to, Failed);
        assert_eq!(
            err.to_string(),
            "delivery `7` cannot go from `played` to `failed`"
        );
        assert!(Expired.check(Delivered, D).is_err());
        assert!(Rejected.check(Sent, D).is_err());
    }

    #[test]
    fn brd_state_codes_map_as_the_profile_says() {
        assert_eq!(DeliveryState::from_brd_state_code(0), None);
        assert_eq!(DeliveryState::from_brd_state_code(3), Some(Played));
        assert_eq!(DeliveryState::from_brd_state_code(4), Some(Failed));
        assert_eq!(DeliveryState::from_brd_state_code(5), Some(Cancelled));
        assert_eq!(DeliveryState::from_brd_state_code(9), None);
    }
}
