//! The EBDS signature file: SM2 with SM3 over the exact bytes of the EBDB file, written in shape
//! A or B by configuration, both accepted and verified.
//!
//! Shape A's `SignatureValue` is 74 bytes: 4-byte big-endian Unix time ‖ 6-byte certificate
//! serial ‖ 64-byte r‖s. Whether that time is signed too is [`EbdProfile::sign_time_in_data`];
//! when it is, the signed data is the EBDB bytes followed by the 4 time bytes.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Utc};
use roxmltree::Document;
use sm2::dsa::signature::Verifier;
use sm2::dsa::{Signature, VerifyingKey};

use super::ids::EbdId;
use super::keys::{KeyError, Signer};
use super::profile::{EbdProfile, SignatureShape};
use super::xml_write::XmlWriter;

/// A parsed or built signature file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureFile {
    pub shape: SignatureShape,
    pub version: String,
    /// `RelatedEBD/EBDID`, as written.
    pub ebdid: String,
    pub cert_sn: String,
    /// Shape A: `SignatureCert/CertType` and `IssuerID`.
    pub cert_type: Option<String>,
    pub issuer_id: Option<String>,
    /// Shape A: `SignatureTime` (Unix seconds).
    pub time: Option<u32>,
    /// The decoded `SignatureValue`; empty when signing is turned off.
    pub value: Vec<u8>,
}

