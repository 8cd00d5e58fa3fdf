//! Integration tests: ebd packages — signed packages of both shapes, unsigned ones, hostile tars
//! and content problems through the inbound validator.

use shengbo::ebd::assemble::{MediaFile, broadcast_ebm, build_package};
use shengbo::ebd::keys::{KeySigner, generate_key_pair};
use shengbo::ebd::package::write_package;
use shengbo::ebd::*;

use super::{SAMPLES, data, sample_envelope, sample_profile, sample_spec};

pub(super) fn media() -> Vec<MediaFile> {
    let data: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 251) as u8).collect();
    vec![MediaFile::new("fraud_tel_iii_001.mp3", data)]
}

fn signed(profile: &EbdProfile, signer: &KeySigner) -> BuiltPackage {
    let m = media();
    let ebm = broadcast_ebm(profile, &sample_spec(), &m).unwrap();
    let ebd = sample_envelope(profile, Body::Ebm(ebm));
    build_package(&ebd, &m, profile, Some(signer)).unwrap()
}

fn inbound(signer: &KeySigner, profile: &EbdProfile) -> InboundConfig {
    InboundConfig {
        peer_key: Some(signer.verifying_key()),
        sign_time_in_data: profile.sign_time_in_data,
        ..InboundConfig::default()
    }
}

#[test]
fn signed_packages_of_both_shapes_verify_and_a_changed_byte_fails() {
    let pair = generate_key_pair();
    let signer = KeySigner::from_text(&pair.private_pem, "1234567812345678").unwrap();
    for shape in [SignatureShape::A, SignatureShape::B] {
        let profile = EbdProfile {
            signature_shape: shape,
            ..sample_profile()
        };
        let pkg = signed(&profile, &signer);
        assert_eq!(
            pkg.bytes.to_vec(),
            signed(&profile, &signer).bytes.to_vec(),
            "retry is byte-identical"
        );
        let cfg = inbound(&signer, &profile);
        let v = validate_package(pkg.bytes.reader(), &cfg);
        assert_eq!(v.code, ResultCode::Ok, "{shape:?}: {}", v.desc);
        assert!(matches!(v.package.unwrap().ebd.body, Body::Ebm(_)));

        let raw = package::read_package(pkg.bytes.to_vec().as_slice(), &Limits::default()).unwrap();
        let mut ebdb = raw.ebdb.clone();
        let pos = ebdb.len() / 2;
        ebdb[pos] ^= 1;
        let media: Vec<(String, Vec<u8>)> = raw.media.into_iter().collect();
        let tampered = write_package(&raw.ebdid, &ebdb, &raw.ebds, &media, 0).unwrap();
        let v = validate_package(tampered.as_slice(), &cfg);
        assert_eq!(v.code, ResultCode::SignatureFailed, "{shape:?}: {}", v.desc);
    }
}

#[test]
fn unsigned_package_passes_without_a_key_and_fails_with_one() {
    let profile = sample_profile();
    let m = media();
    let ebm = broadcast_ebm(&profile, &sample_spec(), &m).unwrap();
    let pkg = build_package(
        &sample_envelope(&profile, Body::Ebm(ebm)),
        &m,
        &profile,
        None,
    )
    .unwrap();
    assert_eq!(
        validate_package(pkg.bytes.reader(), &InboundConfig::default()).code,
        ResultCode::Ok
    );
    let pair = generate_key_pair();
    let signer = KeySigner::from_text(&pair.private_pem, "1234567812345678").unwrap();
    let v = validate_package(pkg.bytes.reader(), &inbound(&signer, &profile));
    assert_eq!(v.code, ResultCode::SignatureFailed);
    assert!(v.desc.contains("unsigned"), "{}", v.desc);
}

