//! Unit tests of the cross-checks and the report.

use chrono::TimeZone;

use super::*;
use crate::catalog::Verdict;
use crate::catalog::gate::missing_reason;
use crate::diag::Severity;
use crate::lang::Lang;
use crate::plan::tests::{campaign, catalog, message};

const SRC: &str =
    "id = \"a\"\nmessages = [\"police-impersonaton\", \"fundraising\"]\npriority = 1\n";

fn from() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 16, 0, 0).unwrap()
}

fn sources(file: &str) -> BTreeMap<PathBuf, String> {
    BTreeMap::from([(PathBuf::from(file), SRC.to_string())])
}

#[test]
fn unknown_message_points_into_the_file_with_a_suggestion() {
    crate::locale::set_thread(crate::locale::Locale::En);
    let cat = catalog(vec![
        message("police-impersonation", 5.0, 5.0),
        message("fundraising", 5.0, 5.0),
    ]);
    let c = campaign(
        "a",
        &["0 8 * * *"],
        &["police-impersonaton", "fundraising"],
        &["513431100"],
    );
    let diags = cross_check(
        &[c],
        &cat,
        &Directory::liangshan(),
        &sources("schedules/a.toml"),
        from(),
    );
    assert_eq!(diags.len(), 1, "{diags:?}");
    let text = diags[0].to_string();
    assert_eq!(
        text,
        "error: unknown message `police-impersonaton`\n  ——▶ schedules/a.toml:2:14\n  |\n2 | \
         messages = [\"police-impersonaton\", \"fundraising\"]\n  |              \
         ^^^^^^^^^^^^^^^^^^^\n  = help: did you mean `police-impersonation`?"
    );
}

#[test]
fn gate_verdicts_and_missing_languages() {
    crate::locale::set_thread(crate::locale::Locale::En);
    let mut bad = message("fundraising", 5.0, 5.0);
    bad.clips.get_mut(&Lang::Zh).unwrap().verdict = Verdict::Rejected(vec!["clipped".into()]);
    let mut loud = message("police-impersonation", 5.0, 5.0);
    loud.clips.get_mut(&Lang::Ii).unwrap().verdict = Verdict::Warning(vec!["loud".into()]);
    let mut half = message("spare", 5.0, 5.0);
    half.clips.remove(&Lang::Ii);
    half.pair_verdict = Verdict::Rejected(vec![missing_reason(Lang::Ii)]);
    let cat = catalog(vec![bad, loud, half]);
    let c = campaign("a", &["0 8 * * *"], &["fundraising"], &["513431100"]);
    let mut diags = cross_check(
        &[c],
        &cat,
        &Directory::liangshan(),
        &sources("schedules/a.toml"),
        from(),
    );
    sort(&mut diags);
    let flat: Vec<String> = diags
        .iter()
        .map(|d| format!("{:?} {} {}", d.severity, d.position(), d.message))
        .collect();
    assert_eq!(
        flat,
        [
            "Error audio/fundraising/zh.mp3 clip rejected by the audio gate: clipped",
            "Warning audio/police-impersonation/ii.mp3 clip passes the gate with remarks: loud \
             (not used by any campaign)",
            "Error audio/spare message `spare`: no Nuosu Yi (`ii`) recording (not used by any campaign)",
            "Error schedules/a.toml:2:37 message `fundraising` cannot air in campaign `a`: \
             no airable `zh` clip: clipped",
        ]
    );
}

#[test]
fn same_minute_is_a_warning_at_the_losers_priority() {
    crate::locale::set_thread(crate::locale::Locale::En);
    let cat = catalog(vec![message("fundraising", 5.0, 5.0)]);
    let mut a = campaign(
        "a",
        &["0 8 * * *"],
        &["fundraising"],
        &["513431100", "513431101"],
    );
    a.priority = 1;
    let mut b = campaign("b", &["0 8 * * 1"], &["fundraising"], &["513431100"]);
    b.priority = 3;
    let diags = cross_check(
        &[a, b],
        &cat,
        &Directory::liangshan(),
        &sources("schedules/a.toml"),
        from(),
    );
    assert_eq!(diags.len(), 1, "{diags:?}");
    let d = &diags[0];
    assert_eq!(d.severity, crate::diag::Severity::Warning);
    assert_eq!(d.position(), "schedules/a.toml:3:1");
    assert_eq!(
        d.message,
        "campaigns `a` and `b` want the same township in the same minute (5 slots in 1 township \
         over the next 35 days, first at 08:00 in 昭觉县 新城镇 `513431100`); `b` airs"
    );
    assert_eq!(d.help.as_deref(), Some("`b` has priority 3 over 1"));
}

