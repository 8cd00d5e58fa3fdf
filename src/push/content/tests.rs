//! Tests of grouping a plan's broadcasts into per-endpoint segment drafts.

use chrono::TimeZone;

use super::*;

fn item(message: &str, lang: Lang, duration_s: f64, gap_after_s: f64) -> PlaylistItem {
    PlaylistItem {
        message: message.into(),
        lang,
        file: format!("audio/{message}/{}.mp3", lang.code()),
        sha256: "0".repeat(64),
        size_bytes: 1,
        duration_s,
        gap_after_s,
    }
}

fn broadcast(items: Vec<PlaylistItem>) -> Broadcast {
    let start = Utc.with_ymd_and_hms(2026, 11, 27, 23, 30, 0).unwrap();
    Broadcast {
        reason: None,
        campaign: "c".into(),
        priority: 0,
        township_code: "513431100".into(),
        township_name: "新城镇".into(),
        county_code: "513431".into(),
        villages: Vec::new(),
        start,
        end: start,
        timezone: chrono_tz::Asia::Shanghai,
        items,
    }
}

#[test]
fn each_clip_is_a_segment_with_its_own_window() {
    let b = broadcast(vec![
        item("m", Lang::Ii, 20.0, 2.0),
        item("m", Lang::Zh, 30.5, 0.0),
    ]);
    let s = segments(&b);
    assert_eq!(s.len(), 2);
    assert_eq!((s[0].lang, s[0].partner), (Lang::Ii, Some(1)));
    assert_eq!(s[0].window, (b.start, b.start + TimeDelta::seconds(20)));
    assert_eq!((s[1].lang, s[1].partner), (Lang::Zh, Some(0)));
    assert_eq!(s[1].window.0, b.start + TimeDelta::seconds(22));
    assert_eq!(s[1].window.1, b.start + TimeDelta::milliseconds(52_500));
}

#[test]
fn messages_and_repeats_air_as_adjacent_pairs_in_order() {
    let round = [
        item("a", Lang::Ii, 10.0, 1.0),
        item("a", Lang::Zh, 12.0, 1.0),
        item("b", Lang::Ii, 8.0, 1.0),
        item("b", Lang::Zh, 9.0, 1.0),
    ];
    let mut items: Vec<_> = round.iter().chain(round.iter()).cloned().collect();
    items.last_mut().unwrap().gap_after_s = 0.0;
    let b = broadcast(items.clone());
    let s = segments(&b);
    let got: Vec<(&str, Lang, u32, Option<u32>)> = s
        .iter()
        .map(|x| (x.message.as_str(), x.lang, x.repeat, x.partner))
        .collect();
    let want = [
        ("a", Lang::Ii, 0, Some(1)),
        ("a", Lang::Zh, 0, Some(0)),
        ("b", Lang::Ii, 0, Some(3)),
        ("b", Lang::Zh, 0, Some(2)),
        ("a", Lang::Ii, 1, Some(5)),
        ("a", Lang::Zh, 1, Some(4)),
        ("b", Lang::Ii, 1, Some(7)),
        ("b", Lang::Zh, 1, Some(6)),
    ];
    assert_eq!(got, want);
    for (w, it) in s.windows(2).zip(&items) {
        let gap = w[1].window.0 - w[0].window.1;
        assert_eq!(gap, millis(it.gap_after_s), "gap after {}", w[0].index);
    }
    for (x, it) in s.iter().zip(&items) {
        assert_eq!(x.window.1 - x.window.0, millis(it.duration_s));
    }
    assert_eq!(s[7].window.1, b.start + millis(b.duration_s()));
}

#[test]
fn a_lone_language_has_no_partner() {
    let b = broadcast(vec![
        item("a", Lang::Zh, 5.0, 1.0),
        item("b", Lang::Ii, 5.0, 1.0),
        item("b", Lang::Zh, 5.0, 0.0),
    ]);
    let s = segments(&b);
    let partners: Vec<_> = s.iter().map(|x| x.partner).collect();
    assert_eq!(partners, [None, Some(2), Some(1)]);
}

#[test]
fn drafts_group_townships_by_endpoint_with_one_draft_per_segment() {
    let src = "[[endpoint]]\nid = \"zj\"\nkind = \"ebd\"\nurl = \"http://x\"\n\
               ebrid = \"45134310000000314010101\"\ncounties = [\"昭觉县\"]\n";
    let dir = crate::directory::Directory::liangshan();
    let (registry, _) = crate::endpoint::parse_str(
        std::path::Path::new("e.toml"),
        src,
        std::path::Path::new("/p"),
        &dir,
    )
    .unwrap();
    let mut a = broadcast(vec![
        item("m", Lang::Ii, 5.0, 1.0),
        item("m", Lang::Zh, 5.0, 0.0),
    ]);
    let mut b = a.clone();
    a.township_code = "513431100".into();
    b.township_code = "513401001".into();
    let catalog = Catalog::default();
    let mut media = |i: &PlaylistItem| {
        Ok(Media {
            message: i.message.clone(),
            name: format!("{}-{}.wav", i.message, i.lang.code()),
            path: PathBuf::from("x.wav"),
            source: i.file.clone(),
            sha256: "1".repeat(64),
            size_bytes: 100,
            duration_s: i.duration_s,
            gap_after_s: i.gap_after_s,
        })
    };
    let d = drafts(&[&a, &b], &registry, &catalog, a.start, &mut media).unwrap();
    assert_eq!(d.unserved, vec!["513401001"]);
    let pair = &d.by_endpoint["zj"];
    assert_eq!(pair.len(), 2);
    assert_eq!((pair[0].lang, pair[1].lang), (Lang::Ii, Lang::Zh));
    assert_eq!((pair[0].segment, pair[1].segment), (0, 1));
    assert_eq!((pair[0].partner, pair[1].partner), (Some(1), Some(0)));
    assert_eq!(pair[0].content.townships, vec!["513431100"]);
    assert_eq!(pair[0].content.area_codes(), vec!["513431100000"]);
    // A township targeted in part stands for its villages: their own codes on the wire.
    let mut c = a.clone();
    c.township_code = "513431102".into();
    c.villages = vec!["513431102200".into(), "513431102201".into()];
    let d = drafts(&[&a, &c], &registry, &catalog, a.start, &mut media).unwrap();
    let content = &d.by_endpoint["zj"][0].content;
    let areas = ["513431100", "513431102200", "513431102201"];
    assert_eq!(content.townships, areas);
    let wire = ["513431100000", "513431102200", "513431102201"];
    assert_eq!(content.area_codes(), wire);
    assert_eq!(content.villages(), ["513431102200", "513431102201"]);
    assert_eq!(content.township_codes(), ["513431100", "513431102"]);
    assert_eq!(pair[1].message, "m");
    for d in pair {
        assert_eq!(d.content.media.len(), 1);
        assert_eq!(d.content.media[0].name, format!("m-{}.wav", d.lang.code()));
    }
}
