//! `EbdProfile`: every code the EBD profile marks configurable, with the profile's defaults.
//! A deployment takes these from the county's interface document (对接文档).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::ids::{Ebrid, IdError, IdFormat, check_region_code};
use crate::lang::Lang;

/// How the `Digest` of a media file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DigestEncoding {
    #[default]
    Hex,
    Base64,
}

/// Which signature file shape to emit (both are accepted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum SignatureShape {
    /// `SignatureCert`, `SignatureTime`, `DigestAlgorithm`, 74-byte `SignatureValue`.
    A,
    /// `CertSN`, `SignatureAlgorithm` `SM2-SM3`, 64-byte `SignatureValue`.
    #[default]
    B,
}

/// The ISO 639-2 code sent for each language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LanguageCodes {
    pub ii: String,
    pub zh: String,
}

impl Default for LanguageCodes {
    fn default() -> Self {
        LanguageCodes {
            ii: "iii".into(),
            zh: "zho".into(),
        }
    }
}

/// The deployment's EBD settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EbdProfile {
    /// Our resource code (`SRC/EBRID`): the first sender of every day.
    pub sender_ebrid: String,
    /// Further resource codes of ours, used in order once the codes before them have sent their
    /// 9,999 messages of the (Beijing) day. Each package's `SRC/EBRID` is the sender its ids
    /// were made from.
    pub extra_sender_ebrids: Vec<String>,
    /// `SenderName` in every EBM.
    pub sender_name: String,
    /// `SenderCode`: our 12-digit region code.
    pub sender_region: String,
    /// `SRC/URL`: where replies and state reports go.
    pub sender_url: String,
    /// `EventType`, 5 characters; 14B20 金融诈骗案.
    pub event_type: String,
    /// `Severity`; 10 日常 (routine), 15 test.
    pub severity: u8,
    pub language_codes: LanguageCodes,
    /// Subtype of a terminal in a resource code: `04` or `01`.
    pub terminal_subtype: String,
    pub id_format: IdFormat,
    pub digest_encoding: DigestEncoding,
    /// `EBDVersion`, `EBMVersion` and the signature file's `Version`.
    pub ebd_version: String,
    pub signature_shape: SignatureShape,
    /// Whether the 4-byte signing time is signed together with the EBDB bytes (appended after
    /// them). Default: only the EBDB bytes are signed.
    pub sign_time_in_data: bool,
    /// Our certificate serial (12 hex digits = 6 bytes for shape A).
    pub cert_sn: String,
    /// `SignatureCert/CertType` (shape A).
    pub cert_type: String,
    /// `SignatureCert/IssuerID` (shape A).
    pub issuer_id: String,
    /// The SM2 distinguishing identifier.
    pub sm2_dist_id: String,
    /// `AuxiliaryType` by lower-case file extension.
    pub auxiliary_types: BTreeMap<String, u8>,
}

impl Default for EbdProfile {
    fn default() -> Self {
        EbdProfile {
            sender_ebrid: "45134310000000102010101".into(),
            extra_sender_ebrids: Vec::new(),
            sender_name: "昭觉县公安局".into(),
            sender_region: "513431000000".into(),
            sender_url: "http://127.0.0.1:8080/eb/receive".into(),
            event_type: "14B20".into(),
            severity: 10,
            language_codes: LanguageCodes::default(),
            terminal_subtype: "04".into(),
            id_format: IdFormat::V2018,
            digest_encoding: DigestEncoding::Hex,
            ebd_version: "1".into(),
            signature_shape: SignatureShape::B,
            sign_time_in_data: false,
            cert_sn: "000000000001".into(),
            cert_type: "01".into(),
            issuer_id: "000000000000".into(),
            sm2_dist_id: "1234567812345678".into(),
            auxiliary_types: [("mp3".to_owned(), 2), ("wav".to_owned(), 3)].into(),
        }
    }
}

/// A profile value that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("sender_ebrid: {0}")]
    SenderEbrid(IdError),
    #[error("extra_sender_ebrids[{index}]: {source}")]
    ExtraSenderEbrid { index: usize, source: IdError },
    #[error("extra_sender_ebrids[{index}]: `{code}` is already a sender code")]
    DuplicateSender { index: usize, code: String },
    #[error(
        "sender code `{0}` is neither `sender_ebrid` nor in `extra_sender_ebrids`: nothing is sent under it"
    )]
    NotOurs(String),
    #[error("sender_region: {0}")]
    SenderRegion(IdError),
    #[error("event_type `{0}` must be 5 characters")]
    EventType(String),
    #[error("terminal_subtype `{0}` must be 2 digits")]
    TerminalSubtype(String),
    #[error("cert_sn `{0}` must be 12 hex digits for signature shape A")]
    CertSn(String),
    #[error("language code `{0}` must be 3 ascii letters")]
    LanguageCode(String),
}

