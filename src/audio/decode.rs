//! Decode a clip to interleaved `f32` PCM (symphonia 0.6), whole or one buffer at a time.
//!
//! Truncation is caught three ways, because symphonia reports it three ways: FLAC/WAV end in
//! `UnexpectedEof`, a cut `.m4a` has no `moov` atom (unsupported), and a cut MP3 simply ends —
//! so the decoded frame count is compared with the length the container declares.

use std::fs::File;
use std::io::Cursor;
use std::path::Path;

use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::MetadataOptions;

/// Decoded audio: interleaved samples in `[-1, 1]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Pcm {
    pub sample_rate: u32,
    pub channels: u16,
    /// Interleaved samples, `frames × channels` long.
    pub samples: Vec<f32>,
}

impl Pcm {
    pub fn frames(&self) -> u64 {
        self.samples.len() as u64 / u64::from(self.channels.max(1))
    }

    pub fn duration_s(&self) -> f64 {
        self.frames() as f64 / f64::from(self.sample_rate.max(1))
    }
}

/// Why a clip could not be decoded, in plain words.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    #[error("cannot read the file: {0}")]
    Io(#[from] std::io::Error),
    #[error("unsupported or unrecognised audio format ({0})")]
    Unsupported(String),
    #[error("the file is empty (0 bytes)")]
    Empty,
    #[error("the file holds no audio track")]
    NoAudioTrack,
    #[error("the file is truncated ({0})")]
    Truncated(String),
    #[error("the file is corrupt: {bad} of {total} audio packets could not be decoded")]
    Corrupt { bad: u64, total: u64 },
    #[error("the audio data is malformed ({0})")]
    Malformed(String),
}

/// What the container says about the stream, known before decoding.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamInfo {
    /// Container short name, e.g. `mp3`, `ogg`, `flac`, `wav`, `m4a`.
    pub container: String,
    /// Codec short name, e.g. `mp3`, `vorbis`, `flac`, `pcm_s16le`, `aac`.
    pub codec: String,
    pub sample_rate: u32,
    pub channels: u16,
    /// Frames the container declares (or estimates), when it does.
    pub declared_frames: Option<u64>,
}

/// How a streamed decode went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StreamEnd {
    /// Frames decoded and handed to the callback.
    pub frames: u64,
    /// Audio packets read.
    pub packets: u64,
    /// Packets that failed to decode and were skipped.
    pub bad_packets: u64,
}

impl StreamEnd {
    /// Whether the stream ended well short of the declared length: more than 1% and more
    /// than 0.1 s missing (a cut MP3 ends silently otherwise).
    pub fn is_short(&self, info: &StreamInfo) -> bool {
        let Some(declared) = info.declared_frames else {
            return false;
        };
        let missing = declared.saturating_sub(self.frames);
        let tolerance = (declared / 100).max(u64::from(info.sample_rate) / 10);
        missing > tolerance
    }

    /// Whether so many packets were bad that the audio cannot be trusted (more than 1% and
    /// more than two packets).
    pub fn is_corrupt(&self) -> bool {
        self.bad_packets > 2 && self.bad_packets * 100 > self.packets
    }
}

/// An opened clip, ready to decode buffer by buffer.
pub struct Stream {
    reader: Box<dyn FormatReader + 'static>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    info: StreamInfo,
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream").field("info", &self.info).finish()
    }
}

impl Stream {
    /// Open a file; its extension is the format hint.
    pub fn open_file(path: &Path) -> Result<Stream, DecodeError> {
        let file = File::open(path)?;
        let ext = path.extension().and_then(|e| e.to_str());
        Stream::open(Box::new(file), ext)
    }

    /// Open bytes held in memory.
    pub fn open_bytes(bytes: Vec<u8>, ext_hint: Option<&str>) -> Result<Stream, DecodeError> {
        Stream::open(Box::new(Cursor::new(bytes)), ext_hint)
    }

