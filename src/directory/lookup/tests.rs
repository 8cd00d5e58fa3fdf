//! Chinese did-you-mean: same sound, one character off, suffixes, pinyin, wrong levels,
//! villages, and never a near-miss from another county.

use super::*;
use crate::directory::{Directory, LookupError};
use crate::locale::{Locale, scoped};

fn dir() -> Directory {
    Directory::liangshan()
}

#[test]
fn costs_follow_the_sound() {
    assert_eq!(char_cost('觉', '觉'), 0.0);
    assert_eq!(char_cost('角', '觉'), 0.25, "jiao/jue both ways");
    assert_eq!(char_cost('凯', '开'), 0.25);
    assert_eq!(char_cost('资', '知'), 0.5, "zi/zhi after the zh/z merge");
    assert_eq!(char_cost('兰', '南'), 0.5, "lan/nan after the n/l merge");
    assert_eq!(
        char_cost('金', '京'),
        0.5,
        "jin/jing after the -ng/-n merge"
    );
    assert_eq!(char_cost('昭', '美'), 1.0);
    assert_eq!(stem("昭觉县"), "昭觉");
    assert_eq!(stem("北城街道"), "北城");
    assert_eq!(stem("大通门社区居民委员会"), "大通门");
    assert_eq!(stem("县"), "县");
    assert_eq!(distance("昭角县", "昭觉县"), 0.25);
}

#[test]
fn spells_pinyin_with_polyphones() {
    assert!(spells("zhaojue", "昭觉县", false));
    assert!(spells("ZhaoJiao", "昭觉县", false), "觉 also reads jiao");
    assert!(spells("zhao", "昭觉县", true));
    assert!(!spells("zhao", "昭觉县", false));
    assert!(!spells("zhaojuex", "昭觉县", false));
    assert!(!spells("昭觉", "昭觉县", false));
}

#[test]
fn same_sound_typos_suggest_the_right_county() {
    for (typo, want) in [
        ("昭角县", "昭觉县"),
        ("美估县", "美姑县"),
        ("布托县", "布拖县"),
        ("zhaojiao", "昭觉县"),
        ("昭觉乡", "昭觉县"),
    ] {
        let err = dir().county(typo).map(|c| c.name.clone()).unwrap_err();
        assert_eq!(err.suggestion(), Some(want), "{typo}");
    }
}

#[test]
fn same_sound_and_suffix_typos_suggest_the_right_township() {
    let d = dir();
    let four_open = d
        .township("四开镇")
        .or_else(|_| d.township("四开乡"))
        .unwrap();
    let err = d.township("四凯镇").unwrap_err();
    assert_eq!(err.suggestion(), Some(four_open.name.as_str()));
    let help = scoped(Locale::Zh, || {
        d.township("四凯镇")
            .unwrap_err()
            .help()
            .unwrap()
            .to_string()
    });
    assert!(
        help.contains(&four_open.code) && help.contains("昭觉县"),
        "{help}"
    );
    let zhuhe = d.township("昭觉县/竹核乡").unwrap_err();
    assert_eq!(zhuhe.suggestion(), Some("竹核镇"));
    let zhuhe = d.township("昭觉县/竹合镇").unwrap_err();
    assert_eq!(zhuhe.suggestion(), Some("竹核镇"));
}

#[test]
fn no_near_miss_from_another_county() {
    let d = dir();
    // 竹核 lies in 昭觉县 only: asked within 西昌市 there is nothing to offer.
    let err = d.township("西昌市/竹核镇").unwrap_err();
    assert_eq!(err.suggestion(), None, "{err:?}");
    // A name far from every township gets no suggestion at all.
    assert_eq!(d.township("北京市朝阳区").unwrap_err().suggestion(), None);
}

#[test]
fn a_county_code_among_townships_says_so() {
    let err = scoped(Locale::En, || dir().township("513431").unwrap_err());
    let LookupError::Misplaced { message, help, .. } = &err else {
        panic!("{err:?}");
    };
    assert!(message.contains("county 昭觉县"), "{message}");
    assert!(help.contains("counties = [\"513431\"]"), "{help}");
    let code = dir().township("竹核镇").map(|t| t.code.clone()).unwrap();
    let err = scoped(Locale::En, || dir().county(&code).unwrap_err());
    assert!(err.to_string().contains("township 竹核镇"), "{err}");
}

#[test]
fn a_village_names_its_township_and_county() {
    let d = dir();
    let t = d.township("513401001").unwrap();
    let v = &t.villages[0];
    for q in [v.name.as_str(), stem(&v.name), v.code.as_str()] {
        let err = scoped(Locale::Zh, || d.township(q).unwrap_err());
        let text = err.to_string();
        assert!(
            text.contains(&t.name) && text.contains(&t.code) && text.contains("西昌市"),
            "{q}: {text}"
        );
        assert!(err.help().unwrap().contains(&t.code));
    }
}

#[test]
fn labels_show_names_with_codes() {
    let d = dir();
    assert_eq!(
        township_label(&d, "513401001"),
        "西昌市 北城街道 `513401001`"
    );
    assert_eq!(township_label(&d, "999"), "`999`");
}

#[test]
fn searches_match_codes_names_and_pinyin() {
    assert!(matches("5134", "昭觉县", "513431", None));
    assert!(!matches("5135", "昭觉县", "513431", None));
    assert!(matches("昭觉", "昭觉县", "513431", None));
    assert!(matches("觉县", "昭觉县", "513431", None));
    assert!(matches("昭觉乡", "昭觉县", "513431", None), "suffix forms");
    assert!(matches("zhaojue", "昭觉县", "513431", None));
    assert!(matches("zhao", "昭觉县", "513431", None));
    assert!(matches("Zhaoj", "昭觉县", "513431", Some("Zhaojue")));
    assert!(!matches("xichang", "昭觉县", "513431", Some("Zhaojue")));
}
