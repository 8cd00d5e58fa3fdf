//! The emergency-broadcast data interface (EBD, 2018 profile): resource codes and ids, the XML
//! envelope and bodies, tar packages, and SM2/SM3 signatures.
//!
//! - [`ids`] — EBRID / EBDID / EBMID, 2018 and 2017 layouts.
//! - [`seq`] — daily counters that survive restarts.
//! - [`profile`] — the deployment's configurable codes.
//! - [`model`] — the typed EBD and the wire time format.
//! - [`xml_write`] / [`xml_read`] — EBDB XML out and in.

pub mod ids;
pub mod model;
pub mod profile;
pub mod seq;
pub mod xml_read;
pub mod xml_write;

pub use ids::{EbdId, EbmId, Ebrid, IdError, IdFormat};
pub use model::*;
pub use profile::{DigestEncoding, EbdProfile, SignatureShape};
pub use seq::{FileSequence, MemorySequence, SeqKind, SequenceStore};
pub use xml_read::{XmlError, parse_ebd};
pub use xml_write::write_ebd;
