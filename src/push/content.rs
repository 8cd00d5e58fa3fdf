//! What each endpoint × segment of a run carries: the townships it serves, the play window of
//! one airing of one clip (message × language × repeat) in the programme, and that clip —
//! grouped from the plan's broadcasts (pure), with the loudness-adjusted audio resolved at the
//! edge ([`MediaResolver`]). Consecutive Yi and Mandarin airings of one message and repeat form
//! a pair whose messages name each other.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use crate::catalog::Catalog;
use crate::endpoint::Registry;
use crate::lang::Lang;
use crate::loudness::{self, AdjustError, Loudness, LoudnessConfig};
use crate::plan::{Broadcast, PlaylistItem};
use crate::transport::{Content, Media};

/// One endpoint × segment of a run, before ids are given.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub endpoint: String,
    /// Position in the programme, from 0.
    pub segment: u32,
    pub lang: Lang,
    /// The message id this segment airs.
    pub message: String,
    /// Which repeat of the programme, from 0.
    pub repeat: u32,
    /// The segment of the other half of this message's pair, if any.
    pub partner: Option<u32>,
    /// Shared with the delivery's recipe once recorded.
    pub content: Arc<Content>,
}

/// One airing of one clip in a broadcast's programme.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub index: u32,
    /// The clip's position in `Broadcast::items`.
    pub item: usize,
    pub message: String,
    pub lang: Lang,
    pub repeat: u32,
    /// The other language of the same message and repeat, aired adjacent.
    pub partner: Option<u32>,
    pub window: Window,
}

/// The segments of a programme in airing order: each clip's window starts at the slot start
/// plus the clips and gaps before it and lasts its duration; a clip directly followed by the
/// same message and repeat in another language forms a pair with it.
pub fn segments(b: &Broadcast) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::with_capacity(b.items.len());
    let mut t = 0.0;
    for (i, item) in b.items.iter().enumerate() {
        let repeat = out
            .iter()
            .filter(|s| s.message == item.message && s.lang == item.lang)
            .count() as u32;
        let start = b.start + millis(t);
        let window = (start, b.start + millis(t + item.duration_s));
        let index = i as u32;
        let partner = out.last_mut().and_then(|prev| {
            let pairs = prev.partner.is_none()
                && prev.message == item.message
                && prev.repeat == repeat
                && prev.lang != item.lang;
            pairs.then(|| {
                prev.partner = Some(index);
                prev.index
            })
        });
        out.push(Segment {
            index,
            item: i,
            message: item.message.clone(),
            lang: item.lang,
            repeat,
            partner,
            window,
        });
        t += item.duration_s + item.gap_after_s;
    }
    out
}

/// The drafts of one campaign occurrence, and the targeted townships no endpoint serves.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Drafts {
    /// Segments in airing order, grouped by endpoint (endpoint id order).
    pub by_endpoint: BTreeMap<String, Vec<Draft>>,
    pub unserved: Vec<String>,
}

/// Group one occurrence's broadcasts by endpoint, one draft per segment. Every broadcast of an
/// occurrence carries the same programme, so an endpoint's townships share its segments; the
/// first broadcast (by township code) gives the programme.
pub fn drafts(
    broadcasts: &[&Broadcast],
    registry: &Registry,
    catalog: &Catalog,
    send_time: DateTime<Utc>,
    media: &mut dyn FnMut(&PlaylistItem) -> Result<Media, AdjustError>,
) -> Result<Drafts, AdjustError> {
    let routing = registry.route(broadcasts.iter().map(|b| b.township_code.as_str()));
    let by_code: HashMap<&str, &Broadcast> = broadcasts
        .iter()
        .map(|b| (b.township_code.as_str(), *b))
        .collect();
    let mut out = Drafts {
        unserved: routing.unserved,
        ..Drafts::default()
    };
    for (endpoint, townships) in routing.by_endpoint {
        let first = by_code[townships[0].as_str()];
        let mut list = Vec::new();
        for seg in segments(first) {
            let item = &first.items[seg.item];
            let messages = [item.message.as_str()];
            let content = Content {
                campaign: first.campaign.clone(),
                lang: seg.lang,
                title: title(catalog, &messages, seg.lang),
                description: description(catalog, &messages, seg.lang),
                townships: townships.clone(),
                window_start: seg.window.0,
                window_end: seg.window.1,
                send_time,
                media: vec![media(item)?],
            };
            list.push(Draft {
                endpoint: endpoint.clone(),
                segment: seg.index,
                lang: seg.lang,
                message: seg.message,
                repeat: seg.repeat,
                partner: seg.partner,
                content: Arc::new(content),
            });
        }
        out.by_endpoint.insert(endpoint, list);
    }
    Ok(out)
}

