//! Everything a platform checks on an incoming package, in order, mapped to an `EBDResponse`
//! ResultCode with a plain `ResultDesc`: tar layout (2; missing files 3; over the caps 5), the
//! signature (4), the EBDB XML (2 malformed, 3 required field missing, 5 an EBDType we do not
//! handle), the play window (5 when EndTime is not after StartTime), media size and SHA-1 (3
//! missing, 5 mismatch).

use sm2::dsa::VerifyingKey;

use super::assemble::digest_matches;
use super::ids::{Ebrid, IdFormat};
use super::model::{Body, Ebd, Ebm, format_time};
use super::outcome::ResultCode;
use super::package::{Limits, PackageError, RawPackage, read_package};
use super::sign::{SignError, parse_signature, verify};
use super::xml_read::{XmlError, parse_ebd};

/// How inbound packages are checked.
#[derive(Debug, Clone, Default)]
pub struct InboundConfig {
    pub id_format: IdFormat,
    pub limits: Limits,
    /// The peer's public key; without one (and no `senders`), signatures are not verified.
    pub peer_key: Option<VerifyingKey>,
    /// Several peers, each by the EBRID it sends from (`SRC/EBRID`) with its public key. When not
    /// empty, a package must name one of these senders and be signed with that sender's key;
    /// `peer_key` is then not used.
    pub senders: Vec<(Ebrid, VerifyingKey)>,
    /// Whether shape A's 4-byte time is inside the signed data.
    pub sign_time_in_data: bool,
}

/// The result of checking one package.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub code: ResultCode,
    /// Plain words for `ResultDesc`.
    pub desc: String,
    /// The EBDID when it could be read (for `RelatedEBD`).
    pub ebdid: Option<String>,
    /// The parsed package when it passed (code 1).
    pub package: Option<InboundPackage>,
}

/// A package that passed validation.
#[derive(Debug, Clone)]
pub struct InboundPackage {
    pub ebd: Ebd,
    pub raw: RawPackage,
}

impl Verdict {
    fn fail(code: ResultCode, ebdid: Option<&str>, desc: impl Into<String>) -> Verdict {
        let desc = desc.into();
        tracing::info!(code = code.code(), ebdid = ebdid.unwrap_or("-"), %desc, "package refused");
        Verdict {
            code,
            desc,
            ebdid: ebdid.map(str::to_owned),
            package: None,
        }
    }

    pub fn is_ok(&self) -> bool {
        self.code == ResultCode::Ok
    }
}

fn tar_code(e: &PackageError) -> ResultCode {
    match e {
        PackageError::MissingEbdb | PackageError::MissingEbds(_) => ResultCode::ContentMissing,
        PackageError::TooManyEntries { .. }
        | PackageError::EntryTooLarge { .. }
        | PackageError::TotalTooLarge { .. } => ResultCode::Other,
        _ => ResultCode::ParseFailure,
    }
}

/// Check one package from untrusted bytes. Never panics on bad input.
pub fn validate_package(bytes: impl std::io::Read, cfg: &InboundConfig) -> Verdict {
    let raw = match read_package(bytes, &cfg.limits) {
        Ok(r) => r,
        Err(e) => return Verdict::fail(tar_code(&e), None, format!("package: {e}")),
    };
    let id = raw.ebdid.clone();
    let id = Some(id.as_str());
    if let Err((code, desc)) = check_signature(
        &raw,
        cfg,
        cfg.peer_key.as_ref().filter(|_| cfg.senders.is_empty()),
    ) {
        return Verdict::fail(code, id, desc);
    }
    let Ok(xml) = std::str::from_utf8(&raw.ebdb) else {
        return Verdict::fail(ResultCode::ParseFailure, id, "EBDB file is not UTF-8");
    };
    let ebd = match parse_ebd(xml, cfg.id_format) {
        Ok(e) => e,
        Err(e @ XmlError::UnsupportedType(_)) => {
            return Verdict::fail(ResultCode::Other, id, e.to_string());
        }
        Err(e) if e.is_missing() => {
            return Verdict::fail(ResultCode::ContentMissing, id, e.to_string());
        }
        Err(e) => return Verdict::fail(ResultCode::ParseFailure, id, e.to_string()),
    };
    if ebd.id.as_str() != raw.ebdid {
        let desc = format!(
            "EBDID `{}` differs from the file name's `{}`",
            ebd.id, raw.ebdid
        );
        return Verdict::fail(ResultCode::ParseFailure, id, desc);
    }
    if let Err((code, desc)) = check_sender(&raw, &ebd, cfg) {
        return Verdict::fail(code, id, desc);
    }
    if let Body::Ebm(ebm) = &ebd.body
        && let Err((code, desc)) = check_window(ebm).and_then(|()| check_media(ebm, &raw))
    {
        return Verdict::fail(code, id, desc);
    }
    Verdict {
        code: ResultCode::Ok,
        desc: ResultCode::Ok.desc_zh().to_owned(),
        ebdid: Some(raw.ebdid.clone()),
        package: Some(InboundPackage { ebd, raw }),
    }
}

