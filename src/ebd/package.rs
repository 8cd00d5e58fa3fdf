//! The tar package `EBDT_<EBDID>.tar`: `EBDB_<EBDID>.xml`, `EBDS_EBDB_<EBDID>.xml` and media
//! files. Written deterministically (fixed mtime, uid, gid, mode; fixed order) so a retry is
//! byte-identical; read as untrusted input: plain file names only, regular files only, entry
//! count and sizes capped before and while reading.

use std::collections::BTreeMap;
use std::io::Read;

/// Caps applied while reading a package.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_entries: usize,
    pub max_entry_bytes: u64,
    pub max_total_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries: 32,
            max_entry_bytes: 64 << 20,
            max_total_bytes: 128 << 20,
        }
    }
}

/// Why a package was refused.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("not a readable tar: {0}")]
    Tar(std::io::Error),
    #[error("entry `{name}`: {reason}")]
    EntryName { name: String, reason: &'static str },
    #[error("entry `{name}` is a {kind}, only plain files are allowed")]
    EntryType { name: String, kind: String },
    #[error("more than {max} entries")]
    TooManyEntries { max: usize },
    #[error("entry `{name}` claims {size} bytes, limit {max}")]
    EntryTooLarge { name: String, size: u64, max: u64 },
    #[error("entries exceed {max} bytes in total")]
    TotalTooLarge { max: u64 },
    #[error("entry `{name}` is truncated")]
    Truncated { name: String },
    #[error("entry `{0}` appears twice")]
    Duplicate(String),
    #[error("no `EBDB_<EBDID>.xml` entry")]
    MissingEbdb,
    #[error("more than one `EBDB_*.xml` entry")]
    MultipleEbdb,
    #[error("no `EBDS_EBDB_{0}.xml` entry")]
    MissingEbds(String),
    #[error("signature entry `{0}` does not match the EBDB entry")]
    EbdsMismatch(String),
    #[error("building the tar: {0}")]
    Write(std::io::Error),
}

/// The files of a package, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawPackage {
    /// The EBDID taken from the EBDB file name.
    pub ebdid: String,
    pub ebdb: Vec<u8>,
    pub ebds: Vec<u8>,
    /// Media files by name.
    pub media: BTreeMap<String, Vec<u8>>,
}

/// `EBDT_<EBDID>.tar`.
pub fn package_name(ebdid: &str) -> String {
    format!("EBDT_{ebdid}.tar")
}

/// `EBDB_<EBDID>.xml`.
pub fn ebdb_name(ebdid: &str) -> String {
    format!("EBDB_{ebdid}.xml")
}

/// `EBDS_EBDB_<EBDID>.xml`.
pub fn ebds_name(ebdid: &str) -> String {
    format!("EBDS_EBDB_{ebdid}.xml")
}

/// Check a name is a plain file name (no directories, no traversal, not absolute).
pub fn check_entry_name(name: &str) -> Result<(), PackageError> {
    let bad = |reason| {
        Err(PackageError::EntryName {
            name: name.to_owned(),
            reason,
        })
    };
    if name.is_empty() {
        return bad("empty name");
    }
    if name.starts_with('/') || name.starts_with('\\') {
        return bad("absolute path");
    }
    if name == "." || name == ".." || name.contains("..") {
        return bad("parent or current directory reference");
    }
    if name.contains('/') || name.contains('\\') || name.contains(':') {
        return bad("directories are not allowed");
    }
    if name.chars().any(char::is_control) {
        return bad("control characters in name");
    }
    Ok(())
}

/// Build the tar bytes in one buffer (see [`write_chunks`](super::chunks::write_chunks) for
/// the shared-media form packages are sent in). `mtime` is fixed by the caller (the EBD's time)
/// for byte-identical retries.
pub fn write_package(
    ebdid: &str,
    ebdb: &[u8],
    ebds: &[u8],
    media: &[(String, Vec<u8>)],
    mtime: u64,
) -> Result<Vec<u8>, PackageError> {
    let files: Vec<super::assemble::MediaFile> = media
        .iter()
        .map(|(name, data)| super::assemble::MediaFile::new(name.clone(), data.clone()))
        .collect();
    Ok(super::chunks::write_chunks(ebdid, ebdb, ebds, &files, mtime)?.to_vec())
}

fn read_entry(
    mut entry: tar::Entry<'_, impl Read>,
    name: &str,
    total: &mut u64,
    limits: &Limits,
) -> Result<Vec<u8>, PackageError> {
    // the effective size (a PAX `size` record overrides the header's)
    let size = entry.size();
    if size > limits.max_entry_bytes {
        return Err(PackageError::EntryTooLarge {
            name: name.to_owned(),
            size,
            max: limits.max_entry_bytes,
        });
    }
    *total = total.saturating_add(size);
    if *total > limits.max_total_bytes {
        return Err(PackageError::TotalTooLarge {
            max: limits.max_total_bytes,
        });
    }
    let mut data = Vec::with_capacity(size.min(1 << 20) as usize);
    (&mut entry)
        .take(size + 1)
        .read_to_end(&mut data)
        .map_err(PackageError::Tar)?;
    if data.len() as u64 != size {
        return Err(PackageError::Truncated {
            name: name.to_owned(),
        });
    }
    Ok(data)
}

