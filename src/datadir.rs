//! The data directory: where all state lives (ledger, id counters, caches, tokens).
//!
//! Default `<root>/.shengbo` (git-ignored), overridden by `--data-dir` or `SHENGBO_DATA_DIR`.

use std::path::{Path, PathBuf};

/// The resolved data directory.
#[derive(Debug, Clone)]
pub struct DataDir {
    path: PathBuf,
}

impl DataDir {
    /// The data directory for a project root, honouring an explicit override.
    pub fn resolve(root: &Path, explicit: Option<&Path>) -> DataDir {
        let path = explicit.map_or_else(|| root.join(".shengbo"), Path::to_path_buf);
        DataDir { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The probe cache of the catalog.
    pub fn probe_cache(&self) -> PathBuf {
        self.path.join("cache").join("probe")
    }

    /// The ledger database file.
    pub fn ledger(&self) -> PathBuf {
        self.path.join("ledger.sqlite")
    }

    /// Create the directory (and parents) if missing.
    pub fn ensure(&self) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.path)
    }
}

/// A temporary file's name beside `path`, for writing it whole before a rename: unique to this
/// process and call, so two threads (or processes) writing the same file at once never share
/// one; the last rename wins, and each rename puts a whole file in place.
pub fn temp_beside(path: &Path) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp{}-{n}", std::process::id()));
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_beside_a_file_differ_per_call() {
        let path = Path::new("/data/cache/adjusted/ii.wav");
        let (a, b) = (temp_beside(path), temp_beside(path));
        assert_ne!(a, b);
        assert_eq!(a.parent(), path.parent());
        let name = a.file_name().unwrap().to_str().unwrap();
        assert!(name.starts_with("ii.wav.tmp"), "{name}");
    }
}
