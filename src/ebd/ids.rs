//! Emergency-broadcast identifiers: resource codes (EBRID), package ids (EBDID) and message ids
//! (EBMID), in the 2018 layout (23/41/35 digits) or the older 2017 one (18/36/30).

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Which identifier layout a deployment uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum IdFormat {
    /// 2018 profile: EBRID 23, EBDID 41, EBMID 35 digits.
    #[default]
    #[serde(rename = "2018")]
    V2018,
    /// 2017 interim format: EBRID 18, EBDID 36, EBMID 30 digits.
    #[serde(rename = "2017")]
    V2017,
}

impl IdFormat {
    /// Digits of a resource code.
    pub fn ebrid_len(self) -> usize {
        match self {
            IdFormat::V2018 => 23,
            IdFormat::V2017 => 18,
        }
    }

    /// Digits of a package id: `10`/`01` + EBRID + 16.
    pub fn ebdid_len(self) -> usize {
        2 + self.ebrid_len() + 16
    }

    /// Digits of a message id: EBRID + `YYYYMMDD` + 4.
    pub fn ebmid_len(self) -> usize {
        self.ebrid_len() + 12
    }
}

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{what} `{value}` has {got} characters, expected {expected} digits")]
    Length {
        what: &'static str,
        value: String,
        got: usize,
        expected: usize,
    },
    #[error("{what} `{value}` must be digits only")]
    NotDigits { what: &'static str, value: String },
    #[error("{what} `{value}` has level `{level}`, expected 1 (national) to 6 (village)")]
    Level {
        what: &'static str,
        value: String,
        level: char,
    },
    #[error("{what} `{value}` has prefix `{prefix}`, expected `10` (package) or `01` (heartbeat)")]
    Prefix {
        what: &'static str,
        value: String,
        prefix: String,
    },
    #[error("{what} `{value}` holds date `{date}`, which is not a calendar date")]
    Date {
        what: &'static str,
        value: String,
        date: String,
    },
    #[error("heartbeat id `{value}` must end in 16 zeros")]
    Heartbeat { value: String },
    #[error("{what} `{value}` has a zero sequence number")]
    ZeroSequence { what: &'static str, value: String },
    #[error("{what} value {value} does not fit in {digits} digits")]
    Overflow {
        what: &'static str,
        value: u64,
        digits: usize,
    },
}

fn check_digits(what: &'static str, value: &str, expected: usize) -> Result<(), IdError> {
    if !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(IdError::NotDigits {
            what,
            value: value.to_owned(),
        });
    }
    if value.len() != expected {
        return Err(IdError::Length {
            what,
            value: value.to_owned(),
            got: value.chars().count(),
            expected,
        });
    }
    Ok(())
}

fn parse_day(what: &'static str, value: &str, digits: &str) -> Result<NaiveDate, IdError> {
    NaiveDate::parse_from_str(digits, "%Y%m%d").map_err(|_| IdError::Date {
        what,
        value: value.to_owned(),
        date: digits.to_owned(),
    })
}

fn pad(what: &'static str, value: u64, digits: usize) -> Result<String, IdError> {
    let s = format!("{value:0digits$}");
    if s.len() > digits {
        return Err(IdError::Overflow {
            what,
            value,
            digits,
        });
    }
    Ok(s)
}

/// A 12-digit region code (6-digit county + 3-digit township + 3-digit village).
pub fn check_region_code(value: &str) -> Result<(), IdError> {
    check_digits("region code", value, 12)
}

/// A resource code (EBRID): level + 12-digit region + resource part.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ebrid(String);

impl Ebrid {
    /// Parse a resource code in `format`. The level rule (a first digit 1–6) is the 2018
    /// layout's; 2017 codes carry no level digit (deployed ones begin with `0`, e.g.
    /// `010333112400000001`), so any 18 digits are taken.
    pub fn parse(value: &str, format: IdFormat) -> Result<Ebrid, IdError> {
        check_digits("resource code", value, format.ebrid_len())?;
        let level = value.as_bytes()[0] as char;
        if format == IdFormat::V2018 && !('1'..='6').contains(&level) {
            return Err(IdError::Level {
                what: "resource code",
                value: value.to_owned(),
                level,
            });
        }
        Ok(Ebrid(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The format this code is in, by its length.
    pub fn format(&self) -> IdFormat {
        if self.0.len() == 23 {
            IdFormat::V2018
        } else {
            IdFormat::V2017
        }
    }

    /// 1 national, 2 province, 3 prefecture, 4 county, 5 township, 6 village (2018 layout; a
    /// 2017 code's first digit, often 0, is not a level).
    pub fn level(&self) -> u8 {
        self.0.as_bytes()[0] - b'0'
    }

    /// The 12-digit region code.
    pub fn region(&self) -> &str {
        &self.0[1..13]
    }

    /// The 4-digit resource type (2018 only), e.g. `0102` production/dispatch.
    pub fn resource_type(&self) -> Option<&str> {
        (self.format() == IdFormat::V2018).then(|| &self.0[13..17])
    }

    /// The 2-digit subtype (2018 only), e.g. `04` or `01` for a terminal.
    pub fn subtype(&self) -> Option<&str> {
        (self.format() == IdFormat::V2018).then(|| &self.0[19..21])
    }
}

impl fmt::Display for Ebrid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

mod message;

pub use message::{EbdId, EbmId};

#[cfg(test)]
mod tests {
    use super::*;

    const SENDER: &str = "45134310000000102010101";

    #[test]
    fn ebrid_parts_of_the_sample() {
        let id = Ebrid::parse(SENDER, IdFormat::V2018).unwrap();
        assert_eq!(id.level(), 4);
        assert_eq!(id.region(), "513431000000");
        assert_eq!(id.resource_type(), Some("0102"));
        assert_eq!(id.subtype(), Some("01"));
    }

    #[test]
    fn ebrid_rejects_bad_input() {
        assert!(matches!(
            Ebrid::parse("4513431", IdFormat::V2018),
            Err(IdError::Length { got: 7, .. })
        ));
        assert!(matches!(
            Ebrid::parse("x5134310000000102010101", IdFormat::V2018),
            Err(IdError::NotDigits { .. })
        ));
        assert!(matches!(
            Ebrid::parse("95134310000000102010101", IdFormat::V2018),
            Err(IdError::Level { level: '9', .. })
        ));
        assert!(Ebrid::parse(SENDER, IdFormat::V2017).is_err());
    }

    #[test]
    fn a_deployed_2017_code_with_a_leading_zero_is_taken() {
        let code = "010333112400000001";
        assert_eq!(Ebrid::parse(code, IdFormat::V2017).unwrap().as_str(), code);
        let hb = format!("01{code}{}", "0".repeat(16));
        assert!(EbdId::parse(&hb, IdFormat::V2017).unwrap().is_heartbeat());
        let ebm = format!("{code}202612040001");
        assert_eq!(
            EbmId::parse(&ebm, IdFormat::V2017)
                .unwrap()
                .sender()
                .as_str(),
            code
        );
        assert!(matches!(
            Ebrid::parse("0513431000000010201010", IdFormat::V2018),
            Err(IdError::Length { .. })
        ));
        assert!(matches!(
            Ebrid::parse("05134310000000102010101", IdFormat::V2018),
            Err(IdError::Level { level: '0', .. })
        ));
    }
}
