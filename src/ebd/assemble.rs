//! Putting packages together: envelopes and EBMs from the profile, media `Auxiliary` entries
//! with size and SHA-1 digest, and the signed tar ready to POST.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use sha1::{Digest as _, Sha1};
use sha2::Sha256;

use super::chunks::{PackageBytes, write_chunks};
use super::ids::{EbdId, EbmId, Ebrid};
use super::keys::Signer;
use super::model::*;
use super::package::{PackageError, package_name};
use super::profile::{DigestEncoding, EbdProfile, ProfileError};
use super::sign::{SignError, sign_ebdb, write_signature};
use super::xml_write::write_ebd;
use crate::lang::Lang;

/// A media file to ship in the tar: its data (shared by every package that carries it) and its
/// digests, computed once when it is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaFile {
    pub name: String,
    pub data: Bytes,
    sha1: [u8; 20],
    sha256: [u8; 32],
}

impl MediaFile {
    pub fn new(name: impl Into<String>, data: impl Into<Bytes>) -> MediaFile {
        let data = data.into();
        MediaFile {
            name: name.into(),
            sha1: Sha1::digest(&data).into(),
            sha256: Sha256::digest(&data).into(),
            data,
        }
    }

    /// The same data and digests under another name.
    pub fn named(&self, name: impl Into<String>) -> MediaFile {
        MediaFile {
            name: name.into(),
            ..self.clone()
        }
    }

    /// SHA-1 of the data (the profile's `Auxiliary/Digest`).
    pub fn sha1(&self) -> &[u8; 20] {
        &self.sha1
    }

    pub fn sha256(&self) -> &[u8; 32] {
        &self.sha256
    }
}

