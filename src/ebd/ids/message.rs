//! Package ids (EBDID, heartbeat ids included) and message ids (EBMID).

use std::fmt;

use chrono::NaiveDate;

use super::{Ebrid, IdError, IdFormat, check_digits, pad, parse_day};

/// A package id (EBDID): `10` + sender + day + daily counter, or a heartbeat `01` + sender + zeros.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EbdId {
    text: String,
    sender: Ebrid,
    /// `None` for a heartbeat id.
    seq: Option<(NaiveDate, u32)>,
}

impl EbdId {
    /// Parse a package or heartbeat id in `format`.
    pub fn parse(value: &str, format: IdFormat) -> Result<EbdId, IdError> {
        const WHAT: &str = "package id";
        check_digits(WHAT, value, format.ebdid_len())?;
        let n = format.ebrid_len();
        let sender = Ebrid::parse(&value[2..2 + n], format)?;
        let tail = &value[2 + n..];
        let seq = match &value[..2] {
            "10" => {
                let day = parse_day(WHAT, value, &tail[..8])?;
                let counter: u32 = tail[8..].parse().unwrap_or(0);
                if counter == 0 {
                    return Err(IdError::ZeroSequence {
                        what: WHAT,
                        value: value.to_owned(),
                    });
                }
                Some((day, counter))
            }
            "01" if tail.bytes().all(|b| b == b'0') => None,
            "01" => {
                return Err(IdError::Heartbeat {
                    value: value.to_owned(),
                });
            }
            p => {
                return Err(IdError::Prefix {
                    what: WHAT,
                    value: value.to_owned(),
                    prefix: p.to_owned(),
                });
            }
        };
        Ok(EbdId {
            text: value.to_owned(),
            sender,
            seq,
        })
    }

    /// A package id for `sender`'s `counter`-th package on `day`.
    pub fn package(sender: &Ebrid, day: NaiveDate, counter: u32) -> Result<EbdId, IdError> {
        let text = format!(
            "10{sender}{}{}",
            day.format("%Y%m%d"),
            pad("package counter", u64::from(counter), 8)?
        );
        EbdId::parse(&text, sender.format())
    }

    /// The heartbeat id of `sender`.
    pub fn heartbeat(sender: &Ebrid) -> EbdId {
        EbdId {
            text: format!("01{sender}{}", "0".repeat(16)),
            sender: sender.clone(),
            seq: None,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn sender(&self) -> &Ebrid {
        &self.sender
    }

    pub fn is_heartbeat(&self) -> bool {
        self.seq.is_none()
    }

    /// The day and daily counter of a package id.
    pub fn sequence(&self) -> Option<(NaiveDate, u32)> {
        self.seq
    }
}

impl fmt::Display for EbdId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A message id (EBMID): sender + day + 4-digit daily sequence.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EbmId {
    text: String,
    sender: Ebrid,
    day: NaiveDate,
    seq: u16,
}

impl EbmId {
    /// Parse a message id in `format`.
    pub fn parse(value: &str, format: IdFormat) -> Result<EbmId, IdError> {
        const WHAT: &str = "message id";
        check_digits(WHAT, value, format.ebmid_len())?;
        let n = format.ebrid_len();
        let sender = Ebrid::parse(&value[..n], format)?;
        let day = parse_day(WHAT, value, &value[n..n + 8])?;
        let seq: u16 = value[n + 8..].parse().unwrap_or(0);
        if seq == 0 {
            return Err(IdError::ZeroSequence {
                what: WHAT,
                value: value.to_owned(),
            });
        }
        Ok(EbmId {
            text: value.to_owned(),
            sender,
            day,
            seq,
        })
    }

    /// The message id for `sender`'s `seq`-th message on `day`.
    pub fn new(sender: &Ebrid, day: NaiveDate, seq: u32) -> Result<EbmId, IdError> {
        let text = format!(
            "{sender}{}{}",
            day.format("%Y%m%d"),
            pad("message sequence", u64::from(seq), 4)?
        );
        EbmId::parse(&text, sender.format())
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn sender(&self) -> &Ebrid {
        &self.sender
    }

    pub fn day(&self) -> NaiveDate {
        self.day
    }

    pub fn seq(&self) -> u16 {
        self.seq
    }
}

impl fmt::Display for EbmId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SENDER: &str = "45134310000000102010101";

    #[test]
    fn ebdid_package_and_heartbeat() {
        let id =
            EbdId::parse("10451343100000001020101012025112700000001", IdFormat::V2018).unwrap();
        let day = NaiveDate::from_ymd_opt(2025, 11, 27).unwrap();
        assert_eq!(id.sequence(), Some((day, 1)));
        assert_eq!(id.sender().as_str(), SENDER);
        let sender = Ebrid::parse(SENDER, IdFormat::V2018).unwrap();
        assert_eq!(EbdId::package(&sender, day, 1).unwrap(), id);
        let hb = EbdId::heartbeat(&sender);
        assert_eq!(hb.as_str(), "01451343100000001020101010000000000000000");
        assert_eq!(EbdId::parse(hb.as_str(), IdFormat::V2018).unwrap(), hb);
        assert!(matches!(
            EbdId::parse("01451343100000001020101010000000000000001", IdFormat::V2018),
            Err(IdError::Heartbeat { .. })
        ));
        assert!(matches!(
            EbdId::parse("20451343100000001020101012025112700000001", IdFormat::V2018),
            Err(IdError::Prefix { .. })
        ));
        assert!(matches!(
            EbdId::parse("10451343100000001020101012025133000000001", IdFormat::V2018),
            Err(IdError::Date { .. })
        ));
        assert!(matches!(
            EbdId::package(&sender, day, 100_000_000),
            Err(IdError::Overflow { .. })
        ));
    }

    #[test]
    fn ebmid_round_trip_and_2017_lengths() {
        let id = EbmId::parse("45134310000000102010101202511270001", IdFormat::V2018).unwrap();
        assert_eq!(id.seq(), 1);
        assert_eq!(EbmId::new(id.sender(), id.day(), 1).unwrap(), id);
        let old = Ebrid::parse("451343100000001020", IdFormat::V2017).unwrap();
        assert_eq!(old.resource_type(), None);
        let day = NaiveDate::from_ymd_opt(2025, 1, 2).unwrap();
        let m = EbmId::new(&old, day, 7).unwrap();
        assert_eq!(m.as_str().len(), 30);
        assert_eq!(EbdId::package(&old, day, 7).unwrap().as_str().len(), 36);
        assert!(matches!(
            EbmId::new(&old, day, 10_000),
            Err(IdError::Overflow { .. })
        ));
    }
}
