//! The `shengbo` binary: parse arguments, set up logging, run the command, map to an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = shengbo::cli::Cli::parse();
    shengbo::cli::init_tracing(cli.global.verbose);
    match shengbo::cli::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
