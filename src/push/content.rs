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
                townships: areas(&townships, &by_code),
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

/// The areas an endpoint's townships stand for: each township targeted whole, and the villages
/// of each targeted in part, in code order.
fn areas(townships: &[String], by_code: &HashMap<&str, &Broadcast>) -> Vec<String> {
    let mut out = Vec::new();
    for t in townships {
        match by_code.get(t.as_str()).map(|b| &b.villages) {
            Some(villages) if !villages.is_empty() => out.extend(villages.iter().cloned()),
            _ => out.push(t.clone()),
        }
    }
    out
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
mod tests;
