//! The corpus of broken projects (`tests/corpus/<case>/`): each case is a project's
//! `schedules/` and an `expect.toml` naming the file, line (0: no position), severity and a
//! piece of the suggestion. `check` runs over every case with the repository's `audio/`; each
//! case must give its diagnostic, and no other for that file (one mistake, one diagnostic).
//! `tests/corpus-valid/<case>/` holds valid but unusual projects: `check` must say nothing
//! about their schedules.

use std::path::{Path, PathBuf};

use crate::util::{copy_dir, shengbo, stdout};

#[derive(Debug, serde::Deserialize)]
struct Expect {
    file: String,
    line: usize,
    severity: String,
    help: Option<String>,
    /// A piece of the message, where the case names one.
    message: Option<String>,
}

/// One diagnostic as `check` prints it.
#[derive(Debug)]
struct Printed {
    severity: String,
    message: String,
    file: String,
    line: usize,
    help: String,
}

fn parse(out: &str) -> Vec<Printed> {
    let mut found = Vec::new();
    for block in out.split("\n\n") {
        let mut lines = block.lines();
        let Some((severity, message)) = lines.next().and_then(|l| l.split_once(": ")) else {
            continue;
        };
        let Some(pos) = lines.next().and_then(|l| l.trim().strip_prefix("——▶ ")) else {
            continue;
        };
        let mut parts = pos.split(':');
        let file = parts.next().unwrap_or_default().to_string();
        let line = parts.next().and_then(|l| l.parse().ok()).unwrap_or(0);
        let help = block
            .lines()
            .find_map(|l| l.trim().strip_prefix("= help: "))
            .unwrap_or_default()
            .to_string();
        found.push(Printed {
            severity: severity.to_string(),
            message: message.to_string(),
            file,
            line,
            help,
        });
    }
    found
}

/// The case folders of `tests/<corpus>` holding `file`.
fn cases_in(corpus: &str, file: &str) -> Vec<PathBuf> {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(corpus);
    let mut cases: Vec<PathBuf> = std::fs::read_dir(corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join(file).exists())
        .collect();
    cases.sort();
    cases
}

fn cases() -> Vec<PathBuf> {
    cases_in("corpus", "expect.toml")
}

/// `check --lang en` over a case's `schedules/` with the repository's `audio/`.
fn check(case: &Path, data: &Path) -> std::process::Output {
    let project = tempfile::tempdir().unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    copy_dir(&repo.join("audio"), &project.path().join("audio"));
    copy_dir(&case.join("schedules"), &project.path().join("schedules"));
    shengbo()
        .args(["check", "--lang", "en"])
        .env("SHENGBO_ROOT", project.path())
        .env("SHENGBO_DATA_DIR", data)
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

fn judge(case: &Path, data: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(case.join("expect.toml")).unwrap();
    let expect: Expect = toml::from_str(&text).map_err(|e| format!("expect.toml: {e}"))?;
    let out = check(case, data);
    let printed = stdout(&out);
    let want_code = if expect.severity == "error" { 1 } else { 0 };
    if out.status.code() != Some(want_code) {
        return Err(format!(
            "exit {:?}, want {want_code}\n{printed}",
            out.status.code()
        ));
    }
    let of_file: Vec<Printed> = parse(&printed)
        .into_iter()
        .filter(|p| p.file == expect.file)
        .collect();
    let [one] = of_file.as_slice() else {
        return Err(format!(
            "want one diagnostic of {}, got {of_file:#?}",
            expect.file
        ));
    };
    let help_ok = expect
        .help
        .as_ref()
        .is_none_or(|h| one.help.contains(h.as_str()));
    let message_ok = expect
        .message
        .as_ref()
        .is_none_or(|m| one.message.contains(m.as_str()));
    if one.line != expect.line || one.severity != expect.severity || !help_ok || !message_ok {
        return Err(format!("want {expect:?}\ngot {one:#?}"));
    }
    Ok(())
}

#[test]
fn check_gives_each_broken_project_its_one_right_diagnostic() {
    let data = tempfile::tempdir().unwrap();
    let cases = cases();
    assert!(cases.len() >= 35, "{} cases", cases.len());
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            let name = case.file_name().unwrap().to_string_lossy().into_owned();
            judge(case, data.path())
                .err()
                .map(|e| format!("{name}: {e}"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases wrong:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

#[test]
fn check_says_nothing_about_valid_but_unusual_projects() {
    let data = tempfile::tempdir().unwrap();
    let cases = cases_in("corpus-valid", "schedules");
    assert!(cases.len() >= 6, "{} cases", cases.len());
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            let name = case.file_name().unwrap().to_string_lossy().into_owned();
            let out = check(case, data.path());
            let printed = stdout(&out);
            let about_schedules: Vec<Printed> = parse(&printed)
                .into_iter()
                .filter(|p| p.file.starts_with("schedules"))
                .collect();
            (out.status.code() != Some(0) || !about_schedules.is_empty())
                .then(|| format!("{name}: exit {:?}\n{about_schedules:#?}", out.status.code()))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
