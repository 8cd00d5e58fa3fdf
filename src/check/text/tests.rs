//! Each slip is one diagnostic at the right line and column, named, with what to type.

use std::path::Path;

use super::*;
use crate::locale::{Locale, set_thread};

fn one(src: &str) -> (String, String, String) {
    set_thread(Locale::En);
    let found = slips(Path::new("schedules/a.toml"), src);
    assert_eq!(found.len(), 1, "{found:#?}");
    let d = &found[0];
    (
        d.position(),
        d.message.clone(),
        d.help.clone().unwrap_or_default(),
    )
}

#[test]
fn full_width_punctuation_is_named_with_the_half_width_to_type() {
    let (at, msg, help) = one("name = \"测试\"\npriority： 5\n");
    assert_eq!(at, "schedules/a.toml:2:9");
    assert!(msg.contains("full-width colon"), "{msg}");
    assert!(help.contains("`=`"), "{help}");
    let (at, msg, help) = one("messages = [\"a\"，\"b\"]\n");
    assert_eq!(at, "schedules/a.toml:1:16");
    assert!(
        msg.contains("full-width comma") && help.contains("`,`"),
        "{msg}"
    );
    let (_, msg, help) = one("gap_s = 1。5\n");
    assert!(msg.contains("full stop") && help.contains("`.`"), "{msg}");
    let (_, msg, help) = one("name ＝ \"x\"\n");
    assert!(msg.contains("equals") && help.contains("`=`"), "{msg}");
    let (_, msg, help) = one("name = “x”\n");
    assert!(msg.contains("quotation") && help.contains("`\"`"), "{msg}");
    let (at, msg, _) = one("name = \"x\"\n【targets】\n");
    assert_eq!(at, "schedules/a.toml:2:1");
    assert!(msg.contains("bracket"), "{msg}");
    // Inside a string or a comment it is text, not punctuation.
    assert!(slips(Path::new("a.toml"), "name = \"测试：一，二\" # 注释：好\n").is_empty());
}

#[test]
fn a_duplicate_key_names_the_key_and_both_lines() {
    let (at, msg, _) = one("name = \"a\"\npriority = 1\nname = \"b\"\n");
    assert_eq!(at, "schedules/a.toml:3:1");
    assert!(
        msg.contains("`name`") && msg.contains("line 1") && msg.contains("line 3"),
        "{msg}"
    );
    let (_, msg, _) =
        one("[quiet_overrides]\n\"西城街道\" = []\n\"西城街道\" = [\"21:00-08:00\"]\n");
    assert!(
        msg.contains("`西城街道`") && msg.contains("line 2"),
        "{msg}"
    );
    assert!(slips(Path::new("a.toml"), "[q]\n\"a\" = 1\n\"b\" = 2\n").is_empty());
    // The same key in two `[[slots]]` entries is fine.
    let ok = "[[slots]]\ncron = \"0 8 * * *\"\n[[slots]]\ncron = \"0 9 * * *\"\n";
    assert!(slips(Path::new("a.toml"), ok).is_empty());
}

#[test]
fn an_unclosed_bracket_points_at_the_opening_bracket() {
    let (at, msg, help) = one("name = \"a\"\nmessages = [\"x\", \"y\"\norder = [\"ii\"]\n");
    assert_eq!(at, "schedules/a.toml:2:12");
    assert!(msg.contains("`[`") && help.contains("`]`"), "{msg} {help}");
    let (at, _, _) = one("name = \"a\"\n[targets\nall = true\n");
    assert_eq!(at, "schedules/a.toml:2:1");
    let (at, _, _) = one("name = \"a\"\n[[slots]\ncron = \"0 8 * * *\"\n");
    assert_eq!(at, "schedules/a.toml:2:1");
    let multi = "messages = [\n  \"a\",\n  \"b\",\n]\nname = \"x\"\n";
    assert!(slips(Path::new("a.toml"), multi).is_empty());
}

#[test]
fn single_bracket_slots_says_double() {
    let (at, msg, help) = one("name = \"a\"\n[slots]\ncron = \"0 8 * * *\"\n");
    assert_eq!(at, "schedules/a.toml:2:1");
    assert!(
        msg.contains("`[slots]`") && help.contains("`[[slots]]`"),
        "{msg}"
    );
}

#[test]
fn gbk_and_utf16_files_say_save_as_utf8() {
    set_thread(Locale::En);
    let file = Path::new("schedules/a.toml");
    // 名称 in GBK.
    let gbk = b"name = \"\xC3\xFB\xB3\xC6\"\n";
    let d = decode(file, gbk).unwrap_err();
    assert!(d.message.contains("GBK"), "{}", d.message);
    assert!(d.help.unwrap().contains("UTF-8"));
    let text = "name = \"测试\"\n";
    let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let with_bom: Vec<u8> = [0xFF, 0xFE].into_iter().chain(le.iter().copied()).collect();
    for bytes in [le, with_bom] {
        let d = decode(file, &bytes).unwrap_err();
        assert!(d.message.contains("UTF-16"), "{}", d.message);
    }
    assert_eq!(decode(file, text.as_bytes()).unwrap(), text);
    assert_eq!(decode(file, b"\xEF\xBB\xBFa = 1\n").unwrap(), "a = 1\n");
}
