//! The message catalogue: everything a person reads, in Simplified Chinese (`zh-CN.ftl`) and
//! English (`en.ftl`), looked up by id with [`t!`](crate::t). Machine outputs (JSON, CSV,
//! metrics, the ledger) keep their English keys and never pass through here.
//!
//! The language is chosen once per process ([`set`]): `--lang`, else the `locale` setting of
//! `schedules/settings.toml`, else `LANGUAGE`/`LC_ALL`/`LC_MESSAGES`/`LANG`, else Chinese.
//! A thread may override it ([`scoped`]), so tests of both languages run side by side.

use std::cell::Cell;
use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU8, Ordering};

use fluent_bundle::FluentResource;
use fluent_bundle::concurrent::FluentBundle;
pub use fluent_bundle::{FluentArgs, FluentValue};
use unic_langid::LanguageIdentifier;

mod env;

pub use env::{from_env, from_settings_file};

/// The catalogue files, embedded: a fresh binary needs nothing beside it.
pub const ZH_FTL: &str = include_str!("zh-CN.ftl");
pub const EN_FTL: &str = include_str!("en.ftl");

/// A language of the interface (not of the broadcasts: see [`crate::lang::Lang`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Locale {
    /// Simplified Chinese, the default.
    #[default]
    Zh,
    En,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::Zh, Locale::En];

    /// The BCP-47 tag of its catalogue file.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::Zh => "zh-CN",
            Locale::En => "en",
        }
    }

    fn ftl(self) -> &'static str {
        match self {
            Locale::Zh => ZH_FTL,
            Locale::En => EN_FTL,
        }
    }

    /// The best catalogue for a language tag (`zh_CN.UTF-8`, `en-GB`, `zh-Hans`, `en`), or
    /// `None` for a tag naming no language (`C`, `POSIX`) or one with no catalogue.
    pub fn negotiate(tag: &str) -> Option<Locale> {
        let tag = tag.split(['.', '@']).next().unwrap_or("").replace('_', "-");
        if tag.is_empty() || tag == "C" || tag == "POSIX" {
            return None;
        }
        let requested: LanguageIdentifier = tag.parse().ok()?;
        let available: Vec<LanguageIdentifier> = Locale::ALL
            .iter()
            .filter_map(|l| l.tag().parse().ok())
            .collect();
        let chosen = fluent_langneg::negotiate_languages(
            &[requested],
            &available,
            None,
            fluent_langneg::NegotiationStrategy::Filtering,
        );
        let first = chosen.first()?;
        Locale::ALL
            .into_iter()
            .find(|l| l.tag() == first.to_string())
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Locale::Zh => "zh",
            Locale::En => "en",
        })
    }
}

/// A language the interface does not speak.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", crate::t!("unknown-locale", lang = .0.as_str()))]
pub struct UnknownLocale(pub String);

impl FromStr for Locale {
    type Err = UnknownLocale;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Locale::negotiate(s.trim()).ok_or_else(|| UnknownLocale(s.to_string()))
    }
}

/// 0 unset, 1 Chinese, 2 English.
static PROCESS: AtomicU8 = AtomicU8::new(0);

thread_local! {
    static THREAD: Cell<Option<Locale>> = const { Cell::new(None) };
}

/// Choose the language of this process (the CLI does, once, before any output).
pub fn set(locale: Locale) {
    PROCESS.store(
        match locale {
            Locale::Zh => 1,
            Locale::En => 2,
        },
        Ordering::Relaxed,
    );
}

tokio::task_local! {
    /// The language of the HTTP request being answered.
    static REQUEST: Locale;
}

/// The language messages are looked up in here: this thread's choice, else the HTTP request's
/// being answered, else the process's.
pub fn current() -> Locale {
    THREAD
        .with(Cell::get)
        .or_else(|| REQUEST.try_with(|l| *l).ok())
        .unwrap_or(match PROCESS.load(Ordering::Relaxed) {
            2 => Locale::En,
            _ => Locale::Zh,
        })
}

/// Run `fut` (answering one request) with its messages in `locale`.
pub async fn in_request<F: std::future::Future>(locale: Locale, fut: F) -> F::Output {
    REQUEST.scope(locale, fut).await
}

/// This thread's messages in `locale` from now on (tests pin their language with it).
pub fn set_thread(locale: Locale) {
    THREAD.with(|c| c.set(Some(locale)));
}

/// Run `f` with this thread's messages in `locale`.
pub fn scoped<T>(locale: Locale, f: impl FnOnce() -> T) -> T {
    let before = THREAD.with(|c| c.replace(Some(locale)));
    let out = f();
    THREAD.with(|c| c.set(before));
    out
}

struct Catalogue {
    zh: FluentBundle<FluentResource>,
    en: FluentBundle<FluentResource>,
}

fn bundle(locale: Locale) -> FluentBundle<FluentResource> {
    let id: LanguageIdentifier = locale.tag().parse().expect("catalogue tags are valid");
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    // Terminals and logs: no U+2068/U+2069 isolation marks around placeables.
    bundle.set_use_isolating(false);
    let resource = FluentResource::try_new(locale.ftl().to_string())
        .unwrap_or_else(|(_, e)| panic!("{}.ftl does not parse: {e:?}", locale.tag()));
    bundle
        .add_resource(resource)
        .unwrap_or_else(|e| panic!("{}.ftl repeats an id: {e:?}", locale.tag()));
    bundle
}

static CATALOGUE: LazyLock<Catalogue> = LazyLock::new(|| Catalogue {
    zh: bundle(Locale::Zh),
    en: bundle(Locale::En),
});

/// The message `id` in `locale` with `args` filled in. An id missing from the catalogue (a
/// defect the catalogue tests catch) shows as the id itself rather than failing.
pub fn text_in(locale: Locale, id: &str, args: Option<&FluentArgs>) -> String {
    let bundle = match locale {
        Locale::Zh => &CATALOGUE.zh,
        Locale::En => &CATALOGUE.en,
    };
    let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
        return id.to_string();
    };
    let mut errors = Vec::new();
    let out = bundle.format_pattern(pattern, args, &mut errors);
    debug_assert!(errors.is_empty(), "message `{id}`: {errors:?}");
    out.into_owned()
}

/// The message `id` in the [`current`] language.
pub fn text(id: &str, args: Option<&FluentArgs>) -> String {
    text_in(current(), id, args)
}

/// Print `error: …` (`错误：…`) to stderr, then its hint as `  = help: …` when there is one:
/// how a command reports a problem with what it was asked before it stops.
pub fn eprint_error(message: impl fmt::Display, help: Option<&str>) {
    eprintln!("{}", crate::t!("cli-error", message = message.to_string()));
    if let Some(help) = help {
        eprintln!("{}", crate::t!("cli-help", help = help));
    }
}

/// Look a message up in the catalogue: `t!("check-summary", errors = 2, files = 1)`.
/// Arguments are strings or numbers (numbers choose plural forms in English).
#[macro_export]
macro_rules! t {
    ($id:expr) => {
        $crate::locale::text($id, None)
    };
    ($id:expr, $($key:ident = $value:expr),+ $(,)?) => {{
        let mut args = $crate::locale::FluentArgs::new();
        $( args.set(stringify!($key), $crate::locale::FluentValue::from($value)); )+
        $crate::locale::text($id, Some(&args))
    }};
}

#[cfg(test)]
mod tests;
