//! Tests of the endpoint registry: the shipped demo file, routing, and every refusal.

use std::path::Path;
use std::time::Duration;

use super::*;

/// Parse in English: the tests read the messages.
fn parse(src: &str) -> Result<(Registry, Vec<Diagnostic>), Vec<Diagnostic>> {
    crate::locale::set_thread(crate::locale::Locale::En);
    parse_str(
        Path::new("schedules/endpoints.toml"),
        src,
        Path::new("/srv/project"),
        &Directory::liangshan(),
    )
}

fn errors(src: &str) -> Vec<String> {
    parse(src)
        .expect_err("should be refused")
        .iter()
        .map(ToString::to_string)
        .collect()
}

const ZHAOJUE: &str = r#"
[[endpoint]]
id = "zhaojue"
kind = "ebd"
url = "{sim}/ebd/513431"
ebrid = "45134310000000314010101"
counties = ["昭觉县"]
"#;

#[test]
fn the_shipped_demo_registry_serves_every_township() {
    let src = include_str!("../../schedules/endpoints.toml");
    let (mut reg, warnings) = parse(src).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let dir = Directory::liangshan();
    assert_eq!(reg.endpoints.len(), 17);
    assert!(reg.unserved(&dir).is_empty());
    let served: usize = reg.endpoints.iter().map(|e| e.townships.len()).sum();
    assert_eq!(served, dir.townships().len());
    assert!(reg.needs_sim());
    reg.substitute_sim("http://127.0.0.1:4567/");
    assert!(!reg.needs_sim());
    assert!(
        reg.endpoints[0]
            .url
            .starts_with("http://127.0.0.1:4567/ebd/")
    );
    assert_eq!(reg.push.air_by, Duration::from_secs(1800));
    assert_eq!(reg.push.lease, Duration::from_secs(30));
}

#[test]
fn the_lease_time_is_range_checked() {
    let endpoint = "[[endpoint]]\nid = \"a\"\nkind = \"webhook\"\nurl = \"http://x\"\nsecret_env = \"S\"\n\
                    counties = [\"昭觉县\"]\n";
    for bad in ["0", "-5", "3601", "0.5"] {
        let joined = errors(&format!("[push]\nlease_s = {bad}\n\n{endpoint}")).join("\n");
        assert!(joined.contains("`lease_s`"), "{bad}: {joined}");
    }
    // Shorter than a second it would run out between renewals: the error says so.
    let joined = errors(&format!("[push]\nlease_s = 0.2\n\n{endpoint}")).join("\n");
    let says = joined.contains("at least 1") || joined.contains("至少为 1");
    assert!(says && joined.contains("`0.2`"), "{joined}");
    let (reg, _) = parse(&format!("[push]\nlease_s = 1\n\n{endpoint}")).unwrap();
    assert_eq!(reg.push.lease, Duration::from_secs(1));
    let (reg, _) = parse(&format!("[push]\nlease_s = 7.5\n\n{endpoint}")).unwrap();
    assert_eq!(reg.push.lease, Duration::from_millis(7_500));
}

#[test]
fn routes_townships_to_their_endpoints() {
    let src = format!(
        "{ZHAOJUE}\n[[endpoint]]\nid = \"hook\"\nkind = \"webhook\"\nurl = \"https://example.org/x\"\n\
         townships = [\"513431100\", \"西昌市/北城街道\"]\nsecret_env = \"HOOK_SECRET\"\n"
    );
    let (reg, warnings) = parse(&src).unwrap();
    assert_eq!(
        warnings.len(),
        1,
        "most townships are unserved: {warnings:?}"
    );
    let routing = reg.route(["513431100", "513401001", "513422100"]);
    assert_eq!(routing.by_endpoint["zhaojue"], vec!["513431100"]);
    assert_eq!(routing.by_endpoint["hook"], vec!["513431100", "513401001"]);
    assert_eq!(routing.unserved, vec!["513422100"]);
    let hook = reg.endpoint("hook").unwrap();
    assert_eq!(hook.kind(), Kind::Webhook);
    assert_eq!(
        hook.protocol,
        Protocol::Webhook {
            secret: SecretRef::Env("HOOK_SECRET".into())
        }
    );
}

#[test]
fn disabled_endpoints_serve_nothing() {
    let src = format!("{ZHAOJUE}enabled = false\n");
    let (reg, _) = parse(&src).unwrap();
    assert!(reg.route(["513431100"]).by_endpoint.is_empty());
}