impl ProfileError {
    /// The `[ebd]` key the error is about.
    pub fn key(&self) -> &'static str {
        match self {
            ProfileError::SenderEbrid(_) | ProfileError::NotOurs(_) => "sender_ebrid",
            ProfileError::ExtraSenderEbrid { .. } | ProfileError::DuplicateSender { .. } => {
                "extra_sender_ebrids"
            }
            ProfileError::SenderRegion(_) => "sender_region",
            ProfileError::EventType(_) => "event_type",
            ProfileError::TerminalSubtype(_) => "terminal_subtype",
            ProfileError::CertSn(_) => "cert_sn",
            ProfileError::LanguageCode(_) => "language_codes",
        }
    }
}

impl EbdProfile {
    /// Parse a profile from TOML text.
    pub fn from_toml(text: &str) -> Result<EbdProfile, toml::de::Error> {
        toml::from_str(text)
    }

    /// Check the values serde cannot check.
    pub fn validate(&self) -> Result<(), ProfileError> {
        self.senders()?;
        check_region_code(&self.sender_region).map_err(ProfileError::SenderRegion)?;
        if self.event_type.chars().count() != 5 {
            return Err(ProfileError::EventType(self.event_type.clone()));
        }
        let st = &self.terminal_subtype;
        if st.len() != 2 || !st.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ProfileError::TerminalSubtype(st.clone()));
        }
        if self.signature_shape == SignatureShape::A && self.cert_serial().is_none() {
            return Err(ProfileError::CertSn(self.cert_sn.clone()));
        }
        for code in [&self.language_codes.ii, &self.language_codes.zh] {
            if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_lowercase()) {
                return Err(ProfileError::LanguageCode(code.clone()));
            }
        }
        Ok(())
    }

    /// Our resource code, parsed.
    pub fn sender(&self) -> Result<Ebrid, ProfileError> {
        Ebrid::parse(&self.sender_ebrid, self.id_format).map_err(ProfileError::SenderEbrid)
    }

    /// Every sender code in the order they are used: `sender_ebrid`, then
    /// `extra_sender_ebrids`. An unreadable or repeated code is an error naming it.
    pub fn senders(&self) -> Result<Vec<Ebrid>, ProfileError> {
        let mut out = vec![self.sender()?];
        for (index, code) in self.extra_sender_ebrids.iter().enumerate() {
            let e = self.extra_sender(index, code, &out)?;
            out.push(e);
        }
        Ok(out)
    }

    /// Check extra sender code number `index` against the codes before it.
    pub fn extra_sender(
        &self,
        index: usize,
        code: &str,
        before: &[Ebrid],
    ) -> Result<Ebrid, ProfileError> {
        let e = Ebrid::parse(code, self.id_format)
            .map_err(|source| ProfileError::ExtraSenderEbrid { index, source })?;
        if before.contains(&e) {
            let code = code.to_owned();
            return Err(ProfileError::DuplicateSender { index, code });
        }
        Ok(e)
    }

    /// Whether `code` is one of our sender codes.
    pub fn is_sender(&self, code: &Ebrid) -> bool {
        self.sender_ebrid == code.as_str()
            || self.extra_sender_ebrids.iter().any(|c| c == code.as_str())
    }

    /// `code` if it is one of our sender codes, else an error naming it.
    pub fn our_sender(&self, code: &Ebrid) -> Result<Ebrid, ProfileError> {
        if self.is_sender(code) {
            Ok(code.clone())
        } else {
            Err(ProfileError::NotOurs(code.to_string()))
        }
    }

    /// The wire code of a language.
    pub fn language_code(&self, lang: Lang) -> &str {
        match lang {
            Lang::Ii => &self.language_codes.ii,
            Lang::Zh => &self.language_codes.zh,
        }
    }

    /// The `AuxiliaryType` of a file, by its extension.
    pub fn auxiliary_type(&self, file_name: &str) -> Option<u8> {
        let ext = file_name.rsplit_once('.')?.1.to_ascii_lowercase();
        self.auxiliary_types.get(&ext).copied()
    }

    /// The certificate serial as 6 bytes (shape A).
    pub fn cert_serial(&self) -> Option<[u8; 6]> {
        let bytes = hex::decode(&self.cert_sn).ok()?;
        bytes.try_into().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_profile() {
        let p = EbdProfile::default();
        p.validate().unwrap();
        assert_eq!(p.event_type, "14B20");
        assert_eq!(p.severity, 10);
        assert_eq!(p.language_code(Lang::Ii), "iii");
        assert_eq!(p.auxiliary_type("clip.MP3"), Some(2));
        assert_eq!(p.auxiliary_type("clip.wav"), Some(3));
        assert_eq!(p.auxiliary_type("clip.ogg"), None);
        assert_eq!(p.cert_serial(), Some([0, 0, 0, 0, 0, 1]));
    }

    #[test]
    fn toml_overrides_and_rejects_unknown_keys() {
        let p = EbdProfile::from_toml(
            "id_format = \"2017\"\nsender_ebrid = \"451343100000001020\"\n\
             signature_shape = \"A\"\ndigest_encoding = \"base64\"\n\
             [language_codes]\nii = \"ii\"\nzh = \"chi\"\n",
        )
        .unwrap();
        assert_eq!(p.id_format, IdFormat::V2017);
        assert_eq!(p.digest_encoding, DigestEncoding::Base64);
        assert!(p.validate().is_err(), "`ii` is not a 3-letter code");
        let err = EbdProfile::from_toml("sevrity = 10\n").unwrap_err();
        assert!(err.to_string().contains("sevrity"), "{err}");
    }

    #[test]
    fn validate_names_the_bad_value() {
        let p = EbdProfile {
            sender_ebrid: "123".into(),
            ..EbdProfile::default()
        };
        assert!(p.validate().unwrap_err().to_string().contains("`123`"));
        let p = EbdProfile {
            signature_shape: SignatureShape::A,
            cert_sn: "SN-1".into(),
            ..EbdProfile::default()
        };
        assert!(matches!(p.validate(), Err(ProfileError::CertSn(_))));
    }

    const SECOND: &str = "45134310000000102010102";
    const THIRD: &str = "45134310000000102010103";

    #[test]
    fn senders_come_in_order_primary_first() {
        let p = EbdProfile::from_toml(&format!(
            "extra_sender_ebrids = [\"{SECOND}\", \"{THIRD}\"]\n"
        ))
        .unwrap();
        p.validate().unwrap();
        let codes: Vec<String> = p.senders().unwrap().iter().map(|e| e.to_string()).collect();
        assert_eq!(codes, [p.sender_ebrid.as_str(), SECOND, THIRD]);
        assert!(p.is_sender(&Ebrid::parse(THIRD, IdFormat::V2018).unwrap()));
        let other = Ebrid::parse("45134310000000102010104", IdFormat::V2018).unwrap();
        assert!(!p.is_sender(&other));
        let err = p.our_sender(&other).unwrap_err();
        assert!(matches!(err, ProfileError::NotOurs(_)), "{err}");
        assert_eq!(
            p.our_sender(&p.senders().unwrap()[2]).unwrap().as_str(),
            THIRD
        );
        assert!(EbdProfile::default().extra_sender_ebrids.is_empty());
    }

    #[test]
    fn extra_senders_are_checked_like_the_first() {
        let with = |extra: &[&str]| EbdProfile {
            extra_sender_ebrids: extra.iter().map(|s| s.to_string()).collect(),
            ..EbdProfile::default()
        };
        let err = with(&[SECOND, "4513431"]).validate().unwrap_err();
        assert!(
            matches!(err, ProfileError::ExtraSenderEbrid { index: 1, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("`4513431`"), "{err}");
        assert_eq!(err.key(), "extra_sender_ebrids");
        // A 2017-layout code in a 2018 profile is the wrong length.
        assert!(with(&["451343100000001020"]).validate().is_err());
        let primary = EbdProfile::default().sender_ebrid;
        for dup in [vec![primary.as_str()], vec![SECOND, THIRD, SECOND]] {
            let err = with(&dup).validate().unwrap_err();
            let index = dup.len() - 1;
            assert!(
                matches!(&err, ProfileError::DuplicateSender { index: i, .. } if *i == index),
                "{err}"
            );
            assert!(err.to_string().contains("already a sender code"), "{err}");
        }
    }
}
