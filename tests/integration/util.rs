//! Test helpers: run the real binary, make temporary project folders.

#![allow(dead_code)]

pub mod pg;

use std::path::Path;
use std::process::{Command, Output};

/// The playlist item of one catalogued clip, as the planner makes it (no gap after).
pub fn playlist_item(
    catalog: &shengbo::catalog::Catalog,
    message: &str,
    lang: shengbo::lang::Lang,
) -> shengbo::plan::PlaylistItem {
    let clip = &catalog.message(message).unwrap().clips[&lang];
    let probe = clip.probe.clone().unwrap();
    shengbo::plan::PlaylistItem {
        message: message.to_string(),
        lang,
        file: clip.file.display().to_string(),
        sha256: probe.sha256,
        size_bytes: probe.size_bytes,
        duration_s: probe.duration_s,
        gap_after_s: 0.0,
    }
}

/// The `shengbo` binary built for this test run, speaking English (the tests that read
/// Chinese say `--lang zh` or set `LANG` themselves).
pub fn shengbo() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_shengbo"));
    for var in ["LANGUAGE", "LC_ALL", "LC_MESSAGES"] {
        cmd.env_remove(var);
    }
    cmd.env("LANG", "en_US.UTF-8");
    cmd
}

/// Run `shengbo` with `args` in project folder `root`, data dir inside it.
pub fn run_in(root: &Path, args: &[&str]) -> Output {
    shengbo()
        .args(args)
        .env("SHENGBO_ROOT", root)
        .env("SHENGBO_DATA_DIR", root.join(".shengbo"))
        .env_remove("RUST_LOG")
        .output()
        .expect("run shengbo")
}

/// Run `shengbo` as [`run_in`] does but with no language in the environment: Chinese, unless
/// `args` say `--lang en`.
pub fn run_in_default_lang(root: &Path, args: &[&str]) -> Output {
    shengbo()
        .args(args)
        .env_remove("LANG")
        .env("SHENGBO_ROOT", root)
        .env("SHENGBO_DATA_DIR", root.join(".shengbo"))
        .env_remove("RUST_LOG")
        .output()
        .expect("run shengbo")
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Copy a folder tree (a project's `audio/`, a corpus case) into `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// The command exited with `code`; otherwise fail showing its stdout and stderr.
#[track_caller]
pub fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}\n{}",
        stdout(out),
        stderr(out)
    );
}
