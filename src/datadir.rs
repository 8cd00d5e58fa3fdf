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
