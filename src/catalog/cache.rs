//! The probe cache: `<dir>/<sha256>.json` holds a clip's [`ProbeRecord`], keyed by the file's
//! content hash, so unchanged clips are not decoded again and a changed file is re-probed.
//!
//! The cache is an optimisation only: an unreadable or stale entry is a miss, a failed write
//! is logged and ignored. Files that fail to probe are not cached.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::probe::{AnalysisParams, ProbeRecord};

/// Bumped whenever what a record means changes; older entries are misses.
const VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    version: u32,
    record: ProbeRecord,
}

/// A probe cache directory (or none: every lookup misses).
#[derive(Debug, Clone, Default)]
pub struct ProbeCache {
    dir: Option<PathBuf>,
}

impl ProbeCache {
    pub fn new(dir: Option<&Path>) -> ProbeCache {
        ProbeCache {
            dir: dir.map(Path::to_path_buf),
        }
    }

    /// Where the entry for `sha256` lives, if there is a cache.
    pub fn entry_path(&self, sha256: &str) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.join(format!("{sha256}.json")))
    }

    /// The cached record for `sha256`, if present, readable, current and measured with `params`.
    pub fn get(&self, sha256: &str, params: AnalysisParams) -> Option<ProbeRecord> {
        let path = self.entry_path(sha256)?;
        let text = std::fs::read_to_string(&path).ok()?;
        match serde_json::from_str::<Entry>(&text) {
            Ok(e)
                if e.version == VERSION
                    && e.record.analysis.params == params
                    && e.record.probe.sha256 == sha256 =>
            {
                Some(e.record)
            }
            Ok(_) => None,
            Err(error) => {
                tracing::debug!(path = %path.display(), %error, "unreadable probe cache entry");
                None
            }
        }
    }

    /// Store a record (atomically: write a temporary file, then rename).
    pub fn put(&self, record: &ProbeRecord) {
        let Some(path) = self.entry_path(&record.probe.sha256) else {
            return;
        };
        if let Err(error) = write_entry(&path, record) {
            tracing::warn!(path = %path.display(), %error, "could not write probe cache entry");
        }
    }
}

fn write_entry(path: &Path, record: &ProbeRecord) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let entry = Entry {
        version: VERSION,
        record: record.clone(),
    };
    let json = serde_json::to_vec(&entry).map_err(std::io::Error::other)?;
    let tmp = crate::datadir::temp_beside(path);
    std::fs::write(&tmp, json)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::probe::probe_bytes;

    fn record() -> ProbeRecord {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut out = std::io::Cursor::new(Vec::new());
        let mut w = hound::WavWriter::new(&mut out, spec).unwrap();
        for i in 0..8000 {
            w.write_sample(((i as f32 * 0.1).sin() * 9000.0) as i16)
                .unwrap();
        }
        w.finalize().unwrap();
        let params = AnalysisParams {
            clip_peak_dbfs: -0.1,
        };
        probe_bytes(out.into_inner(), Some("wav"), params).unwrap()
    }

    #[test]
    fn round_trips_and_respects_params() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ProbeCache::new(Some(dir.path()));
        let rec = record();
        let params = rec.analysis.params;
        assert!(cache.get(&rec.probe.sha256, params).is_none());
        cache.put(&rec);
        assert!(cache.entry_path(&rec.probe.sha256).unwrap().is_file());
        let hit = cache.get(&rec.probe.sha256, params).unwrap();
        assert_eq!(hit.probe.sha256, rec.probe.sha256);
        assert_eq!(hit.analysis.envelope, rec.analysis.envelope);
        assert!((hit.probe.lufs - rec.probe.lufs).abs() < 1e-9);
        let other = AnalysisParams {
            clip_peak_dbfs: -1.0,
        };
        assert!(cache.get(&rec.probe.sha256, other).is_none());
    }

    #[test]
    fn no_dir_always_misses_and_garbage_is_a_miss() {
        let rec = record();
        let none = ProbeCache::new(None);
        none.put(&rec);
        assert!(none.get(&rec.probe.sha256, rec.analysis.params).is_none());
        let dir = tempfile::tempdir().unwrap();
        let cache = ProbeCache::new(Some(dir.path()));
        std::fs::write(cache.entry_path(&rec.probe.sha256).unwrap(), "{not json").unwrap();
        assert!(cache.get(&rec.probe.sha256, rec.analysis.params).is_none());
    }
}
