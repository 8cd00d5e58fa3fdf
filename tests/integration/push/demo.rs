//! `shengbo demo` pushes only to its own loopback simulator: a registry naming a real platform
//! stops it with an error naming the first such endpoint, before anything is recorded.

use super::{drill_campaign, project};
use crate::util;

#[test]
fn demo_refuses_a_registry_with_a_real_platform() {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let demo = std::fs::read_to_string(repo.join("schedules/endpoints.toml")).unwrap();
    let real = demo.replacen(
        "{sim}/ebd/513422/ts/exchange.do",
        "https://yjgb.example.cn/ts/exchange.do",
        1,
    );
    assert_ne!(real, demo);
    let proj = project(&drill_campaign("all = true"), Some(&real));
    let out = util::run_in(proj.path(), &["demo", "--slots", "1", "--speed", "60"]);
    let err = util::stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}\n{}", util::stdout(&out));
    assert!(
        err.contains("pushes only to its own loopback simulator")
            && err.contains("endpoint `muli`")
            && err.contains("https://yjgb.example.cn/ts/exchange.do"),
        "{err}"
    );
    assert!(
        !proj.path().join(".shengbo/ledger.sqlite").exists(),
        "nothing recorded"
    );
}