/// Why a package could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Profile(#[from] ProfileError),
    #[error("media `{0}` has an extension with no AuxiliaryType in the profile")]
    MediaType(String),
    #[error(transparent)]
    Sign(#[from] SignError),
    #[error(transparent)]
    Package(#[from] PackageError),
    #[error("a pair needs two languages, got `{0}` twice")]
    PairLanguage(&'static str),
    #[error("the pair's second message starts before the first one ends")]
    PairOrder,
}

/// A finished package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltPackage {
    /// `EBDT_<EBDID>.tar`.
    pub name: String,
    pub ebdid: EbdId,
    /// The exact EBDB bytes (what was signed).
    pub ebdb: Vec<u8>,
    pub bytes: PackageBytes,
}

/// The SHA-1 of `data` in the profile's encoding.
pub fn digest(data: &[u8], encoding: DigestEncoding) -> String {
    encode_sha1(&Sha1::digest(data).into(), encoding)
}

fn encode_sha1(d: &[u8; 20], encoding: DigestEncoding) -> String {
    match encoding {
        DigestEncoding::Hex => hex::encode(d),
        DigestEncoding::Base64 => B64.encode(d),
    }
}

/// Whether a written digest (hex in either case, or base64) is the SHA-1 of `data`.
pub fn digest_matches(data: &[u8], written: &str) -> bool {
    let w = written.trim();
    let bytes = if w.len() == 40 {
        hex::decode(w).ok()
    } else {
        B64.decode(w).ok()
    };
    let d: [u8; 20] = Sha1::digest(data).into();
    bytes.is_some_and(|b| b == d)
}

/// The `Auxiliary` entry for a media file.
pub fn auxiliary_for(profile: &EbdProfile, media: &MediaFile) -> Result<Auxiliary, BuildError> {
    let kind = profile
        .auxiliary_type(&media.name)
        .ok_or_else(|| BuildError::MediaType(media.name.clone()))?;
    Ok(Auxiliary {
        kind,
        desc: media.name.clone(),
        size: Some(media.data.len() as u64),
        digest: Some(encode_sha1(media.sha1(), profile.digest_encoding)),
    })
}

/// What one broadcast message says (one language).
#[derive(Debug, Clone, PartialEq)]
pub struct EbmSpec {
    pub id: EbmId,
    /// The other language's message of the pair.
    pub related: Option<EbmId>,
    pub lang: Lang,
    pub title: String,
    pub desc: Option<String>,
    /// 12-digit region codes.
    pub area_codes: Vec<String>,
    pub send_time: DateTime<Utc>,
    pub start_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
}

/// A broadcast request (MsgType 1) with the profile's sender, EventType and Severity.
pub fn broadcast_ebm(
    profile: &EbdProfile,
    spec: &EbmSpec,
    media: &[MediaFile],
) -> Result<Ebm, BuildError> {
    let auxiliary = media
        .iter()
        .map(|m| auxiliary_for(profile, m))
        .collect::<Result<_, _>>()?;
    Ok(Ebm {
        version: profile.ebd_version.clone(),
        id: spec.id.clone(),
        related: spec.related.clone(),
        basic: basic_info(profile, MsgType::Broadcast, spec),
        content: Some(MsgContent {
            language_code: profile.language_code(spec.lang).to_owned(),
            title: spec.title.clone(),
            desc: spec.desc.clone(),
            area_codes: spec.area_codes.clone(),
            auxiliary,
        }),
    })
}

/// A Yi–Mandarin pair: two broadcast requests in airing order, each naming the other in
/// `RelatedInfo/EBMID`; the second's play window must not start before the first's ends.
pub fn broadcast_pair(
    profile: &EbdProfile,
    first: (&EbmSpec, &[MediaFile]),
    second: (&EbmSpec, &[MediaFile]),
) -> Result<(Ebm, Ebm), BuildError> {
    let (a, b) = (first.0, second.0);
    if a.lang == b.lang {
        return Err(BuildError::PairLanguage(a.lang.code()));
    }
    if b.start_time < a.end_time {
        return Err(BuildError::PairOrder);
    }
    let mut one = broadcast_ebm(profile, a, first.1)?;
    let mut two = broadcast_ebm(profile, b, second.1)?;
    one.related = Some(two.id.clone());
    two.related = Some(one.id.clone());
    Ok((one, two))
}

/// A cancel (MsgType 2) of `cancelled`: the same `EBMID`, also named in `RelatedInfo` (platforms
/// look for the cancelled message in one or the other), sent at `now`, without media.
pub fn cancel_ebm(profile: &EbdProfile, cancelled: &Ebm, now: DateTime<Utc>) -> Ebm {
    let mut basic = cancelled.basic.clone();
    basic.msg_type = MsgType::Cancel;
    basic.send_time = now;
    Ebm {
        version: profile.ebd_version.clone(),
        id: cancelled.id.clone(),
        related: Some(cancelled.id.clone()),
        basic,
        content: cancelled.content.clone().map(|mut c| {
            c.auxiliary.clear();
            c
        }),
    }
}

fn basic_info(profile: &EbdProfile, msg_type: MsgType, spec: &EbmSpec) -> MsgBasicInfo {
    MsgBasicInfo {
        msg_type,
        sender_name: profile.sender_name.clone(),
        sender_code: profile.sender_region.clone(),
        send_time: spec.send_time,
        event_type: profile.event_type.clone(),
        severity: profile.severity,
        start_time: spec.start_time,
        end_time: spec.end_time,
    }
}

/// Why a reply package could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReplyError {
    #[error("sender: {0}")]
    Sender(#[from] ProfileError),
    #[error("reply id: {0}")]
    Id(#[from] super::seq::AllocError),
    #[error(transparent)]
    Build(#[from] BuildError),
}

/// A package from our first sender code carrying `body` at `now` — a reply to the package
/// `related` from `dest`, when given — with a fresh EBDID from `seq`, signed when `signer` is.
pub fn reply_package(
    profile: &EbdProfile,
    seq: &dyn super::seq::SequenceStore,
    signer: Option<&dyn Signer>,
    (dest, related): (Option<Ebrid>, Option<EbdId>),
    now: DateTime<Utc>,
    body: Body,
) -> Result<BuiltPackage, ReplyError> {
    let id = super::seq::next_ebdid(seq, &profile.sender()?, now)?;
    let ebd = envelope(profile, id, dest, related, now, body)?;
    Ok(build_package(&ebd, &[], profile, signer)?)
}

/// An envelope from us around `body`: `SRC/EBRID` is the sender code inside `id`, which must be
/// one of the profile's sender codes.
pub fn envelope(
    profile: &EbdProfile,
    id: EbdId,
    dest: Option<Ebrid>,
    related: Option<EbdId>,
    time: DateTime<Utc>,
    body: Body,
) -> Result<Ebd, BuildError> {
    let sender = profile.our_sender(id.sender())?;
    Ok(Ebd {
        version: profile.ebd_version.clone(),
        id,
        src: Src {
            ebrid: sender,
            url: (!profile.sender_url.is_empty()).then(|| profile.sender_url.clone()),
        },
        dest,
        time,
        related,
        body,
    })
}

/// Write, sign and tar `ebd` with its media. Deterministic for the same input: the tar mtime and
/// the signing time are the EBD's time, and SM2 signing here is deterministic (RFC 6979 nonces).
pub fn build_package(
    ebd: &Ebd,
    media: &[MediaFile],
    profile: &EbdProfile,
    signer: Option<&dyn Signer>,
) -> Result<BuiltPackage, BuildError> {
    let ebdb = write_ebd(ebd).into_bytes();
    let sig = sign_ebdb(&ebdb, &ebd.id, profile, signer, ebd.time)?;
    let ebds = write_signature(&sig).into_bytes();
    let mtime = u64::try_from(ebd.time.timestamp()).unwrap_or(0);
    let bytes = write_chunks(ebd.id.as_str(), &ebdb, &ebds, media, mtime)?;
    tracing::debug!(ebdid = %ebd.id, kind = ebd.kind(), bytes = bytes.len(), "package built");
    Ok(BuiltPackage {
        name: package_name(ebd.id.as_str()),
        ebdid: ebd.id.clone(),
        ebdb,
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_media_files_auxiliary_digest_is_the_sha1_of_its_bytes() {
        let a: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let mut b = a.clone();
        b[150_000] ^= 1;
        let p = EbdProfile::default();
        let (ma, mb) = (
            MediaFile::new("a.wav", a.clone()),
            MediaFile::new("b.wav", b),
        );
        let (da, db) = (
            auxiliary_for(&p, &ma).unwrap(),
            auxiliary_for(&p, &mb).unwrap(),
        );
        assert_ne!(da.digest, db.digest);
        assert!(digest_matches(&a, da.digest.as_deref().unwrap()));
        assert!(digest_matches(&mb.data, db.digest.as_deref().unwrap()));
        assert!(!digest_matches(&a, db.digest.as_deref().unwrap()));
    }

    #[test]
    fn digests_in_both_encodings() {
        let hex_d = digest(b"abc", DigestEncoding::Hex);
        assert_eq!(hex_d, "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert!(digest_matches(b"abc", &hex_d.to_uppercase()));
        let b64 = digest(b"abc", DigestEncoding::Base64);
        assert!(digest_matches(b"abc", &b64));
        assert!(!digest_matches(b"abd", &hex_d));
        assert!(!digest_matches(b"abc", "zz"));
    }

    #[test]
    fn pair_links_both_ways_in_order() {
        let p = EbdProfile::default();
        let sender = p.sender().unwrap();
        let t0 = crate::ebd::model::parse_time("2025-11-27 19:30:00").unwrap();
        let spec = |lang, seq, start: i64| EbmSpec {
            id: EbmId::new(&sender, t0.date_naive(), seq).unwrap(),
            related: None,
            lang,
            title: "防诈骗".into(),
            desc: Some("d".into()),
            area_codes: vec!["513431100000".into()],
            send_time: t0,
            start_time: t0 + chrono::TimeDelta::minutes(start),
            end_time: t0 + chrono::TimeDelta::minutes(start + 2),
        };
        let (yi, zh) = (spec(Lang::Ii, 1, 0), spec(Lang::Zh, 2, 2));
        let (a, b) = broadcast_pair(&p, (&yi, &[]), (&zh, &[])).unwrap();
        assert_eq!(a.related.as_ref(), Some(&b.id));
        assert_eq!(b.related.as_ref(), Some(&a.id));
        assert_eq!(a.content.unwrap().language_code, "iii");
        assert_eq!(b.content.unwrap().language_code, "zho");
        assert!(matches!(
            broadcast_pair(&p, (&zh, &[]), (&yi, &[])),
            Err(BuildError::PairOrder)
        ));
        assert!(matches!(
            broadcast_pair(&p, (&yi, &[]), (&spec(Lang::Ii, 3, 5), &[])),
            Err(BuildError::PairLanguage("ii"))
        ));
    }

    #[test]
    fn auxiliary_by_extension() {
        let p = EbdProfile::default();
        let m = MediaFile::new("x.wav", vec![0; 10]);
        let a = auxiliary_for(&p, &m).unwrap();
        assert_eq!((a.kind, a.size), (3, Some(10)));
        let bad = MediaFile::new("x.flac", vec![]);
        assert!(matches!(
            auxiliary_for(&p, &bad),
            Err(BuildError::MediaType(_))
        ));
    }
}
