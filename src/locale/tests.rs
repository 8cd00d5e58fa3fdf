//! The catalogue's own tests: both files parse, carry the same ids with the same arguments,
//! and what people read in `check` and `directory` comes from them.

use std::collections::{BTreeMap, BTreeSet};

use fluent_syntax::ast::{Entry, Expression, InlineExpression, Pattern, PatternElement};

use super::*;

/// Every message id of an `.ftl` text with the variables it uses.
fn ids_and_args(ftl: &str) -> BTreeMap<String, BTreeSet<String>> {
    let resource = fluent_syntax::parser::parse(ftl).unwrap_or_else(|(_, e)| panic!("{e:?}"));
    let mut out = BTreeMap::new();
    for entry in resource.body {
        match entry {
            Entry::Message(m) => {
                let mut vars = BTreeSet::new();
                if let Some(p) = &m.value {
                    pattern_vars(p, &mut vars);
                }
                assert!(
                    out.insert(m.id.name.to_string(), vars).is_none(),
                    "`{}` given twice",
                    m.id.name
                );
            }
            Entry::Junk { content } => panic!("junk in catalogue: {content}"),
            _ => {}
        }
    }
    out
}

fn pattern_vars(p: &Pattern<&str>, vars: &mut BTreeSet<String>) {
    for el in &p.elements {
        if let PatternElement::Placeable { expression } = el {
            expression_vars(expression, vars);
        }
    }
}

fn expression_vars(e: &Expression<&str>, vars: &mut BTreeSet<String>) {
    match e {
        Expression::Select { selector, variants } => {
            inline_vars(selector, vars);
            for v in variants {
                pattern_vars(&v.value, vars);
            }
        }
        Expression::Inline(i) => inline_vars(i, vars),
    }
}

fn inline_vars(i: &InlineExpression<&str>, vars: &mut BTreeSet<String>) {
    match i {
        InlineExpression::VariableReference { id } => {
            vars.insert(id.name.to_string());
        }
        InlineExpression::Placeable { expression } => expression_vars(expression, vars),
        InlineExpression::FunctionReference { arguments, .. } => {
            for a in &arguments.positional {
                inline_vars(a, vars);
            }
        }
        _ => {}
    }
}

#[test]
fn both_languages_carry_the_same_ids_with_the_same_arguments() {
    let zh = ids_and_args(ZH_FTL);
    let en = ids_and_args(EN_FTL);
    let zh_ids: BTreeSet<&String> = zh.keys().collect();
    let en_ids: BTreeSet<&String> = en.keys().collect();
    assert_eq!(
        zh_ids.symmetric_difference(&en_ids).collect::<Vec<_>>(),
        Vec::<&&String>::new(),
        "ids in one catalogue only"
    );
    for (id, args) in &zh {
        assert_eq!(args, &en[id], "`{id}` takes different arguments");
    }
    assert!(zh.len() > 60, "{} messages", zh.len());
}

#[test]
fn every_message_formats_in_both_languages() {
    for locale in Locale::ALL {
        for (id, vars) in ids_and_args(locale.ftl()) {
            let mut args = FluentArgs::new();
            for v in vars {
                args.set(v, FluentValue::from(2));
            }
            let out = text_in(locale, &id, Some(&args));
            assert!(!out.is_empty() && out != id, "{locale} `{id}`");
            assert!(!out.contains('\u{2068}'), "isolation marks in `{id}`");
        }
    }
}

#[test]
fn looks_up_with_arguments_and_plurals() {
    let line = |locale| {
        scoped(locale, || {
            crate::t!(
                "check-summary",
                errors = 1,
                warnings = 2,
                files = 1,
                campaigns = 3,
                messages = 8,
                townships = 304
            )
        })
    };
    assert_eq!(
        line(Locale::En),
        "1 error, 2 warnings in 1 file; 3 campaigns, 8 messages, 304 townships"
    );
    assert_eq!(
        line(Locale::Zh),
        "1 个错误，2 个警告，涉及 1 个文件；3 个活动，8 条消息，304 个乡镇"
    );
    let missing = scoped(Locale::En, || crate::t!("no-such-id"));
    assert_eq!(missing, "no-such-id");
}

