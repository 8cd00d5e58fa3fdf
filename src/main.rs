//! The `shengbo` binary: parse arguments, set up logging, run the command, map to an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = shengbo::cli::Cli::parse();
    shengbo::cli::init_tracing(cli.global.verbose);
    match shengbo::cli::run(cli) {
        Ok(code) => code,
        // A reader that stopped early (`shengbo plan | head`) is not an error of ours.
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