    fn open(source: Box<dyn MediaSource>, ext_hint: Option<&str>) -> Result<Stream, DecodeError> {
        let mss = MediaSourceStream::new(source, Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = ext_hint {
            hint.with_extension(ext);
        }
        let reader = symphonia::default::get_probe()
            .probe(
                &hint,
                mss,
                FormatOptions::default(),
                MetadataOptions::default(),
            )
            .map_err(open_error)?;
        let track = reader
            .default_track(TrackType::Audio)
            .ok_or(DecodeError::NoAudioTrack)?;
        let params = track
            .codec_params
            .as_ref()
            .and_then(|p| p.audio())
            .ok_or(DecodeError::NoAudioTrack)?;
        let decoder = symphonia::default::get_codecs()
            .make_audio_decoder(params, &AudioDecoderOptions::default())
            .map_err(open_error)?;
        let info = StreamInfo {
            container: container_name(reader.format_info().short_name).to_string(),
            codec: decoder.codec_info().short_name.to_string(),
            sample_rate: params.sample_rate.unwrap_or(0),
            channels: params.channels.as_ref().map_or(0, |c| c.count() as u16),
            declared_frames: track.num_frames,
        };
        let track_id = track.id;
        Ok(Stream {
            reader,
            decoder,
            track_id,
            info,
        })
    }

    pub fn info(&self) -> &StreamInfo {
        &self.info
    }

    /// Decode to the end, handing each buffer (interleaved `f32`) to `on_buffer`. Bad packets
    /// are skipped and counted; an early end of file is [`DecodeError::Truncated`].
    pub fn for_each_buffer(
        mut self,
        mut on_buffer: impl FnMut(&[f32]),
    ) -> Result<(StreamInfo, StreamEnd), DecodeError> {
        let mut end = StreamEnd::default();
        let mut scratch: Vec<f32> = Vec::new();
        loop {
            let packet = match self.reader.next_packet() {
                Ok(Some(p)) => p,
                Ok(None) | Err(SymError::ResetRequired) => break,
                Err(e) => return Err(read_error(e, &end, &self.info)),
            };
            if packet.track_id != self.track_id {
                continue;
            }
            end.packets += 1;
            match self.decoder.decode(&packet) {
                Ok(buf) => {
                    // The decoder may revise rate/channels after the first packet (e.g. AAC).
                    if self.info.sample_rate == 0 || self.info.channels == 0 {
                        self.info.sample_rate = buf.spec().rate();
                        self.info.channels = buf.spec().channels().count() as u16;
                    }
                    scratch.clear();
                    buf.copy_to_vec_interleaved(&mut scratch);
                    end.frames += buf.frames() as u64;
                    on_buffer(&scratch);
                }
                Err(SymError::DecodeError(_)) | Err(SymError::IoError(_)) => end.bad_packets += 1,
                Err(e) => return Err(DecodeError::Malformed(e.to_string())),
            }
        }
        Ok((self.info, end))
    }

    /// Decode to the end into one buffer, failing on truncation or corruption.
    pub fn into_pcm(self) -> Result<Pcm, DecodeError> {
        let mut samples = Vec::new();
        let (info, end) = self.for_each_buffer(|buf| samples.extend_from_slice(buf))?;
        check_end(&info, &end)?;
        Ok(Pcm {
            sample_rate: info.sample_rate,
            channels: info.channels,
            samples,
        })
    }
}

/// Turn a stream summary into the error it implies, if any.
pub fn check_end(info: &StreamInfo, end: &StreamEnd) -> Result<(), DecodeError> {
    if end.is_corrupt() || (end.bad_packets > 0 && end.is_short(info)) {
        return Err(DecodeError::Corrupt {
            bad: end.bad_packets,
            total: end.packets,
        });
    }
    if end.is_short(info) {
        return Err(DecodeError::Truncated(shortfall(info, end)));
    }
    Ok(())
}

fn shortfall(info: &StreamInfo, end: &StreamEnd) -> String {
    let rate = f64::from(info.sample_rate.max(1));
    let declared = info.declared_frames.unwrap_or(end.frames) as f64 / rate;
    format!(
        "decoded {:.2} s of the {:.2} s its header declares",
        end.frames as f64 / rate,
        declared
    )
}

/// Our name for a container: the usual file extension rather than symphonia's short name.
fn container_name(short: &str) -> &str {
    match short {
        "wave" => "wav",
        "isomp4" => "m4a",
        other => other,
    }
}

fn open_error(e: SymError) -> DecodeError {
    match e {
        SymError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            DecodeError::Truncated("the file ends inside its header".into())
        }
        SymError::IoError(io) => DecodeError::Io(io),
        SymError::Unsupported(what) if what.contains("moov") => {
            DecodeError::Truncated(format!("{what}; the file was probably cut short"))
        }
        SymError::Unsupported(what) => DecodeError::Unsupported(what.to_string()),
        other => DecodeError::Malformed(other.to_string()),
    }
}