#[test]
fn literal_secrets_are_refused_with_position() {
    let src = "[[endpoint]]\nid = \"h\"\nkind = \"webhook\"\nurl = \"https://x.org/\"\n\
               counties = [\"昭觉县\"]\nsecret = \"hunter2\"\n";
    let errs = errors(src);
    assert!(
        errs.iter()
            .any(|e| e.contains("literal secret") && e.contains("schedules/endpoints.toml:6:10")),
        "{errs:?}"
    );
    let src = "[[endpoint]]\nid = \"h\"\nkind = \"webhook\"\nurl = \"https://u:pw@x.org/\"\n\
               counties = [\"昭觉县\"]\nsecret_env = \"S\"\n";
    assert!(errors(src).iter().any(|e| e.contains("password")));
    let src = "[[endpoint]]\nid = \"h\"\nkind = \"webhook\"\nurl = \"https://x.org/?token=abc\"\n\
               counties = [\"昭觉县\"]\nsecret_env = \"S\"\n";
    assert!(errors(src).iter().any(|e| e.contains("credential")));
    let src = "[[endpoint]]\nid = \"h\"\nkind = \"webhook\"\nurl = \"https://x.org/\"\n\
               counties = [\"昭觉县\"]\nsecret_env = \"s3cr3t-value\"\n";
    assert!(
        errors(src)
            .iter()
            .any(|e| e.contains("must name an environment variable"))
    );
}

#[test]
fn key_files_must_lie_outside_the_project() {
    let base = ZHAOJUE.to_string() + "signer = \"key-file\"\n";
    let errs = errors(&(base.clone() + "key_file = \"/srv/project/keys/sm2.pem\"\n"));
    assert!(
        errs.iter().any(|e| e.contains("inside the project")),
        "{errs:?}"
    );
    let errs = errors(&(base.clone() + "key_file = \"keys/sm2.pem\"\n"));
    assert!(errs.iter().any(|e| e.contains("absolute path")), "{errs:?}");
    let errs = errors(&base);
    assert!(
        errs.iter().any(|e| e.contains("needs `key_file`")),
        "{errs:?}"
    );
    let (reg, _) = parse(&(base + "key_file = \"/etc/shengbo/sm2.pem\"\n")).unwrap();
    let Protocol::Ebd { signing, .. } = &reg.endpoints[0].protocol else {
        panic!("ebd")
    };
    assert_eq!(
        signing.signer,
        Signer::KeyFile("/etc/shengbo/sm2.pem".into())
    );
}

#[test]
fn every_error_of_the_file_at_once_with_hints() {
    crate::locale::set_thread(crate::locale::Locale::En);
    let src = "[push]\nconcurrency = 0\n\n[[endpoint]]\nid = \"a\"\nkind = \"ebdd\"\nurl = \"ftp://x\"\n\
               counties = [\"昭觉\", \"昭觉悬\"]\n\n[[endpoint]]\nid = \"a\"\nkind = \"ebd\"\nurl = \"http://x\"\n\
               counties = [\"昭觉县\"]\n\n[[endpoint]]\nid = \"b\"\nkind = \"ebd\"\nurl = \"http://x\"\n\
               ebrid = \"123\"\ncounties = [\"昭觉县\"]\n";
    let errs = errors(src);
    let joined = errs.join("\n");
    assert!(
        joined.contains("`concurrency` must be between 1"),
        "{joined}"
    );
    assert!(joined.contains("did you mean `ebd`?"), "{joined}");
    assert!(joined.contains("must be http or https"), "{joined}");
    assert!(joined.contains("unknown county `昭觉悬`"), "{joined}");
    assert!(joined.contains("used twice"), "{joined}");
    assert!(joined.contains("resource code `123`"), "{joined}");
    assert!(
        joined.contains(":8:"),
        "county error points at line 8: {joined}"
    );
}

#[test]
fn unknown_keys_and_syntax_errors_point_at_the_file() {
    let errs =
        errors("[[endpoint]]\nid = \"a\"\nkind = \"ebd\"\nurl = \"http://x\"\ntimout_s = 3\n");
    assert!(
        errs[0].contains("timout_s") && errs[0].contains(":5:"),
        "{errs:?}"
    );
    let errs = errors("[[endpoint]\n");
    assert!(errs[0].contains("schedules/endpoints.toml:1:"), "{errs:?}");
}

#[test]
fn secrets_resolve_from_env_and_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s");
    std::fs::write(&path, "abc\n").unwrap();
    assert_eq!(SecretRef::File(path).resolve().unwrap(), b"abc");
    let missing = SecretRef::Env("SHENGBO_TEST_SURELY_UNSET_VAR".into()).resolve();
    assert!(matches!(missing, Err(SecretError::EnvMissing(_))));
}