/// With several peers: the signature checked against the key of the sender the package names.
fn check_sender(
    raw: &RawPackage,
    ebd: &Ebd,
    cfg: &InboundConfig,
) -> Result<(), (ResultCode, String)> {
    if cfg.senders.is_empty() {
        return Ok(());
    }
    let src = &ebd.src.ebrid;
    let Some((_, key)) = cfg.senders.iter().find(|(ebrid, _)| ebrid == src) else {
        return Err((
            ResultCode::SignatureFailed,
            format!("sender `{src}` (SRC/EBRID) is not an endpoint with a configured peer key"),
        ));
    };
    check_signature(raw, cfg, Some(key))
}

/// The signature file's shape and EBDID, and its signature when `key` is given.
fn check_signature(
    raw: &RawPackage,
    cfg: &InboundConfig,
    key: Option<&VerifyingKey>,
) -> Result<(), (ResultCode, String)> {
    let sig4 = |e: SignError| (ResultCode::SignatureFailed, format!("signature: {e}"));
    let Ok(text) = std::str::from_utf8(&raw.ebds) else {
        return Err((ResultCode::ParseFailure, "EBDS file is not UTF-8".into()));
    };
    let sig = match parse_signature(text) {
        Ok(s) => s,
        Err(e @ (SignError::Malformed(_) | SignError::Missing(_))) => {
            return Err((ResultCode::ParseFailure, format!("signature file: {e}")));
        }
        Err(e) => return Err(sig4(e)),
    };
    if sig.ebdid != raw.ebdid {
        return Err((
            ResultCode::SignatureFailed,
            format!(
                "signature names EBDID `{}`, package is `{}`",
                sig.ebdid, raw.ebdid
            ),
        ));
    }
    if let Some(key) = key {
        verify(&raw.ebdb, &sig, key, cfg.sign_time_in_data).map_err(sig4)?;
    }
    Ok(())
}

fn check_window(ebm: &Ebm) -> Result<(), (ResultCode, String)> {
    let b = &ebm.basic;
    if b.end_time <= b.start_time {
        return Err((
            ResultCode::Other,
            format!(
                "EndTime `{}` is not after StartTime `{}`",
                format_time(b.end_time),
                format_time(b.start_time)
            ),
        ));
    }
    Ok(())
}

