//! `shengbo` (声波): bilingual fraud-awareness broadcasts — Nuosu Yi first, then Mandarin
//! (乡音+普语) — over the emergency-broadcast loudspeakers of Liangshan's townships.
//!
//! The library holds every domain noun; `src/main.rs` only parses arguments and maps results to
//! exit codes (0 fine, 1 the input has problems, 2 could not run).
//!
//! # Layout
//!
//! - [`lang`] — the two broadcast languages (`ii` Nuosu Yi, `zh` Mandarin) and their codes.
//! - [`locale`] — the message catalogue (zh-CN, en): what a person reads, looked up by id.
//! - [`diag`] — user-facing diagnostics: `file:line:col`, the source line, a caret.
//! - [`settings`] — deployment-wide settings (`schedules/settings.toml`).
//! - [`directory`] — Liangshan's counties, townships and villages, with populations.
//! - [`audio`] — decoding clips to PCM (symphonia).
//! - [`catalog`] — the recordings in `audio/`: probe, loudness, the audio gate, the probe cache.
//! - [`loudness`] — the loudness policy (target, true-peak ceiling, pair rule) and adjusted clips.
//! - [`render`] — a programme rendered exactly as it airs (order, gaps, repeats, gains) to WAV.
//! - [`play`] — auditioning a rendered programme through the sound device (`audio-device`).
//! - [`calendar`] — day rules (market days), the lunar calendar, festivals and named days.
//! - [`schedule`] — campaigns in `schedules/*.toml`: parsing, validation, crontab slots.
//! - [`scheduler`] — the cron loop of `shengbo serve`: slots fired at push time, catch-up, reloads.
//! - [`plan`] — the pure planner: campaigns × directory × catalog × window → broadcasts.
//! - [`playlist`] — one broadcast's clips rendered as M3U8, XSPF and JSON.
//! - [`check`] — `shengbo check`: schedules, catalog and directory checked together.
//! - [`ebd`] — the emergency-broadcast data interface: ids, XML, tar packages, SM2 signatures.
//! - [`endpoint`] — the endpoint registry (`schedules/endpoints.toml`) and push settings.
//! - [`sim`] — a loopback simulator of county emergency-broadcast platforms, with fault injection.
//! - [`ledger`] — the durable record of runs, deliveries, attempts and state reports (SQLite).
//! - [`push`] — one slot occurrence from plan to play state: ledger first, dispatch, state requests.
//! - [`transport`] — how a delivery reaches its endpoint: EBD packages or signed webhooks.
//! - [`dispatch`] — the dispatch engine: bounded, timed, retried, deadline-bound sends per delivery.
//! - [`demo`] — the out-of-the-box demo's parts: in-process simulator and next slots.
//! - [`reach`] — the one reach rule: confirmed airings, coverage reports, best run.
//! - [`coverage`] — pure coverage aggregation: population reached, by county or township, per period.
//! - [`server`] — the HTTP app: playlist and audio pulls, coverage (JSON, CSV, HTML), health, metrics.
//! - [`service`] — the daemon behind `shengbo serve`: one clock, the live view, every loop.
//! - [`datadir`] — where all state lives (ledger, counters, caches).
//! - [`cli`] — the `shengbo` subcommands.

pub mod audio;
pub mod calendar;
pub mod catalog;
pub mod check;
pub mod cli;
pub mod coverage;
pub mod datadir;
pub mod demo;
pub mod diag;
pub mod directory;
pub mod dispatch;
pub mod ebd;
pub mod endpoint;
pub mod lang;
pub mod ledger;
pub mod locale;
pub mod loudness;
pub mod plan;
pub mod play;
pub mod playlist;
pub mod push;
pub mod reach;
pub mod render;
pub mod schedule;
pub mod scheduler;
pub mod server;
pub mod service;
pub mod settings;
pub mod sim;
pub mod transport;
