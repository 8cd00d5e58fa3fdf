//! The `shengbo` binary: parse arguments, set up logging, run the command, map to an exit code.

use std::process::ExitCode;

use clap::Parser;

/// jemalloc rather than glibc's malloc: glibc's per-thread arenas keep what a burst of
/// connections or a large push run freed, so a long-running `serve` never gives it back; jemalloc
/// hands freed pages back to the system from its own background thread (see [`return_freed`]).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// How long freed pages stay with the allocator before they go back to the system. jemalloc's
/// default, 10 s, keeps a push run's freed packages resident while the next phase allocates
/// (a 10,000-endpoint run peaked 30 MB higher); a second costs a few more `madvise` calls.
const DECAY_MS: isize = 1_000;

/// Set [`DECAY_MS`] for every arena, before any other thread starts. Failing that (a build
/// under another allocator), the defaults stay: the setting is about memory, not correctness.
fn return_freed() {
    use tikv_jemalloc_ctl::{Access as _, AsName as _};
    // New arenas take the `arenas.*` defaults; arena 0 exists already. Muzzy pages (freed but
    // not yet returned) go back at once.
    for (key, ms) in [
        ("arenas.dirty_decay_ms\0", DECAY_MS),
        ("arenas.muzzy_decay_ms\0", 0),
        ("arena.0.dirty_decay_ms\0", DECAY_MS),
        ("arena.0.muzzy_decay_ms\0", 0),
    ] {
        let _ = key.as_bytes().name().write(ms);
    }
}

fn main() -> ExitCode {
    return_freed();
    quiet_on_closed_stdout();
    let cli = shengbo::cli::Cli::parse();
    shengbo::cli::init_tracing(cli.global.verbose);
    match shengbo::cli::run(cli) {
        Ok(code) => code,
        // A reader that stopped early (`shengbo plan | head`) is not an error of ours.
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            shengbo::locale::eprint_error(shengbo::transport::error_chain(err.as_ref()), None);
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

/// `println!` panics when stdout's reader has gone (`shengbo catalog | head`); end quietly
/// instead, as other command-line tools do, and keep the default report for real panics.
fn quiet_on_closed_stdout() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let text = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if text.starts_with("failed printing to stdout") && text.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}

#[cfg(test)]
mod tests {
    fn cause_chain(err: &anyhow::Error) -> String {
        shengbo::transport::error_chain(err.as_ref())
    }

    #[derive(Debug, thiserror::Error)]
    #[error("cannot read `a.toml`: {0}")]
    struct Shows(#[source] std::io::Error);

    #[derive(Debug, thiserror::Error)]
    #[error("cannot read `a.toml`")]
    struct Hides(#[source] std::io::Error);

    fn denied() -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::PermissionDenied, "permission denied")
    }

    #[test]
    fn the_cli_prints_every_cause_once() {
        let shown = anyhow::Error::new(Shows(denied())).context("loading the project");
        assert_eq!(
            cause_chain(&shown),
            "loading the project: cannot read `a.toml`: permission denied"
        );
        let hidden = anyhow::Error::new(Hides(denied())).context("loading the project");
        assert_eq!(
            cause_chain(&hidden),
            "loading the project: cannot read `a.toml`: permission denied"
        );
        let alone = anyhow::anyhow!("no ledger");
        assert_eq!(cause_chain(&alone), "no ledger");
    }
}