#[test]
fn chinese_when_nothing_says_otherwise() {
    assert_eq!(Locale::default(), Locale::Zh);
    // No thread override and no process choice in this test binary: Chinese.
    assert_eq!(scoped(Locale::Zh, current), Locale::Zh);
    assert_eq!(scoped(Locale::En, current), Locale::En);
}

#[test]
fn tags_negotiate_to_a_catalogue() {
    for (tag, want) in [
        ("zh", Some(Locale::Zh)),
        ("zh-CN", Some(Locale::Zh)),
        ("zh_CN.UTF-8", Some(Locale::Zh)),
        ("zh-Hans", Some(Locale::Zh)),
        ("zh_TW.UTF-8", Some(Locale::Zh)),
        ("en", Some(Locale::En)),
        ("en_GB.UTF-8", Some(Locale::En)),
        ("en_US@euro", Some(Locale::En)),
        ("C", None),
        ("fr_FR", None),
        ("", None),
    ] {
        assert_eq!(Locale::negotiate(tag), want, "{tag}");
    }
    assert!("xx".parse::<Locale>().is_err());
}

/// What `check`, `directory` and the loaders of schedules, settings, the catalog and the
/// endpoint registry say is looked up, not written in the code: no diagnostic, reason or error
/// in these files is built from an English literal.
#[test]
fn no_literal_messages_in_checks_and_loaders() {
    let files = [
        ("src/check/mod.rs", include_str!("../check/mod.rs")),
        ("src/check/cross.rs", include_str!("../check/cross.rs")),
        ("src/check/files.rs", include_str!("../check/files.rs")),
        ("src/check/tz.rs", include_str!("../check/tz.rs")),
        ("src/check/forms.rs", include_str!("../check/forms.rs")),
        ("src/check/text.rs", include_str!("../check/text.rs")),
        ("src/cli/directory.rs", include_str!("../cli/directory.rs")),
        (
            "src/directory/lookup.rs",
            include_str!("../directory/lookup.rs"),
        ),
        (
            "src/directory/search.rs",
            include_str!("../directory/search.rs"),
        ),
        (
            "src/schedule/validate.rs",
            include_str!("../schedule/validate.rs"),
        ),
        (
            "src/schedule/programme.rs",
            include_str!("../schedule/programme.rs"),
        ),
        ("src/settings.rs", include_str!("../settings.rs")),
        (
            "src/settings/checks.rs",
            include_str!("../settings/checks.rs"),
        ),
        ("src/catalog/load.rs", include_str!("../catalog/load.rs")),
        ("src/catalog/gate.rs", include_str!("../catalog/gate.rs")),
        (
            "src/catalog/message_toml.rs",
            include_str!("../catalog/message_toml.rs"),
        ),
        (
            "src/endpoint/parse.rs",
            include_str!("../endpoint/parse.rs"),
        ),
        (
            "src/endpoint/rules.rs",
            include_str!("../endpoint/rules.rs"),
        ),
        ("src/lang.rs", include_str!("../lang.rs")),
        ("src/play.rs", include_str!("../play.rs")),
        ("src/server/auth.rs", include_str!("../server/auth.rs")),
        ("src/server/signed.rs", include_str!("../server/signed.rs")),
        ("src/service/mod.rs", include_str!("../service/mod.rs")),
        (
            "src/server/ebd_state.rs",
            include_str!("../server/ebd_state.rs"),
        ),
        (
            "src/cli/render/township.rs",
            include_str!("../cli/render/township.rs"),
        ),
    ];
    let builders = [
        "::error(",
        "::warning(",
        "with_help(",
        "println!(",
        "err(",
        "err_help(",
        "error(",
        "warning(",
        "push(format!(",
        "#[error(",
        "Err(format!(",
    ];
    for (name, src) in files {
        let code = src.split("#[cfg(test)]").next().unwrap_or(src);
        for (n, line) in code.lines().enumerate() {
            if !builders.iter().any(|b| line.contains(b)) || line.contains("t!(") {
                continue;
            }
            let literal = line.split('"').skip(1).step_by(2).find(|s| {
                // Words, not a key or an id such as `"gate"` or `"min_duration_s"`.
                s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '`') && s.contains(' ')
            });
            assert!(
                literal.is_none(),
                "{name}:{}: a message written in the code: {line}",
                n + 1
            );
        }
    }
}

