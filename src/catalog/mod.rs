//! The catalog: every recording under `audio/<message-id>/{ii,zh}.<ext>` with its
//! `message.toml`, probed (format, duration, loudness, true peak, sha256) and passed through
//! the audio gate. A clip that fails the gate is never scheduled.

pub mod cache;
pub mod gate;
pub mod load;
pub mod message_toml;
pub mod probe;

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::NaiveDate;
use serde::Serialize;

use crate::diag::Diagnostic;
use crate::lang::Lang;

/// What probing a clip measured.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Probe {
    /// Container, e.g. `mp3`, `ogg`, `flac`, `wav`, `m4a`.
    pub container: String,
    /// Codec, e.g. `mp3`, `vorbis`, `flac`, `pcm_s16le`, `aac`.
    pub codec: String,
    pub sample_rate: u32,
    pub channels: u16,
    /// Decoded frames (samples per channel).
    pub frames: u64,
    pub duration_s: f64,
    /// Integrated loudness, LUFS (EBU R128 / ITU-R BS.1770).
    pub lufs: f64,
    /// True peak, dBTP.
    pub true_peak_dbtp: f64,
    /// Hex sha256 of the file's bytes.
    pub sha256: String,
    pub size_bytes: u64,
}

/// The gate's verdict on a clip.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", content = "reasons", rename_all = "lowercase")]
pub enum Verdict {
    Ok,
    /// Airable, with something staff should look at.
    Warning(Vec<String>),
    /// Never scheduled, for the reasons given in plain words.
    Rejected(Vec<String>),
}

impl Verdict {
    pub fn is_airable(&self) -> bool {
        !matches!(self, Verdict::Rejected(_))
    }
}

/// One recording of one message in one language.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Clip {
    pub message: String,
    pub lang: Lang,
    /// Path relative to the project root, e.g. `audio/police-impersonation/ii.mp3`.
    pub file: PathBuf,
    /// `None` when the file could not be probed at all (the verdict says why).
    pub probe: Option<Probe>,
    pub verdict: Verdict,
}

/// One topic with its Yi and Mandarin renditions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    pub id: String,
    pub title_zh: String,
    pub title_ii: Option<String>,
    pub topic: String,
    /// The words spoken in each language.
    pub text: BTreeMap<Lang, String>,
    pub valid_from: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
    pub source: Option<String>,
    pub clips: BTreeMap<Lang, Clip>,
    /// Problems of the pair as a whole (same audio twice, durations far apart, a language
    /// missing); rejections here make the whole message unairable.
    pub pair_verdict: Verdict,
}

impl Message {
    /// The clip in `lang` if it exists and passed the gate, and the pair as a whole did too.
    pub fn airable_clip(&self, lang: Lang) -> Option<&Clip> {
        if !self.pair_verdict.is_airable() {
            return None;
        }
        self.clips
            .get(&lang)
            .filter(|c| c.verdict.is_airable() && c.probe.is_some())
    }
}

/// All messages found under `audio/`, and the problems met loading them.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub messages: BTreeMap<String, Message>,
    /// Problems with `message.toml` files and the folder layout.
    pub diagnostics: Vec<Diagnostic>,
}

impl Catalog {
    pub fn message(&self, id: &str) -> Option<&Message> {
        self.messages.get(id)
    }
}
