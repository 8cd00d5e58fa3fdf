//! Loading the catalog from `<root>/audio`: scan the message folders, probe every clip in
//! parallel (through the probe cache), and pass each clip and pair through the gate.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::cache::ProbeCache;
use super::gate::{GateConfig, judge_clip, judge_pair, missing_reason};
use super::message_toml::{self, MessageMeta};
use super::probe::{ProbeRecord, probe_bytes, sha256_hex};
use super::{Catalog, Clip, Message, Verdict};
use crate::audio::decode::DecodeError;
use crate::diag::Diagnostic;
use crate::lang::Lang;

/// Why the catalog could not be loaded at all (problems with single clips are verdicts).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{}", crate::t!("catalog-no-audio", root = .0.display().to_string()))]
    NoAudioDir(PathBuf),
    #[error("{}", crate::t!("cannot-read", path = path.display().to_string(), reason = source.to_string()))]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// One message folder as found on disk (paths relative to the root).
#[derive(Debug, Default)]
struct Folder {
    id: String,
    toml: Option<PathBuf>,
    clips: BTreeMap<Lang, Vec<PathBuf>>,
}

impl Catalog {
    /// Load every message under `<root>/audio`, probing clips through the cache in `cache_dir`
    /// (none: probe everything).
    pub fn load(
        root: &Path,
        gate: &GateConfig,
        cache_dir: Option<&Path>,
    ) -> Result<Catalog, LoadError> {
        let audio = root.join("audio");
        if !audio.is_dir() {
            return Err(LoadError::NoAudioDir(root.to_path_buf()));
        }
        let mut diagnostics = Vec::new();
        let folders = scan(root, &mut diagnostics)?;
        let cache = ProbeCache::new(cache_dir);
        let files: Vec<&PathBuf> = folders
            .iter()
            .flat_map(|f| f.clips.values().flatten())
            .collect();
        let probed: BTreeMap<PathBuf, Result<ProbeRecord, DecodeError>> = files
            .par_iter()
            .map(|rel| ((*rel).clone(), probe_cached(root, rel, gate, &cache)))
            .collect();
        let mut messages = BTreeMap::new();
        for folder in folders {
            let msg = assemble(root, folder, gate, &probed, &mut diagnostics);
            messages.insert(msg.id.clone(), msg);
        }
        Ok(Catalog {
            messages,
            diagnostics,
        })
    }
}

/// Find message folders and classify their files; unknown files are warnings.
fn scan(root: &Path, diags: &mut Vec<Diagnostic>) -> Result<Vec<Folder>, LoadError> {
    let mut folders = Vec::new();
    for dir in sorted_entries(&root.join("audio"))? {
        if !dir.is_dir() || is_hidden(&dir) {
            continue;
        }
        let id = dir
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let rel_dir = PathBuf::from("audio").join(&id);
        if !id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            diags.push(
                Diagnostic::warning(
                    &rel_dir,
                    crate::t!("catalog-id-not-ascii", id = id.as_str()),
                )
                .with_help(crate::t!("catalog-id-letters")),
            );
        }
        let mut folder = Folder {
            id,
            ..Folder::default()
        };
        for file in sorted_entries(&dir)? {
            if is_hidden(&file) {
                continue;
            }
            let name = file
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let rel = rel_dir.join(&name);
            let stem = file.file_stem().unwrap_or_default().to_string_lossy();
            match (name.as_str(), stem.parse::<Lang>()) {
                ("message.toml", _) => folder.toml = Some(rel),
                (_, Ok(lang)) if file.is_file() && stem == lang.code() => {
                    folder.clips.entry(lang).or_default().push(rel);
                }
                _ => diags.push(
                    Diagnostic::warning(
                        &rel,
                        crate::t!("catalog-unknown-file", name = name.as_str()),
                    )
                    .with_help(crate::t!("catalog-folder-holds")),
                ),
            }
        }
        folders.push(folder);
    }
    Ok(folders)
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let io = |source| LoadError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        out.push(entry.map_err(io)?.path());
    }
    out.sort();
    Ok(out)
}

fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
}

/// Probe one clip, reusing a cached result for the same bytes.
fn probe_cached(
    root: &Path,
    rel: &Path,
    gate: &GateConfig,
    cache: &ProbeCache,
) -> Result<ProbeRecord, DecodeError> {
    let bytes = std::fs::read(root.join(rel))?;
    let sha = sha256_hex(&bytes);
    let params = gate.analysis_params();
    if let Some(hit) = cache.get(&sha, params) {
        tracing::debug!(file = %rel.display(), sha256 = %sha, "probe cache hit");
        return Ok(hit);
    }
    let ext = rel.extension().and_then(|e| e.to_str());
    let result = probe_bytes(bytes, ext, params);
    match &result {
        Ok(rec) => {
            tracing::debug!(file = %rel.display(), duration_s = rec.probe.duration_s, "probed");
            cache.put(rec);
        }
        Err(error) => tracing::info!(file = %rel.display(), %error, "clip failed to probe"),
    }
    result
}

/// Build one message: metadata, clips with their verdicts, the pair verdict.
fn assemble(
    root: &Path,
    folder: Folder,
    gate: &GateConfig,
    probed: &BTreeMap<PathBuf, Result<ProbeRecord, DecodeError>>,
    diags: &mut Vec<Diagnostic>,
) -> Message {
    let meta = read_meta(root, &folder, diags);
    let mut pair_rejections = Vec::new();
    if meta.is_none() {
        pair_rejections.push(crate::t!("catalog-meta-broken"));
    }
    let mut clips = BTreeMap::new();
    let mut records: BTreeMap<Lang, &ProbeRecord> = BTreeMap::new();
    for (lang, files) in &folder.clips {
        if files.len() > 1 {
            let names: Vec<String> = files.iter().map(|f| format!("`{}`", f.display())).collect();
            pair_rejections.push(crate::t!(
                "catalog-two-recordings",
                lang = lang.code(),
                files = names.join(", ")
            ));
        }
        let file = &files[0];
        let result = &probed[file];
        let stand_in = meta
            .as_ref()
            .and_then(|m| m.stand_in.get(lang))
            .map(String::as_str);
        let verdict = judge_clip(gate, result, stand_in);
        if let (Ok(rec), true) = (result, verdict.is_airable()) {
            records.insert(*lang, rec);
        }
        let probe = result.as_ref().ok().map(|r| r.probe.clone());
        clips.insert(
            *lang,
            Clip {
                message: folder.id.clone(),
                lang: *lang,
                file: file.clone(),
                probe,
                verdict,
            },
        );
    }
    let mut pair_verdict = pair_verdict(gate, &folder, &records);
    if !pair_rejections.is_empty() {
        pair_verdict = merge(Verdict::Rejected(pair_rejections), pair_verdict);
    }
    let meta = meta.unwrap_or_else(|| placeholder_meta(&folder.id));
    Message {
        id: folder.id,
        title_zh: meta.title_zh,
        title_ii: meta.title_ii,
        topic: meta.topic,
        text: meta.text,
        valid_from: meta.valid_from,
        valid_until: meta.valid_until,
        source: match (meta.source, meta.recorded_by) {
            (Some(s), Some(r)) => Some(format!("{s}; recorded by {r}")),
            (s, None) => s,
            (None, Some(r)) => Some(format!("recorded by {r}")),
        },
        clips,
        pair_verdict,
    }
}

/// The pair verdict over the clips that passed. When a present clip was rejected (its own
/// verdict says why) only missing languages are reported: the pair checks need both clips.
fn pair_verdict(gate: &GateConfig, folder: &Folder, ok: &BTreeMap<Lang, &ProbeRecord>) -> Verdict {
    if folder.clips.keys().any(|l| !ok.contains_key(l)) {
        let missing: Vec<String> = Lang::ALL
            .into_iter()
            .filter(|l| !folder.clips.contains_key(l))
            .map(missing_reason)
            .collect();
        return if missing.is_empty() {
            Verdict::Ok
        } else {
            Verdict::Rejected(missing)
        };
    }
    judge_pair(gate, ok.get(&Lang::Ii).copied(), ok.get(&Lang::Zh).copied())
}

