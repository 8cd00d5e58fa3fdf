//! Audio decoding: any supported clip to PCM samples (symphonia 0.6).

pub mod decode;
