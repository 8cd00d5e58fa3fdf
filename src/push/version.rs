//! The content version a run is pushed under: one SHA-256 over what a loaded project acts on —
//! every `.toml` under `schedules/` (campaigns, `settings.toml`, `endpoints.toml`, markets,
//! festivals), every `message.toml` under `audio/`, and every recording's own SHA-256 (which
//! the catalog's probe already measured, so recordings cost nothing more).
//!
//! File bytes, not the parsed model: the model has no canonical form to hash, while a digest per
//! file names *which* files two instances disagree on, and an operator can check it with
//! `sha256sum`. An edit that changes nothing parsed (a comment) is a new version too — the
//! mismatch errs on the side of being noticed. `--sim` (an instance's own setting) is not part
//! of it.
//!
//! A run records the version it was created with; [`may_push`] says whether an instance holding
//! another version may send it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::catalog::Catalog;
use crate::ledger::Run;

/// What a project was loaded from: each file's hex SHA-256 and the hash over them all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentVersion {
    /// Hex SHA-256 of [`ContentVersion::manifest`].
    pub hash: String,
    /// Hex SHA-256 of each file, by path relative to the project root (`/`-separated).
    pub files: BTreeMap<String, String>,
}

impl Default for ContentVersion {
    /// The version of an empty project.
    fn default() -> ContentVersion {
        ContentVersion::of_files(BTreeMap::new())
    }
}

impl ContentVersion {
    /// The version of the files under `root` the loaders read, with the recordings' digests
    /// from `catalog`. Blocking (reads the TOML files; a recording is not read again).
    pub fn read(root: &Path, catalog: &Catalog) -> ContentVersion {
        let mut files = BTreeMap::new();
        toml_files(root, &root.join("schedules"), &|_| true, &mut files);
        toml_files(
            root,
            &root.join("audio"),
            &|name| name == "message.toml",
            &mut files,
        );
        for clip in catalog.messages.values().flat_map(|m| m.clips.values()) {
            if let Some(p) = &clip.probe {
                files.insert(slashed(&clip.file), p.sha256.clone());
            }
        }
        ContentVersion::of_files(files)
    }

    /// The version of these file digests.
    pub fn of_files(files: BTreeMap<String, String>) -> ContentVersion {
        let hash = hex::encode(Sha256::digest(manifest_of(&files)));
        ContentVersion { hash, files }
    }

    /// The files and their digests in `sha256sum`'s format, one a line, sorted by path.
    pub fn manifest(&self) -> String {
        manifest_of(&self.files)
    }

    /// The version a manifest (as [`ContentVersion::manifest`] writes it) describes.
    pub fn parse_manifest(text: &str) -> ContentVersion {
        let files = text
            .lines()
            .filter_map(|l| l.split_once("  "))
            .map(|(sha, path)| (path.to_string(), sha.to_string()))
            .collect();
        ContentVersion::of_files(files)
    }

    /// The first 12 hex digits: enough to tell versions apart in a log line.
    pub fn short(&self) -> &str {
        short(&self.hash)
    }

    /// The paths whose digest differs between `self` and `other`, or that only one has.
    pub fn differing(&self, other: &ContentVersion) -> Vec<String> {
        let mut out: Vec<String> = self
            .files
            .iter()
            .filter(|(p, sha)| other.files.get(*p) != Some(sha))
            .map(|(p, _)| p.clone())
            .collect();
        out.extend(
            other
                .files
                .keys()
                .filter(|p| !self.files.contains_key(*p))
                .cloned(),
        );
        out.sort();
        out
    }
}

/// The first 12 hex digits of a content hash.
pub fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

fn manifest_of(files: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    for (path, sha) in files {
        let _ = writeln!(out, "{sha}  {path}");
    }
    out
}

fn slashed(p: &Path) -> String {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Digest every `.toml` file under `dir` whose name `keep` accepts, keyed relative to `root`.
fn toml_files(
    root: &Path,
    dir: &Path,
    keep: &dyn Fn(&str) -> bool,
    out: &mut BTreeMap<String, String>,
) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        if path.is_dir() {
            toml_files(root, &path, keep, out);
            continue;
        }
        let name = e.file_name().to_string_lossy().into_owned();
        let is_toml = Path::new(&name)
            .extension()
            .is_some_and(|x| x.eq_ignore_ascii_case("toml"));
        if !is_toml || !keep(&name) {
            continue;
        }
        if let Ok(bytes) = std::fs::read(&path) {
            let rel = path.strip_prefix(root).unwrap_or(&path);
            out.insert(slashed(rel), hex::encode(Sha256::digest(bytes)));
        }
    }
}

/// A run created under another content version than this instance's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "run {run} ({campaign} at {occurrence}) was created under content version {}, this \
     instance has {}{}; not pushed here",
    short(.run_hash), short(.ours), holders(.held_by)
)]
pub struct VersionMismatch {
    pub run: crate::ledger::RunId,
    pub campaign: String,
    pub occurrence: chrono::DateTime<chrono::Utc>,
    /// The version the run was created with.
    pub run_hash: String,
    /// This instance's version.
    pub ours: String,
    /// Live instances that hold the run's version (they push it).
    pub held_by: Vec<String>,
}

fn holders(names: &[String]) -> String {
    if names.is_empty() {
        String::new()
    } else {
        format!(" (held by instance {})", names.join(", "))
    }
}

