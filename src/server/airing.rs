//! The audio that airs, for the snapshot: every airable clip of the catalog resolved to its
//! loudness-adjusted WAV through the push path's own [`MediaResolver`] (same policy, same cache,
//! same bytes and sha256 as the clip URLs in webhook bodies and the files in EBD packages), and
//! the planned broadcasts rewritten to point at those files.

use std::collections::HashMap;
use std::path::Path;

use super::state::AudioFile;
use crate::catalog::Catalog;
use crate::lang::Lang;
use crate::loudness::LoudnessConfig;
use crate::plan::{Broadcast, PlaylistItem};
use crate::push::MediaResolver;
use crate::transport::Media;

/// The adjusted clip of each airable (message, language) of a catalog.
pub type Airing = HashMap<(String, Lang), Media>;

/// Resolve every airable clip of `catalog` (files under `root`) into `cache_dir`, made once per
/// source content and gain. A clip that cannot be adjusted is logged and left out: it is not
/// served and not listed, and the other clips go on.
pub fn resolve(
    catalog: &Catalog,
    root: &Path,
    cache_dir: &Path,
    loudness: LoudnessConfig,
) -> Airing {
    let mut resolver =
        MediaResolver::new(root, catalog, cache_dir.to_path_buf()).with_loudness(loudness);
    let mut out = Airing::new();
    for message in catalog.messages.values() {
        for lang in Lang::ALL {
            let Some(item) = source_item(message.airable_clip(lang), &message.id, lang) else {
                continue;
            };
            match resolver.resolve(&item) {
                Ok(media) => {
                    out.insert((message.id.clone(), lang), media);
                }
                Err(error) => tracing::error!(
                    message = %message.id,
                    lang = lang.code(),
                    file = %item.file,
                    %error,
                    "cannot adjust the clip; it is not served"
                ),
            }
        }
    }
    out
}

/// A playlist item naming an airable clip's original recording.
fn source_item(
    clip: Option<&crate::catalog::Clip>,
    message: &str,
    lang: Lang,
) -> Option<PlaylistItem> {
    let clip = clip?;
    let probe = clip.probe.as_ref()?;
    Some(PlaylistItem {
        message: message.to_string(),
        lang,
        file: clip.file.to_string_lossy().into_owned(),
        sha256: probe.sha256.clone(),
        size_bytes: probe.size_bytes,
        duration_s: probe.duration_s,
        gap_after_s: 0.0,
    })
}

/// Point every item of `broadcasts` at its adjusted clip: file, sha256, size and duration of
/// what airs. Items without an adjusted clip are dropped (and logged).
pub fn rewrite(broadcasts: &mut [Broadcast], airing: &Airing) {
    for b in broadcasts {
        b.items.retain_mut(
            |item| match airing.get(&(item.message.clone(), item.lang)) {
                Some(media) => {
                    item.file = media.path.to_string_lossy().into_owned();
                    item.sha256.clone_from(&media.sha256);
                    item.size_bytes = media.size_bytes;
                    item.duration_s = media.duration_s;
                    true
                }
                None => {
                    tracing::warn!(
                        campaign = %b.campaign,
                        township = %b.township_code,
                        message = %item.message,
                        lang = item.lang.code(),
                        "no adjusted clip; item left out of the playlist"
                    );
                    false
                }
            },
        );
    }
}

/// The servable files: the adjusted clips, by sha256 (`audio/wav`).
pub fn audio_files(airing: &Airing) -> Vec<AudioFile> {
    airing
        .values()
        .map(|m| AudioFile {
            sha256: m.sha256.clone(),
            ext: "wav".into(),
            content_type: "audio/wav",
            path: m.path.clone(),
            size: m.size_bytes,
        })
        .collect()
}
