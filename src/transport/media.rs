//! The clips packages carry, read once per process and shared: one adjusted clip goes to every
//! endpoint of a run, so its bytes are read and hashed (SHA-1 for `Auxiliary`, SHA-256 to
//! check it is the clip that was planned) once, and every package holds the same buffer.
//! The cache keeps the clips used last, up to a byte budget; a clip in use by a package stays
//! alive however the cache evicts.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::Content;
use crate::ebd::MediaFile;

/// Bytes of clips kept between packages (a 120 s mono clip at 48 kHz is about 11 MB).
const BUDGET_BYTES: usize = 48 << 20;

#[derive(Debug, Default)]
struct Cache {
    /// Most recently used last.
    clips: VecDeque<(PathBuf, MediaFile)>,
    bytes: usize,
}

static CACHE: Mutex<Cache> = Mutex::new(Cache {
    clips: VecDeque::new(),
    bytes: 0,
});

/// The media files of a delivery, each once, in first-play order, named as in the package.
pub fn media_files(content: &Content) -> std::io::Result<Vec<MediaFile>> {
    each_clip(content, clip)
}

/// [`media_files`] from the clips held in memory only: `None` when one of them would have to be
/// read from disk. Never blocks, so a package whose clips are held can be built on an async
/// worker (CPU only: tens of microseconds).
pub fn held_media_files(content: &Content) -> Option<Vec<MediaFile>> {
    each_clip(content, |path, sha256| lookup(path, sha256).ok_or(())).ok()
}

/// Each clip of `content` once, in first-play order, from `get` (path, planned SHA-256), named
/// as in the package; the first failure of `get` ends it.
fn each_clip<E>(
    content: &Content,
    mut get: impl FnMut(&Path, &str) -> Result<MediaFile, E>,
) -> Result<Vec<MediaFile>, E> {
    let mut out: Vec<MediaFile> = Vec::new();
    for m in &content.media {
        if out.iter().any(|f| f.name == m.name) {
            continue;
        }
        out.push(get(&m.path, &m.sha256)?.named(m.name.clone()));
    }
    Ok(out)
}

/// The clip at `path`, whose SHA-256 must be `sha256` (hex; the adjusted clip as planned).
fn clip(path: &Path, sha256: &str) -> std::io::Result<MediaFile> {
    if let Some(hit) = lookup(path, sha256) {
        return Ok(hit);
    }
    let data = std::fs::read(path)
        .map_err(|e| std::io::Error::new(e.kind(), format!("`{}`: {e}", path.display())))?;
    let file = MediaFile::new(String::new(), data);
    let got = hex::encode(file.sha256());
    if !sha256.is_empty() && !got.eq_ignore_ascii_case(sha256) {
        return Err(std::io::Error::other(format!(
            "`{}` changed since it was planned: sha256 {got}, expected {sha256}",
            path.display()
        )));
    }
    insert(path, &file);
    Ok(file)
}

fn lookup(path: &Path, sha256: &str) -> Option<MediaFile> {
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    let i = cache
        .clips
        .iter()
        .position(|(p, f)| p == path && hex::encode(f.sha256()).eq_ignore_ascii_case(sha256))?;
    let hit = cache.clips.remove(i)?;
    let file = hit.1.clone();
    cache.clips.push_back(hit);
    Some(file)
}

fn insert(path: &Path, file: &MediaFile) {
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(i) = cache.clips.iter().position(|(p, _)| p == path)
        && let Some((_, old)) = cache.clips.remove(i)
    {
        cache.bytes -= old.data.len();
    }
    cache.bytes += file.data.len();
    cache.clips.push_back((path.to_path_buf(), file.clone()));
    while cache.bytes > BUDGET_BYTES && cache.clips.len() > 1 {
        if let Some((_, old)) = cache.clips.pop_front() {
            cache.bytes -= old.data.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use super::*;

    #[test]
    fn a_clip_is_read_once_and_shared_and_a_changed_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.wav");
        std::fs::write(&path, vec![7u8; 4096]).unwrap();
        let sha = hex::encode(Sha256::digest(vec![7u8; 4096]));
        let one = clip(&path, &sha).unwrap();
        let two = clip(&path, &sha).unwrap();
        assert_eq!(one.data.as_ptr(), two.data.as_ptr(), "one buffer for both");
        std::fs::write(&path, vec![8u8; 4096]).unwrap();
        assert_eq!(
            clip(&path, &sha).unwrap().data.as_ptr(),
            one.data.as_ptr(),
            "content-addressed: the planned bytes are kept while cached"
        );
        let other = dir.path().join("b.wav");
        std::fs::write(&other, vec![8u8; 4096]).unwrap();
        let err = clip(&other, &sha).unwrap_err().to_string();
        assert!(err.contains("changed since it was planned"), "{err}");
    }
}