fn check_media(ebm: &Ebm, raw: &RawPackage) -> Result<(), (ResultCode, String)> {
    let Some(content) = &ebm.content else {
        return Ok(());
    };
    for aux in &content.auxiliary {
        let Some(data) = raw.media.get(&aux.desc) else {
            return Err((
                ResultCode::ContentMissing,
                format!(
                    "media `{}` named by Auxiliary is not in the package",
                    aux.desc
                ),
            ));
        };
        if let Some(size) = aux.size
            && size != data.len() as u64
        {
            return Err((
                ResultCode::Other,
                format!(
                    "media `{}` has {} bytes, Size says {size}",
                    aux.desc,
                    data.len()
                ),
            ));
        }
        if let Some(d) = &aux.digest
            && !digest_matches(data, d)
        {
            return Err((
                ResultCode::Other,
                format!("media `{}` does not match its SHA-1 Digest `{d}`", aux.desc),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ebd::assemble::{EbmSpec, MediaFile, broadcast_ebm, build_package, envelope};
    use crate::ebd::ids::{EbdId, EbmId};
    use crate::ebd::keys::{KeySigner, generate_key_pair};
    use crate::ebd::model::parse_time;
    use crate::ebd::profile::EbdProfile;

    fn package(signer: Option<&KeySigner>, media: &[MediaFile], named: &[MediaFile]) -> Vec<u8> {
        package_window(signer, media, named, 15)
    }

    fn package_window(
        signer: Option<&KeySigner>,
        media: &[MediaFile],
        named: &[MediaFile],
        minutes: i64,
    ) -> Vec<u8> {
        let p = EbdProfile::default();
        let t = parse_time("2025-11-27 09:00:00").unwrap();
        let spec = EbmSpec {
            id: EbmId::parse("45134310000000102010101202511270001", IdFormat::V2018).unwrap(),
            related: None,
            lang: crate::lang::Lang::Zh,
            title: "提示".into(),
            desc: Some("说明".into()),
            area_codes: vec!["513431100000".into()],
            send_time: t,
            start_time: t,
            end_time: t + chrono::TimeDelta::minutes(minutes),
        };
        let ebm = broadcast_ebm(&p, &spec, named).unwrap();
        let id = EbdId::package(&p.sender().unwrap(), spec.id.day(), 1).unwrap();
        let ebd = envelope(&p, id, None, None, t, Body::Ebm(ebm)).unwrap();
        let signer = signer.map(|s| s as &dyn crate::ebd::keys::Signer);
        build_package(&ebd, media, &p, signer)
            .unwrap()
            .bytes
            .to_vec()
    }

    fn clip(name: &str, byte: u8) -> MediaFile {
        MediaFile::new(name, vec![byte; 100])
    }

    #[test]
    fn good_package_passes_with_its_ebd() {
        let pair = generate_key_pair();
        let signer = KeySigner::from_text(&pair.private_pem, "1234567812345678").unwrap();
        let m = [clip("a.mp3", 1)];
        let cfg = InboundConfig {
            peer_key: Some(signer.verifying_key()),
            ..InboundConfig::default()
        };
        let v = validate_package(package(Some(&signer), &m, &m).as_slice(), &cfg);
        assert!(v.is_ok(), "{}", v.desc);
        assert_eq!(
            v.ebdid.as_deref(),
            Some("10451343100000001020101012025112700000001")
        );
        assert_eq!(v.package.unwrap().raw.media["a.mp3"].len(), 100);
    }

    #[test]
    fn media_problems_are_named() {
        let cfg = InboundConfig::default();
        let v = validate_package(package(None, &[], &[clip("a.mp3", 1)]).as_slice(), &cfg);
        assert_eq!(v.code, ResultCode::ContentMissing);
        assert!(v.desc.contains("`a.mp3`"), "{}", v.desc);
        let v = validate_package(
            package(None, &[clip("a.mp3", 2)], &[clip("a.mp3", 1)]).as_slice(),
            &cfg,
        );
        assert_eq!(v.code, ResultCode::Other);
        assert!(v.desc.contains("SHA-1"), "{}", v.desc);
        assert!(v.package.is_none());
    }

    #[test]
    fn play_window_must_not_be_empty() {
        let cfg = InboundConfig::default();
        assert!(validate_package(package_window(None, &[], &[], 1).as_slice(), &cfg).is_ok());
        let v = validate_package(package_window(None, &[], &[], 0).as_slice(), &cfg);
        assert_eq!(v.code, ResultCode::Other);
        assert!(v.desc.contains("EndTime"), "{}", v.desc);
    }

    #[test]
    fn tar_errors_map_to_codes() {
        assert_eq!(
            tar_code(&PackageError::MissingEbdb),
            ResultCode::ContentMissing
        );
        assert_eq!(
            tar_code(&PackageError::TooManyEntries { max: 1 }),
            ResultCode::Other
        );
        assert_eq!(
            tar_code(&PackageError::Duplicate("x".into())),
            ResultCode::ParseFailure
        );
    }
}