/// A play window: start and end.
pub type Window = (DateTime<Utc>, DateTime<Utc>);

fn millis(s: f64) -> TimeDelta {
    TimeDelta::milliseconds((s * 1000.0).round() as i64)
}

fn title(catalog: &Catalog, messages: &[&str], lang: Lang) -> String {
    let titles: Vec<String> = messages
        .iter()
        .map(|id| match catalog.message(id) {
            Some(m) if lang == Lang::Ii => m.title_ii.clone().unwrap_or_else(|| m.title_zh.clone()),
            Some(m) => m.title_zh.clone(),
            None => (*id).to_string(),
        })
        .collect();
    titles.join("；")
}

fn description(catalog: &Catalog, messages: &[&str], lang: Lang) -> Option<String> {
    let texts: Vec<&str> = messages
        .iter()
        .filter_map(|id| catalog.message(id)?.text.get(&lang).map(String::as_str))
        .collect();
    (!texts.is_empty()).then(|| texts.join("\n"))
}

/// Resolves playlist items to loudness-adjusted clips (cached on disk and per process).
#[derive(Debug)]
pub struct MediaResolver<'a> {
    pub root: &'a Path,
    pub catalog: &'a Catalog,
    pub cache_dir: PathBuf,
    pub loudness: LoudnessConfig,
    done: HashMap<(String, Lang), Media>,
}

impl<'a> MediaResolver<'a> {
    pub fn new(root: &'a Path, catalog: &'a Catalog, cache_dir: PathBuf) -> MediaResolver<'a> {
        MediaResolver {
            root,
            catalog,
            cache_dir,
            loudness: LoudnessConfig::default(),
            done: HashMap::new(),
        }
    }

    /// Use `loudness` instead of the default policy (`[loudness]` of the settings).
    pub fn with_loudness(mut self, loudness: LoudnessConfig) -> MediaResolver<'a> {
        self.loudness = loudness;
        self
    }

    /// The adjusted clip of one item: gains follow the loudness policy's pair rule.
    pub fn resolve(&mut self, item: &PlaylistItem) -> Result<Media, AdjustError> {
        let key = (item.message.clone(), item.lang);
        if let Some(m) = self.done.get(&key) {
            return Ok(Media {
                gap_after_s: item.gap_after_s,
                ..m.clone()
            });
        }
        let gain = self.gain(item);
        let source = self.root.join(&item.file);
        let adjusted = loudness::adjusted_clip(&source, &gain, &self.cache_dir)?;
        let media = Media {
            message: item.message.clone(),
            name: format!("{}-{}.wav", item.message, item.lang.code()),
            path: adjusted.path,
            source: item.file.clone(),
            sha256: adjusted.sha256,
            size_bytes: adjusted.size_bytes,
            duration_s: adjusted.duration_s,
            gap_after_s: item.gap_after_s,
        };
        self.done.insert(key, media.clone());
        Ok(media)
    }

    /// The clip's gain from the one air-gain computation ([`loudness::message_gains`]) that
    /// `catalog` shows and `render` uses; unity for a clip that cannot be measured.
    fn gain(&self, item: &PlaylistItem) -> loudness::GainPlan {
        self.catalog
            .message(&item.message)
            .and_then(|m| loudness::message_gains(self.root, m, &self.loudness).remove(&item.lang))
            .map_or_else(
                || {
                    loudness::GainPlan::unity(Loudness {
                        lufs: f64::NEG_INFINITY,
                        true_peak_dbtp: f64::NEG_INFINITY,
                    })
                },
                |g| g.plan,
            )
    }
}

#[cfg(test)]
mod tests {
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
        assert_eq!(pair[1].message, "m");
        for d in pair {
            assert_eq!(d.content.media.len(), 1);
            assert_eq!(d.content.media[0].name, format!("m-{}.wav", d.lang.code()));
        }
    }
}
