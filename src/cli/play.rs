//! `shengbo play`: the same programme `render` writes, through the sound device, with a
//! progress line. Needs the `audio-device` build; otherwise says so and exits 2.

use std::io::Write;
use std::process::ExitCode;

use super::Global;
use super::render::{Selection, describe, render_selection};
use crate::play::{self, PlayError};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub select: Selection,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    if !cfg!(feature = "audio-device") {
        return Ok(no_device(&PlayError::NotBuilt));
    }
    let rendered = match render_selection(global, &args.select)? {
        Ok(r) => r,
        Err(problem) => {
            crate::locale::eprint_error(problem, None);
            return Ok(ExitCode::from(1));
        }
    };
    print!("{}", describe(global, &rendered));
    let mut out = std::io::stdout();
    let result = play::play(&rendered, |p| {
        let _ = write!(out, "\r\x1b[2K{}", play::progress_line(&p));
        let _ = out.flush();
    });
    match result {
        Ok(()) => {
            println!();
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Ok(no_device(&e)),
    }
}

fn no_device(e: &PlayError) -> ExitCode {
    crate::locale::eprint_error(
        crate::t!("play-cannot", reason = e.to_string()),
        Some(&crate::t!("play-render-instead")),
    );
    ExitCode::from(2)
}
