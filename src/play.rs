//! Auditioning a programme through the sound device (cargo feature `audio-device`).
