//! The typed EBD: envelope, bodies, and the wire time format (Beijing local time, no zone).

use chrono::{DateTime, Datelike, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Asia::Shanghai;

use super::ids::{EbdId, EbmId, Ebrid};

/// The wire time format.
pub const TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// A UTC instant as wire text in Beijing time (`YYYY-MM-DD hh:mm:ss`).
pub fn format_time(t: DateTime<Utc>) -> String {
    let l = t.with_timezone(&Shanghai).naive_local();
    // Every package carries a few of these: written directly, not through a format string
    // parsed each time. A year outside four digits is left to chrono's rendering of the format.
    if !(0..=9999).contains(&l.year()) {
        return l.format(TIME_FORMAT).to_string();
    }
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        l.year(),
        l.month(),
        l.day(),
        l.hour(),
        l.minute(),
        l.second()
    )
}

/// Wire text in Beijing time to a UTC instant.
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    let naive = match plain_time(text) {
        Some(n) => n,
        None => NaiveDateTime::parse_from_str(text, TIME_FORMAT).ok()?,
    };
    // Asia/Shanghai has had no DST since 1991: the mapping is single
    Shanghai
        .from_local_datetime(&naive)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// `YYYY-MM-DD hh:mm:ss` exactly as every reply writes it, read without a format string; `None`
/// for anything else (a leap second included), which the format string then reads or refuses.
fn plain_time(text: &str) -> Option<NaiveDateTime> {
    let b = text.as_bytes();
    if b.len() != 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b' '
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |from: usize, to: usize| {
        b[from..to].iter().try_fold(0u32, |n, d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let (second, year) = (num(17, 19)?, num(0, 4)?);
    if second > 59 {
        return None;
    }
    let date = chrono::NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, num(5, 7)?, num(8, 10)?)?;
    date.and_hms_opt(num(11, 13)?, num(14, 16)?, second)
}

/// One EBD (the EBDB file's content).
#[derive(Debug, Clone, PartialEq)]
pub struct Ebd {
    /// `EBDVersion` ("1"; "1.0" accepted).
    pub version: String,
    pub id: EbdId,
    pub src: Src,
    pub dest: Option<Ebrid>,
    pub time: DateTime<Utc>,
    /// `RelatedEBD/EBDID`.
    pub related: Option<EbdId>,
    pub body: Body,
}

impl Ebd {
    /// The `EBDType` text.
    pub fn kind(&self) -> &str {
        self.body.kind()
    }
}

/// `SRC`: who sent it and where replies go.
#[derive(Debug, Clone, PartialEq)]
pub struct Src {
    pub ebrid: Ebrid,
    pub url: Option<String>,
}

/// The body element, named after `EBDType`.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Ebm(Ebm),
    EbdResponse(EbdResponse),
    EbmStateRequest(EbmStateRequest),
    EbmStateResponse(EbmStateResponse),
    OmdRequest(OmdRequest),
    EbmBrdLog(EbmBrdLog),
    ConnectionCheck(ConnectionCheck),
}

impl Body {
    pub fn kind(&self) -> &'static str {
        match self {
            Body::Ebm(_) => "EBM",
            Body::EbdResponse(_) => "EBDResponse",
            Body::EbmStateRequest(_) => "EBMStateRequest",
            Body::EbmStateResponse(_) => "EBMStateResponse",
            Body::OmdRequest(_) => "OMDRequest",
            Body::EbmBrdLog(_) => "EBMBrdLog",
            Body::ConnectionCheck(_) => "ConnectionCheck",
        }
    }
}

/// `MsgType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MsgType {
    /// 1: request broadcast.
    Broadcast,
    /// 2: cancel.
    Cancel,
}

impl MsgType {
    pub fn code(self) -> u8 {
        match self {
            MsgType::Broadcast => 1,
            MsgType::Cancel => 2,
        }
    }
}

/// The broadcast message.
#[derive(Debug, Clone, PartialEq)]
pub struct Ebm {
    pub version: String,
    pub id: EbmId,
    /// `RelatedInfo/EBMID`: the other language's message of the pair (or, on a cancel, the
    /// message cancelled).
    pub related: Option<EbmId>,
    pub basic: MsgBasicInfo,
    /// Required for a broadcast request; may be absent on a cancel and in log items.
    pub content: Option<MsgContent>,
}

/// `MsgBasicInfo`.
#[derive(Debug, Clone, PartialEq)]
pub struct MsgBasicInfo {
    pub msg_type: MsgType,
    pub sender_name: String,
    /// 12-digit region code.
    pub sender_code: String,
    pub send_time: DateTime<Utc>,
    pub event_type: String,
    pub severity: u8,
    pub start_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
}

/// `MsgContent`.
#[derive(Debug, Clone, PartialEq)]
pub struct MsgContent {
    pub language_code: String,
    pub title: String,
    pub desc: Option<String>,
    /// 12-digit region codes.
    pub area_codes: Vec<String>,
    pub auxiliary: Vec<Auxiliary>,
}

/// One `Auxiliary` media file.
#[derive(Debug, Clone, PartialEq)]
pub struct Auxiliary {
    /// 2 mp3, 3 wav.
    pub kind: u8,
    /// The file name inside the tar.
    pub desc: String,
    pub size: Option<u64>,
    /// SHA-1 as written (hex or base64).
    pub digest: Option<String>,
}

/// `EBDResponse`.
#[derive(Debug, Clone, PartialEq)]
pub struct EbdResponse {
    pub result_code: u8,
    pub result_desc: String,
}

