//! The two broadcast languages: Nuosu Yi (`ii`) and Mandarin (`zh`).
//!
//! BCP-47 codes in our own data; ISO 639-2 (`iii`, `zho`) on the emergency-broadcast wire.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A broadcast language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Nuosu Yi (ꆈꌠꉙ), BCP-47 `ii`.
    Ii,
    /// Mandarin Chinese, BCP-47 `zh`.
    Zh,
}

impl Lang {
    /// Both languages, in the default broadcast order (乡音+普语: Yi first).
    pub const ALL: [Lang; 2] = [Lang::Ii, Lang::Zh];

    /// The BCP-47 code used in file names, TOML and JSON.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ii => "ii",
            Lang::Zh => "zh",
        }
    }

    /// The default ISO 639-2 code for the emergency-broadcast wire.
    pub fn iso639_2(self) -> &'static str {
        match self {
            Lang::Ii => "iii",
            Lang::Zh => "zho",
        }
    }

    /// The language's name in Chinese, for tables and pages.
    pub fn name_zh(self) -> &'static str {
        match self {
            Lang::Ii => "彝语",
            Lang::Zh => "普通话",
        }
    }

    /// The other language of a pair.
    pub fn other(self) -> Lang {
        match self {
            Lang::Ii => Lang::Zh,
            Lang::Zh => Lang::Ii,
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A language code that is neither `ii` nor `zh`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", crate::t!("lang-unknown", code = .0.as_str()))]
pub struct UnknownLang(pub String);

impl FromStr for Lang {
    type Err = UnknownLang;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ii" | "iii" | "ii-Yiii" => Ok(Lang::Ii),
            "zh" | "zho" | "zh-CN" | "zh-Hans" | "cmn" => Ok(Lang::Zh),
            other => Err(UnknownLang(other.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for lang in Lang::ALL {
            assert_eq!(lang.code().parse::<Lang>().unwrap(), lang);
            assert_eq!(lang.iso639_2().parse::<Lang>().unwrap(), lang);
            assert_eq!(lang.other().other(), lang);
        }
        assert!("en".parse::<Lang>().is_err());
    }

    #[test]
    fn serde_uses_bcp47() {
        assert_eq!(serde_json::to_string(&Lang::Ii).unwrap(), "\"ii\"");
        assert_eq!(serde_json::from_str::<Lang>("\"zh\"").unwrap(), Lang::Zh);
    }
}