#[test]
fn a_broadcast_starting_while_another_plays_is_named_with_its_fix() {
    crate::locale::set_thread(crate::locale::Locale::En);
    // 07:30:00–07:31:30 on 新城镇, and a 07:31 slot of another campaign there.
    let cat = catalog(vec![message("fundraising", 44.0, 44.0)]);
    let a = campaign("a", &["30 7 * * *"], &["fundraising"], &["513431100"]);
    let b = campaign("b", &["31 7 * * *"], &["fundraising"], &["513431100"]);
    let dir = Directory::liangshan();
    let diags = cross_check(&[a, b], &cat, &dir, &sources("schedules/b.toml"), from());
    assert_eq!(diags.len(), 1, "{diags:?}");
    let d = &diags[0];
    assert_eq!(
        (d.severity, d.file.as_path()),
        (Severity::Warning, Path::new("schedules/b.toml"))
    );
    assert_eq!(d.location.as_ref().unwrap().source_line, "31 7 * * *");
    assert_eq!(
        d.message,
        "campaign `b` would start at 07:31 in 昭觉县 新城镇 `513431100` while `a` still plays \
         (07:30:00–07:31:30); 35 broadcasts in 1 township over the next 35 days collide; only \
         one of the two airs each time"
    );
    assert_eq!(
        d.help.as_deref(),
        Some(
            "equal priority 0: the one that starts first plays to its end, the other does not \
             air; to air both, move the slot of `b` to 07:32 or later"
        )
    );
    // A campaign whose programme outlasts its own slot spacing is told how far apart to put them.
    let every = campaign("c", &["*/1 7 * * *"], &["fundraising"], &["513431100"]);
    let diags = cross_check(&[every], &cat, &dir, &sources("schedules/c.toml"), from());
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert!(
        diags[0]
            .message
            .starts_with("campaign `c` would start again at 07:01"),
        "{}",
        diags[0].message
    );
    let zh = crate::locale::scoped(crate::locale::Locale::Zh, || {
        let every = campaign("c", &["*/1 7 * * *"], &["fundraising"], &["513431100"]);
        cross_check(&[every], &cat, &dir, &sources("schedules/c.toml"), from())
    });
    assert!(zh[0].help.as_deref().unwrap().contains("2 分钟"), "{zh:?}");
}

#[test]
fn report_groups_by_file_errors_first() {
    crate::locale::set_thread(crate::locale::Locale::En);
    let report = Report {
        diagnostics: vec![
            Diagnostic::warning("schedules/b.toml", "w1"),
            Diagnostic::error("audio/x", "e1"),
            Diagnostic::error("schedules/b.toml", "e2"),
        ],
        campaigns: 2,
        messages: 1,
        townships: 304,
    };
    assert_eq!(
        report.render(),
        "error: e1\n  ——▶ audio/x\n\nerror: e2\n  ——▶ schedules/b.toml\n\n\
         warning: w1\n  ——▶ schedules/b.toml\n\n\
         2 errors, 1 warning in 2 files; 2 campaigns, 1 message, 304 townships\n"
    );
}

#[test]
fn stand_in_clips_are_said_once_for_all() {
    crate::locale::set_thread(crate::locale::Locale::En);
    let mut msgs = vec![message("a", 5.0, 5.0), message("b", 5.0, 5.0)];
    for m in &mut msgs {
        for clip in m.clips.values_mut() {
            let note = crate::t!("gate-stand-in", note = "synthetic");
            clip.verdict = Verdict::Warning(vec![note]);
        }
    }
    let c = campaign("c", &["0 8 * * *"], &["a", "b"], &["513431100"]);
    let diags = cross_check(
        &[c],
        &catalog(msgs),
        &Directory::liangshan(),
        &sources("schedules/c.toml"),
        from(),
    );
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0].file, Path::new("audio"));
    assert!(
        diags[0]
            .message
            .starts_with("4 clips stand in for staff recordings still to be made: `audio/a/"),
        "{}",
        diags[0].message
    );
    assert_eq!(
        diags[0].help.as_deref(),
        Some("as their `message.toml` says: synthetic")
    );
}

#[test]
fn a_slot_every_minute_over_every_township_is_said_once_per_pair() {
    crate::locale::set_thread(crate::locale::Locale::En);
    // 44 s + 2 s gap + 44 s every minute on all 304 townships: every other start collides with
    // the one before; a higher-priority 07:30 broadcast on two townships takes its minute and
    // the next.
    let cat = catalog(vec![message("m", 44.0, 44.0)]);
    let dir = Directory::liangshan();
    let all: Vec<&str> = dir.townships().iter().map(|t| t.code.as_str()).collect();
    let every = campaign("c", &["* * * * *"], &["m"], &all);
    let mut b = campaign("b", &["30 7 * * *"], &["m"], &["513431100", "513431101"]);
    b.priority = 5;
    let diags = cross_check(
        &[every, b],
        &cat,
        &dir,
        &sources("schedules/c.toml"),
        from(),
    );
    let said: Vec<(String, Option<&str>)> = diags
        .iter()
        .map(|d| (d.message.clone(), d.help.as_deref()))
        .collect();
    // 720 odd minutes a day lose to the even one before, on 304 townships for 35 days, but for
    // the 07:31 that loses to `b` on two townships.
    let lost_to_itself = 720 * 304 * 35 - 2 * 35;
    assert_eq!(
        said,
        [
            (
                "campaigns `c` and `b` want the same township in the same minute (70 slots in 2 \
                 townships over the next 35 days, first at 07:30 in 昭觉县 新城镇 `513431100`); \
                 `b` airs"
                    .to_string(),
                Some("`b` has priority 5 over 0"),
            ),
            (
                "campaign `c` would start at 07:31 in 昭觉县 新城镇 `513431100` while `b` still \
                 plays (07:30:00–07:31:30); 70 broadcasts in 2 townships over the next 35 days \
                 collide; only one of the two airs each time"
                    .to_string(),
                Some(
                    "`b` has priority 5 over 0; to air both, move the slot of `c` to 07:32 or later"
                ),
            ),
            (
                format!(
                    "campaign `c` would start again at 00:01 in 西昌市 北城街道 `513401001` while \
                     its broadcast of 00:00:00–00:01:30 still plays ({lost_to_itself} times over \
                     the next 35 days); the later one does not air"
                ),
                Some(
                    "its programme lasts up to 2 minutes: space its slots at least that far \
                     apart, or air fewer messages per slot"
                ),
            ),
        ]
    );
    let line = |d: &Diagnostic| d.location.as_ref().map(|l| l.source_line.clone());
    assert_eq!(line(&diags[1]).as_deref(), Some("* * * * *"));
    assert_eq!(line(&diags[2]).as_deref(), Some("* * * * *"));
}