/// Read a package from untrusted bytes.
pub fn read_package(r: impl Read, limits: &Limits) -> Result<RawPackage, PackageError> {
    let mut archive = tar::Archive::new(r);
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut total = 0u64;
    for (i, entry) in archive.entries().map_err(PackageError::Tar)?.enumerate() {
        if i >= limits.max_entries {
            return Err(PackageError::TooManyEntries {
                max: limits.max_entries,
            });
        }
        let entry = entry.map_err(PackageError::Tar)?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        check_entry_name(&name)?;
        let kind = entry.header().entry_type();
        if !kind.is_file() {
            return Err(PackageError::EntryType {
                name,
                kind: format!("{kind:?}").to_lowercase(),
            });
        }
        let data = read_entry(entry, &name, &mut total, limits)?;
        if files.insert(name.clone(), data).is_some() {
            return Err(PackageError::Duplicate(name));
        }
    }
    split_files(files)
}

fn split_files(mut files: BTreeMap<String, Vec<u8>>) -> Result<RawPackage, PackageError> {
    let ebdb_names: Vec<String> = files
        .keys()
        .filter(|n| n.starts_with("EBDB_") && n.ends_with(".xml"))
        .cloned()
        .collect();
    let ebdb_file = match ebdb_names.as_slice() {
        [] => return Err(PackageError::MissingEbdb),
        [one] => one.clone(),
        _ => return Err(PackageError::MultipleEbdb),
    };
    let ebdid = ebdb_file["EBDB_".len()..ebdb_file.len() - ".xml".len()].to_owned();
    let ebdb = files.remove(&ebdb_file).expect("listed above");
    let ebds = files
        .remove(&ebds_name(&ebdid))
        .ok_or_else(|| PackageError::MissingEbds(ebdid.clone()))?;
    if let Some(other) = files.keys().find(|n| n.starts_with("EBDS_")) {
        return Err(PackageError::EbdsMismatch(other.clone()));
    }
    Ok(RawPackage {
        ebdid,
        ebdb,
        ebds,
        media: files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "10451343100000001020101012025112700000001";

    #[test]
    fn round_trip_is_deterministic() {
        let media = vec![
            ("b.mp3".to_owned(), vec![2u8; 700]),
            ("a.mp3".to_owned(), vec![1u8; 3]),
        ];
        let one = write_package(ID, b"<EBD/>", b"<Signature/>", &media, 1_764_205_200).unwrap();
        let two = write_package(ID, b"<EBD/>", b"<Signature/>", &media, 1_764_205_200).unwrap();
        assert_eq!(one, two);
        let p = read_package(one.as_slice(), &Limits::default()).unwrap();
        assert_eq!(p.ebdid, ID);
        assert_eq!(p.ebdb, b"<EBD/>");
        assert_eq!(p.media.len(), 2);
        assert_eq!(p.media["b.mp3"], vec![2u8; 700]);
    }

    #[test]
    fn names_are_plain_file_names() {
        for bad in ["../x", "/etc/passwd", "a/b.mp3", "..", "", "c:\\x", "a\\b"] {
            assert!(check_entry_name(bad).is_err(), "{bad:?}");
        }
        check_entry_name("防诈骗_ꆈꌠ.mp3").unwrap();
    }

    #[test]
    fn limits_apply() {
        let media = vec![("a.mp3".to_owned(), vec![0u8; 2000])];
        let bytes = write_package(ID, b"<EBD/>", b"<S/>", &media, 0).unwrap();
        let small = Limits {
            max_entry_bytes: 1000,
            ..Limits::default()
        };
        assert!(matches!(
            read_package(bytes.as_slice(), &small),
            Err(PackageError::EntryTooLarge { size: 2000, .. })
        ));
        let few = Limits {
            max_entries: 2,
            ..Limits::default()
        };
        assert!(matches!(
            read_package(bytes.as_slice(), &few),
            Err(PackageError::TooManyEntries { max: 2 })
        ));
        let total = Limits {
            max_total_bytes: 1500,
            ..Limits::default()
        };
        assert!(matches!(
            read_package(bytes.as_slice(), &total),
            Err(PackageError::TotalTooLarge { .. })
        ));
        let cut = &bytes[..1024 + 512 + 512 + 100];
        assert!(read_package(cut, &Limits::default()).is_err());
    }
}