fn read_error(e: SymError, end: &StreamEnd, info: &StreamInfo) -> DecodeError {
    match e {
        SymError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            DecodeError::Truncated(format!(
                "the file ends early, after {:.2} s of audio",
                end.frames as f64 / f64::from(info.sample_rate.max(1))
            ))
        }
        SymError::IoError(io) => DecodeError::Io(io),
        other => DecodeError::Malformed(other.to_string()),
    }
}

/// Decode a whole file to PCM.
pub fn decode_file(path: &Path) -> Result<Pcm, DecodeError> {
    Stream::open_file(path)?.into_pcm()
}

/// Decode a whole in-memory file to PCM; `ext_hint` is its extension (`mp3`, `flac`, ...).
pub fn decode_bytes(bytes: Vec<u8>, ext_hint: Option<&str>) -> Result<Pcm, DecodeError> {
    Stream::open_bytes(bytes, ext_hint)?.into_pcm()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav_bytes(rate: u32, channels: u16, frames: usize) -> Vec<u8> {
        let spec = hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut out = Cursor::new(Vec::new());
        let mut w = hound::WavWriter::new(&mut out, spec).unwrap();
        for i in 0..frames {
            let v = ((i as f32 * 0.05).sin() * 16000.0) as i16;
            for _ in 0..channels {
                w.write_sample(v).unwrap();
            }
        }
        w.finalize().unwrap();
        out.into_inner()
    }

    #[test]
    fn decodes_wav_exactly() {
        let pcm = decode_bytes(wav_bytes(8000, 2, 12_345), Some("wav")).unwrap();
        assert_eq!(
            (pcm.sample_rate, pcm.channels, pcm.frames()),
            (8000, 2, 12_345)
        );
        let expected = (10.0f32 * 0.05).sin() * 16000.0 / 32768.0;
        assert!((pcm.samples[20] - expected).abs() < 1e-3);
        assert_eq!(pcm.samples[20], pcm.samples[21]);
    }

    #[test]
    fn streaming_reports_info_and_frames() {
        let stream = Stream::open_bytes(wav_bytes(16000, 1, 40_000), None).unwrap();
        assert_eq!(stream.info().container, "wav");
        assert_eq!(stream.info().declared_frames, Some(40_000));
        let mut seen = 0usize;
        let (_, end) = stream.for_each_buffer(|b| seen += b.len()).unwrap();
        assert_eq!((seen, end.frames, end.bad_packets), (40_000, 40_000, 0));
    }

    #[test]
    fn a_silent_early_end_is_truncation_and_bad_packets_corruption() {
        let info = StreamInfo {
            container: "mp3".into(),
            codec: "mp3".into(),
            sample_rate: 22050,
            channels: 1,
            declared_frames: Some(220_500),
        };
        let end = |frames, packets, bad_packets| StreamEnd {
            frames,
            packets,
            bad_packets,
        };
        assert!(check_end(&info, &end(220_500, 385, 0)).is_ok());
        assert!(check_end(&info, &end(219_000, 385, 0)).is_ok());
        let cut = check_end(&info, &end(107_759, 189, 0)).unwrap_err();
        assert_eq!(
            cut.to_string(),
            "the file is truncated (decoded 4.89 s of the 10.00 s its header declares)"
        );
        let damaged = check_end(&info, &end(209_711, 369, 3)).unwrap_err();
        assert!(matches!(
            damaged,
            DecodeError::Corrupt { bad: 3, total: 369 }
        ));
        let many_bad = check_end(&info, &end(220_500, 385, 10)).unwrap_err();
        assert!(
            many_bad.to_string().contains("corrupt: 10 of 385"),
            "{many_bad}"
        );
    }

    #[test]
    fn garbage_is_unsupported() {
        let err = decode_bytes(b"this is not audio at all, just words".repeat(50), None);
        assert!(matches!(err, Err(DecodeError::Unsupported(_))), "{err:?}");
    }

    #[test]
    fn cut_wav_is_truncated() {
        let mut bytes = wav_bytes(8000, 1, 8000);
        bytes.truncate(bytes.len() / 2 + 1);
        let err = decode_bytes(bytes, Some("wav")).unwrap_err();
        assert!(err.to_string().contains("truncated"), "{err}");
    }
}