/// The worse of two verdicts, reasons of both kept in order.
pub fn merge(a: Verdict, b: Verdict) -> Verdict {
    let split = |v: Verdict| match v {
        Verdict::Ok => (vec![], vec![]),
        Verdict::Warning(w) => (vec![], w),
        Verdict::Rejected(r) => (r, vec![]),
    };
    let ((mut ra, mut wa), (rb, wb)) = (split(a), split(b));
    ra.extend(rb);
    wa.extend(wb);
    if !ra.is_empty() {
        Verdict::Rejected(ra)
    } else if !wa.is_empty() {
        Verdict::Warning(wa)
    } else {
        Verdict::Ok
    }
}

fn read_meta(root: &Path, folder: &Folder, diags: &mut Vec<Diagnostic>) -> Option<MessageMeta> {
    let Some(rel) = &folder.toml else {
        let dir = PathBuf::from("audio").join(&folder.id);
        diags.push(
            Diagnostic::error(dir, crate::t!("catalog-no-meta", id = folder.id.as_str()))
                .with_help(crate::t!("catalog-add-meta")),
        );
        return None;
    };
    let src = match std::fs::read_to_string(root.join(rel)) {
        Ok(s) => s,
        Err(e) => {
            diags.push(Diagnostic::error(rel, format!("cannot read the file: {e}")));
            return None;
        }
    };
    message_toml::parse(rel, &src)
        .map_err(|d| diags.extend(d))
        .ok()
}

fn placeholder_meta(id: &str) -> MessageMeta {
    MessageMeta {
        title_zh: String::new(),
        title_ii: None,
        topic: id.to_string(),
        text: BTreeMap::new(),
        valid_from: None,
        valid_until: None,
        source: None,
        recorded_by: None,
        stand_in: BTreeMap::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_keeps_the_worse_verdict_and_all_reasons() {
        let w = Verdict::Warning(vec!["w".into()]);
        let r = Verdict::Rejected(vec!["r".into()]);
        assert_eq!(merge(Verdict::Ok, Verdict::Ok), Verdict::Ok);
        assert_eq!(merge(w.clone(), Verdict::Ok), w);
        assert_eq!(merge(w, r.clone()), r);
    }

    #[test]
    fn missing_folder_and_stray_files() {
        crate::locale::set_thread(crate::locale::Locale::En);
        let dir = tempfile::tempdir().unwrap();
        let err = Catalog::load(dir.path(), &GateConfig::default(), None).unwrap_err();
        assert!(matches!(err, LoadError::NoAudioDir(_)));
        let msg = dir.path().join("audio/only-text");
        std::fs::create_dir_all(&msg).unwrap();
        std::fs::write(msg.join("readme.md"), "x").unwrap();
        let cat = Catalog::load(dir.path(), &GateConfig::default(), None).unwrap();
        let m = cat.message("only-text").unwrap();
        assert!(m.clips.is_empty());
        let Verdict::Rejected(reasons) = &m.pair_verdict else {
            panic!("{:?}", m.pair_verdict)
        };
        assert!(
            reasons.iter().any(|r| r.contains("message.toml")),
            "{reasons:?}"
        );
        assert!(
            reasons.iter().any(|r| r.contains("no Nuosu Yi")),
            "{reasons:?}"
        );
        let msgs: Vec<_> = cat.diagnostics.iter().map(|d| d.message.as_str()).collect();
        assert!(
            msgs.contains(&"unknown file `readme.md` in a message folder"),
            "{msgs:?}"
        );
        assert!(
            msgs.iter().any(|m| m.contains("has no `message.toml`")),
            "{msgs:?}"
        );
    }
}
