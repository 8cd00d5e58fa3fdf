//! Outcome codes of the profile and what they mean for our ledger: `EBDResponse/ResultCode`
//! (1 delivered, 0 accepted, 2–5 rejected) and `BrdStateCode` (3 played, 4 failed, 5 cancelled).

use std::fmt;

/// `EBDResponse/ResultCode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResultCode {
    /// 0: received, not processed yet.
    Received,
    /// 1: parsed and validated.
    Ok,
    /// 2: parse failure.
    ParseFailure,
    /// 3: content missing.
    ContentMissing,
    /// 4: signature verification failed.
    SignatureFailed,
    /// 5: other error.
    Other,
}

impl ResultCode {
    pub fn code(self) -> u8 {
        match self {
            ResultCode::Received => 0,
            ResultCode::Ok => 1,
            ResultCode::ParseFailure => 2,
            ResultCode::ContentMissing => 3,
            ResultCode::SignatureFailed => 4,
            ResultCode::Other => 5,
        }
    }

    pub fn from_code(code: u8) -> Option<ResultCode> {
        Some(match code {
            0 => ResultCode::Received,
            1 => ResultCode::Ok,
            2 => ResultCode::ParseFailure,
            3 => ResultCode::ContentMissing,
            4 => ResultCode::SignatureFailed,
            5 => ResultCode::Other,
            _ => return None,
        })
    }

    /// The usual `ResultDesc` text.
    pub fn desc_zh(self) -> &'static str {
        match self {
            ResultCode::Received => "已接收，未处理",
            ResultCode::Ok => "接收解析及数据校验成功",
            ResultCode::ParseFailure => "接收解析失败",
            ResultCode::ContentMissing => "内容缺失",
            ResultCode::SignatureFailed => "签名验证失败",
            ResultCode::Other => "其他错误",
        }
    }
}

impl fmt::Display for ResultCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code())
    }
}

/// What a push's synchronous reply means for the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// ResultCode 1.
    Delivered,
    /// ResultCode 0: ask for the state later.
    Accepted,
    /// ResultCode 2–5 (or an unknown code): never resend this package unchanged.
    Rejected { code: u8, desc: String },
}

/// Map an `EBDResponse` to a delivery outcome. (Transport errors and non-200 replies are retries
/// and never reach this function.)
pub fn delivery_of(result_code: u8, result_desc: &str) -> Delivery {
    match ResultCode::from_code(result_code) {
        Some(ResultCode::Ok) => Delivery::Delivered,
        Some(ResultCode::Received) => Delivery::Accepted,
        _ => Delivery::Rejected {
            code: result_code,
            desc: result_desc.to_owned(),
        },
    }
}

/// `BrdStateCode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BrdState {
    Unprocessed,
    Waiting,
    Playing,
    Played,
    Failed,
    Cancelled,
}

impl BrdState {
    pub fn code(self) -> u8 {
        match self {
            BrdState::Unprocessed => 0,
            BrdState::Waiting => 1,
            BrdState::Playing => 2,
            BrdState::Played => 3,
            BrdState::Failed => 4,
            BrdState::Cancelled => 5,
        }
    }

    pub fn from_code(code: u8) -> Option<BrdState> {
        Some(match code {
            0 => BrdState::Unprocessed,
            1 => BrdState::Waiting,
            2 => BrdState::Playing,
            3 => BrdState::Played,
            4 => BrdState::Failed,
            5 => BrdState::Cancelled,
            _ => return None,
        })
    }

    /// Whether no further state change is expected.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            BrdState::Played | BrdState::Failed | BrdState::Cancelled
        )
    }

    /// The usual `BrdStateDesc` text.
    pub fn desc_zh(self) -> &'static str {
        match self {
            BrdState::Unprocessed => "未处理",
            BrdState::Waiting => "等待播发",
            BrdState::Playing => "正在播发",
            BrdState::Played => "播发成功",
            BrdState::Failed => "播发失败",
            BrdState::Cancelled => "播发取消",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_codes_map_to_deliveries() {
        assert_eq!(delivery_of(1, ""), Delivery::Delivered);
        assert_eq!(delivery_of(0, ""), Delivery::Accepted);
        for c in 2..=5 {
            assert_eq!(
                delivery_of(c, "坏"),
                Delivery::Rejected {
                    code: c,
                    desc: "坏".into()
                }
            );
            assert_eq!(ResultCode::from_code(c).unwrap().code(), c);
        }
        assert!(matches!(
            delivery_of(9, "?"),
            Delivery::Rejected { code: 9, .. }
        ));
    }

    #[test]
    fn brd_states() {
        for c in 0..=5 {
            assert_eq!(BrdState::from_code(c).unwrap().code(), c);
        }
        assert!(BrdState::Played.is_final());
        assert!(BrdState::Failed.is_final());
        assert!(BrdState::Cancelled.is_final());
        assert!(!BrdState::Playing.is_final());
        assert_eq!(BrdState::from_code(6), None);
    }
}
