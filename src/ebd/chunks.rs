//! A package's tar bytes as a list of chunks: its own (entry headers, the EBDB and EBDS files,
//! padding, the end blocks) and media data shared with every other package that carries the
//! same clip. Written, fingerprinted and sent chunk by chunk, so fanning one clip out to many
//! endpoints copies none of its audio and hashes it once, not once per package. A package
//! received over HTTP is kept the same way, in the pieces it arrived in, and read in place.

use bytes::Bytes;
use sha2::{Digest, Sha256};

use super::assemble::MediaFile;
use super::package::{PackageError, check_entry_name, ebdb_name, ebds_name};

const BLOCK: usize = 512;
/// Prefix of a recorded [`PackageBytes::fingerprint`]; a recorded digest without it is the
/// plain SHA-256 of the whole tar (ledgers written before fingerprints).
const FINGERPRINT_PREFIX: &str = "parts:";

/// The bytes of one package, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackageBytes {
    chunks: Vec<Chunk>,
    len: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Chunk {
    Own(Bytes),
    /// A media file's data, shared, with its SHA-256 (computed once, when it was read).
    Shared {
        data: Bytes,
        sha256: [u8; 32],
    },
}

impl Chunk {
    fn bytes(&self) -> &Bytes {
        match self {
            Chunk::Own(b) | Chunk::Shared { data: b, .. } => b,
        }
    }
}

impl PackageBytes {
    /// Total length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The chunks in order (cheap clones of shared buffers).
    pub fn chunks(&self) -> impl Iterator<Item = &Bytes> {
        self.chunks.iter().map(Chunk::bytes)
    }

    /// A received package, from the pieces it arrived in (kept as they are: not copied into one
    /// buffer before its entries are read).
    pub fn received(pieces: impl IntoIterator<Item = Bytes>) -> PackageBytes {
        let mut out = PackageBytes::default();
        for b in pieces.into_iter().filter(|b| !b.is_empty()) {
            out.len += b.len();
            out.chunks.push(Chunk::Own(b));
        }
        out
    }

    /// The bytes in order, read in place across the chunks (for [`read_package`] and
    /// [`validate_package`](super::validate_package)).
    ///
    /// [`read_package`]: super::package::read_package
    pub fn reader(&self) -> Reader<'_> {
        Reader {
            rest: &self.chunks,
            at: 0,
        }
    }

    /// The whole tar in one buffer (for tests, captures and small replies).
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len);
        for c in self.chunks() {
            out.extend_from_slice(c);
        }
        out
    }

    /// Hex SHA-256 of the whole tar, computed chunk by chunk.
    pub fn sha256_hex(&self) -> String {
        let mut h = Sha256::new();
        for c in self.chunks() {
            h.update(c);
        }
        hex::encode(h.finalize())
    }

    /// What the ledger records to prove a rebuild is the same package: SHA-256 over the
    /// package's own bytes in order, with each shared media file standing in as its length and
    /// SHA-256. As binding as a hash of the whole tar, without hashing the audio per package.
    pub fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        for c in &self.chunks {
            match c {
                Chunk::Own(b) => {
                    h.update(b"o");
                    h.update((b.len() as u64).to_le_bytes());
                    h.update(b);
                }
                Chunk::Shared { data, sha256 } => {
                    h.update(b"s");
                    h.update((data.len() as u64).to_le_bytes());
                    h.update(sha256);
                }
            }
        }
        format!("{FINGERPRINT_PREFIX}{}", hex::encode(h.finalize()))
    }

    /// Whether `recorded` (a [`fingerprint`](Self::fingerprint), or the plain SHA-256 hex an
    /// older ledger holds) names these bytes.
    pub fn matches(&self, recorded: &str) -> bool {
        if recorded.starts_with(FINGERPRINT_PREFIX) {
            self.fingerprint() == recorded
        } else {
            self.sha256_hex() == recorded
        }
    }
}