/// A tar written byte by byte, so names and types the tar crate refuses can be made.
fn raw_tar(entries: &[(&[u8], tar::EntryType, &[u8], u64)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, kind, body, claimed) in entries {
        let mut h = tar::Header::new_gnu();
        h.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name);
        h.set_entry_type(*kind);
        h.set_size(*claimed);
        h.set_mode(0o644);
        if *kind == tar::EntryType::Symlink {
            h.set_link_name("/etc/passwd").unwrap();
        }
        h.set_cksum();
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(body);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

#[test]
fn hostile_tars_get_the_right_code_and_no_panic() {
    use tar::EntryType::{Regular, Symlink};
    let cfg = InboundConfig::default();
    let ok = b"<EBD/>".as_slice();
    let cases: [(&str, Vec<u8>, ResultCode); 6] = [
        (
            "parent",
            raw_tar(&[(b"../x", Regular, ok, 6)]),
            ResultCode::ParseFailure,
        ),
        (
            "absolute",
            raw_tar(&[(b"/tmp/x", Regular, ok, 6)]),
            ResultCode::ParseFailure,
        ),
        (
            "symlink",
            raw_tar(&[(b"EBDB_1.xml", Symlink, b"", 0)]),
            ResultCode::ParseFailure,
        ),
        (
            "1 GB claim",
            raw_tar(&[(b"big.mp3", Regular, ok, 1 << 30)]),
            ResultCode::Other,
        ),
        (
            "no EBDS",
            raw_tar(&[(b"EBDB_1.xml", Regular, ok, 6)]),
            ResultCode::ContentMissing,
        ),
        ("garbage", vec![0x55; 3000], ResultCode::ParseFailure),
    ];
    for (what, bytes, code) in cases {
        let v = validate_package(bytes.as_slice(), &cfg);
        assert_eq!(v.code, code, "{what}: {}", v.desc);
        assert!(v.package.is_none());
    }
}

fn package_with(ebdb: &str, media: &[(String, Vec<u8>)]) -> Vec<u8> {
    let id = "10451343100000001020101012025112700000001";
    let sig = format!(
        "<Signature><Version>1</Version><RelatedEBD><EBDID>{id}</EBDID></RelatedEBD>\
         <CertSN>000000000001</CertSN><SignatureAlgorithm>SM2-SM3</SignatureAlgorithm>\
         <SignatureValue></SignatureValue></Signature>"
    );
    write_package(id, ebdb.as_bytes(), sig.as_bytes(), media, 0).unwrap()
}

#[test]
fn content_problems_map_to_codes() {
    let cfg = InboundConfig::default();
    let sample = data(SAMPLES[0]);
    let clip = ("fraud_tel_iii_001.mp3".to_owned(), vec![1u8; 482_113]);
    // the sample's digest is illustrative: the clip does not match it
    let v = validate_package(
        package_with(&sample, std::slice::from_ref(&clip)).as_slice(),
        &cfg,
    );
    assert_eq!(v.code, ResultCode::Other, "{}", v.desc);
    assert!(v.desc.contains("SHA-1"), "{}", v.desc);
    let short = ("fraud_tel_iii_001.mp3".to_owned(), vec![1u8; 10]);
    let v = validate_package(package_with(&sample, &[short]).as_slice(), &cfg);
    assert_eq!(v.code, ResultCode::Other, "{}", v.desc);
    let v = validate_package(package_with(&sample, &[]).as_slice(), &cfg);
    assert_eq!(v.code, ResultCode::ContentMissing, "{}", v.desc);
    let no_title = sample.replace("<MsgTitle>防范电信网络诈骗提示</MsgTitle>", "");
    let v = validate_package(
        package_with(&no_title, std::slice::from_ref(&clip)).as_slice(),
        &cfg,
    );
    assert_eq!(v.code, ResultCode::ContentMissing);
    assert!(v.desc.contains("MsgTitle"), "{}", v.desc);
    let broken = sample.replace("</MsgContent>", "");
    let v = validate_package(
        package_with(&broken, std::slice::from_ref(&clip)).as_slice(),
        &cfg,
    );
    assert_eq!(v.code, ResultCode::ParseFailure);
    let other_id = sample.replace("2025112700000001</EBDID>", "2025112700000002</EBDID>");
    let v = validate_package(package_with(&other_id, &[clip]).as_slice(), &cfg);
    assert_eq!(v.code, ResultCode::ParseFailure, "{}", v.desc);
    assert!(v.desc.contains("file name"), "{}", v.desc);
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    fn valid_package() -> Vec<u8> {
        let profile = sample_profile();
        let m = media();
        let ebm = broadcast_ebm(&profile, &sample_spec(), &m).unwrap();
        let ebd = sample_envelope(&profile, Body::Ebm(ebm));
        build_package(&ebd, &m, &profile, None)
            .unwrap()
            .bytes
            .to_vec()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Any corruption of a valid package gets some ResultCode, never a panic, and a
        /// package that still passes keeps its EBDID.
        #[test]
        fn mutated_packages_never_panic(
            flips in proptest::collection::vec((0usize..12_000, any::<u8>()), 1..8),
            cut in proptest::option::of(0usize..12_000),
        ) {
            let mut bytes = valid_package();
            for (pos, b) in flips {
                let i = pos % bytes.len();
                bytes[i] ^= b;
            }
            if let Some(c) = cut {
                bytes.truncate(c % bytes.len());
            }
            let v = validate_package(bytes.as_slice(), &InboundConfig::default());
            if v.is_ok() {
                prop_assert_eq!(v.ebdid.as_deref(), Some("10451343100000001020101012025112700000001"));
            } else {
                prop_assert!(!v.desc.is_empty());
            }
        }

        /// Free text (Han, Yi, markup characters) survives write → parse.
        #[test]
        fn result_desc_text_round_trips(desc in "[a-z<>&\"' 诈骗ꆈꌠꉙ，。\\-]{1,40}") {
            let body = Body::EbdResponse(EbdResponse { result_code: 5, result_desc: desc.clone() });
            let ebd = sample_envelope(&sample_profile(), body);
            let back = parse_ebd(&write_ebd(&ebd), IdFormat::V2018).unwrap();
            let Body::EbdResponse(r) = back.body else { panic!("not a response") };
            prop_assert_eq!(r.result_desc, desc.trim());
        }
    }
}