/// Why a signature could not be made, read or verified.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("signature file is not well-formed: {0}")]
    Malformed(#[source] roxmltree::Error),
    #[error("signature file has root element `{0}`, expected `Signature`")]
    Root(String),
    #[error("signature file misses `{0}`")]
    Missing(&'static str),
    #[error("signature file: {0}")]
    Invalid(String),
    #[error("signature file is unsigned")]
    Unsigned,
    #[error("signature does not match the EBDB bytes")]
    Mismatch,
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// Sign `ebdb` (package `id`) as the profile says; `signer` `None` writes an unsigned file.
/// `at` is the signing time (use the EBD's time so a retried package is byte-identical).
pub fn sign_ebdb(
    ebdb: &[u8],
    id: &EbdId,
    profile: &EbdProfile,
    signer: Option<&dyn Signer>,
    at: DateTime<Utc>,
) -> Result<SignatureFile, SignError> {
    let time = u32::try_from(at.timestamp().max(0)).unwrap_or(u32::MAX);
    let shape = profile.signature_shape;
    let value = match signer {
        None => Vec::new(),
        Some(s) => {
            let rs = s.sign(&signed_data(ebdb, shape, time, profile.sign_time_in_data))?;
            match shape {
                SignatureShape::B => rs.to_vec(),
                SignatureShape::A => {
                    let serial = profile.cert_serial().ok_or_else(|| {
                        SignError::Invalid(format!(
                            "cert_sn `{}` is not 12 hex digits",
                            profile.cert_sn
                        ))
                    })?;
                    let mut v = time.to_be_bytes().to_vec();
                    v.extend_from_slice(&serial);
                    v.extend_from_slice(&rs);
                    v
                }
            }
        }
    };
    let a = shape == SignatureShape::A;
    Ok(SignatureFile {
        shape,
        version: profile.ebd_version.clone(),
        ebdid: id.as_str().to_owned(),
        cert_sn: profile.cert_sn.clone(),
        cert_type: a.then(|| profile.cert_type.clone()),
        issuer_id: a.then(|| profile.issuer_id.clone()),
        time: a.then_some(time),
        value,
    })
}

fn signed_data(ebdb: &[u8], shape: SignatureShape, time: u32, time_in_data: bool) -> Vec<u8> {
    let mut data = ebdb.to_vec();
    if shape == SignatureShape::A && time_in_data {
        data.extend_from_slice(&time.to_be_bytes());
    }
    data
}

/// The signature file's XML.
pub fn write_signature(sig: &SignatureFile) -> String {
    let mut w = XmlWriter::new();
    w.open("Signature");
    w.leaf("Version", &sig.version);
    w.open("RelatedEBD");
    w.leaf("EBDID", &sig.ebdid);
    w.close();
    let value = B64.encode(&sig.value);
    match sig.shape {
        SignatureShape::A => {
            w.open("SignatureCert");
            w.leaf("CertType", sig.cert_type.as_deref().unwrap_or(""));
            w.leaf("IssuerID", sig.issuer_id.as_deref().unwrap_or(""));
            w.leaf("CertSN", &sig.cert_sn);
            w.close();
            w.leaf("SignatureTime", &format!("{:08X}", sig.time.unwrap_or(0)));
            w.leaf("DigestAlgorithm", "SM3");
            w.leaf("SignatureAlgorithm", "SM2");
        }
        SignatureShape::B => {
            w.leaf("CertSN", &sig.cert_sn);
            w.leaf("SignatureAlgorithm", "SM2-SM3");
        }
    }
    w.leaf("SignatureValue", &value);
    w.close();
    w.finish()
}

fn text<'a>(n: roxmltree::Node<'a, '_>, name: &str) -> Option<&'a str> {
    n.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
        .and_then(|c| c.text())
        .map(str::trim)
}

fn child<'a, 'i>(n: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    n.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

/// Read a signature file of either shape (shape A when it has `SignatureCert`).
pub fn parse_signature(xml: &str) -> Result<SignatureFile, SignError> {
    let doc = Document::parse(xml).map_err(SignError::Malformed)?;
    let root = doc.root_element();
    if root.tag_name().name() != "Signature" {
        return Err(SignError::Root(root.tag_name().name().to_string()));
    }
    let version = text(root, "Version").ok_or(SignError::Missing("Signature/Version"))?;
    let ebdid = child(root, "RelatedEBD")
        .and_then(|r| text(r, "EBDID"))
        .ok_or(SignError::Missing("Signature/RelatedEBD/EBDID"))?;
    let raw_value = text(root, "SignatureValue").unwrap_or("");
    let value = B64
        .decode(raw_value.split_whitespace().collect::<String>())
        .map_err(|_| SignError::Invalid(format!("SignatureValue `{raw_value}` is not base64")))?;
    let mut sig = SignatureFile {
        shape: SignatureShape::B,
        version: version.to_owned(),
        ebdid: ebdid.to_owned(),
        cert_sn: String::new(),
        cert_type: None,
        issuer_id: None,
        time: None,
        value,
    };
    if let Some(cert) = child(root, "SignatureCert") {
        sig.shape = SignatureShape::A;
        sig.cert_sn = text(cert, "CertSN")
            .ok_or(SignError::Missing("Signature/SignatureCert/CertSN"))?
            .to_owned();
        sig.cert_type = text(cert, "CertType").map(str::to_owned);
        sig.issuer_id = text(cert, "IssuerID").map(str::to_owned);
        let t = text(root, "SignatureTime").ok_or(SignError::Missing("Signature/SignatureTime"))?;
        sig.time =
            Some(u32::from_str_radix(t, 16).map_err(|_| {
                SignError::Invalid(format!("SignatureTime `{t}` is not 8 hex digits"))
            })?);
    } else {
        sig.cert_sn = text(root, "CertSN")
            .ok_or(SignError::Missing("Signature/CertSN"))?
            .to_owned();
    }
    Ok(sig)
}

/// Verify `sig` over the exact `ebdb` bytes with the peer's key.
pub fn verify(
    ebdb: &[u8],
    sig: &SignatureFile,
    key: &VerifyingKey,
    time_in_data: bool,
) -> Result<(), SignError> {
    if sig.value.is_empty() {
        return Err(SignError::Unsigned);
    }
    let (time, rs) = match sig.shape {
        SignatureShape::B => (0, sig.value.as_slice()),
        SignatureShape::A => {
            if sig.value.len() != 74 {
                return Err(SignError::Invalid(format!(
                    "shape A SignatureValue has {} bytes, expected 74",
                    sig.value.len()
                )));
            }
            let time = u32::from_be_bytes(sig.value[..4].try_into().expect("4 bytes"));
            if sig.time.is_some_and(|t| t != time) {
                return Err(SignError::Invalid(
                    "SignatureTime differs from the time inside SignatureValue".into(),
                ));
            }
            if let Ok(serial) = hex::decode(&sig.cert_sn)
                && serial.len() == 6
                && serial != sig.value[4..10]
            {
                return Err(SignError::Invalid(format!(
                    "CertSN `{}` differs from the serial inside SignatureValue",
                    sig.cert_sn
                )));
            }
            (time, &sig.value[10..])
        }
    };
    let rs: &[u8; 64] = rs.try_into().map_err(|_| {
        SignError::Invalid(format!("signature r‖s has {} bytes, expected 64", rs.len()))
    })?;
    let signature = Signature::from_bytes(rs).map_err(|_| SignError::Mismatch)?;
    let data = signed_data(ebdb, sig.shape, time, time_in_data);
    key.verify(&data, &signature)
        .map_err(|_| SignError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ebd::ids::IdFormat;
    use crate::ebd::keys::{KeySigner, generate_key_pair};

    fn setup() -> (KeySigner, VerifyingKey, EbdId) {
        let pair = generate_key_pair();
        let signer = KeySigner::from_text(&pair.private_pem, "1234567812345678").unwrap();
        let vk = signer.verifying_key();
        let id =
            EbdId::parse("10451343100000001020101012025112700000001", IdFormat::V2018).unwrap();
        (signer, vk, id)
    }

    #[test]
    fn both_shapes_sign_parse_and_verify() {
        let (signer, vk, id) = setup();
        let at = crate::ebd::model::parse_time("2025-11-27 09:00:00").unwrap();
        for shape in [SignatureShape::A, SignatureShape::B] {
            for time_in_data in [false, true] {
                let profile = EbdProfile {
                    signature_shape: shape,
                    sign_time_in_data: time_in_data,
                    ..EbdProfile::default()
                };
                let sig = sign_ebdb(b"<EBD/>", &id, &profile, Some(&signer), at).unwrap();
                let back = parse_signature(&write_signature(&sig)).unwrap();
                assert_eq!(back, sig);
                verify(b"<EBD/>", &back, &vk, time_in_data).unwrap();
                assert!(matches!(
                    verify(b"<EBD />", &back, &vk, time_in_data),
                    Err(SignError::Mismatch)
                ));
            }
        }
    }

    #[test]
    fn shape_a_layout_and_unsigned() {
        let (signer, vk, id) = setup();
        let at = crate::ebd::model::parse_time("2025-11-27 09:00:00").unwrap();
        let profile = EbdProfile {
            signature_shape: SignatureShape::A,
            ..EbdProfile::default()
        };
        let sig = sign_ebdb(b"x", &id, &profile, Some(&signer), at).unwrap();
        assert_eq!(sig.value.len(), 74);
        assert_eq!(&sig.value[..4], &(at.timestamp() as u32).to_be_bytes());
        assert_eq!(&sig.value[4..10], &[0, 0, 0, 0, 0, 1]);
        let xml = write_signature(&sig);
        assert!(xml.contains(&format!(
            "<SignatureTime>{:08X}</SignatureTime>",
            at.timestamp()
        )));
        let mut other_cert = parse_signature(&xml).unwrap();
        other_cert.cert_sn = "000000000002".into();
        assert!(matches!(
            verify(b"x", &other_cert, &vk, false),
            Err(SignError::Invalid(_))
        ));
        let unsigned = sign_ebdb(b"x", &id, &profile, None, at).unwrap();
        assert!(matches!(
            verify(b"x", &unsigned, &vk, false),
            Err(SignError::Unsigned)
        ));
    }

    #[test]
    fn sample_shape_b_parses() {
        let xml = "<?xml version=\"1.0\"?><Signature><Version>1</Version><RelatedEBD>\
                   <EBDID>10451343100000001020101012025112700000001</EBDID></RelatedEBD>\
                   <CertSN>000000000001</CertSN><SignatureAlgorithm>SM2-SM3</SignatureAlgorithm>\
                   <SignatureValue>AAEC</SignatureValue></Signature>";
        let sig = parse_signature(xml).unwrap();
        assert_eq!(sig.shape, SignatureShape::B);
        assert_eq!(sig.value, vec![0, 1, 2]);
        assert!(parse_signature("<Signature/>").is_err());
    }
}
