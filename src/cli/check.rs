//! `shengbo check`: load schedules, catalog and directory, print every problem grouped by file
//! and a summary line; exit 0 when there are no errors, 1 when there are.

use std::process::ExitCode;

use anyhow::Context as _;

use super::Global;
use crate::check;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(global: &Global, _args: Args) -> anyhow::Result<ExitCode> {
    let now = chrono::Utc::now();
    let cache = global.data_dir().probe_cache();
    let inputs = check::load(&global.root, Some(&cache), now).with_context(|| {
        crate::t!(
            "check-cannot-check",
            root = global.root.display().to_string()
        )
    })?;
    let report = check::run(&inputs, now);
    for note in check::population_notes(&inputs) {
        println!("{note}");
    }
    print!("{}", report.render());
    Ok(if report.errors() > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