/// [`PackageBytes::reader`]: what is left of the chunks, and how far into the first of them.
#[derive(Debug)]
pub struct Reader<'a> {
    rest: &'a [Chunk],
    at: usize,
}

impl std::io::Read for Reader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while let Some((first, more)) = self.rest.split_first() {
            let left = &first.bytes()[self.at..];
            if left.is_empty() {
                (self.rest, self.at) = (more, 0);
                continue;
            }
            let n = left.len().min(buf.len());
            buf[..n].copy_from_slice(&left[..n]);
            self.at += n;
            return Ok(n);
        }
        Ok(0)
    }
}

/// Builds the chunk list: own bytes gather in one buffer until a shared chunk breaks them.
#[derive(Debug, Default)]
struct Writer {
    out: PackageBytes,
    own: Vec<u8>,
}

impl Writer {
    fn own(&mut self, data: &[u8]) {
        self.own.extend_from_slice(data);
    }

    fn flush(&mut self) {
        if !self.own.is_empty() {
            let b = Bytes::from(std::mem::take(&mut self.own));
            self.out.len += b.len();
            self.out.chunks.push(Chunk::Own(b));
        }
    }

    fn shared(&mut self, m: &MediaFile) {
        self.flush();
        self.out.len += m.data.len();
        self.out.chunks.push(Chunk::Shared {
            data: m.data.clone(),
            sha256: *m.sha256(),
        });
    }

    fn header(&mut self, name: &str, size: usize, mtime: u64) -> Result<(), PackageError> {
        check_entry_name(name)?;
        let mut h = tar::Header::new_ustar();
        h.set_path(name).map_err(|e| PackageError::EntryName {
            name: name.to_owned(),
            reason: if e.kind() == std::io::ErrorKind::InvalidInput {
                "longer than a tar header holds"
            } else {
                "not a valid tar name"
            },
        })?;
        h.set_size(size as u64);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(mtime);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_cksum();
        self.own(h.as_bytes());
        Ok(())
    }

    fn pad(&mut self, size: usize) {
        let rest = (BLOCK - size % BLOCK) % BLOCK;
        self.own.resize(self.own.len() + rest, 0);
    }
}

