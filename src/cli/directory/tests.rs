//! `shengbo directory`'s rows and table.

use unicode_width::UnicodeWidthStr;

use super::*;
use crate::locale::{Locale, set_thread};

fn found(query: Option<&str>, county: Option<&str>) -> Vec<Row> {
    let dir = Directory::liangshan();
    let county = county.map(|c| dir.county(c).unwrap().clone());
    rows(&dir, &Usage::default(), query, county.as_ref())
}

#[test]
fn without_a_query_lists_counties_and_townships() {
    let all = found(None, None);
    assert_eq!(all.iter().filter(|r| r.level == "county").count(), 17);
    assert_eq!(all.iter().filter(|r| r.level == "township").count(), 304);
    assert!(all.iter().all(|r| r.level != "village"));
    let zhaojue = found(None, Some("昭觉县"));
    assert_eq!(zhaojue[0].code, "513431");
    assert!(
        zhaojue[1..]
            .iter()
            .all(|r| r.county == "昭觉县" && r.level == "township")
    );
}

#[test]
fn queries_match_pinyin_names_parts_and_codes() {
    for q in ["zhaojue", "昭觉", "昭觉县", "513431"] {
        let rows = found(Some(q), None);
        assert!(rows.iter().any(|r| r.code == "513431"), "{q}");
    }
    let towns = found(Some("竹核"), None);
    assert!(
        towns
            .iter()
            .any(|r| r.level == "township" && r.name == "竹核镇"),
        "{towns:?}"
    );
    let village = found(Some("大通门"), None);
    let v = village.iter().find(|r| r.level == "village").unwrap();
    assert_eq!(
        (v.township.as_str(), v.county.as_str()),
        ("北城街道", "西昌市")
    );
    // A village's population is its estimate, marked so.
    assert!(v.population.is_some_and(|p| p > 0) && v.estimated, "{v:?}");
    assert!(found(Some("xyzxyz"), None).is_empty());
    // Within a county only its places.
    assert!(found(Some("竹核"), Some("西昌市")).is_empty());
}

#[test]
fn table_marks_estimates_and_lines_up_han_text() {
    set_thread(Locale::Zh);
    let text = table(&found(Some("竹核"), None));
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("级别"), "{text}");
    assert!(text.contains("（估）"), "{text}");
    // Every row's code column starts at the header's display column.
    let header = lines[0].find("代码").map(|i| lines[0][..i].width());
    for row in &lines[1..lines.len() - 1] {
        let at = row.find("5134").unwrap();
        assert_eq!(Some(row[..at].width()), header, "{text}");
    }
    assert!(lines.last().unwrap().contains("个乡镇"), "{text}");
    set_thread(Locale::En);
    let text = table(&found(Some("竹核"), None));
    assert!(
        text.starts_with("level") && text.contains("(est.)"),
        "{text}"
    );
}

#[test]
fn json_and_csv_keep_english_keys() {
    let rows = found(Some("513431"), None);
    let json = serde_json::to_value(&rows[0]).unwrap();
    for key in [
        "level",
        "code",
        "name",
        "county",
        "population",
        "estimated",
        "endpoints",
        "campaigns",
    ] {
        assert!(json.get(key).is_some(), "{key}");
    }
    assert_eq!(json["level"], "county");
}