#[test]
fn plural_tails_read_right_in_both_languages() {
    let line = |locale, more: usize| {
        scoped(locale, || {
            crate::t!(
                "slot-partly-quiet",
                cron = "0 6 * * *",
                times = "06:00",
                more = more,
                quiet = "`22:00-06:30`"
            )
        })
    };
    assert_eq!(
        line(Locale::En, 0),
        "slot `0 6 * * *` fires at 06:00 inside quiet hours (`22:00-06:30`); those broadcasts are skipped"
    );
    assert!(line(Locale::En, 2).contains("06:00 and 2 more inside"));
    assert!(line(Locale::Zh, 0).contains("在 06:00 落在静默时段"));
    assert!(line(Locale::Zh, 2).contains("06:00等（另有 2 个）"));
}

/// The calls that put text in front of a person, in the command modules: each is followed to
/// its closing parenthesis, however many lines it takes.
const SAYERS: [&str; 11] = [
    "println!(",
    "eprintln!(",
    "print!(",
    "eprint!(",
    "writeln!(",
    "write!(",
    "bail!(",
    "ensure!(",
    "context(",
    "with_context(",
    "anyhow!(",
];

/// Literals that are not prose for a person: command lines shown verbatim.
const NOT_PROSE: [&str; 1] = ["  shengbo --root {root} "];

/// The text of the call starting at `start` (after its opening parenthesis) up to the matching
/// close, skipping parentheses inside string literals.
fn call_text(code: &str, start: usize) -> &str {
    let (mut depth, mut in_str, mut escaped) = (1, false, false);
    for (i, c) in code[start..].char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_str => escaped = true,
            '"' => in_str = !in_str,
            '(' if !in_str => depth += 1,
            ')' if !in_str => {
                depth -= 1;
                if depth == 0 {
                    return &code[start..start + i];
                }
            }
            _ => {}
        }
    }
    &code[start..]
}