/// How an instance may push a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permit {
    /// Same version (or a run recorded before versions were): prepare and push it as usual.
    Same,
    /// Created under a version no live instance holds any more (this instance restarted after
    /// an edit, or a `run --once` completing a run after sender codes were added): resumed under
    /// this version — recorded deliveries keep their ids, each payload rebuilt and checked
    /// against its recorded digest (a changed one is cancelled), missing ones added.
    Adopted,
}

/// Whether an instance at version `ours` may push `run`. `live` lists the current versions of
/// the other live instances (name, hash). A run created under another version that a live
/// instance still holds is that instance's to push: refused. One whose version nobody holds
/// any more is adopted ([`Permit::Adopted`]).
pub fn may_push(
    run: &Run,
    ours: &str,
    live: &[(String, String)],
) -> Result<Permit, VersionMismatch> {
    let Some(theirs) = run.content_hash.as_deref().filter(|h| *h != ours) else {
        return Ok(Permit::Same);
    };
    let held_by: Vec<String> = live
        .iter()
        .filter(|(_, h)| h == theirs)
        .map(|(n, _)| n.clone())
        .collect();
    if held_by.is_empty() {
        return Ok(Permit::Adopted);
    }
    Err(VersionMismatch {
        run: run.id,
        campaign: run.campaign.clone(),
        occurrence: run.occurrence,
        run_hash: theirs.to_string(),
        ours: ours.to_string(),
        held_by,
    })
}

/// An instance counts as live while it wrote its row within this long (it writes every
/// [`SEEN_EVERY`]).
pub const LIVE: std::time::Duration = std::time::Duration::from_secs(90);
/// How often a running instance writes that it is alive.
pub const SEEN_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// The other pushing instances live at `now` (written within [`LIVE`]), not named `me`: a
/// `--no-schedule` mirror never pushes a run, so its version neither holds one nor differs from
/// a pusher's.
pub fn live_others<'a>(
    all: &'a [crate::ledger::InstanceVersion],
    me: &'a str,
    now: chrono::DateTime<chrono::Utc>,
) -> impl Iterator<Item = &'a crate::ledger::InstanceVersion> {
    all.iter()
        .filter(move |i| i.pushes && i.name != me && is_live(i, now))
}

/// Whether `i` wrote its row within [`LIVE`] of `now`.
pub fn is_live(i: &crate::ledger::InstanceVersion, now: chrono::DateTime<chrono::Utc>) -> bool {
    i.seen_at >= now - crate::dispatch::delta(LIVE)
}

impl super::Pusher {
    /// [`may_push`] for a run found in the ledger, against the live instances' versions
    /// (blocking: reads the ledger). Refusals are logged at error level.
    pub fn permit(
        &self,
        run: &Run,
        ours: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Permit, super::PushError> {
        if run.content_hash.as_deref().is_none_or(|h| h == ours) {
            return Ok(Permit::Same);
        }
        let all = self.ledger.instances()?;
        let live: Vec<(String, String)> = live_others(&all, &self.instance, now)
            .map(|i| (i.name.clone(), i.content_hash.clone()))
            .collect();
        may_push(run, ours, &live).map_err(|e| {
            tracing::error!(run = %e.run, campaign = %e.campaign, occurrence = %e.occurrence,
                run_version = %e.run_hash, our_version = %e.ours, held_by = ?e.held_by,
                "run created under another content version: not pushed by this instance");
            e.into()
        })
    }

    /// Say that `run`, created under a version no live instance holds, is resumed under `ours`.
    pub(super) fn adopted(&self, run: &Run, ours: &str) {
        tracing::warn!(run = %run.id, campaign = %run.campaign,
            run_version = short(run.content_hash.as_deref().unwrap_or("")),
            our_version = short(ours),
            "run created under a content version no live instance holds: resumed under this one \
             (recorded deliveries keep their ids and are checked against their payloads)");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_covers_the_toml_files_and_names_what_changed() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("schedules/sub")).unwrap();
        std::fs::create_dir_all(root.join("audio/m")).unwrap();
        std::fs::write(root.join("schedules/a.toml"), "id = \"a\"\n").unwrap();
        std::fs::write(root.join("schedules/sub/endpoints.toml"), "x = 1\n").unwrap();
        std::fs::write(root.join("schedules/README.md"), "notes").unwrap();
        std::fs::write(root.join("audio/m/message.toml"), "title_zh = \"x\"\n").unwrap();
        let before = ContentVersion::read(root, &Catalog::default());
        let paths: Vec<&str> = before.files.keys().map(String::as_str).collect();
        assert_eq!(
            paths,
            [
                "audio/m/message.toml",
                "schedules/a.toml",
                "schedules/sub/endpoints.toml"
            ]
        );
        assert_eq!(before, ContentVersion::read(root, &Catalog::default()));
        assert_eq!(before.hash.len(), 64);
        assert_eq!(before.short(), &before.hash[..12]);

        std::fs::write(root.join("schedules/README.md"), "other notes").unwrap();
        assert_eq!(before, ContentVersion::read(root, &Catalog::default()));
        std::fs::write(root.join("schedules/a.toml"), "id = \"a\" # edited\n").unwrap();
        let after = ContentVersion::read(root, &Catalog::default());
        assert_ne!(before.hash, after.hash);
        assert_eq!(before.differing(&after), ["schedules/a.toml"]);
        assert_eq!(ContentVersion::parse_manifest(&after.manifest()), after);
        assert!(after.manifest().contains("  schedules/a.toml\n"));
    }
}