/// The tar of a package: `EBDB_<id>.xml`, `EBDS_EBDB_<id>.xml`, then the media files by name;
/// fixed mode, owner and `mtime` (the caller's: the EBD's time), so a rebuild is byte-identical.
pub fn write_chunks(
    ebdid: &str,
    ebdb: &[u8],
    ebds: &[u8],
    media: &[MediaFile],
    mtime: u64,
) -> Result<PackageBytes, PackageError> {
    let mut w = Writer {
        own: Vec::with_capacity(3 * BLOCK + ebdb.len() + ebds.len() + 2 * BLOCK),
        ..Writer::default()
    };
    for (name, data) in [(ebdb_name(ebdid), ebdb), (ebds_name(ebdid), ebds)] {
        w.header(&name, data.len(), mtime)?;
        w.own(data);
        w.pad(data.len());
    }
    let mut sorted: Vec<&MediaFile> = media.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    for m in sorted {
        w.header(&m.name, m.data.len(), mtime)?;
        w.shared(m);
        w.pad(m.data.len());
    }
    w.own(&[0; 2 * BLOCK]);
    w.flush();
    Ok(w.out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "10451343100000001020101012025112700000001";

    /// The same package written by the `tar` crate's own builder.
    fn reference(media: &[MediaFile], mtime: u64) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        let mut sorted: Vec<&MediaFile> = media.iter().collect();
        sorted.sort_by(|a, b| a.name.cmp(&b.name));
        let fixed = [
            (ebdb_name(ID), b"<EBD/>".as_slice()),
            (ebds_name(ID), b"<Signature/>".as_slice()),
        ];
        let all = fixed
            .iter()
            .map(|(n, d)| (n.clone(), *d))
            .chain(sorted.iter().map(|m| (m.name.clone(), &m.data[..])));
        for (name, data) in all {
            let mut h = tar::Header::new_ustar();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_uid(0);
            h.set_gid(0);
            h.set_mtime(mtime);
            h.set_entry_type(tar::EntryType::Regular);
            b.append_data(&mut h, name, data).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn clips() -> Vec<MediaFile> {
        vec![
            MediaFile::new("b.wav", vec![2u8; 70_001]),
            MediaFile::new("a.wav", vec![1u8; 512]),
        ]
    }

    #[test]
    fn chunks_are_the_tar_crates_bytes_with_media_shared_not_copied() {
        let media = clips();
        let p = write_chunks(ID, b"<EBD/>", b"<Signature/>", &media, 1_764_205_200).unwrap();
        let whole = p.to_vec();
        assert_eq!(whole, reference(&media, 1_764_205_200));
        assert_eq!(p.len(), whole.len());
        let shared: Vec<&Bytes> = p
            .chunks()
            .filter(|c| media.iter().any(|m| m.data.as_ptr() == c.as_ptr()))
            .collect();
        assert_eq!(shared.len(), 2, "both clips go out as their own buffers");
        assert_eq!(p.sha256_hex(), hex::encode(Sha256::digest(&whole)));
    }

    #[test]
    fn a_received_package_reads_in_place_as_one_tar_across_its_pieces() {
        use std::io::Read;
        let whole = reference(&clips(), 9);
        // cut at odd places, some inside a header, with an empty piece that is dropped
        let cuts = [
            0,
            1,
            511,
            512,
            513,
            4_000,
            70_000,
            whole.len() - 1,
            whole.len(),
        ];
        let pieces: Vec<Bytes> = cuts
            .windows(2)
            .map(|w| Bytes::copy_from_slice(&whole[w[0]..w[1]]))
            .chain([Bytes::new()])
            .collect();
        let p = PackageBytes::received(pieces);
        assert_eq!(p.len(), whole.len());
        assert_eq!(p.chunks().count(), cuts.len() - 1);
        assert_eq!(p.to_vec(), whole);
        let (mut read, mut buf) = (Vec::new(), [0u8; 300]);
        let mut r = p.reader();
        loop {
            let n = r.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            read.extend_from_slice(&buf[..n]);
        }
        assert_eq!(read, whole, "small reads across every cut");
        let raw = crate::ebd::package::read_package(p.reader(), &Default::default()).unwrap();
        assert_eq!(raw.ebdid, ID);
        assert_eq!(raw.media["b.wav"], vec![2u8; 70_001]);
        assert_eq!(
            PackageBytes::received([]).reader().read(&mut buf).unwrap(),
            0
        );
    }

    #[test]
    fn fingerprints_follow_every_byte_and_old_digests_still_match() {
        let media = clips();
        let p = write_chunks(ID, b"<EBD/>", b"<Signature/>", &media, 7).unwrap();
        let again = write_chunks(ID, b"<EBD/>", b"<Signature/>", &clips(), 7).unwrap();
        assert_eq!(p.fingerprint(), again.fingerprint());
        assert!(p.matches(&p.fingerprint()));
        assert!(p.matches(&hex::encode(Sha256::digest(p.to_vec()))));
        let mut changed = clips();
        let mut data = changed[0].data.to_vec();
        data[69_000] ^= 1;
        changed[0] = MediaFile::new("b.wav", data);
        let other = write_chunks(ID, b"<EBD/>", b"<Signature/>", &changed, 7).unwrap();
        assert!(!other.matches(&p.fingerprint()));
        let later = write_chunks(ID, b"<EBD/>", b"<Signature/>", &media, 8).unwrap();
        assert!(
            !later.matches(&p.fingerprint()),
            "the mtime is in the headers"
        );
        assert!(!later.matches(&p.sha256_hex()));
    }

    #[test]
    fn bad_names_are_refused() {
        let media = vec![MediaFile::new("../x.wav", vec![0u8; 3])];
        assert!(matches!(
            write_chunks(ID, b"<EBD/>", b"<S/>", &media, 0),
            Err(PackageError::EntryName { .. })
        ));
    }
}
