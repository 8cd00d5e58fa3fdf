//! The emergency-broadcast data interface (EBD, 2018 profile): resource codes and ids, the XML
//! envelope and bodies, tar packages, and SM2/SM3 signatures.
//!
//! - [`ids`] — EBRID / EBDID / EBMID, 2018 and 2017 layouts.
//! - [`seq`] — daily counters that survive restarts.
//! - [`profile`] — the deployment's configurable codes.
//! - [`model`] — the typed EBD and the wire time format.
//! - [`xml_write`] / [`xml_read`] — EBDB XML out and in.
//! - [`package`] / [`chunks`] / [`assemble`] — the tar, safely read; its bytes with media
//!   shared between packages; building signed packages.
//! - [`validate`] / [`outcome`] — inbound checks mapped to ResultCode; what codes mean.
//! - [`keys`] / [`sign`] — SM2 keys, the signer seam, EBDS signature files (shapes A and B).

pub mod assemble;
pub mod chunks;
pub mod ids;
pub mod keys;
pub mod model;
pub mod outcome;
pub mod package;
pub mod profile;
pub mod seq;
pub mod sign;
pub mod validate;
pub mod xml_read;
pub mod xml_write;

pub use assemble::{
    BuildError, BuiltPackage, EbmSpec, MediaFile, broadcast_ebm, broadcast_pair, build_package,
    envelope,
};
pub use chunks::PackageBytes;
pub use ids::{EbdId, EbmId, Ebrid, IdError, IdFormat};
pub use keys::{KeySigner, Signer};
pub use model::*;
pub use outcome::{BrdState, Delivery, ResultCode, delivery_of};
pub use package::{Limits, PackageError, RawPackage};
pub use profile::{DigestEncoding, EbdProfile, SignatureShape};
pub use seq::{MemorySequence, SeqKind, SequenceStore, beijing_day, next_ebdid, next_ebmid};
pub use sign::{SignError, SignatureFile};
pub use validate::{InboundConfig, InboundPackage, Verdict, validate_package};
pub use xml_read::{XmlError, parse_ebd};
pub use xml_write::write_ebd;