/// Whether a call takes its text from the catalogue: it calls `t!(` itself (not `format!(`,
/// whose name merely ends in `t`).
fn looks_up(call: &str) -> bool {
    call.match_indices("t!(").any(|(i, _)| {
        !call[..i]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

/// What `plan`, `run`, `demo`, `catalog`, `calendar` and `coverage` print, and the errors the
/// binary ends with, come from the catalogue: no call that prints, fails or adds context in
/// these files carries an English sentence of its own.
#[test]
fn no_literal_messages_in_the_commands() {
    let files = [
        ("src/main.rs", include_str!("../main.rs")),
        ("src/cli/plan.rs", include_str!("../cli/plan.rs")),
        (
            "src/cli/plan/table.rs",
            include_str!("../cli/plan/table.rs"),
        ),
        ("src/plan/mod.rs", include_str!("../plan/mod.rs")),
        ("src/cli/run.rs", include_str!("../cli/run.rs")),
        ("src/cli/run/setup.rs", include_str!("../cli/run/setup.rs")),
        ("src/cli/demo.rs", include_str!("../cli/demo.rs")),
        ("src/cli/catalog.rs", include_str!("../cli/catalog.rs")),
        ("src/cli/calendar.rs", include_str!("../cli/calendar.rs")),
        ("src/cli/coverage.rs", include_str!("../cli/coverage.rs")),
        ("src/cli/token.rs", include_str!("../cli/token.rs")),
        ("src/cli/ledger.rs", include_str!("../cli/ledger.rs")),
        ("src/cli/play.rs", include_str!("../cli/play.rs")),
        ("src/cli/render.rs", include_str!("../cli/render.rs")),
        (
            "src/cli/render/township.rs",
            include_str!("../cli/render/township.rs"),
        ),
        ("src/cli/serve.rs", include_str!("../cli/serve.rs")),
        ("src/cli/sim.rs", include_str!("../cli/sim.rs")),
        ("src/cli/directory.rs", include_str!("../cli/directory.rs")),
        ("src/cli/mod.rs", include_str!("../cli/mod.rs")),
        ("src/cli/check.rs", include_str!("../cli/check.rs")),
        ("src/play.rs", include_str!("../play.rs")),
        (
            "src/render/timeline.rs",
            include_str!("../render/timeline.rs"),
        ),
    ];
    let mut found = Vec::new();
    for (name, src) in files {
        let code = src.split("#[cfg(test)]").next().unwrap_or(src);
        for sayer in SAYERS {
            for (at, _) in code.match_indices(sayer) {
                let call = call_text(code, at + sayer.len());
                if looks_up(call) {
                    continue;
                }
                let prose = call.split('"').skip(1).step_by(2).find(|s| {
                    s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '`' || c == ' ')
                        && s.trim().contains(' ')
                        && !NOT_PROSE.iter().any(|p| s.starts_with(p))
                });
                if let Some(prose) = prose {
                    let line = code[..at].lines().count();
                    found.push(format!("{name}:{line}: {prose}"));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "messages written in the code:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_command_scan_sees_through_format() {
    assert!(!looks_up(r#"|| format!("reading `{}`", path)"#));
    assert!(looks_up(r#"|| crate::t!("sim-reading", path = p)"#));
    assert!(looks_up(r#"t!("serve-stopped")"#));
}

#[test]
fn the_command_scan_catches_a_message_over_several_lines() {
    let code = "eprintln!(\n    \"{} clips (x) rejected\",\n    n\n);";
    let call = call_text(code, "eprintln!(".len());
    assert!(call.contains("clips (x) rejected"), "{call}");
    assert!(call.trim_end().ends_with('n'), "{call}");
}

/// The messages of HTTP error bodies come from the catalogue, so that they follow the request's
/// language: no `AppError` in the server is built from an English sentence.
#[test]
fn no_literal_messages_in_http_errors() {
    let files = [
        ("src/server/error.rs", include_str!("../server/error.rs")),
        ("src/server/mod.rs", include_str!("../server/mod.rs")),
        ("src/server/audio.rs", include_str!("../server/audio.rs")),
        ("src/server/auth.rs", include_str!("../server/auth.rs")),
        (
            "src/server/coverage.rs",
            include_str!("../server/coverage.rs"),
        ),
        (
            "src/server/playlists.rs",
            include_str!("../server/playlists.rs"),
        ),
        (
            "src/server/ebd_state.rs",
            include_str!("../server/ebd_state.rs"),
        ),
        ("src/server/page.rs", include_str!("../server/page.rs")),
        (
            "src/server/page/font.rs",
            include_str!("../server/page/font.rs"),
        ),
    ];
    let makers = [
        "BadRequest(",
        "Unauthorized(",
        "Forbidden(",
        "Unavailable(",
        "message: ",
    ];
    let mut found = Vec::new();
    for (name, src) in files {
        let code = src.split("#[cfg(test)]").next().unwrap_or(src);
        for maker in makers {
            for (at, _) in code.match_indices(maker) {
                let rest = &code[at + maker.len()..];
                let call = if maker == "message: " {
                    rest.split_once(",\n").map_or(rest, |(m, _)| m)
                } else {
                    call_text(code, at + maker.len())
                };
                if looks_up(call) {
                    continue;
                }
                let prose = call.split('"').skip(1).step_by(2).find(|s| {
                    s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '`')
                        && s.trim().contains(' ')
                });
                if let Some(prose) = prose {
                    let line = code[..at].lines().count();
                    found.push(format!("{name}:{line}: {prose}"));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "HTTP messages written in the code:\n{}",
        found.join("\n")
    );
}
