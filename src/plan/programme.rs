//! A broadcast's programme: each message as its language pair in the campaign's order, the
//! whole repeated, with a gap after every clip but the last.

use chrono::NaiveDate;

use crate::catalog::gate::missing_reason;
use crate::catalog::{Message, Verdict};
use crate::lang::Lang;
use crate::schedule::Campaign;

use super::{PlaylistItem, SkipReason};

/// The clips of one message in the campaign's language order (gaps zero), or why it cannot air
/// in this campaign. Every language of `campaign.order` must have an airable clip, unless the
/// campaign allows a single language: then the airable ones suffice.
pub fn message_items(
    campaign: &Campaign,
    message: &Message,
) -> Result<Vec<PlaylistItem>, SkipReason> {
    if let Verdict::Rejected(reasons) = &message.pair_verdict
        && !(campaign.allow_single_language && only_missing_languages(reasons))
    {
        return Err(SkipReason::MessageNotAirable {
            lang: None,
            reasons: reasons.clone(),
        });
    }
    let mut items = Vec::with_capacity(campaign.order.len());
    let mut missing = None;
    for &lang in &campaign.order {
        let clip = message.clips.get(&lang);
        match clip
            .filter(|c| c.verdict.is_airable())
            .and_then(|c| c.probe.as_ref().map(|p| (c, p)))
        {
            Some((clip, probe)) => items.push(PlaylistItem {
                message: message.id.clone(),
                lang,
                file: path_string(&clip.file),
                sha256: probe.sha256.clone(),
                size_bytes: probe.size_bytes,
                duration_s: probe.duration_s,
                gap_after_s: 0.0,
            }),
            None if missing.is_none() => {
                let reasons = match clip.map(|c| &c.verdict) {
                    Some(Verdict::Rejected(r)) => r.clone(),
                    Some(_) => vec!["the clip could not be probed".to_string()],
                    None => vec![missing_reason(lang)],
                };
                missing = Some(SkipReason::MessageNotAirable {
                    lang: Some(lang),
                    reasons,
                });
            }
            None => {}
        }
    }
    match missing {
        Some(reason) if !campaign.allow_single_language || items.is_empty() => Err(reason),
        _ => Ok(items),
    }
}

/// Whether a pair was rejected only because a language has no recording at all.
pub fn only_missing_languages(reasons: &[String]) -> bool {
    reasons
        .iter()
        .all(|r| Lang::ALL.iter().any(|&l| *r == missing_reason(l)))
}

/// Whether a message may air on a local day (its own valid dates, inclusive).
pub fn valid_on(message: &Message, day: NaiveDate) -> bool {
    message.valid_from.is_none_or(|f| f <= day) && message.valid_until.is_none_or(|u| day <= u)
}

/// The programme: the chosen messages' pairs one after another, `repeats` times, with `gap_s`
/// after every item except the last of the whole programme.
pub fn assemble(messages: &[&[PlaylistItem]], repeats: u32, gap_s: f64) -> Vec<PlaylistItem> {
    let per_round: usize = messages.iter().map(|m| m.len()).sum();
    let mut items = Vec::with_capacity(per_round * repeats.max(1) as usize);
    for _ in 0..repeats.max(1) {
        for item in messages.iter().flat_map(|m| m.iter()) {
            let mut item = item.clone();
            item.gap_after_s = gap_s;
            items.push(item);
        }
    }
    if let Some(last) = items.last_mut() {
        last.gap_after_s = 0.0;
    }
    items
}

/// A relative path with `/` separators whatever the platform.
fn path_string(path: &std::path::Path) -> String {
    let parts: Vec<String> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.join("/")
}
