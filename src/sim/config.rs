//! The simulator's configuration: its own EBD identity, terminals per township, the clock speed
//! and fault injection.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::directory::Directory;
use crate::ebd::EbdProfile;

/// Faults to inject, each as a rate in 0..=1 (rolled per request with a seeded generator).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Faults {
    /// Answer HTTP 503 and record nothing.
    pub http_5xx_rate: f64,
    /// Delay the answer by `slow_ms` (longer than a client's timeout = a timeout).
    pub slow_rate: f64,
    pub slow_ms: u64,
    /// Answer this ResultCode (2–5) instead of validating, at `force_result_rate`.
    pub force_result_code: Option<u8>,
    pub force_result_rate: f64,
    /// Accepted messages that end in BrdStateCode 4 (failed) instead of 3.
    pub brd_fail_rate: f64,
    /// Share of terminals that play (partial coverage).
    pub coverage_ratio: f64,
    /// Refuse every broadcast in this language (its `LanguageCode`, e.g. `zho`) with HTTP 503,
    /// as a platform that cannot take one language: the sender retries until its air-by.
    pub refuse_lang: Option<String>,
    /// Refuse every cancel (MsgType 2) with ResultCode 5, as a platform whose message has
    /// already gone out to its loudspeakers.
    pub refuse_cancel: bool,
    /// Answer broadcasts (EBMs) unsigned, as a platform that signs only its other replies: a
    /// sender holding the platform's key cannot verify those answers.
    pub unsigned_broadcast_replies: bool,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            http_5xx_rate: 0.0,
            slow_rate: 0.0,
            slow_ms: 0,
            force_result_code: None,
            force_result_rate: 1.0,
            brd_fail_rate: 0.0,
            coverage_ratio: 1.0,
            refuse_lang: None,
            refuse_cancel: false,
            unsigned_broadcast_replies: false,
        }
    }
}

/// The simulator's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SimConfig {
    /// The simulator's own identity and codes (`SRC` of its replies).
    pub profile: EbdProfile,
    /// Simulated seconds per real second (1 = real time).
    pub speed: f64,
    /// Terminals of a township not listed in `terminals`.
    pub default_terminals: u32,
    /// Terminals per township, by 12-digit region code.
    pub terminals: BTreeMap<String, u32>,
    pub faults: Faults,
    /// Seed of the fault dice, so a drill can be repeated.
    pub seed: u64,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// Messages remembered for state requests (oldest forgotten first).
    pub max_messages: usize,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            profile: EbdProfile {
                sender_ebrid: "45134310000000103010101".into(),
                sender_name: "昭觉县应急广播平台（模拟）".into(),
                sender_url: String::new(),
                ..EbdProfile::default()
            },
            speed: 1.0,
            default_terminals: 1,
            terminals: BTreeMap::new(),
            faults: Faults::default(),
            seed: 1,
            max_body_bytes: 64 << 20,
            max_messages: 100_000,
        }
    }
}

impl SimConfig {
    /// One terminal per village for every township of `dir`.
    pub fn with_directory(mut self, dir: &Directory) -> SimConfig {
        for t in dir.townships() {
            let villages = u32::try_from(t.villages.len()).unwrap_or(u32::MAX).max(1);
            self.terminals.insert(t.region_code(), villages);
        }
        self
    }

    /// Terminals reached by one area code: a village has one; a township its listed count; a
    /// county the sum of its listed townships (or the default when none is listed).
    pub fn terminals_of(&self, area: &str) -> u32 {
        if area.len() != 12 {
            return 0;
        }
        if &area[9..] != "000" {
            return 1;
        }
        if &area[6..9] != "000" {
            return *self.terminals.get(area).unwrap_or(&self.default_terminals);
        }
        let county = &area[..6];
        let sum: u32 = self
            .terminals
            .iter()
            .filter(|(code, _)| code.starts_with(county))
            .map(|(_, n)| *n)
            .sum();
        if sum == 0 {
            self.default_terminals
        } else {
            sum
        }
    }

    /// Parse from TOML text.
    pub fn from_toml(text: &str) -> Result<SimConfig, toml::de::Error> {
        toml::from_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminals_by_area_level() {
        let mut c = SimConfig::default();
        c.terminals.insert("513431100000".into(), 12);
        c.terminals.insert("513431101000".into(), 5);
        assert_eq!(c.terminals_of("513431100000"), 12);
        assert_eq!(c.terminals_of("513431100007"), 1);
        assert_eq!(c.terminals_of("513431000000"), 17);
        assert_eq!(c.terminals_of("513432102000"), 1);
        assert_eq!(c.terminals_of("5134"), 0);
    }

    #[test]
    fn directory_gives_one_terminal_per_village() {
        let dir = Directory::liangshan();
        let c = SimConfig::default().with_directory(&dir);
        let t = &dir.townships()[0];
        assert_eq!(
            c.terminals_of(&t.region_code()) as usize,
            t.villages.len().max(1)
        );
        assert_eq!(c.terminals.len(), dir.townships().len());
    }

    #[test]
    fn toml_faults() {
        let c = SimConfig::from_toml("speed = 60.0\n[faults]\nforce_result_code = 3\n").unwrap();
        assert_eq!(c.faults.force_result_code, Some(3));
        assert_eq!(c.speed, 60.0);
        assert!(SimConfig::from_toml("[faults]\nhttp_500 = 1\n").is_err());
        let c = SimConfig::from_toml("[faults]\nrefuse_lang = \"zho\"\nrefuse_cancel = true\n")
            .unwrap();
        assert_eq!(c.faults.refuse_lang.as_deref(), Some("zho"));
        assert!(c.faults.refuse_cancel);
    }
}
