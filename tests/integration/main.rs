//! Integration tests: the real `shengbo` binary and the library's I/O edges, on temporary
//! folders, real files, real SQLite and real HTTP on loopback. One binary, one module per area.

mod util;

mod calendar;
mod catalog;
mod corpus;
mod directory;
mod ebd;
mod ledger;
mod loudness;
mod plan;
mod push;
mod reach;
mod render;
mod schedule;
mod server;
mod settings;
mod speaks;
mod village;