/// `EBMStateRequest`.
#[derive(Debug, Clone, PartialEq)]
pub struct EbmStateRequest {
    pub ebm_id: EbmId,
}

/// `CoverageRate` (0..1) or the older `CoveragePercent`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CoverageFigure {
    Rate(f64),
    Percent(f64),
}

/// `ResBrdStat`: platforms, adapters, transmitters, terminals (that played).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ResBrdStat {
    pub platforms: u32,
    pub adapters: u32,
    pub transmitters: u32,
    pub terminals: u32,
}

/// `Coverage`.
#[derive(Debug, Clone, PartialEq)]
pub struct Coverage {
    pub figure: Option<CoverageFigure>,
    pub area_codes: Vec<String>,
    pub res_brd_stat: Option<ResBrdStat>,
}

/// `EBRBS`: one broadcast system's record of what played.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Ebrbs {
    pub rpt_time: Option<DateTime<Utc>>,
    pub brd_sys_info: Option<String>,
    pub start_time: Option<DateTime<Utc>>,
    pub end_time: Option<DateTime<Utc>>,
    pub file_url: Option<String>,
    pub brd_state_code: Option<u8>,
    pub brd_state_desc: Option<String>,
}

/// `ResBrdInfo/ResBrdItem`.
#[derive(Debug, Clone, PartialEq)]
pub struct ResBrdItem {
    /// `EBRPS/EBRID`: the reporting platform.
    pub ebrps: Option<Ebrid>,
    pub ebrbs: Vec<Ebrbs>,
}

/// `EBMStateResponse`.
#[derive(Debug, Clone, PartialEq)]
pub struct EbmStateResponse {
    pub rpt_time: DateTime<Utc>,
    pub ebm_id: EbmId,
    pub brd_state_code: u8,
    pub brd_state_desc: Option<String>,
    pub coverage: Option<Coverage>,
    pub res_brd_info: Vec<ResBrdItem>,
}

/// `RptType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RptType {
    Full,
    Incremental,
}

/// `Params` of a log request or reply.
#[derive(Debug, Clone, PartialEq)]
pub struct LogParams {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub rpt_type: Option<RptType>,
}

/// `OMDRequest`.
#[derive(Debug, Clone, PartialEq)]
pub struct OmdRequest {
    /// `OMDType`, e.g. `EBMBrdLog`.
    pub omd_type: String,
    pub params: LogParams,
}

/// `UnitInfo/Unit`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Unit {
    pub ebrps: Option<Ebrid>,
    pub unit_id: Option<String>,
    pub unit_name: Option<String>,
    pub person_id: Option<String>,
    pub person_name: Option<String>,
}

/// `EBMBrdItem`.
#[derive(Debug, Clone, PartialEq)]
pub struct EbmBrdItem {
    pub ebm: Ebm,
    pub units: Vec<Unit>,
    pub brd_state_code: u8,
    pub brd_state_desc: Option<String>,
    pub coverage: Option<Coverage>,
    pub res_brd_info: Vec<ResBrdItem>,
}

/// `EBMBrdLog`: the broadcast log.
#[derive(Debug, Clone, PartialEq)]
pub struct EbmBrdLog {
    pub params: Option<LogParams>,
    pub items: Vec<EbmBrdItem>,
}

/// `ConnectionCheck`: the heartbeat.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionCheck {
    pub rpt_time: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_time_is_beijing_local() {
        let t = parse_time("2025-11-27 19:30:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2025-11-27T11:30:00+00:00");
        assert_eq!(format_time(t), "2025-11-27 19:30:00");
        // just after UTC midnight is already the next morning in Beijing
        let t = Utc.with_ymd_and_hms(2025, 12, 31, 17, 0, 0).unwrap();
        assert_eq!(format_time(t), "2026-01-01 01:00:00");
        assert!(parse_time("2025-11-27T19:30:00").is_none());
        assert!(parse_time("2025-02-30 19:30:00").is_none());
        // The same text as the format string gives, to the second, in and out of four digits.
        for t in [
            Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2026, 12, 5, 15, 59, 59).unwrap()
                + chrono::TimeDelta::milliseconds(999),
            Utc.with_ymd_and_hms(9999, 12, 31, 15, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 16, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(-5, 3, 1, 0, 0, 0).unwrap(),
        ] {
            let by_format = t.with_timezone(&Shanghai).format(TIME_FORMAT).to_string();
            assert_eq!(format_time(t), by_format, "{t}");
        }
        // Read without the format string where the text is plain, with it otherwise: the same
        // instants, the same refusals.
        for text in [
            "2026-12-05 23:59:59",
            "0001-01-01 08:00:00",
            "2024-02-29 12:00:00",
            "2025-02-29 12:00:00",
            "2026-13-01 00:00:00",
            "2026-12-05 24:00:00",
            "2026-12-05 23:60:00",
            "2026-12-05 23:59:60",
            "2026-12-05 23:59:5x",
            "2026-12-05T23:59:59",
            "2026-12-5 23:59:59",
            "+2026-12-05 23:59:59",
        ] {
            let by_format = NaiveDateTime::parse_from_str(text, TIME_FORMAT)
                .ok()
                .and_then(|n| Shanghai.from_local_datetime(&n).single())
                .map(|t| t.with_timezone(&Utc));
            assert_eq!(parse_time(text), by_format, "{text}");
            assert_eq!(
                parse_time(&format!(" {text}\n")),
                by_format,
                "{text}, trimmed"
            );
        }
    }
}
