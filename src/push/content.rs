//! What each endpoint × language of a run carries: the townships it serves, the play window of
//! its language in the programme, and its clips — grouped from the plan's broadcasts (pure), with
//! the loudness-adjusted audio resolved at the edge ([`MediaResolver`]).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeDelta, Utc};

use crate::catalog::Catalog;
use crate::endpoint::Registry;
use crate::lang::Lang;
use crate::loudness::{self, AdjustError, Loudness, LoudnessConfig};
use crate::plan::{Broadcast, PlaylistItem};
use crate::transport::{Content, Media};

/// One endpoint × language of a run, before ids are given.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub endpoint: String,
    pub lang: Lang,
    /// Message ids in this language's programme, comma-joined, in order.
    pub message: String,
    pub content: Content,
}

/// The drafts of one campaign occurrence, and the targeted townships no endpoint serves.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Drafts {
    /// Pairs in the campaign's language order, grouped by endpoint (endpoint id order).
    pub by_endpoint: BTreeMap<String, Vec<Draft>>,
    pub unserved: Vec<String>,
}

/// Group one occurrence's broadcasts by endpoint and language. Every broadcast of an
/// occurrence carries the same programme, so an endpoint's townships share one message per
/// language; the first broadcast (by township code) gives the programme.
pub fn drafts(
    broadcasts: &[&Broadcast],
    registry: &Registry,
    catalog: &Catalog,
    send_time: DateTime<Utc>,
    media: &mut dyn FnMut(&PlaylistItem) -> Result<Media, String>,
) -> Result<Drafts, String> {
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
        let mut pair = Vec::new();
        for (lang, (start, end)) in windows(first) {
            let items: Vec<&PlaylistItem> = first.items.iter().filter(|i| i.lang == lang).collect();
            let media = items
                .iter()
                .map(|i| media(i))
                .collect::<Result<Vec<_>, _>>()?;
            let mut messages: Vec<&str> = items.iter().map(|i| i.message.as_str()).collect();
            messages.dedup();
            let content = Content {
                campaign: first.campaign.clone(),
                lang,
                title: title(catalog, &messages, lang),
                description: description(catalog, &messages, lang),
                townships: townships.clone(),
                window_start: start,
                window_end: end,
                send_time,
                media,
            };
            pair.push(Draft {
                endpoint: endpoint.clone(),
                lang,
                message: messages.join(","),
                content,
            });
        }
        out.by_endpoint.insert(endpoint, pair);
    }
    Ok(out)
}

/// A play window: start and end.
pub type Window = (DateTime<Utc>, DateTime<Utc>);

/// Each language's play window within the programme, in the order the languages first play:
/// from the start of its first clip to the end of its last one.
pub fn windows(b: &Broadcast) -> Vec<(Lang, Window)> {
    let mut out: Vec<(Lang, Window)> = Vec::new();
    let mut t = 0.0;
    for item in &b.items {
        let start = b.start + millis(t);
        let end = b.start + millis(t + item.duration_s);
        match out.iter_mut().find(|(l, _)| *l == item.lang) {
            Some((_, w)) => w.1 = end,
            None => out.push((item.lang, (start, end))),
        }
        t += item.duration_s + item.gap_after_s;
    }
    out
}

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

    /// The adjusted clip of one item: gains follow the loudness policy's pair rule.
    pub fn resolve(&mut self, item: &PlaylistItem) -> Result<Media, String> {
        let key = (item.message.clone(), item.lang);
        if let Some(m) = self.done.get(&key) {
            return Ok(Media {
                gap_after_s: item.gap_after_s,
                ..m.clone()
            });
        }
        let gain = self.gain(item);
        let source = self.root.join(&item.file);
        let adjusted = loudness::adjusted_clip(&source, &gain, &self.cache_dir)
            .map_err(|e: AdjustError| e.to_string())?;
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

    fn gain(&self, item: &PlaylistItem) -> loudness::GainPlan {
        let probe = |lang: Lang| {
            let clip = self.catalog.message(&item.message)?.clips.get(&lang)?;
            let p = clip.probe.as_ref()?;
            Some(Loudness {
                lufs: p.lufs,
                true_peak_dbtp: p.true_peak_dbtp,
            })
        };
        let own = probe(item.lang);
        match (own, probe(item.lang.other())) {
            (Some(a), Some(b)) => {
                let [ga, _] = loudness::plan_pair(a, b, &self.loudness);
                ga
            }
            (Some(a), None) => loudness::plan_gain(a.lufs, a.true_peak_dbtp, &self.loudness),
            _ => loudness::GainPlan::unity(Loudness {
                lufs: f64::NEG_INFINITY,
                true_peak_dbtp: f64::NEG_INFINITY,
            }),
        }
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
    fn windows_follow_the_language_order() {
        let b = broadcast(vec![
            item("m", Lang::Ii, 20.0, 2.0),
            item("m", Lang::Zh, 30.5, 0.0),
        ]);
        let w = windows(&b);
        assert_eq!(w.len(), 2);
        assert_eq!(w[0].0, Lang::Ii);
        assert_eq!(w[0].1, (b.start, b.start + TimeDelta::seconds(20)));
        assert_eq!(w[1].0, Lang::Zh);
        assert_eq!(w[1].1.0, b.start + TimeDelta::seconds(22));
        assert_eq!(w[1].1.1, b.start + TimeDelta::milliseconds(52_500));
    }

    #[test]
    fn repeats_stretch_each_window_to_its_last_clip() {
        let b = broadcast(vec![
            item("m", Lang::Ii, 10.0, 1.0),
            item("m", Lang::Zh, 10.0, 1.0),
            item("m", Lang::Ii, 10.0, 1.0),
            item("m", Lang::Zh, 10.0, 0.0),
        ]);
        let w = windows(&b);
        assert_eq!(w[0].1, (b.start, b.start + TimeDelta::seconds(32)));
        assert_eq!(
            w[1].1,
            (
                b.start + TimeDelta::seconds(11),
                b.start + TimeDelta::seconds(43)
            )
        );
    }

    #[test]
    fn drafts_group_townships_by_endpoint_with_one_message_per_language() {
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
        assert_eq!(pair[0].content.townships, vec!["513431100"]);
        assert_eq!(pair[0].content.area_codes(), vec!["513431100000"]);
        assert_eq!(pair[1].message, "m");
    }
}
